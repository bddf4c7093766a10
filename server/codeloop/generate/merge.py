"""Safe merge of generated tests into a test file, and an atomic, checked write.

:func:`merge_tests` is a pure function (text in, text out) so the language server can
turn its result into a version-checked ``WorkspaceEdit``; the CLI writes the result with
:func:`write_merged`, which refuses to overwrite a file that changed since it was read.
User content is never modified: new imports go after the existing import block, new
tests are appended, and a new test whose name is taken gets a numeric suffix.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from codeloop.fileio import atomic_write
from codeloop.generate.tests_model import GeneratedTest


class MergeError(Exception):
    """The merge cannot be done safely (unparseable file, file changed meanwhile)."""


_STDLIB = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}


def _parse_import(line: str) -> tuple[str, str, str | None] | None:
    """("import", module, alias) or ("from", module, name) for a one-name import line."""
    m = re.fullmatch(r"import ([\w.]+)(?: as (\w+))?", line.strip())
    if m:
        return ("import", m.group(1), m.group(2))
    m = re.fullmatch(r"from ([\w.]+) import (\w+)", line.strip())
    if m:
        return ("from", m.group(1), m.group(2))
    return None


def _bound_by(tree: ast.Module) -> tuple[set[tuple[str, str | None]], set[tuple[str, str]], set[str]]:
    """Imports already present: plain (module, alias), from-imports (module, name), bound names."""
    plain: set[tuple[str, str | None]] = set()
    froms: set[tuple[str, str]] = set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                plain.add((a.name, a.asname))
                names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.asname is None:
                    froms.add((node.module, a.name))
                names.add(a.asname or a.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names.add(t.id)
    return plain, froms, names


def _group(module: str) -> int:
    top = module.split(".")[0]
    if top in _STDLIB:
        return 0
    return 1


def format_imports(lines: Iterable[str], local_modules: Sequence[str] = ()) -> list[str]:
    """Tidy import lines: stdlib, third party, then the project's; ``from`` names combined."""
    plain: set[tuple[str, str | None]] = set()
    froms: dict[str, set[str]] = {}
    other: set[str] = set()
    for line in lines:
        parsed = _parse_import(line)
        if parsed is None:
            if line.strip():
                other.add(line.strip())
            continue
        kind, module, rest = parsed
        if kind == "import":
            plain.add((module, rest))
        else:
            froms.setdefault(module, set()).add(rest)

    def group_of(module: str) -> int:
        top = module.split(".")[0]
        if any(top == m.split(".")[0] for m in local_modules):
            return 2
        return _group(module)

    groups: list[list[str]] = [[], [], []]
    for module, alias in sorted(plain, key=lambda x: (x[0], x[1] or "")):
        groups[group_of(module)].append(f"import {module}" + (f" as {alias}" if alias else ""))
    for module in sorted(froms):
        names = sorted(froms[module], key=lambda n: (n.lower(), n))
        text = f"from {module} import {', '.join(names)}"
        if len(text) > 88:
            text = f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        groups[group_of(module)].append(text)
    out: list[str] = []
    for group in groups:
        if group:
            if out:
                out.append("")
            out.extend(group)
    if other:
        out.extend(sorted(other))
    return out


def _rename(test: GeneratedTest, new: str) -> GeneratedTest:
    code = re.sub(rf"\bdef {re.escape(test.name)}\(", f"def {new}(", test.code, count=1)
    return GeneratedTest(new, code, test.imports, test.target, test.kind, test.line, test.message,
                         parts=test.parts, source=test.source, cls=test.cls)


def rename_clashes(new_tests: Sequence[GeneratedTest], taken: set[str]) -> list[GeneratedTest]:
    """Give every new test a name not in ``taken`` (nor used by an earlier new test)."""
    used = set(taken)
    out: list[GeneratedTest] = []
    for t in new_tests:
        name, n = t.name, 2
        while name in used:
            name = f"{t.name}_{n}"
            n += 1
        used.add(name)
        out.append(t if name == t.name else _rename(t, name))
    return out


def body_key(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """A test function's body as an AST dump: the same test under another name has the same key."""
    return ast.dump(ast.Module(body=fn.body, type_ignores=[]))


def test_bodies(text: str | None) -> set[str]:
    """The body keys of the top-level functions of a test file (empty when it does not parse)."""
    try:
        tree = ast.parse(text or "")
    except SyntaxError:
        return set()
    return {body_key(n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def related_bodies(project: Path, existing: str | None, related: Iterable[str]) -> set[str]:
    """The body keys of ``existing`` and of the module's other test files (paths under ``project``)."""
    bodies = test_bodies(existing)
    for rel in related:
        try:
            bodies |= test_bodies((project / rel).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return bodies


def _header(module: str | None) -> str:
    what = f" for {module}" if module else ""
    return f'"""Tests{what}, generated by `codeloop gen-tests` and verified in the sandbox."""\n'


def merge_tests(
    existing: str | None,
    new_tests: Sequence[GeneratedTest],
    imports: Iterable[str] = (),
    module: str | None = None,
) -> str:
    """The test file's new text: ``existing`` (unchanged) plus the new tests and imports.

    ``imports`` are extra import lines; each test's own ``imports`` are added too.
    Raises :class:`MergeError` when ``existing`` does not parse or the result would not.
    """
    needed = list(imports)
    for t in new_tests:
        needed.extend(t.imports)
    local = [module] if module else []
    if existing is None or not existing.strip():
        tests = rename_clashes(new_tests, set())
        parts = [_header(module), "\n".join(format_imports(needed, local))]
        text = parts[0] + "\n" + parts[1] + "\n" + _appended(tests)
        _check(text, "the generated file")
        return text
    try:
        tree = ast.parse(existing)
    except SyntaxError as exc:
        raise MergeError(f"the existing test file does not parse (line {exc.lineno}: {exc.msg}); fix it first") from None
    plain, froms, names = _bound_by(tree)
    missing: list[str] = []
    for line in dict.fromkeys(needed):
        parsed = _parse_import(line)
        if parsed is None:
            continue
        kind, mod, rest = parsed
        if kind == "import" and (mod, rest) in plain:
            continue
        if kind == "from" and ((mod, rest) in froms):
            continue
        missing.append(line)
    tests = rename_clashes(new_tests, names)
    lines = existing.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if missing:
        block = "\n".join(format_imports(missing, local)) + "\n"
        insert_at = _after_imports(tree, lines)
        lines.insert(insert_at, block)
    text = "".join(lines).rstrip("\n") + "\n" + _appended(tests)
    _check(text, "the merged file")
    return text


def _appended(tests: Sequence[GeneratedTest]) -> str:
    """The tests as text to append: functions, and each ``cls`` once with its methods (at the
    place of its first method)."""
    text = ""
    done: set[str] = set()
    for t in tests:
        if t.cls is None:
            text += "\n\n" + t.code.rstrip("\n") + "\n"
        elif t.cls not in done:
            done.add(t.cls)
            methods = ["\n".join("    " + line if line.strip() else "" for line in m.code.rstrip("\n").split("\n"))
                       for m in tests if m.cls == t.cls]
            text += f"\n\nclass {t.cls}:\n" + "\n\n".join(methods) + "\n"
    return text


def _after_imports(tree: ast.Module, lines: list[str]) -> int:
    """Index in ``lines`` just after the leading import block (docstring, __future__ kept first)."""
    last = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) and last == 0:
            last = node.end_lineno or node.lineno
        else:
            break
    return last


def _check(text: str, what: str) -> None:
    try:
        ast.parse(text)
    except SyntaxError as exc:  # a bug in the renderer: never write it
        raise MergeError(f"{what} would not parse (line {exc.lineno}: {exc.msg}); nothing written") from None


def fingerprint(path: Path) -> str | None:
    """Hash of the file's bytes, or None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def write_merged(path: Path, text: str, expected: str | None) -> None:
    """Write ``text`` to ``path`` atomically, only if the file still has fingerprint ``expected``.

    ``expected`` is :func:`fingerprint` taken when the file was read (None: it did not exist).
    The write is :func:`codeloop.fileio.atomic_write`; the fingerprint is checked again just before the rename.
    """
    if fingerprint(path) != expected:
        raise MergeError(f"{path} changed while tests were being generated; nothing written (run again)")
    path.parent.mkdir(parents=True, exist_ok=True)

    def unchanged() -> None:  # checked again just before the rename: the window is as small as it gets
        if fingerprint(path) != expected:
            raise MergeError(f"{path} changed while tests were being generated; nothing written (run again)")

    atomic_write(path, text, before_replace=unchanged)
