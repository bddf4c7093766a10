"""The GENERATE TESTS service without CLI or LSP: real sandbox, offline engine, a plain Job."""

from __future__ import annotations

import threading

import pytest

from codeloop.config import GenerateSettings, Settings
from codeloop.generate.engines import ENGINES, engine_in_effect, engine_names
from codeloop.generate.merge import fingerprint
from codeloop.generate.tests_model import GenerationError
from codeloop.job import Job
from codeloop.services.gen_tests import GenerateTestsRequest, generate_tests

OFFLINE = Settings(generate=GenerateSettings(engine="offline"))


def test_generates_verified_tests_and_writes_nothing(shop):
    reports: list[tuple[str, float]] = []
    request = GenerateTestsRequest("shop.pricing::label", shop, budget=4, seed=1, settings=OFFLINE)
    outcome = generate_tests(request, Job(lambda m, f: reports.append((m, f))))
    result = outcome.result
    assert outcome.engine == "offline" and not outcome.handed_over and result.engine == "offline"
    assert outcome.target.module == "shop.pricing" and outcome.target.member == "label"
    assert result.tests and all(t.target == "label" for t in result.tests)
    assert result.test_file == shop / "tests" / "test_pricing.py"
    assert result.merged_text and "from shop.pricing import" in result.merged_text
    assert result.coverage_before == 0.0 and result.coverage_after > 0
    assert not (shop / "tests").exists()  # the service writes nothing: the adapters do
    assert outcome.fingerprint is None  # there was no test file before
    assert reports and reports[-1] == ("done", 1.0)


def test_fingerprint_of_the_existing_test_file_and_merge(shop):
    user = 'from shop.pricing import label\n\n\ndef test_mine():\n    assert label("") == "anonymous"\n'
    (shop / "tests").mkdir()
    (shop / "tests" / "test_pricing.py").write_text(user)
    outcome = generate_tests(GenerateTestsRequest("shop.pricing::label", shop, budget=4, settings=OFFLINE))
    assert outcome.fingerprint == fingerprint(shop / "tests" / "test_pricing.py")
    assert outcome.result.existing_text == user
    assert "def test_mine():" in outcome.result.merged_text
    assert outcome.result.coverage_before > 0


def test_out_dir_and_engine_override(shop, tmp_path):
    # engine="offline" overrides an "llm" setting: no model is asked (none is configured)
    llm = Settings(generate=GenerateSettings(engine="llm"))
    request = GenerateTestsRequest("shop.pricing::label", shop, out=tmp_path / "gen", budget=3, engine="offline",
                                   settings=llm)
    outcome = generate_tests(request, Job())
    assert outcome.engine == "offline"
    assert outcome.result.test_file == (tmp_path / "gen" / "test_pricing.py").resolve()


def test_bad_target_is_a_generation_error(shop):
    with pytest.raises(GenerationError, match="nope"):
        generate_tests(GenerateTestsRequest("shop.nope", shop, budget=2, settings=OFFLINE))


def test_cancelled_job_stops_the_generation(shop):
    cancel = threading.Event()
    cancel.set()
    outcome = generate_tests(GenerateTestsRequest("shop.pricing", shop, budget=10, settings=OFFLINE),
                             Job(cancel=cancel))
    assert "cancelled" in outcome.result.errors and outcome.result.tests == []


def test_engine_registry():
    assert engine_names() == ("offline", "llm") and set(ENGINES) == {"offline", "llm"}
    assert engine_in_effect(None) == "offline"
    assert engine_in_effect(Settings(generate=GenerateSettings(engine="auto"))) == "offline"  # no model
    assert engine_in_effect(Settings(generate=GenerateSettings(engine="llm"))) == "llm"
