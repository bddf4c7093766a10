"""Receivers: the objects methods are called on, built by each class's constructor calls.

Also what a kept call gives back to later calls: its objects join the object pool.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import itertools
import signal

from . import context
from .callables import OPERATOR_IMPORTS, Callee
from .candidates import RECEIVER_VARIANTS, Generator
from .observe import TEXT_DUNDERS, Subject
from .runner import Runner, compiled

BLAND = {"None", "[]", "{}", "()", "''", "set()", "0", "False", "b''", "frozenset()"}
OPEN_RECEIVERS = 16


def _open_with_options(c: Callee, g: Generator, base: list) -> list[list]:
    """Constructor choices with an open parameter set to a composite value (a dict) and one
    other parameter to its first value other than the default (``Check({...}, strict=True)``):
    the options matter on objects built from rich values, not on ``Check(1, strict=True)``."""
    params = [p for p in c.params if p.kind != p.VAR_KEYWORD]
    at = next((i for i, p in enumerate(params) if (c.qualname, p.name) in context.open_params), None)
    if at is None or not context.combos:  # only where the module's classes combine (a validator, a spec)
        return []
    rich = [v for v in g.pools[at] if v[0].startswith("{")][:2]
    out = []
    for i, (p, pool) in enumerate(zip(params, g.pools, strict=False)):
        if i == at or p.kind == p.VAR_POSITIONAL:
            continue
        dflt = g._default_src(p)
        other = next((v for v in pool if v[0] != dflt and v[0] not in BLAND), None)
        for value in rich if other is not None else []:
            ch = list(base)
            ch[at], ch[i] = value, other
            out.append(ch)
    return out


def build_receivers(callees: list[Callee], generators: dict[str, Generator]) -> dict:
    """Instance set-up statements per class, from its constructor's pool."""
    ctors: dict[str, list] = {}
    for c in callees:
        if c.kind != "ctor":
            continue
        g = generators[c.qualname]
        var = context.objects_mod.var_name(c.qualname, vars(c.subject.module))
        params = [p for p in c.params if p.kind != p.VAR_KEYWORD]
        base = [None if (p.kind == p.VAR_POSITIONAL or p.default is not p.empty) else (pool[0] if pool else ("None", frozenset()))
                for p, pool in zip(params, g.pools, strict=False)]
        options = []
        variants = [base]
        # every parameter's first telling value before any parameter's second; a constructor
        # of one or two parameters gets more of them (a reader over several texts)
        per_param = max(2, min(6, (RECEIVER_VARIANTS - 1) // max(1, len(params))))
        open_n = OPEN_RECEIVERS + len(context.combos)  # the open shapes, then the combined ones
        for k in range(max(per_param, open_n)):
            for i, (_p, pool) in enumerate(zip(params, g.pools, strict=False)):
                if k >= (open_n if (c.qualname, _p.name) in context.open_params else per_param):
                    continue
                # telling: not the base value, not None or empty (a default usually is); with a
                # default that is not bland itself, anything else (`restricted=False` when True is
                # the default)
                dflt = g._default_src(_p)
                telling = [v for v in pool[1:] if (v[0] not in BLAND or (dflt not in BLAND | {None, "<nonliteral>"}))
                           and v[0] != dflt and (base[i] is None or v != base[i])]
                if k < len(telling):
                    ch = list(base)
                    ch[i] = telling[k]
                    variants.append(ch)
        variants[1:1] = _open_with_options(c, g, base)
        is_open = any(c.qualname == q for q, _ in context.open_params)
        for ch in variants[:RECEIVER_VARIANTS + open_n * is_open]:
            call = g._call_src(ch, [])
            if call is None:
                continue
            options.append(([f"{var} = {c.qualname}({call[0]})"], var, sorted(set(call[1]))))
        if is_open:  # the class itself combined with the others and its options
            options += [([f"{var} = {src}"], var, sorted(imps)) for src, imps in context.combos if src.startswith(f"{c.qualname}(")]
        ctors[c.qualname] = options
    return ctors


def builds(subject: Subject, receiver, timeout: float) -> bool:
    """Whether a receiver's set-up runs without an exception (outside coverage)."""
    setup, _var, imps = receiver
    try:
        ns = subject.namespace(imps)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for stmt in setup:
                exec(compiled(stmt, "exec"), ns)  # noqa: S102
        return True
    except BaseException:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def arrange_receivers(ctors: dict, subject: Subject, objects_mod, timeout: float) -> dict:
    """Receivers per class: those of its own constructor that build, then those of the
    module's subclasses of it (a base class whose constructor refuses to build, or whose
    methods behave differently on a subclass, is tested through its subclasses)."""
    works = {name: [r for r in opts if builds(subject, r, timeout)] for name, opts in ctors.items()}
    out = {}
    for name in ctors:
        cls = vars(subject.module).get(name)
        subs = [works.get(k.__name__, []) for k in objects_mod.subclasses_in(cls, subject.module)] if inspect.isclass(cls) else []
        others = [r for group in itertools.zip_longest(*subs) for r in group if r is not None]
        own = works[name]
        out[name] = own[:4] + others[:4] + own[4:] + others[4:] if own else others
    return out


def offer_objects(objects, runner: Runner, g: Generator, cand: dict, obs: dict) -> None:
    """A kept call's results join the object pool: the object it returned, and the receiver
    of a method call, whose state the call may have changed (a method sequence)."""
    if obs.get("kind") == "raise" or g.c.attr in OPERATOR_IMPORTS:  # a copy: no new state
        return
    imports = list(cand.get("imports", []))
    if obs.get("kind") == "literal" and g.c.attr not in TEXT_DUNDERS and obs.get("src"):
        objects.offer_literal(runner.last_value, obs["src"], list(obs.get("imports") or []), g.c.qualname)
    if runner.last_value is not None:
        objects.offer(runner.last_value, list(cand.get("setup", [])), cand["expr"], imports, g.c.qualname)
    elif g.c.kind == "method" and cand.get("setup") and obs.get("kind") == "none":  # a mutator
        try:
            call = ast.parse(cand["expr"], mode="eval").body
        except SyntaxError:
            return
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            var = call.func.value.id
            objects.offer_state(runner.last_ns.get(var), list(cand["setup"]) + [cand["expr"]], var, imports,
                                g.c.qualname)
