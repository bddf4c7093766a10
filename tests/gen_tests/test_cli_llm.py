"""`codeloop gen-tests --engine llm` as a user runs it: a subprocess, the fake server, the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.fake_openai import Reply
from support.gen_tests import KEY, fence

HANG_GUARD = 240  # seconds: only to turn a hang into a failure, not a speed requirement

GOOD = '''
import pytest
from shop.pricing import clamp


def test_clamp_below():
    assert clamp(-5, 0, 3) == 0


def test_clamp_inverted_bounds():
    with pytest.raises(ValueError):
        clamp(0, 2, 1)


def test_clamp_fails():
    assert clamp(0, 0, 3) == 1
'''


def gen_tests(fake, project: Path, *args: str, model: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CODELOOP_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY")}
    if model:
        env.update(CODELOOP_MODEL="fake-model", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=KEY)
    return subprocess.run([sys.executable, "-m", "codeloop", "gen-tests", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD)


@pytest.fixture
def project(shop):
    # Fail fast on faults: no retries, a short per-request timeout.
    (shop / "pyproject.toml").write_text("[tool.codeloop.model]\nmax_retries = 0\ntimeout = 2\n")
    return shop


def test_engine_llm_writes_verified_tests_end_to_end(fake_openai, project):
    fake_openai.add_chat(fence(GOOD))
    proc = gen_tests(fake_openai, project, "shop.pricing::clamp", "--engine", "llm", "--budget", "30")
    assert proc.returncode == 0, proc.stderr
    text = (project / "tests" / "test_pricing.py").read_text()
    assert "def test_clamp_below():" in text and "def test_clamp_inverted_bounds():" in text
    assert "test_clamp_fails" not in text
    out = proc.stdout
    assert "wrote 2 tests to " in out and "branch coverage of shop.pricing: 0% -> " in out
    assert "model round(s) in " in out and "1 dropped as failing or flaky" in out
    assert KEY not in proc.stdout + proc.stderr


def test_a_configured_model_makes_llm_the_default_engine(fake_openai, project):
    fake_openai.add_chat(fence(GOOD))
    proc = gen_tests(fake_openai, project, "shop.pricing::clamp", "--json", "--budget", "30")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["engine"] == "llm" and data["written"] is True
    assert [t["name"] for t in data["tests"]] == ["test_clamp_below", "test_clamp_inverted_bounds"]
    # --engine offline still wins over the configured model: no request reaches it.
    before = len(fake_openai.requests)
    proc = gen_tests(fake_openai, project, "shop.pricing::label", "--engine", "offline", "--json", "--budget", "3")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["engine"] == "offline" and len(fake_openai.requests) == before


@pytest.mark.parametrize("reply, expected", [
    (Reply.error(500, "upstream exploded"), "upstream exploded"),
    (Reply.hang(20), "did not answer within 2 s"),
    (Reply.empty_choices(), "no answer"),
    (None, "held no pytest test functions"),
])
def test_model_faults_exit_1_with_one_line_and_leave_the_test_file_alone(fake_openai, project, reply, expected):
    user = 'from shop.pricing import label\n\n\ndef test_mine():\n    assert label("") == "anonymous"\n'
    (project / "tests").mkdir()
    (project / "tests" / "test_pricing.py").write_text(user)
    if reply is None:
        fake_openai.default_text = "Sorry, I can only chat."
    else:
        fake_openai.add_chat(reply)
    proc = gen_tests(fake_openai, project, "shop.pricing::clamp", "--engine", "llm", "--budget", "20")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    # progress lines (piped: ``codeloop: gen-tests: <step>``) aside, the failure is one line
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("codeloop: gen-tests: ")]
    assert len(lines) == 1 and lines[0].startswith("codeloop: error: ") and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and KEY not in proc.stderr
    assert (project / "tests" / "test_pricing.py").read_text() == user
    assert sorted(p.name for p in (project / "tests").iterdir()) == ["test_pricing.py"]


def test_engine_llm_without_a_model_is_bad_input(fake_openai, project):
    proc = gen_tests(fake_openai, project, "shop.pricing::clamp", "--engine", "llm", model=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "CODELOOP_MODEL" in proc.stderr
    assert fake_openai.requests == []
