"""What an observation says: a wrong-type call (no test), a probable bug (docstring examples that
disagree, exceptions from well-typed arguments)."""

from __future__ import annotations

import ast
import contextlib
import io

from .candidates import Generator
from .observe import ADDRESS, Subject, is_iterator


def wrong_type(obs: dict, g: Generator) -> bool:
    """A TypeError the interpreter raised (not a `raise` in the code) in a callable that does
    not check types itself: the input was of the wrong type and says nothing about the code."""
    return (obs.get("kind") == "raise" and obs.get("type_name") == "TypeError" and not obs.get("deliberate")
            and not g.c.info.get("checks_types"))


def credible_hint_bug(cand: dict, obs: dict) -> bool:
    """Whether an unexpected exception from well-typed arguments points at the code rather than
    at a precondition its hints cannot state. A TypeError counts only when None reached an
    operation (a builtin's own argument check, `category('abc')`, is a narrower contract than
    `str`); an IndexError or KeyError only when no int was passed (`NAMES[flags_bit]` with
    flags=999 is an out-of-range argument, not a bug)."""
    name = obs.get("type_name")
    if name == "TypeError":
        return "NoneType" in (obs.get("msg") or "")
    if name in ("IndexError", "KeyError"):
        try:
            trees = [ast.parse(s) for s in [*cand.get("setup", []), cand.get("expr", "")]]
        except SyntaxError:
            return False
        return not any(isinstance(n, ast.Constant) and type(n.value) is int
                       for t in trees for n in ast.walk(t))
    return True


def compare_example(cand: dict, obs: dict, subject: Subject) -> dict | None:
    """A probable bug when an example's observed result differs from the stated one."""
    ex = cand.get("example") or {}
    expected = ex.get("expected")
    if expected is None:
        return None
    if obs["kind"] == "raise":
        if not obs.get("line"):
            return {"drop": True}  # the example itself is broken (missing names, ...), not the code
        observed = f"raised {obs['type_name']}: {obs['msg']}" if obs["msg"] else f"raised {obs['type_name']}"
        return {"observed": observed, "expected": expected}
    if obs["kind"] in ("timeout", "unobservable"):
        return None
    ns = subject.namespace(cand.get("imports", []))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for stmt in cand.get("setup", []):
                exec(stmt, ns)  # noqa: S102
            value = eval(cand["expr"], ns)  # noqa: S307
            if is_iterator(value):
                value = list(value)
            want = eval(expected, ns)  # noqa: S307
        same = value == want or repr(value) == expected.strip()
        if isinstance(value, float) and isinstance(want, (int, float)):
            same = same or abs(value - want) <= 1e-9 * max(1.0, abs(want))
    except BaseException:
        return None
    if same:
        return None
    try:
        observed = repr(value)
    except Exception:
        observed = "<unprintable>"
    if ADDRESS.search(observed):
        return None
    return {"observed": f"returned {observed[:200]}", "expected": expected}
