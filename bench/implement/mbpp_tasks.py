"""MBPP rows -> benchmark tasks: a stub with one visible example, hidden asserts, and
single-point mutants of the reference solution (the wrong samples of the replay).

No MBPP text lives in the repository: rows are read at run time (see mbpp_bench.py).
"""

from __future__ import annotations

import ast
import copy
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULE = "solution"  # the stub's module name in each task's workspace


@dataclass
class Task:
    """One benchmark problem built from a row."""

    task_id: int
    name: str  # the function to implement
    imports: list[str]  # the reference's import lines, kept in the stub module (a user's file has them)
    signature: str  # ``def name(params):``
    text: str  # the problem statement (docstring summary)
    visible: str  # ``assert name(...) == value`` shown as a docstring example
    hidden: list[str]  # the judge's asserts
    reference: str  # the reference function (with its imports)
    visible_call: str = ""  # ``name(...)``
    visible_expected: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    more: list[tuple[str, str, Any]] = field(default_factory=list)  # further visible examples: (assert, call, value)

    @property
    def visible_asserts(self) -> list[str]:
        return [self.visible, *(a for a, _, _ in self.more)]

    @property
    def examples(self) -> list[tuple[str, Any]]:
        """Every visible example as (call, value)."""
        return [(self.visible_call, self.visible_expected), *((c, v) for _, c, v in self.more)]

    def stub(self) -> str:
        """The module the user would have: imports, then the stub with its doctest examples."""
        shown = "".join(f">>> {call}\n    {value!r}\n    " for call, value in self.examples)
        doc = f"{self.text.strip()}\n\n    {shown}"
        head = "\n".join(self.imports) + "\n\n\n" if self.imports else ""
        return f'{head}{self.signature}\n    """{doc}"""\n    ...\n'


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _split_assert(src: str, name: str) -> tuple[str, Any] | None:
    """``assert name(args) == literal`` -> (call source, value); None for any other form."""
    try:
        node = ast.parse(src.strip()).body
    except SyntaxError:
        return None
    if len(node) != 1 or not isinstance(node[0], ast.Assert):
        return None
    test = node[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    call = test.left
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name):
        return None
    try:
        value = ast.literal_eval(test.comparators[0])
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            ast.literal_eval(arg)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, float) or (isinstance(value, (tuple, list)) and any(isinstance(v, float) for v in value)):
        return None  # floats make doctest output and equality brittle: leave them out
    return ast.unparse(call), value


def build_task(row: dict[str, Any], visible: int = 1) -> Task | None:
    """A task from a row, or None when the stub cannot express the reference or the asserts
    are not ``assert f(...) == literal``. The first ``visible`` asserts become the stub's
    examples, the others are hidden."""
    if row.get("test_setup_code", "").strip():
        return None
    code = row["code"].replace("\r\n", "\n").replace("\t", "    ")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    others = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom))]
    if len(funcs) != 1 or others:
        return None  # helpers or globals: one stub cannot hold them
    fn = funcs[0]
    if fn.decorator_list or ast.get_docstring(fn) is not None:
        return None
    tests = row.get("test_list") or []
    if len(tests) != 3:
        return None
    split = [_split_assert(t, fn.name) for t in tests]
    if any(s is None for s in split):
        return None
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    params = ast.unparse(fn.args)
    reference = "\n".join(imports + ([""] if imports else []) + [ast.unparse(fn)]) + "\n"
    call, expected = split[0]  # type: ignore[misc]
    more = [(tests[i].strip(), *split[i]) for i in range(1, visible)]  # type: ignore[misc]
    return Task(task_id=int(row["task_id"]), name=fn.name, imports=imports, signature=f"def {fn.name}({params}):",
                text=" ".join(row["text"].split()), visible=tests[0].strip(),
                hidden=[t.strip() for t in tests[visible:]], reference=reference, visible_call=call,
                visible_expected=expected, more=more)


# -- the mutator --------------------------------------------------------------------------

_BINOP_SWAPS: dict[type, list[type]] = {
    ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.FloorDiv, ast.Add], ast.FloorDiv: [ast.Mult, ast.Div],
    ast.Div: [ast.FloorDiv], ast.Mod: [ast.FloorDiv], ast.Pow: [ast.Mult],
}
_CMP_SWAPS: dict[type, list[type]] = {
    ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt], ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt],
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.In: [ast.NotIn], ast.NotIn: [ast.In],
}
_NAME_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}


class _Mutator(ast.NodeTransformer):
    """Applies mutation number ``target`` (counting in visiting order); ``target=-1`` only counts.

    Kinds: operator swap, comparison swap (boundary), integer constant +-1 (off-by-one,
    slices and ranges included), and/or swap, dropped ``not``, min/max and any/all swap,
    dropped slice bound, ``reverse=`` toggle, ``range(a, b)`` -> ``range(a, b + 1)``."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.kind = ""

    def _hit(self, kind: str) -> bool:
        hit = self.count == self.target
        self.count += 1
        if hit:
            self.kind = kind
        return hit

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        for new in _BINOP_SWAPS.get(type(node.op), []):
            if self._hit("operator"):
                node.op = new()
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        for new in _BINOP_SWAPS.get(type(node.op), []):
            if self._hit("operator"):
                node.op = new()
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            for new in _CMP_SWAPS.get(type(op), []):
                if self._hit("comparison"):
                    node.ops[i] = new()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if self._hit("boolean"):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._hit("negation"):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if type(node.value) is int:
            for delta in (1, -1):
                if self._hit("constant"):
                    return ast.copy_location(ast.Constant(node.value + delta), node)
        return node

    def visit_Slice(self, node: ast.Slice) -> ast.AST:
        self.generic_visit(node)
        for attr in ("lower", "upper"):
            if getattr(node, attr) is not None and self._hit("slice"):
                setattr(node, attr, None)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name):
            if node.func.id in _NAME_SWAPS and self._hit("swap"):
                node.func = ast.Name(_NAME_SWAPS[node.func.id], ast.Load())
            if node.func.id == "range" and len(node.args) >= 2 and self._hit("boundary"):
                node.args[1] = ast.BinOp(node.args[1], ast.Add(), ast.Constant(1))
        for kw in node.keywords:
            if kw.arg == "reverse" and isinstance(kw.value, ast.Constant) and self._hit("reverse"):
                kw.value = ast.Constant(not kw.value.value)
        return node


def mutants(reference: str) -> list[tuple[str, str]]:
    """Every single-point mutant of ``reference``: (kind, source), distinct from it and each other."""
    tree = ast.parse(reference)
    counter = _Mutator(-1)
    counter.visit(copy.deepcopy(tree))
    base = ast.unparse(tree)
    seen = {base}
    out: list[tuple[str, str]] = []
    for k in range(counter.count):
        m = _Mutator(k)
        new = ast.fix_missing_locations(m.visit(copy.deepcopy(tree)))
        try:
            src = ast.unparse(new)
            compile(src, "<mutant>", "exec")
        except (SyntaxError, ValueError, RecursionError):
            continue
        if src not in seen:
            seen.add(src)
            out.append((m.kind, src + "\n"))
    return out


def guarded(reference: str, name: str, expected: Any) -> str | None:
    """``reference`` with a defensive first line a model often adds (``if not xs: return 0``,
    the zero of the visible result's type): a right sample that differs from the reference
    only where its first argument is falsy. None when the function has no argument."""
    tree = ast.parse(reference)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if fn is None or not fn.args.args:
        return None
    zero = type(expected)() if isinstance(expected, (bool, int, str, list, tuple, dict)) else None
    guard = ast.parse(f"if not {fn.args.args[0].arg}:\n    return {zero!r}").body[0]
    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(
        getattr(fn.body[0], "value", None), ast.Constant) else fn.body
    fn.body = [guard, *body]
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


# -- inputs for the model's tests -----------------------------------------------------------

def _perturb(value: Any, rng: random.Random) -> Any:
    """A nearby literal of the same shape (another input a test writer might try)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(0, value + rng.choice([-2, -1, 1, 2, 3])) if value >= 0 else value + rng.choice([-1, 1])
    if isinstance(value, str):
        if len(value) > 1 and rng.random() < 0.5:
            return value[: rng.randrange(1, len(value))]
        return value + rng.choice(["a", "b", "x", " ", "1"])
    if isinstance(value, (list, tuple)) and value:
        items = list(value)
        r = rng.random()
        if r < 0.35 and len(items) > 1:
            items.pop(rng.randrange(len(items)))
        elif r < 0.7:
            items.append(copy.deepcopy(rng.choice(items)))
        else:
            i = rng.randrange(len(items))
            items[i] = _perturb(items[i], rng)
        return type(value)(items)
    return value


def other_calls(task: Task, rng: random.Random, count: int) -> list[str]:
    """Calls of ``task.name`` on inputs near the visible example's."""
    call = ast.parse(task.visible_call, mode="eval").body
    shown = {c for c, _ in task.examples}
    assert isinstance(call, ast.Call)
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    out: list[str] = []
    for _ in range(count * 3):
        new = list(args)
        if new:
            i = rng.randrange(len(new))
            new[i] = _perturb(new[i], rng)
        parts = [repr(a) for a in new] + [f"{k}={v!r}" for k, v in kwargs.items()]
        src = f"{task.name}({', '.join(parts)})"
        if src not in shown and src not in out:
            out.append(src)
        if len(out) >= count:
            break
    return out


def wrong_value(value: Any, rng: random.Random) -> Any:
    """A plausible but wrong expected value (what a test writer's slip looks like)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice([-1, 1, 2])
    if isinstance(value, str):
        return value[:-1] if value else "a"
    if isinstance(value, (list, tuple)):
        if len(value) > 1 and rng.random() < 0.5:
            return type(value)(reversed(value)) if list(reversed(value)) != list(value) else type(value)(value[:-1])
        return type(value)(list(value)[:-1]) if value else type(value)([0])
    if value is None:
        return 0
    return None
