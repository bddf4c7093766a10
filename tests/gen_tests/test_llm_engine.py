"""The LLM engine end to end: the real openai SDK against the fake server, the real sandbox."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from pathlib import Path

import pytest

from codeloop.config import GenerateSettings
from codeloop.generate.tests_model import ModelFailure
from codeloop.job import Job
from codeloop.services.gen_tests import GenerateTestsRequest
from codeloop.services.gen_tests import generate_tests as generate_tests_service
from codeloop_sandbox import Policy, run_pytest
from support.fake_openai import Reply
from support.gen_tests import KEY, fence, prompts, set_order_under


def generate_tests(project, target, *, budget, settings, progress=None, cancel=None):
    """The GENERATE TESTS service with a plain sandbox policy; its result."""
    request = GenerateTestsRequest(target, project, budget=budget, settings=settings, policy=Policy())
    return generate_tests_service(request, Job(progress, cancel)).result


SET = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]


def flaky_set_order_test() -> str:
    """A test that passes under hash seed 1 and fails under 2: set order, really flaky."""
    first, second = set_order_under(1, SET), set_order_under(2, SET)
    assert first != second  # otherwise the test below would not be flaky
    return f"def test_label_set_order():\n    assert list({set(SET)!r}) == {first!r}\n"


ROUND_1 = f'''
import pytest
from shop.pricing import clamp, label


def test_clamp_below_range():
    assert clamp(-2, 0, 3) == 0


def test_clamp_does_not_compile(:
    assert clamp(1, 0, 3) == 1


def test_clamp_wrong_expectation():
    assert clamp(1, 0, 3) == 2


# documented: >>> clamp(4, 0, 3)
def test_clamp_above_range_as_documented():
    assert clamp(4, 0, 3) == 3


# documented: clamp always returns 7
def test_clamp_invented_documentation():
    assert clamp(1, 0, 3) == 7


{flaky_set_order_test()}
'''

ROUND_2 = '''
import pytest
from shop.pricing import clamp


def test_clamp_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="lo must not exceed hi"):
        clamp(1, 3, 0)


def test_clamp_inside_range():
    assert clamp(2, 0, 3) == 2
'''


def run_file(project: Path, rel: str):
    policy = Policy(timeout=120, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(project)})
    return run_pytest(project, args=["-q", "-p", "no:cacheprovider", rel], policy=policy)


def test_keeps_good_tests_drops_bad_ones_reports_the_bug_and_iterates(shop, fake_openai, llm_settings):
    fake_openai.add_chat(fence(ROUND_1), fence(ROUND_2))
    res = generate_tests(shop, "shop.pricing::clamp", budget=60, settings=llm_settings)

    assert res.engine == "llm" and res.errors == []
    names = {t.name: t.kind for t in res.tests}
    assert names == {"test_clamp_below_range": "pass", "test_clamp_rejects_inverted_bounds": "pass",
                     "test_clamp_inside_range": "pass", "test_clamp_above_range_as_documented": "xfail"}
    details = "\n".join(res.dropped_details)
    assert "test_clamp_does_not_compile does not compile" in details
    assert "test_clamp_wrong_expectation failed: assert 1 == 2" in details
    assert "test_clamp_invented_documentation failed (its `# documented:` quote is not in the source)" in details
    assert "test_label_set_order is flaky" in details
    assert res.dropped == 4

    # The probable bug: reported at the docstring example, written as strict xfail only.
    source = (shop / "shop" / "pricing.py").read_text().splitlines()
    example_line = next(i for i, line in enumerate(source, 1) if ">>> clamp(4, 0, 3)" in line)
    [bug] = res.probable_bugs
    assert (bug.function, bug.line, bug.file) == ("clamp", example_line, str(shop / "shop" / "pricing.py"))
    assert bug.message.startswith("probable bug: test_clamp_above_range_as_documented fails (assert 4 == 3)")
    assert "@pytest.mark.xfail(reason='probable bug: test_clamp_above_range_as_documented" in res.merged_text
    assert "@pytest.mark.xfail" not in bug.test_as_is

    # Coverage rose; the merged file is the verified one and nothing was written.
    assert res.coverage_before == 0.0 and res.coverage_after > 0
    assert not res.test_file.exists()
    for dropped in ("test_clamp_wrong_expectation", "test_label_set_order", "test_clamp_does_not_compile",
                    "test_clamp_invented_documentation"):
        assert dropped not in res.merged_text
    res.test_file.parent.mkdir(parents=True)
    res.test_file.write_text(res.merged_text)
    pres = run_file(shop, "tests/test_pricing.py")
    assert pres.passed and sorted(t.outcome for t in pres.tests) == ["passed"] * 3 + ["xfailed"]

    # Round 2 was driven by what round 1 left uncovered and by its failures.
    first, second = prompts(fake_openai)[:2]
    raise_line = next(i for i, line in enumerate(source, 1) if 'raise ValueError("lo must not exceed hi")' in line)
    assert f'line {raise_line}: raise ValueError("lo must not exceed hi")' in first
    assert f'line {raise_line}: raise ValueError("lo must not exceed hi")' in second
    covered_line = next(i for i, line in enumerate(source, 1) if line.strip() == "return lo")
    assert f"line {covered_line}: return lo" in first and f"line {covered_line}: return lo" not in second
    # Only dropped tests reached `return x`: it is still reported as uncovered.
    only_dropped = next(i for i, line in enumerate(source, 1) if line.strip() == "return x")
    assert f"line {only_dropped}: return x" in second
    assert "- test_clamp_wrong_expectation failed: assert 1 == 2" in second
    assert "- test_clamp_does_not_compile does not compile" in second
    assert "- test_label_set_order is flaky" in second
    assert "test_clamp_below_range" in second.split("already pass")[1]
    # The target's source, and a signature-free module still states the import to use.
    assert "def clamp(x: int, lo: int, hi: int) -> int:" in first and "from shop.pricing import clamp" in first


def test_existing_tests_are_kept_style_is_shown_and_duplicates_dropped(shop, fake_openai, llm_settings):
    user = ('"""User tests."""\n\nfrom shop.pricing import label\n\n\n'
            'def test_label_empty():\n    assert label("") == "anonymous"\n')
    (shop / "tests").mkdir()
    (shop / "tests" / "test_pricing.py").write_text(user)
    (shop / "tests" / "test_more.py").write_text('import shop.pricing\n\n\ndef test_upper():\n'
                                                 '    assert shop.pricing.label("AB") == "Ab"\n')
    answer = ('import shop.pricing\nfrom shop.pricing import label\n\n\n'
              'def test_label_again():\n    assert label("") == "anonymous"\n\n\n'
              'def test_label_copied():\n    assert shop.pricing.label("AB") == "Ab"\n\n\n'
              'def test_label_empty():\n    assert label(" x ") == "x"\n')
    fake_openai.add_chat(fence(answer))
    res = generate_tests(shop, "shop.pricing::label", budget=30, settings=llm_settings)
    assert [t.name for t in res.tests] == ["test_label_empty_2"]  # same name, new body: renamed
    assert res.merged_text.startswith(user)
    assert "test_label_again" not in res.merged_text  # the same body as a user test
    assert "test_label_copied" not in res.merged_text  # the same body as a test in another file
    assert res.coverage_before is not None and res.coverage_after > res.coverage_before
    first = prompts(fake_openai)[0]
    assert "Existing tests of this module" in first and 'assert label("") == "anonymous"' in first


def test_api_key_never_reaches_a_prompt_the_sandbox_or_the_log(shop, fake_openai, llm_settings, caplog):
    caplog.set_level(logging.DEBUG)
    # The first test fails and puts the sandbox's whole environment in its message, which is
    # fed back in the next prompt; the second passes only if no key is in the sandbox.
    answer = '''
import os
from shop.pricing import label


def test_label_dumps_env():
    assert label("") == "x", repr(dict(os.environ))


def test_label_sees_no_key():
    assert "OPENAI_API_KEY" not in os.environ
    assert not any(v.startswith("sk-") for v in os.environ.values())
    assert label("") == "anonymous"
'''
    fake_openai.add_chat(fence(answer), fence("def test_label_upper():\n    assert label('AB') == 'Ab'\n"))
    res = generate_tests(shop, "shop.pricing::label", budget=60, settings=llm_settings)
    assert [t.name for t in res.tests] == ["test_label_sees_no_key", "test_label_upper"]
    recorded = fake_openai.requests_to("/chat/completions")
    assert len(recorded) >= 2  # later rounds get the default (test-free) answer
    assert "PYTHONHASHSEED" in prompts(fake_openai)[1]  # the environment dump did reach the prompt
    for r in recorded:
        assert KEY not in r.raw.decode()
    assert all(KEY not in d for d in res.dropped_details + res.errors)
    assert "codeloop.llm_tests" in {r.name for r in caplog.records} and KEY not in caplog.text


def test_a_model_error_after_a_good_round_keeps_its_tests(shop, fake_openai, llm_settings):
    fake_openai.add_chat(fence(ROUND_2), Reply.error(500, "the backend fell over"))
    res = generate_tests(shop, "shop.pricing::clamp", budget=60, settings=llm_settings)
    assert [t.name for t in res.tests] == ["test_clamp_rejects_inverted_bounds", "test_clamp_inside_range"]
    assert len(res.errors) == 1 and re.match(r"model error in round 2: .*fell over", res.errors[0])


@pytest.mark.parametrize("reply, expected", [
    (Reply.error(500, "upstream exploded"), "upstream exploded"),
    (Reply.empty_choices(), "no answer"),
    (Reply.malformed(), "model error"),
])
def test_a_model_error_in_the_first_round_is_one_clear_error(shop, fake_openai, llm_settings, reply, expected):
    fake_openai.add_chat(reply)
    with pytest.raises(ModelFailure) as exc:
        generate_tests(shop, "shop.pricing::clamp", budget=30, settings=llm_settings)
    message = str(exc.value)
    assert message.startswith("model error: ") and expected in message and "\n" not in message


def test_answers_without_tests_are_one_clear_error(shop, fake_openai, llm_settings):
    fake_openai.default_text = "I am sorry, I cannot write tests for this code."
    with pytest.raises(ModelFailure, match=r"^the model's answers held no pytest test functions \(4 round\(s\)\)$"):
        generate_tests(shop, "shop.pricing::clamp", budget=30, settings=llm_settings)
    assert "held no test functions" in prompts(fake_openai)[1]


@pytest.mark.parametrize("reply, why", [
    (None, "held no pytest test functions"),
    (Reply.error(500, "upstream exploded"), "upstream exploded"),
])
def test_auto_falls_back_to_the_offline_engine_when_the_model_gives_nothing(shop, fake_openai, llm_settings,
                                                                            reply, why):
    if reply is None:
        fake_openai.default_text = "I am sorry, I cannot write tests for this code."
    else:
        fake_openai.add_chat(reply)
    auto = dataclasses.replace(llm_settings, generate=GenerateSettings(engine="auto"))
    assert auto.engine == "llm"  # a model is configured, so "auto" asks it first
    result = generate_tests(shop, "shop.pricing::clamp", budget=30, settings=auto)
    assert fake_openai.requests, "the model was not asked"
    assert result.engine == "offline" and result.passing and result.merged_text
    (note,) = [e for e in result.errors if "offline engine" in e]
    assert why in note


def test_stops_when_the_target_is_fully_covered(shop, fake_openai, llm_settings):
    answer = '''
from shop.pricing import label


def test_label_empty():
    assert label("") == "anonymous"


def test_label_upper():
    assert label("BOB") == "Bob"


def test_label_strips():
    assert label(" bob ") == "bob"
'''
    fake_openai.add_chat(fence(answer), fence("def test_never_asked():\n    assert True\n"))
    res = generate_tests(shop, "shop.pricing::label", budget=60, settings=llm_settings)
    assert [t.name for t in res.tests] == ["test_label_empty", "test_label_upper", "test_label_strips"]
    assert res.calls == 1 and len(fake_openai.requests_to("/chat/completions")) == 1
    assert fake_openai.pending() == 1  # the second answer was never asked for


def test_cancel_stops_before_the_model_is_asked(shop, fake_openai, llm_settings):
    cancel = threading.Event()

    def progress(message: str, fraction: float) -> None:
        if message.startswith("round 1"):
            cancel.set()

    fake_openai.add_chat(fence(ROUND_2))
    res = generate_tests(shop, "shop.pricing::clamp", budget=30, settings=llm_settings, progress=progress,
                         cancel=cancel)
    assert res.errors == ["cancelled"] and res.tests == [] and res.merged_text is None
    assert fake_openai.requests_to("/chat/completions") == []


def test_an_import_that_breaks_collection_costs_only_its_tests(shop, fake_openai, llm_settings):
    answer = '''
import no_such_package_for_codeloop
from shop.pricing import label


def test_label_needs_a_missing_package():
    assert no_such_package_for_codeloop.label("") == label("")


def test_label_empty():
    assert label("") == "anonymous"
'''
    fake_openai.add_chat(fence(answer))
    res = generate_tests(shop, "shop.pricing::label", budget=30, settings=llm_settings)
    assert [t.name for t in res.tests] == ["test_label_empty"]
    [detail] = [d for d in res.dropped_details if "could not run" in d]
    assert detail.startswith("test_label_needs_a_missing_package dropped: the test file could not run (")
    assert "no_such_package_for_codeloop" in detail
