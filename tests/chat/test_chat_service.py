"""The chat service without LSP: a real openai SDK client on the fake server, the
no-model answer, a job's cancel, errors as an outcome, sessions and the provider registry."""

from __future__ import annotations

import threading

import pytest

from codeloop.generate.chat_prompt import ChatContext, Selection, Turn
from codeloop.job import Job
from codeloop.model import providers
from codeloop.model.cache import ClientCache
from codeloop.model.errors import ModelError
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from codeloop.services import chat as service
from support.fake_openai import Reply
from support.llm import make


def test_chat_streams_the_answer_to_the_deltas_and_the_outcome(fake_openai):
    fake_openai.add_chat(Reply.text("It subtracts instead of adding."))
    context = ChatContext(uri="file:///w/calc.py", text="def add(a, b):\n    return a - b\n",
                          selection=Selection(0, 0, 1, 16))
    request = service.ChatRequest("Why is add wrong?", [Turn("user", "hi"), Turn("assistant", "hello")], context)
    deltas: list[str] = []
    reports: list[str] = []
    outcome = service.chat(request, Job(lambda m, f: reports.append(m)), make(fake_openai), deltas.append)
    assert outcome == service.ChatOutcome("It subtracts instead of adding.", "stop")
    assert len(deltas) > 1 and "".join(deltas) == outcome.text and reports
    body = fake_openai.requests_to("/chat/completions")[0].body
    assert body["stream"] is True and [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert "return a - b" in body["messages"][-1]["content"]


def test_no_model_configured_answers_how_to_configure(fake_openai):
    for llm in (None, OpenAIClient(ModelConfig(base_url=fake_openai.base_url), environ={})):
        deltas: list[str] = []
        outcome = service.chat(service.ChatRequest("hello?"), Job(), llm, deltas.append)
        assert outcome.finish_reason == "no_model" and outcome.text == service.NO_MODEL_ANSWER == "".join(deltas)
        assert outcome.error is None
    assert ClientCache().configured(ModelConfig()) is None  # what the server hands the service
    assert fake_openai.requests == []


def test_empty_question_gets_a_hint(fake_openai):
    outcome = service.chat(service.ChatRequest("  "), Job(), make(fake_openai))
    assert outcome == service.ChatOutcome(service.EMPTY_QUESTION, "stop") and fake_openai.requests == []


def test_model_error_is_an_outcome_not_an_exception(fake_openai):
    fake_openai.add_chat(Reply.unauthorized())
    outcome = service.chat(service.ChatRequest("hi"), Job(), make(fake_openai))
    assert outcome.finish_reason == "error" and outcome.error_kind == "auth"
    assert outcome.error and "\n" not in outcome.error and outcome.text == ""


def test_the_jobs_cancel_stops_the_answer(fake_openai):
    fake_openai.add_chat(Reply.slow("abcdefghij", chunk_delay=0.3))
    job = Job()
    deltas: list[str] = []

    def on_delta(delta: str) -> None:
        deltas.append(delta)
        job.stop()

    outcome = service.chat(service.ChatRequest("hi"), job, make(fake_openai), on_delta)
    assert outcome.finish_reason == "cancelled" and deltas == ["a"] and outcome.text == "a"


def test_sessions_replace_and_cancel_early():
    sessions = service.ChatSessions()
    first = service.start(service.ChatRequest("hi"), None)
    sessions.begin("c1", first)
    second = service.start(service.ChatRequest("hi"), None)
    sessions.begin("c1", second)  # same id: the first answer is cancelled
    assert first._cancel.is_set() and not second._cancel.is_set()
    assert sessions.cancel("c2") is False  # not started yet: remembered
    third = service.start(service.ChatRequest("hi"), None)
    sessions.begin("c2", third)
    assert list(third) == [] and third.finish_reason == "cancelled"
    sessions.end("c1", second)
    sessions.end("c2", third)
    assert sessions.active == {}


def test_providers_pick_the_client_and_reject_unknown_names(fake_openai):
    cache = ClientCache()
    client = cache.get(ModelConfig(base_url=fake_openai.base_url, name="m"))
    assert isinstance(client, OpenAIClient)
    assert cache.get(ModelConfig(base_url=fake_openai.base_url, name="m")) is client  # cached
    with pytest.raises(ModelError) as err:
        providers.create_client(ModelConfig(name="m", provider="nope"))
    assert err.value.kind == "not_configured" and "'nope'" in err.value.message and "'openai'" in err.value.message

    made: list[object] = []

    def factory(settings: object) -> OpenAIClient:
        made.append(settings)
        return OpenAIClient(settings)  # type: ignore[arg-type]

    providers.register("test-provider", factory)
    try:
        settings = ModelConfig(base_url=fake_openai.base_url, name="m", provider="Test-Provider")
        assert isinstance(providers.create_client(settings), OpenAIClient) and made == [settings]
    finally:
        providers._FACTORIES.pop("test-provider", None)


def test_a_cancel_event_passed_to_start_is_the_answers(fake_openai):
    cancel = threading.Event()
    cancel.set()
    fake_openai.add_chat(Reply.text("never"))
    ans = service.start(service.ChatRequest("hi"), make(fake_openai), cancel=cancel)
    assert list(ans) == [] and service.outcome(ans).finish_reason == "cancelled"
