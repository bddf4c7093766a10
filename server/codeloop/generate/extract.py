"""Pull the implementation of one function out of a model's answer.

Models answer in many shapes: a fenced ```python block with prose around it, several
blocks (the function, then a usage example), an unfenced function after a sentence,
only the body, the whole class around a method, a truncated last fence. This module
turns any of those into one normalised function (the original decorators and
signature, the model's body) or a one-line reason for rejecting the answer.

Everything here is pure: text in, :class:`Extraction` out. Nothing is executed.

Rules:

- the answer must contain Python that parses (:mod:`ast`);
- it must define the target function (by name), or be only its body;
- when the original stub is known, the signature must not change: same name,
  parameters, defaults, annotations, return annotation and ``async``-ness. A
  docstring may be added; the original docstring and decorators are kept;
- a body that is still a stub (``...``, ``pass``, ``raise NotImplementedError``)
  defines nothing.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = [
    "Extraction",
    "extract_function",
    "find_code_blocks",
    "indent_block",
    "is_stub_body",
]

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_CODE_START = re.compile(r"^[ \t]*(@[\w.]+|def\s+\w|async\s+def\s+\w|class\s+\w|import\s+\w|from\s+[\w.]+\s+import\b)")
_NON_PYTHON_INFO = {
    "text", "txt", "console", "bash", "sh", "shell", "output", "json", "yaml", "toml",
    "diff", "ini", "javascript", "js", "typescript", "ts", "c", "cpp", "rust", "go", "java",
}


@dataclass(frozen=True)
class Extraction:
    """The outcome of :func:`extract_function`.

    ``function`` is the whole normalised function at column 0 (decorators,
    signature, body); ``imports`` are the module-level import statements the answer
    added (one statement each, as written by :func:`ast.unparse`); ``helpers`` are
    other module-level definitions the answer needs (helper functions, constants),
    as source at column 0. ``reason`` says why the answer was rejected (``ok`` is
    False). ``notes`` record harmless changes made while normalising.
    """

    ok: bool
    name: str
    function: str = ""
    imports: tuple[str, ...] = ()
    helpers: str = ""
    reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def code(self) -> str:
        """Imports, helpers and the function as one module-level snippet."""
        parts = []
        if self.imports:
            parts.append("\n".join(self.imports))
        if self.helpers.strip():
            parts.append(self.helpers.rstrip())
        parts.append(self.function.rstrip())
        return "\n\n\n".join(parts) + "\n"


def _reject(name: str, reason: str) -> Extraction:
    return Extraction(ok=False, name=name, reason=reason)


# ---------------------------------------------------------------- code blocks


@dataclass(frozen=True)
class _Block:
    text: str
    fenced: bool
    indented: bool  # the block's code started indented (looks like a body)


def find_code_blocks(answer: str) -> list[str]:
    """The code blocks of an answer: fenced ones if any, else the code-looking region(s).

    Fenced blocks whose info string names another language (``bash``, ``text``...)
    are skipped. An unterminated last fence (a truncated answer) still counts.
    """
    return [b.text for b in _blocks(answer)]


_THINKING = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|\Z)", re.S | re.I)


def _blocks(answer: str) -> list[_Block]:
    text = answer.replace("\r\n", "\n").replace("\r", "\n").expandtabs(8)
    # Reasoning models (DeepSeek-R1, QwQ via Ollama...) think aloud first: drafts there
    # are not the answer. Thinking sections are dropped (an unclosed one runs to the
    # end), unless nothing else is left.
    stripped = _THINKING.sub("", text)
    if stripped.strip():
        text = stripped
    fenced = _fenced_blocks(text)
    if fenced is not None:
        return fenced
    return _unfenced_blocks(text)


def _fenced_blocks(text: str) -> list[_Block] | None:
    lines = text.split("\n")
    blocks: list[_Block] = []
    saw_fence = False
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        saw_fence = True
        fence, indent = m.group("fence"), m.group("indent")
        info = m.group("info").strip().lower().split(" ")[0] if m.group("info").strip() else ""
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            line = lines[i]
            if indent and line.startswith(indent):
                line = line[len(indent):]
            body.append(line)
            i += 1
        i += 1  # past the closing fence (or the end)
        if info in _NON_PYTHON_INFO:
            continue
        code = "\n".join(body).strip("\n")
        if code.strip():
            blocks.append(_make_block(code, fenced=True))
    return blocks if saw_fence else None


def _make_block(code: str, *, fenced: bool) -> _Block:
    first = next((ln for ln in code.split("\n") if ln.strip()), "")
    indented = first[: len(first) - len(first.lstrip())] != ""
    return _Block(text=_dedent(code), fenced=fenced, indented=indented)


def _dedent(code: str) -> str:
    """Remove the first code line's indentation from every line that has it.

    Lines inside a multi-line string literal are left alone (moving them would change
    the string's value), except in docstrings, whose indentation does not matter.
    Unlike :func:`textwrap.dedent` this is not defeated by such lines at column 0.
    """
    lines = code.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    prefix = first[: len(first) - len(first.lstrip())]
    if not prefix:
        return code
    protected = _protected_lines(code)
    out = []
    for no, ln in enumerate(lines, start=1):
        if no in protected:
            out.append(ln)
        elif not ln.strip():
            out.append("")
        elif ln.startswith(prefix):
            out.append(ln[len(prefix) :])
        else:
            out.append(ln)
    return "\n".join(out)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _unfenced_blocks(text: str) -> list[_Block]:
    """Code in an answer without fences: the whole text, or the longest parsing region
    that starts at a code-looking line (``def``, ``@``, ``import``, ``class``...)."""
    stripped = text.strip("\n")
    if not stripped.strip():
        return []
    if _parses(_dedent(stripped)) and not _looks_like_prose(stripped):
        return [_make_block(stripped, fenced=False)]
    lines = text.split("\n")
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        if not _CODE_START.match(lines[i]):
            i += 1
            continue
        end = _longest_parsing_region(lines, i)
        if end is None:
            i += 1
            continue
        blocks.append(_make_block("\n".join(lines[i:end]).strip("\n"), fenced=False))
        i = end
    return blocks


def _looks_like_prose(text: str) -> bool:
    """True for text that happens to parse but reads as a sentence (``Sure thing``)."""
    try:
        tree = ast.parse(_dedent(text))
    except SyntaxError:
        return False
    # A module of only bare names / constants is a sentence or a word, not code.
    return all(isinstance(s, ast.Expr) and isinstance(s.value, (ast.Name, ast.Constant)) for s in tree.body)


def _longest_parsing_region(lines: list[str], start: int) -> int | None:
    """The largest ``end`` such that ``lines[start:end]`` parses, trimming from the end."""
    end = len(lines)
    while end > start:
        while end > start and not lines[end - 1].strip():
            end -= 1
        if end <= start:
            return None
        if _parses(_dedent("\n".join(lines[start:end]))):
            return end
        end -= 1
    return None


# ---------------------------------------------------------------- the original stub


@dataclass(frozen=True)
class _Original:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    header: str  # decorators + def line(s) through the colon, at column 0
    docstring_src: str | None  # the docstring statement's source, dedented to column 0
    unit: str  # one indentation level of the body


def _parse_original(original: str, name: str) -> _Original | str:
    src = _dedent(original.replace("\r\n", "\n").expandtabs(8)).strip("\n") + "\n"
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        return f"the original stub of {name} does not parse: {exc.msg}"
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if not funcs:
        return f"the original source does not define {name}"
    node = funcs[0]
    lines = src.split("\n")
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    colon_line, colon_col = _header_colon(lines, node)
    header_lines = lines[start - 1 : colon_line - 1] + [lines[colon_line - 1][: colon_col + 1]]
    header = _dedent("\n".join(header_lines))
    doc_src = None
    unit = "    "
    if node.body:
        first = node.body[0]
        body_line = lines[first.lineno - 1]
        if first.lineno > colon_line:
            def_indent = len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())
            body_indent = len(body_line) - len(body_line.lstrip())
            if body_indent > def_indent:
                unit = " " * (body_indent - def_indent)
        if _is_docstring(first) and first.lineno > colon_line:
            doc_src = _dedent("\n".join(lines[first.lineno - 1 : first.end_lineno]))
    return _Original(node=node, header=header, docstring_src=doc_src, unit=unit)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _header_colon(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    """(1-based line, 0-based column) of the colon that ends the ``def`` header."""
    first_body = node.body[0]
    seg = "\n".join(lines[node.lineno - 1 : first_body.lineno])
    depth = 0
    last_colon: tuple[int, int] | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(seg + "\n").readline):
            if tok.type == tokenize.OP:
                if tok.string in "([{":
                    depth += 1
                elif tok.string in ")]}":
                    depth -= 1
                elif tok.string == ":" and depth == 0:
                    last_colon = (tok.start[0] + node.lineno - 1, tok.start[1])
                    break
                elif tok.string == "->" and depth == 0:
                    continue
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    if last_colon is None:  # should not happen for code that parsed; fall back to the def line
        return node.lineno, len(lines[node.lineno - 1].rstrip()) - 1
    return last_colon


# ---------------------------------------------------------------- the candidate


def is_stub_body(body: list[ast.stmt]) -> bool:
    """True when a function body does nothing: ``...``, ``pass``, ``raise NotImplementedError``
    (optionally after a docstring)."""
    stmts = body[1:] if body and _is_docstring(body[0]) else body
    if not stmts:
        return True
    for s in stmts:
        if isinstance(s, ast.Pass):
            continue
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis:
            continue
        if isinstance(s, ast.Raise) and s.exc is not None:
            exc = s.exc.func if isinstance(s.exc, ast.Call) else s.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
        return False
    return True


def _body_text(src_lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef, drop_docstring: bool) -> str:
    """The candidate's body, dedented to column 0 (comments inside it are kept)."""
    colon_line, colon_col = _header_colon(src_lines, node)
    end = node.end_lineno or colon_line
    rest = src_lines[colon_line - 1][colon_col + 1 :]
    body = [rest.strip()] if rest.strip() and not rest.strip().startswith("#") else []
    body_lines = src_lines[colon_line:end]
    if body:  # one-line def: ``def f(x): return x``
        return body[0] + "\n"
    text = _dedent("\n".join(body_lines)).strip("\n")
    if drop_docstring and node.body and _is_docstring(node.body[0]):
        doc = node.body[0]
        lines = "\n".join(src_lines[colon_line:end]).split("\n")
        # Lines of the docstring statement relative to the body slice.
        keep = lines[: doc.lineno - colon_line - 1] + lines[(doc.end_lineno or doc.lineno) - colon_line :]
        text = _dedent("\n".join(keep)).strip("\n")
    return text + "\n"


def _function_from_body(header: str, doc_src: str | None, body: str, unit: str) -> str:
    parts = []
    if doc_src:
        parts.append(doc_src.rstrip("\n"))
    if body.strip():
        parts.append(body.rstrip("\n"))
    inner = "\n".join(parts) if parts else "pass"
    return header + "\n" + indent_block(inner, unit)


def indent_block(code: str, indent: str) -> str:
    """Indent every non-blank line of ``code`` by ``indent`` (blank lines stay empty).

    Continuation lines of multi-line string literals keep their text (indenting them
    would change the value); docstrings are indented with the code around them.
    """
    out = []
    protected = _protected_lines(code)
    for no, line in enumerate(code.split("\n"), start=1):
        if no in protected:
            out.append(line)
        elif not line.strip():
            out.append("")
        else:
            out.append(indent + line)
    text = "\n".join(out)
    return text if text.endswith("\n") else text + "\n"


def _string_token_types() -> set[int]:
    types = {tokenize.STRING}
    for extra in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END"):  # Python 3.12+
        if hasattr(tokenize, extra):
            types.add(getattr(tokenize, extra))
    return types


def _protected_lines(code: str) -> set[int]:
    """1-based numbers of lines inside a multi-line string literal (not its first line),
    leaving out string literals that are a statement on their own (docstrings).

    Best effort: code that does not tokenize protects nothing.
    """
    protected: set[int] = set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return protected
    string_types = _string_token_types()
    layout = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE}
    at_statement_start = True
    for i, tok in enumerate(tokens):
        if tok.type in string_types and tok.end[0] > tok.start[0]:
            nxt = next((t for t in tokens[i + 1 :] if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
            alone = at_statement_start and (nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER))
            if not alone:
                protected.update(range(tok.start[0] + 1, tok.end[0] + 1))
        if tok.type in layout:
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                at_statement_start = True
            continue
        at_statement_start = tok.type == tokenize.OP and tok.string == ";"
    return protected


def _describe_args(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    text = ast.unparse(node.args)
    ret = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"({text}){ret}"


def _signature_change(orig: ast.FunctionDef | ast.AsyncFunctionDef, cand: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    name = orig.name
    if isinstance(orig, ast.AsyncFunctionDef) != isinstance(cand, ast.AsyncFunctionDef):
        was = "async" if isinstance(orig, ast.AsyncFunctionDef) else "not async"
        return f"changes the signature of {name}: it was {was}"
    same_args = ast.dump(orig.args) == ast.dump(cand.args)
    same_ret = (orig.returns is None and cand.returns is None) or (
        orig.returns is not None and cand.returns is not None and ast.dump(orig.returns) == ast.dump(cand.returns)
    )
    if same_args and same_ret:
        return None
    return f"changes the signature of {name}: was {_describe_args(orig)}, now {_describe_args(cand)}"


def _find_target(tree: ast.Module, name: str, class_name: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The definition of ``name``: top level, or inside ``class_name`` (or any class)."""
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    top = [n for n in tree.body if isinstance(n, funcs) and n.name == name]
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    if class_name:
        classes.sort(key=lambda c: c.name != class_name)
    in_class = [m for c in classes for m in c.body if isinstance(m, funcs) and m.name == name]
    if class_name and in_class:
        return in_class[0]
    if top:
        return top[-1]
    return in_class[0] if in_class else None


def _defined_functions(tree: ast.Module) -> list[str]:
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    names = [n.name for n in tree.body if isinstance(n, funcs)]
    for c in tree.body:
        if isinstance(c, ast.ClassDef):
            names += [m.name for m in c.body if isinstance(m, funcs)]
    return names


def _has_top_level_flow(tree: ast.Module) -> bool:
    """A module with a top-level ``return``/``yield``/``await`` is a function body."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Return):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, (ast.Yield, ast.YieldFrom, ast.Await)):
            return True
    return False


def _is_main_guard(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.If)
        and isinstance(stmt.test, ast.Compare)
        and isinstance(stmt.test.left, ast.Name)
        and stmt.test.left.id == "__name__"
    )


def _preamble(
    tree: ast.Module, src_lines: list[str], target: ast.AST, known_names: Collection[str]
) -> tuple[tuple[str, ...], str]:
    """(imports, helpers) from the answer's other top-level statements.

    Dropped: the target itself (or the class around it), usage examples (bare
    expressions, asserts, ``print``), ``if __name__ == "__main__"`` blocks, test
    functions, and definitions of names the file already has (``known_names``).
    """
    imports: list[str] = []
    helpers: list[str] = []
    for stmt in tree.body:
        if stmt is target or (isinstance(stmt, ast.ClassDef) and target in stmt.body):
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            text = ast.unparse(stmt)
            if text not in imports:
                imports.append(text)
            continue
        if isinstance(stmt, (ast.Expr, ast.Assert)) or _is_main_guard(stmt):
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if stmt.name in known_names or stmt.name.startswith("test_") or stmt.name.startswith("Test"):
                continue
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if names and names <= set(known_names):
                continue
        start = min([getattr(d, "lineno", stmt.lineno) for d in getattr(stmt, "decorator_list", [])] + [stmt.lineno])
        helpers.append("\n".join(src_lines[start - 1 : stmt.end_lineno]))
    return tuple(imports), "\n\n\n".join(helpers) + ("\n" if helpers else "")


# ---------------------------------------------------------------- entry point


def extract_function(
    answer: str,
    name: str,
    original: str | None = None,
    *,
    class_name: str | None = None,
    known_names: Collection[str] = (),
) -> Extraction:
    """Extract the implementation of ``name`` from a model ``answer``.

    ``original`` is the source of the stub being implemented (decorators, signature,
    optional docstring; any indentation): when given, the signature must be kept
    and the result carries the original decorators, signature and docstring. When
    None (a function described by a comment), the model's own definition is taken
    as written. ``class_name`` says which class a method lives in (an answer that
    repeats the whole class is accepted). ``known_names`` are names the file already
    defines: the answer's copies of them are not carried over as helpers.
    """
    orig: _Original | None = None
    if original is not None and original.strip():
        parsed = _parse_original(original, name)
        if isinstance(parsed, str):
            return _reject(name, parsed)
        orig = parsed
    blocks = _blocks(answer)
    if not blocks:
        return _reject(name, "the answer contains no code")

    parsed_blocks: list[tuple[_Block, ast.Module]] = []
    first_error: str | None = None
    for block in blocks:
        try:
            parsed_blocks.append((block, ast.parse(block.text)))
        except SyntaxError as exc:
            if first_error is None:
                first_error = f"the code does not parse: {exc.msg} (line {exc.lineno})"
        except ValueError as exc:  # e.g. null bytes
            if first_error is None:
                first_error = f"the code does not parse: {exc}"

    # 1. The last block that defines the target wins (models put corrections last).
    for block, tree in reversed(parsed_blocks):
        target = _find_target(tree, name, class_name)
        if target is None:
            continue
        return _normalise(block, tree, target, name, orig, known_names, parsed_blocks)

    # 2. A block that is only the body (needs the original signature).
    if orig is not None:
        bodies = [
            (b, t)
            for b, t in reversed(parsed_blocks)
            if not _defined_functions(t) and (_has_top_level_flow(t) or b.indented or len(parsed_blocks) == 1)
        ]
        for block, tree in bodies:
            if is_stub_body(tree.body):
                return _reject(name, f"the body of {name} is still a stub")
            return _from_body(block, tree, name, orig)

    # 3. Explain the rejection.
    others = [n for _, t in parsed_blocks for n in _defined_functions(t)]
    if others:
        return _reject(name, f"does not define {name} (defines {', '.join(dict.fromkeys(others))})")
    if first_error:
        return _reject(name, first_error)
    return _reject(name, f"defines nothing: no function {name} in the answer")


def _from_body(block: _Block, tree: ast.Module, name: str, orig: _Original) -> Extraction:
    body_tree = tree
    body = block.text.strip("\n") + "\n"
    drop_doc = orig.docstring_src is not None and body_tree.body and _is_docstring(body_tree.body[0])
    if drop_doc:
        lines = body.split("\n")
        doc = body_tree.body[0]
        body = "\n".join(lines[: doc.lineno - 1] + lines[(doc.end_lineno or doc.lineno) :]).strip("\n") + "\n"
    function = _function_from_body(orig.header, orig.docstring_src, body, orig.unit)
    check = _check_function(function, name)
    if check:
        return _reject(name, check)
    return Extraction(ok=True, name=name, function=function, notes=("the answer was only the body",))


def _normalise(
    block: _Block,
    tree: ast.Module,
    target: ast.FunctionDef | ast.AsyncFunctionDef,
    name: str,
    orig: _Original | None,
    known_names: Collection[str],
    parsed_blocks: list[tuple[_Block, ast.Module]],
) -> Extraction:
    src_lines = block.text.split("\n")
    if is_stub_body(target.body):
        return _reject(name, f"the body of {name} is still a stub")
    imports, helpers = _preamble(tree, src_lines, target, known_names)
    # Import-only blocks elsewhere in the answer belong to the code too.
    extra: list[str] = []
    for other, other_tree in parsed_blocks:
        if other is not block and other_tree.body and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in other_tree.body):
            extra += [ast.unparse(s) for s in other_tree.body]
    imports = tuple(dict.fromkeys(extra + list(imports)))
    notes: list[str] = []
    if orig is None:
        start = min([d.lineno for d in target.decorator_list] + [target.lineno])
        function = _dedent("\n".join(src_lines[start - 1 : target.end_lineno])).strip("\n") + "\n"
    else:
        change = _signature_change(orig.node, target)
        if change:
            return _reject(name, change)
        if [ast.dump(d) for d in target.decorator_list] != [ast.dump(d) for d in orig.node.decorator_list]:
            notes.append("kept the original decorators")
        drop_doc = orig.docstring_src is not None
        if (drop_doc and target.body and _is_docstring(target.body[0])
                and ast.get_docstring(target) != ast.get_docstring(orig.node)):
            notes.append("kept the original docstring")
        body = _body_text(src_lines, target, drop_docstring=drop_doc)
        if not body.strip() and orig.docstring_src is None:
            return _reject(name, f"the body of {name} is empty")
        function = _function_from_body(orig.header, orig.docstring_src, body, orig.unit)
    check = _check_function(function, name)
    if check:
        return _reject(name, check)
    return Extraction(ok=True, name=name, function=function, imports=imports, helpers=helpers, notes=tuple(notes))


def _check_function(function: str, name: str) -> str | None:
    """Final guard: the normalised function parses and is not a stub."""
    try:
        tree = ast.parse(function)
    except SyntaxError as exc:
        return f"the code does not parse: {exc.msg} (line {exc.lineno})"
    funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not funcs:
        return f"defines nothing: no function {name} in the answer"
    if is_stub_body(funcs[0].body):
        return f"the body of {name} is still a stub"
    return None
