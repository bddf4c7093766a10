"""Preconditions: which inputs a function is documented (or coded) to accept.

Probing candidates on inputs the docstring rules out ("n must be non-negative") or
that the code's own guard rejects (``if n < 0: raise ValueError``) says nothing about
them, so :mod:`codeloop.verify.output_probe` leaves such inputs out. The reader is
small and conservative: the common phrasings, comparisons of a parameter with a
number, and ``if ...: raise`` / ``assert`` guards at the top of the function body.

A precondition is a Python expression over the parameter names (``n >= 0``,
``len(xs) > 0``); :func:`holds` evaluates it on literal arguments without running any
user code (only a whitelist of syntax and builtins).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

_NUMBER = r"-?\d+(?:\.\d+)?"
# phrase -> precondition template on the parameter "{p}"
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bnon[- ]?negative\b", re.I), "{p} >= 0"),
    (re.compile(r"\bnot negative\b", re.I), "{p} >= 0"),
    (re.compile(r"\b(?:strictly )?positive\b", re.I), "{p} > 0"),
    (re.compile(r"\bnatural number\b", re.I), "{p} >= 0"),
    (re.compile(r"\bnon[- ]?zero\b", re.I), "{p} != 0"),
    (re.compile(r"\bnon[- ]?empty\b|\bnot (?:be )?empty\b", re.I), "len({p}) > 0"),
)
_WORD_OPS = {"at least": ">=", "at most": "<=", "greater than": ">", "less than": "<", "more than": ">",
             "smaller than": "<", "larger than": ">", "bigger than": ">"}
_WORDS = "|".join(_WORD_OPS)
# "returns a positive number": the phrase is about the result, not an argument
_ABOUT_RESULT = re.compile(r"\b(?:returns?|yields?|gives|result(?: is)?)\s+(?:(?:a|an|the|always)\s+)?$", re.I)
_SAFE_CALLS = frozenset({"len", "abs", "isinstance", "int", "float", "str", "bool", "list", "tuple", "set",
                         "dict", "min", "max", "sum", "all", "any", "sorted", "round"})
_SAFE_NODES = (ast.Expression, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.Name, ast.Load,
               ast.Constant, ast.Call, ast.Tuple, ast.List, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
               ast.Add, ast.Sub, ast.Mod, ast.FloorDiv, ast.Div, ast.Eq, ast.NotEq, ast.Lt,
               ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def doc_preconditions(doc: str | None, params: Sequence[str]) -> list[str]:
    """Preconditions stated in ``doc``: a phrase counts for the one parameter named in its
    sentence (or, for a one-parameter function, for that parameter unless the sentence
    is about the return value)."""
    if not doc or not params:
        return []
    out: list[str] = []
    for sentence in re.split(r"(?<=[.;])\s+|\n", doc):
        named = [p for p in params if re.search(rf"\b{re.escape(p)}\b", sentence)]
        for p in named:  # "0 <= n <= 100", "n >= 0", "n > 1"
            for m in re.finditer(rf"(?<![\w.])({_NUMBER})\s*(<=|<)\s*{re.escape(p)}\b", sentence):
                out.append(f"{m.group(1)} {m.group(2)} {p}")
            for m in re.finditer(rf"\b{re.escape(p)}\s*(?:(?:must|should|will) be|is)?\s*"
                                 rf"(>=|>|<=|<|!=|{_WORDS})\s*({_NUMBER})(?![\w.])", sentence, re.I):
                op = _WORD_OPS.get(m.group(1).lower(), m.group(1))
                out.append(f"{p} {op} {m.group(2)}")
        if len(named) > 1:
            continue
        if not named:
            if len(params) != 1:
                continue
            named = [params[0]]
        for pattern, template in _PHRASES:
            m = pattern.search(sentence)
            if m and not _ABOUT_RESULT.search(sentence[: m.start()]):
                out.append(template.format(p=named[0]))
    return list(dict.fromkeys(out))


def guard_preconditions(code: str | None, params: Sequence[str]) -> list[str]:
    """Preconditions the function enforces first thing: ``if COND: raise ...`` gives
    ``not (COND)``, ``assert COND`` gives ``COND`` (only safe expressions over ``params``)."""
    if not code:
        return []
    try:
        import textwrap

        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    fn = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None:
        return []
    out = []
    body = fn.body[1:] if fn.body and _is_docstring(fn.body[0]) else fn.body
    for stmt in body:
        if isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1 and isinstance(stmt.body[0], ast.Raise):
            expr = f"not ({ast.unparse(stmt.test)})"
        elif isinstance(stmt, ast.Assert):
            expr = ast.unparse(stmt.test)
        else:
            break  # only the guards before the work starts
        if _safe(expr, params):
            out.append(expr)
    return out


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def preconditions(doc: str | None, code: str | None, params: Sequence[str]) -> list[str]:
    """Everything known about the accepted inputs: the docstring's and the code's guards."""
    found = [p for p in doc_preconditions(doc, params) if _safe(p, params)]
    return list(dict.fromkeys(found + guard_preconditions(code, params)))


def _safe(expr: str, params: Sequence[str]) -> bool:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if not isinstance(node, _SAFE_NODES):
            return False
        if isinstance(node, ast.Name) and node.id not in params and node.id not in _SAFE_CALLS:
            return False
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.func.id not in _SAFE_CALLS
                                           or node.keywords):
            return False
    return True


def holds(conditions: Sequence[str], params: Sequence[str], args: str) -> bool:
    """False when literal arguments ``args`` (``"-1, [2]"``) break one of ``conditions``;
    True otherwise, also when that cannot be told (non-literal arguments, a check that errs)."""
    if not conditions:
        return True
    try:
        call = ast.parse(f"_f({args})", mode="eval").body
        assert isinstance(call, ast.Call)
        values = [ast.literal_eval(a) for a in call.args]
        named = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (SyntaxError, ValueError, TypeError, AssertionError, MemoryError, RecursionError):
        return True
    bound = dict(zip(params, values, strict=False)) | named
    builtins = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
    scope = {name: builtins[name] for name in _SAFE_CALLS}
    for condition in conditions:
        if not _safe(condition, params) or any(
                isinstance(n, ast.Name) and n.id in params and n.id not in bound
                for n in ast.walk(ast.parse(condition, mode="eval"))):
            continue
        try:
            ok = eval(compile(condition, "<precondition>", "eval"), {"__builtins__": {}}, {**scope, **bound})  # noqa: S307 - whitelisted syntax over literal values
        except Exception:
            continue
        if not ok:
            return False
    return True
