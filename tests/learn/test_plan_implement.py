"""implement follows the plan: the fake OpenAI server (real SDK), the real sandbox and a real log."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.config import GenerateSettings, ModelSettings, Settings
from codeloop.learn import Outcome, RewardLog
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from codeloop.services.implement import implement_intent
from codeloop.workspace.document import Document
from codeloop.workspace.intents import find_intents
from codeloop_sandbox import Policy
from support.fake_openai import Reply

STUB = '''def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    >>> double(-3)
    -6
    """
    ...
'''
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```\n"
WRONG = "```python\ndef double(x: int) -> int:\n    return x + 2\n```\n"
TESTS = "```python\nfrom calc import double\n\n\ndef test_zero():\n    assert double(0) == 0\n```\n"


pytestmark = pytest.mark.usefixtures("bwrap_sandbox")


@pytest.fixture
def ws(make_project):
    return make_project("ws", {"pyproject.toml": "[project]\nname = 'calc'\n", "calc.py": STUB})


def seed(log: RewardLog, ws: Path, strategy: str, verified: bool, count: int) -> None:
    for i in range(count):
        log.record(Outcome(workspace=str(ws), intent_kind="implement", prompt=[{"role": "user", "content": f"old {i}"}],
                           model="fake-model", candidate="def f():\n    return 1\n", verified=verified, strategy=strategy))


def run(fake, ws: Path, log: RewardLog, n: int = 3, rounds: int = 2):
    path = ws / "calc.py"
    text = path.read_text()
    intent = next(i for i in find_intents(Document(path.as_uri(), text)) if i.name == "double" and i.kind == "implement")
    llm = OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake-model", timeout=10, max_retries=0), api_key="sk-x")
    settings = Settings(model=ModelSettings(candidates=n), generate=GenerateSettings(repair_rounds=rounds))
    try:
        return implement_intent(intent, text, ws, llm, Policy(timeout=60, allow_levels=("A", "B")), settings, path=path, log=log)
    finally:
        llm.close()


def sample_sizes(fake) -> list[int]:
    """The ``n`` of each chat request (1 when the request did not set it)."""
    return [int(r.body.get("n", 1)) for r in fake.requests_to("/chat/completions")]


def test_a_run_records_its_strategies_and_the_next_run_spends_fewer_samples(fake_openai, ws, log):
    seed(log, ws, "repair-1", True, 2)  # earlier repairs verified, but too few samples to compare yet
    fake_openai.add_chat(Reply.text(WRONG, WRONG, WRONG), TESTS, RIGHT)
    first = run(fake_openai, ws, log)
    assert first.verified and first.best.origin == "repair-1"
    assert [r.strategy for r in log.rows()][2:] == ["sample", "sample", "sample", "repair-1"]
    assert sample_sizes(fake_openai) == [3, 1, 1]  # 3 samples (configured), tests, one repair
    assert not any(n.startswith("plan:") for n in first.notes)

    # Now samples verify 0/3 and repairs 3/3 here: one sample, then straight to repair.
    fake_openai.requests.clear()
    fake_openai.add_chat(Reply.text(WRONG), TESTS, RIGHT)
    second = run(fake_openai, ws, log)
    assert second.verified and [r.origin for r in second.candidates] == ["sample", "repair-1"]
    assert sample_sizes(fake_openai) == [1, 1, 1]
    assert "plan: 1 sample, 2 repair rounds (workspace evidence" in " ".join(second.notes)


def test_repairs_that_never_verify_are_skipped(fake_openai, ws, log):
    seed(log, ws, "sample", True, 6)
    seed(log, ws, "repair-1", False, 4)
    fake_openai.add_chat(Reply.text(WRONG, WRONG), TESTS, WRONG, WRONG)
    res = run(fake_openai, ws, log, n=2, rounds=2)
    assert not res.verified
    assert sample_sizes(fake_openai) == [2, 1]  # samples and tests; without the plan, two repair requests follow
    assert fake_openai.pending() == 2


def test_an_unreadable_log_falls_back_to_the_configured_budget(fake_openai, ws, tmp_path):
    broken = RewardLog(tmp_path / "closed.sqlite3")
    broken.close()  # every read and write now fails
    fake_openai.add_chat(Reply.text(WRONG, RIGHT), TESTS)
    res = run(fake_openai, ws, broken, n=2)
    assert res.verified and sample_sizes(fake_openai) == [2, 1]
    assert any(n.startswith("reward log:") for n in res.notes)
