"""In-sandbox search driver: import the target under coverage and look for useful calls.

Run as ``python driver.py PLAN.json`` inside the sandbox, next to ``_codeloop_inputs.py``
(a copy of :mod:`codeloop.generate.offline.inputs`). Standard library + coverage.py only;
it never imports ``codeloop``. Its parts are the package :mod:`.search`, shipped beside it as
``_codeloop_search`` (see :func:`codeloop.verify.input_search.driver_files`); this file is the
entry point and the search loop. It prints one JSON event per line (:mod:`.search.events`).

For every callable (function, method, property, constructor) it produces a deterministic
stream of candidate calls (docstring examples, a base call, one-parameter-at-a-time
variations over the input pools, then seeded random combinations) and executes each
with a per-call time limit. A candidate is kept when it covers arcs not seen before;
the observation (return value as a readable literal, exception type and message)
becomes the test's assertion. Examples whose result contradicts the docstring are
reported as probable bugs.
"""

from __future__ import annotations

import contextlib
import faulthandler
import inspect
import io
import json
import os
import signal
import sys
import time
import traceback
import typing

if __package__:  # imported in-process (the host's tests): the package's own modules
    from .search import context
    from .search.callables import OPERATOR_IMPORTS, discover
    from .search.candidates import Generator, setup_call_owner
    from .search.events import emit, open_output
    from .search.mutation_run import mutation_run
    from .search.observe import Subject, TextHashes
    from .search.receivers import arrange_receivers, build_receivers, builds, offer_objects
    from .search.runner import Argv, CallTimeout, Runner, arc_list, is_stable, on_alarm, trace_arcs
    from .search.simplify import simplify
    from .search.verdicts import compare_example, credible_hint_bug, wrong_type
else:  # run as a script in the sandbox: the same files, shipped beside it as _codeloop_search
    from _codeloop_search import context
    from _codeloop_search.callables import OPERATOR_IMPORTS, discover
    from _codeloop_search.candidates import Generator, setup_call_owner
    from _codeloop_search.events import emit, open_output
    from _codeloop_search.mutation_run import mutation_run
    from _codeloop_search.observe import Subject, TextHashes
    from _codeloop_search.receivers import arrange_receivers, build_receivers, builds, offer_objects
    from _codeloop_search.runner import Argv, CallTimeout, Runner, arc_list, is_stable, on_alarm, trace_arcs
    from _codeloop_search.simplify import simplify
    from _codeloop_search.verdicts import compare_example, credible_hint_bug, wrong_type

SUSPICIOUS_EXC = {"ZeroDivisionError", "IndexError", "KeyError", "AttributeError", "TypeError",
                  "UnboundLocalError", "RecursionError", "NameError"}
PLATEAU = 80
# Rounds: when every callable's search has gone stale and time remains, search again with the
# objects the calls built (receivers, arguments); stop after QUIET_ROUNDS rounds in a row that
# reached no new arc.
MAX_ROUNDS = 12
QUIET_ROUNDS = 4
MUTANT_CALL_TIMEOUT = 0.2  # a mutant that makes a call this slow is killed (an endless loop)
HANG_GRACE = 3.0  # seconds past the search's end before a stuck process exits itself
CAP_PER_CALLABLE = 3000
SLICE = 25


def emit_cover(runner: Runner, kept_log: list, end: float) -> None:
    """Every arc each kept call reaches on its own (traced one by one, until ``end``): the
    host keeps the smallest set of calls that holds them all (select.py)."""
    arcs: dict = {}
    for cand, _obs, _g in kept_log:
        if time.monotonic() >= end:
            break
        got = trace_arcs(runner, cand)
        if got is not None:
            arcs[cand["id"]] = sorted([a, b] for a, b in got)
    emit({"ev": "cover", "arcs": arcs})


# --------------------------------------------------------------------------- main

def load_inputs_module():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        import _codeloop_inputs as inputs_mod
        import _codeloop_mutants as mutants_mod
        import _codeloop_objects as objects_mod
        import _codeloop_pace as pace_mod
        import _codeloop_shapes as shapes_mod
    finally:
        sys.path.remove(here)
    global _pace_mod
    _pace_mod = pace_mod
    context.shapes_mod = shapes_mod
    return inputs_mod, objects_mod, mutants_mod


_pace_mod = None  # the shipped pace module (loaded in main)


def main(argv: list[str]) -> int:
    open_output()
    TextHashes.install()
    with open(argv[1], encoding="utf-8") as fh:
        plan = json.load(fh)
    inputs_mod, objects_mod, mutants_mod = load_inputs_module()
    context.objects_mod = objects_mod
    # The driver's own directory must not shadow the project's modules.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, plan["import_root"])
    if plan.get("project") and plan["project"] not in sys.path:
        sys.path.insert(1, plan["project"])
    signal.signal(signal.SIGALRM, on_alarm)
    import coverage

    file = os.path.abspath(plan["file"])
    cov = coverage.Coverage(branch=True, data_file=None, include=[file], config_file=False)
    started = time.monotonic()
    sys.argv = Argv([plan["module"]])
    cov.start()
    signal.setitimer(signal.ITIMER_REAL, float(plan.get("import_timeout", 10)))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import importlib

            module = importlib.import_module(plan["module"])
    except CallTimeout:
        signal.setitimer(signal.ITIMER_REAL, 0)
        cov.stop()
        emit({"ev": "import_error", "kind": "timeout",
              "msg": f"importing {plan['module']} did not finish within {plan.get('import_timeout', 10)} s"})
        return 3
    except BaseException as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        cov.stop()
        line = ""
        tb = traceback.extract_tb(exc.__traceback__)
        if tb:
            line = f" ({os.path.basename(tb[-1].filename)}:{tb[-1].lineno})"
        if isinstance(exc, SystemExit):
            emit({"ev": "import_error", "kind": "exit", "type": "SystemExit",
                  "msg": f"importing {plan['module']} called sys.exit({exc.code!r}){line}"})
        else:
            emit({"ev": "import_error", "kind": "exception", "type": type(exc).__name__,
                  "msg": f"importing {plan['module']} raised {type(exc).__name__}: {exc}{line}"})
        return 3
    signal.setitimer(signal.ITIMER_REAL, 0)
    cov.stop()
    module_file = os.path.abspath(getattr(module, "__file__", "") or "")
    if module_file != file:
        emit({"ev": "import_error", "kind": "shadowed",
              "msg": f"{plan['module']} was imported from {module_file}, not {file}"})
        return 3
    subject = Subject(plan["module"], module, file)
    call_timeout = float(plan.get("call_timeout", 1.0))
    runner = Runner(subject, cov, call_timeout)
    runner.known = runner.arcs()
    emit({"ev": "imported", "arcs": len(runner.known), "seconds": round(time.monotonic() - started, 3)})

    callees, methods = discover(subject, plan)
    # Stubs (`...`, `pass`, `raise NotImplementedError`) are work to do, not behaviour to pin.
    callees = [c for c in callees if not c.info.get("is_stub")]
    methods = {k: [m for m in v if not m.info.get("is_stub")] for k, v in methods.items()}
    analysis = plan.get("analysis", {})
    mod_lits = analysis.get("module_literals", {})
    context.open_shapes[:] = analysis.get("checked_types", [])
    generators: dict[str, Generator] = {}
    for c in callees:
        for w in (c.info.get("literals") or {}).get("str", []):
            if isinstance(w, str) and w.isidentifier() and w.islower() and w not in context.module_words:
                context.module_words.append(w)
    namer = inputs_mod.Namer(subject.name, module)
    if context.open_shapes:
        shape_builder = inputs_mod.PoolBuilder(namer, inputs_mod.Literals.from_json(mod_lits))
        context.combos[:] = context.shapes_mod.combos(context.shapes_mod.module_specs(
            module, context.open_shapes, namer, shape_builder,
            lambda src: builds(subject, ([f"_ = {src}"], "_", []), call_timeout)))
    for c in callees:
        lits = inputs_mod.Literals.from_json(c.info.get("literals", {}), mod_lits)
        builder = inputs_mod.PoolBuilder(namer, lits)
        generators[c.qualname] = Generator(c, builder, inputs_mod, lits, int(plan.get("seed", 0)), {}, methods)
        context.generators[c.qualname] = generators[c.qualname]
    for g in generators.values():
        # How long a callable may go without new arcs: more for many parameters or few
        # callables. A count, not a time, so that the search is deterministic.
        g.plateau = min(600, max(PLATEAU, 25 * len(g.c.params), 400 // max(1, len(callees))))
    ctors = arrange_receivers(build_receivers(callees, generators), subject, objects_mod, call_timeout)
    objects = objects_mod.ObjectPool(module)
    for g in generators.values():
        g.ctors = ctors
        g.objects = objects
        first = next((p for p in g.c.params if p.kind != p.VAR_KEYWORD), None)
        hint = g.c.hints.get(first.name, first.annotation) if first is not None else None
        if (g.c.kind == "operator" and g.pools and g.c.owner is not None
                and (hint in (inspect.Parameter.empty, object, typing.Any) or objects_mod.accepts(hint, g.c.owner))):
            # an operator's other operand: often an object of the same class (unless its hint
            # says otherwise: `query['name']` takes a str)
            same = [(stmts[0].split(" = ", 1)[1], frozenset(imps)) for stmts, _, imps in ctors.get(g.c.owner.__name__, [])]
            g.pools[0] = inputs_mod._dedup(same[:3] + g.pools[0])
        g.base_pools = list(g.pools)
    emit({"ev": "callables", "names": [c.qualname for c in callees]})

    # Replay the calls kept by an earlier (crashed) run so the coverage state matches.
    for cand in plan.get("replay", []):
        runner.execute(cand)
    skip = set(plan.get("skip", []))
    resume = plan.get("resume", {})
    mutation_seconds = float(plan.get("mutation_seconds", 0))
    end = started + float(plan.get("search_seconds", 10))
    end = min(end, _pace_mod.host_time(plan, "end_at") or end)  # the sandbox's start is spent too
    pace = _pace_mod.Pace(time.monotonic(), end, _pace_mod.host_time(plan, "budget_end"))
    # A call stuck in C code (a huge repetition, a C-level loop) never sees the alarm: without
    # this watchdog (a C thread) the host's time limit, sized for a slow import, would end the
    # process many seconds after the budget. Exiting here keeps what was streamed so far.
    faulthandler.dump_traceback_later(max(0.0, end - time.monotonic()) + HANG_GRACE, exit=True)
    deadline = end - mutation_seconds
    kept_log: list = []  # (candidate, observation) of every kept call, for the mutation run
    active = [generators[c.qualname] for c in callees]
    for g in active:
        for _ in range(int(resume.get(g.c.qualname, 0))):
            if g.next() is None and g.finished:
                break
            g.count += 1
    total = 0
    last_progress = 0.0
    hint_bug_reported: set = set()
    round_no, quiet = 1, 0
    while True:
        arcs_before = len(runner.known)
        while active and time.monotonic() < deadline:
            for g in list(active):
                if time.monotonic() >= deadline:
                    break
                for _ in range(SLICE):
                    now = time.monotonic()
                    if now >= deadline:
                        break
                    runner.call_timeout = max(0.05, min(call_timeout, deadline - now))
                    cand = g.next()
                    if g.finished:
                        active.remove(g)
                        emit({"ev": "done", "func": g.c.qualname})
                        break
                    g.count += 1
                    if cand is None:
                        g.stale += 1 if g.in_random else 0
                    elif cand["id"] in skip:
                        continue
                    else:
                        emit({"ev": "s", "id": cand["id"], "n": g.count})
                        total += 1
                        is_example = cand.get("origin") == "example"
                        maybe_bug = bool(cand.get("hinted") and g.c.info.get("has_docstring")
                                         and not g.c.info.get("documents_raising") and g.c.qualname not in hint_bug_reported)
                        t_call = time.monotonic()
                        obs, new = runner.execute(cand, want=lambda raw, is_example=is_example, maybe_bug=maybe_bug, g=g, cand=cand: is_example or (
                            maybe_bug and raw["kind"] == "raise_obj" and type(raw["exc"]).__name__ in SUSPICIOUS_EXC)
                            or g.wants_observation(cand, raw))
                        spent = time.monotonic() - t_call
                        if spent > 0.25:
                            emit({"ev": "slow", "id": cand["id"], "expr": cand["expr"][:200], "t": round(spent, 3)})
                        if obs["kind"] == "timeout":
                            g.timeouts += 1
                        if not new and obs["kind"] == "skipped":
                            g.sample(cand)
                        if (not new and obs["kind"] == "skipped" and runner.last_value is not None
                                and g.c.attr not in OPERATOR_IMPORTS):
                            objects.offer(runner.last_value, list(cand.get("setup", [])), cand["expr"],
                                          list(cand.get("imports", [])), g.c.qualname, fresh=False)
                        if cand.get("origin") == "example":
                            bug = compare_example(cand, obs, subject)
                            if bug and bug.get("drop"):
                                continue
                            if obs["kind"] == "raise" and not obs.get("line"):
                                continue
                            if bug:
                                emit({"ev": "bug", "cand": cand, "obs": obs, "why": "example", **bug})
                                continue
                        elif (obs["kind"] == "raise" and cand.get("hinted") and obs["type_name"] in SUSPICIOUS_EXC
                              and not obs["deliberate"] and obs.get("from_target")
                              and g.c.info.get("has_docstring") and not g.c.info.get("documents_raising")
                              and g.c.qualname not in hint_bug_reported and credible_hint_bug(cand, obs)):
                            hint_bug_reported.add(g.c.qualname)
                            emit({"ev": "bug", "cand": cand, "obs": obs, "why": "hints",
                                  "observed": f"raised {obs['type_name']}: {obs['msg']}", "expected": None})
                            continue
                        if wrong_type(obs, g):
                            g.stale += 1 if g.in_random else 0
                            if new:
                                # Its arcs are in the live data now, but no test will hold them: try
                                # the same call with well-typed arguments (traced, see below).
                                arcs_now = {tuple(a) for a in arc_list(new, runner.nlines, limit=10**6)}
                                g.orphans |= arcs_now
                                owner = setup_call_owner(cand, obs, g)
                                if owner is not None:  # the wrong type was in a set-up call: repair that one
                                    owner[0].orphans |= arcs_now
                                    owner[0].repair_from(owner[1])
                                else:
                                    g.queue_repairs()
                            continue
                        if not new and g.orphans and obs["kind"] != "timeout" and (
                                cand.get("origin") == "repair" or g.orphan_checks > 0):
                            g.orphan_checks -= cand.get("origin") != "repair"
                            hit = (trace_arcs(runner, cand) or set()) & g.orphans
                            if hit:
                                again, _ = runner.execute(cand, want=lambda raw: True)
                                if not wrong_type(again, g) and again["kind"] not in ("timeout", "unobservable"):
                                    g.orphans -= hit
                                    obs, new = again, hit
                        if new and obs["kind"] not in ("timeout", "unobservable", "skipped") and not is_stable(runner, cand, obs):
                            g.stale += 1 if g.in_random else 0
                        elif new and obs["kind"] not in ("timeout", "unobservable", "skipped"):
                            offer_objects(objects, runner, g, cand, obs)
                            g.remember()
                            g.kept += 1
                            g.stale = 0
                            g.note_kept(cand, obs)
                            if cand.get("origin") == "random":
                                cand, obs = simplify(runner, g, cand, obs, new)
                                g.note_kept(cand, obs)
                            obs["arcs"] = arc_list(new, runner.nlines)
                            pace.kept(runner.last_cpu)
                            emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": len(new)})
                            kept_log.append((cand, obs, g))
                        elif not new and (why := g.extra_reason(cand, obs)) and is_stable(runner, cand, obs):
                            g.note_kept(cand, obs, why)
                            pace.kept(runner.last_cpu)
                            emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": 0, "why": why})
                            kept_log.append((cand, obs, g))
                        elif cand.get("origin") == "random":
                            g.stale += 1
                    if g.timeouts >= 3 or g.stale >= g.plateau or g.count >= CAP_PER_CALLABLE:
                        g.finished = True
                        active.remove(g)
                        emit({"ev": "done", "func": g.c.qualname})
                        break
                now = time.monotonic()
                if now - last_progress > 0.5:
                    last_progress = now
                    # a busy machine slows the verification after the search: end earlier
                    end_now = pace.end()
                    if end_now < end:
                        mutation_seconds *= (end_now - started) / max(0.1, end - started)
                        end, deadline = end_now, end_now - mutation_seconds
                    emit({"ev": "progress", "t": round(now - started, 2), "func": g.c.qualname,
                          "calls": total, "arcs": len(runner.known)})
        if time.monotonic() >= deadline:
            break
        # objects a quiet round built get the next round to be used, not more
        quiet = quiet + 1 if len(runner.known) == arcs_before else 0
        if quiet >= QUIET_ROUNDS or round_no >= MAX_ROUNDS:
            break
        round_no += 1
        active = [generators[c.qualname] for c in callees if generators[c.qualname].timeouts < 3]
        for g in active:
            g.new_round(round_no)
        emit({"ev": "round", "n": round_no, "arcs": len(runner.known), "objects": objects.added,
              "t": round(time.monotonic() - started, 2)})
    emit({"ev": "objects", "by_class": {k.__name__: [e["receiver"][0][-1][:120] for e in v] for k, v in objects.by_class.items()}})
    emit_cover(runner, kept_log, end - 0.5 * mutation_seconds)
    if mutation_seconds > 0 and time.monotonic() < end:
        emit({"ev": "mutation_start"})
        with open(file, encoding="utf-8") as fh:
            source = fh.read()
        mutation_run(runner, mutants_mod, source, kept_log, generators, int(plan.get("seed", 0)), end,
                     min(call_timeout, MUTANT_CALL_TIMEOUT), plan.get("user_tests"))
    emit({"ev": "end", "calls": total, "arcs": len(runner.known), "complete": not active, "contention": round(pace.factor, 2),
          "verify_estimate": round(pace.verification(), 2), "ended_early": end < pace.planned,
          "t": round(time.monotonic() - started, 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
