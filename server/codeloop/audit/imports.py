"""The import policy: every module a candidate imports must exist.

A module exists when it is in the standard library, installed in the interpreter the
sandbox runs, or part of the project. Anything else is a hallucinated import (the
model invented ``dateutil_plus`` or ``utils.magic``) and rejects the candidate.

Only *names* are looked up: the standard library list, installed distributions'
top-level names (:func:`importlib.metadata.packages_distributions`), the top-level
modules on the interpreter's path, and the project's files. Candidate code is never
imported or run here.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from codeloop.audit.findings import Finding

_SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "build", "dist", "site-packages",
}


@dataclass(frozen=True)
class ModuleIndex:
    """Top-level module names a candidate may import, by where they come from."""

    stdlib: frozenset[str]
    installed: frozenset[str]
    project: frozenset[str] = frozenset()
    # Fall back to importlib.util.find_spec in this process (for the same interpreter).
    use_find_spec: bool = False

    def where(self, module: str) -> str | None:
        """"stdlib", "installed", "project" or None for a top-level module name."""
        top = module.split(".", 1)[0]
        if top in self.stdlib or top == "__future__":
            return "stdlib"
        if top in self.project:
            return "project"
        if top in self.installed:
            return "installed"
        if self.use_find_spec:
            try:
                if importlib.util.find_spec(top) is not None:
                    return "installed"
            except (ImportError, ValueError):
                return None
        return None

    def with_project(self, names: Iterable[str]) -> ModuleIndex:
        return ModuleIndex(self.stdlib, self.installed, self.project | frozenset(names), self.use_find_spec)

    @classmethod
    def for_workspace(cls, root: str | os.PathLike[str] | None, python: str | None = None, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> ModuleIndex:
        """The index for a workspace whose code runs under ``python`` (default: this one)."""
        base = interpreter_modules(python)
        names: set[str] = set()
        if root is not None:
            names |= project_modules(root)
        for folder in extra_dirs:
            names |= _modules_in(Path(folder))
        return base.with_project(names)


def _same_interpreter(python: str | None) -> bool:
    if python is None:
        return True
    try:
        return os.path.samefile(python, sys.executable)
    except OSError:
        return False


_PROBE = (
    "import json, sys, pkgutil, importlib.metadata as m\n"
    "names = set(m.packages_distributions())\n"
    "names.update(i.name for i in pkgutil.iter_modules([p for p in sys.path if p]))\n"
    "names.update(sys.builtin_module_names)\n"
    "print(json.dumps({'stdlib': sorted(sys.stdlib_module_names), 'installed': sorted(names)}))\n"
)


@functools.lru_cache(maxsize=8)
def interpreter_modules(python: str | None = None) -> ModuleIndex:
    """Standard-library and installed top-level names of ``python`` (cached per path).

    For another interpreter, asks it once with ``-I -c`` (isolated mode: no current
    directory or user site on its path); that runs only its own startup, never a
    candidate's code.
    """
    if _same_interpreter(python):
        names = set(_installed_here())
        return ModuleIndex(frozenset(sys.stdlib_module_names), frozenset(names), use_find_spec=True)
    assert python is not None
    try:
        out = subprocess.run(  # noqa: S603 - a fixed probe script, no shell
            [python, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True, env={"PATH": os.environ.get("PATH", "")}
        ).stdout
        data = json.loads(out)
        return ModuleIndex(frozenset(data["stdlib"]), frozenset(data["installed"]))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        # Unknown interpreter: fall back to this one's view rather than rejecting everything.
        return interpreter_modules(None)


def _installed_here() -> set[str]:
    import importlib.metadata as metadata

    names = set(metadata.packages_distributions())
    names.update(info.name for info in pkgutil.iter_modules([p for p in sys.path if p and os.path.isdir(p)]))
    names.update(sys.builtin_module_names)
    return names


def _modules_in(folder: Path) -> set[str]:
    """Top-level importable names directly in ``folder``: ``x.py`` and package dirs."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return names
    for entry in entries:
        name = entry.name
        if name.startswith(".") or name in _SKIP_DIRS:
            continue
        if entry.is_file() and name.endswith((".py", ".pyi")) and name.split(".")[0].isidentifier():
            names.add(name.split(".")[0])
        elif entry.is_dir(follow_symlinks=False) and name.isidentifier():
            try:
                has_py = any(child.name.endswith(".py") for child in os.scandir(entry.path))
            except OSError:
                has_py = False
            if has_py:
                names.add(name)
    return names


def project_modules(root: str | os.PathLike[str]) -> set[str]:
    """Top-level modules of a project: at its root, under ``src/`` and ``lib/``."""
    root = Path(root)
    names = _modules_in(root)
    for sub in ("src", "lib", "python"):
        if (root / sub).is_dir():
            names |= _modules_in(root / sub)
    return names


# ---------------------------------------------------------------- checking code


@dataclass(frozen=True)
class ImportUse:
    module: str
    line: int
    guarded: bool  # inside ``try: ... except ImportError``


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError", "Exception") for t in types)


def imported_modules(tree: ast.AST) -> list[ImportUse]:
    """Absolute imports in ``tree``: ``import x``, ``from x import y``,
    ``__import__("x")`` and ``importlib.import_module("x")`` with a literal name."""
    uses: list[ImportUse] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            protects = any(_catches_import_error(h) for h in node.handlers)  # type: ignore[attr-defined]
            for child in node.body:  # type: ignore[attr-defined]
                visit(child, guarded or protects)
            for part in (node.handlers, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                for child in part:
                    visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            uses.extend(ImportUse(alias.name, node.lineno, guarded) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            uses.append(ImportUse(node.module, node.lineno, guarded))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            dynamic = (isinstance(func, ast.Name) and func.id == "__import__") or (
                isinstance(func, ast.Attribute) and func.attr == "import_module"
            )
            if dynamic and not node.args[0].value.startswith("."):
                uses.append(ImportUse(node.args[0].value, node.lineno, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return uses


def import_findings(tree: ast.AST, index: ModuleIndex) -> list[Finding]:
    """One finding per import of an unknown module (blocking unless guarded)."""
    findings: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    for use in imported_modules(tree):
        top = use.module.split(".", 1)[0]
        if (top, use.line) in seen or index.where(use.module) is not None:
            continue
        seen.add((top, use.line))
        if use.guarded:
            findings.append(
                Finding("import", "low", use.line, f"imports unknown module '{top}' inside a try/except ImportError")
            )
        else:
            findings.append(
                Finding(
                    "import",
                    "high",
                    use.line,
                    f"imports unknown module '{top}' (not stdlib, not installed, not in the project)",
                    blocking=True,
                )
            )
    return findings
