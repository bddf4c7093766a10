"""Tests a reviewer accepts (issue 15): behaviour names, parametrized tables, pytest.approx for
floats, match= only on the code's own text, wrong-type inputs only where the code checks types,
no test that adds nothing over the user's tests."""

from __future__ import annotations

import ast
import textwrap
import time
import types

import pytest

from codeloop.generate.offline import inputs
from codeloop.generate.offline.analysis import analyze_module, checks_types
from codeloop.generate.offline.naming import BranchNamer, condition_phrase, returned_argument
from codeloop.generate.offline.parametrize import parametrize
from codeloop.generate.offline.render import Renderer, float_lines, source_strings, written_by_code
from codeloop.generate.offline.search import callables, candidates, observe, runner, verdicts
from codeloop.generate.targets import resolve_target
from codeloop.generate.tests_model import GenerationResult
from codeloop.verify.test_runs import adds_coverage, verify_tests
from codeloop_sandbox import Policy
from support.gen_tests import expanded_statements, require_level_a

CLAMP = textwrap.dedent('''
    def clamp(value, low, high):
        if low > high:
            raise ValueError(f"low {low} is above high {high}")
        if value > high:
            return high
        if value < low:
            return low
        return value


    def first_word(text):
        for word in text.split():
            return word
        return None
''')
PARAMS = {"clamp": ["value", "low", "high"], "first_word": ["text"]}


def obs(kind, **kw):
    return {"kind": kind, "needs": ["from m import clamp"], "stdout": "", **kw}


def call(expr, func="clamp"):
    return {"id": f"{func}#1", "func": func, "setup": [], "expr": expr, "imports": []}


def line_of(text: str) -> int:
    return next(i for i, ln in enumerate(CLAMP.splitlines(), 1) if ln.strip() == text)


def arc(stmt: str, to_stmt: str) -> list[int]:
    return [line_of(stmt), line_of(to_stmt)]


# -- names -------------------------------------------------------------------------------


def test_name_says_the_branch_taken_and_the_argument_returned():
    r = Renderer(source=CLAMP, params=PARAMS)
    above = r.render(call("clamp(5, 0, 3)"), obs("literal", src="3", arcs=[arc("if value > high:", "return high")]))
    assert above.name == "test_clamp_value_above_high_returns_high"
    below = r.render(call("clamp(-2, 0, 3)"), obs("literal", src="0", arcs=[
        arc("if value > high:", "if value < low:"), arc("if value < low:", "return low")]))
    # the first decision that went a new way names it (the later one is its consequence)
    assert below.name == "test_clamp_value_at_most_high_returns_low"
    bad = r.render(call("clamp(1, 3, 0)"), obs("raise", type="ValueError", type_name="ValueError",
                                                 msg="low 3 is above high 0", deliberate=True, step=0,
                                                 arcs=[arc("if low > high:", 'raise ValueError(f"low {low} is above high {high}")')]))
    assert bad.name == "test_clamp_low_above_high_raises_value_error"


def test_names_fall_back_to_the_value_and_stay_unique_identifiers():
    r = Renderer(source=CLAMP, params=PARAMS, taken={"test_clamp_returns_7"})
    a = r.render(call("clamp(7, 0, 9)"), obs("literal", src="7"))  # no arcs: no branch to name
    b = r.render(call("clamp(7, 1, 9)"), obs("literal", src="7"))
    c = r.render(call("clamp(7, 7, 9)"), obs("literal", src="7"))  # value or low: say the value
    assert (a.name, b.name, c.name) == ("test_clamp_returns_value", "test_clamp_returns_value_2",
                                        "test_clamp_returns_7_2")
    odd = r.render(call("first_word('a b')", "first_word"), obs("literal", src="'a'", arcs=[
        arc("for word in text.split():", "return word")]))
    assert odd.name == "test_first_word_with_text_split_returns_a"
    for t in (a, b, c, odd):
        assert t.name.isidentifier()
        ast.parse(t.code)


def test_condition_phrases():
    def phrase(src: str, holds: bool) -> str | None:
        return condition_phrase(ast.parse(src, mode="eval").body, holds)

    assert phrase("value > high", True) == "value_above_high"
    assert phrase("value > high", False) == "value_at_most_high"
    assert phrase("x is None", True) == "x_is_none"
    assert phrase("not name", True) == "not_name"
    assert phrase("n == 0", False) == "n_is_not_0"
    assert phrase("isinstance(x, (int, float))", True) == "x_is_int_or_float"
    assert phrase("key in self._table", False) == "key_not_in_table"
    assert phrase("a and b", True) == "a_and_b"
    assert phrase("a and b", False) is None  # which operand failed is unknown
    assert phrase("len(items) >= 3", True) == "len_items_at_least_3"


def test_returned_argument_only_when_exactly_one_argument_matches():
    assert returned_argument("clamp(5, 0, 3)", "3", PARAMS["clamp"]) == "high"
    assert returned_argument("clamp(3, 0, 3)", "3", PARAMS["clamp"]) is None  # value or high?
    assert returned_argument("clamp(value=1, low=0, high=3)", "1", None) == "value"
    assert returned_argument("clamp(1, 0, 3)", "True", PARAMS["clamp"]) is None


def test_branch_namer_prefers_decisions_in_the_called_function():
    namer = BranchNamer(CLAMP)
    inside = arc("if value > high:", "return high")
    outside = arc("for word in text.split():", "return word")
    assert namer.phrase("clamp", [outside, inside]) == "value_above_high"


# -- parametrize -------------------------------------------------------------------------


def _cases():
    r = Renderer(source=CLAMP, params=PARAMS)
    return [
        r.render(call("clamp(5, 0, 3)"), obs("literal", src="3", arcs=[arc("if value > high:", "return high")])),
        r.render(call("clamp(-2, 0, 3)"), obs("literal", src="0", arcs=[arc("if value < low:", "return low")])),
        r.render(call("clamp(2, 0, 3)"), obs("literal", src="2", arcs=[arc("if value < low:", "return value")])),
        r.render(call("clamp(1, 3, 0)"), obs("raise", type="ValueError", type_name="ValueError",
                                              msg="low 3 is above high 0", deliberate=True, step=0)),
        r.render(call("clamp(2, 0, 3)"), obs("none")),
    ]


def test_cases_that_differ_only_in_values_become_one_parametrized_test():
    tests = _cases()
    merged = parametrize(tests, PARAMS)
    assert len(merged) == 3
    table = merged[0]
    assert table.name == "test_clamp_returns_expected"
    assert table.code.startswith("@pytest.mark.parametrize(\n    ('value', 'expected'),")
    assert "pytest.param(5, 3, id='value_above_high_returns_high')" in table.code
    assert "assert clamp(value, 0, 3) == expected" in table.code  # the values all cases share stay inline
    assert "import pytest" in table.imports
    # a different shape (raises, `is None`) is its own test
    assert [t.name for t in merged[1:]] == [tests[3].name, tests[4].name]
    ns: dict = {"pytest": pytest}
    exec(compile("\n".join(["def clamp(value, low, high):\n    return max(low, min(value, high))", table.code]),
                 "<t>", "exec"), ns)
    marks = ns[table.name].pytestmark[0]
    assert [p.values for p in marks.args[1]] == [(5, 3), (-2, 0), (2, 2)]


def test_parametrized_cases_run_the_same_statements_as_the_tests_they_replace():
    tests = _cases()
    before = sorted(s for t in tests for s in expanded_statements(t.code))
    after = sorted(s for t in parametrize(tests, PARAMS) for s in expanded_statements(t.code))
    assert before == after


def test_single_cases_capsys_and_xfail_tests_are_left_alone():
    tests = _cases()
    assert parametrize(tests[:1], PARAMS) == tests[:1]
    xfail = Renderer().render_bug(call("clamp(4, 0, 3)"), obs("literal", src="4"), "example", "returned 4", "3", 3)
    twice = [xfail, Renderer().render_bug(call("clamp(5, 0, 3)"), obs("literal", src="5"), "example",
                                          "returned 5", "3", 3)]
    assert parametrize(twice, PARAMS) == twice


def test_one_varying_value_is_a_plain_row_not_a_tuple():
    r = Renderer()
    tests = [r.render(call(f"is_id({v!r})", "is_id"), obs("literal", src="False")) for v in ("x-1", 7)]
    merged = parametrize(tests, {"is_id": ["obj"]})
    assert len(merged) == 1
    ns: dict = {"pytest": pytest, "is_id": lambda obj: isinstance(obj, tuple)}
    exec(compile(merged[0].code, "<t>", "exec"), ns)  # noqa: S102 - the rendered test
    assert list(ns[merged[0].name].pytestmark[0].args[1]) == ["x-1", 7]
    for row in ns[merged[0].name].pytestmark[0].args[1]:
        ns[merged[0].name](row)  # a tuple would make is_id return True


def test_parametrize_names_do_not_shadow_builtins_or_collide():
    r = Renderer()
    tests = [r.render(call(f"fmt({n}, 'x')", "fmt"), obs("literal", src=repr(str(n)))) for n in (1, 2)]
    merged = parametrize(tests, {"fmt": ["id", "list"]}, taken={"test_fmt_returns_expected"})
    assert len(merged) == 1
    assert merged[0].name == "test_fmt_returns_expected_2"
    assert "def test_fmt_returns_expected_2(id_, expected):" in merged[0].code


# -- floats --------------------------------------------------------------------------------


def test_floats_and_containers_of_floats_use_approx():
    assert float_lines("f()", "1.5") == ["assert f() == pytest.approx(1.5)"]
    assert float_lines("f()", "(0.9999999999999999, 5.2180482157382354e-17, 3)") == [
        "assert f() == pytest.approx((0.9999999999999999, 5.2180482157382354e-17, 3))"]
    assert float_lines("f()", "{'a': 0.1, 'b': 'x'}") == ["assert f() == pytest.approx({'a': 0.1, 'b': 'x'})"]
    nested = float_lines("f()", "[(1.5, 2.0), (1, 2)]")
    assert nested == ["result = f()", "assert len(result) == 2", "assert result[0] == pytest.approx((1.5, 2.0))",
                      "assert result[1] == (1, 2)"]
    assert float_lines("f()", "(1, 'a')") is None and float_lines("f()", "g(1.5)") is None


def test_rendered_float_results_never_compare_exactly():
    r = Renderer()
    t = r.render(call("rgb_to_yiq(1, 0.5, 0.25)", "rgb_to_yiq"),
                 obs("literal", src="(0.6325, 0.18349999999999997, -0.03750000000000001)"))
    assert "pytest.approx((0.6325, 0.18349999999999997, -0.03750000000000001))" in t.code
    assert "import pytest" in t.imports
    o = r.render(call("Point(1.5, 2)", "Point"), obs("object", type="Point", attrs={"x": "1.5", "y": "2"}))
    assert "assert result.x == pytest.approx(1.5)" in o.code and "assert result.y == 2" in o.code
    ns = {"pytest": pytest, "rgb_to_yiq": lambda r, g, b: (0.6325 + 1e-17, 0.1835, -0.0375)}
    exec(compile(t.code, "<t>", "exec"), ns)
    ns[t.name]()


# -- exception messages --------------------------------------------------------------------


def test_match_only_on_text_the_code_writes():
    strings = source_strings(CLAMP)
    assert "is above high" in strings
    assert written_by_code("low 3 is above high 0", strings) == "is above high"
    # one word of the module's (a JSON type name, say) inside the interpreter's sentence
    assert written_by_code("'Hook' object has no attribute 'is_valid'", ["object"]) is None
    assert written_by_code("object", ["object"]) == "object"
    r = Renderer(source=CLAMP, params=PARAMS)
    own = r.render(call("clamp(1, 3, 0)"), obs("raise", type="ValueError", type_name="ValueError",
                                                 msg="low 3 is above high 0", deliberate=True, step=0))
    assert 'match=r"is above high"' in own.code
    cpython = r.render(call("clamp('a', 0, 3)"), obs("raise", type="TypeError", type_name="TypeError",
                                                       msg="'>' not supported between instances of 'str' and 'int'",
                                                       deliberate=False, step=0))
    assert "with pytest.raises(TypeError):" in cpython.code and "match" not in cpython.code
    # raised by the code, but with the interpreter's words (a re-raised KeyError, say)
    key = r.render(call("clamp(1, 2, 3)"), obs("raise", type="KeyError", type_name="KeyError", msg="'x'",
                                                 deliberate=True, step=0))
    assert "match" not in key.code


# -- wrong-type inputs ---------------------------------------------------------------------


TYPED = textwrap.dedent('''
    def area(w: float, h: float) -> float:
        """Area of a rectangle."""
        return w * h


    def scale(x: float, k: float) -> float:
        if not isinstance(x, (int, float)):
            raise TypeError("x must be a number")
        return x * k


    def ratio(a: float, b: float) -> float:
        """Raises TypeError for text."""
        return a / b
''')


def test_analysis_knows_which_callables_check_types():
    info = analyze_module(TYPED).callables
    assert not info["area"].checks_types
    assert info["scale"].checks_types
    assert info["ratio"].checks_types  # documented
    assert checks_types(ast.parse("def f(x):\n    if type(x) is int:\n        return 1\n"))


def _generator(source: str, name: str) -> candidates.Generator:
    mod = types.ModuleType("typed")
    mod.__file__ = "/nowhere/typed.py"
    exec(compile(source, mod.__file__, "exec"), vars(mod))  # noqa: S102 - the test's own module
    analysis = analyze_module(source).to_json()
    subject = observe.Subject("typed", mod, mod.__file__)
    callee = callables.Callee(name, "function", getattr(mod, name), analysis["callables"][name], subject)
    lits = inputs.Literals.from_json(callee.info.get("literals", {}), analysis["module_literals"])
    return candidates.Generator(callee, inputs.PoolBuilder(inputs.Namer("typed", mod), lits), inputs, lits, 1, {}, {})


def _offtype(name: str) -> list[str]:
    """The wrong-type calls of the deterministic phases."""
    g = _generator(TYPED, name)
    out = []
    while True:
        c = g.next()
        if g.finished or g.in_random:
            return out
        if c and c["origin"] == "offtype":
            out.append(c["expr"])


def test_wrong_type_values_only_for_callables_that_check_types():
    assert _offtype("area") == []
    assert any("None" in e for e in _offtype("scale"))
    g = _generator(TYPED, "area")
    interp = {"kind": "raise", "type_name": "TypeError", "deliberate": False}
    assert verdicts.wrong_type(interp, g)
    assert not verdicts.wrong_type({**interp, "deliberate": True}, g)
    assert not verdicts.wrong_type(interp, _generator(TYPED, "scale"))
    assert not verdicts.wrong_type({"kind": "raise", "type_name": "ValueError", "deliberate": False}, g)


def test_packed_arcs_are_read_back_as_line_pairs():
    packed = (3 << 28) | 5 | (1 << 56)  # (-5, 3) in coverage 7.x's layout
    assert runner.arc_list({packed, (7, 8)}, nlines=10) == [[-5, 3], [7, 8]]
    assert runner.arc_list({1 << 70}, nlines=10) == []  # not a layout we know: no names, nothing wrong


# -- no test that adds nothing ----------------------------------------------------------------


def test_a_call_adds_coverage_only_past_the_users_tests():
    entry = {"executed_lines": [2, 3, 4], "missing_lines": [5, 6],
             "executed_branches": [[3, 4]], "missing_branches": [[3, 5]]}
    assert not adds_coverage([[-1, 2], [2, 3], [3, 4]], entry)  # the same path as the user's tests
    assert adds_coverage([[2, 3], [3, 5]], entry)  # the other way at line 3
    assert adds_coverage([[5, 6]], entry)  # a line they never ran
    assert adds_coverage([[2, 3]], None)  # no user tests: anything counts
    assert not adds_coverage([], entry)


# -- verification of parametrized tests --------------------------------------------------------


def test_a_parametrized_test_with_a_failing_case_goes_back_to_its_passing_tests(tmp_path):
    require_level_a()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def double(x):\n    return 2 * x\n")
    tgt = resolve_target("pkg.mod", tmp_path)
    r = Renderer()
    imports = ["from pkg.mod import double"]
    good = [r.render(call(f"double({n})", "double"), {**obs("literal", src=str(2 * n)), "needs": imports})
            for n in (1, 2)]
    wrong = r.render(call("double(3)", "double"), {**obs("literal", src="7"), "needs": imports})
    merged = parametrize([*good, wrong], {"double": ["x"]})
    assert len(merged) == 1 and merged[0].parts
    result = GenerationResult(target="pkg.mod", module="pkg.mod")
    tests, _, entry = verify_tests(tgt, None, merged, [], "tests/test_mod.py", Policy(timeout=60), 30.0,
                                   time.monotonic(), None, result)
    assert sorted(t.name for t in tests) == sorted(t.name for t in good)  # the passing cases survive
    assert result.dropped == 1 and entry is not None


def test_a_wrong_type_call_that_reached_new_code_is_retried_with_other_values():
    g = _generator(TYPED, "area")
    first = g.next()  # area(w, h) with the pools' first values
    assert first is not None
    g.queue_repairs()
    repairs = []
    while g.repairs:
        c = g.next()
        repairs.append(c)
        assert g.last_choice is not None  # each repair carries its own arguments (for repairs of it)
    assert repairs and {c["origin"] for c in repairs} == {"repair"}
    assert any("datetime.date(2024, 2, 29)" in c["expr"] and "import datetime" in c["imports"] for c in repairs)
    assert len({c["id"] for c in repairs}) == len(repairs)
