"""Test names that say the behaviour: the branch a call took, the argument it returned.

The driver reports, for every kept call, the arcs it covered first (``line -> line``). The
first decision among them (an ``if``/``while``/``for`` line of the called function, earliest
line first: later arcs are usually consequences of that first divergence) is spelled from
its condition and the way it went: ``value > high`` taken gives ``value_above_high``, not
taken ``value_at_most_high``. A result equal to exactly one argument is named after that
parameter (``returns_high``). Only ``ast`` on the module's own source; nothing runs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

MAX_PHRASE = 40

# Comparison operator -> (words when the condition holds, words when it does not).
_CMP = {
    ast.Gt: ("above", "at_most"), ast.GtE: ("at_least", "below"), ast.Lt: ("below", "at_least"),
    ast.LtE: ("at_most", "above"), ast.Eq: ("equals", "differs_from"), ast.NotEq: ("differs_from", "equals"),
    ast.Is: ("is", "is_not"), ast.IsNot: ("is_not", "is"), ast.In: ("in", "not_in"), ast.NotIn: ("not_in", "in"),
}
_BINOP = {ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "over", ast.FloorDiv: "div",
          ast.Mod: "mod", ast.Pow: "pow", ast.BitAnd: "and", ast.BitOr: "or", ast.LShift: "shl", ast.RShift: "shr"}


def snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.strip("_"))
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def const_slug(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"minus_{-value}" if value < 0 else str(value) if abs(value) < 10**6 else "large_int"
    if isinstance(value, float):
        text = repr(value).replace("-", "minus_").replace(".", "_").replace("+", "")
        return text if len(text) <= 12 and re.fullmatch(r"\w+", text) else "float"
    if isinstance(value, (str, bytes)):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if not text:
            return "empty_string" if isinstance(value, str) else "empty_bytes"
        slug = snake(text)
        return slug if slug and len(slug) <= 20 and slug.isascii() else "text"
    return snake(type(value).__name__) or "value"


def expr_slug(node: ast.AST) -> str:
    """A short identifier-ish spelling of an expression: ``len(items)`` -> ``len_items``."""
    if isinstance(node, ast.Name):
        return snake(node.id) or "value"
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            return snake(node.attr) or "attr"
        return f"{expr_slug(node.value)}_{snake(node.attr)}"
    if isinstance(node, ast.Constant):
        return const_slug(node.value)
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute):
            return f"{expr_slug(f.value)}_{snake(f.attr)}"
        head = expr_slug(f)
        return f"{head}_{expr_slug(node.args[0])}" if node.args and head in ("len", "abs", "type", "str", "int") else head
    if isinstance(node, ast.Subscript):
        return f"{expr_slug(node.value)}_item"
    if isinstance(node, ast.BinOp):
        return f"{expr_slug(node.left)}_{_BINOP.get(type(node.op), 'op')}_{expr_slug(node.right)}"
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return f"minus_{expr_slug(node.operand)}"
        if isinstance(node.op, ast.Not):
            return f"not_{expr_slug(node.operand)}"
        return expr_slug(node.operand)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return "empty_collection" if not node.elts else "collection"
    if isinstance(node, ast.Dict):
        return "empty_dict" if not node.keys else "mapping"
    return "value"


def condition_phrase(node: ast.AST, holds: bool) -> str | None:
    """``value > high`` holding -> ``value_above_high``; None when it cannot be said briefly."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return condition_phrase(node.operand, not holds)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        left, right = node.left, node.comparators[0]
        words = _CMP.get(op)
        if words is None:
            return None
        word = words[0 if holds else 1]
        if op in (ast.Eq, ast.NotEq) and isinstance(right, ast.Constant):
            word = "is" if word == "equals" else "is_not"
        return f"{expr_slug(left)}_{word}_{expr_slug(right)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("isinstance", "issubclass") \
            and len(node.args) == 2:
        kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
        kind = "_or_".join(expr_slug(k) for k in kinds[:2])
        return f"{expr_slug(node.args[0])}_{'is' if holds else 'is_not'}_{kind}"
    if isinstance(node, ast.BoolOp):
        joins_all = isinstance(node.op, ast.And) == holds  # every operand is known to have gone this way
        if not joins_all:
            return None
        parts = [condition_phrase(v, holds) for v in node.values]
        if any(p is None for p in parts):
            return None
        return "_and_".join(parts)  # type: ignore[arg-type]
    slug = expr_slug(node)
    return slug if holds else f"not_{slug}"


@dataclass
class _Decision:
    line: int
    test: ast.AST | None  # None for a `for` loop
    loop_iter: ast.AST | None
    body_line: int


class BranchNamer:
    """Names from the decisions of one module's source."""

    def __init__(self, source: str) -> None:
        self.decisions: dict[int, _Decision] = {}
        self.ranges: dict[str, tuple[int, int]] = {}
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        self._walk(tree, "")

    def _walk(self, node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qual = f"{prefix}{child.name}"
                self.ranges.setdefault(qual, (child.lineno, child.end_lineno or child.lineno))
                self._walk(child, f"{qual}.")
                continue
            if isinstance(child, (ast.If, ast.While)) and child.body:
                self.decisions.setdefault(child.lineno, _Decision(child.lineno, child.test, None, child.body[0].lineno))
            elif isinstance(child, (ast.For, ast.AsyncFor)) and child.body:
                self.decisions.setdefault(child.lineno, _Decision(child.lineno, None, child.iter, child.body[0].lineno))
            self._walk(child, prefix)

    def phrase(self, func: str, arcs: list) -> str | None:
        """The behaviour a call's first new arcs show, in ``func`` when possible."""
        span = self.ranges.get(func) or self.ranges.get(func.split(".")[0])
        taken = []
        for arc in arcs or []:
            try:
                a, b = int(arc[0]), int(arc[1])
            except (TypeError, ValueError, IndexError):
                continue
            d = self.decisions.get(a)
            if d is not None and a != b:
                taken.append((not (span and span[0] <= a <= span[1]), a, b, d))
        for _, _, b, d in sorted(taken, key=lambda t: (t[0], t[1], t[2])):
            into_body = b == d.body_line
            if d.test is not None:
                text = condition_phrase(d.test, into_body)
            else:
                text = f"{'with' if into_body else 'empty'}_{expr_slug(d.loop_iter)}" if d.loop_iter else None
            if text and len(text) <= MAX_PHRASE:
                return re.sub(r"_+", "_", text)
        return None


def returned_argument(expr: str, result_src: str, params: list[str] | None) -> str | None:
    """The parameter whose argument the call returned, when exactly one argument equals the
    result (``clamp(5, 0, 3)`` returning 3 -> ``high``); None otherwise."""
    try:
        call = ast.parse(expr, mode="eval").body
        result = ast.literal_eval(result_src)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(call, ast.Call) or result is None or isinstance(result, bool):
        return None
    names: list[tuple[str, ast.AST]] = []
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return None
        if params and i < len(params):
            names.append((params[i], arg))
    names += [(k.arg, k.value) for k in call.keywords if k.arg]
    hits = []
    for name, node in names:
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if type(value) is type(result) and value == result:
            hits.append(name)
    if len(hits) != 1:
        return None
    return snake(hits[0]) or None
