#!/usr/bin/env python3
"""Mutation score of one generated test suite on one subject module, with cosmic-ray.

    mutation.py MODULE TESTDIR --tool LABEL --csv OUT.csv [--python SUBJECTS_PY]
                [--cosmic-ray PATH] [--max-minutes N] [--replace]
                [--sample N --sample-seed S] [--outcomes OUT.jsonl]

The same procedure for every tool's suite:

  * the subject's top-level package is copied to a scratch `src/` and the tests to `tests/`;
    cosmic-ray 8.7.0 (core operators, local sequential distributor) mutates the copy in place,
    one mutant at a time, and runs the suite against it: `SUBJECTS_PY -m pytest -x` with
    PYTHONPATH=src (so the copy shadows the installed dist) and the same pytest options as the
    harness's measure_tests.py (importlib import mode, plugin autoload off, per-test timeout);
  * every test run happens inside the bubblewrap sandbox (sandboxed.sh), the scratch folder
    and the subjects venv bound read-only;
  * every run has PYTHONHASHSEED=0: a test that depends on the order of a set of strings
    (Pynguin writes such asserts) then passes or fails the same way in every run, instead of
    passing the red-test check and failing cosmic-ray's baseline;
  * tests that fail or error on the UNMUTATED code are deselected first (a red test would
    "kill" every mutant); their number is reported. cosmic-ray's baseline must then pass;
  * score = killed / (killed + survived); a mutant whose run times out (timeout = max(10 s,
    10 x the baseline run)) counts as killed, as cosmic-ray does; incompetent mutants are
    reported and left out of the score.

--sample N keeps N of cosmic-ray's work items (mutants) and deletes the others from its session
database after `cosmic-ray init`, before the baseline. The choice depends only on the module, the
seed and the mutants themselves: every mutant is keyed by (operator, occurrence, start, end,
operator args), the keys are sorted, and random.Random("MODULE:S").sample picks N of them (all
when there are at most N). The source is the same for every tool, so every tool's suite faces the
SAME N mutants; the scores of two tools on one module are directly comparable (a sample of the
whole population, not of "the first N done" as a time limit would give). The row records the
population (mutants_total) and the seed.

One row is appended to OUT.csv (--replace: it replaces the row of the same module and tool,
the other rows stay). --max-minutes stops cosmic-ray after that long and scores
the mutants done so far (recorded as `partial` in the status column).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("TESTGEN_BENCH", "/work/shared/tools/testgen-bench"))
import measure_tests  # noqa: E402  (the shared harness: module_file)

FIELDS = ["module", "tool", "mutation_tool", "mutants", "killed", "survived", "incompetent",
          "mutation_score", "tests_run", "tests_deselected_red", "wall_s", "status",
          "mutants_total", "sample_seed"]


def mutant_key(operator: str, args: str, occurrence: int, start: tuple[int, int],
               end: tuple[int, int]) -> str:
    """A key for one mutant that does not depend on where the scratch copy lives or on
    cosmic-ray's random job ids: the same source gives the same keys."""
    return f"{start[0]}:{start[1]}-{end[0]}:{end[1]} {operator} #{occurrence} {args}"


def sample_keys(keys: list[str], n: int, module: str, seed: int) -> set[str]:
    """The N keys kept for MODULE and SEED (all of them when there are at most N)."""
    ordered = sorted(set(keys))
    if n <= 0 or len(ordered) <= n:
        return set(ordered)
    return set(random.Random(f"{module}:{seed}").sample(ordered, n))


def sample_session(session: Path, n: int, module: str, seed: int) -> int:
    """Delete all but the sampled work items from a cosmic-ray 8.7 session database
    (tables work_items and mutation_specs; one spec per item with the core operators).
    Returns the population size."""
    con = sqlite3.connect(session)
    try:
        rows = con.execute(
            "SELECT job_id, operator_name, operator_args, occurrence, start_pos_row,"
            " start_pos_col, end_pos_row, end_pos_col FROM mutation_specs").fetchall()
        by_job: dict[str, list[str]] = {}
        for job, op, args, occ, sr, sc, er, ec in rows:
            # the JSON column holds json.dumps(args) once more encoded: decode to what `dump` prints
            by_job.setdefault(job, []).append(mutant_key(op, json.loads(args), occ, (sr, sc), (er, ec)))
        job_key = {job: " | ".join(sorted(ks)) for job, ks in by_job.items()}
        keep = sample_keys(list(job_key.values()), n, module, seed)
        drop = [(job,) for job, k in job_key.items() if k not in keep]
        con.executemany("DELETE FROM mutation_specs WHERE job_id = ?", drop)
        con.executemany("DELETE FROM work_items WHERE job_id = ?", drop)
        con.commit()
        return len(job_key)
    finally:
        con.close()


def pytest_argv(py: str, tests: Path, deselect: list[str], junit: Path | None = None) -> list[str]:
    argv = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_timeout",
            "--timeout=20", "--import-mode=importlib", f"--rootdir={tests}"]
    if junit:
        argv += [f"--junitxml={junit}", "-o", "junit_family=xunit2"]
    else:
        argv += ["-x"]
    for d in deselect:
        argv += ["--deselect", d]
    return argv + [str(tests)]


def sandboxed(argv: list[str], venv: Path, scratch: Path, rw: Path | None = None) -> list[str]:
    cmd = [str(HERE / "sandboxed.sh"), "--ro", str(venv), "--ro", str(scratch)]
    if rw:
        cmd += ["--rw", str(rw)]
    cmd += ["--chdir", str(scratch / "tests"), "--setenv", "PYTHONPATH", str(scratch / "src"),
            "--setenv", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "PYTHONHASHSEED", "0", "--"]
    return cmd + argv


def red_tests(junit: Path, tests: Path) -> tuple[int, list[str]]:
    """(number of test cases, node ids (relative to rootdir TESTS) of failed/errored ones)."""
    if not junit.exists():
        return 0, []
    n, red = 0, []
    for tc in ET.parse(junit).getroot().iter("testcase"):
        n += 1
        if any(c.tag in ("failure", "error") for c in tc):
            # classname is the dotted path of the file relative to rootdir (+ class, if any)
            parts = tc.get("classname", "").split(".")
            for i in range(len(parts), 0, -1):
                f = tests.joinpath(*parts[:i]).with_suffix(".py")
                if f.exists():
                    node = "::".join([f.relative_to(tests).as_posix()] + parts[i:] + [tc.get("name", "")])
                    red.append(node)
                    break
    return n, red


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("module")
    ap.add_argument("testdir")
    ap.add_argument("--tool", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--python", default=os.environ.get(
        "SUBJECTS_PY", os.path.join(os.environ.get("TESTGEN_WORK", "/tmp/testgen-bench"),
                                    "subjects-venv/bin/python")))
    ap.add_argument("--cosmic-ray", default=os.environ.get("COSMIC_RAY", "cosmic-ray"))
    ap.add_argument("--max-minutes", type=float, default=0)
    ap.add_argument("--replace", action="store_true",
                    help="drop an earlier row of the same module and tool from the CSV (default: append)")
    ap.add_argument("--survivors", default="", help="write the surviving mutants here (one JSON per line)")
    ap.add_argument("--outcomes", default="",
                    help="write every mutant's key, place, outcome and diff here (one JSON per line)")
    ap.add_argument("--sample", type=int, default=0,
                    help="keep this many mutants, the same ones for every tool (0: all)")
    ap.add_argument("--sample-seed", type=int, default=1)
    a = ap.parse_args()

    t0 = time.monotonic()
    py = a.python
    venv = Path(py).parent.parent
    src_file = Path(measure_tests.module_file(py, a.module))
    top = a.module.split(".")[0]
    top_origin = Path(measure_tests.module_file(py, top))
    # the folder that holds the top-level package (or single-file module)
    if top_origin.name == "__init__.py":
        pkg_root, pkg = top_origin.parent.parent, top_origin.parent
    else:
        pkg_root, pkg = top_origin.parent, top_origin
    rel = src_file.relative_to(pkg_root)
    status = "ok"
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        scratch = Path(tmp)
        (scratch / "src").mkdir()
        if pkg.is_dir():
            shutil.copytree(pkg, scratch / "src" / pkg.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(pkg, scratch / "src" / pkg.name)
        tests = scratch / "tests"
        shutil.copytree(a.testdir, tests, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        out = scratch / "out"
        out.mkdir()
        # the copy, not the installed dist, must be what the tests import
        chk = subprocess.run(sandboxed([py, "-c", f"import importlib; print(importlib.import_module({a.module!r}).__file__)"], venv, scratch),
                             capture_output=True, text=True)
        if Path(chk.stdout.strip()).resolve() != (scratch / "src" / rel).resolve():
            raise SystemExit(f"the scratch copy is not imported: {chk.stdout} {chk.stderr}")
        # 1. tests red on the unmutated code are deselected
        junit = out / "junit.xml"
        tb = time.monotonic()
        subprocess.run(sandboxed(pytest_argv(py, tests, [], junit), venv, scratch, rw=out),
                       capture_output=True, text=True)
        base_s = time.monotonic() - tb
        n_tests, red = red_tests(junit, tests)
        # 2. cosmic-ray session
        test_cmd = shlex.join(sandboxed(pytest_argv(py, tests, red), venv, scratch))
        cfg = scratch / "cr.toml"
        cfg.write_text(
            "[cosmic-ray]\n"
            f"module-path = {json.dumps(str(scratch / 'src' / rel))}\n"
            f"timeout = {max(10.0, 10 * base_s):.1f}\n"
            "excluded-modules = []\n"
            f"test-command = {json.dumps(test_cmd)}\n"
            "[cosmic-ray.distributor]\nname = \"local\"\n")
        session = scratch / "session.sqlite"
        cr = a.cosmic_ray
        subprocess.run([cr, "init", str(cfg), str(session)], check=True, cwd=scratch,
                       capture_output=True)
        total = sample_session(session, a.sample, a.module, a.sample_seed) if a.sample else 0
        bl = subprocess.run([cr, "baseline", str(cfg)], cwd=scratch,
                            capture_output=True, text=True)
        if bl.returncode != 0:
            status = "baseline-failed"
            print(bl.stdout[-3000:], bl.stderr[-3000:], file=sys.stderr)
        else:
            try:
                subprocess.run([cr, "exec", str(cfg), str(session)], cwd=scratch, capture_output=True,
                               timeout=a.max_minutes * 60 if a.max_minutes else None)
            except subprocess.TimeoutExpired:
                status = "partial"
        dump = subprocess.run([cr, "dump", str(session)], cwd=scratch, capture_output=True, text=True)
        mutants = killed = survived = incompetent = 0
        survivors: list = []
        outcomes: list = []
        for line in dump.stdout.splitlines():
            _item, result = json.loads(line)
            mutants += 1
            if not result:
                outcome = "not-run"
            elif result.get("worker_outcome") != "normal":
                incompetent += 1
                outcome = "incompetent"
            elif result.get("test_outcome") == "survived":
                survived += 1
                survivors.append(_item)
                outcome = "survived"
            elif result.get("test_outcome") == "killed":
                killed += 1
                outcome = "killed"
            else:
                incompetent += 1
                outcome = "incompetent"
            specs = _item.get("mutations", [])
            outcomes.append({
                "key": " | ".join(sorted(mutant_key(m["operator_name"], json.dumps(m["operator_args"]),
                                                    m["occurrence"], tuple(m["start_pos"]),
                                                    tuple(m["end_pos"])) for m in specs)),
                "operator": ",".join(m["operator_name"] for m in specs),
                "line": specs[0]["start_pos"][0] if specs else 0,
                "definition": specs[0].get("definition_name") if specs else None,
                "outcome": outcome, "diff": (result or {}).get("diff") or ""})
    if a.outcomes:
        with open(a.outcomes, "w") as fh:
            for o in sorted(outcomes, key=lambda o: o["key"]):
                fh.write(json.dumps(o) + "\n")
    if a.survivors:
        with open(a.survivors, "w") as fh:
            for it in survivors:
                fh.write(json.dumps(it) + "\n")
    done = killed + survived
    if status == "ok" and done + incompetent < mutants:
        status = "partial"
    row = {"module": a.module, "tool": a.tool, "mutation_tool": "cosmic-ray 8.7.0",
           "mutants": mutants, "killed": killed, "survived": survived, "incompetent": incompetent,
           "mutation_score": f"{killed / done:.4f}" if done else "",
           "tests_run": n_tests - len(red), "tests_deselected_red": len(red),
           "wall_s": f"{time.monotonic() - t0:.0f}", "status": status,
           "mutants_total": total or mutants, "sample_seed": a.sample_seed if a.sample else ""}
    path = Path(a.csv)
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    if a.replace:  # re-measuring one tool: its earlier row for this module goes, the others stay
        rows = [r for r in rows if (r.get("module"), r.get("tool")) != (a.module, a.tool)]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows + [row]:
            w.writerow({k: r.get(k, "") for k in FIELDS})
    print(row)


if __name__ == "__main__":
    main()
