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
from collections.abc import Iterable, Iterator, Sequence

from codeloop.workspace.model import Example
from codeloop.workspace.nodes import first_call, node_text, parse_expression

_EXAMPLE_PREFIX = re.compile(
    r"^(?:[-*\u2022]\s+|e\.g\.?,?\s*|(?:for\s+)?examples?\s*[:,]?\s*|ex:\s*)", re.IGNORECASE
)


def read_doctests(docstring: str) -> list[doctest.Example] | None:
    """The standard library's reading of ``>>>`` examples; None when the indentation is
    inconsistent (each caller has its own fallback)."""
    try:
        return doctest.DocTestParser().get_examples(docstring)
    except ValueError:
        return None


# -- written in the workspace's documents (intents, implement checks) --------------------


def doctest_examples(docstring: str, first_line: int = 0, name: str | None = None) -> tuple[Example, ...]:
    """Every example in a docstring: ``>>>`` examples (with ``...`` continuations) and their
    expected output, and the line forms of :func:`comment_examples` on the other lines.

    ``first_line`` is the document line of the docstring's first line, so each
    example's ``line`` points at its line in the file. ``name``: the documented function;
    when given, line forms count only when they call it (``>>>`` examples always count).
    """
    lines = docstring.splitlines()
    doctests: tuple[Example, ...] = ()
    covered: set[int] = set()
    if ">>>" in docstring:
        found = read_doctests(docstring)
        if found is None:  # inconsistent indentation: parse leniently, line by line
            return _lenient_doctests(lines, first_line)
        doctests = tuple(
            _doctest_example(ex.source.rstrip("\n"), ex.want.rstrip("\n") or None, first_line + ex.lineno)
            for ex in found
        )
        for ex in found:
            size = ex.source.count("\n") + ex.want.count("\n")
            covered.update(range(ex.lineno, ex.lineno + max(1, size)))
    rest = [(first_line + i, text) for i, text in enumerate(lines) if i not in covered and ">>>" not in text]
    return tuple(sorted(doctests + comment_examples(rest, name), key=lambda e: e.line))


def _doctest_example(source: str, want: str | None, line: int) -> Example:
    """One ``>>>`` example; ``>>> f(2) == 4`` with no output states a truth: it reads as
    ``f(2)`` expected ``4``; a literal output's trailing ``# comment`` is dropped."""
    if want is None and "\n" not in source:
        left_right = _equality(source)
        if left_right is not None:
            return Example(left_right[0], left_right[1], line, "equals")
    if "\n" not in source:
        source = strip_comment(source) or source
    return Example(source, _clean_want(want), line, "doctest")


def _equality(text: str) -> tuple[str, str] | None:
    """(call, value) of ``call == value`` whose left side is a call, else None."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    if (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq)
            and isinstance(tree.left, ast.Call)):
        return ast.get_source_segment(text.strip(), tree.left) or "", ast.get_source_segment(
            text.strip(), tree.comparators[0]) or ""
    return None


def _clean_want(want: str | None) -> str | None:
    """Drop an inline ``# comment`` after a literal doctest output (``4  # four`` -> ``4``)."""
    if want is None or "\n" in want or "#" not in want:
        return want
    before = strip_comment(want)
    if before != want.strip() and before:
        try:
            ast.literal_eval(before)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return want
        return before
    return want


def strip_comment(text: str) -> str:
    """``text`` without a trailing ``# comment`` (a ``#`` outside quotes)."""
    pos = _top_level(text, "#", brackets=False)
    return (text[: pos[0]] if pos else text).strip()


def _plain_positions(text: str) -> Iterator[tuple[int, int]]:
    """(position, bracket depth) of every character of ``text`` that is neither inside a
    string literal nor a quote or bracket itself."""
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
        else:
            yield i, depth
        i += 1


def _top_level(text: str, chars: str, brackets: bool = True) -> list[int]:
    """Positions of ``chars`` outside quotes (and, with ``brackets``, outside brackets)."""
    if not _QUOTES_OR_BRACKETS.search(text):  # the usual line: no character-by-character walk
        return [i for i, ch in enumerate(text) if ch in chars]
    return [i for i, depth in _plain_positions(text) if text[i] in chars and (depth == 0 or not brackets)]


_QUOTES_OR_BRACKETS = re.compile(r"""['"()\[\]{}]""")


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
            out.append(_doctest_example("\n".join(source), "\n".join(want) or None, first_line + start))
        else:
            i += 1
    return tuple(out)


def _has_call(text: str) -> bool:
    expr = parse_expression(text)
    return expr is not None and first_call(expr) is not None


def _split_top_level(text: str, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    """Split at the first match of ``pattern`` outside brackets and quotes."""
    for i, depth in _plain_positions(text):
        if depth == 0:
            m = pattern.match(text, i)
            if m and m.end() > m.start():
                return text[:i].strip(), text[m.end() :].strip()
    return None


# "Input: 3, 4  Output: 7" on one line, or "Input: 3, 4" then "Output: 7" on the next
_INPUT = re.compile(
    r"^(?:[-*\u2022]\s*)?(?:example\s*\d*\s*[:.)]?\s*)?input\s*[:=]\s*(?P<input>.+?)"
    r"(?:\s*[,;]?\s*(?:output|result)\s*[:=]\s*(?P<output>.+?))?\s*$", re.IGNORECASE)
_OUTPUT = re.compile(r"^(?:[-*\u2022]\s*)?(?:output|result)\s*[:=]\s*(?P<output>.+?)\s*$", re.IGNORECASE)
# "Example:", "Examples", "Usage::" (a numpy-style "--------" underline may follow)
_SECTION = re.compile(r"^(?:examples?|usage)\s*:{0,2}\s*$", re.IGNORECASE)
_OTHER_SECTION = re.compile(r"^[A-Z][\w ]{0,30}:{1,2}$")


def comment_examples(lines: Sequence[tuple[int, str]], name: str | None = None) -> tuple[Example, ...]:
    """Examples written in comment (or docstring) text, one reading for every common form:
    ``f(2) == 4``, ``f(2) -> 4`` (also ``=>``, ``\u2192``, ``\u279e``), ``f(2) returns 4`` /
    ``should return 4`` / ``should be 4``, several on one line (``f(1) == 2, f(2) == 4``),
    ``Input: 2  Output: 4`` pairs, ``>>> f(2)`` + output, and, under an ``Examples:``
    header, a call line followed by its value line.

    ``lines`` are (document line, text without the ``#``) pairs. ``name``: the documented
    function; when given only its calls count, and ``Input:`` lines call it.
    """
    out: list[Example] = []
    in_section = False
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
                if nxt and not nxt.startswith(">>>") and not _examples_from_line(nxt):
                    expected = nxt
                    i += 1
            out.append(_doctest_example("\n".join(source), expected, line_no))
            continue
        if _SECTION.match(text):
            in_section = True
            i += 1
            continue
        if in_section and _OTHER_SECTION.match(text):
            in_section = False
        pair = _input_output(lines, i, name)
        if pair is not None:
            example, i = pair
            out.append(example)
            continue
        found = _examples_from_line(text, line_no, name)
        if not found and in_section:
            pair = _call_then_value(lines, i, name)
            if pair is not None:
                example, i = pair
                out.append(example)
                continue
        out.extend(found)
        i += 1
    return tuple(out)


def _input_output(lines: Sequence[tuple[int, str]], i: int, name: str | None) -> tuple[Example, int] | None:
    """An ``Input: ... Output: ...`` pair starting at ``lines[i]`` (the output may be on the next
    non-blank line), as ``name(input)`` expected ``output``; with the index after it."""
    if name is None:
        return None
    m = _INPUT.match(strip_comment(lines[i][1]))
    if m is None:
        return None
    output, after = m.group("output"), i + 1
    if output is None:
        j = i + 1
        while j < len(lines) and not lines[j][1].strip():
            j += 1
        m_out = _OUTPUT.match(strip_comment(lines[j][1])) if j < len(lines) else None
        if m_out is None:
            return None
        output, after = m_out.group("output"), j + 1
    call = f"{name}({m.group('input').strip().rstrip(',;')})"
    expected = output.strip().rstrip(".,;").strip("`")
    if _py_call(call) is None or not _py_expression(expected):
        return None
    return Example(call, expected, lines[i][0], "arrow"), after


def _call_then_value(lines: Sequence[tuple[int, str]], i: int, name: str | None) -> tuple[Example, int] | None:
    """Under an ``Examples:`` header: a line that is only a call, and the next line its value."""
    text = strip_comment(lines[i][1]).strip("`")
    call = _py_call(text)
    if call is None or (name is not None and _callee(call) != name) or i + 1 >= len(lines):
        return None
    value = strip_comment(lines[i + 1][1]).strip("`")
    if not value or not _py_expression(value) or _py_call(value) is not None:
        return None
    return Example(text, value, lines[i][0], "arrow"), i + 2


def _py_call(text: str) -> ast.Call | None:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    return tree if isinstance(tree, ast.Call) else None


def _py_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return bool(text.strip())


def _callee(call: ast.Call) -> str | None:
    fn = call.func
    if isinstance(fn, ast.Name):
        return fn.id
    if isinstance(fn, ast.Attribute):
        return fn.attr
    return None


_INLINE_EXAMPLE = re.compile(r"(?:\be\.g\.?,?|\bexamples?:|\bfor example,?|\bsuch as|(?<=\w):)\s*", re.IGNORECASE)


def _example_from_line(text: str, line_no: int = 0) -> Example | None:
    found = _examples_from_line(text, line_no)
    return found[0] if found else None


def _examples_from_line(text: str, line_no: int = 0, name: str | None = None) -> list[Example]:
    """The examples of one line: the whole line, else what follows its last ``e.g.``/``:``."""
    text = strip_comment(text)
    found = _examples_in(text, line_no)
    if not found:
        # prose with examples at its end: "... e.g. double(2) == 4"
        markers = list(_INLINE_EXAMPLE.finditer(text))
        m = markers[-1] if markers else None
        if m is not None and m.end() < len(text):
            found = _examples_in(text[m.end() :], line_no)
    if name is not None:
        found = [ex for ex in found if example_name([ex]) == name]
    return found


def _examples_in(text: str, line_no: int) -> list[Example]:
    """One example, or several separated by top-level ``,`` / ``;``: a part that is not an
    example of its own belongs to the one before (``f(1) == (1, 2)`` stays whole)."""
    text = _EXAMPLE_PREFIX.sub("", text.strip()).strip()
    cuts = _top_level(text, ",;")
    if cuts:
        groups: list[str] = []
        for a, b in zip([-1, *cuts], [*cuts, len(text)], strict=True):
            part = text[a + 1 : b]
            if groups and _whole_line_example(part, line_no) is None:
                groups[-1] += text[a] + part  # keep the separator: "(1, 2)" stays a tuple
            else:
                groups.append(part)
        found = [_whole_line_example(g, line_no) for g in groups]
        if len(groups) > 1 and all(found):
            return [ex for ex in found if ex is not None]
    whole = _whole_line_example(text, line_no)
    return [whole] if whole is not None else []


def _is_expression(text: str) -> bool:
    return parse_expression(text) is not None


_ARROW = re.compile(
    r"\s*(?:->|=>|\u2192|\u279e|\u27f6|\bshould\s+(?:return|be|give|equal)\b|\breturns\b|\bgives\b)\s*"
)
# "area(w, h) -> float" is a signature, not an example: an arrow's value is not a bare type
_TYPE_NAME = re.compile(
    r"^(?:int|float|str|bytes|bool|list|dict|set|tuple|frozenset|complex|object|type|Any|Optional|Union|"
    r"List|Dict|Set|Tuple|Iterable|Iterator|Sequence|Mapping|Callable)\b(?:\[.*\])?(?:\s*\|.*)?$"
)


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
        if left and right and _has_call(left) and _is_expression(right) and not _TYPE_NAME.match(right):
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
                src = _open_string_statement(doc, ex) or ""
                if not src:
                    continue
            setup.append(src)
    if not parsed:
        for offset, text in enumerate(doc.splitlines()):
            found = _call_line_example(text, doc_line + offset, names)
            if found:
                examples.append(found)
    return examples


def _open_string_statement(doc: str, ex: doctest.Example) -> str | None:
    """A doctest statement that opens a triple-quoted string and goes on without ``...``
    prompts (``>>> doc = '''`` then the text's lines): the statement read from the docstring
    up to the closing quotes, the lines dedented by the prompt's indentation."""
    quote = next((q for q in ('"""', "'''") if ex.source.count(q) % 2), None)
    lines = doc.splitlines()
    if quote is None or ex.lineno >= len(lines) or "\n" in ex.source.strip():
        return None
    head = lines[ex.lineno]
    at = head.find(">>>")
    if at < 0:
        return None
    out = [head[at + 4:]]
    for text in lines[ex.lineno + 1:]:
        out.append(text[at:] if text[:at].strip() == "" else text.lstrip())
        if quote in text:
            src = "\n".join(out)
            try:
                ast.parse(src)
            except SyntaxError:
                return None
            return src
    return None


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
