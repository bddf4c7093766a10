"""The mutation run after the search: which sampled mutants the kept calls kill, and calls that
kill the survivors (from the reservoirs, then variants of the functions' own calls)."""

from __future__ import annotations

import contextlib
import io
import json
import random
import signal
import time

from .events import emit
from .observe import observe_exception, observe_value
from .runner import CallTimeout, Runner, is_stable, run_quietly
from .verdicts import wrong_type

# Mutation run (after the search, in the time the host set aside): a seeded sample of mutants,
# each checked against the kept calls; a surviving mutant is hunted with a sample of the calls
# that added no arc (candidates.RESERVOIR per callable), and a call that kills it is kept as a test
# (MUTANT_KEEPS per callable): a behaviour coverage cannot see.
MUTANT_LIMIT = 60
KILLERS = 3  # kept calls recorded per killed mutant (the host counts those whose tests survive)
MUTANT_KEEPS = 2
HUNT = 40
# Then, while time is left, the functions that hold survivors are hunted with variants of their
# own calls (one literal changed, mutants.hunt_variants): at most VARIANT_TRIES variants and
# VARIANT_KEEPS kept calls per function; the hunt also takes up to VARIANT_EXTRA mutants of
# those functions that the sample left out and no kept call kills.
VARIANT_TRIES = 400
VARIANT_KEEPS = 16
VARIANT_CHEAP = 4  # past this many kept calls per function, a variant must kill two mutants
VARIANT_EXTRA = 40
VARIANT_CALLERS = 24  # kept calls varied for a function that has none of its own
VARIANT_PATIENCE = 150  # a function's hunt ends after this many variants in a row that kill nothing


def assert_key(obs: dict) -> tuple | None:
    """What a rendered test asserts about an observation (None: nothing comparable)."""
    kind = obs.get("kind")
    if kind in ("literal", "iter"):
        return (kind, obs.get("src"), obs.get("complete"))
    if kind == "float":
        try:
            return ("float", f"{float(obs['src']):.6g}")  # pytest.approx's tolerance, roughly
        except (TypeError, ValueError):
            return None
    if kind in ("none", "nan", "timeout"):
        return (kind,)
    if kind == "raise":
        return ("raise", obs.get("type_name"))
    if kind == "object":
        return ("object", obs.get("type"), json.dumps(obs.get("attrs"), sort_keys=True, default=repr))
    return None


def quiet_observe(runner: Runner, cand: dict, timeout: float) -> dict:
    """Run a candidate outside coverage and observe its result (the mutation run)."""
    subject = runner.subject
    ns = subject.namespace(cand.get("imports", []))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        raw = ("return", run_quietly(ns, cand))
    except CallTimeout:
        return {"kind": "timeout"}
    except BaseException as exc:
        raw = ("raise", exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return observe_value(raw[1], subject, ns) if raw[0] == "return" else observe_exception(raw[1], subject)
    except BaseException:
        return {"kind": "unobservable"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def mutation_run(runner: Runner, mutants_mod, source: str, kept_log: list, generators: dict, seed: int,
                 end: float, timeout: float, user_tests: list | None = None) -> None:
    """Which sampled mutants the kept calls kill; calls that kill a survivor are kept too;
    which of the killed ones the user's tests kill as well (the last part of the time)."""
    subject = runner.subject
    started = time.monotonic()
    user_end = end
    if user_tests:
        end = time.monotonic() + 0.6 * max(0.0, end - time.monotonic())
    try:
        muts, total = mutants_mod.find(source, seed, MUTANT_LIMIT)
        swapper = mutants_mod.Swapper(source, subject.file, subject.module)
    except (SyntaxError, ValueError, RecursionError):
        return
    keys = [(cand, assert_key(obs), g) for cand, obs, g in kept_log]
    original: dict = {}  # candidate id -> assert key with the original code
    tried, killers, survivors, alive = 0, {}, [], []
    for idx, m in enumerate(muts):
        if time.monotonic() >= end:
            break
        swapped = swapper.apply(m)
        if swapped is None:
            continue
        tried += 1
        found: list = []
        try:
            # the mutated callable's own calls first
            order = sorted(keys, key=lambda k, q=m.qualname: k[2].c.qualname != q)
            for cand, key, _g in order:
                if key is None:
                    continue
                if time.monotonic() >= end:
                    break
                got = assert_key(quiet_observe(runner, cand, timeout))
                if got != key:
                    found.append(cand["id"])
                    if len(found) >= KILLERS or got == ("timeout",):
                        break
        finally:
            swapper.restore(swapped)
        if not found and time.monotonic() < end:
            killer = _hunt(runner, swapper, m, generators, original, end, timeout)
            if killer is not None:
                cand, obs, g = killer
                emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": 0, "why": "mutant"})
                keys.append((cand, assert_key(obs), g))
                found.append(cand["id"])
        if found:
            killers[idx] = found
        else:
            survivors.append(m.describe())
            alive.append((idx, m))
    hunted: list = []
    hunt_started = time.monotonic()
    if alive and time.monotonic() < end:
        for cand, labels in _variant_hunt(runner, mutants_mod, source, swapper, muts, alive, keys, seed, end, timeout,
                                          extras=not user_tests):
            for kind, pos in labels:
                if kind == "sampled":
                    killers[pos] = [cand["id"]]
                    survivors.remove(muts[pos].describe())
                else:
                    hunted.append([cand["id"]])
        killers = dict(sorted(killers.items()))
    user_killed: set = set()
    if user_tests and killers:
        user_killed = mutants_mod.user_kills(swapper, [muts[i] for i in killers], list(user_tests), user_end)
    emit({"ev": "mutation", "mutants": total, "sampled": len(muts), "tried": tried, "killed": len(killers),
          "killers": list(killers.values()), "survivors": survivors[:20], "user_killed": sorted(user_killed),
          "hunted": hunted, "t_main": round(hunt_started - started, 2),
          "t_variants": round(time.monotonic() - hunt_started, 2)})


def _variant_hunt(runner: Runner, mutants_mod, source: str, swapper, muts: list, alive: list, keys: list,
                  seed: int, end: float, timeout: float, extras: bool = True) -> list:
    """Survivors hunted with variants of their functions' calls (mutants.hunt_variants), with
    up to VARIANT_EXTRA unsampled mutants per function that the kept calls miss (``extras``;
    not with the user's tests, which are not run against those). Each kept
    variant is emitted as a kept call; returns (call, [("sampled", position in muts) or
    ("extra", n)]) per kept call."""
    quals = {m.qualname for _i, m in alive}
    seeds: dict = {}
    for cand, key, g in keys:  # the function's kept calls, those that return first
        if g.c.qualname in quals and key is not None:
            seeds.setdefault(g.c.qualname, []).append((key[0] == "raise", cand))
    seeds = {q: [c for _r, c in sorted(v, key=lambda x: x[0])] for q, v in seeds.items()}
    # a function no kept call calls directly (a private helper) is reached through the others
    callers = [c for _r, c in sorted(((key[0] == "raise", cand) for cand, key, _g in keys if key is not None),
                                     key=lambda x: x[0])][:VARIANT_CALLERS]
    for q in quals:
        if q not in seeds and callers:
            seeds[q] = callers
    live: dict = {}
    for i, m in alive:
        live.setdefault(m.qualname, []).append((("sampled", i), m))
    sampled = {(m.qualname, m.line, tuple(m.path), m.change) for m in muts}
    rng = random.Random(seed * 31 + 17)
    try:
        population, _ = mutants_mod.find(source, seed, 10**6, only=quals)
        consts = {q: mutants_mod.function_constants(source, q) for q in quals}
        for q in quals:  # through its callers: their constants too
            for func in dict.fromkeys(c["func"] for c in seeds.get(q, []) if c["func"] != q):
                consts[q] += [v for v in mutants_mod.function_constants(source, func) if v not in consts[q]]
    except (SyntaxError, ValueError, RecursionError):
        return []
    extra = [m for m in population if extras and (m.qualname, m.line, tuple(m.path), m.change) not in sampled]
    rng.shuffle(extra)
    originals = {c["id"]: assert_key(quiet_observe(runner, c, timeout)) for q in quals for c in seeds.get(q, [])}
    per_func: dict = {}
    for m in extra:  # those no kept call of the function kills
        q = m.qualname
        if per_func.get(q, 0) >= VARIANT_EXTRA or q not in seeds or time.monotonic() >= end:
            continue
        swapped = swapper.apply(m)
        if swapped is None:
            continue
        try:
            dead = any(assert_key(quiet_observe(runner, c, timeout)) != originals[c["id"]] for c in seeds[q])
        finally:
            swapper.restore(swapped)
        if not dead:
            per_func[q] = per_func.get(q, 0) + 1
            live.setdefault(q, []).append((("extra", sum(per_func.values())), m))

    def observe(cand: dict):
        return assert_key(quiet_observe(runner, cand, timeout))

    gens = {g.c.qualname: g for _c, _k, g in keys}

    def confirm(cand: dict, key):
        g = gens[cand["func"]]
        obs, _ = runner.execute(cand, want=lambda raw: True)
        if obs.get("kind") in ("timeout", "unobservable", "skipped") or wrong_type(obs, g) or not is_stable(runner, cand, obs):
            return None
        return obs if assert_key(obs) == key else None

    out = []
    found = mutants_mod.hunt_variants(live, seeds, consts, swapper, observe, confirm, end, rng, VARIANT_TRIES,
                                      VARIANT_KEEPS, patience=VARIANT_PATIENCE,
                                      cheap=VARIANT_CHEAP)
    for n, (cand, obs, labels) in enumerate(found, 1):
        cand = {k: v for k, v in cand.items() if k not in ("example", "arcs")}
        cand.update(id=f"{cand['func']}#variant{n}", origin="variant")
        obs["arcs"] = []
        emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": 0, "why": "mutant"})
        out.append((cand, labels))
    return out


def _hunt(runner: Runner, swapper, m, generators: dict, original: dict, end: float, timeout: float):
    """A call from the reservoirs whose result changes under mutant ``m`` (None: none found)."""
    own = generators.get(m.qualname)
    pools = [own] if own is not None and own.reservoir else [g for g in generators.values() if g.reservoir]
    cands = [(c, g) for g in pools if g.mutant_kept < MUTANT_KEEPS for c in g.reservoir][:HUNT]
    todo = []
    for cand, g in cands:  # results with the original code first (cached)
        if time.monotonic() >= end:
            return None
        if cand["id"] not in original:
            original[cand["id"]] = assert_key(quiet_observe(runner, cand, timeout))
        if original[cand["id"]] not in (None, ("timeout",)):
            todo.append((cand, g))
    swapped = swapper.apply(m)
    if swapped is None:
        return None
    hit = None
    try:
        for cand, g in todo:
            if time.monotonic() >= end:
                break
            if assert_key(quiet_observe(runner, cand, timeout)) != original[cand["id"]]:
                hit = (cand, g)
                break
    finally:
        swapper.restore(swapped)
    if hit is None:
        return None
    cand, g = hit
    obs, _ = runner.execute(cand, want=lambda raw: True)
    if obs.get("kind") in ("timeout", "unobservable", "skipped") or wrong_type(obs, g) or not is_stable(runner, cand, obs):
        return None
    if assert_key(obs) != original[cand["id"]]:
        return None
    g.mutant_kept += 1
    g.reservoir = [c for c in g.reservoir if c is not cand]
    obs["arcs"] = []
    return cand, obs, g
