"""Cases of one callable that differ only in values become one ``pytest.mark.parametrize`` test.

Each generated test is reduced to a skeleton: its body with every literal (a constant, a
literal list/tuple/dict/set, a negative number) replaced by a slot. Tests of the same
callable with the same skeleton are one test over a table: the slots whose values differ
become parameters (named after the call's parameter, ``expected`` for the asserted value,
``message`` for a ``match=`` text), the others stay inline, and each case keeps its own
behaviour name as its pytest id. ``None``/``True``/``False`` stay in the skeleton so that
``is None`` and ``is True`` read as before.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

from codeloop.generate.offline.render import INDENT, func_slug
from codeloop.generate.tests_model import GeneratedTest

MIN_CASES = 2
MAX_CASES = 40


@dataclass
class _Slot:
    node: ast.AST
    role: str  # a parameter name, "expected", "message" or "value"


_SINGLETONS = (bool, type(None), type(Ellipsis))


def _is_literal(node: ast.AST) -> bool:
    """A literal worth a slot: not None/True/False, which stay in the skeleton."""
    if isinstance(node, ast.Constant):
        return type(node.value) not in _SINGLETONS
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float, complex))
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(e) or _singleton(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and (_is_literal(k) or _singleton(k)) for k in node.keys) and \
            all(_is_literal(v) or _singleton(v) for v in node.values)
    return False


def _singleton(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in _SINGLETONS


class _Slots(ast.NodeTransformer):
    """Replaces literals with numbered names, remembering each one's role."""

    def __init__(self, params: list[str] | None, target: str) -> None:
        self.slots: list[_Slot] = []
        self.params = params or []
        self.target = target.rsplit(".", 1)[-1]

    def _slot(self, node: ast.AST, role: str) -> ast.Name:
        self.slots.append(_Slot(node, role))
        return ast.Name(id=f"__slot{len(self.slots) - 1}", ctx=ast.Load())

    def visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.expr) and _is_literal(node):
            return self._slot(node, "value")
        return super().visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        own = callee == self.target
        args = []
        for i, a in enumerate(node.args):
            if _is_literal(a):
                role = "expected" if callee == "approx" else (
                    self.params[i] if own and i < len(self.params) else "value")
                args.append(self._slot(a, role))
            else:
                args.append(self.visit(a))
        node.args = args
        for k in node.keywords:
            if _is_literal(k.value):
                k.value = self._slot(k.value, "message" if k.arg == "match" else (k.arg or "value"))
            else:
                k.value = self.visit(k.value)
        node.func = self.visit(node.func)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        node.left = self.visit(node.left)
        node.comparators = [self._slot(c, "expected") if _is_literal(c) else self.visit(c) for c in node.comparators]
        return node


def _skeleton(test: GeneratedTest, params: list[str] | None) -> tuple[str, list[_Slot], ast.FunctionDef] | None:
    try:
        fn = ast.parse(test.code).body[0]
    except (SyntaxError, IndexError):
        return None
    if not isinstance(fn, ast.FunctionDef) or fn.decorator_list or fn.args.args:
        return None
    t = _Slots(params, test.target)
    body = [t.visit(stmt) for stmt in fn.body]
    key = "\n".join(ast.dump(stmt, include_attributes=False) for stmt in body)
    return key, t.slots, fn


def _param_names(roles: list[str], taken: set[str]) -> list[str]:
    names: list[str] = []
    for role in roles:
        base = re.sub(r"\W", "_", role) or "value"
        if base in taken or hasattr(builtins, base) or base in ("pytest", "result"):
            base = f"{base}_"
        name, n = base, 2
        while name in names:
            name = f"{base}{n}"
            n += 1
        names.append(name)
    return names


def _case_id(name: str, target: str) -> str:
    prefix = f"test_{func_slug(target)}_"
    text = name[len(prefix):] if name.startswith(prefix) else name.removeprefix("test_")
    return text or "case"


def parametrize(tests: list[GeneratedTest], params: dict[str, list[str]] | None = None,
                taken: set[str] | None = None) -> list[GeneratedTest]:
    """Merge passing tests of one callable that differ only in literal values."""
    params = params or {}
    groups: dict[tuple[str, str], list[tuple[GeneratedTest, list[_Slot]]]] = {}
    order: list = []
    for t in tests:
        sk = None if t.kind != "pass" or "capsys" in t.code else _skeleton(t, params.get(t.target))
        if sk is None or not sk[1]:
            order.append(t)
            continue
        key = (t.target, sk[0])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((t, sk[1]))
    names_in_use = set(taken or ()) | {t.name for t in tests}
    out: list[GeneratedTest] = []
    for item in order:
        if isinstance(item, GeneratedTest):
            out.append(item)
            continue
        cases = groups[item]
        if len(cases) < MIN_CASES:
            out.extend(t for t, _ in cases)
            continue
        for start in range(0, len(cases), MAX_CASES):
            merged = _merge(cases[start:start + MAX_CASES], names_in_use)
            out.extend(merged)
    return out


def _merge(cases: list[tuple[GeneratedTest, list[_Slot]]], names_in_use: set[str]) -> list[GeneratedTest]:
    if len(cases) < MIN_CASES:
        return [t for t, _ in cases]
    first, slots = cases[0]
    texts = [[ast.unparse(s.node) for s in sl] for _, sl in cases]
    varying = [i for i in range(len(slots)) if len({row[i] for row in texts}) > 1]
    if not varying:
        return [t for t, _ in cases]  # identical tests: nothing to tabulate
    names_in_use.difference_update(t.name for t, _ in cases)  # they are replaced by the merged test
    fn = ast.parse(first.code).body[0]
    assert isinstance(fn, ast.FunctionDef)
    local = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    names = _param_names([slots[i].role for i in varying], local)
    t = _Slots(None, first.target)
    t.params = []
    body = [t.visit(stmt) for stmt in ast.parse(first.code).body[0].body]  # type: ignore[attr-defined]
    fixed = {i: ast.parse(texts[0][i], mode="eval").body for i in range(len(slots)) if i not in varying}
    by_slot = {f"__slot{i}": ast.Name(id=names[varying.index(i)], ctx=ast.Load()) for i in varying}
    by_slot.update({f"__slot{i}": node for i, node in fixed.items()})

    class _Fill(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return by_slot.get(node.id, node)

    body = [ast.fix_missing_locations(_Fill().visit(stmt)) for stmt in body]
    outcome = _common_outcome([c for c, _ in cases])
    base = f"test_{func_slug(first.target)}_{outcome}"
    name, n = base, 2
    while name in names_in_use:
        name = f"{base}_{n}"
        n += 1
    names_in_use.add(name)
    # Each case keeps its behaviour name as its id when those tell the cases apart; names that
    # only differ by a counter say less than pytest's own ids (the values).
    ids = [_case_id(test.name, test.target) for test, _ in cases]
    stems = [re.sub(r"_\d+$", "", i) for i in ids]
    if len(set(stems)) < len(stems):
        ids = []
    rows = []
    for k, row in enumerate(texts):
        values = ", ".join(row[i] for i in varying)
        if ids:
            rows.append(f"{INDENT * 2}pytest.param({values}, id={ids[k]!r}),")
        else:
            # one parameter: the row is the value itself (a 1-tuple would be passed as a tuple)
            rows.append(f"{INDENT * 2}{values}," if len(varying) == 1 else f"{INDENT * 2}({values}),")
    argnames = repr(names[0]) if len(names) == 1 else "(" + ", ".join(repr(x) for x in names) + ")"
    code = "\n".join([
        "@pytest.mark.parametrize(",
        f"{INDENT}{argnames},",
        f"{INDENT}[",
        *rows,
        f"{INDENT}],",
        ")",
        f"def {name}({', '.join(names)}):",
        *(INDENT + line for stmt in body for line in ast.unparse(stmt).splitlines()),
    ]) + "\n"
    imports = sorted({i for c, _ in cases for i in c.imports} | {"import pytest"})
    return [GeneratedTest(name=name, code=code, imports=imports, target=first.target, kind="pass",
                          line=first.line, message=f"{len(cases)} cases", parts=[c for c, _ in cases])]


def _common_outcome(tests: list[GeneratedTest]) -> str:
    """``raises_value_error`` when every case raises it, ``returns_expected`` otherwise."""
    kinds = set()
    for t in tests:
        m = re.search(r"_(raises_\w+?)(?:_\d+)?$", t.name)
        kinds.add(m.group(1) if m else "returns")
    if len(kinds) == 1 and next(iter(kinds)).startswith("raises_"):
        return next(iter(kinds))
    return "returns_expected" if any("assert" in t.code for t in tests) else "cases"
