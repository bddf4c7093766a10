"""Helpers of the gen-tests tests: running `codeloop gen-tests` as a user does, the tests it
wrote run in the sandbox, and the LLM engine's fake-model answers and prompts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from codeloop_sandbox import Policy, probe, run_pytest

KEY = "sk-gentests-secret-0123456789abcdefXYZ"

HANG_GUARD = 180  # seconds: only to turn a hang into a failure, not a speed requirement


def require_level_a() -> None:
    """Skip the calling test without a level-A sandbox (every run of generated tests needs it)."""
    status = probe()
    if status.level != "A":
        pytest.skip(f"no level-A sandbox here: {status.detail}")


def gen_tests(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``codeloop gen-tests ARGS`` in ``cwd`` with no model configured (the offline engine)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CODELOOP_MODEL",)}
    return subprocess.run([sys.executable, "-m", "codeloop", "gen-tests", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD)


class Generated(NamedTuple):
    proc: subprocess.CompletedProcess
    text: str  # the test file it wrote
    data: Any  # the --json report (None without --json)


def generate(project: Path, module: str, source: str, *args: str) -> Generated:
    """Write ``module``.py with ``source`` into ``project``, run ``codeloop gen-tests module
    ARGS`` there (it must succeed) and read the test file it wrote."""
    (project / f"{module}.py").write_text(source)
    proc = gen_tests(module, *args, cwd=project)
    assert proc.returncode == 0, proc.stderr
    text = (project / "tests" / f"test_{module}.py").read_text()
    return Generated(proc, text, json.loads(proc.stdout) if "--json" in args else None)


def run_generated(project: Path, rel: str):
    """The pytest result of the test file ``rel`` of ``project``, run in the sandbox."""
    policy = Policy(timeout=120, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(project)})
    return run_pytest(project, args=["-q", "-p", "no:cacheprovider", rel], policy=policy)


def set_order_under(seed: int, items: list[str]) -> list[str]:
    """The iteration order of a set of strings under PYTHONHASHSEED=seed (fresh interpreter)."""
    code = f"print(list({set(items)!r}))"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONHASHSEED": str(seed)},
                         capture_output=True, text=True, check=True).stdout
    return eval(out)  # noqa: S307 - a list of the literals above


def fence(code: str) -> str:
    return f"Here are the tests.\n\n```python\n{code.strip()}\n```\n"


def prompts(fake) -> list[str]:
    """The user messages the fake server received, in order."""
    return [m["content"] for r in fake.requests_to("/chat/completions") for m in r.body["messages"]
            if m["role"] == "user"]


def expanded_statements(text: str) -> list[str]:
    """Every statement of every test in a generated file, with the parameters of a
    ``pytest.mark.parametrize`` test put in once per case (``ast.unparse`` spelling): so a
    check for ``assert suffix(12) == 'th'`` holds whether that case is its own test or a row."""
    import ast

    out: list[str] = []
    for fn in ast.parse(text).body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        rows: list[dict[str, ast.expr]] = [{}]
        for dec in fn.decorator_list:
            if isinstance(dec, ast.Call) and ast.unparse(dec.func) == "pytest.mark.parametrize":
                names_node, table = dec.args[0], dec.args[1]
                names = ([e.value for e in names_node.elts] if isinstance(names_node, (ast.Tuple, ast.List))
                         else [n.strip() for n in names_node.value.split(",")])
                rows = []
                for row in table.elts:
                    # pytest.param(...); else one name: the row is the value; several: a tuple of them
                    values = row.args if isinstance(row, ast.Call) else row.elts if len(names) > 1 else [row]
                    rows.append(dict(zip(names, values, strict=True)))

        class _Put(ast.NodeTransformer):
            def __init__(self, row: dict[str, ast.expr]) -> None:
                self.row = row

            def visit_Name(self, node: ast.Name) -> ast.AST:
                return self.row.get(node.id, node)

        for row in rows:
            for stmt in fn.body:
                copy = ast.parse(ast.unparse(stmt)).body[0]
                out.append(ast.unparse(_Put(row).visit(copy)))
    return out
