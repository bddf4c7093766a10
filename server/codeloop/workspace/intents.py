"""Intent detection: what the developer means, read from a parsed document.

The kinds live in :mod:`codeloop.workspace.kinds` (one module each: implement,
from_comment, generate_tests, todo); :func:`find_intents` runs every registered
kind's detector and caches per function and per region, so that an edit re-reads
only what it touched. Structure comes from tree-sitter queries over the document's
tree; regular expressions are used only inside comment and docstring text.
"""

from __future__ import annotations

import inspect
import itertools
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace

from tree_sitter import Node

from codeloop.workspace import kinds, testfiles
from codeloop.workspace.document import Document
from codeloop.workspace.examples import comment_examples, doctest_examples
from codeloop.workspace.kinds import FunctionSite, Scan
from codeloop.workspace.model import Example, Intent, Span
from codeloop.workspace.nodes import (
    SKIP_DECORATORS,
    Function,
    comment_above,
    comments_in,
    docstring_node,
    functions_in,
    node_text,
    params_of,
    signature,
    string_value,
)


def is_test_file(path: str | None) -> bool:
    """pytest's default naming (:mod:`codeloop.workspace.testfiles`), plus ``conftest.py``."""
    return testfiles.is_test_file(path) or testfiles.is_conftest(path)


def _function_site(doc: Document, fn: Function, comment: str | None, comment_span: Span | None) -> FunctionSite:
    """What every per-function kind reads about ``fn``, computed once."""
    node = fn.node
    body = node.child_by_field_name("body")
    params_node = node.child_by_field_name("parameters")
    doc_node = docstring_node(body) if body is not None else None
    docstring = inspect.cleandoc(string_value(doc_node)) if doc_node is not None else None
    examples: tuple[Example, ...] = ()
    if doc_node is not None:
        examples = doctest_examples(string_value(doc_node), doc_node.start_point.row, fn.name)
    if comment:
        rows = [(comment_span.start_line + i, t) for i, t in enumerate(comment.splitlines())]
        examples += comment_examples(rows, fn.name)
    common = dict(
        path=doc.path,
        signature=signature(doc, node),
        docstring=docstring,
        comment=comment,
        is_async=bool(node.children) and node.children[0].type == "async",
        is_method=bool(fn.scope.classes),
        class_name=".".join(fn.scope.classes) or None,
        params=params_of(params_node) if params_node is not None else (),
        returns=node_text(node.child_by_field_name("return_type")) or None,
        decorators=fn.decorators,
        comment_span=comment_span,
        examples=examples,
    )
    return FunctionSite(
        fn=fn,
        body=body,
        span=doc.node_span(fn.outer),
        docstring=docstring,
        comment=comment,
        skip_decorated=any(SKIP_DECORATORS.match(d) for d in fn.decorators),
        common=common,
    )


def _function_intents(scan: Scan, site: FunctionSite) -> list[Intent]:
    """The intents of every per-function kind for one function or method."""
    out: list[Intent] = []
    for kind in kinds.KINDS.values():
        if kind.per_function is not None:
            out.extend(kind.per_function(scan, site))
    return out


def _shift_span(span: Span | None, delta: int) -> Span | None:
    if span is None:
        return None
    return Span(span.start_line + delta, span.start_col, span.end_line + delta, span.end_col)


def _shift(it: Intent, delta: int) -> Intent:
    """The same intent ``delta`` lines further down (a cached function that moved)."""
    return replace(
        it,
        span=_shift_span(it.span, delta),
        body_span=_shift_span(it.body_span, delta),
        comment_span=_shift_span(it.comment_span, delta),
        examples=tuple(replace(e, line=e.line + delta) for e in it.examples),
    )


def find_intents(
    doc: Document,
    tested_names: frozenset[str] | None = None,
    *,
    lines: tuple[int, int] | None = None,
) -> list[Intent]:
    """Every intent in ``doc``, in document order.

    ``tested_names`` are the names the workspace's tests refer to (see
    :class:`codeloop.workspace.testindex.TestIndex`); when None, nothing is marked
    ``untested``.

    ``lines=(first, last)`` (0-based, inclusive) limits the work to the intents
    :func:`intents_at` would return for those lines: the same result as
    ``intents_at(find_intents(doc, names), first, last)``, but the queries only
    visit that region, so a code-action request stays cheap on a long file.
    """
    path = doc.path
    in_test_file = is_test_file(path)
    is_stub_file = bool(path and path.endswith(".pyi"))
    rows: tuple[int, int] | None = None
    fn_rows: tuple[int, int] | None = None
    if lines is not None:
        first, last = max(lines[0], 0), max(lines[1], lines[0], 0)
        lo, hi = first, last
        while lo > 0 and doc.is_comment_row(lo - 1):
            lo -= 1  # a comment block that starts above the range
        while hi + 1 < doc.line_count and doc.is_comment_row(hi + 1):
            hi += 1  # ... or ends below it
        rows = (lo, hi)
        below = hi + 1  # a function whose comment-above the range touches
        while below < doc.line_count and doc.line_text(below).lstrip().startswith("@"):
            below += 1
        fn_rows = (first, below)
        doc = doc.region(lo, max(hi, below))  # what is read below: no re-parse of the whole file
        region = _region_key(doc, lo, max(hi, below), (first, last, tested_names, in_test_file, is_stub_file, kinds.version()))
        ranged: dict = doc.cache.setdefault("intents.ranges", {})
        hit = ranged.get(region)
        if hit is not None:
            return list(hit)
        found = _find_intents(doc, tested_names, lines, rows, fn_rows, in_test_file, is_stub_file)
        ranged.pop(region, None)
        ranged[region] = found
        while len(ranged) > 4 * (doc.line_count // 200 + 1) + 64:
            del ranged[next(iter(ranged))]  # the oldest: an earlier version's chunk
        return list(found)
    return _find_intents(doc, tested_names, lines, rows, fn_rows, in_test_file, is_stub_file)


def _first_named_child_after(root: Node, byte: int) -> Node | None:
    """The first top-level named node that ends after ``byte``, or None.

    tree-sitter's ``first_named_child_for_byte`` hands back a broken node, which crashes the
    whole process (SIGSEGV) when read, whenever no named child ends after ``byte``: past the
    root's end, and also in the file's trailing blank or whitespace-only lines, which the root
    spans but no child does (a cursor on the blank last line of a stub's body). Ask it only when
    the last named child ends after ``byte``."""
    count = root.named_child_count
    last = root.named_child(count - 1) if count else None
    if last is None or byte >= last.end_byte:
        return None
    return root.first_named_child_for_byte(byte)


def _region_key(doc: Document, lo: int, hi: int, extra: tuple) -> tuple:
    """What a ranged analysis of lines ``lo..hi`` reads, as a dict key: the exact bytes of
    the top-level statements that touch those lines (widened to whole statements, the
    comment lines above them and one line below), their first line, and the shape of the
    top-level nodes there (so the same bytes parsed differently, e.g. inside a string
    opened above, do not match). Equal keys give equal intents; on a long file a pass
    after a small edit then re-analyses only the chunks the edit touched."""
    root = doc.tree.root_node
    start = doc.offset_at(lo, 0)
    limit = doc.offset_at(min(hi + 1, doc.line_count), 0) if hi + 1 < doc.line_count else len(doc.source)
    node = _first_named_child_after(root, start)
    if node is not None and node.start_byte < start:
        start = node.start_byte
    start_row = doc.position_at(start)[0]
    while start_row > 0 and doc.is_comment_row(start_row - 1):
        start_row -= 1
    start = doc.offset_at(start_row, 0)
    shape: list[tuple[str, int, int]] = []
    end = limit
    while node is not None and node.start_byte < limit:
        shape.append((node.type, node.start_byte - start, node.end_byte - start))
        end = max(end, node.end_byte)
        node = node.next_named_sibling
    end_row = doc.position_at(end)[0]
    end = doc.offset_at(end_row + 2, 0) if end_row + 2 < doc.line_count else len(doc.source)
    return (start_row, doc.source[start:end], tuple(shape), extra)


def _find_intents(
    doc: Document,
    tested_names: frozenset[str] | None,
    lines: tuple[int, int] | None,
    rows: tuple[int, int] | None,
    fn_rows: tuple[int, int] | None,
    in_test_file: bool,
    is_stub_file: bool,
) -> list[Intent]:
    scan = Scan(doc, tested_names, in_test_file, is_stub_file, comments_in(doc, rows))
    intents: list[Intent] = []

    cache: dict = doc.cache.get("intents.functions", {})
    new_cache: dict = {}
    for fn in functions_in(doc, fn_rows):
        if fn.scope.in_function:
            continue
        comment, comment_span = comment_above(doc, fn.outer)
        row = fn.outer.start_point.row
        key = (
            fn.outer.text,
            fn.outer.start_point.column,
            comment,
            None if comment_span is None else (row - comment_span.start_line, comment_span.start_col),
            fn.scope.classes,
            None if tested_names is None else fn.name in tested_names,
            in_test_file,
            is_stub_file,
            kinds.version(),
        )
        hit = cache.get(key)
        if hit is not None and hit[1] == row:
            found = hit[0]
        elif hit is not None:
            found = [_shift(it, row - hit[1]) for it in hit[0]]
        else:
            found = _function_intents(scan, _function_site(doc, fn, comment, comment_span))
        new_cache[key] = (found, row)
        intents.extend(found)
    if lines is None:
        doc.cache["intents.functions"] = new_cache  # keep only what this version uses
    else:
        _remember(cache, new_cache, 2 * doc.line_count + 256)
        doc.cache["intents.functions"] = cache

    for kind in kinds.KINDS.values():
        if kind.per_document is not None:
            intents.extend(kind.per_document(scan))
    intents.sort(key=lambda it: (it.span.start_line, it.span.start_col, kinds.order(it.kind)))
    if lines is not None:
        intents = intents_at(intents, lines[0], lines[1])
    return intents


def _remember(cache: dict, fresh: dict, limit: int) -> None:
    """Add a ranged call's entries to ``cache`` as the most recent, then drop the oldest
    past ``limit``. The limit follows the document's size (a function takes at least one
    line): a chunked pass over a long file must not evict the entries it is about to use
    (clearing on a fixed bound did, and every pass re-analysed every function)."""
    for key in fresh:
        cache.pop(key, None)
    cache.update(fresh)
    excess = len(cache) - limit
    if excess > 0:
        for key in list(itertools.islice(cache, excess)):
            del cache[key]


# -- lookup -------------------------------------------------------------------------------


def intents_at(intents: Iterable[Intent], first_line: int, last_line: int) -> list[Intent]:
    """Intents offered on lines ``first_line..last_line`` (e.g. a code-action range).

    A function's intents count on the whole function (decorators included) and on
    the comment lines right above it.
    """
    return [it for it in intents if _offered_on(it, first_line, last_line)]


def _offered_on(it: Intent, first_line: int, last_line: int) -> bool:
    return it.span.overlaps_lines(first_line, last_line) or (
        it.comment_span is not None and it.comment_span.overlaps_lines(first_line, last_line))


class IntentLines:
    """A document's intents, ready for :func:`intents_at` lookups that do not look at every
    one of them: a client asks for code actions at each cursor move, and a long file has
    hundreds of intents."""

    def __init__(self, intents: Sequence[Intent]) -> None:
        self.intents = intents
        firsts = [min(it.span.start_line, it.comment_span.start_line if it.comment_span else it.span.start_line)
                  for it in intents]
        self._order = sorted(range(len(intents)), key=firsts.__getitem__)
        self._firsts = [firsts[i] for i in self._order]
        # the furthest last line of the intents up to each position: where a backward scan stops
        self._reach: list[int] = []
        furthest = -1
        for i in self._order:
            it = intents[i]
            furthest = max(furthest, it.span.end_line, it.comment_span.end_line if it.comment_span else -1)
            self._reach.append(furthest)

    def at(self, first_line: int, last_line: int) -> list[Intent]:
        """``intents_at(self.intents, first_line, last_line)``, in the same order."""
        hits = []
        j = bisect_right(self._firsts, last_line) - 1
        while j >= 0 and self._reach[j] >= first_line:
            i = self._order[j]
            if _offered_on(self.intents[i], first_line, last_line):
                hits.append(i)
            j -= 1
        return [self.intents[i] for i in sorted(hits)]


def with_path(intents: Iterable[Intent], path: str) -> list[Intent]:
    """The same intents with ``path`` set (for documents without a file path)."""
    return [replace(it, path=path) for it in intents]
