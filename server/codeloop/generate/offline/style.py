"""The style of the user's existing tests, read from their files and applied to generated ones.

Three rules, each read with ``ast`` from the test file being appended to (else the tests that
import the module, else the other test files of its folder):

- **import form**: ``from pkg.mod import f`` (the default), ``import pkg.mod as m``,
  ``from pkg import mod`` or ``import pkg.mod``: the generated tests then call ``m.f(...)``.
- **assertion style**: when the existing tests are ``unittest.TestCase`` classes, the new
  tests are methods of a new ``TestCase`` class with ``self.assertEqual``/``assertRaises``
  (table cases become ``self.subTest`` loops; tests that need a pytest fixture or an xfail
  marker stay functions).
- **fixtures**: a function-scoped ``@pytest.fixture`` (in the file or a ``conftest.py`` above
  it) that returns ``Cls(args)``: a test that starts by building the same object takes the
  fixture as a parameter instead.

Tests are changed in place (a probable bug holds its test object). Only text is rewritten,
at the positions ``ast`` gives, so literals keep their layout.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from codeloop.generate.offline.render import INDENT
from codeloop.generate.tests_model import GeneratedTest

NEARBY_FILES = 8


@dataclass
class Fixture:
    name: str
    call: str  # the constructor call, normalised (``Stack(3)`` whatever the callee's qualifier)


@dataclass
class TestStyle:
    """How the user's tests are written (the defaults: what the renderer writes)."""

    # "names" (from pkg.mod import f), "alias" (import pkg.mod as m), "from" (from pkg import mod),
    # "dotted" (import pkg.mod)
    import_form: str = "names"
    alias: str | None = None  # the name the module is bound to (alias and from forms)
    unittest: bool = False
    base: str = "unittest.TestCase"  # how the TestCase base is spelled
    base_import: str = "import unittest"
    fixtures: list[Fixture] = field(default_factory=list)
    read_from: list[str] = field(default_factory=list)  # the files the style was read from

    def describe(self) -> str:
        """One line for the summary; "" for the default style."""
        parts = []
        if self.import_form != "names":
            parts.append({"alias": f"import ... as {self.alias}", "from": f"from ... import {self.alias}",
                          "dotted": "dotted module names"}[self.import_form])
        if self.unittest:
            parts.append("unittest.TestCase")
        if self.fixtures:
            parts.append("fixtures " + ", ".join(f.name for f in self.fixtures))
        return ", ".join(parts)


TestStyle.__test__ = False  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- reading


def _parse(text: str | None) -> ast.Module | None:
    try:
        return ast.parse(text or "")
    except SyntaxError:
        return None


def import_form(tree: ast.Module, module: str, is_module: Callable[[str], bool] = lambda _: False
                ) -> tuple[str, str | None] | None:
    """How ``tree`` imports ``module`` (or, failing that, a sibling module of its package):
    ("names", None), ("alias", name), ("from", name) or ("dotted", None); None: it does not."""
    parent, _, leaf = module.rpartition(".")
    top = module.split(".")[0]
    sibling = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == module:
                    return ("alias", a.asname) if a.asname else ("dotted", None)
                if sibling is None and a.asname and a.name.split(".")[0] == top and a.asname == a.name.rsplit(".", 1)[-1]:
                    sibling = ("alias", leaf)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == module:
                return ("names", None)
            for a in node.names:
                if node.module == parent and a.name == leaf:
                    return ("from", a.asname or leaf)
                if (sibling is None and parent and node.module == parent and a.asname is None
                        and is_module(f"{parent}.{a.name}")):
                    sibling = ("from", leaf)
    return sibling


def _is_testcase(base: ast.expr) -> str | None:
    text = ast.unparse(base)
    return text if text.split(".")[-1] in ("TestCase", "IsolatedAsyncioTestCase") else None


def testcase_base(tree: ast.Module) -> str | None:
    """The spelling of the TestCase base when the file's tests are TestCase methods."""
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name.startswith("test")]
    bases = [b for c in classes for b in (_is_testcase(x) for x in c.bases) if b]
    if bases and len(bases) >= len(functions):
        return "unittest.TestCase" if any(b.endswith("IsolatedAsyncioTestCase") for b in bases) else bases[0]
    return None


def _fixture_scope(dec: ast.expr) -> str | None:
    """"function"/"module"/... when ``dec`` is a pytest fixture decorator, else None."""
    call = dec if isinstance(dec, ast.Call) else None
    target = call.func if call else dec
    if ast.unparse(target).split(".")[-1] != "fixture":
        return None
    for k in call.keywords if call else []:
        if k.arg == "scope":
            return k.value.value if isinstance(k.value, ast.Constant) else "dynamic"
    return "function"


def _norm_call(call: ast.Call) -> str:
    """A constructor call without its callee's qualifier: ``mod.Stack(3)`` and ``Stack(3)`` match."""
    node = ast.Call(func=ast.Name(id=ast.unparse(call.func).rsplit(".", 1)[-1], ctx=ast.Load()),
                    args=call.args, keywords=call.keywords)
    return ast.dump(node, include_attributes=False)


def fixtures(tree: ast.Module) -> list[Fixture]:
    """Function-scoped fixtures that only build an object: ``return Cls(...)``, ``yield Cls(...)``
    or ``x = Cls(...)`` then ``return x``/``yield x``."""
    out = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or fn.args.args:
            continue
        if not any(_fixture_scope(d) == "function" for d in fn.decorator_list):
            continue
        body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        value = None
        if len(body) == 1 and isinstance(body[0], ast.Return):
            value = body[0].value
        elif len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Yield):
            value = body[0].value.value
        elif (len(body) == 2 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1
              and isinstance(body[0].targets[0], ast.Name)):
            end = body[1]
            got = end.value if isinstance(end, ast.Return) else (
                end.value.value if isinstance(end, ast.Expr) and isinstance(end.value, ast.Yield) else None)
            if isinstance(got, ast.Name) and got.id == body[0].targets[0].id:
                value = body[0].value
        if isinstance(value, ast.Call):
            out.append(Fixture(fn.name, _norm_call(value)))
    return out


def detect(texts: list[tuple[str, str]], module: str, conftests: Iterable[str] = (),
           is_module: Callable[[str], bool] = lambda _: False, own: str | None = None) -> TestStyle:
    """The style of ``texts`` ((label, text) of test files, the most relevant first; the
    first file that says something about a rule decides it) and the fixtures the new tests
    will see: those of ``conftests`` (texts of the conftest.py files above the test file)
    and of ``own``, the text of the test file they are appended to."""
    style = TestStyle()
    form = base = None
    for label, text in texts:
        tree = _parse(text)
        if tree is None:
            continue
        style.read_from.append(label)
        if form is None:
            form = import_form(tree, module, is_module)
        if base is None:
            base = testcase_base(tree)
            has_tests = any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name.lower().startswith("test")
                            for n in tree.body)
            if base is None and has_tests:
                base = ""  # pytest functions: decided
    if form is not None:
        style.import_form, style.alias = form
    if base:
        style.unittest = True
        style.base = base
        style.base_import = "import unittest" if base.startswith("unittest.") else f"from unittest import {base}"
    for text in [*conftests, *([own] if own else [])]:
        tree = _parse(text)
        if tree is not None:
            style.fixtures += fixtures(tree)
    return style


def read_style(project: Path, import_root: Path, module: str, test_file: Path, existing: str | None,
               related: list[str]) -> TestStyle:
    """:func:`detect` over the project's files: the test file being appended to, else the
    related test files (``related``: paths under ``project``), else its folder's test files."""
    texts: list[tuple[str, str]] = []
    if existing is not None:
        texts.append((str(test_file), existing))
    for rel in related:
        path = project / rel
        if path.resolve() != test_file.resolve():
            texts.append((rel, _read(path)))
    if not texts and test_file.parent.is_dir():
        nearby = sorted(p for p in test_file.parent.glob("test_*.py") if p.is_file())[:NEARBY_FILES]
        texts = [(str(p), _read(p)) for p in nearby]
    conftests = []
    folder = test_file.parent
    root = project.resolve()
    while True:
        if (folder / "conftest.py").is_file():
            conftests.append(_read(folder / "conftest.py"))
        if folder.resolve() == root or folder.parent == folder or root not in folder.resolve().parents:
            break
        folder = folder.parent

    def is_module(dotted: str) -> bool:
        base = import_root.joinpath(*dotted.split("."))
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()

    return detect(texts, module, conftests, is_module, own=existing)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- writing


def _offsets(code: str) -> list[int]:
    """Character offset of each line start (ast columns are UTF-8 bytes: see _pos)."""
    starts, n = [0], 0
    for line in code.splitlines(keepends=True):
        n += len(line)
        starts.append(n)
    return starts


def _pos(code: str, starts: list[int], line: int, col: int) -> int:
    text = code[starts[line - 1]:starts[line] if line < len(starts) else len(code)]
    return starts[line - 1] + len(text.encode("utf-8")[:col].decode("utf-8", errors="replace"))


def _span(code: str, starts: list[int], node: ast.AST) -> tuple[int, int]:
    return (_pos(code, starts, node.lineno, node.col_offset),
            _pos(code, starts, node.end_lineno or node.lineno, node.end_col_offset or 0))


def _replace(code: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        code = code[:start] + new + code[end:]
    return code


def _from_target(imports: list[str], module: str) -> set[str]:
    names = set()
    for line in imports:
        m = re.fullmatch(r"from ([\w.]+) import (\w+)", line.strip())
        if m and m.group(1) == module:
            names.add(m.group(2))
    return names


def apply_import_form(test: GeneratedTest, style: TestStyle, module: str) -> None:
    """``from mod import f`` + ``f(...)`` -> ``import mod as m`` + ``m.f(...)`` (or the
    ``from pkg import mod`` / ``import pkg.mod`` forms)."""
    if style.import_form == "names":
        return
    names = _from_target(test.imports, module)
    tree = _parse(test.code)
    if not names or tree is None:
        return
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    stored |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
    names -= stored
    qualifier = module if style.import_form == "dotted" else style.alias or module.rsplit(".", 1)[-1]
    if qualifier in stored or not names:
        return
    starts = _offsets(test.code)
    edits = [(*_span(test.code, starts, n), f"{qualifier}.{n.id}") for n in ast.walk(tree)
             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in names]
    test.code = _replace(test.code, edits)
    parent, _, leaf = module.rpartition(".")
    line = {"alias": f"import {module} as {qualifier}" if qualifier != module else f"import {module}",
            "from": f"from {parent} import {leaf}" + (f" as {qualifier}" if qualifier != leaf else ""),
            "dotted": f"import {module}"}[style.import_form]
    if style.import_form == "from" and not parent:
        line = f"import {module}"
    test.imports = sorted({i for i in test.imports if _from_target([i], module) & names == set()} | {line})


def apply_fixtures(test: GeneratedTest, style: TestStyle) -> None:
    """A test whose first statement builds what a fixture builds takes the fixture instead."""
    if not style.fixtures:
        return
    tree = _parse(test.code)
    fn = tree.body[0] if tree and tree.body else None
    if not isinstance(fn, ast.FunctionDef) or not fn.body:
        return
    first = fn.body[0]
    if not (isinstance(first, ast.Assign) and len(first.targets) == 1 and isinstance(first.targets[0], ast.Name)
            and isinstance(first.value, ast.Call)):
        return
    var = first.targets[0].id
    key = _norm_call(first.value)
    fixture = next((f for f in style.fixtures if f.call == key), None)
    if fixture is None:
        return
    params = [a.arg for a in fn.args.args]
    used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    if fixture.name in params or (fixture.name != var and fixture.name in used):
        return
    if sum(1 for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == var and not isinstance(n.ctx, ast.Load)) > 1:
        return  # the variable is rebound later: keep the test as it is
    code = test.code
    starts = _offsets(code)
    edits = [(*_span(code, starts, n), fixture.name) for n in ast.walk(fn)
             if isinstance(n, ast.Name) and n.id == var and n is not first.targets[0]]
    start = _pos(code, starts, first.lineno, 0)
    end = starts[first.end_lineno or first.lineno]
    edits.append((start, end, ""))
    sig = fn.args.args
    if sig:
        at = _span(code, starts, sig[-1])[1]
        edits.append((at, at, f", {fixture.name}"))
    else:
        head = code[starts[fn.lineno - 1]:]
        at = starts[fn.lineno - 1] + head.index(f"def {fn.name}(") + len(f"def {fn.name}(")
        edits.append((at, at, fixture.name))
    code = _replace(code, edits)
    test.code = code
    callee = ast.unparse(first.value.func)
    if callee.isidentifier() and not re.search(rf"\b{re.escape(callee)}\b", code):
        test.imports = [i for i in test.imports if not re.fullmatch(rf"from [\w.]+ import {re.escape(callee)}", i)]


# unittest assertions ----------------------------------------------------------------------


def _seg(code: str, starts: list[int], node: ast.AST) -> str:
    a, b = _span(code, starts, node)
    return code[a:b]


def _assert_call(code: str, starts: list[int], node: ast.Assert) -> str | None:
    test = node.test
    seg = lambda n: _seg(code, starts, n)  # noqa: E731
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None:
            return f"self.assertIsNone({seg(left)})"
        if isinstance(op, ast.IsNot) and isinstance(right, ast.Constant) and right.value is None:
            return f"self.assertIsNotNone({seg(left)})"
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and isinstance(right.value, bool):
            return f"self.assertIs({seg(left)}, {right.value})"
        if isinstance(op, ast.Eq):
            approx = right if (isinstance(right, ast.Call) and ast.unparse(right.func) == "pytest.approx"
                               and len(right.args) == 1 and not right.keywords) else None
            if approx is not None and _small_number(approx.args[0]):
                return f"self.assertAlmostEqual({seg(left)}, {seg(approx.args[0])})"
            return f"self.assertEqual({seg(left)}, {seg(right)})"
        if isinstance(op, ast.NotEq):
            return f"self.assertNotEqual({seg(left)}, {seg(right)})"
        if isinstance(op, ast.In):
            return f"self.assertIn({seg(left)}, {seg(right)})"
        return None
    if isinstance(test, ast.Call) and ast.unparse(test.func) == "isinstance" and len(test.args) == 2:
        return f"self.assertIsInstance({seg(test.args[0])}, {seg(test.args[1])})"
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return f"self.assertFalse({seg(test.operand)})"
    return f"self.assertTrue({seg(test)})"


def _small_number(node: ast.expr) -> bool:
    """A float ``assertAlmostEqual`` (7 decimal places) compares as loosely as pytest.approx."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return False
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e3


def _raises(code: str, starts: list[int], call: ast.Call) -> str | None:
    if ast.unparse(call.func) != "pytest.raises" or len(call.args) != 1:
        return None
    exc = _seg(code, starts, call.args[0])
    match = next((k for k in call.keywords if k.arg == "match"), None)
    if len(call.keywords) > (1 if match else 0):
        return None
    if match is not None:
        return f"self.assertRaisesRegex({exc}, {_seg(code, starts, match.value)})"
    return f"self.assertRaises({exc})"


def _method_body(code: str, fn: ast.FunctionDef) -> str | None:
    """The function's body with unittest assertions (None: something it cannot convert)."""
    starts = _offsets(code)
    edits = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            new = _assert_call(code, starts, node)
            if new is None:
                return None
            edits.append((*_span(code, starts, node), new))
        elif isinstance(node, ast.With):
            for item in node.items:
                ctx = item.context_expr
                if isinstance(ctx, ast.Call) and ast.unparse(ctx.func).startswith("pytest."):
                    new = _raises(code, starts, ctx)
                    if new is None:
                        return None
                    edits.append((*_span(code, starts, ctx), new))
    converted = _replace(code, edits)
    tree = _parse(converted)
    if tree is None:
        return None
    new_fn = tree.body[0]
    assert isinstance(new_fn, ast.FunctionDef)
    lines = converted.splitlines()
    return "\n".join(lines[new_fn.body[0].lineno - 1:]) + "\n"


def _table(dec: ast.Call, code: str, starts: list[int]) -> tuple[list[str], list[tuple[str | None, str]]] | None:
    """(names, [(case id or None, row text)]) of a ``pytest.mark.parametrize`` decorator."""
    if len(dec.args) != 2 or dec.keywords or not isinstance(dec.args[1], (ast.List, ast.Tuple)):
        return None
    try:
        names = ast.literal_eval(dec.args[0])
    except ValueError:
        return None
    names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    rows = []
    for elt in dec.args[1].elts:
        case_id = None
        values = [elt] if len(names) == 1 else (list(elt.elts) if isinstance(elt, ast.Tuple) else None)
        if isinstance(elt, ast.Call) and ast.unparse(elt.func) == "pytest.param":
            ids = [k for k in elt.keywords if k.arg == "id" and isinstance(k.value, ast.Constant)]
            if len(ids) != len(elt.keywords):
                return None
            case_id = ids[0].value.value if ids else None
            values = list(elt.args)
        if values is None or len(values) != len(names):
            return None
        rows.append((case_id, ", ".join(_seg(code, starts, v) for v in values)))
    return names, rows


def to_method(test: GeneratedTest) -> str | None:
    """The test as a TestCase method (None: it stays a function)."""
    tree = _parse(test.code)
    fn = tree.body[0] if tree and len(tree.body) == 1 else None
    if not isinstance(fn, ast.FunctionDef) or test.kind != "pass":
        return None
    table = None
    if fn.decorator_list:
        dec = fn.decorator_list[0]
        if len(fn.decorator_list) != 1 or not isinstance(dec, ast.Call) or ast.unparse(dec.func) != "pytest.mark.parametrize":
            return None
        table = _table(dec, test.code, _offsets(test.code))
        if table is None or [a.arg for a in fn.args.args] != table[0]:
            return None
    elif fn.args.args:
        return None  # a fixture (capsys, ...) unittest cannot give
    body = _method_body(test.code, fn)
    if body is None:
        return None
    head = f"def {fn.name}(self):\n"
    if table is None:
        return head + body
    names, rows = table
    with_ids = all(case_id for case_id, _ in rows)
    loop_vars = (["case"] if with_ids else []) + names
    lines = [head.rstrip("\n"), f"{INDENT}for {', '.join(loop_vars)} in ["]
    for case_id, values in rows:
        row = ", ".join(([repr(case_id)] if with_ids else []) + [values])
        lines.append(f"{INDENT * 2}{row}," if len(loop_vars) == 1 else f"{INDENT * 2}({row}),")
    lines.append(f"{INDENT}]:")
    sub = "case" if with_ids else ", ".join(f"{n}={n}" for n in names)
    lines.append(f"{INDENT * 2}with self.subTest({sub}):")
    lines += [INDENT * 2 + line if line.strip() else "" for line in body.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def class_name(module: str, taken: set[str]) -> str:
    """``TestPricingGenerated``: a name no top-level definition of the file has."""
    leaf = module.rsplit(".", 1)[-1]
    base = "Test" + "".join(p[:1].upper() + p[1:] for p in re.split(r"_+", leaf) if p) + "Generated"
    name, n = base, 2
    while name in taken:
        name = f"{base}{n}"
        n += 1
    return name


def apply_unittest(test: GeneratedTest, style: TestStyle, cls: str) -> None:
    method = to_method(test)
    if method is None:
        return
    test.code = method
    test.cls = f"{cls}({style.base})"
    used = test.code
    test.imports = sorted({i for i in test.imports if not (i == "import pytest" and "pytest." not in used)}
                          | {style.base_import})


def apply_style(tests: list[GeneratedTest], style: TestStyle, module: str, taken: set[str]) -> list[GeneratedTest]:
    """Rewrite ``tests`` (and the single tests of a parametrized one) in ``style``, in place."""
    cls = class_name(module, taken) if style.unittest else ""

    def one(t: GeneratedTest) -> None:
        apply_import_form(t, style, module)
        if style.unittest:
            apply_unittest(t, style, cls)
        else:
            apply_fixtures(t, style)
        for part in t.parts or []:
            one(part)

    for t in tests:
        one(t)
    return tests
