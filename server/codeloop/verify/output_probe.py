"""Agreement between candidates: run each on the same inputs and compare the outputs.

:func:`shared_inputs` picks argument lists from the examples' arguments (and variants
of them), from pools per parameter annotation and from the calls in the model's tests
(:func:`calls_in`; their inputs, never their expected values); :func:`outputs_probe` is the pytest
file that runs the candidate on each in the sandbox and reports a fingerprint of the
result (and whether it fits the return annotation) in the skip message after
:data:`OUTPUT_MARK`.

Both respect the function's domain (:mod:`codeloop.verify.preconditions`): inputs the
docstring or the code's guard rules out are not probed at all, and the return-type
check, the one probe that can refuse a candidate, runs only on inputs the examples
approach (no negative number where every example's is non-negative). A candidate that raises on an input
is never refused by the type check.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Sequence

from codeloop.verify.examples import runtime_guard
from codeloop.verify.preconditions import holds, preconditions
from codeloop.workspace.model import Example

OUTPUT_MARK = "CODELOOP_OUTPUT "
MAX_SHARED_INPUTS = 16  # from the examples and the annotations
MAX_EXTRA_INPUTS = 12  # from the model's tests
MAX_TIED_INPUTS = 8  # examples' arguments set equal to each other

_POOLS: dict[str, list[str]] = {
    "int": ["0", "1", "-1", "2", "7", "-12", "100"],
    "float": ["0.0", "1.5", "-2.25", "3.0", "1e-3"],
    "str": ["''", "'a'", "'Hello, World'", "'  spaced  '", "'a,b,c'", "'12'"],
    "bool": ["True", "False"],
    "list[int]": ["[]", "[1]", "[3, 1, 2]", "[-1, 0, 5, 5]"],
    "list[str]": ["[]", "['a']", "['b', 'a', 'c']"],
    "list[float]": ["[]", "[1.5]", "[2.0, -1.0, 0.5]"],
}


def example_args(examples: Sequence[Example], name: str) -> list[list[str]]:
    """Literal positional arguments of the examples' calls of ``name``."""
    out = []
    for ex in examples:
        try:
            call = ast.parse(ex.call.strip(), mode="eval").body
        except SyntaxError:
            continue
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name and not call.keywords:
            try:
                for a in call.args:
                    ast.literal_eval(a)
            except (ValueError, TypeError, SyntaxError):
                continue
            out.append([ast.unparse(a) for a in call.args])
    return out


def variants(src: str) -> list[str]:
    """``src`` and nearby values of the same type: the boundaries and slips that tell a
    right implementation from a near miss (off by one, empty, one element, reversed, doubled)."""
    try:
        value = ast.literal_eval(src)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return [src]
    if isinstance(value, bool):
        return [src, repr(not value)]
    if isinstance(value, int):
        return [src, repr(value + 1), repr(value - 1), repr(-value), "0", "1", repr(value * 2)]
    if isinstance(value, float):
        return [src, repr(value * 2), "0.0", repr(-value)]
    if isinstance(value, str):
        return [src, repr(""), repr(value[:1]), repr(value + value), repr(value.upper()), repr(value[::-1]),
                repr(value + " " + value)]
    if isinstance(value, (list, tuple)):
        kind = type(value)
        out = [src, repr(kind()), repr(kind(value[:1])), repr(kind(reversed(value))), repr(kind(list(value) * 2))]
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            out.append(repr(kind(v + 1 for v in value)))  # every element off by one: parity, comparisons
        if len(value) > 2:
            out.append(repr(kind(value[:-1])))
        return out
    return [src]


def tied(args: Sequence[str]) -> list[str]:
    """``args`` with one argument set to another's value, and all of them equal: equality
    between arguments is the boundary that comparisons between parameters turn on
    (``x == y == z`` vs ``x != y == z`` agree on every input whose arguments all differ).
    Only between arguments of the same literal type."""
    try:
        values = [ast.literal_eval(a) for a in args]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    out = []
    for i, v in enumerate(values):
        for j, w in enumerate(values):
            if i != j and type(v) is type(w) and v != w:
                out.append(", ".join(args[:i] + [args[j]] + args[i + 1:]))
    if len(args) > 2 and len({type(v) for v in values}) == 1:
        out.append(", ".join([args[0]] * len(args)))
    return list(dict.fromkeys(c for c in out if c != ", ".join(args)))


def calls_in(source: str | None, name: str) -> list[str]:
    """The argument lists (as source) of the calls of ``name`` with literal positional
    arguments in ``source``, e.g. the model's tests: the inputs the model thought worth
    checking are good places to tell behaviours apart, whatever it expected there."""
    if not source:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
                and not node.keywords and node.args):
            try:
                for a in node.args:
                    ast.literal_eval(a)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            out.append(", ".join(ast.unparse(a) for a in node.args))
    return list(dict.fromkeys(out))


def shared_inputs(name: str, params: Sequence[str], is_method: bool, examples: Sequence[Example],
                  annotations: Sequence[str | None], *, doc: str | None = None,
                  code: str | None = None, extra: Sequence[str] = ()) -> list[str]:
    """Argument lists (as source) to run every candidate on, for output agreement; none that
    the docstring ``doc`` or the stub ``code``'s guards rule out.

    First each example's arguments with one argument changed at a time (the examples pin
    the rest, so a difference there is about that argument), then the per-parameter pools
    combined, then the examples' arguments set equal to each other (:func:`tied`), then
    ``extra`` (e.g. :func:`calls_in` the model's tests)."""
    if is_method or not params:
        return []
    pools: list[list[str]] = []
    from_examples = example_args(examples, name)
    for i, annotation in enumerate(annotations):
        pool: list[str] = []
        for args in from_examples:
            if i < len(args):
                pool += variants(args[i])
        if annotation:
            pool += _POOLS.get(annotation.replace(" ", "").replace("List[", "list["), [])
        pool = list(dict.fromkeys(pool))
        if not pool:
            return []
        pools.append(pool)
    combos = []
    for args in from_examples:
        for i, src in enumerate(args):
            combos += [", ".join(args[:i] + [v] + args[i + 1:]) for v in variants(src)]
    for k in range(max(len(p) for p in pools)):
        combos.append(", ".join(p[(k + j) % len(p)] for j, p in enumerate(pools)))
    rules = preconditions(doc, code, params)
    own = [c for c in dict.fromkeys(combos) if holds(rules, params, c)][:MAX_SHARED_INPUTS]
    ties = [c for args in from_examples for c in tied(args)]
    own += [c for c in dict.fromkeys(ties) if c not in own and holds(rules, params, c)][:MAX_TIED_INPUTS]
    more = [c for c in dict.fromkeys(extra) if c not in own and holds(rules, params, c)][:MAX_EXTRA_INPUTS]
    return own + more


def _kind(value: object) -> str | None:
    """The coarse region of a literal number: its sign (None for anything else: an empty
    list is a boundary the annotation still speaks for, ``mean([])`` must return a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return "negative" if value < 0 else "non-negative"


def _literal_args(args: str) -> list[object] | None:
    try:
        call = ast.parse(f"_f({args})", mode="eval").body
        assert isinstance(call, ast.Call)
        return [ast.literal_eval(a) for a in call.args]
    except (SyntaxError, ValueError, TypeError, AssertionError, MemoryError, RecursionError):
        return None


def typed_inputs(inputs: Sequence[str], name: str, params: Sequence[str], examples: Sequence[Example] = (),
                 doc: str | None = None, code: str | None = None) -> list[str]:
    """The inputs on which the return annotation may refuse a candidate: within the
    preconditions, and (when the examples have literal arguments) in a region the
    examples approach: a negative number only if an example uses one at that position.
    An input the user's examples never approach is no ground to refuse a candidate."""
    rules = preconditions(doc, code, params)
    seen: dict[int, set[str | None]] = {}
    for args in example_args(examples, name):
        for i, src in enumerate(args):
            seen.setdefault(i, set()).add(_kind(ast.literal_eval(src)))
    out = []
    for args in inputs:
        if not holds(rules, params, args):
            continue
        values = _literal_args(args)
        if seen and values is not None and any(
                i in seen and _kind(v) is not None and _kind(v) not in seen[i] for i, v in enumerate(values)):
            continue
        out.append(args)
    return out


_PROBE = '''# Outputs of {name} on shared inputs, for agreement between candidates (codeloop).
import asyncio as _asyncio
import inspect as _inspect
import json as _json
import re as _re
import signal as _signal
import sys as _sys

if {root!r} not in _sys.path:
    _sys.path.insert(0, {root!r})

import pytest as _pytest

{guard}

from {module} import {name} as _target


def _fingerprint(value, depth=0):
    if depth > 4:
        return "..."
    if isinstance(value, float):
        return repr(round(value, 9))
    if isinstance(value, (set, frozenset)):
        return type(value).__name__ + "{{" + ", ".join(sorted(_fingerprint(v, depth + 1) for v in value)) + "}}"
    if isinstance(value, dict):
        items = sorted((_fingerprint(k, depth + 1), _fingerprint(v, depth + 1)) for k, v in value.items())
        return "{{" + ", ".join(k + ": " + v for k, v in items) + "}}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_fingerprint(v, depth + 1) for v in value)
        return ("[" + inner + "]") if isinstance(value, list) else ("(" + inner + ")")
    return _re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))[:500]


def _alarm(signum, frame):
    raise TimeoutError("slow")


_RETURNS = {returns!r}


def _conforms(value, hint, depth=0):
    """True/False when ``value`` fits the annotation ``hint``; None when that cannot be told."""
    import types
    import typing

    if depth > 3 or hint is typing.Any:
        return None
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, getattr(types, "UnionType", ())):
        verdicts = [_conforms(value, a, depth + 1) for a in args]
        return True if any(v is True for v in verdicts) else (None if None in verdicts else False)
    if origin is None:
        if not isinstance(hint, type):
            return None
        if hint is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool) or isinstance(value, float)
        if hint is complex:
            return isinstance(value, (int, float, complex))
        return isinstance(value, hint)
    if not isinstance(origin, type) or not isinstance(value, origin):
        return False if isinstance(origin, type) else None
    if origin in (list, set, frozenset) and len(args) == 1:
        verdicts = [_conforms(v, args[0], depth + 1) for v in list(value)[:50]]
        return False if False in verdicts else True
    if origin is dict and len(args) == 2:
        verdicts = [_conforms(k, args[0], depth + 1) for k in list(value)[:50]]
        verdicts += [_conforms(v, args[1], depth + 1) for v in list(value.values())[:50]]
        return False if False in verdicts else True
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            return False
        verdicts = [_conforms(v, a, depth + 1) for v, a in zip(value, args)]
        return False if False in verdicts else True
    return True


def _return_hint():
    if _RETURNS is None:
        return _NO_HINT
    try:
        return eval(_RETURNS, dict(vars(_sys.modules[_target.__module__])))
    except Exception:
        return _NO_HINT


_NO_HINT = object()


def _probe(args, typed_check=True):
    _signal.signal(_signal.SIGALRM, _alarm)
    _signal.alarm(2)
    typed = None
    try:
        value = eval("_target(" + args + ")")
        if _inspect.isawaitable(value):
            value = _asyncio.run(value)
        out = _fingerprint(value)
        hint = _return_hint()
        if hint is not _NO_HINT and typed_check:
            typed = _conforms(value, hint)
    except TimeoutError:
        out = "hangs"
    except BaseException as exc:
        out = "raises " + type(exc).__name__
    finally:
        _signal.alarm(0)
    _codeloop_check_guard()
    if typed is False:
        raise AssertionError(
            "{name}(%s) returned %s, which does not fit its annotation -> %s" % (args, out[:200], _RETURNS))
    _pytest.skip({mark!r} + _json.dumps({{"out": out, "typed": typed}}))
'''


def outputs_probe(name: str, module: str, import_root: str, guard_file: str, returns: str | None,
                  inputs: Sequence[str], *, typed: Collection[str] | None = None) -> str | None:
    """The pytest file that runs ``name`` on each of ``inputs`` and reports its output
    (read back by :func:`codeloop.verify.candidates.read_results`); ``returns`` is the
    stub's return annotation, checked against the values on the ``typed`` inputs (all when
    None; see :func:`typed_inputs`). None without inputs."""
    if not inputs:
        return None
    guard = runtime_guard(guard_file).replace("{", "{{").replace("}", "}}")
    src = _PROBE.replace("{guard}", guard).format(name=name, root=import_root, module=module, mark=OUTPUT_MARK,
                                                   returns=returns)
    for i, args in enumerate(inputs):
        check = typed is None or args in typed
        src += f"\n\ndef test_output_{i}():\n    _probe({args!r}, {check!r})\n"
    return src
