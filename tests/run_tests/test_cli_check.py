"""`codeloop check --run-tests PATH`: test failures in the file:line:col format, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("needs_bwrap")


@pytest.fixture
def needs_bwrap():
    from codeloop_sandbox import probe

    st = probe()
    if st.level not in ("A",):
        pytest.skip(f"bubblewrap cannot run at level A here: {st.detail} (fix: {st.fix})")


def _check(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codeloop", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_check_run_tests(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / "shapes.py").write_text(
        '"""Shapes."""\n\n\ndef area(w, h):\n    """Area."""\n    if w < 0:\n        raise ValueError("negative width")\n    return w * h\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shapes.py").write_text(
        "from shapes import area\n\n\ndef test_area():\n    assert area(2, 3) == 6\n\n\n"
        "def test_negative():\n    assert area(-1, 3) == 0\n"
    )
    proc = _check(tmp_path, "--run-tests", "shapes.py")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "tests/test_shapes.py:9:1: error: tests/test_shapes.py::test_negative failed: ValueError: negative width (see shapes.py:7)" in lines
    assert any(line.startswith("shapes.py:7:1: info: test_negative failed here: ValueError: negative width") for line in lines)

    (tmp_path / "shapes.py").write_text('"""Shapes."""\n\n\ndef area(w, h):\n    """Area."""\n    return max(w, 0) * h\n')
    proc = _check(tmp_path, "--run-tests", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stdout


def test_check_run_tests_without_sandbox(tmp_path: Path):
    (tmp_path / "test_x.py").write_text("def test_x():\n    assert True\n")
    proc = _check(tmp_path, "--run-tests", "test_x.py", env={"CODELOOP_SANDBOX_BWRAP": "/nonexistent/bwrap"})
    assert proc.returncode == 126
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert "cannot run tests" in proc.stderr and "bubblewrap" in proc.stderr
