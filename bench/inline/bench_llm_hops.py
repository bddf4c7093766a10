"""The thread hand-offs around one completion call, in one process (no LSP, no stdio).

Against the fake OpenAI server (tests/support/fake_openai.py, in this process), the same
``OpenAIClient.complete`` call with a cancel event, awaited from the event loop:

* ``to_thread + helper``: ``asyncio.to_thread`` and then, because a cancel event is given,
  a helper thread per HTTP call (``_run_cancellable``): the inline completion path before
  ``in_worker``;
* ``in_worker``: one worker thread that makes the HTTP call itself (the path now).

Each with the loop idle, and with the loop busy as during a diagnostics pass (2 ms of Python
work, then a 0.5 ms sleep, repeated): every thread hand-off then waits for the loop.

Run: flock /tmp/codeloop-bench.lock .venv/bin/python bench/inline/bench_llm_hops.py [--n 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "tests"))

from codeloop.model.openai_client import OpenAIClient  # noqa: E402
from codeloop.model.settings import ModelConfig  # noqa: E402
from codeloop.model.workers import in_worker  # noqa: E402
from support import fake_openai  # noqa: E402

WARMUP = 10


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


async def busy(stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        while time.perf_counter() - t < 0.002:
            sum(range(200))
        await asyncio.sleep(0.0005)


async def measure(fake, path: str, loaded: bool, n: int) -> list[float]:
    llm = OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake"), api_key="sk-test")
    stop = asyncio.Event()
    load = asyncio.create_task(busy(stop)) if loaded else None
    out = []
    for i in range(n + WARMUP):
        cancel = threading.Event()
        t = time.perf_counter()
        if path == "to_thread + helper":
            await asyncio.to_thread(llm.complete, "def f():\n    ", "", cancel=cancel)
        else:
            await in_worker(llm.complete, "def f():\n    ", "", cancel=cancel)
        if i >= WARMUP:
            out.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.002)
    stop.set()
    if load is not None:
        await load
    llm.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}; n = {args.n} per row")
    print("| loop | path | call p50 / p95 / mean ms |")
    print("|---|---|---|")
    with fake_openai.FakeOpenAI(default_text="return 1\n") as fake:
        for loaded in (False, True):
            for _round in range(2):
                for path in ("to_thread + helper", "in_worker"):
                    ms = asyncio.run(measure(fake, path, loaded, args.n))
                    print(f"| {'busy' if loaded else 'idle'} | {path} | {pct(ms, 50):.2f} / {pct(ms, 95):.2f} / "
                          f"{sum(ms) / len(ms):.2f} |")
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
