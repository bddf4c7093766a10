"""Development benchmark: what ``codeloop implement`` writes, judged by hidden tests (MBPP).

    PYTHONPATH=server:sandbox .venv/bin/python bench/implement/mbpp_bench.py --mbpp /tmp/mbpp.jsonl [--tasks 80] [--seed 12]

Getting MBPP (public, CC-BY-4.0; never commit its text or code): on a machine with internet,

    curl -L -o /tmp/mbpp.jsonl https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl

(974 rows, sha256 ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f for the
copy used here). Without internet, any exact copy works; the path comes from ``--mbpp`` or
``$MBPP_JSONL``. HumanEval and its derivatives are kept out: they are the acceptance sets.

What one task is. A row becomes a task when its reference is one function (imports allowed,
no helpers or globals) and its three asserts are ``assert f(literal args) == literal``
(no floats); 861 of the 974 rows are eligible. Tasks with no plausible mutant (below) are
easy for every picker and are kept with probability ``--easy-share`` (0.35), so that most
tasks pose the picking problem. The input is a module ``solution.py`` with the reference's imports and a stub
``def f(params):`` whose docstring is the problem text plus ONE example (the first assert,
as ``>>> f(...)`` and its value); asserts 2 and 3 are hidden and judge what is written. With
``--visible 2`` the first two asserts are examples and the third alone is hidden.

Where the candidates come from. No model runs here: a replay server (the project's fake
OpenAI server, scripted per request) answers the implement request with samples made the
way a temperature-0.8 sampler's look: per task a probability of being right p ~ Beta(0.6, 0.8)
(bimodal: many tasks mostly right or mostly wrong), each sample right with probability p;
a right sample is the reference (sometimes after prose; with ``--right-variants S`` a share S
of right samples carry a defensive first line ``if not <first arg>: return <zero>``, still right on
the asserts but not the reference's behaviour on falsy input, as real samples differ), a wrong one is a single-point
mutant of the reference (operator, comparison/boundary, integer constant +-1, slice bound,
and/or, not, min/max, ``reverse=``, ``range`` end) from a small per-task pool of 1-2
"plausible" mutants (pass the visible example, fail a hidden assert: checked by running
them) and 1-3 mutants that fail the visible example; models repeat their mistakes, so the
pool is small and the first mutant in each is drawn more often. The tests request gets
4-8 pytest functions: the visible example, asserts on nearby inputs (the example's
arguments perturbed) whose expected values come from the reference, of which a share
drawn per task in [1/3, 2/3] is wrong (a plausible mutant's output where it differs, else
a slip: +-1, reversed, truncated, negated), and with probability 0.25 a placeholder test
``assert f(____) == ...``. Further requests (more samples, repairs) get further samples
from the same sampler. ``--model-tests none`` answers the tests request with prose (no
usable tests), the other case the issue measured. Everything is seeded: the same seed gives the same candidates.

What runs. Each task goes through the implement service (``codeloop.services.implement``:
real extraction, audit, bubblewrap sandbox, ranking), learning off, ``--samples``
candidates per request, ``--repair-rounds`` (default 0, so that what is written is one of
the candidates the baselines see). What is written: the outcome's new text when its level
is ``verified`` (``outcome.level`` when the service has levels, else ``outcome.verified``);
the written module is run with the hidden asserts in a child Python with a timeout.

The numbers (results in mbpp-results.md/.json next to this file):

* pass@1 (written): tasks whose written code passes the hidden asserts / all tasks
  (nothing written counts as not passed; a task that errors counts as not passed);
* precision of verified: of the tasks written as verified, the share that pass;
* the share of each level;
* baselines on the same first ``--samples`` candidates: "first candidate", "first candidate
  passing the visible example" (we run the candidates against it ourselves) and "oracle"
  (any candidate correct: the ceiling of any picker);
* "best, whatever its level": pass rate of the service's top candidate if it were written
  regardless of level (how good the ranking is apart from the decision to write).

Ctrl-C stops after the current task and writes the partial results.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

from mbpp_exec import evaluate  # noqa: E402
from mbpp_tasks import MODULE, Task, build_task, guarded, load_rows, mutants, other_calls, wrong_value  # noqa: E402

from support.fake_openai import FakeOpenAI, Reply  # noqa: E402

PROSE = ["", "", "Here is the implementation:\n\n", "Sure! Here's a solution:\n\n", "```python\n"]
MAX_MUTANTS = 60


@dataclass
class Sample:
    kind: str  # "right", "plausible" (passes the visible example, fails hidden), "visible-fail"
    code: str

    @property
    def correct(self) -> bool:
        return self.kind == "right"

    @property
    def passes_visible(self) -> bool:
        return self.kind in ("right", "plausible")

    def answer(self, rng: random.Random) -> str:
        prose = rng.choice(PROSE)
        if prose == "```python\n":
            return f"```python\n{self.code}```\n"
        return f"{prose}```python\n{self.code}```\n"


@dataclass
class Prepared:
    """A task with its candidate pools and model tests, ready for the replay."""

    task: Task
    p_right: float
    plausible: list[str]
    failing: list[str]
    tests: str
    n_model_tests: int
    n_wrong_tests: int
    placeholder: bool
    rng: random.Random = field(repr=False)
    guarded: str | None = None  # a right sample with a defensive first line (``--right-variants``)
    variant_share: float = 0.0

    def draw(self) -> Sample:
        rng = self.rng
        if rng.random() < self.p_right:
            if self.guarded and self.variant_share and rng.random() < self.variant_share:
                return Sample("right", self.guarded)
            return Sample("right", self.task.reference)
        use_plausible = self.plausible and (not self.failing or rng.random() < 0.5)
        pool, kind = (self.plausible, "plausible") if use_plausible else (self.failing, "visible-fail")
        if not pool:  # no mutant at all: a sample that does not implement anything useful
            return Sample("visible-fail", f"{self.task.signature}\n    return None\n")
        weights = [0.7, 0.3, 0.2][: len(pool)]
        return Sample(kind, rng.choices(pool, weights=weights)[0])


def prepare(task: Task, rng: random.Random, variant_share: float = 0.0) -> Prepared | None:
    """Mutants classified by running them; None when the reference fails its own asserts.
    ``variant_share``: the share of right samples that carry a defensive guard (when the
    guarded reference still passes every assert)."""
    muts = mutants(task.reference)
    if len(muts) > MAX_MUTANTS:
        muts = rng.sample(muts, MAX_MUTANTS)
    calls = other_calls(task, rng, 8)
    asserts = [*task.visible_asserts, *task.hidden]
    k = len(task.visible_asserts)
    results = evaluate([task.reference] + [m for _, m in muts], asserts, calls)
    ref = results[0]
    if not ref.passes_all:
        return None
    plausible, failing = [], []
    for (_, code), res in zip(muts, results[1:], strict=True):
        if res.load is not None:
            continue
        if all(res.asserts[:k]) and not all(res.asserts[k:]):
            plausible.append((code, res))
        elif not all(res.asserts[:k]):
            failing.append((code, res))
    rng.shuffle(plausible)
    rng.shuffle(failing)
    plausible, failing = plausible[: rng.choice([1, 2])], failing[: rng.choice([1, 2, 3])]
    # The model's tests: the example, then nearby inputs, a share of them wrong.
    usable = [(c, v) for c, v in zip(calls, ref.calls, strict=True) if v is not None]
    n_more = min(len(usable), rng.randint(3, 7))
    wrong_share = rng.uniform(1 / 3, 2 / 3)
    n_wrong = round(n_more * wrong_share)
    wrong_idx = set(rng.sample(range(n_more), n_wrong))
    lines = [f"from {MODULE} import {task.name}"]
    for j, (call, value) in enumerate(task.examples):
        lines += ["", "", f"def test_example_{j + 1}():", f"    assert {call} == {value!r}"]
    for i, (call, value) in enumerate(usable[:n_more]):
        expected = value
        if i in wrong_idx:
            k = calls.index(call)
            alt = [r.calls[k] for _, r in plausible if r.calls[k] is not None and r.calls[k] != value]
            expected = alt[0] if alt else repr(wrong_value(ast.literal_eval(value), rng))
            if expected == value:
                expected = repr(wrong_value(ast.literal_eval(value), rng))
        lines += ["", "", f"def test_case_{i + 1}():", f"    assert {call} == {expected}"]
    placeholder = rng.random() < 0.25
    if placeholder:
        lines += ["", "", "def test_placeholder():", f"    assert {task.name}(____) == ..."]
    tests = "Here are the tests:\n\n```python\n" + "\n".join(lines) + "\n```\n"
    prepared = Prepared(task, rng.betavariate(0.6, 0.8), [c for c, _ in plausible], [c for c, _ in failing], tests,
                        1 + n_more + placeholder, len(wrong_idx), placeholder, rng, variant_share=variant_share)
    alt = guarded(task.reference, task.name, task.visible_expected) if variant_share else None
    if alt and evaluate([alt], asserts)[0].passes_all:
        prepared.guarded = alt
    return prepared


class _ByThread(list):
    """The server's request log, also remembering each handler thread's latest request, so
    that concurrent requests are answered by what each one asks."""

    def __init__(self) -> None:
        super().__init__()
        self.latest: dict[int, Any] = {}

    def append(self, rec: Any) -> None:
        self.latest[threading.get_ident()] = rec
        super().append(rec)


class ReplayServer(FakeOpenAI):
    """The fake OpenAI server answering by what is asked: the tests request gets the task's
    model tests, every other request gets the next ``n`` samples of the task's sampler."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = _ByThread()
        self.prepared: Prepared | None = None
        self.served: list[Sample] = []
        self.first: list[Sample] = []
        self.answer_rng = random.Random(0)
        self.tests_requests = 0
        self.model_tests = True  # False: the tests request gets no usable answer

    def script(self, prepared: Prepared, first: list[Sample], seed: int) -> None:
        with self.lock:
            self.prepared, self.first, self.served = prepared, list(first), []
            self.answer_rng = random.Random(seed)
            self.tests_requests = 0

    def _next(self, kind: str, body: dict[str, Any] | None = None) -> Reply:
        with self.lock:
            if body is None:
                rec = self.requests.latest.get(threading.get_ident())  # type: ignore[attr-defined]
                body = rec.body if rec is not None and isinstance(rec.body, dict) else {}
            prepared = self.prepared
            if prepared is None:
                return Reply.text("no task")
            messages = body.get("messages") or []
            system = str(messages[0].get("content", "")) if messages else ""
            if system.startswith("You write pytest tests"):
                self.tests_requests += 1
                return Reply.text(prepared.tests if self.model_tests else "I cannot write tests for this.")
            n = max(1, int(body.get("n") or 1))
            out = []
            for _ in range(n):
                sample = self.first.pop(0) if self.first else prepared.draw()
                self.served.append(sample)
                out.append(sample.answer(self.answer_rng))
            return Reply.text(*out)


@dataclass
class Row:
    task_id: int
    name: str
    p_right: float = 0.0
    n_right: int = 0
    n_plausible: int = 0
    first: bool = False
    first_visible: bool = False
    oracle: bool = False
    level: str = ""
    written: bool = False
    written_pass: bool = False
    best_pass: bool = False
    served: int = 0
    oracle_served: bool = False
    model_tests: int = 0
    wrong_tests: int = 0
    placeholder: bool = False
    seconds: float = 0.0
    error: str | None = None
    why: str = ""  # the outcome's evidence and first failure, for reading the json


def level_of(outcome: Any) -> str:
    level = getattr(outcome, "level", None)
    if level:
        return str(level)
    return "verified" if outcome.verified else "unverified"


def run_task(prepared: Prepared, fake: ReplayServer, args: argparse.Namespace, seed: int) -> Row:
    from codeloop.config import GenerateSettings, ModelSettings, SandboxSettings, Settings
    from codeloop.job import Job
    from codeloop.services.implement import ImplementRequest, implement

    task = prepared.task
    first = [prepared.draw() for _ in range(args.samples)]
    row = Row(task.task_id, task.name, p_right=round(prepared.p_right, 3), n_right=sum(s.correct for s in first),
              n_plausible=sum(s.kind == "plausible" for s in first), first=first[0].correct,
              first_visible=next((s.correct for s in first if s.passes_visible), False),
              oracle=any(s.correct for s in first), model_tests=prepared.n_model_tests,
              wrong_tests=prepared.n_wrong_tests, placeholder=prepared.placeholder)
    fake.script(prepared, first, seed)
    settings = Settings(model=ModelSettings(base_url=fake.base_url, name="fake-model", candidates=args.samples,
                                            timeout=60.0, max_retries=0),
                        generate=GenerateSettings(repair_rounds=args.repair_rounds),
                        sandbox=SandboxSettings(allow_levels=("A", "B")))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mbpp-bench-") as tmp:
        ws = Path(tmp)
        (ws / "pyproject.toml").write_text(f"[project]\nname = '{MODULE}'\n")
        stub = task.stub()
        (ws / f"{MODULE}.py").write_text(stub)
        line = next(i for i, text in enumerate(stub.splitlines()) if text.startswith("def "))
        request = ImplementRequest(path=str(ws / f"{MODULE}.py"), document_text=stub, workspace=str(ws),
                                   settings=settings, line=line, learn=False)
        outcome = implement(request, Job())
        try:
            row.level = level_of(outcome)
            row.why = "; ".join([outcome.evidence, *outcome.failed[:1]])[:300]
            if outcome.error and outcome.best is None:
                row.error = f"{outcome.error_kind}: {outcome.error}"
            judged = []
            if outcome.new_text is not None:
                judged = evaluate([outcome.new_text], task.hidden, seconds=5.0)
            row.best_pass = bool(judged) and judged[0].passes_all
            row.written = outcome.new_text is not None and row.level == "verified"
            row.written_pass = row.written and row.best_pass
        finally:
            outcome.close()
    row.seconds = round(time.perf_counter() - start, 2)
    row.served = len(fake.served)
    row.oracle_served = any(s.correct for s in fake.served)
    return row


def pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f} % ({num}/{den})" if den else "n/a (0/0)"


def summarize(rows: list[Row]) -> dict[str, Any]:
    done = [r for r in rows if r.error is None]
    n = len(rows)
    verified = [r for r in rows if r.level == "verified"]
    levels: dict[str, int] = {}
    for r in rows:
        key = r.level if r.error is None else "error"
        levels[key] = levels.get(key, 0) + 1
    return {
        "tasks": n,
        "errors": n - len(done),
        "pass_at_1_written": sum(r.written_pass for r in rows),
        "verified": len(verified),
        "verified_correct": sum(r.written_pass for r in verified),
        # wrong and verified although no served sample was right: no picker could have helped
        "verified_wrong_no_right": sum(not r.written_pass and not r.oracle_served for r in verified),
        "levels": levels,
        "first_candidate": sum(r.first for r in rows),
        "first_passing_visible": sum(r.first_visible for r in rows),
        "oracle": sum(r.oracle for r in rows),
        "best_any_level": sum(r.best_pass for r in rows),
        "oracle_served": sum(r.oracle_served for r in rows),
        "samples_right": sum(r.n_right for r in rows),
        "model_tests": sum(r.model_tests for r in rows),
        "model_tests_wrong": sum(r.wrong_tests for r in rows),
        "placeholders": sum(r.placeholder for r in rows),
    }


def markdown(s: dict[str, Any], meta: dict[str, Any]) -> str:
    n = s["tasks"]
    lines = [
        "# implement on MBPP tasks (development benchmark)",
        "",
        f"{meta['date']}, commit {meta['commit']}, {meta['machine']}, {meta['cpus']} CPUs, load "
        f"{meta['load_start']:.2f} -> {meta['load_end']:.2f}, sandbox level {meta['sandbox_level']}.",
        f"Seed {meta['seed']}, {n} tasks{' (INTERRUPTED: partial)' if meta['interrupted'] else ''}, "
        f"{meta['samples']} samples per request, repair rounds {meta['repair_rounds']}, "
        f"model tests {meta.get('model_tests', 'noisy')}, right samples with a guard {meta.get('right_variants', 0):.0%}, "
        f"examples shown {meta.get('visible', 1)}, "
        f"wall time {meta['wall_s']:.0f} s ({meta['wall_s'] / max(n, 1):.1f} s per task).",
        f"Candidates: {s['samples_right']} of {n * meta['samples']} first samples right; model tests: "
        + (f"{s['model_tests']}, of which {s['model_tests_wrong']} wrong, {s['placeholders']} placeholders."
           if meta.get("model_tests", "noisy") == "noisy" else "none (the tests request gets prose only)."),
        "",
        "| measure | value |",
        "|---|---|",
        f"| **pass@1 of what is written** (unwritten = not passed) | {pct(s['pass_at_1_written'], n)} |",
        f"| precision of `verified` | {pct(s['verified_correct'], s['verified'])} |",
        f"| wrong `verified` where no served sample was right | "
        f"{s.get('verified_wrong_no_right', 'n/a')} of {s['verified'] - s['verified_correct']} |",
    ]
    for level, count in sorted(s["levels"].items()):
        lines.append(f"| share `{level}` | {pct(count, n)} |")
    lines += [
        f"| baseline: first candidate | {pct(s['first_candidate'], n)} |",
        f"| baseline: first candidate passing the visible example | {pct(s['first_passing_visible'], n)} |",
        f"| baseline: oracle (any of the first {meta['samples']} correct) | {pct(s['oracle'], n)} |",
        f"| service's best candidate, written whatever its level | {pct(s['best_any_level'], n)} |",
        f"| oracle over every served sample (incl. extra requests) | {pct(s['oracle_served'], n)} |",
        f"| tasks that errored (counted as not passed) | {s['errors']} |",
        "",
        "How the tasks and candidates are made and what each line means: the docstring of "
        "bench/implement/mbpp_bench.py.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mbpp", default=os.environ.get("MBPP_JSONL"), help="mbpp.jsonl (or $MBPP_JSONL)")
    parser.add_argument("--tasks", type=int, default=80)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--visible", type=int, choices=(1, 2), default=1,
                        help="examples shown in the stub's docstring (the other asserts are hidden)")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--repair-rounds", type=int, default=0)
    parser.add_argument("--model-tests", choices=("noisy", "none"), default="noisy",
                        help="none: the tests request gets no usable answer")
    parser.add_argument("--easy-share", type=float, default=0.35,
                        help="chance to keep a task none of whose mutants passes the visible example")
    parser.add_argument("--right-variants", type=float, default=0.0,
                        help="share of right samples with a defensive first line (right, but not the reference's behaviour on falsy input)")
    parser.add_argument("--render", metavar="JSON", help="only rewrite the .md of an earlier run's .json (to --out)")
    parser.add_argument("--out", default=str(HERE / "mbpp-results"), help="path prefix for .md and .json")
    args = parser.parse_args(argv)
    if args.render:
        earlier = json.loads(Path(args.render).read_text())
        rows = [Row(**r) for r in earlier["tasks"]]
        Path(args.out).with_suffix(".md").write_text(markdown(summarize(rows), earlier["meta"]))
        return 0
    if not args.mbpp or not Path(args.mbpp).is_file():
        parser.error("give MBPP's mbpp.jsonl with --mbpp PATH or $MBPP_JSONL (see this script's docstring)")

    from codeloop_sandbox import probe

    sandbox_level = probe().level
    os.environ.setdefault("OPENAI_API_KEY", "sk-mbpp-bench-0123456789abcdef")
    data_dir = tempfile.mkdtemp(prefix="mbpp-bench-data-")
    os.environ["XDG_DATA_HOME"] = data_dir  # nothing of the bench reaches the user's reward log

    rng = random.Random(args.seed)
    tasks = [t for t in (build_task(r, args.visible) for r in load_rows(args.mbpp)) if t is not None]
    rng.shuffle(tasks)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit,
        "machine": f"{platform.machine()} {platform.system()} Python {platform.python_version()}",
        "cpus": os.cpu_count(), "load_start": os.getloadavg()[0], "sandbox_level": sandbox_level,
        "seed": args.seed, "samples": args.samples, "repair_rounds": args.repair_rounds,
        "eligible_rows": len(tasks), "easy_share": args.easy_share, "model_tests": args.model_tests, "interrupted": False,
        "right_variants": args.right_variants, "visible": args.visible,
    }
    rows: list[Row] = []
    t0 = time.perf_counter()
    with ReplayServer() as fake:
        fake.model_tests = args.model_tests == "noisy"
        try:
            for task in tasks:
                if len(rows) >= args.tasks:
                    break
                task_rng = random.Random(f"{args.seed}:{task.task_id}")
                try:
                    prepared = prepare(task, task_rng, args.right_variants)
                except Exception as exc:  # noqa: BLE001 - a task that cannot be built is skipped, not fatal
                    print(f"skip {task.task_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                if prepared is None:
                    continue
                if not prepared.plausible and task_rng.random() >= args.easy_share:
                    continue  # keep the picking problem in most tasks (see --easy-share)
                try:
                    row = run_task(prepared, fake, args, args.seed * 1000 + task.task_id)
                except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal
                    row = Row(task.task_id, task.name, error=f"{type(exc).__name__}: {exc}"[:300])
                rows.append(row)
                print(f"[{len(rows)}/{args.tasks}] {task.task_id} {task.name}: {row.level or 'error'} "
                      f"written_pass={row.written_pass} right={row.n_right}/{args.samples} "
                      f"first_vis={row.first_visible} oracle={row.oracle} {row.seconds:.1f}s"
                      + (f" ERROR {row.error}" if row.error else ""), file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            meta["interrupted"] = True
    meta["wall_s"] = time.perf_counter() - t0
    meta["load_end"] = os.getloadavg()[0]
    summary = summarize(rows)
    md = markdown(summary, meta)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "summary": summary,
                                                    "tasks": [asdict(r) for r in rows]}, indent=1) + "\n")
    out.with_suffix(".md").write_text(md)
    print(md)
    with contextlib.suppress(OSError):
        import shutil
        shutil.rmtree(data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
