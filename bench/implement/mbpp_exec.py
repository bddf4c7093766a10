"""Run code from the benchmark (references, mutants, written modules) outside the process:
one child Python per batch, a SIGALRM budget per statement, an address-space cap, and a
wall-clock timeout for the whole child (a batch that times out is retried one code at a time).

The code is MBPP references and their mutants: not hostile, but loops may never end and
lists may grow without bound, hence the limits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

_WORKER = r'''
import ast, json, resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
job = json.load(sys.stdin)
limit = job["seconds"]
class Slow(Exception):
    pass
def alarm(*_):
    raise Slow()
signal.signal(signal.SIGALRM, alarm)
def timed(fn):
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
out = []
for code in job["codes"]:
    ns = {"__name__": "candidate"}
    res = {"load": None, "asserts": [], "calls": []}
    try:
        timed(lambda: exec(compile(code, "<candidate>", "exec"), ns))
    except BaseException as e:
        res["load"] = type(e).__name__
        res["asserts"] = [False] * len(job["asserts"])
        res["calls"] = [None] * len(job["calls"])
        out.append(res)
        continue
    slow = False  # one timeout: the code is a hang, the rest of its checks fail without running
    for a in job["asserts"]:
        try:
            if slow:
                raise Slow()
            timed(lambda: exec(compile(a, "<assert>", "exec"), dict(ns)))
            res["asserts"].append(True)
        except Slow:
            slow = True
            res["asserts"].append(False)
        except BaseException:
            res["asserts"].append(False)
    for c in job["calls"]:
        try:
            if slow:
                raise Slow()
            v = timed(lambda: eval(compile(c, "<call>", "eval"), dict(ns)))
            r = repr(v)
            res["calls"].append(r if len(r) < 2000 and ast.literal_eval(r) == v else None)
        except Slow:
            slow = True
            res["calls"].append(None)
        except BaseException:
            res["calls"].append(None)
    out.append(res)
sys.stdout.write(json.dumps(out))
'''


@dataclass
class Result:
    """One code's results: ``load`` is the exception name when defining it failed."""

    load: str | None
    asserts: list[bool]
    calls: list[str | None]  # repr of each call's value (a literal), None on error

    @property
    def passes_all(self) -> bool:
        return self.load is None and all(self.asserts)


def evaluate(codes: list[str], asserts: list[str], calls: list[str] | None = None, seconds: float = 1.0,
             batch_timeout: float = 120.0) -> list[Result]:
    """Each code's pass/fail on each assert and value of each call."""
    calls = calls or []
    if not codes:
        return []
    job = json.dumps({"codes": codes, "asserts": asserts, "calls": calls, "seconds": seconds})
    try:
        proc = subprocess.run([sys.executable, "-I", "-c", _WORKER], input=job, capture_output=True, text=True,
                              timeout=batch_timeout)
        rows: list[dict[str, Any]] = json.loads(proc.stdout)
        return [Result(r["load"], r["asserts"], r["calls"]) for r in rows]
    except (subprocess.TimeoutExpired, json.JSONDecodeError, KeyError, TypeError):
        if len(codes) == 1:  # a crash or a hang outside the alarms: the code fails everything
            return [Result("Crash", [False] * len(asserts), [None] * len(calls))]
        return [r for code in codes for r in evaluate([code], asserts, calls, seconds, batch_timeout=30.0)]
