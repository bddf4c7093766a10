"""A real headless Neovim 0.7.2 (Debian's, installed by ./install.sh) uses codeloop as a user would.

Neovim loads codeloop.lua, the config that docs/neovim.md shows (checked below, word for
word), which starts the real `codeloop serve` over stdio; flows.lua drives the editor (the
code action menu, :write, the documented :lua command) and writes what Neovim really holds
(buffer lines, vim.diagnostic, menu titles, the server's answers) as JSON for the asserts.
The model is the fake OpenAI-compatible server, reached through the real openai SDK; the
candidates and tests run in the real sandbox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.fake_openai import FakeOpenAI, Reply
from support.lsp_client import SERVER_ENV, needs_level_a

NVIM = shutil.which("nvim")
HERE = Path(__file__).resolve().parent
CONFIG = HERE / "codeloop.lua"
FLOWS = HERE / "flows.lua"
DOC = HERE.parents[1] / "docs" / "neovim.md"
KEY = "sk-nvim-flows-0123456789abcdefDONOTLEAK"
MODEL = "gpt-4o-mini"  # the model name codeloop.lua's settings give

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (./install.sh installs it)")

STUB = '''def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...
'''
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
WRONG = "```python\ndef double(x: int) -> int:\n    return x * 3\n```"
MODEL_TESTS = "```python\nfrom calc import double\n\ndef test_zero():\n    assert double(0) == 0\n```"
IMPLEMENT_SETTINGS = "[tool.codeloop.generate]\nrepair_rounds = 0\n[tool.codeloop.model]\ncandidates = 2\n"


def run_flow(flow: str, file: Path, tmp_path: Path, fake: FakeOpenAI | None = None, **extra: str) -> dict[str, Any]:
    """Run Neovim headless on ``file`` with codeloop.lua and flows.lua; the flow's report.

    `codeloop` on PATH is this interpreter's (the config names the command as a user
    would); HOME and the XDG directories are under tmp_path, so no user config is read and
    the server's log lands there (shown when a flow fails)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "codeloop"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m codeloop "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    out = tmp_path / f"{flow}.json"
    env = {
        **SERVER_ENV,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "CODELOOP_NVIM_FLOW": flow,
        "CODELOOP_NVIM_FILE": str(file),
        "CODELOOP_NVIM_OUT": str(out),
        **extra,
    }
    if fake is not None:
        env.update(OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=KEY)
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-n", "-i", "NONE", "-c", f"luafile {CONFIG}", "-c", f"luafile {FLOWS}"],
        env=env, cwd=file.parent, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )
    logs = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted((tmp_path / "cache").rglob("*.log")))
    assert out.exists(), f"nvim wrote no report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{logs}"
    report = json.loads(out.read_text(encoding="utf-8"))
    assert "error" not in report, f"{report['error']}\n{json.dumps(report, indent=1)[-6000:]}\n{logs}"
    return report


def results(report: dict[str, Any], command: str) -> list[dict[str, Any]]:
    """The answers Neovim got to ``workspace/executeCommand`` ``command``, in order."""
    return [r for r in report["results"] if r["command"] == command]


def diags(snapshot: dict[str, Any], file: Path, source: str | None = None) -> list[dict[str, Any]]:
    return [d for d in snapshot["diagnostics"] if d["file"] == str(file) and source in (None, d["source"])]


def test_config_in_the_docs_is_the_one_tested():
    snippet = CONFIG.read_text(encoding="utf-8")
    assert f"```lua\n{snippet}```" in DOC.read_text(encoding="utf-8"), "docs/neovim.md must show tests/nvim/codeloop.lua"


def test_menu_offers_codeloop_actions_on_a_stub(tmp_path: Path, fake_openai):
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    source = root / "shapes.py"
    source.write_text('def area(w: float, h: float) -> float:\n    """Area of a rectangle."""\n    ...\n', encoding="utf-8")
    report = run_flow("menu", source, tmp_path, fake_openai)
    (menu,) = report["menus"]
    assert "Implement area" in menu and "Generate tests for area" in menu, menu
    (stub,) = [d for d in diags(report["snapshots"]["opened"], source) if d["code"] == "codeloop.implement"]
    assert stub["line"] == 0 and stub["source"] == "codeloop"


@needs_level_a()
def test_implement_from_the_menu_applies_the_verified_body(tmp_path: Path, fake_openai):
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(IMPLEMENT_SETTINGS, encoding="utf-8")
    source = root / "calc.py"
    source.write_text(STUB, encoding="utf-8")
    fake_openai.add_chat(Reply.text(WRONG, RIGHT), MODEL_TESTS)
    report = run_flow("implement", source, tmp_path, fake_openai)

    (result,) = results(report, "codeloop.implement")
    assert result["result"]["applied"] is True and result["result"]["verified"] is True, result
    title = result["result"]["title"]
    assert title.startswith("Implement double (verified): 1/1 examples, 1/1 model tests"), title
    assert report["labels"] == [f"codeloop: {title}"]  # the applied edit is labelled with its evidence
    assert any(m.startswith("codeloop: Implement double (verified)") for m in report["messages"]), report["messages"]
    text = report["snapshots"]["implemented"]["buffers"][str(source)]
    assert text == STUB.replace("    ...\n", "    return 2 * x\n"), text
    assert source.read_text(encoding="utf-8") == STUB  # in the buffer, not yet written: the server never writes
    chat = fake_openai.requests_to("/chat/completions")
    assert chat and all(r.body["model"] == MODEL for r in chat)  # the settings' model, pushed by on_init
    assert chat[0].headers["authorization"] == f"Bearer {KEY}"


@needs_level_a()
def test_unverified_offer_shows_its_evidence_in_the_menu_and_applies(tmp_path: Path, fake_openai):
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(IMPLEMENT_SETTINGS, encoding="utf-8")
    source = root / "calc.py"
    source.write_text(STUB, encoding="utf-8")
    fake_openai.add_chat(Reply.text(WRONG, WRONG), MODEL_TESTS)
    report = run_flow("offer", source, tmp_path, fake_openai)

    (first,) = results(report, "codeloop.implement")
    assert first["result"]["applied"] is False and first["result"]["verified"] is False, first
    (warning,) = [d for d in diags(report["snapshots"]["unverified"], source) if d["code"] == "codeloop.unverified"]
    assert warning["line"] == 0 and warning["severity"] == 2  # vim.diagnostic.severity.WARN
    assert warning["message"].startswith("no verified implementation: best candidate fails 1/1 examples")
    assert report["snapshots"]["unverified"]["buffers"][str(source)] == STUB  # nothing applied by itself

    menu = report["menus"][1]
    (offer,) = [t for t in menu if t.startswith("Implement double (")]
    assert offer.startswith("Implement double (unverified: 0/1 examples"), menu
    assert not any("(verified)" in t for t in menu), menu
    text = report["snapshots"]["applied"]["buffers"][str(source)]
    assert text == STUB.replace("    ...\n", "    return x * 3\n"), text
    (accepted,) = results(report, "codeloop.offerAccepted")
    assert accepted.get("error") is None and accepted["result"] == {"recorded": True}, accepted  # the reward log knows


CALC = (
    "def clamp(x, lo, hi):\n"
    "    if x > hi:\n"
    "        raise ValueError(f'{x} is above {hi}')\n"
    "    return max(lo, x)\n"
)
CALC_FIXED = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
CALC_TESTS = (
    "from calc import clamp\n\n\n"
    "def test_low():\n    assert clamp(-1, 0, 10) == 0\n\n\n"
    "def test_high():\n    assert clamp(11, 0, 10) == 10\n"  # line 9 (1-based)
)


@needs_level_a()
def test_failing_test_shows_in_both_files_and_clears_when_the_fix_is_saved(tmp_path: Path, fake_openai):
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    source = root / "calc.py"
    source.write_text(CALC, encoding="utf-8")
    test_file = root / "tests" / "test_calc.py"
    test_file.write_text(CALC_TESTS, encoding="utf-8")
    report = run_flow("run_tests", source, tmp_path, fake_openai, CODELOOP_NVIM_FIXED=CALC_FIXED)

    (run,) = results(report, "codeloop.runTests")
    assert (run["result"]["passed"], run["result"]["failed"]) == (1, 1), run
    failing = report["snapshots"]["failing"]
    (failure,) = diags(failing, test_file, "codeloop-tests")
    assert failure["code"] == "codeloop.testFailed" and failure["severity"] == 1  # ERROR
    assert failure["line"] == 8 and "test_high" in failure["message"] and "11 is above 10" in failure["message"]
    assert failure["related"] == [{"file": str(source), "line": 2}]  # the raise
    (raised,) = diags(failing, source, "codeloop-tests")
    assert raised["code"] == "codeloop.raisedHere" and raised["line"] == 2 and raised["severity"] == 3  # INFO
    assert raised["related"] == [{"file": str(test_file), "line": 8}]

    fixed = report["snapshots"]["fixed"]
    assert not [d for d in fixed["diagnostics"] if d["source"] == "codeloop-tests"], fixed["diagnostics"]
    assert source.read_text(encoding="utf-8") == CALC_FIXED  # :write saved the fix
    # the clearing came from the run that the save started (run on save, from the settings)
    ends = [p for p in report["progress"] if p["token"].startswith("codeloop-tests-") and p["kind"] == "end"]
    assert len(ends) == 2 and re.match(r"2 passed\b", ends[-1]["message"]), report["progress"]


GEN_SOURCE = '''"""Small numeric helpers."""


def clamp(x: int, lo: int, hi: int) -> int:
    """x limited to lo..hi."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
'''
USER_TESTS = "from calc import clamp\n\n\ndef test_clamp_keeps_a_value_inside():\n    assert clamp(1, 0, 3) == 1\n"
OTHER_TESTS = "def test_other():\n    assert True\n"
GEN_ANSWER = '''Here are the tests.

```python
from calc import clamp


def test_clamp_below_the_range():
    assert clamp(-1, 0, 3) == 0


def test_clamp_above_the_range():
    assert clamp(5, 0, 3) == 3


def test_clamp_wrong_expectation():
    assert clamp(2, 0, 3) == 5
```
'''


@needs_level_a()
def test_generate_tests_lands_in_the_function_test_file(tmp_path: Path, fake_openai):
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.codeloop.generate]\nbudget = 60\n',
                                         encoding="utf-8")
    source = root / "calc.py"
    source.write_text(GEN_SOURCE, encoding="utf-8")
    test_file = root / "tests" / "test_calc.py"
    test_file.write_text(USER_TESTS, encoding="utf-8")
    (root / "tests" / "test_other.py").write_text(OTHER_TESTS, encoding="utf-8")
    fake_openai.add_chat(GEN_ANSWER)
    report = run_flow("gen_tests", source, tmp_path, fake_openai, CODELOOP_NVIM_LINE="3")

    (result,) = results(report, "codeloop.generateTests")
    answer = result["result"]
    assert answer["applied"] is True and answer["testsAdded"] == 2, answer
    assert re.match(r"Add 2 tests: branch coverage \d+% -> \d+%", answer["title"]), answer["title"]
    assert report["labels"] == [answer["title"]]
    buffers = report["snapshots"]["generated"]["buffers"]
    assert buffers[str(source)] == GEN_SOURCE  # the code under test is untouched
    merged = buffers[str(test_file)]  # Neovim loaded the function's test file and applied the edit there
    assert merged.startswith(USER_TESTS.rstrip("\n")), merged  # the user's test kept, first
    for name in ("test_clamp_below_the_range", "test_clamp_above_the_range"):
        assert f"def {name}():" in merged
    assert "test_clamp_wrong_expectation" not in merged  # failed in the sandbox: dropped
    assert set(buffers) == {str(source), str(test_file)}, list(buffers)  # no other file got tests
    # :wall wrote it; the written file passes
    assert test_file.read_text(encoding="utf-8") == merged
    assert (root / "tests" / "test_other.py").read_text(encoding="utf-8") == OTHER_TESTS
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                         cwd=root, capture_output=True, text=True, timeout=300,
                         env={**SERVER_ENV, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(root)})
    assert run.returncode == 0 and "3 passed" in run.stdout, run.stdout + run.stderr
