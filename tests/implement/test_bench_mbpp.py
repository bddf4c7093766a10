"""The MBPP benchmark's task builder, mutator and runner on an inline row (no MBPP file)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "implement"))

from mbpp_exec import evaluate  # noqa: E402
from mbpp_tasks import build_task, guarded, mutants, other_calls  # noqa: E402

ROW = {
    "task_id": 9001,
    "text": "Write a function to  count the items of a list greater than k.",
    "code": "import math\r\ndef count_greater(xs, k):\r\n\treturn sum(1 for x in xs if x > k)",
    "test_setup_code": "",
    "test_list": ["assert count_greater([1, 5, 9], 4) == 2", "assert count_greater([3, 3, 4], 3) == 1",
                  "assert count_greater([], 0) == 0"],
}


def test_a_row_becomes_a_stub_with_one_visible_example():
    task = build_task(ROW)
    assert task is not None and task.name == "count_greater"
    assert task.visible_call == "count_greater([1, 5, 9], 4)" and task.visible_expected == 2
    assert task.hidden == ROW["test_list"][1:]
    stub = task.stub()
    assert stub.startswith("import math\n\n\ndef count_greater(xs, k):\n")
    assert "count the items of a list greater than k." in stub  # whitespace collapsed
    assert "    >>> count_greater([1, 5, 9], 4)\n    2\n" in stub and stub.rstrip().endswith("...")
    assert "[3, 3, 4]" not in stub  # hidden tests stay hidden
    compile(stub, "stub", "exec")


def test_two_visible_examples_leave_one_hidden_assert():
    task = build_task(ROW, visible=2)
    assert task is not None and task.hidden == ROW["test_list"][2:]
    assert task.visible_asserts == ROW["test_list"][:2]
    stub = task.stub()
    assert "    >>> count_greater([1, 5, 9], 4)\n    2\n    >>> count_greater([3, 3, 4], 3)\n    1\n" in stub
    assert "[], 0" not in stub
    assert "count_greater([3, 3, 4], 3)" not in other_calls(task, random.Random(1), 30)
    compile(stub, "stub", "exec")


def test_rows_the_stub_cannot_express_are_skipped():
    helper = dict(ROW, code="def helper(x):\n    return x\ndef count_greater(xs, k):\n    return 0")
    glob = dict(ROW, code="K = 3\ndef count_greater(xs, k):\n    return K")
    other_form = dict(ROW, test_list=["assert count_greater([1], 0)", *ROW["test_list"][1:]])
    setup = dict(ROW, test_setup_code="x = 1")
    floats = dict(ROW, test_list=["assert count_greater([1], 0) == 1.5", *ROW["test_list"][1:]])
    assert [build_task(r) for r in (helper, glob, other_form, setup, floats)] == [None] * 5


def test_mutants_include_the_boundary_slip_that_passes_the_visible_example_only():
    task = build_task(ROW)
    assert task is not None
    muts = mutants(task.reference)
    kinds = {k for k, _ in muts}
    assert {"comparison", "constant"} <= kinds
    sources = [src for _, src in muts]
    assert len(set(sources)) == len(sources) and task.reference not in sources
    results = evaluate([task.reference, *sources], [task.visible, *task.hidden])
    assert results[0].passes_all
    by_src = dict(zip(sources, results[1:], strict=True))
    boundary = next(s for s in sources if "x >= k" in s)
    assert by_src[boundary].asserts == [True, False, True]  # right on the example, wrong on 3 == k


def test_the_runner_survives_hangs_and_crashes():
    hang = "def f(x):\n    while True:\n        pass\n"
    crash = "def f(x):\n    return 1 // 0\n"
    bad = "def f(x) return\n"
    good = "def f(x):\n    return x + 1\n"
    res = evaluate([hang, crash, bad, good], ["assert f(1) == 2"], ["f(2)", "f([1])"], seconds=0.3)
    assert [r.asserts for r in res] == [[False], [False], [False], [True]]
    assert res[2].load == "SyntaxError" and res[3].calls == ["3", None]


def test_other_calls_are_near_the_example_and_never_the_example():
    task = build_task(ROW)
    assert task is not None
    calls = other_calls(task, random.Random(3), 6)
    assert calls and task.visible_call not in calls
    assert all(c.startswith("count_greater(") for c in calls)


def _post(url: str, body: dict) -> list[str]:
    import json
    import urllib.request

    req = urllib.request.Request(url + "/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the local fake server
        return [c["message"]["content"] for c in json.load(resp)["choices"]]


def test_the_replay_answers_by_what_is_asked_and_is_seeded():
    from mbpp_bench import ReplayServer, prepare

    task = build_task(ROW)
    assert task is not None
    prepared = prepare(task, random.Random(5))
    again = prepare(task, random.Random(5))
    assert prepared is not None and again is not None and prepared.tests == again.tests
    assert prepared.plausible  # the >= boundary slip
    first = [prepared.draw() for _ in range(3)]
    assert [s.code for s in first] == [again.draw().code for _ in range(3)]
    tests_req = {"model": "m", "messages": [{"role": "system", "content": "You write pytest tests ..."},
                                            {"role": "user", "content": "x"}]}
    sample_req = {"model": "m", "n": 3, "messages": [{"role": "system", "content": "You implement"},
                                                     {"role": "user", "content": "x"}]}
    with ReplayServer() as fake:
        fake.script(prepared, first, seed=1)
        (tests,) = _post(fake.base_url, tests_req)
        answers = _post(fake.base_url, sample_req)
        more = _post(fake.base_url, dict(sample_req, n=2))
    assert "from solution import count_greater" in tests and "def test_example" in tests
    assert [a.split("```python\n")[1].split("```")[0] for a in answers] == [s.code for s in first]
    assert len(more) == 2 and len(fake.served) == 5 and fake.tests_requests == 1


def test_a_guarded_right_sample_differs_only_on_falsy_input():
    ref = 'def top(xs, k):\n    """Largest plus k."""\n    return max(xs) + k\n'
    alt = guarded(ref, "top", 5)
    assert alt is not None and "if not xs:\n        return 0" in alt
    (a, b) = evaluate([ref, alt], ["assert top([1, 4], 1) == 5"], ["top([], 1)", "top([2], 0)"])
    assert a.passes_all and b.passes_all
    assert a.calls[0] != b.calls[0] and a.calls[1] == b.calls[1] == "2"
    assert guarded("def f():\n    return 1\n", "f", 1) is None
