"""The implement pipeline end to end: the fake OpenAI server (through the real openai SDK),
extraction, audit, the sandbox, ranking, repair and the reward log."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from codeloop.config import GenerateSettings, ModelSettings, Settings
from codeloop.generate.implement import ImplementError
from codeloop.learn import RewardLog
from codeloop.learn.export import preference_records, sft_records
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from codeloop.services.implement import implement_intent
from codeloop.workspace.document import Document
from codeloop.workspace.intents import find_intents
from codeloop_sandbox import Policy
from support.fake_openai import Reply

KEY = "sk-implement-test-0123456789abcdef"

STUB = '''"""Pairs of numbers."""
import math


def add_pairs(xs: list[int]) -> list[int]:
    """Sum adjacent pairs: the 1st and 2nd item, the 3rd and 4th, ...

    >>> add_pairs([1, 2, 3, 4])
    [3, 7]
    >>> add_pairs([])
    []
    """
    ...


def other() -> int:
    return 1
'''

RIGHT = "def add_pairs(xs: list[int]) -> list[int]:\n    return [a + b for a, b in zip(xs[::2], xs[1::2])]\n"
WRONG = "def add_pairs(xs: list[int]) -> list[int]:\n    return [a - b for a, b in zip(xs[::2], xs[1::2])]\n"
# Right on the examples, wrong for odd lengths (the last item must be dropped, says a test).
ALMOST = "def add_pairs(xs: list[int]) -> list[int]:\n    if len(xs) % 2:\n        xs = xs + [0]\n    return [a + b for a, b in zip(xs[::2], xs[1::2])]\n"

TESTS = '''```python
from pairs import add_pairs


def test_two():
    assert add_pairs([1, 1]) == [2]


def test_odd_length_drops_the_last_item():
    assert add_pairs([1, 2, 3]) == [3]


def test_length_halves():
    assert len(add_pairs(list(range(10)))) == 5
```'''


def fenced(code: str, prose: str = "Here is the implementation:") -> str:
    return f"{prose}\n\n```python\n{code}```\n"


pytestmark = pytest.mark.usefixtures("bwrap_sandbox")


@pytest.fixture
def workspace(make_project):
    return make_project("ws", {"pyproject.toml": "[project]\nname = 'pairs'\n", "pairs.py": STUB})


@pytest.fixture
def log(tmp_path):
    with RewardLog(tmp_path / "rewards.sqlite3", secrets=[KEY]) as log:
        yield log


def intent_of(ws: Path, name: str, text: str | None = None):
    path = ws / "pairs.py"
    doc = Document(path.as_uri(), text if text is not None else path.read_text())
    return next(i for i in find_intents(doc) if i.name == name and i.kind in ("implement", "from_comment"))


def run(fake, ws, log, n=3, rounds=2, cancel=None, name="add_pairs", text=None, timeout=10.0, **kw):
    text = text if text is not None else (ws / "pairs.py").read_text()
    llm = OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake-model", timeout=timeout, max_retries=0), api_key=KEY)
    settings = Settings(model=ModelSettings(candidates=n), generate=GenerateSettings(repair_rounds=rounds))
    try:
        return implement_intent(intent_of(ws, name, text), text, ws, llm, Policy(timeout=60, allow_levels=("A", "B")),
                         settings, cancel=cancel, path=ws / "pairs.py", log=log, **kw)
    finally:
        llm.close()


def test_a_later_right_candidate_wins(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.text(fenced(WRONG), fenced(WRONG, "Sure!"), fenced(RIGHT)), TESTS)
    res = run(fake_openai, workspace, log)
    assert res.verified and res.error is None
    assert res.best.id == "c3"
    assert res.title == (
        "Implement add_pairs (verified): 2/2 examples, 3/3 model tests, 9/9 return-type checks pass, branch coverage 100 %, "
        "audit clean"
    )
    assert "return [a + b for a, b in zip(xs[::2], xs[1::2])]" in res.new_text
    assert '"""Sum adjacent pairs' in res.new_text and "def other() -> int:" in res.new_text
    assert (workspace / "pairs.py").read_text() == STUB  # nothing is written
    edit = res.edit()  # what an LSP client gets: only the stub's body changes
    assert (edit.start_line, edit.end_line) == (12, 13)
    assert edit.new_text == "    return [a + b for a, b in zip(xs[::2], xs[1::2])]\n"
    # Agreement: the two wrong candidates agree with each other, but fail the examples.
    c1, c2, c3 = res.candidates
    assert c1.outputs == c2.outputs != c3.outputs
    assert not c1.verified and "example at line 8: add_pairs([1, 2, 3, 4]) returned [-1, -1], expected [3, 7]" in c1.failures
    # Two requests: candidates, then tests; no repair was needed.
    assert len(fake_openai.requests_to("/chat/completions")) == 2
    rows = list(log.rows())
    assert [r.verified for r in rows] == [False, False, True]
    assert {r.strategy for r in rows} == {"sample"}


def test_all_wrong_then_repaired(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.text(fenced(WRONG), fenced(WRONG)), TESTS, fenced(RIGHT, "Fixed:"))
    res = run(fake_openai, workspace, log, n=2)
    assert res.verified
    assert res.best.origin == "repair-1" and res.best.parent == "c1"
    # The repair request carried the failing example back to the model.
    repair = fake_openai.requests_to("/chat/completions")[2].body["messages"]
    assert repair[-2]["role"] == "assistant" and "a - b" in repair[-2]["content"]
    assert "returned [-1, -1], expected [3, 7]" in repair[-1]["content"]
    assert "test_two failed" in repair[-1]["content"]
    assert [r.strategy for r in log.rows()] == ["sample", "sample", "repair-1"]


def test_all_wrong_and_unrepairable_is_offered_only_as_unverified(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.text(fenced(WRONG), fenced(WRONG)), TESTS, fenced(WRONG), fenced(WRONG))
    res = run(fake_openai, workspace, log, n=2, rounds=2)
    assert not res.verified
    assert res.level == "unverified"
    assert res.title.startswith("Implement add_pairs (unverified): 1/2 examples, 1/3 model tests, 9/9 return-type")
    assert res.new_text is not None  # offered, but never as verified
    assert any("expected [3, 7]" in f for f in res.failed)
    assert len(fake_openai.requests_to("/chat/completions")) == 4  # 1 + tests + 2 repair rounds
    assert not any(r.verified for r in log.rows())


def test_a_failing_model_test_is_a_vote_not_a_gate(fake_openai, workspace, log):
    # Issue 12: model-written tests are often wrong; one that fails does not refuse a
    # candidate that passes every check the user wrote (and nothing asks for a repair).
    fake_openai.add_chat(Reply.text(fenced(ALMOST)), TESTS, fenced(RIGHT))
    res = run(fake_openai, workspace, log, n=1, rounds=1)
    assert res.verified and res.level == "verified"
    assert res.best.evidence().startswith("2/2 examples, 2/3 model tests, 9/9 return-type checks pass")
    assert res.failed == [] and res.title.startswith("Implement add_pairs (verified): 2/2 examples")
    assert len(fake_openai.requests_to("/chat/completions")) == 2  # candidates, tests: no repair


def test_hallucinated_import_rejected(fake_openai, workspace, log):
    bad = "import pairwise_magic\n\n" + RIGHT.replace("return", "return pairwise_magic.fix(") .rstrip() + ")\n"
    fake_openai.add_chat(Reply.text(fenced(bad), fenced(RIGHT)), TESTS)
    res = run(fake_openai, workspace, log, n=2)
    assert res.verified and res.best.id == "c2"
    c1 = res.candidates[0]
    assert c1.rejected.startswith("imports unknown module 'pairwise_magic' (not stdlib, not installed, not in the project)")
    assert c1.examples == [] and c1.tests == {}  # never ran
    assert json.loads(json.dumps(list(log.rows())[0].audit))[0]["check"] == "import"


def test_project_and_stdlib_imports_are_fine(fake_openai, workspace, log):
    (workspace / "helpers.py").write_text("def pair_sum(a, b):\n    return a + b\n")
    code = "import itertools\nfrom helpers import pair_sum\n\n" + RIGHT.replace("a + b", "pair_sum(a, b)")
    fake_openai.add_chat(Reply.text(fenced(code)), TESTS)
    res = run(fake_openai, workspace, log, n=1)
    assert res.verified, res.failed
    assert "import itertools\nfrom helpers import pair_sum\n" in res.new_text


def test_hostile_candidates_are_contained_and_reported(fake_openai, workspace, log, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    marker = tmp_path / "daemon-was-here"
    body = "    {}\n    return [a + b for a, b in zip(xs[::2], xs[1::2])]\n"
    head = "def add_pairs(xs: list[int]) -> list[int]:\n"
    hostile = [
        # Caught by the audit before anything runs:
        "import shutil\n\n" + head + body.format(f"shutil.rmtree({str(workspace)!r})"),
        "import os\n\n" + head + body.format("xs = xs + [len(os.environ['OPENAI_API_KEY'])]"),
        "import socket\n\n" + head + body.format(f"socket.create_connection(('127.0.0.1', {fake_openai.port}))"),
        # Disguised from the audit: run, and contained by the sandbox.
        "import os\n\n" + head + body.format(f"getattr(os, 'rem' + 'ove')({str(victim)!r})"),
        "import os\n\n" + head + body.format("xs = xs + [len(os.environ.get('OPENAI_' + 'API_KEY', ''))]"),
        head + body.format(f"__import__('soc' + 'ket').create_connection(('127.0.0.1', {fake_openai.port}), timeout=1)"),
        "import os, time\n\n" + head + body.format(
            f"(os.fork() == 0) and [time.sleep(0.5), open({str(marker)!r}, 'w').write('x'), os._exit(0)]"),
        "import os, time\n\n" + head + body.format(
            f"(getattr(os, 'fo' + 'rk')() == 0) and [time.sleep(0.5), open({str(marker)!r}, 'w').write('x'), os._exit(0)]"),
    ]
    fake_openai.add_chat(Reply.text(*[fenced(h) for h in hostile]), TESTS)
    res = run(fake_openai, workspace, log, n=len(hostile), rounds=0)
    by_id = {c.id: c for c in res.candidates}
    assert "deletes files" in by_id["c1"].rejected
    assert "OPENAI_API_KEY" in by_id["c2"].rejected
    assert "socket" in by_id["c3"].rejected
    # The disguised ones ran in the sandbox and could not touch the host.
    assert victim.read_text() == "keep me"
    assert (workspace / "pairs.py").read_text() == STUB
    def reported(cid: str, what: str) -> bool:
        return any(f"the code under test tried to {what}" in f for f in by_id[cid].failures)

    assert not by_id["c4"].verified and reported("c4", "delete a file (os.remove)")
    # The key is not in the sandbox: len('') == 0 is appended, harmless, and the examples
    # (even lengths) cannot tell it from right: the one candidate that passes them.
    assert by_id["c5"].rejected is None and by_id["c5"].passes_checks
    assert not by_id["c6"].verified and reported("c6", "open a network connection (socket.connect)")
    assert len(fake_openai.requests_to("/chat/completions")) == 2  # nobody reached the server from inside
    # A daemon: the plain one is rejected by the audit; the disguised one runs, and its child
    # lives (and dies) in the sandbox only.
    assert "forks or signals processes (os.fork)" in by_id["c7"].rejected
    assert by_id["c8"].rejected is None and not by_id["c8"].verified and reported("c8", "fork a process (os.fork)")
    assert res.best.id == "c5" and not any(by_id[c].passes_checks for c in ("c4", "c6", "c8"))
    import time

    time.sleep(1.0)
    assert not marker.exists()
    # The key never reached the model, the log or the result.
    assert all(KEY not in json.dumps(r.body) for r in fake_openai.requests)
    raw = log.path.read_bytes()
    assert KEY.encode() not in raw
    assert all(KEY not in "\n".join(c.failures) for c in res.candidates)


def test_model_error_gives_one_message_and_no_edit(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.error(500, "boom"))
    res = run(fake_openai, workspace, log)
    assert res.new_text is None and not res.verified
    assert res.error_kind == "server_error" and "HTTP 500" in res.error
    assert res.title.startswith("Implement add_pairs: no candidate (")


def test_cancel_before_start_gives_no_edit(fake_openai, workspace, log):
    cancel = threading.Event()
    cancel.set()
    res = run(fake_openai, workspace, log, cancel=cancel)
    assert res.cancelled and res.new_text is None
    assert list(log.rows()) == []


def test_nothing_parses(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.text("I cannot do that.", fenced("def add_pairs(xs: list[int]) -> list[int]:\n    return [\n")), TESTS)
    res = run(fake_openai, workspace, log, n=2, rounds=1)
    assert res.best is None and res.new_text is None and not res.verified
    assert res.evidence == "no usable candidate"
    assert any("does not parse" in f for f in res.failed)


def test_bad_input(fake_openai, workspace, log):
    text = (workspace / "pairs.py").read_text()
    intent = intent_of(workspace, "add_pairs", text)
    llm = OpenAIClient(ModelConfig(base_url=fake_openai.base_url, name="m"))
    with pytest.raises(ImplementError, match="does not parse"):
        implement_intent(intent, text + "\ndef broken(:\n", workspace, llm, Policy(), Settings(), path=workspace / "pairs.py", log=log)
    with pytest.raises(ImplementError, match="no function add_pairs"):
        implement_intent(intent, "x = 1\n", workspace, llm, Policy(), Settings(), path=workspace / "pairs.py", log=log)


def test_method_and_existing_tests(fake_openai, workspace, log):
    src = '''class Stack:
    def __init__(self):
        self.items = []

    def push(self, x):
        self.items.append(x)

    def top_two(self) -> list:
        """The two most recent items, newest first."""
        raise NotImplementedError
'''
    (workspace / "pairs.py").write_text(src)
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_stack.py").write_text(
        "from pairs import Stack\n\n\ndef test_top_two():\n    s = Stack()\n    for i in range(3):\n        s.push(i)\n"
        "    assert s.top_two() == [2, 1]\n\n\ndef test_unrelated():\n    assert True\n"
    )
    answer = "```python\nclass Stack:\n    def top_two(self) -> list:\n        return self.items[::-1][:2]\n```"
    fake_openai.add_chat(Reply.text(answer), "```python\nfrom pairs import Stack\n\ndef test_empty():\n    assert Stack().top_two() == []\n```")
    res = run(fake_openai, workspace, log, n=1, name="Stack.top_two")
    assert res.verified, res.failed
    assert res.evidence.startswith("1/1 existing tests, 1/1 model tests pass")
    assert "        return self.items[::-1][:2]" in res.new_text
    assert '"""The two most recent items, newest first."""' in res.new_text


def test_from_comment(fake_openai, workspace, log):
    src = "import math\n\n# Return the hypotenuse of a right triangle with legs a and b.\n# hyp(3, 4) -> 5.0\n"
    (workspace / "pairs.py").write_text(src)
    answer = "```python\nimport math\n\ndef hyp(a, b):\n    return math.hypot(a, b)\n```"
    fake_openai.add_chat(Reply.text(answer), "```python\nfrom pairs import hyp\n\ndef test_zero():\n    assert hyp(0, 0) == 0\n```")
    res = run(fake_openai, workspace, log, n=1, name="hyp")
    assert res.verified, res.failed
    assert res.new_text == src + "def hyp(a, b):\n    return math.hypot(a, b)\n"


def test_reward_log_exports_after_a_run(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.text(fenced(WRONG), fenced(RIGHT)), TESTS)
    res = run(fake_openai, workspace, log, n=2)
    assert res.verified
    sft = list(sft_records(log.rows()))
    assert len(sft) == 1 and "a + b" in sft[0]["messages"][-1]["content"]
    (pair,) = list(preference_records(log.rows()))
    assert "a + b" in pair["chosen"][0]["content"] and "a - b" in pair["rejected"][0]["content"]
    assert pair["prompt"][1]["content"].startswith("File: pairs.py (module pairs)")


def test_cancel_during_the_model_request_gives_no_edit(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.hang(5))
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        res = run(fake_openai, workspace, log, cancel=cancel)
    finally:
        timer.cancel()
    assert res.cancelled and res.error_kind == "cancelled" and res.new_text is None
    assert (workspace / "pairs.py").read_text() == STUB


def test_line_edit_is_minimal_and_exact():
    from hypothesis import given
    from hypothesis import strategies as st

    from codeloop.generate.implement import line_edit

    def apply(old: str, edit) -> str:
        lines = old.splitlines(keepends=True)
        return "".join(lines[: edit.start_line]) + edit.new_text + "".join(lines[edit.end_line :])

    assert line_edit("a\nb\n", "a\nb\n") is None
    e = line_edit("import os\n\ndef f():\n    ...\n\nx = 1\n", "import os\nimport re\n\ndef f():\n    return 1\n\nx = 1\n")
    assert (e.start_line, e.end_line) == (1, 4) and e.new_text == "import re\n\ndef f():\n    return 1\n"

    @given(st.lists(st.sampled_from(["a\n", "b\n", "c", "\n", "def f():\n"]), max_size=6),
           st.lists(st.sampled_from(["a\n", "b\n", "c", "\n", "x\n"]), max_size=6))
    def check(old, new):
        old_text, new_text = "".join(old), "".join(new)
        edit = line_edit(old_text, new_text)
        assert (edit is None) == (old_text == new_text)
        if edit is not None:
            assert apply(old_text, edit) == new_text

    check()


def test_guard_watches_only_the_candidate_not_the_rest_of_the_module(fake_openai, workspace, log):
    src = '''import os
import tempfile


def scratch_len(text: str) -> int:
    """An existing helper that cleans up after itself (os.remove is legitimate here)."""
    fd, path = tempfile.mkstemp()
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    size = os.path.getsize(path)
    os.remove(path)
    return size


def total_len(parts: list[str]) -> int:
    """Total length of the parts, measured by scratch_len.

    >>> total_len(["ab", "c"])
    3
    """
    ...
'''
    (workspace / "pairs.py").write_text(src)
    answer = "```python\ndef total_len(parts: list[str]) -> int:\n    return sum(scratch_len(p) for p in parts)\n```"
    fake_openai.add_chat(Reply.text(answer), "no tests from me")
    res = run(fake_openai, workspace, log, n=1, name="total_len")
    assert res.verified, res.failed


def test_no_sandbox_means_unverified_with_the_reason(fake_openai, workspace, log, monkeypatch):
    import codeloop_sandbox
    from codeloop_sandbox import SandboxUnavailable

    def unavailable(*args, **kwargs):
        raise SandboxUnavailable("best sandbox level is C (no bubblewrap); allowed: A")

    monkeypatch.setattr(codeloop_sandbox, "run_pytest", unavailable)
    fake_openai.add_chat(Reply.text(fenced(RIGHT)), TESTS)
    res = run(fake_openai, workspace, log, n=1, rounds=0)
    assert not res.verified and res.new_text is not None
    assert res.error_kind == "sandbox" and "no bubblewrap" in res.error
    assert "unverified" in res.title


def test_escalates_to_the_next_model_and_learns_to_start_there(fake_openai, workspace, log):
    fake_openai.add_chat(Reply.text(fenced(WRONG)), TESTS, Reply.text(fenced(RIGHT)))
    res = run(fake_openai, workspace, log, n=1, rounds=0, models=["small", "big"])
    assert res.verified and res.models_tried == ["small", "big"]
    assert res.best.model == "big" and res.best.id == "m2.c1"
    models_asked = [r.body["model"] for r in fake_openai.requests_to("/chat/completions")]
    assert models_asked == ["small", "small", "big"]  # candidates, tests (once), escalation
    # After small kept failing here, big is tried first.
    from codeloop.learn import Outcome

    for i in range(3):
        log.record(Outcome(str(workspace), "implement", [{"role": "user", "content": f"p{i}"}], "small", "x", False))
    fake_openai.add_chat(Reply.text(fenced(RIGHT)), TESTS)
    res = run(fake_openai, workspace, log, n=1, rounds=0, models=["small", "big"])
    assert res.verified and res.models_tried == ["big"]


def test_package_module_with_relative_import_and_src_layout(fake_openai, tmp_path, log):
    ws = tmp_path / "proj"
    pkg = ws / "src" / "geo"
    pkg.mkdir(parents=True)
    (ws / "pyproject.toml").write_text("[project]\nname = 'geo'\n")
    (pkg / "__init__.py").write_text("")
    (pkg / "util.py").write_text("def square(x):\n    return x * x\n")
    src = 'from .util import square\n\n\ndef area(side: float) -> float:\n    """Area of a square.\n\n    >>> area(3)\n    9\n    """\n    ...\n'
    (pkg / "shapes.py").write_text(src)
    (ws / "tests").mkdir()
    (ws / "tests" / "test_shapes.py").write_text(
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1] / 'src'))\n"
        "from geo.shapes import area\n\n\ndef test_area_zero():\n    assert area(0) == 0\n")
    answer = "```python\nfrom .util import square\n\ndef area(side: float) -> float:\n    return square(side)\n```"
    fake_openai.add_chat(Reply.text(answer), "```python\nfrom geo.shapes import area\n\ndef test_two():\n    assert area(2) == 4\n```")
    llm = OpenAIClient(ModelConfig(base_url=fake_openai.base_url, name="fake-model", timeout=10, max_retries=0))
    doc = Document((pkg / "shapes.py").as_uri(), src)
    intent = next(i for i in find_intents(doc) if i.kind == "implement")
    try:
        res = implement_intent(intent, src, ws, llm, Policy(timeout=60, allow_levels=("A", "B")),
                        Settings(model=ModelSettings(candidates=1)), path=pkg / "shapes.py", log=log)
    finally:
        llm.close()
    assert res.verified, res.failed
    assert res.evidence.startswith("1/1 examples, 1/1 existing tests, 1/1 model tests, 10/10 return-type checks pass")
    assert res.new_text.count("from .util import square") == 1


@pytest.mark.parametrize(
    "reply, kind",
    [
        (Reply.error(500, "boom"), "server_error"),
        (Reply.rate_limited(retry_after=600), "rate_limited"),
        (Reply.hang(3), "timeout"),
        (Reply.malformed(), "malformed"),
        (Reply.empty_choices(), "empty"),
        (Reply.unauthorized(), "auth"),
        (Reply.unknown_model("fake-model"), "unknown_model"),
    ],
)
def test_every_model_fault_gives_one_clear_line_and_no_edit(fake_openai, workspace, log, reply, kind):
    fake_openai.add_chat(reply)
    res = run(fake_openai, workspace, log, timeout=0.5)
    assert res.error_kind == kind and res.new_text is None and res.best is None
    assert res.error and "\n" not in res.error and KEY not in res.error
    assert res.title == f"Implement add_pairs: no candidate ({res.error})"
    assert (workspace / "pairs.py").read_text() == STUB
    assert list(log.rows()) == []


def test_cancel_during_verification_gives_no_edit(fake_openai, workspace, log):
    slow = "import time\n\n" + RIGHT.replace("    return", "    time.sleep(60)\n    return")
    fake_openai.add_chat(Reply.text(fenced(slow)), TESTS)
    cancel = threading.Event()

    def progress(message, fraction):
        if message.startswith("verifying"):
            threading.Timer(1.0, cancel.set).start()

    res = run(fake_openai, workspace, log, n=1, rounds=0, cancel=cancel, progress=progress)
    assert res.cancelled and res.new_text is None and res.error_kind == "cancelled"
    assert list(log.rows()) == []  # a cancelled run teaches nothing


def test_return_annotation_is_a_property_check(fake_openai, workspace, log):
    src = '''def mean(xs: list[float]) -> float:
    """The arithmetic mean.

    >>> mean([1.0, 2.0])
    1.5
    """
    ...
'''
    (workspace / "pairs.py").write_text(src)
    sloppy = "def mean(xs: list[float]) -> float:\n    return sum(xs) / len(xs) if xs else None\n"
    fake_openai.add_chat(Reply.text(fenced(sloppy)), "no tests")
    res = run(fake_openai, workspace, log, n=1, rounds=0, name="mean")
    assert not res.verified  # passes the example, but mean([]) returns None for a -> float
    assert "1/1 examples" in res.evidence and "return-type checks pass" in res.evidence
    assert any(f.startswith("mean([]) returned None, which does not fit its annotation -> float") for f in res.failed)
