"""The implement service without LSP or CLI: the fake OpenAI server, the real sandbox and
a real reward log (under XDG_DATA_HOME, opened by the service itself)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codeloop.config import GenerateSettings, ModelSettings, SandboxSettings, Settings
from codeloop.job import Job
from codeloop.learn import RewardLog
from codeloop.learn.log import DisabledLog
from codeloop.services.implement import (
    ImplementRequest,
    NoIntentError,
    check,
    implement,
    record_acceptance,
)
from support.fake_openai import Reply

KEY = "sk-service-test-0123456789abcdef"

STUB = '''"""Arithmetic."""


def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...


LIMIT = 10
'''
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
WRONG = "```python\ndef double(x: int) -> int:\n    return x * 3\n```"  # fails the example
TESTS = "```python\nfrom calc import double\n\ndef test_zero():\n    assert double(0) == 0\n```"
DEF_LINE = 3  # 0-based line of ``def double``


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


@pytest.fixture
def project(make_project):
    return make_project("proj", {"pyproject.toml": "[project]\nname = 'calc'\n", "calc.py": STUB})


def settings_for(fake, **model) -> Settings:
    return Settings(model=ModelSettings(base_url=fake.base_url, name="fake-model", candidates=2, timeout=10.0,
                                        max_retries=0, **model),
                    generate=GenerateSettings(repair_rounds=0), sandbox=SandboxSettings(allow_levels=("A", "B")))


def request_for(project, settings, line=DEF_LINE, **kw) -> ImplementRequest:
    path = project / "calc.py"
    return ImplementRequest(path=str(path), document_text=path.read_text(), workspace=str(project),
                            settings=settings, line=line, **kw)


def reward_rows(tmp_path):
    with RewardLog(tmp_path / "data" / "codeloop" / "rewards.sqlite3", readonly=True) as log:
        return list(log.rows())


@pytest.mark.usefixtures("bwrap_sandbox")
def test_a_stub_is_implemented_and_verified(fake_openai, project, tmp_path):
    fake_openai.add_chat(Reply.text(WRONG, RIGHT), TESTS)
    reports: list[tuple[str, float]] = []
    outcome = implement(request_for(project, settings_for(fake_openai)), Job(lambda m, f: reports.append((m, f))))
    try:
        assert outcome.verified and outcome.error is None and outcome.log_warning is None
        assert outcome.intent is not None and outcome.intent.name == "double"
        assert outcome.title.startswith("Implement double (verified): 1/1 examples, 1/1 model tests")
        assert "    return 2 * x\n" in outcome.new_text and "LIMIT = 10" in outcome.new_text
        assert (project / "calc.py").read_text() == STUB  # the service writes nothing
        edit = outcome.edit()
        assert edit is not None and edit.new_text == "    return 2 * x\n"
        assert reports[-1] == ("done", 1.0)
    finally:
        outcome.close()
    assert [r.verified for r in reward_rows(tmp_path)] == [False, True]


@pytest.mark.usefixtures("bwrap_sandbox")
def test_acceptance_is_recorded_in_the_reward_log(fake_openai, project, tmp_path):
    fake_openai.add_chat(Reply.text(RIGHT, WRONG), TESTS)
    outcome = implement(request_for(project, settings_for(fake_openai)), Job())
    try:
        assert outcome.verified and outcome.best is not None and outcome.best.log_id
        assert record_acceptance(outcome, True) is None
    finally:
        outcome.close()
    rows = reward_rows(tmp_path)
    assert [(r.verified, r.accepted) for r in rows] == [(True, True), (False, None)]


@pytest.mark.usefixtures("bwrap_sandbox")
def test_a_log_the_caller_owns_is_used_and_left_open(fake_openai, project, tmp_path):
    fake_openai.add_chat(Reply.text(RIGHT, WRONG), TESTS)
    with RewardLog(tmp_path / "mine.sqlite3") as log:
        outcome = implement(request_for(project, settings_for(fake_openai), log=log), Job())
        outcome.close()  # not the service's: stays open
        assert record_acceptance(outcome, False) is None
        assert [(r.verified, r.accepted) for r in log.rows()] == [(True, False), (False, None)]


@pytest.mark.usefixtures("bwrap_sandbox")
def test_learning_off_records_nothing(fake_openai, project, tmp_path):
    fake_openai.add_chat(Reply.text(RIGHT, WRONG), TESTS)
    outcome = implement(request_for(project, settings_for(fake_openai), learn=False), Job())
    assert isinstance(outcome.reward_log, DisabledLog)
    assert record_acceptance(outcome, True) is None
    outcome.close()
    assert not (tmp_path / "data" / "codeloop" / "rewards.sqlite3").exists()


def test_no_intent_at_the_line(fake_openai, project):
    with pytest.raises(NoIntentError, match="no stub or describing comment at line 13"):
        implement(request_for(project, settings_for(fake_openai), line=12), Job())  # LIMIT = 10
    assert fake_openai.requests_to("/chat/completions") == []


def test_model_not_configured_is_an_outcome(project, monkeypatch):
    monkeypatch.delenv("CODELOOP_MODEL", raising=False)
    outcome = implement(request_for(project, Settings()), Job())
    assert outcome.error_kind == "not_configured" and outcome.error and outcome.best is None
    assert not outcome.verified and outcome.new_text is None
    assert outcome.intent is not None and outcome.intent.name == "double"


def test_check_finds_the_smallest_intent_and_needs_no_model_call(fake_openai, project):
    checked = check(request_for(project, settings_for(fake_openai), line=DEF_LINE + 3))  # a docstring line
    assert isinstance(checked, ImplementRequest) and checked.intent is not None
    assert checked.intent.name == "double" and checked.intent.kind == "implement"
    assert fake_openai.requests_to("/chat/completions") == []



# -- evidence levels (issue 12) ----------------------------------------------------------

PLUS2 = "```python\ndef double(x: int) -> int:\n    return x + 2\n```"  # passes double(2) == 4 too


@pytest.mark.usefixtures("bwrap_sandbox")
def test_two_behaviours_passing_the_examples_are_ambiguous(fake_openai, project):
    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS)
    settings = settings_for(fake_openai)
    settings = replace(settings, generate=replace(settings.generate, extra_samples=0))
    outcome = implement(request_for(project, settings, learn=False), Job())
    outcome.close()
    assert outcome.level == "ambiguous" and not outcome.verified
    assert outcome.title == "Implement double (ambiguous: 2 behaviours pass your checks; 1, 1 candidates)"
    first, second = outcome.behaviours
    assert (first.ids, second.ids) == (("c2",), ("c1",))  # 2 * x passes the model's test: it ranks first
    assert outcome.disagreement_lines()[0] == "double(3): 6 (1 candidate) vs 5 (1)"
    assert outcome.pick(2).id == "c1" and "return x + 2" in outcome.pick(2).function
    assert outcome.pick_cases(1)[0] == ("double(3)", "6")
    assert outcome.behaviour_title(1) == "Implement double as behaviour 1: double(3) -> 6 (1 candidate)"
    with pytest.raises(ValueError, match="there are 2 behaviours; 3 is not one of them"):
        outcome.pick(3)
    assert len(fake_openai.requests_to("/chat/completions")) == 2  # no extra samples, no repair


@pytest.mark.usefixtures("bwrap_sandbox")
def test_more_samples_settle_close_behaviours(fake_openai, project):
    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS, Reply.text(RIGHT, RIGHT))
    outcome = implement(request_for(project, settings_for(fake_openai), learn=False), Job())
    outcome.close()
    assert [r.body.get("n", 1) for r in fake_openai.requests_to("/chat/completions")] == [2, 1, 2]
    assert outcome.level == "verified" and outcome.best.id == "c2"
    assert [b.ids for b in outcome.behaviours] == [("c2", "x1", "x2"), ("c1",)]
    assert outcome.title.endswith("; 3/4 passing candidates agree")


NO_EXAMPLES = '''def double(x: int) -> int:
    """Twice x."""
    ...
'''
NOISY_TESTS = """```python
from calc import double

def test_zero():
    assert double(0) == 0

def test_wrong():
    assert double(1) == 5

def test_placeholder():
    assert double(____) == 8
```"""


@pytest.mark.usefixtures("bwrap_sandbox")
def test_no_examples_is_plausible_and_noisy_model_tests_are_dropped(fake_openai, make_project):
    project = make_project("plain", {"pyproject.toml": "[project]\nname = 'calc'\n", "calc.py": NO_EXAMPLES})
    fake_openai.add_chat(Reply.text(RIGHT, PLUS2, RIGHT), NOISY_TESTS)
    settings = replace(settings_for(fake_openai), model=replace(settings_for(fake_openai).model, candidates=3))
    outcome = implement(request_for(project, settings, line=0, learn=False), Job())
    outcome.close()
    assert outcome.level == "plausible" and not outcome.verified and outcome.best.id == "c1"
    assert outcome.title == "Implement double (plausible: 2/3 candidates agree, 1/1 model tests; no examples to check)"
    assert outcome.verdict.dropped == ("generated::test_placeholder", "generated::test_wrong")
    assert all("generated::test_placeholder" in c.precall for c in outcome.candidates)
    assert not any("generated::test_wrong" in c.precall for c in outcome.candidates)  # it called double: a vote
    assert len(fake_openai.requests_to("/chat/completions")) == 2  # a clear winner: no extra samples
