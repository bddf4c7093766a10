"""Examples the developer wrote: ``>>>`` doctests and ``f(2) == 4`` / ``f(2) -> 4`` lines.

The one parser of examples, with two readings:

* for intents (:func:`doctest_examples`, :func:`comment_examples`): tree-sitter checks
  the expressions, lines are 0-based document lines, and prose around an example
  (``e.g. double(2) == 4``) is allowed;
* for the offline test generator (:func:`docstring_call_examples`,
  :func:`comment_call_examples`): ``ast`` checks them, lines are 1-based, only calls of
  names the module defines count, and doctest statements before an example become its
  ``setup``.

Both return :class:`codeloop.workspace.model.Example`.
"""

from __future__ import annotations

import ast
import doctest
import re
from collections.abc import Iterable, Sequence

from codeloop.workspace.model import Example
from codeloop.workspace.nodes import first_call, node_text, parse_expression

_EXAMPLE_PREFIX = re.compile(
    r"^(?:[-*\u2022]\s+|e\.g\.?,?\s*|(?:for\s+)?examples?\s*[:,]?\s*|ex:\s*)", re.IGNORECASE
)
_ARROW = re.compile(r"\s*(?:->|=>|\u2192|\breturns\b|\bgives\b|\bshould (?:return|be|give)\b)\s*")


def read_doctests(docstring: str) -> list[doctest.Example] | None:
    """The standard library's reading of ``>>>`` examples; None when the indentation is
    inconsistent (each caller has its own fallback)."""
    try:
        return doctest.DocTestParser().get_examples(docstring)
    except ValueError:
        return None


# -- written in the workspace's documents (intents, implement checks) --------------------


def doctest_examples(docstring: str, first_line: int = 0) -> tuple[Example, ...]:
    """``>>>`` examples (with ``...`` continuations) and their expected output.

    ``first_line`` is the document line of the docstring's first line, so each
    example's ``line`` points at its ``>>>`` line in the file.
    """
    if ">>>" not in docstring:
        return ()
    found = read_doctests(docstring)
    if found is None:  # inconsistent indentation: parse leniently, line by line
        return _lenient_doctests(docstring.splitlines(), first_line)
    return tuple(
        Example(
            call=ex.source.rstrip("\n"),
            expected=ex.want.rstrip("\n") or None,
            line=first_line + ex.lineno,
            style="doctest",
        )
        for ex in found
    )


def _lenient_doctests(lines: Sequence[str], first_line: int) -> tuple[Example, ...]:
    out: list[Example] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith(">>>"):
            start = i
            source = [stripped[3:].strip()]
            i += 1
            while i < len(lines) and lines[i].strip().startswith("..."):
                source.append(lines[i].strip()[3:].lstrip())
                i += 1
            want: list[str] = []
            while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith(">>>"):
                want.append(lines[i].strip())
                i += 1
            out.append(Example("\n".join(source), "\n".join(want) or None, first_line + start))
        else:
            i += 1
    return tuple(out)


def _has_call(text: str) -> bool:
    expr = parse_expression(text)
    return expr is not None and first_call(expr) is not None


def _split_top_level(text: str, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    """Split at the first match of ``pattern`` outside brackets and quotes."""
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            m = pattern.match(text, i)
            if m and m.end() > m.start():
                return text[:i].strip(), text[m.end() :].strip()
        i += 1
    return None


def comment_examples(lines: Sequence[tuple[int, str]]) -> tuple[Example, ...]:
    """Examples written in comment text: ``f(2) == 4``, ``f(2) -> 4``, ``>>> f(2)`` + output.

    ``lines`` are (document line, comment text without the ``#``) pairs.
    """
    out: list[Example] = []
    i = 0
    while i < len(lines):
        line_no, raw = lines[i]
        text = raw.strip()
        if text.startswith(">>>"):
            source = [text[3:].strip()]
            i += 1
            while i < len(lines) and lines[i][1].strip().startswith("..."):
                source.append(lines[i][1].strip()[3:].strip())
                i += 1
            expected = None
            if i < len(lines):
                nxt = lines[i][1].strip()
                if nxt and not nxt.startswith(">>>") and _example_from_line(nxt) is None:
                    expected = nxt
                    i += 1
            out.append(Example("\n".join(source), expected, line_no, "doctest"))
            continue
        ex = _example_from_line(text, line_no)
        if ex is not None:
            out.append(ex)
        i += 1
    return tuple(out)


_INLINE_EXAMPLE = re.compile(r"(?:\be\.g\.?,?|\bexamples?:|\bfor example,?|\bsuch as|(?<=\w):)\s*", re.IGNORECASE)


def _example_from_line(text: str, line_no: int = 0) -> Example | None:
    ex = _whole_line_example(text, line_no)
    if ex is None:
        # prose with an example at its end: "... e.g. double(2) == 4"
        found = list(_INLINE_EXAMPLE.finditer(text))
        m = found[-1] if found else None
        if m is not None and m.end() < len(text):
            ex = _whole_line_example(text[m.end() :], line_no)
    return ex


def _is_expression(text: str) -> bool:
    return parse_expression(text) is not None


def _whole_line_example(text: str, line_no: int) -> Example | None:
    text = _EXAMPLE_PREFIX.sub("", text.strip()).strip()
    text = text.strip("`").rstrip(".;,").strip()
    if "(" not in text:
        return None
    expr = parse_expression(text)
    if expr is not None and expr.type == "comparison_operator":
        kids = expr.children
        if len(kids) == 3 and kids[1].type == "==" and first_call(kids[0]) is not None:
            return Example(node_text(kids[0]), node_text(kids[2]), line_no, "equals")
    parts = _split_top_level(text, _ARROW)
    if parts is not None:
        left, right = (p.strip().strip("`").strip() for p in parts)
        if left and right and _has_call(left) and _is_expression(right):
            return Example(left, right, line_no, "arrow")
    return None


def example_name(examples: Iterable[Example]) -> str | None:
    """The name the first example calls (``double`` for ``double(2) == 4``), if any."""
    for ex in examples:
        expr = parse_expression(ex.call.splitlines()[0]) if ex.call else None
        call = first_call(expr) if expr is not None else None
        if call is None:
            continue
        fn = call.child_by_field_name("function")
        if fn is not None and fn.type == "identifier":
            return node_text(fn)
        if fn is not None and fn.type == "attribute":
            return node_text(fn.child_by_field_name("attribute"))
    return None


# -- read for the offline test generator (codeloop.generate.offline.analysis) -------------


# "f(2) == 4", "f(2) -> 4", "f(2) => 4", "f(2) returns 4"
_EXAMPLE_LINE = re.compile(r"^\s*(?:#\s*)?(?:e\.g\.\s*|example:\s*)?(?P<call>[A-Za-z_][\w.]*\(.*\))\s*(?P<op>==|->|=>|returns|gives)\s*(?P<expected>.+?)\s*$")


def _valid_expr(src: str) -> bool:
    try:
        ast.parse(src, mode="eval")
    except SyntaxError:
        return False
    return True


def _calls_name(src: str, names: set[str]) -> bool:
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            while isinstance(func, ast.Attribute):
                func = func.value
            if isinstance(func, ast.Name) and func.id in names:
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in names:
                return True
    return False


def docstring_call_examples(doc: str, doc_line: int, names: set[str]) -> list[Example]:
    """Examples calling one of ``names`` in a docstring that starts at ``doc_line`` (1-based
    line of its first line). Doctest statements (``>>> x = Box(2)``) before an example are
    its ``setup``; ``# doctest: +SKIP`` examples are left out."""
    examples: list[Example] = []
    parsed = read_doctests(doc) or []
    setup: list[str] = []
    for ex in parsed:
        if any(flag == doctest.SKIP and on for flag, on in ex.options.items()):
            continue
        src = ex.source.strip()
        line = doc_line + ex.lineno
        if _valid_expr(src):
            want = ex.want.strip()
            if want and _valid_expr(want) and _calls_name(src, names):
                examples.append(Example(src, want, line, "doctest", tuple(setup)))
            elif not want and _calls_name(src, names):
                examples.append(Example(src, None, line, "doctest", tuple(setup)))
        else:
            try:
                ast.parse(src)
            except SyntaxError:
                continue
            setup.append(src)
    if not parsed:
        for offset, text in enumerate(doc.splitlines()):
            found = _call_line_example(text, doc_line + offset, names)
            if found:
                examples.append(found)
    return examples


def _call_line_example(text: str, line: int, names: set[str]) -> Example | None:
    m = _EXAMPLE_LINE.match(text)
    if not m:
        return None
    call, expected = m.group("call"), m.group("expected").rstrip(".,;")
    style = "equals" if m.group("op") == "==" else "arrow"
    if _valid_expr(call) and _valid_expr(expected) and _calls_name(call, names):
        return Example(call, expected, line, style)
    return None


def comment_call_examples(source: str, start: int, end: int, names: set[str]) -> list[Example]:
    """``# f(2) == 4`` style examples in comments between lines start..end (1-based, inclusive)."""
    lines = source.splitlines()
    out: list[Example] = []
    for lineno in range(max(1, start), min(len(lines), end) + 1):
        text = lines[lineno - 1].strip()
        if text.startswith("#"):
            found = _call_line_example(text.lstrip("#").strip(), lineno, names)
            if found:
                out.append(found)
    return out
