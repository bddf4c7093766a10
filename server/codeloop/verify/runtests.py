"""Select a workspace's tests and run them in the sandbox (core, no LSP).

``select_tests`` picks what to run: a test id, a test file, or (nothing given) the tests
affected by the current file, found through imports (a test that imports the module, or a
module that imports it, up to a few levels). ``run_tests`` runs them with
``codeloop_sandbox.run_pytest`` (branch coverage on) and returns a :class:`TestRunReport`;
:mod:`codeloop.verify.run_summary` turns that into findings (the one place that does).
"""

from __future__ import annotations

import ast
import fnmatch
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codeloop_sandbox import Policy, PytestResult, WarmPool, run_pytest

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox",
             "node_modules", ".venv", "venv", "env", "build", "dist", ".eggs"}
TEST_PATTERNS = ("test_*.py", "*_test.py")
MAX_FILES = 5000


@dataclass
class TestRunReport:
    """What ran and pytest's raw result; :func:`codeloop.verify.run_summary.summarize` turns
    it into counts and findings."""

    __test__ = False

    selected: list[str]
    pytest: PytestResult | None
    note: str | None = None  # e.g. "no tests import pkg/mod.py"

    @property
    def ok(self) -> bool:
        return self.pytest is not None and self.pytest.passed


def is_test_file(path: str, patterns: Sequence[str] = TEST_PATTERNS) -> bool:
    base = os.path.basename(path)
    return base.endswith(".py") and any(fnmatch.fnmatch(base, p) for p in patterns)


def _python_files(root: str) -> list[str]:
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
                             and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg")))
        files.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
        if len(files) >= MAX_FILES:
            break
    return files


def module_names(root: str, path: str) -> set[str]:
    """Dotted names a module at ``path`` may be imported as (every dotted suffix)."""
    rel = os.path.relpath(os.path.abspath(path), root)
    parts = rel[:-3].split(os.sep) if rel.endswith(".py") else rel.split(os.sep)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts)) if parts[i:]}


def imported_names(path: str, root: str) -> set[str]:
    """Modules (and module.attr candidates) a file imports; relative imports resolved."""
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return set()
    own = sorted(module_names(root, path), key=len, reverse=True)
    package = own[0].rsplit(".", 1)[0] if own and "." in own[0] else ""
    if os.path.basename(path) == "__init__.py" and own:
        package = own[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg_parts = package.split(".") if package else []
                up = pkg_parts[: len(pkg_parts) - (node.level - 1)] if node.level - 1 <= len(pkg_parts) else []
                base = ".".join([*up, base] if base else up)
            if base:
                names.add(base)
            for a in node.names:
                names.add(f"{base}.{a.name}" if base else a.name)
    return names


def _imports_any(imported: set[str], targets: set[str]) -> bool:
    for name in imported:
        for t in targets:
            if name == t or name.startswith(t + "."):
                return True
    return False


def affected_tests(root: str, path: str, depth: int = 3) -> list[str]:
    """Test files that import ``path``'s module directly or through other modules."""
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    if is_test_file(path):
        return [path]
    files = _python_files(root)
    imports = {f: imported_names(f, root) for f in files}
    targets = module_names(root, path)
    found: set[str] = set()
    frontier = {path}
    seen = {path}
    for _ in range(depth):
        names = set().union(*(module_names(root, f) for f in frontier)) if frontier else targets
        nxt = set()
        for f in files:
            if f in seen:
                continue
            if _imports_any(imports[f], names):
                if is_test_file(f):
                    found.add(f)
                else:
                    nxt.add(f)
                seen.add(f)
        frontier = nxt
        if not frontier:
            break
    return sorted(found)


def select_tests(root: str, target: str | None = None, current_file: str | None = None) -> list[str]:
    """pytest arguments (paths relative to ``root`` or node ids)."""
    root = os.path.abspath(root)
    if target:
        if "::" in target:
            path, rest = target.split("::", 1)
            p = os.path.abspath(os.path.join(root, path))
            return [os.path.relpath(p, root) + "::" + rest]
        return [os.path.relpath(os.path.abspath(os.path.join(root, target)), root)]
    if current_file:
        return [os.path.relpath(p, root) for p in affected_tests(root, current_file)]
    return []


def run_tests(
    root: str,
    target: str | None = None,
    current_file: str | None = None,
    policy: Policy | None = None,
    cancel: threading.Event | None = None,
    on_output: Callable[[str, str], None] | None = None,
    pool: WarmPool | None = None,
    coverage: bool = True,
) -> TestRunReport:
    """Select and run tests in the sandbox (raises SandboxUnavailable below the allowed level)."""
    root = os.path.abspath(root)
    selected = select_tests(root, target, current_file)
    if not selected:
        what = os.path.relpath(current_file, root) if current_file else "the workspace"
        if target is None and current_file is not None:
            return TestRunReport(selected, None, note=f"no tests import {what}")
    args = ["-q", *selected]
    pres = run_pytest(root, args, policy or Policy(), coverage=coverage, cancel=cancel, on_output=on_output, pool=pool)
    return TestRunReport(selected, pres)
