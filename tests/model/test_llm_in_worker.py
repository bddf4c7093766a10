"""``in_worker``: a blocking model call from async code in one worker thread (no helper
thread per HTTP call), abandoned at once on a cancel; retries and errors stay the call's."""

from __future__ import annotations

import asyncio
import threading

import pytest

from codeloop.model import workers as workers_mod
from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.workers import in_worker
from support.fake_openai import Reply
from support.llm import make


async def test_complete_in_one_thread_without_a_helper_thread(fake_openai, monkeypatch):
    fake_openai.add_completion("return 1")
    threads: list[tuple[threading.Thread, threading.Thread]] = []
    real = workers_mod.run_cancellable

    def spy(call, cancel, deadline=None):
        outer = threading.current_thread()

        def call_here():
            threads.append((outer, threading.current_thread()))
            return call()

        return real(call_here, cancel, deadline)

    monkeypatch.setattr(workers_mod, "run_cancellable", spy)
    got = await in_worker(make(fake_openai).complete, "def f():\n    ", "", cancel=threading.Event())
    assert got.text == "return 1" and got.via == "fim"
    ((outer, inner),) = threads
    assert inner is outer and outer is not threading.main_thread()  # no helper thread
    # the same call from a plain thread still gets a helper thread (a cancel returns at once)
    threads.clear()
    fake_openai.add_completion("return 2")
    await asyncio.to_thread(make(fake_openai).complete, "def f():\n    ", "", cancel=threading.Event())
    ((outer, inner),) = threads
    assert inner is not outer


async def test_errors_and_retries_are_the_calls_own(fake_openai):
    fake_openai.add_completion(Reply.error(500), Reply.error(500), "ok")
    got = await in_worker(make(fake_openai, max_retries=2).complete, "x = ", "")
    assert got.text == "ok" and len(fake_openai.requests_to("/completions")) == 3
    fake_openai.add_completion(Reply.error(500, "boom"))
    with pytest.raises(ModelError) as info:
        await in_worker(make(fake_openai).complete, "x = ", "")
    assert info.value.kind == "server_error" and "\n" not in info.value.message


async def test_a_set_cancel_event_abandons_the_call(fake_openai):
    fake_openai.add_completion(Reply(texts=["late"], delay=3))
    cancel = threading.Event()
    asyncio.get_running_loop().call_later(0.1, cancel.set)
    with pytest.raises(Cancelled):
        # ends long before the fake answers (3 s)
        await asyncio.wait_for(in_worker(make(fake_openai).complete, "x = ", "", cancel=cancel), 2)


async def test_cancelling_the_task_sets_the_event(fake_openai):
    fake_openai.add_completion(Reply(texts=["late"], delay=3))
    cancel = threading.Event()
    task = asyncio.create_task(in_worker(make(fake_openai).complete, "x = ", "", cancel=cancel))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert cancel.is_set()


async def test_cancel_during_backoff_in_a_worker(fake_openai):
    fake_openai.add_completion(Reply.rate_limited(retry_after=20), "never")
    cancel = threading.Event()
    asyncio.get_running_loop().call_later(0.1, cancel.set)
    with pytest.raises(Cancelled):
        await asyncio.wait_for(in_worker(make(fake_openai, max_retries=1, timeout=60).complete, "x = ", "", cancel=cancel), 2)


def test_workers_are_reused_and_leave_when_idle():
    workers = workers_mod._Workers(idle_exit=0.05)
    seen: list[threading.Thread] = []
    for _ in range(3):
        done = threading.Event()

        def job(done=done):
            seen.append(threading.current_thread())
            done.set()

        workers.submit(job)
        assert done.wait(5)
        while not workers._idle:  # the worker counts itself idle right after the job
            threading.Event().wait(0.005)
    assert len(set(seen)) == 1  # one thread ran all three, one after another
    seen[0].join(5)
    assert not seen[0].is_alive() and workers._idle == 0


def test_concurrent_jobs_get_their_own_threads():
    workers = workers_mod._Workers()
    release = threading.Event()
    started: list[str] = []
    both = threading.Barrier(3)

    def job():
        started.append(threading.current_thread().name)
        both.wait(5)
        release.wait(5)

    workers.submit(job)
    workers.submit(job)
    both.wait(5)  # both jobs run at the same time
    release.set()
    assert len(started) == 2
