"""`codeloop implement` against an endpoint that accepts the connection and never answers:
a subprocess, as a user runs it; exit 1 with one clear line once ``model.timeout`` is spent
(retries configured, but a timed-out request is never retried)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.fake_openai import Reply

TIMEOUT = 2
HANG_GUARD = TIMEOUT * 3 + 30  # only turns a hang into a failure (start-up included), not a speed check
STUB = 'def double(x: int) -> int:\n    """Twice x.\n\n    >>> double(2)\n    4\n    """\n    ...\n'


def implement(fake, project: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CODELOOP_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               OPENAI_API_KEY="sk-cli-deadline-0123456789abcdef")
    return subprocess.run([sys.executable, "-m", "codeloop", "implement", f"{project / 'calc.py'}:1",
                           "--base-url", fake.base_url, "--model", "fake-model", "--no-learn"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=HANG_GUARD)


def make(make_project):
    return make_project("proj", {
        "pyproject.toml": f"[tool.codeloop.model]\ntimeout = {TIMEOUT}\nmax_retries = 3\n",
        "calc.py": STUB})


def _problems(stderr: str) -> list[str]:
    """stderr without the progress lines (piped: ``codeloop: implement: <step>``)."""
    return [ln for ln in stderr.strip().splitlines() if not ln.startswith("codeloop: implement: ")]


def test_a_silent_endpoint_is_one_line_and_exit_1(fake_openai, make_project, tmp_path):
    project = make(make_project)
    fake_openai.hang_connections(10)
    proc = implement(fake_openai, project, tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = _problems(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("codeloop: error: the model endpoint ")
    assert f"did not answer within {TIMEOUT} s" in lines[0] and "codeloop.model.timeout" in lines[0]
    assert fake_openai.connections == 1  # the timed-out request was not retried
    assert (project / "calc.py").read_text() == STUB


def test_a_stall_after_the_request_is_one_line_and_exit_1(fake_openai, make_project, tmp_path):
    project = make(make_project)
    fake_openai.add_chat(*[Reply.hang(60)] * 4)
    proc = implement(fake_openai, project, tmp_path)
    assert proc.returncode == 1 and len(_problems(proc.stderr)) == 1, proc.stderr
    assert "did not answer within" in proc.stderr
    assert len(fake_openai.requests_to("/chat/completions")) == 1
