"""CPU the server spends outside its event loop on one inline completion miss.

What the worker thread of a miss does (``codeloop.generate.completion.complete``: scrub the
prompt, the ``openai`` SDK's ``/completions`` call to the fake OpenAI server of
tests/support/fake_openai.py answering at once, post-processing the answer) is run in one
process, in a thread marked as an ``in_worker`` thread (so the call runs right there, as in
the server), timed with ``time.thread_time``: the CPU of that thread only (the fake server's
threads are not counted). Each step is also timed on its own on the same inputs:

* ``scrub``: ``OpenAIClient.scrub`` of the prefix and the suffix (``codeloop.secrets.scrub``);
* ``sdk call``: ``client.completions.create`` with the scrubbed prompt (request building,
  httpx send/receive, the response's pydantic objects);
* ``postprocess``: ``completion.postprocess`` of the answer.

The contexts are those of bench/lsp: the cursor at column 4 of each ``    total = 0`` line
of the 10,000-line file of bench/lsp/gen_file.py (200 sites spread over the file; a 200-line
prefix, ~4.4 kB, and a 60-line suffix, ~1.4 kB).

With ``--before REV`` (default: the commit before this bench), that revision's ``server/``
tree is measured too, in the same run: rounds alternate between a child process on each
tree (``--rounds`` each), and the table gives the median over all calls of each tree.

Writes results_miss_cpu.md and results_miss_cpu.json next to this file.
Run: .venv/bin/python bench/inline/bench_miss_cpu.py [--before REV] [--rounds 6] [--calls 200]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STEPS = ("complete", "scrub", "sdk call", "postprocess")
BEFORE = "ae9fa6e"  # main when this bench was written: before the scrub's needle pre-checks


def child(calls: int) -> dict[str, list[float]]:
    """Run in a child process whose PYTHONPATH holds the tree to measure: CPU ms per call."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench" / "lsp")]
    import gen_file  # noqa: PLC0415 - bench/lsp's 10k-line file
    import openai  # noqa: PLC0415

    from codeloop.generate import completion as core  # noqa: PLC0415
    from codeloop.model import workers  # noqa: PLC0415
    from codeloop.model.openai_client import OpenAIClient  # noqa: PLC0415
    from codeloop.model.settings import ModelConfig  # noqa: PLC0415
    from codeloop.workspace.document import Document  # noqa: PLC0415
    from support import fake_openai  # noqa: PLC0415

    text = gen_file.generate()
    sites = [i for i, line in enumerate(text.split("\n")) if "total = 0" in line]
    doc = Document("file:///bench/big.py", text, 1)
    contexts = [core.cursor_context(doc, s, 4) for s in sites[:: max(1, len(sites) // calls)][:calls]]
    fake = fake_openai.FakeOpenAI(default_text="total = sum(values)\n").start()
    out: dict[str, list[float]] = {step: [] for step in STEPS}
    try:
        llm = OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake"), api_key="sk-bench-key-0000")
        sdk = llm._client()

        def run() -> None:
            workers._ABANDONABLE.on = True  # as in the server's worker threads: no helper thread
            cancel = threading.Event()
            for ctx in contexts[:20]:  # warm up: connection, imports, caches
                core.complete(llm, ctx, cancel)
            for ctx in contexts:
                t = time.thread_time()
                core.complete(llm, ctx, cancel)
                out["complete"].append(time.thread_time() - t)
                t = time.thread_time()
                prompt, suffix = llm.scrub(ctx.prefix), llm.scrub(ctx.suffix)
                out["scrub"].append(time.thread_time() - t)
                t = time.thread_time()
                answer = sdk.completions.create(model="fake", prompt=prompt, suffix=suffix, max_tokens=256,
                                                temperature=0.2, timeout=openai.Timeout(60.0, connect=10.0))
                out["sdk call"].append(time.thread_time() - t)
                t = time.thread_time()
                core.postprocess(answer.choices[0].text, ctx)
                out["postprocess"].append(time.thread_time() - t)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        fake.stop()
    return {step: [v * 1000 for v in values] for step, values in out.items()}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def extract_tree(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "server"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "server"


def measure(server: Path, calls: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(server), str(ROOT / "sandbox")])}
    proc = subprocess.run([sys.executable, __file__, "--child", "--calls", str(calls)], env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"bench_miss_cpu: the child on {server} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def report(results: dict) -> str:
    trees = results["trees"]
    lines = [
        "# CPU outside the event loop per inline completion miss", "",
        "Produced by `bench/inline/bench_miss_cpu.py` (see its docstring for the method): thread CPU",
        "(`time.thread_time`) of the worker-thread side of one miss against the fake OpenAI server",
        f"answering at once, {results['calls']} contexts of bench/lsp's 10k-line file per round, "
        f"{results['rounds']} rounds per tree alternating in one run.",
        f"Python {results['python']}, {results['cpus']} CPUs shared with other sessions; load average "
        f"{results['load_before']} -> {results['load_after']} (start -> end).", "",
        "p50 / p90 in ms of CPU per call; `complete` is the whole worker-thread call, the other",
        "rows time its steps on their own.", "",
        "| step | " + " | ".join(trees) + " | ratio p50 |",
        "|---|" + "---|" * (len(trees) + 1),
    ]
    names = list(trees)
    for step in STEPS:
        cells = [f"{pct(trees[n][step], 50):.3f} / {pct(trees[n][step], 90):.3f}" for n in names]
        ratio = ""
        if len(names) == 2 and pct(trees[names[1]][step], 50) > 0:
            ratio = f"{pct(trees[names[0]][step], 50) / pct(trees[names[1]][step], 50):.2f}x"
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--before", default=BEFORE, help="git revision to compare with ('' for none)")
    args = ap.parse_args()
    if args.child:
        json.dump(child(args.calls), sys.stdout)
        return

    def load() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    results = {"python": platform.python_version(), "cpus": os.cpu_count(), "calls": args.calls,
               "rounds": args.rounds, "load_before": load(), "before_rev": args.before or None}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"now": ROOT / "server"}
        if args.before:
            trees[f"before ({args.before})"] = extract_tree(args.before, Path(tmp))
        samples: dict[str, dict[str, list[float]]] = {name: {s: [] for s in STEPS} for name in trees}
        order = list(trees)
        for r in range(args.rounds):
            for name in order if r % 2 == 0 else order[::-1]:
                got = measure(trees[name], args.calls)
                for step in STEPS:
                    samples[name][step] += got[step]
                print(f"round {r + 1}/{args.rounds} {name}: complete p50 {pct(got['complete'], 50):.3f} ms",
                      file=sys.stderr)
    results["load_after"] = load()
    results["trees"] = samples
    (HERE / "results_miss_cpu.json").write_text(json.dumps(
        {**results, "trees": {n: {s: {"p50": round(pct(v, 50), 4), "p90": round(pct(v, 90), 4), "n": len(v)}
                                  for s, v in t.items()} for n, t in samples.items()}}, indent=1) + "\n")
    text = report(results)
    (HERE / "results_miss_cpu.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
