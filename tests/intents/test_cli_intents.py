"""`codeloop intents` and `codeloop check` through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"


def codeloop(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codeloop", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_intents_on_demo_lists_every_kind():
    res = codeloop("intents", "examples/demo")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    geometry = "examples/demo/shapes/geometry.py"
    assert all(line.startswith("examples/demo/") for line in lines)
    text = "\n".join(lines)
    assert f"{geometry}:47:1: implement: circle_area: stub to implement" in text
    assert f"{geometry}:84:5: implement: Rectangle.intersection:" in text
    assert f"{geometry}:58:1: from_comment: hypotenuse:" in text
    assert f"{geometry}:81:9: todo: TODO: cache the diagonal" in text
    assert f"{geometry}:25:1: generate_tests: clamp: generate tests for function clamp (untested)" in text
    assert f"{geometry}:9:1: generate_tests: rectangle_area: generate tests for function rectangle_area" in text
    assert "rectangle_area (untested)" not in text
    assert "tests/test_geometry.py" not in text  # no test generation for tests


def test_intents_json():
    res = codeloop("intents", "--json", "examples/demo/shapes/geometry.py")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    stub = next(d for d in data if d["kind"] == "implement" and d["name"] == "circle_area")
    assert stub["line"] == 47 and stub["col"] == 1
    assert stub["signature"] == "def circle_area(radius: float) -> float"
    assert [e["call"] for e in stub["examples"]] == ["circle_area(1.0)", "circle_area(0)"]
    assert stub["span"]["start_line"] == 46
    untested = {d["name"] for d in data if d["kind"] == "generate_tests" and d["untested"]}
    assert "clamp" in untested and "perimeter" not in untested


def test_check_demo_is_clean_and_reports_info():
    res = codeloop("check", "examples/demo")
    assert res.returncode == 0, res.stderr
    assert ": info: implement: circle_area:" in res.stdout
    assert ": error:" not in res.stdout


def test_check_syntax_error_exits_1(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    pass\n\ndef stub():\n    ...\n", encoding="utf-8")
    res = codeloop("check", str(bad))
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert f"{bad}:1:7: error: syntax error: missing ')'" in lines
    assert any(": info: implement: stub:" in line for line in lines)


def _assert_one_line_error(res: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("codeloop: error: ")
    assert fragment in lines[0]
    assert res.stdout == ""


@pytest.mark.parametrize("command", ["intents", "check"])
def test_bad_input_gives_one_line(tmp_path, command):
    _assert_one_line_error(codeloop(command, str(tmp_path / "missing.py")), "no such file or directory")

    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "notes.txt").write_text("hi", encoding="utf-8")
    _assert_one_line_error(codeloop(command, str(empty)), "no Python files in directory")

    binary = tmp_path / "bin" / "blob.py"
    binary.parent.mkdir()
    binary.write_bytes(b"\x7fELF\x02\x01\x00\x00")
    _assert_one_line_error(codeloop(command, str(binary)), "binary")

    latin = tmp_path / "latin" / "old.py"
    latin.parent.mkdir()
    latin.write_bytes(b"name = 'caf\xe9'\n")
    _assert_one_line_error(codeloop(command, str(latin.parent)), "cannot decode")
    _assert_one_line_error(codeloop(command, str(latin)), "(byte 0xe9 at offset 11)")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_gives_one_line(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n", encoding="utf-8")
    secret.chmod(0)
    try:
        _assert_one_line_error(codeloop("intents", str(secret)), "permission denied")
        locked = tmp_path / "locked"
        locked.mkdir()
        (locked / "a.py").write_text("x = 1\n", encoding="utf-8")
        locked.chmod(0)
        try:
            _assert_one_line_error(codeloop("check", str(locked)), "permission denied")
        finally:
            locked.chmod(0o755)
    finally:
        secret.chmod(0o644)


def test_directory_walk_skips_venv_and_build(tmp_path):
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("def hidden():\n    ...\n", encoding="utf-8")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "y.py").write_bytes(b"\xff")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("def shown():\n    ...\n", encoding="utf-8")
    res = codeloop("intents", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "shown" in res.stdout and "hidden" not in res.stdout
