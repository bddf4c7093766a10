"""From a stub or a comment to candidate code: the generation half of implementing.

No sandbox here (:mod:`codeloop.verify.candidates` runs the checks, the pipeline is
:mod:`codeloop.services.implement`). This module:

* locates the function in the document (or, for a comment, where it goes):
  :func:`locate` gives an :class:`ImplementTarget`;
* splices an extracted candidate (:mod:`codeloop.generate.extract`) into the document,
  with the imports it needs (:func:`splice`);
* turns the model's tests answer into tests of the target (:func:`generated_tests`);
* reads the stub's annotations for the shared inputs of the outputs probe;
* gives the smallest whole-line edit between two texts (:func:`line_edit`), which is
  what an editor applies.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from codeloop.audit.policy import policy_findings
from codeloop.generate.extract import Extraction, find_code_blocks, indent_block
from codeloop.workspace import kinds
from codeloop.workspace.model import Intent
from codeloop.workspace.modules import ModuleNameError, module_for


class ImplementError(Exception):
    """Bad input: the intent cannot be implemented as asked (the message says why)."""


@dataclass(frozen=True)
class LineEdit:
    """Replace lines ``[start_line, end_line)`` (0-based) with ``new_text``.

    As an LSP ``TextEdit``: range ``(start_line, 0)``-``(end_line, 0)``; ``new_text``
    ends with a newline whenever the replaced lines did.
    """

    start_line: int
    end_line: int
    new_text: str


def line_edit(old_text: str, new_text: str) -> LineEdit | None:
    """The single smallest line range whose replacement turns ``old_text`` into
    ``new_text`` (None when they are equal)."""
    if old_text == new_text:
        return None
    old = old_text.splitlines(keepends=True)
    new = new_text.splitlines(keepends=True)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(old), len(new)) - prefix
           and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]):
        suffix += 1
    return LineEdit(prefix, len(old) - suffix, "".join(new[prefix : len(new) - suffix]))


@dataclass(frozen=True)
class ImplementTarget:
    name: str
    path: Path
    rel_path: str
    module: str
    import_root: Path
    stub: str | None  # the stub's source (decorators through the body), None for a comment
    start: int  # 0-based first line to replace (or to insert at)
    end: int  # 0-based line after the last one replaced (== start: insert)
    indent: str
    class_name: str | None
    known_names: frozenset[str]
    is_method: bool
    params: tuple[str, ...]  # parameter names (without self/cls)
    is_async: bool


def locate(intent: Intent, document_text: str, path: Path, workspace: Path) -> ImplementTarget:
    try:
        tree = ast.parse(document_text)
    except SyntaxError as exc:
        raise ImplementError(f"{path.name} does not parse (line {exc.lineno}: {exc.msg}); fix the syntax first") from None
    try:
        rel = path.resolve().relative_to(workspace.resolve())
    except ValueError:
        raise ImplementError(f"{path} is not inside the workspace {workspace}") from None
    try:
        import_root, module = module_for(path.resolve(), workspace.resolve())
    except ModuleNameError as exc:
        raise ImplementError(str(exc)) from None
    lines = document_text.split("\n")
    known = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    known |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}

    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    name, class_name = _split_name(intent)
    candidates: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str | None]] = []
    for node in tree.body:
        if isinstance(node, funcs) and node.name == name and not class_name:
            candidates.append((node, None))
        elif isinstance(node, ast.ClassDef) and (class_name is None or node.name == class_name):
            for item in node.body:
                if isinstance(item, funcs) and item.name == name and (class_name or intent.is_method):
                    candidates.append((item, node.name))
    if candidates:
        node, cls = min(candidates, key=lambda c: abs((c[0].lineno - 1) - intent.span.start_line))
        start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
        end = node.end_lineno or node.lineno
        stub = "\n".join(lines[start:end]) + "\n"
        def_line = lines[node.lineno - 1]
        indent = def_line[: len(def_line) - len(def_line.lstrip())]
        args = node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        if cls and names and names[0] in ("self", "cls"):
            names = names[1:]
        return ImplementTarget(name, path, str(rel), module, import_root, stub, start, end, indent, cls,
                       frozenset(known), cls is not None, tuple(names), isinstance(node, ast.AsyncFunctionDef))
    if _writes(intent) == "below":  # a describing comment: the code goes under it
        at = min(intent.span.end_line + 1, len(lines))
        comment_line = lines[intent.span.start_line] if intent.span.start_line < len(lines) else ""
        indent = comment_line[: len(comment_line) - len(comment_line.lstrip())]
        return ImplementTarget(name, path, str(rel), module, import_root, None, at, at, indent, None,
                       frozenset(known), False, (), False)
    where = f"class {class_name}" if class_name else path.name
    raise ImplementError(f"no function {name} in {where} (has the file changed?)")


def _writes(intent: Intent) -> str | None:
    kind = kinds.lookup(intent.kind)
    return kind.writes if kind is not None else None


def _split_name(intent: Intent) -> tuple[str, str | None]:
    """(function name, class name) from ``Class.method`` or a plain name."""
    if intent.class_name and intent.name.startswith(intent.class_name + "."):
        return intent.name[len(intent.class_name) + 1 :], intent.class_name
    if "." in intent.name and _writes(intent) == "body":
        cls, _, name = intent.name.rpartition(".")
        return name, cls.rsplit(".", 1)[-1]
    return intent.name, intent.class_name


def splice(document_text: str, target: ImplementTarget, ex: Extraction) -> tuple[str, tuple[int, int], tuple[tuple[int, int], ...]]:
    """The document with the candidate in place; the function's 1-based line range; the
    ranges of all the candidate's code (helpers and function)."""
    lines = document_text.split("\n")
    function = indent_block(ex.function, target.indent).rstrip("\n").split("\n")
    before, after = lines[: target.start], lines[target.end :]
    helpers: list[str] = []
    if ex.helpers.strip():
        helpers = indent_block(ex.helpers, "" if target.is_method else target.indent).rstrip("\n").split("\n") + ["", ""]
    lead: list[str] = []
    trail: list[str] = []
    if target.stub is None and after and after[0].strip():
        trail = ["", ""]
    ranges: list[tuple[int, int]] = []
    if target.is_method and helpers:
        # Module-level helpers of a method go above its class.
        class_start = _class_start(lines, target)
        before = before[:class_start] + helpers + before[class_start:]
        ranges.append((class_start + 1, class_start + len(helpers) - 2))
        helpers = []
    elif helpers:
        ranges.append((len(before) + 1, len(before) + len(helpers) - 2))
    first = len(before) + len(helpers) + len(lead) + 1
    last = first + len(function) - 1
    ranges.append((first, last))
    text = "\n".join(before + helpers + lead + function + trail + after)
    text, shift = _add_imports(text, ex.imports)
    return text, (first + shift, last + shift), tuple((lo + shift, hi + shift) for lo, hi in ranges)


def _class_start(lines: list[str], target: ImplementTarget) -> int:
    pattern = re.compile(rf"^\s*class\s+{re.escape(target.class_name or '')}\b")
    for i in range(target.start, -1, -1):
        if pattern.match(lines[i]):
            while i > 0 and lines[i - 1].lstrip().startswith("@"):
                i -= 1
            return i
    return target.start


def _add_imports(text: str, imports: Sequence[str]) -> tuple[str, int]:
    """Add the import statements the file lacks after its last top-level import."""
    if not imports:
        return text, 0
    tree = ast.parse(text)
    have = {ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    missing = [imp for imp in imports if imp not in have]
    if not missing:
        return text, 0
    lines = text.split("\n")
    future = [m for m in missing if m.startswith("from __future__")]
    missing = [m for m in missing if not m.startswith("from __future__")]
    last_import = 0
    doc_end = 0
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            last_import = n.end_lineno or n.lineno
        elif isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str) and n is tree.body[0]:
            doc_end = n.end_lineno or n.lineno
    added = 0
    if future:
        lines[doc_end:doc_end] = future
        added += len(future)
        last_import = max(last_import, doc_end) + len(future)
    if missing:
        at = last_import if last_import else doc_end
        block = missing + ([""] if not last_import and at < len(lines) and lines[at].strip() else [])
        lines[at:at] = block
        added += len(block)
    return "\n".join(lines), added


def generated_tests(answer: str, target: ImplementTarget,
                    import_name: str) -> tuple[str | None, tuple[str, ...], str, str | None]:
    """(tests code, test names, note, the import line the code lacks) from the model's
    tests answer; :func:`codeloop.verify.candidates.generated_tests_file` makes it the
    file run in the sandbox."""
    chosen = None
    for tree in parsed_blocks(answer):
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
               or isinstance(n, ast.ClassDef) and n.name.startswith("Test") for n in tree.body):
            chosen = tree
            break
    if chosen is None:
        return None, (), "the model's tests answer had no test functions", None
    body: list[ast.stmt] = []
    imports_target = False
    for node in chosen.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in (target.name, target.class_name):
            continue  # a copy of the implementation: the tests must run against the candidate
        if isinstance(node, ast.ImportFrom) and any(a.name == import_name for a in node.names):
            node = ast.ImportFrom(module=target.module, names=node.names, level=0)
            imports_target = True
        body.append(node)
    names = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [f"{node.name}::{m.name}" for m in node.body
                      if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test")]
    if not names:
        return None, (), "the model's tests answer had no test functions", None
    module = ast.Module(body=body, type_ignores=[])
    code = ast.unparse(ast.fix_missing_locations(module))
    blocking = [f for f in policy_findings(ast.parse(code)) if f.blocking]
    if blocking:
        return None, (), f"the model's tests were dropped: {blocking[0].message}", None
    return code, tuple(names), "", None if imports_target else f"from {target.module} import {import_name}"


def parsed_blocks(answer: str) -> Iterator[ast.Module]:
    """The answer's code blocks that parse, the last first (a model's final version)."""
    for block in reversed(find_code_blocks(answer)):
        try:
            yield ast.parse(block)
        except SyntaxError:
            continue


def last_defined_function(answer: str) -> str | None:
    for tree in parsed_blocks(answer):
        names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and not n.name.startswith("test")]
        if names:
            return names[-1]
    return None


def stub_returns(target: ImplementTarget) -> str | None:
    """The stub's return annotation as source (None: none, or not a plain function)."""
    if target.stub is None:
        return None
    try:
        from codeloop.generate.extract import _dedent

        tree = ast.parse(_dedent(target.stub))
    except SyntaxError:
        return None
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None or node.returns is None:
        return None
    return ast.unparse(node.returns)


def stub_annotations(target: ImplementTarget) -> list[str | None]:
    if target.stub is None:
        return []
    try:
        from codeloop.generate.extract import _dedent  # the same dedent rules as extraction

        tree = ast.parse(_dedent(target.stub))
    except SyntaxError:
        return []
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None:
        return []
    args = [*node.args.posonlyargs, *node.args.args]
    if target.is_method and args and args[0].arg in ("self", "cls"):
        args = args[1:]
    if node.args.kwonlyargs or node.args.vararg or node.args.kwarg:
        return []
    return [ast.unparse(a.annotation) if a.annotation is not None else None for a in args]
