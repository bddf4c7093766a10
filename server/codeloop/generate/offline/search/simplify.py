"""Make a kept random call readable: defaults back, flags as bools, set-up calls dropped or promoted."""

from __future__ import annotations

import ast
import inspect

from .candidates import Generator
from .runner import Runner, arc_list, is_stable, trace_arcs
from .verdicts import wrong_type


def simplify(runner: Runner, g: Generator, cand: dict, obs: dict, new: set | None = None) -> tuple[dict, dict]:
    """Make a random call readable: put arguments back to their defaults and drop set-up
    calls one at a time, keeping each change only when the simpler call still covers the
    arcs that made it worth keeping (``new``; the rest were covered by earlier tests) and
    behaves the same way (same kind of result or exception). So a set-up call that asserts
    nothing goes when only the final call adds arcs."""
    if g.last_choice is None:
        return cand, obs
    choice, extras, receiver = g.last_choice
    full = trace_arcs(runner, cand)
    if not full:
        return cand, obs
    if new:
        pairs = {tuple(a) for a in arc_list(new, runner.nlines, limit=10**6)}
        needed = {a for a in full if a in pairs}
        full = needed or full
    params = [p for p in g.c.params if p.kind != p.VAR_KEYWORD]
    best, best_obs = cand, obs
    choice = list(choice)
    attempts = 0

    def try_variant(ch, rec):
        nonlocal best, best_obs, attempts
        attempts += 1
        saved = g.last_choice
        made = g._make(ch, extras, rec, "random")
        g.last_choice = saved
        if made is None:
            return False
        made["id"] = cand["id"]
        arcs = trace_arcs(runner, made)
        if arcs is None or not full <= arcs:
            return False
        new_obs, _ = runner.execute(made, want=lambda raw: True)
        same = new_obs.get("kind") == best_obs.get("kind") and new_obs.get("type") == best_obs.get("type")
        # an exception the needed arcs do not lead to (`unit=1` beside `normalize=True`) may go:
        # the simpler call that returns asserts what those arcs compute
        if not same and not (best_obs.get("kind") == "raise" and new_obs.get("kind") in RETURNED):
            return False
        if not is_stable(runner, made, new_obs):
            return False
        best, best_obs = made, new_obs
        return True

    for i, p in enumerate(params):
        if attempts >= 24:
            break
        if i < len(choice) and choice[i] is not None and p.default is not p.empty:
            trial = list(choice)
            trial[i] = None
            if try_variant(trial, receiver):
                choice = trial
    for i, p in enumerate(params):  # a flag given a truthy non-bool (`normalize='abc'`): True
        flag = _as_flag(choice[i] if i < len(choice) else None, p)
        if flag is not None and attempts < 32:
            trial = list(choice)
            trial[i] = (flag, frozenset())
            if try_variant(trial, receiver):
                choice = trial
    if receiver is not None and len(receiver[0]) > 1:
        stmts = list(receiver[0])
        k = 1
        while k < len(stmts) and attempts < 32:
            trial_stmts = stmts[:k] + stmts[k + 1:]
            if try_variant(choice, (trial_stmts, receiver[1], receiver[2])):
                stmts = trial_stmts
                receiver = (stmts, receiver[1], receiver[2])
            else:
                k += 1
    promoted = _promote_setup_call(runner, g, best, full)
    return promoted or (best, best_obs)


RETURNED = ("literal", "float", "none", "nan", "iter", "object")


def _as_flag(val, p: inspect.Parameter) -> str | None:
    """``True``/``False`` for a non-bool literal given to a parameter whose default is a bool."""
    if val is None or not isinstance(p.default, bool) or val[0] in ("True", "False"):
        return None
    try:
        return repr(bool(ast.literal_eval(val[0])))
    except Exception:
        return None


def _promote_setup_call(runner: Runner, g: Generator, cand: dict, needed: set) -> tuple[dict, dict] | None:
    """When the arcs a test was kept for come from its last set-up call (``rect.diagonal()``
    before an ``area()`` assertion), test that call instead: its result is asserted and the
    final call, which added nothing, goes."""
    setup = list(cand.get("setup", []))
    if len(setup) < 2 or g.c.owner is None:
        return None
    try:
        node = ast.parse(setup[-1]).body[0]
    except (SyntaxError, IndexError):
        return None
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    made = {**cand, "setup": setup[:-1], "expr": setup[-1], "func": f"{g.c.owner.__name__}.{call.func.attr}",
            "origin": "random"}
    arcs = trace_arcs(runner, made)
    if arcs is None or not needed <= arcs:
        return None
    obs, _ = runner.execute(made, want=lambda raw: True)
    if obs.get("kind") in ("timeout", "unobservable", "skipped") or wrong_type(obs, g) or not is_stable(runner, made, obs):
        return None
    return made, obs
