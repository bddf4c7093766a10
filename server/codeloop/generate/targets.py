"""Resolve a test-generation TARGET to a file, a module name and an optional member.

TARGET is a dotted module importable from the project directory (``pkg.mod``), or a
file path (``src/pkg/mod.py``), optionally followed by ``::function``, ``::Class`` or
``::Class.method``. Resolution is purely static: files are found on disk and parsed
with :mod:`ast`; nothing from the project is imported or executed here (that only
ever happens inside the sandbox).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from codeloop.workspace.modules import ModuleNameError, module_for


class TargetError(ValueError):
    """A TARGET that cannot be resolved (bad input: the CLI exits 2)."""


@dataclass(frozen=True)
class Target:
    """Where the code under test lives."""

    project: Path  # the project directory (workspace copied into the sandbox)
    import_root: Path  # directory that must be on sys.path to import ``module``
    module: str  # dotted module name
    file: Path  # absolute path of the module's source file
    member: str | None = None  # "func", "Class" or "Class.method"; None = whole module
    in_project: bool = True  # False when found on the interpreter's path instead
    context: str = ""  # related definitions from the workspace index, for model prompts (services/gen_context.py)

    @property
    def short_name(self) -> str:
        return self.module.rsplit(".", 1)[-1]


def _split_member(spec: str) -> tuple[str, str | None]:
    if "::" in spec:
        base, _, member = spec.partition("::")
        member = member.strip()
        if not member or not all(part.isidentifier() for part in member.split(".")):
            raise TargetError(f"bad TARGET {spec!r}: after '::' give a function, Class or Class.method name")
        return base, member
    return spec, None


def _looks_like_path(base: str) -> bool:
    return base.endswith(".py") or "/" in base or "\\" in base


def _module_from_file(file: Path, project: Path) -> tuple[Path, str]:
    """(import root, dotted module) for a source file: walk up through packages."""
    try:
        return module_for(file, project, climb_from_outside=True)
    except ModuleNameError as exc:
        raise TargetError(str(exc)) from None


def _find_module_file(root: Path, module: str) -> Path | None:
    rel = Path(*module.split("."))
    # A package directory wins over a same-named module file, as in Python's import system.
    for candidate in (root / rel / "__init__.py", root / rel.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _interpreter_path() -> list[Path]:
    """Directories of the (sandbox's) interpreter path, without the current directory."""
    return [Path(p) for p in sys.path if p and Path(p).is_dir() and not p.endswith(".zip")]


def parse_source(file: Path) -> ast.Module:
    """Parse ``file``; a syntax error or an unreadable file is bad input (exit 2)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read {file}: {exc}") from None
    try:
        return ast.parse(text, filename=str(file))
    except SyntaxError as exc:
        raise TargetError(f"{file}:{exc.lineno or 0}: syntax error: {exc.msg}") from None


def defined_names(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level functions and classes of a module, by name."""
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
    return names


def _check_member(tree: ast.Module, member: str, file: Path) -> None:
    head, _, rest = member.partition(".")
    names = defined_names(tree)
    node = names.get(head)
    if node is None:
        # Assigned names (aliases, curried functions) are accepted too.
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == head for t in stmt.targets):
                return
        raise TargetError(f"{file}: no function or class named {head!r}")
    if rest:
        if not isinstance(node, ast.ClassDef):
            raise TargetError(f"{file}: {head!r} is not a class, so {member!r} cannot be resolved")
        methods = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if rest not in methods:
            raise TargetError(f"{file}: class {head!r} has no method {rest!r}")


def resolve_target(spec: str, project: Path | None = None, cwd: Path | None = None) -> Target:
    """Resolve TARGET statically; raise :class:`TargetError` (exit 2) for bad input."""
    cwd = (cwd or Path.cwd()).resolve()
    base, member = _split_member(spec.strip())
    if not base:
        raise TargetError("empty TARGET: give a dotted module or a .py file")
    if project is not None:
        project = (cwd / project).resolve()
        if not project.is_dir():
            raise TargetError(f"--project {project} is not a directory")
    if _looks_like_path(base):
        file = Path(base)
        candidates = [file] if file.is_absolute() else [cwd / file] + ([project / file] if project else [])
        found = next((c.resolve() for c in candidates if c.is_file()), None)
        if found is None:
            raise TargetError(f"no such file: {base}")
        if found.suffix != ".py":
            raise TargetError(f"{base} is not a Python source file (.py)")
        if project is None:
            root, module = _module_from_file(found, found.parent)
            project = root
        else:
            root, module = _module_from_file(found, project)
        in_project = project in found.parents
        target = Target(project, root, module, found, member, in_project)
    else:
        if not all(part.isidentifier() for part in base.split(".")):
            raise TargetError(f"bad TARGET {base!r}: expected a dotted module name or a .py file")
        project = project or cwd
        found = None
        root = project
        for candidate_root in (project, project / "src", project / "lib"):
            found = _find_module_file(candidate_root, base)
            if found is not None:
                root = candidate_root
                break
        in_project = found is not None
        if found is None:
            for entry in _interpreter_path():
                found = _find_module_file(entry, base)
                if found is not None:
                    root = entry
                    break
        if found is None:
            raise TargetError(f"no module named {base!r} under {project} (nor on the interpreter's path)")
        target = Target(project, root.resolve(), base, found.resolve(), member, in_project)
    tree = parse_source(target.file)
    if member:
        _check_member(tree, member, target.file)
    return target
