"""Where generated tests go and which tests a target already has (static, no sandbox)."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from codeloop.generate.targets import Target, TargetError, resolve_target
from codeloop.generate.tests_model import GenerationError
from codeloop.workspace.testfiles import TEST_DIR_NAMES, is_test_file

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".codeloop-testgen", "site-packages"}


def resolve(target: str, project: Path | None) -> Target:
    """:func:`resolve_target` with its bad-input error as a :class:`GenerationError`."""
    try:
        return resolve_target(target, project)
    except TargetError as exc:
        raise GenerationError(str(exc)) from None


def default_test_file(target: Target, out_dir: Path | None = None) -> Path:
    """``--out DIR`` or the project's tests folder (``tests/`` when there is none)."""
    name = f"test_{target.short_name}.py" if target.short_name != "__init__" else "test_package.py"
    if out_dir is not None:
        return out_dir.resolve() / name
    for candidate in TEST_DIR_NAMES:
        folder = target.project / candidate
        if folder.is_dir():
            return folder / name
    return target.project / "tests" / name


def related_test_files(target: Target, exclude: Path | None = None, limit: int = 20) -> list[Path]:
    """Existing test files of the project that import the target module (static grep)."""
    mod = re.escape(target.module)
    parent, _, leaf = target.module.rpartition(".")
    patterns = [rf"^\s*import\s+{mod}\b", rf"^\s*from\s+{mod}\s+import\b"]
    if parent:
        patterns.append(rf"^\s*from\s+{re.escape(parent)}\s+import\s+.*\b{re.escape(leaf)}\b")
    rx = re.compile("|".join(patterns), re.M)
    found: list[Path] = []
    for root, dirs, files in os.walk(target.project):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for f in sorted(files):
            if not is_test_file(f):
                continue
            p = Path(root) / f
            if exclude is not None and p.resolve() == exclude.resolve():
                continue
            try:
                if rx.search(p.read_text(encoding="utf-8", errors="replace")):
                    found.append(p)
            except OSError:
                continue
            if len(found) >= limit:
                return found
    return found


def rel_path(path: Path, project: Path) -> str | None:
    """``path`` relative to ``project``; None when it is outside."""
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return None


def test_names(text: str | None) -> set[str]:
    """Top-level function and class names of a test file's text (names already taken)."""
    if not text:
        return set()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def test_file_and_related(tgt: Target, out_dir: Path | None) -> tuple[Path, str | None, list[str]]:
    """The test file to merge into, its current text (None: new) and related tests (relative paths)."""
    test_file = default_test_file(tgt, out_dir)
    existing = test_file.read_text(encoding="utf-8") if test_file.is_file() else None
    related = related_test_files(tgt, exclude=test_file)
    if existing is not None:
        related.append(test_file)
    return test_file, existing, [r for r in (rel_path(p, tgt.project) for p in related) if r]


def rel_test_path(tgt: Target, test_file: Path) -> str:
    """The test file's path inside the project (or in codeloop's scratch folder when outside)."""
    return rel_path(test_file, tgt.project) or f".codeloop-testgen/{test_file.name}"


# Not tests themselves, despite their names.
test_names.__test__ = False  # type: ignore[attr-defined]
test_file_and_related.__test__ = False  # type: ignore[attr-defined]
