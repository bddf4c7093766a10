"""What a chat-agent conversation costs on the scripted scenarios, and how fast cancel is.

    .venv/bin/python bench/agent/bench_agent.py [--rounds 5]

Each scenario runs the real agent (:func:`codeloop.services.agent.run_agent`, the real
tools, the real openai SDK) against the fake OpenAI server with scripted tool calls, on a
fresh copy of the calc project of the tests, and records the model requests, the tokens
the endpoint reported (the fake counts about four characters a token of the request body
and of the answer), the bytes sent and the wall time. Baseline in the same run: the plain
streamed chat (:mod:`codeloop.services.chat`) answering the same question with no tools.
The tool-support probe is counted in every conversation but one: "tool support
remembered" runs on a ``ToolSupport`` whose answer is on disk already (a second
``codeloop ask``, a new editor session). Cancel latency is timed from ``job.stop()`` to ``run_agent`` returning, while a tool runs
(a sandboxed test that sleeps) and while the model request hangs; the issue's bound is
100 ms. Writes results.json and results.md next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests"))

from codeloop.config import GenerateSettings, ModelSettings, Settings  # noqa: E402
from codeloop.job import Job  # noqa: E402
from codeloop.model.tool_calls import ToolSupport  # noqa: E402
from codeloop.services import chat as plain_chat  # noqa: E402
from codeloop.services.agent import AgentRequest, run_agent  # noqa: E402
from codeloop.tools.toolbox import WorkspaceToolbox  # noqa: E402
from support.agent_project import FILES, calc_project  # noqa: E402
from support.fake_openai import FakeOpenAI, Reply  # noqa: E402
from support.llm import make  # noqa: E402

PING = Reply.tool_call("ping")
OPS = FILES["calc/ops.py"]
QUESTION = "What is wrong in calc, and where?"
ANSWER = "mean is a stub (calc/ops.py:13) and test_add_wrong expects 2 + 2 == 5 (tests/test_ops.py:9)."
SLOW_TEST = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"
RIGHT = "```python\ndef mean(values: list[float]) -> float:\n    return sum(values) / len(values)\n```"
MODEL_TESTS = "```python\nfrom calc.ops import mean\n\ndef test_one():\n    assert mean([4.0]) == 4.0\n```"
MEAN = [{"old_text": "    ...\n", "new_text": "    return sum(values) / len(values)\n"}]


def scenarios(sandbox: bool) -> dict[str, tuple[list[Reply], dict[str, Any]]]:
    """name -> (the scripted replies after the probe, AgentRequest options)."""
    out: dict[str, tuple[list[Reply], dict[str, Any]]] = {
        "search, read, answer": ([Reply.tool_call("search_code", {"query": "mean"}),
                                  Reply.tool_call("read_symbol", {"name": "calc.ops.mean"}), Reply.text(ANSWER)], {}),
        "two calls in one turn, answer": ([Reply.calls(("search_code", {"query": "mean"}),
                                                       ("list_intents", {"path": "calc"})), Reply.text(ANSWER)], {}),
        "endless loop, bounded at 8 steps": (
            [Reply.tool_call("search_code", {"query": f"q{i}"}) for i in range(8)] + [Reply.text(ANSWER)],
            {"loop": True}),
        "text protocol: search, read, answer": (
            [Reply.text('<tool_call>{"name": "search_code", "arguments": {"query": "mean"}}</tool_call>'),
             Reply.text('<tool_call>{"name": "read_symbol", "arguments": {"name": "calc.ops.mean"}}</tool_call>'),
             Reply.text(ANSWER)], {"text": True}),
    }
    out["search, read, answer, tool support remembered"] = (
        [Reply.tool_call("search_code", {"query": "mean"}), Reply.tool_call("read_symbol", {"name": "calc.ops.mean"}),
         Reply.text(ANSWER)], {"remembered": True})
    if sandbox:
        # implement asks the model itself: 2 candidates, then the model's tests (no repair, no extra samples)
        out["implement (2 candidates), propose, answer"] = (
            [Reply.tool_call("implement", {"target": "calc.ops.mean"}), Reply.text(RIGHT, RIGHT), Reply.text(MODEL_TESTS),
             Reply.tool_call("propose_edit", {"path": "calc/ops.py", "edits": MEAN}), Reply.text(ANSWER)], {})
        out["search, read, run tests, answer"] = (
            [Reply.tool_call("search_code", {"query": "mean"}), Reply.tool_call("read_symbol", {"name": "calc.ops.mean"}),
             Reply.tool_call("run_tests", {}), Reply.text(ANSWER)], {})
    return out


def one(fake: FakeOpenAI, root: Path, replies: list[Reply], opts: dict[str, Any], map_tokens: int) -> dict[str, Any]:
    fake.clear()
    support = ToolSupport(Path(os.environ["XDG_CACHE_HOME"]) / "tool_support.json")
    llm = make(fake)
    if opts.get("remembered"):
        support.remember(llm, True)
    else:
        support.forget(llm)
        fake.add_chat(Reply.no_tools() if opts.get("text") else PING)
    fake.add_chat(*replies)
    settings = Settings(model=ModelSettings(base_url=fake.base_url, name="fake-model", candidates=2, timeout=30.0),
                        generate=GenerateSettings(repair_rounds=0, extra_samples=0))
    (root / "calc/ops.py").write_text(OPS)  # a proposal applied nowhere, but start each round alike
    started = time.perf_counter()
    outcome = run_agent(AgentRequest(QUESTION, root=str(root), map_tokens=map_tokens), Job(), llm,
                        WorkspaceToolbox(root, settings, llm), support)
    seconds = time.perf_counter() - started
    assert outcome.finish_reason in ("stop", "max_steps"), outcome
    assert fake.pending() == 0, "a scripted reply was not used"
    assert all(c.status == "done" for c in outcome.calls if not opts.get("loop")), outcome.calls
    return {"requests": len(fake.requests_to("/chat/completions")), "prompt_tokens": outcome.usage.prompt_tokens,
            "completion_tokens": outcome.usage.completion_tokens, "estimated": outcome.estimated_tokens,
            "bytes_sent": sum(len(r.raw) for r in fake.requests), "seconds": seconds, "calls": len(outcome.calls)}


def baseline(fake: FakeOpenAI) -> dict[str, Any]:
    fake.clear()
    fake.add_chat(Reply.text(ANSWER))
    started = time.perf_counter()
    out = plain_chat.chat(plain_chat.ChatRequest(QUESTION), Job(), make(fake))
    seconds = time.perf_counter() - started
    assert out.finish_reason == "stop"
    raw = sum(len(r.raw) for r in fake.requests)
    return {"requests": 1, "prompt_tokens": raw // 4, "completion_tokens": len(ANSWER) // 4, "estimated": True,
            "bytes_sent": raw, "seconds": seconds, "calls": 0}


def cancel_latency(fake: FakeOpenAI, root: Path, setup: Callable[[], None], trigger: str, rounds: int) -> list[float]:
    out: list[float] = []
    for _ in range(rounds):
        fake.clear()
        setup()
        job = Job()
        stopped: list[float] = []

        def on_event(kind: str, payload: dict[str, Any], job: Job = job, stopped: list[float] = stopped) -> None:
            if trigger == "tool" and kind == "tool" and payload["status"] == "running":
                def later() -> None:
                    time.sleep(1.0)
                    stopped.append(time.perf_counter())
                    job.stop()
                threading.Thread(target=later, daemon=True).start()

        if trigger == "model":
            def later_model(job: Job = job, stopped: list[float] = stopped) -> None:
                time.sleep(1.0)  # the probe answered, the next request hangs
                stopped.append(time.perf_counter())
                job.stop()
            threading.Thread(target=later_model, daemon=True).start()
        outcome = run_agent(AgentRequest("go", root=str(root), map_tokens=0), job, make(fake), WorkspaceToolbox(root),
                            ToolSupport(), on_event)
        ended = time.perf_counter()
        assert outcome.finish_reason == "cancelled", outcome
        assert fake.pending() <= 1, "the cancel came before the scripted point"
        out.append((ended - stopped[0]) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from codeloop_sandbox import probe

    level = probe().level
    sandbox = level in ("A", "B")
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")  # the implement tool's reward log
        root = calc_project(Path(tmp) / "calc")
        rows: dict[str, list[dict[str, Any]]] = {"plain chat, no tools (baseline)": []}
        for _ in range(args.rounds):
            rows["plain chat, no tools (baseline)"].append(baseline(fake))
        for name, (replies, opts) in scenarios(sandbox).items():
            for map_tokens in (0, 1024):
                label = f"{name}, repo map {map_tokens}" if map_tokens else name
                rows[label] = [one(fake, root, list(replies), opts, map_tokens)
                               for _ in range(args.rounds)]
        (root / "tests/test_slow.py").write_text(SLOW_TEST)  # for the cancels only
        cancels: dict[str, list[float]] = {}
        cancels["model request hanging"] = cancel_latency(
            fake, root, lambda: fake.add_chat(PING, Reply.hang(20)), "model", args.rounds)
        if sandbox:
            cancels["tool running (sandboxed test sleeping)"] = cancel_latency(
                fake, root, lambda: fake.add_chat(PING, Reply.tool_call("run_tests", {"path": "tests/test_slow.py"}),
                                                  Reply.text("never")), "tool", args.rounds)
    summary = {name: {"requests": runs[0]["requests"], "calls": runs[0]["calls"],
                      "prompt_tokens": runs[0]["prompt_tokens"], "completion_tokens": runs[0]["completion_tokens"],
                      "estimated": runs[0]["estimated"], "kib_sent": round(runs[0]["bytes_sent"] / 1024, 1),
                      "seconds_p50": round(statistics.median(r["seconds"] for r in runs), 3),
                      "seconds_max": round(max(r["seconds"] for r in runs), 3)} for name, runs in rows.items()}
    cancel_summary = {name: {"p50_ms": round(statistics.median(v), 1), "p95_ms": round(pct(v, 0.95), 1),
                             "max_ms": round(max(v), 1)} for name, v in cancels.items()}
    env = {"python": platform.python_version(), "cpus": os.cpu_count(), "sandbox_level": level,
           "rounds": args.rounds, "load": round(os.getloadavg()[0], 2)}
    (HERE / "results.json").write_text(json.dumps({"env": env, "conversations": summary, "cancel": cancel_summary},
                                                  indent=2) + "\n")
    lines = ["# What a chat-agent conversation costs (scripted, fake model)", "",
             f"Python {env['python']}, sandbox level {level}, {env['cpus']} CPUs, load {env['load']}; "
             f"{args.rounds} rounds each; produced by `bench/agent/bench_agent.py`. Tokens as the endpoint reports "
             "them (the fake: about 4 characters a token of the request body and the answer); the first request of "
             "each conversation is the tool-support probe (forgotten before each conversation here, so it is counted "
             "every time) but in the \"tool support remembered\" rows, where the answer is on disk already (a second "
             "`codeloop ask`, a new editor session). The implement rows include implement's own two model requests "
             "(candidates, model tests) and its sandbox runs in the requests and the wall time; the token columns are "
             "the agent's own requests.", "",
             "| scenario | requests | tool calls | prompt tokens | completion tokens | KiB sent | wall p50 s | "
             "wall max s |", "|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        est = " (est.)" if s["estimated"] else ""
        lines.append(f"| {name} | {s['requests']} | {s['calls']} | {s['prompt_tokens']}{est} | "
                     f"{s['completion_tokens']}{est} | {s['kib_sent']} | {s['seconds_p50']} | {s['seconds_max']} |")
    lines += ["", "Cancel: from `job.stop()` to `run_agent` returning (bound: 100 ms).", "",
              "| while | p50 ms | p95 ms | max ms | within 100 ms |", "|---|---|---|---|---|"]
    for name, c in cancel_summary.items():
        lines.append(f"| {name} | {c['p50_ms']} | {c['p95_ms']} | {c['max_ms']} | "
                     f"{'yes' if c['max_ms'] <= 100 else 'no'} |")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
