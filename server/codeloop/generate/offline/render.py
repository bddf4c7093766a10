"""Pytest code from observed calls: one behaviour per test, readable literal assertions.

Input is what the in-sandbox driver reported for a kept call: the candidate (set-up
statements and the call expression, all source text) and the observation (a literal
``repr`` of the result, or the exception's type and message). Nothing is executed
here; the only evaluation is :func:`ast.literal_eval` of literal text, which is safe.
"""

from __future__ import annotations

import ast
import pprint
import re
from dataclasses import dataclass, field

from codeloop.generate.offline.naming import BranchNamer, const_slug, returned_argument
from codeloop.generate.offline.portable import EACH_TOLIST
from codeloop.generate.tests_model import GeneratedTest

WIDTH = 88
INDENT = "    "


def _snake(name: str) -> str:
    name = name.strip("_")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "call"


def func_slug(qualname: str) -> str:
    """``Stack.pop`` -> ``stack_pop``; ``Point.__eq__`` -> ``point_eq``."""
    return "_".join(_snake(p) for p in qualname.split(".") if _snake(p))


def _value_slug(src: str) -> str:
    try:
        value = ast.literal_eval(src)
    except Exception:
        head = src.split("(", 1)[0].rsplit(".", 1)[-1]
        return _snake(head) if head.isidentifier() else "value"
    if value is None or isinstance(value, (bool, int, float)):
        return const_slug(value)
    if isinstance(value, (str, bytes)):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if not text:
            return "empty_string" if isinstance(value, str) else "empty_bytes"
        slug = _snake(text)
        if slug and len(slug) <= 24 and slug.isascii():
            return slug
        return "string" if isinstance(value, str) else "bytes"
    kind = type(value).__name__
    try:
        if len(value) == 0:
            return f"empty_{kind}"
    except TypeError:
        pass
    return kind


def case_name(obs: dict, relation: str | None = None) -> str:
    """The outcome part of a test name: ``returns_high`` (the argument it gave back),
    ``raises_value_error``, ``returns_3``."""
    kind = obs.get("kind")
    if obs.get("via"):
        return "returns_arrays" if obs["via"] == EACH_TOLIST else "returns_array"
    if relation and kind in ("literal", "float", "object"):
        return f"returns_{relation}"
    if kind == "raise":
        return f"raises_{_snake(obs.get('type_name') or 'error')}"
    if kind == "none":
        return "returns_none"
    if kind == "nan":
        return "returns_nan"
    if kind in ("literal", "float"):
        return f"returns_{_value_slug(obs['src'])}"
    if kind == "iter":
        return "yields_nothing" if obs.get("src") == "[]" else "yields_items"
    if kind == "object":
        t = obs.get("type")
        return f"returns_{_snake(t.rsplit('.', 1)[-1])}" if t else "returns_object"
    return "runs"


def _format_literal(src: str, indent: int) -> str:
    """Pretty-print literal source when it is too long for one line."""
    try:
        value = ast.literal_eval(src)
    except Exception:
        return src
    if isinstance(value, (float, complex)):
        return src
    if len(src) + indent <= WIDTH:
        return src
    text = pprint.pformat(value, width=max(40, WIDTH - indent), sort_dicts=False)
    try:
        if ast.literal_eval(text) != value:
            return src
    except Exception:
        return src
    return text.replace("\n", "\n" + " " * indent)


PLACEHOLDER = re.compile(r"%[-#0 +]*[\d.*]*[a-zA-Z%]|%\(\w+\)[a-zA-Z]|\{[^{}]*\}")


def source_strings(source: str | None) -> list[str]:
    """Fragments of the text the module itself writes: its string literals, split at
    ``%s``/``{}`` placeholders, with the constant parts of f-strings (4+ characters and a
    letter, longest first). An exception message is matched only on these."""
    if not source:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 400:
            for part in PLACEHOLDER.split(node.value):
                for line in part.splitlines():
                    # quotes and punctuation around a placeholder are not the message's words
                    text = re.sub(r"^[^\w(]+|[^\w).!?]+$", "", line)
                    if len(text) >= 4 and re.search(r"[A-Za-z]", text):
                        out.add(text)
    return sorted(out, key=lambda t: (-len(t), t))


def written_by_code(msg: str, strings: list[str]) -> str | None:
    """The longest piece of ``msg`` that is one of the module's own string fragments. A single
    word counts only as the whole message: inside a longer one ("'Hook' object has no
    attribute ...") it is as likely the interpreter's word as the module's ("object")."""
    if not msg or not strings:
        return None
    whole = msg.strip()
    return next((frag for frag in strings if frag in msg and (" " in frag or frag == whole)), None)


def match_pattern(msg: str) -> str | None:
    """A ``match=`` argument for pytest.raises: the escaped text (or its start)."""
    if not msg or not msg.strip():
        return None
    text = msg.splitlines()[0] if "\n" in msg else msg
    if len(text) > 80:
        text = text[:60]
    pattern = re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)
    if '"' not in pattern and not pattern.endswith("\\"):
        return f'r"{pattern}"'
    if "'" not in pattern and not pattern.endswith("\\"):
        return f"r'{pattern}'"
    return repr(pattern)


MAX_ITEM_ASSERTS = 8


def _has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def _flat(value: object) -> bool:
    """pytest.approx takes flat sequences and mappings (numbers compared loosely, the rest exactly)."""
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (list, tuple, dict)) and not any(isinstance(v, (list, tuple, dict, set, frozenset))
                                                              for v in items)


def _approx_value(target: str, value: object, depth: int = 0) -> list[str]:
    if isinstance(value, float) or (_flat(value) and _has_float(value)):
        return [f"assert {target} == pytest.approx({value!r})"]
    if not _has_float(value):
        return [f"assert {target} == {value!r}"]
    if isinstance(value, dict):
        lines = [f"assert set({target}) == {set(value)!r}"]
        for k, v in list(value.items())[:MAX_ITEM_ASSERTS]:
            lines += _approx_value(f"{target}[{k!r}]", v, depth + 1)
        return lines
    lines = [f"assert len({target}) == {len(value)}"]  # a list or tuple holding containers
    for i, v in enumerate(list(value)[:MAX_ITEM_ASSERTS]):
        lines += _approx_value(f"{target}[{i}]", v, depth + 1)
    return lines


def float_lines(expr: str, src: str, bare: bool = False) -> list[str] | None:
    """Assertions comparing a result that holds floats with ``pytest.approx`` (a float's last
    digits differ between platforms and library versions); None when it holds no float."""
    try:
        value = ast.literal_eval(src)
    except Exception:
        return None
    if not _has_float(value):
        return None
    if isinstance(value, float) or _flat(value):
        line = f"assert {expr} == pytest.approx({src})"
        if len(line) + 4 <= WIDTH or bare:
            return [line]
        return [f"result = {expr}", f"assert result == pytest.approx({_format_literal(src, 4 + 32)})"]
    if bare:
        return _approx_value(expr, value)
    return [f"result = {expr}", *_approx_value("result", value)]


def _atom(expr: str) -> str:
    """``expr`` safe to put before ``==``/``is``: comparisons chain, so parenthesise them."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return f"({expr})"
    if isinstance(node, (ast.Call, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.List, ast.Tuple,
                         ast.Dict, ast.Set)):
        return expr
    return f"({expr})"


def _assert_lines(expr: str, obs: dict, imports: set[str]) -> list[str]:
    expr = _atom(expr)
    if obs.get("via"):  # an array result: asserted through its tolist() (portable.py)
        expr = obs["via"].format(expr)
    kind = obs["kind"]
    if kind == "none":
        return [f"assert {expr} is None"]
    if kind == "nan":
        imports.add("import math")
        return [f"assert math.isnan({expr})"]
    if kind == "float":
        imports.add("import pytest")
        return [f"assert {expr} == pytest.approx({obs['src']})"]
    if kind == "literal":
        src = obs["src"]
        imports.update(obs.get("imports", []))
        if src in ("True", "False"):
            return [f"assert {expr} is {src}"]
        floats = float_lines(expr, src)
        if floats is not None:
            imports.add("import pytest")
            return floats
        line = f"assert {expr} == {src}"
        if len(line) + 4 <= WIDTH:
            return [line]
        return [f"result = {expr}", f"assert result == {_format_literal(src, 4 + 17)}"]
    if kind == "iter":
        src = obs["src"]
        if obs.get("unordered"):  # the order follows string hashes: compared sorted
            call = f"sorted({expr}, key=repr)"
        elif obs.get("complete", True):
            call = f"list({expr})"
        else:
            imports.add("import itertools")
            call = f"list(itertools.islice({expr}, 20))"
        line = f"assert {call} == {src}"
        if len(line) + 4 <= WIDTH:
            return [line]
        return [f"result = {call}", f"assert result == {_format_literal(src, 4 + 17)}"]
    if kind == "object":
        lines = [f"result = {expr}"]
        if obs.get("type"):
            imports.update(obs.get("imports", []))
            lines.append(f"assert isinstance(result, {obs['type']})")
        for name, val in (obs.get("attrs") or {}).items():
            floats = float_lines(f"result.{name}", val, bare=True)
            if floats is not None:
                imports.add("import pytest")
                lines += floats
            else:
                lines.append(f"assert result.{name} == {_format_literal(val, 4 + 20 + len(name))}")
        if "len" in obs:
            lines.append(f"assert len(result) == {obs['len']}")
        if len(lines) == 1:
            lines = [f"assert {expr} is not None"]
        return lines
    return [expr]


@dataclass
class Renderer:
    """Renders kept calls into :class:`GeneratedTest` objects with unique names."""

    taken: set[str] = field(default_factory=set)
    source: str | None = None  # the module under test: its own strings and branch conditions
    params: dict[str, list[str]] = field(default_factory=dict)  # callable -> parameter names

    def __post_init__(self) -> None:
        self.strings = source_strings(self.source)
        self.namer = BranchNamer(self.source) if self.source else None

    def behaviour(self, func: str, cand: dict, obs: dict) -> str:
        """``clamp_value_above_high_returns_high``: callable, branch taken, outcome."""
        relation = None
        if obs.get("kind") in ("literal", "float") and func == cand["func"] and not obs.get("via"):
            relation = returned_argument(cand["expr"], obs.get("src", ""), self.params.get(func))
        phrase = self.namer.phrase(func, obs.get("arcs") or cand.get("arcs") or []) if self.namer else None
        parts = [func_slug(func), phrase, case_name(obs, relation)]
        return "_".join(p for p in parts if p)

    def unique(self, base: str) -> str:
        base = re.sub(r"_+", "_", base)[:80].rstrip("_")
        name, n = base, 2
        while name in self.taken:
            name = f"{base}_{n}"
            n += 1
        self.taken.add(name)
        return name

    def render(self, cand: dict, obs: dict) -> GeneratedTest:
        imports: set[str] = set(obs.get("needs", []))
        setup = list(cand.get("setup", []))
        expr = cand["expr"]
        body: list[str] = []
        func = cand["func"]
        if obs["kind"] == "raise":
            step = obs.get("step", len(setup))
            if step is not None and 0 <= step < len(setup):
                raising = setup[step]
                setup = setup[:step]
                func = _func_of_statement(raising, func)
            else:
                raising = f"list({expr})" if obs.get("iterating") else expr
            imports.add("import pytest")
            imports.update(obs.get("imports", []))
            exc = obs.get("type") or "Exception"
            # Only text the code itself writes, never the interpreter's wording (it changes
            # between versions and says nothing about the code).
            written = written_by_code(obs.get("msg", ""), self.strings) if obs.get("deliberate") else None
            pattern = match_pattern(written) if written else None
            body += setup
            args = f"{exc}, match={pattern}" if pattern else exc
            body.append(f"with pytest.raises({args}):")
            body.append("\n".join(INDENT + part for part in raising.split("\n")))
        else:
            body += setup
            body += _assert_lines(expr, obs, imports)
            out = obs.get("stdout") or ""
            if out and len(out) < 400 and obs["kind"] in ("none", "literal", "float"):
                body.append(f"assert capsys.readouterr().out == {out!r}")
        uses_capsys = any("capsys." in line for line in body)
        name = self.unique(f"test_{self.behaviour(func, cand, obs)}")
        code = f"def {name}({'capsys' if uses_capsys else ''}):\n" + _body(body)
        return GeneratedTest(name=name, code=code, imports=sorted(imports), target=cand["func"],
                             kind="pass", line=(cand.get("example") or {}).get("line"))

    def render_bug(self, cand: dict, obs: dict, why: str, observed: str, expected: str | None,
                   line: int | None) -> GeneratedTest:
        """An xfail(strict=True) test stating what the docstring or the hints promise."""
        imports: set[str] = {"import pytest"} | set(obs.get("needs", []))
        setup = list(cand.get("setup", []))
        call = cand["expr"]
        if why == "example":
            message = f"{call} {observed}, docstring says {expected}"
            body = setup + [f"assert {_atom(call)} == {expected}"]
            marker = f"@pytest.mark.xfail(reason={('probable bug: ' + message)!r}, strict=True)"
            name = self.unique(f"test_{func_slug(cand['func'])}_matches_docstring_example")
        else:
            exc = obs.get("type") or "Exception"
            imports.update(obs.get("imports", []))
            message = f"{call} {observed} though its type hints accept these arguments and its docstring documents no exception"
            body = setup + [call]
            marker = (f"@pytest.mark.xfail(reason={('probable bug: ' + message)!r}, raises={exc}, strict=True)")
            name = self.unique(f"test_{func_slug(cand['func'])}_does_not_raise_{_snake(obs.get('type_name') or 'error')}")
        code = marker + f"\ndef {name}():\n" + _body(body)
        return GeneratedTest(name=name, code=code, imports=sorted(imports), target=cand["func"], kind="xfail",
                             line=line, message=f"probable bug: {message}")


def _body(lines: list[str]) -> str:
    """Indent statements (possibly multi-line) as a function body."""
    out = []
    for line in lines:
        out.append("\n".join(INDENT + part if part.strip() else "" for part in line.split("\n")))
    return "\n".join(out) + "\n"


def _func_of_statement(stmt: str, default: str) -> str:
    """Name to use for a test whose exception came from a set-up statement."""
    try:
        node = ast.parse(stmt).body[0]
    except (SyntaxError, IndexError):
        return default
    value = node.value if isinstance(node, (ast.Assign, ast.Expr)) else None
    if isinstance(value, ast.Call):
        f = value.func
        if isinstance(f, ast.Attribute):
            owner = default.split(".")[0]
            return f"{owner}.{f.attr}"
        if isinstance(f, ast.Name):
            return f.id
    return default
