"""Benchmark the implement pipeline's own costs (not the model's).

    .venv/bin/python bench/implement/run.py [--rounds 5]

Measures, on this machine:

* extraction of one function from a realistic answer (µs);
* the static audit of one candidate (bandit + import policy + own checks, ms);
* one whole ``implement`` run against the fake OpenAI server (answers instantly), with
  4 candidates of which the third is right: wall time, and how much of it is the
  sandbox (s).

Writes results.json and results.md next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests"))

from codeloop.audit import ModuleIndex, audit_code  # noqa: E402
from codeloop.config import ModelSettings, Settings  # noqa: E402
from codeloop.generate.extract import extract_function  # noqa: E402
from codeloop.learn import RewardLog  # noqa: E402
from codeloop.model.openai_client import OpenAIClient  # noqa: E402
from codeloop.model.settings import ModelConfig  # noqa: E402
from codeloop.services.implement import implement_intent  # noqa: E402
from codeloop.workspace.document import Document  # noqa: E402
from codeloop.workspace.intents import find_intents  # noqa: E402
from codeloop_sandbox import Policy, probe  # noqa: E402
from support.fake_openai import FakeOpenAI, Reply  # noqa: E402

STUB = '''import math


def add_pairs(xs: list[int]) -> list[int]:
    """Sum adjacent pairs.

    >>> add_pairs([1, 2, 3, 4])
    [3, 7]
    >>> add_pairs([])
    []
    """
    ...
'''
RIGHT = "def add_pairs(xs: list[int]) -> list[int]:\n    return [a + b for a, b in zip(xs[::2], xs[1::2])]\n"
WRONG = "def add_pairs(xs: list[int]) -> list[int]:\n    return [a - b for a, b in zip(xs[::2], xs[1::2])]\n"
ANSWER = f"Sure! Here it is:\n\n```python\nimport math\n\n{RIGHT}```\n\nIt pairs items with zip.\n"
TESTS = ("```python\nfrom pairs import add_pairs\n\ndef test_two():\n    assert add_pairs([1, 1]) == [2]\n\n"
         "def test_len():\n    assert len(add_pairs(list(range(10)))) == 5\n```")


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    ex = timed(lambda: extract_function(ANSWER, "add_pairs", STUB.split("\n\n\n")[1]), 500)
    index = ModuleIndex.for_workspace(None)
    code = extract_function(ANSWER, "add_pairs", STUB.split("\n\n\n")[1]).code
    audit_code(code, index)  # warm bandit's plugin loading
    au = timed(lambda: audit_code(code, index), 50)

    runs = []
    level = probe().level
    if level in ("A", "B"):
        for _ in range(args.rounds):
            ws = Path(tempfile.mkdtemp(prefix="bench-implement-"))
            (ws / "pyproject.toml").write_text("")
            (ws / "pairs.py").write_text(STUB)
            intent = next(i for i in find_intents(Document((ws / "pairs.py").as_uri(), STUB)) if i.kind == "implement")
            with FakeOpenAI() as fake, RewardLog(ws / "rewards.sqlite3") as log:
                fence = "```python\n{}```"
                fake.add_chat(Reply.text(*(fence.format(c) for c in (WRONG, WRONG, RIGHT, WRONG))), TESTS)
                llm = OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake", timeout=10, max_retries=0))
                marks: list[tuple[str, float]] = []
                t0 = time.perf_counter()
                res = implement_intent(intent, STUB, ws, llm, Policy(timeout=60, allow_levels=("A", "B")),
                                Settings(model=ModelSettings(candidates=4)), path=ws / "pairs.py", log=log,
                                progress=lambda m, f, marks=marks, t0=t0: marks.append((m, time.perf_counter() - t0)))
                total = time.perf_counter() - t0
                llm.close()
            verify_start = next(t for m, t in marks if m.startswith("verifying"))
            runs.append({"total_s": total, "sandbox_s": total - verify_start, "verified": res.verified})
    results = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "sandbox_level": level,
                    "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]},
        "extract_us_median": statistics.median(ex) * 1e6,
        "audit_ms_median": statistics.median(au) * 1e3,
        "implement_runs": runs,
        "implement_s_median": statistics.median(r["total_s"] for r in runs) if runs else None,
        "sandbox_s_median": statistics.median(r["sandbox_s"] for r in runs) if runs else None,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = [
        "# implement pipeline: own costs",
        "",
        f"Python {results['machine']['python']}, {results['machine']['platform']}, sandbox level {level}, "
        f"{results['machine']['cpus']} CPUs, load average {results['machine']['load_avg_1m']:.1f} at the end.",
        "Model: the fake OpenAI server (answers at once), so the numbers are codeloop's work only.",
        "",
        "| what | median |",
        "|---|---|",
        f"| extract one function from a fenced answer with prose | {results['extract_us_median']:.0f} µs |",
        f"| audit one candidate (bandit + imports + own checks) | {results['audit_ms_median']:.1f} ms |",
    ]
    if runs:
        md += [
            f"| `implement`, 4 candidates (3rd right), 2 examples + 2 generated tests + shared inputs | "
            f"{results['implement_s_median']:.2f} s |",
            f"| of which: sandboxed verification (4 pytest runs in parallel, with coverage) | "
            f"{results['sandbox_s_median']:.2f} s |",
            "",
            f"{len(runs)} runs; all verified: {all(r['verified'] for r in runs)}.",
        ]
    (HERE / "results.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
