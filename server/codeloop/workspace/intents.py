"""Intent detection: what the developer means, read from a parsed document.

Structure comes from tree-sitter queries over the document's tree (functions,
classes, comments, docstrings); regular expressions are used only inside comment
and docstring text (markers such as ``TODO`` and examples such as ``f(2) == 4``).

Four kinds (see :data:`codeloop.workspace.model.IntentKind`):

``implement``
    a function or method whose body is only a docstring and/or ``...``, ``pass`` or
    ``raise NotImplementedError(...)``.
``from_comment``
    a block of ``#`` lines at module or class level followed by a blank line or the
    end of the file, describing code to write.
``generate_tests``
    every top-level function and public method (``untested`` when no test file
    refers to its name).
``todo``
    ``TODO`` / ``FIXME`` comments, anywhere.
"""

from __future__ import annotations

import ast
import doctest
import inspect
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from tree_sitter import Node, Point, Query, QueryCursor

from codeloop.workspace import testfiles
from codeloop.workspace.document import PY_LANGUAGE, Document, new_parser
from codeloop.workspace.model import Example, Intent, Param, Span, SyntaxIssue

_FUNCTIONS = Query(
    PY_LANGUAGE,
    """
    (function_definition
      name: (identifier) @name
      parameters: (parameters) @params
      body: (block) @body) @def
    """,
)
_COMMENTS = Query(PY_LANGUAGE, "(comment) @comment")
_CALLS = Query(PY_LANGUAGE, "(call function: (_) @fn) @call")

_TODO = re.compile(r"\b(TODO|FIXME)\b\s*(?:\([^)]*\))?\s*[:\-]?\s*(.*)")
_PRAGMA = re.compile(
    r"^(type:|noqa\b|pylint:|mypy:|fmt:|pragma:|isort:|ruff:|pyright:|nosec\b|-\*-|coding[:=]|vim:)",
    re.IGNORECASE,
)
_EXAMPLE_PREFIX = re.compile(
    r"^(?:[-*\u2022]\s+|e\.g\.?,?\s*|(?:for\s+)?examples?\s*[:,]?\s*|ex:\s*)", re.IGNORECASE
)
_ARROW = re.compile(r"\s*(?:->|=>|\u2192|\breturns\b|\bgives\b|\bshould (?:return|be|give)\b)\s*")
_CALL_NAME = re.compile(r"`?\b([A-Za-z_][\w.]*)\(")
_WORD = re.compile(r"[^\W\d_]{2,}")

_CODE_NODE_TYPES = frozenset(
    {
        "assignment",
        "augmented_assignment",
        "call",
        "import_statement",
        "import_from_statement",
        "function_definition",
        "class_definition",
        "return_statement",
        "if_statement",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "raise_statement",
        "pass_statement",
        "subscript",
        "attribute",
    }
)

_SKIP_DECORATORS = re.compile(r"^@(?:[\w.]+\.)?(?:overload|abstractmethod|abstractproperty)\b")


# -- small helpers ----------------------------------------------------------------------


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def is_test_file(path: str | None) -> bool:
    """pytest's default naming (:mod:`codeloop.workspace.testfiles`), plus ``conftest.py``."""
    return testfiles.is_test_file(path) or testfiles.is_conftest(path)


@dataclass
class _Scope:
    """Where a definition lives: the enclosing classes, or inside a function."""

    classes: tuple[str, ...]
    in_function: bool


def _scope(node: Node) -> _Scope:
    classes: list[str] = []
    in_function = False
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            in_function = True
        elif parent.type == "class_definition":
            classes.append(_text(parent.child_by_field_name("name")))
        parent = parent.parent
    return _Scope(tuple(reversed(classes)), in_function)


def _outer(defn: Node) -> Node:
    """The decorated_definition around a definition, or the definition itself."""
    parent = defn.parent
    return parent if parent is not None and parent.type == "decorated_definition" else defn


def _decorators(defn: Node) -> tuple[str, ...]:
    outer = _outer(defn)
    if outer is defn:
        return ()
    return tuple(_text(c) for c in outer.children if c.type == "decorator")


def _statements(block: Node) -> list[Node]:
    return [c for c in block.named_children if c.type != "comment"]


def _docstring_node(block: Node) -> Node | None:
    stmts = _statements(block)
    if stmts and stmts[0].type == "expression_statement":
        kids = stmts[0].named_children
        if len(kids) == 1 and kids[0].type in ("string", "concatenated_string"):
            return kids[0]
    return None


_SIMPLE_STRING = re.compile(r"""^[rRuU]?(\"\"\"|'''|"|')(.*)\1$""", re.DOTALL)


def _string_value(node: Node) -> str:
    raw = _text(node)
    if node.type == "string" and "\\" not in raw:
        m = _SIMPLE_STRING.match(raw)
        if m is not None:
            return m.group(2)  # no escapes: the text between the quotes
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if isinstance(value, str):
        return value
    return "".join(_text(c) for c in node.named_children if c.type == "string_content")


def _is_not_implemented(stmt: Node) -> bool:
    if stmt.type != "raise_statement":
        return False
    kids = stmt.named_children
    if not kids:
        return False
    target = kids[0]
    if target.type == "call":
        target = target.child_by_field_name("function")
    name = _text(target)
    return name == "NotImplementedError" or name.endswith(".NotImplementedError")


def _is_stub_body(block: Node) -> bool:
    stmts = _statements(block)
    if not stmts or block.has_error:
        return False
    doc = _docstring_node(block)
    rest = stmts[1:] if doc is not None else stmts
    for stmt in rest:
        if stmt.type == "pass_statement":
            continue
        if stmt.type == "expression_statement" and [c.type for c in stmt.named_children] == ["ellipsis"]:
            continue
        if _is_not_implemented(stmt):
            continue
        return False
    return True


def _params(params: Node) -> tuple[Param, ...]:
    out: list[Param] = []
    keyword_only = False
    for p in params.named_children:
        t = p.type
        if t == "identifier":
            out.append(Param(_text(p), kind="keyword_only" if keyword_only else "positional"))
        elif t in ("typed_parameter", "default_parameter", "typed_default_parameter"):
            name_node = p.child_by_field_name("name") or (p.named_children[0] if p.named_children else None)
            ann = _text(p.child_by_field_name("type")) or None
            default = _text(p.child_by_field_name("value")) or None
            kind = "keyword_only" if keyword_only else "positional"
            if name_node is not None and name_node.type == "list_splat_pattern":
                kind, keyword_only = "var_positional", True
            elif name_node is not None and name_node.type == "dictionary_splat_pattern":
                kind = "var_keyword"
            name = _text(name_node).lstrip("*")
            out.append(Param(name, ann, default, kind))
        elif t == "list_splat_pattern":
            out.append(Param(_text(p).lstrip("*"), kind="var_positional"))
            keyword_only = True
        elif t == "dictionary_splat_pattern":
            out.append(Param(_text(p).lstrip("*"), kind="var_keyword"))
        elif t == "keyword_separator":
            keyword_only = True
    return tuple(out)


def _one_line(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


# -- examples -----------------------------------------------------------------------------


def doctest_examples(docstring: str, first_line: int = 0) -> tuple[Example, ...]:
    """``>>>`` examples (with ``...`` continuations) and their expected output.

    ``first_line`` is the document line of the docstring's first line, so each
    example's ``line`` points at its ``>>>`` line in the file.
    """
    if ">>>" not in docstring:
        return ()
    try:
        found = doctest.DocTestParser().get_examples(docstring)
    except ValueError:
        # inconsistent indentation: parse leniently, line by line
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


_expr_parser = None


def _parse_expression(text: str) -> Node | None:
    """The single expression ``text`` consists of, or None (tree-sitter, no errors)."""
    global _expr_parser
    if _expr_parser is None:
        _expr_parser = new_parser()
    tree = _expr_parser.parse(text.encode("utf-8"))
    root = tree.root_node
    if root.has_error or len(root.named_children) != 1:
        return None
    stmt = root.named_children[0]
    if stmt.type != "expression_statement" or len(stmt.named_children) != 1:
        return None
    return stmt.named_children[0]


def _first_call(expr: Node) -> Node | None:
    for _, match in QueryCursor(_CALLS).matches(expr):
        call = match["call"][0]
        return call
    return None


def _has_call(text: str) -> bool:
    expr = _parse_expression(text)
    return expr is not None and _first_call(expr) is not None


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
        m = None
        for m in _INLINE_EXAMPLE.finditer(text):
            pass
        if m is not None and m.end() < len(text):
            ex = _whole_line_example(text[m.end() :], line_no)
    return ex


def _is_expression(text: str) -> bool:
    return _parse_expression(text) is not None


def _whole_line_example(text: str, line_no: int) -> Example | None:
    text = _EXAMPLE_PREFIX.sub("", text.strip()).strip()
    text = text.strip("`").rstrip(".;,").strip()
    if "(" not in text:
        return None
    expr = _parse_expression(text)
    if expr is not None and expr.type == "comparison_operator":
        kids = expr.children
        if len(kids) == 3 and kids[1].type == "==" and _first_call(kids[0]) is not None:
            return Example(_text(kids[0]), _text(kids[2]), line_no, "equals")
    parts = _split_top_level(text, _ARROW)
    if parts is not None:
        left, right = (p.strip().strip("`").strip() for p in parts)
        if left and right and _has_call(left) and _is_expression(right):
            return Example(left, right, line_no, "arrow")
    return None


def _example_name(examples: Iterable[Example]) -> str | None:
    for ex in examples:
        expr = _parse_expression(ex.call.splitlines()[0]) if ex.call else None
        call = _first_call(expr) if expr is not None else None
        if call is None:
            continue
        fn = call.child_by_field_name("function")
        if fn is not None and fn.type == "identifier":
            return _text(fn)
        if fn is not None and fn.type == "attribute":
            return _text(fn.child_by_field_name("attribute"))
    return None


# -- comments -----------------------------------------------------------------------------


@dataclass
class _Comment:
    node: Node
    row: int
    col: int  # byte column of '#'
    text: str  # without the leading '#' and one space
    standalone: bool  # nothing but whitespace before it on its line


def _cursor(query: Query, rows: tuple[int, int] | None) -> QueryCursor:
    """A query cursor, limited to lines ``rows[0]..rows[1]`` when given."""
    cursor = QueryCursor(query)
    if rows is not None:
        cursor.set_point_range(Point(max(rows[0], 0), 0), Point(rows[1] + 1, 0))
    return cursor


def _make_comment(node: Node, src: bytes) -> _Comment:
    row, col = node.start_point
    line_start = node.start_byte - col
    standalone = src[line_start : node.start_byte].strip() == b""
    body = _text(node)[1:]
    if body.startswith(" "):
        body = body[1:]
    return _Comment(node, row, col, body, standalone)


def _comments(doc: Document, rows: tuple[int, int] | None = None) -> list[_Comment]:
    src = doc.source
    nodes = _cursor(_COMMENTS, rows).captures(doc.tree.root_node).get("comment", [])
    out = [_make_comment(node, src) for node in nodes]
    out.sort(key=lambda c: c.node.start_byte)
    return out


def _comment_line(doc: Document, row: int) -> _Comment | None:
    """The comment that is alone on line ``row`` (after indentation), if any."""
    line = doc.line_text(row)
    stripped = line.lstrip()
    if not stripped.startswith("#"):
        return None
    col = len(line[: len(line) - len(stripped)].encode("utf-8"))
    node = doc.tree.root_node.descendant_for_point_range(Point(row, col), Point(row, col + 1))
    if node is None or node.type != "comment" or node.start_point != (row, col):
        return None
    return _make_comment(node, doc.source)


def _comment_level(comment: Node) -> tuple[str, tuple[str, ...]]:
    """'module', 'class' (with the class chain), or 'other' (in a function or a compound statement).

    tree-sitter can attach a dedented comment to the block before it; a comment
    left of a block's statements is treated as belonging to the enclosing level.
    """
    col = comment.start_point.column
    node = comment.parent
    while node is not None:
        if node.type == "module":
            return "module", ()
        if node.type == "block":
            stmts = _statements(node)
            if stmts and col < stmts[0].start_point.column:
                node = node.parent
                continue
            owner = node.parent
            if owner is not None and owner.type == "class_definition":
                return "class", _scope(owner).classes + (_text(owner.child_by_field_name("name")),)
            return "other", ()
        if node.type in ("ERROR",):
            node = node.parent
            continue
        if node.type == "class_definition":
            # a comment between `class X:` and the first statement of its body
            return "class", _scope(node).classes + (_text(node.child_by_field_name("name")),)
        if node.type in ("function_definition", "decorated_definition"):
            return "other", ()
        node = node.parent
    return "module", ()


def _is_pragma_or_header(c: _Comment, first_code_row: int) -> bool:
    t = c.text.strip()
    if c.row <= 1 and (_text(c.node).startswith("#!") or re.search(r"coding[:=]", t)):
        return True
    return bool(_PRAGMA.match(t))


def _looks_like_code(text_lines: Sequence[str]) -> bool:
    """True when the comment block is commented-out Python code, not prose."""
    import textwrap

    body = textwrap.dedent("\n".join(text_lines)).strip()
    if not body:
        return False
    tree = (_expr_parser_or_new()).parse(body.encode("utf-8"))
    if tree.root_node.has_error:
        return False
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in _CODE_NODE_TYPES:
            return True
        stack.extend(node.named_children)
    return False


def _expr_parser_or_new():
    global _expr_parser
    if _expr_parser is None:
        _expr_parser = new_parser()
    return _expr_parser


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "comment"
    m = _CALL_NAME.search(first)
    if m:
        return m.group(1)
    sentence = re.split(r"(?<=[.!?:])\s", first, maxsplit=1)[0].rstrip(".:")
    words = sentence.split()
    title = " ".join(words[:6])
    return title if len(words) <= 6 else title + "\u2026"


# -- the finders --------------------------------------------------------------------------


@dataclass
class _Function:
    node: Node
    outer: Node
    name: str
    qualname: str
    scope: _Scope
    decorators: tuple[str, ...]


def _functions(doc: Document, rows: tuple[int, int] | None = None) -> list[_Function]:
    out = []
    for _, match in _cursor(_FUNCTIONS, rows).matches(doc.tree.root_node):
        node = match["def"][0]
        scope = _scope(node)
        name = _text(match["name"][0])
        qual = ".".join((*scope.classes, name))
        out.append(_Function(node, _outer(node), name, qual, scope, _decorators(node)))
    out.sort(key=lambda f: f.node.start_byte)
    return out


def _signature(doc: Document, fn: Node) -> str:
    body = fn.child_by_field_name("body")
    end = body.start_byte if body is not None else fn.end_byte
    sig = doc.source[fn.start_byte : end].decode("utf-8", "replace").rstrip()
    if sig.endswith(":"):
        sig = sig[:-1].rstrip()
    return sig


def _comment_above(doc: Document, outer: Node) -> tuple[str | None, Span | None]:
    """The comment lines right above a definition (and its decorators), if any."""
    row = outer.start_point.row - 1
    found: list[_Comment] = []
    while row >= 0:
        c = _comment_line(doc, row)
        if c is None or _is_pragma_or_header(c, 0):
            break
        found.append(c)
        row -= 1
    if not found:
        return None, None
    found.reverse()
    text = "\n".join(c.text for c in found)
    return text, doc.span_of(found[0].node.start_byte, found[-1].node.end_byte)


def _is_comment_row(doc: Document, row: int) -> bool:
    return doc.line_text(row).lstrip().startswith("#")


def _function_intents(
    doc: Document,
    fn: _Function,
    comment: str | None,
    comment_span: Span | None,
    tested_names: frozenset[str] | None,
    in_test_file: bool,
    is_stub_file: bool,
) -> list[Intent]:
    """The implement / generate_tests intents of one function or method."""
    path = doc.path
    out: list[Intent] = []
    node = fn.node
    body = node.child_by_field_name("body")
    params_node = node.child_by_field_name("parameters")
    is_async = bool(node.children) and node.children[0].type == "async"
    is_method = bool(fn.scope.classes)
    class_name = ".".join(fn.scope.classes) or None
    span = doc.node_span(fn.outer)
    signature = _signature(doc, node)
    params = _params(params_node) if params_node is not None else ()
    returns = _text(node.child_by_field_name("return_type")) or None
    skip_decorated = any(_SKIP_DECORATORS.match(d) for d in fn.decorators)
    doc_node = _docstring_node(body) if body is not None else None
    docstring = inspect.cleandoc(_string_value(doc_node)) if doc_node is not None else None
    examples: tuple[Example, ...] = ()
    if doc_node is not None:
        examples = doctest_examples(_string_value(doc_node), doc_node.start_point.row)
    if comment:
        rows = [(comment_span.start_line + i, t) for i, t in enumerate(comment.splitlines())]
        examples += comment_examples(rows)
    common = dict(
        path=path,
        signature=signature,
        docstring=docstring,
        comment=comment,
        is_async=is_async,
        is_method=is_method,
        class_name=class_name,
        params=params,
        returns=returns,
        decorators=fn.decorators,
        comment_span=comment_span,
        examples=examples,
    )

    if body is not None and not is_stub_file and not skip_decorated and _is_stub_body(body):
        what = []
        if docstring:
            what.append("docstring")
        if examples:
            what.append(f"{len(examples)} example{'s' if len(examples) != 1 else ''}")
        if comment:
            what.append("comment")
        summary = "stub to implement" + (f" ({', '.join(what)})" if what else "")
        out.append(
            Intent(
                kind="implement",
                name=fn.qualname,
                summary=summary,
                span=span,
                body_span=doc.node_span(body),
                extra={"indent": " " * body.start_point.column} if body.start_point.row > node.start_point.row else {},
                **common,
            )
        )

    if in_test_file or skip_decorated:
        return out
    if fn.name.startswith("_") or any(c.startswith("_") for c in fn.scope.classes):
        return out
    if fn.name.startswith("test") or any(c.startswith("Test") for c in fn.scope.classes):
        return out
    untested = tested_names is not None and fn.name not in tested_names
    what = "method" if is_method else "function"
    out.append(
        Intent(
            kind="generate_tests",
            name=fn.qualname,
            summary=f"generate tests for {what} {fn.qualname}" + (" (untested)" if untested else ""),
            span=span,
            untested=untested,
            **common,
        )
    )
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
        while lo > 0 and _is_comment_row(doc, lo - 1):
            lo -= 1  # a comment block that starts above the range
        while hi + 1 < doc.line_count and _is_comment_row(doc, hi + 1):
            hi += 1  # ... or ends below it
        rows = (lo, hi)
        below = hi + 1  # a function whose comment-above the range touches
        while below < doc.line_count and doc.line_text(below).lstrip().startswith("@"):
            below += 1
        fn_rows = (first, below)
        region = _region_key(doc, lo, max(hi, below), (first, last, tested_names, in_test_file, is_stub_file))
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
    # (asked past the root's end, tree-sitter hands back a node that crashes when walked)
    node = root.first_named_child_for_byte(start) if start < root.end_byte else None
    if node is not None and node.start_byte < start:
        start = node.start_byte
    start_row = doc.position_at(start)[0]
    while start_row > 0 and _is_comment_row(doc, start_row - 1):
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
    comments = _comments(doc, rows)
    intents: list[Intent] = []

    cache: dict = doc.cache.get("intents.functions", {})
    new_cache: dict = {}
    for fn in _functions(doc, fn_rows):
        if fn.scope.in_function:
            continue
        comment, comment_span = _comment_above(doc, fn.outer)
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
        )
        hit = cache.get(key)
        if hit is not None and hit[1] == row:
            found = hit[0]
        elif hit is not None:
            found = [_shift(it, row - hit[1]) for it in hit[0]]
        else:
            found = _function_intents(
                doc, fn, comment, comment_span, tested_names, in_test_file, is_stub_file
            )
        new_cache[key] = (found, row)
        intents.extend(found)
    if lines is None:
        doc.cache["intents.functions"] = new_cache  # keep only what this version uses
    else:
        _remember(cache, new_cache, 2 * doc.line_count + 256)
        doc.cache["intents.functions"] = cache

    intents.extend(_comment_block_intents(doc, comments))
    intents.extend(_todo_intents(doc, comments))
    order = {"implement": 0, "from_comment": 1, "generate_tests": 2, "todo": 3}
    intents.sort(key=lambda it: (it.span.start_line, it.span.start_col, order[it.kind]))
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


def _comment_block_intents(doc: Document, comments: list[_Comment]) -> list[Intent]:
    blocks: list[list[_Comment]] = []
    for c in comments:
        if not c.standalone:
            continue
        if blocks and blocks[-1][-1].row == c.row - 1 and blocks[-1][-1].col == c.col:
            blocks[-1].append(c)
        else:
            blocks.append([c])
    out = []
    for block in blocks:
        last = block[-1]
        next_row = last.row + 1
        if next_row < doc.line_count and doc.line_text(next_row).strip():
            continue  # attached to the code below
        block = [c for c in block if not _is_pragma_or_header(c, 0)]
        if not block:
            continue
        level, classes = _comment_level(block[0].node)
        if level == "other":
            continue
        texts = [c.text for c in block]
        if _TODO.match(texts[0].strip()):
            continue  # a TODO block: reported as a todo
        joined = "\n".join(texts)
        lowered = joined.lower()
        if block[0].row <= 3 and ("copyright" in lowered or "spdx-license" in lowered or "license" in lowered):
            continue
        examples = comment_examples([(c.row, c.text) for c in block])
        if not examples:
            if len(_WORD.findall(joined)) < 3:
                continue  # a section header or decoration, not a description
            if _looks_like_code(texts):
                continue  # commented-out code
        name = _example_name(examples) or _title(joined)
        first_line = next((t.strip() for t in texts if t.strip()), "")
        summary = _one_line(first_line, 80)
        if examples:
            summary += f" ({len(examples)} example{'s' if len(examples) != 1 else ''})"
        out.append(
            Intent(
                kind="from_comment",
                name=name,
                summary=summary,
                span=doc.span_of(block[0].node.start_byte, last.node.end_byte),
                path=doc.path,
                comment=joined,
                examples=examples,
                is_method=level == "class",
                class_name=".".join(classes) or None,
                extra={"indent": " " * block[0].col},
            )
        )
    return out


def _todo_intents(doc: Document, comments: list[_Comment]) -> list[Intent]:
    out = []
    for c in comments:
        m = _TODO.search(c.text)
        if m is None:
            continue
        marker, rest = m.group(1), m.group(2).strip()
        out.append(
            Intent(
                kind="todo",
                name=marker,
                summary=_one_line(rest or marker, 100),
                span=doc.node_span(c.node),
                path=doc.path,
                comment=c.text,
            )
        )
    return out


# -- syntax errors and lookup --------------------------------------------------------------


_EMPTY_BLOCKS = Query(
    PY_LANGUAGE,
    """
    [(function_definition body: (block) @body)
     (class_definition body: (block) @body)
     (if_statement consequence: (block) @body)
     (for_statement body: (block) @body)
     (while_statement body: (block) @body)
     (with_statement body: (block) @body)]
    """,
)


def syntax_issues(doc: Document) -> list[SyntaxIssue]:
    """Syntax errors: one per ERROR node (outermost only) and per MISSING node.

    tree-sitter accepts a compound statement with an empty body (``def f():`` followed
    by a dedented line), which Python rejects; those are reported too.

    Checked one top-level statement at a time. One without errors is remembered by its
    type and exact bytes (from the start of its line), so after an edit only the statements
    that changed are checked again; one with errors is always checked again (the same bytes
    can recover from an error into different trees). The result equals a check of the
    whole tree.
    """
    root = doc.tree.root_node
    if root.is_error or root.is_missing:  # no statements to go by
        blocks, errors = _syntax_issues_in(doc, root)
        return sorted(blocks + errors, key=lambda s: (s.span.start_line, s.span.start_col))
    src = doc.source
    cache: dict = doc.cache.get("syntax.statements", {})  # type: ignore[assignment]
    fresh: dict = {}
    blocks: list[SyntaxIssue] = []
    errors: list[SyntaxIssue] = []
    for node in root.children:
        if node.has_error or node.is_missing:
            found = _syntax_issues_in(doc, node)
            blocks.extend(found[0])
            errors.extend(found[1])
            continue
        row, column = node.start_point
        key = (node.type, src[node.start_byte - column : node.end_byte])
        hit = cache.get(key)
        if hit is None:
            hit = tuple(_shift_issue(i, -row) for i in _syntax_issues_in(doc, node)[0])
        fresh[key] = hit
        if hit:
            blocks.extend(_shift_issue(i, row) for i in hit)
    doc.cache["syntax.statements"] = fresh  # keep only what this version uses
    out = blocks + errors  # the order of a whole-tree check (ties keep it through the sort)
    out.sort(key=lambda s: (s.span.start_line, s.span.start_col))
    return out


def _shift_issue(issue: SyntaxIssue, delta: int) -> SyntaxIssue:
    if not delta:
        return issue
    return replace(issue, span=_shift_span(issue.span, delta))


def _syntax_issues_in(doc: Document, top: Node) -> tuple[list[SyntaxIssue], list[SyntaxIssue]]:
    """(empty blocks, ERROR and MISSING nodes) in ``top``'s subtree, each in tree order."""
    blocks: list[SyntaxIssue] = []
    for body in QueryCursor(_EMPTY_BLOCKS).captures(top).get("body", []):
        # cheap test first: most blocks start with a statement
        first = body.named_child(0) if body.named_child_count else None
        if first is None or first.type == "comment" and not _statements(body):
            header = body.parent
            span = doc.span_of(header.start_byte, body.start_byte) if header is not None else doc.node_span(body)
            blocks.append(SyntaxIssue("syntax error: expected an indented block", span))
    errors: list[SyntaxIssue] = []
    if not (top.has_error or top.is_missing):
        return blocks, errors
    stack = [top]
    while stack:
        node = stack.pop()
        if node.is_missing:
            what = node.type if not node.is_named else node.type.replace("_", " ")
            label = f"'{what}'" if not node.is_named else what
            errors.append(SyntaxIssue(f"syntax error: missing {label}", doc.node_span(node)))
            continue
        if node.is_error:
            snippet = _text(node).strip().splitlines()[0] if _text(node).strip() else ""
            if len(snippet) > 40:
                snippet = snippet[:39] + "\u2026"
            msg = f"syntax error: unexpected '{snippet}'" if snippet else "syntax error"
            errors.append(SyntaxIssue(msg, doc.node_span(node)))
            continue
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return blocks, errors


def intents_at(intents: Iterable[Intent], first_line: int, last_line: int) -> list[Intent]:
    """Intents offered on lines ``first_line..last_line`` (e.g. a code-action range).

    A function's intents count on the whole function (decorators included) and on
    the comment lines right above it.
    """
    out = []
    for it in intents:
        if it.span.overlaps_lines(first_line, last_line) or (
            it.comment_span is not None and it.comment_span.overlaps_lines(first_line, last_line)
        ):
            out.append(it)
    return out


def with_path(intents: Iterable[Intent], path: str) -> list[Intent]:
    """The same intents with ``path`` set (for documents without a file path)."""
    return [replace(it, path=path) for it in intents]
