"""The workspace's existing tests of a function: the ones whose body refers to it."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from codeloop.verify.candidates import GENERATED_TESTS_FILE, OUTPUTS_FILE

MAX_EXISTING_TESTS = 50


def existing_tests(workspace: Path, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(node ids, test files relative to ``workspace``) of the workspace's tests whose body
    refers to ``name`` (at most MAX_EXISTING_TESTS; codeloop's own generated files skipped).
    Public for other checks of a function against its existing tests (inline completions)."""
    try:
        from codeloop.workspace.testindex import TestIndex

        index = TestIndex(workspace)
        files = [f for f in index.test_files() if name in index.names_in(f)]
    except Exception:  # noqa: BLE001 - the index is best effort here
        return (), ()
    ids: list[str] = []
    used: list[str] = []
    skip = {GENERATED_TESTS_FILE, OUTPUTS_FILE, "test_codeloop_examples.py"}
    for file in files:
        if os.path.basename(file) in skip:
            continue
        try:
            tree = ast.parse(Path(file).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        rel = os.path.relpath(file, workspace)

        def mentions(node: ast.AST) -> bool:
            return any(isinstance(n, ast.Name) and n.id == name or isinstance(n, ast.Attribute) and n.attr == name
                       for n in ast.walk(node))

        found = False
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test") and mentions(node):
                ids.append(f"{rel}::{node.name}")
                found = True
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for m in node.body:
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test") and mentions(m):
                        ids.append(f"{rel}::{node.name}::{m.name}")
                        found = True
        if found:
            used.append(rel)
        if len(ids) >= MAX_EXISTING_TESTS:
            break
    return tuple(ids[:MAX_EXISTING_TESTS]), tuple(used)
