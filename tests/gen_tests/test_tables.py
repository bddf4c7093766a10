"""Table-driven code: lookup tables found statically, one kept call per table entry, calls
kept for a result not seen before, and the pools that reach inf/nan and (old, new) pairs."""

from __future__ import annotations

import ast
import textwrap
import types
import typing
from collections.abc import Iterable

import pytest

from codeloop.generate.offline import inputs
from codeloop.generate.offline.analysis import analyze_module, function_tables, module_tables, uses_nonfinite
from codeloop.generate.offline.search import callables, candidates, observe
from support.gen_tests import expanded_statements, generate, require_level_a, run_generated

WORDS = textwrap.dedent('''
    import math

    RULES = [("(?i)s$", "s")]
    UNCOUNTABLE = {"sheep", "fish"}
    BASE = {"one": 1}
    NAMES = dict((v, k) for k, v in BASE.items())
    SUPER = {"0": "⁰", "1": "¹"}


    def _irregular(singular, plural):
        RULES.insert(0, (singular + "$", plural))


    _irregular("person", "people")
    _irregular("cow", "kine")
    UNCOUNTABLE.add("rice")


    def plural(word: str) -> str:
        if word in UNCOUNTABLE:
            return word
        for rule, repl in RULES:
            if word.endswith(rule):
                return repl
        return word + "s"


    def suffix(number: int) -> str:
        n = abs(number)
        if n % 100 in (11, 12, 13):
            return "th"
        return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


    def sup(text: str) -> str:
        return text.translate(SUPER)


    def finite(x: float) -> str:
        if not math.isfinite(x):
            return "no"
        return "yes"
''')


def test_module_tables_take_displays_mutators_and_module_function_calls():
    tables = module_tables(ast.parse(WORDS))
    calls, data = tables["RULES"]
    assert calls == ["person", "people", "cow", "kine"]  # through _irregular at import time
    assert "(?i)s$" not in data  # regular expressions are not entries
    assert tables["UNCOUNTABLE"] == (["rice"], ["sheep", "fish"])
    assert tables["NAMES"][1] == ["one", 1]  # built from another display
    assert "SUPER" in tables


def test_function_tables_are_lookups_keyed_by_arguments():
    info = analyze_module(WORDS).callables
    plural = info["plural"].tables  # entries that went through code at import time first
    assert plural == [{"params": ["word"], "values": ["person", "people", "cow", "kine", "rice", "s", "sheep", "fish"]}]
    assert info["suffix"].tables == [{"params": [], "values": [11, 12, 13]}, {"params": [], "values": [1, 2, 3]}]
    assert info["sup"].tables == []  # translate(SUPER) is no lookup of the argument
    assert info["finite"].nonfinite and not info["plural"].nonfinite


def test_a_lookup_of_a_constant_is_not_a_table_of_the_arguments():
    func = ast.parse("def f(x):\n    return 'a' in ('a', 'b') or x\n").body[0]
    assert function_tables(func, ["x"], {}) == []


@pytest.mark.parametrize("src", ["math.isnan(x)", "x == float('inf')", "x is math.inf", "isinf(x)"])
def test_nonfinite_checks_are_recognised(src):
    assert uses_nonfinite(ast.parse(f"def f(x):\n    return {src}\n").body[0])


def test_observation_keys_tell_results_apart():
    assert observe.obs_key({"kind": "literal", "src": "'st'"}) != observe.obs_key({"kind": "literal", "src": "'nd'"})
    assert observe.obs_key({"kind": "raise", "type_name": "ValueError", "msg": "a"}) == observe.obs_key(
        {"kind": "raise", "type_name": "ValueError", "msg": "b"})
    assert observe.raw_key({"kind": "return", "value_obj": "st"}) == ("v", "str", "st")
    assert observe.raw_key({"kind": "return", "value_obj": 10**5000}) is None  # too long to say cheaply
    assert observe.raw_key({"kind": "raise_obj", "exc": KeyError("k")}) == ("raise", "KeyError")
    assert observe.raw_key({"kind": "return", "value_obj": object()}) is None


def _generator(source: str, name: str, seed: int = 1) -> candidates.Generator:
    mod = types.ModuleType("words_mod")
    mod.__file__ = "/nowhere/words_mod.py"
    exec(compile(source, mod.__file__, "exec"), vars(mod))  # noqa: S102 - our own fixture text
    subject = observe.Subject("words_mod", mod, mod.__file__)
    analysis = analyze_module(source).to_json()
    callee = callables.Callee(name, "function", getattr(mod, name), analysis["callables"][name], subject)
    lits = inputs.Literals.from_json(callee.info.get("literals", {}), analysis["module_literals"])
    builder = inputs.PoolBuilder(inputs.Namer("words_mod", mod), lits)
    return candidates.Generator(callee, builder, inputs, lits, seed, {}, {})


def _deterministic_phase(g: candidates.Generator) -> list[dict]:
    out = []
    while True:
        cand = g.next()
        if g.finished or g.in_random:
            return out
        if cand is not None:
            out.append(cand)


def test_every_table_entry_is_tried_even_when_an_earlier_phase_made_the_same_call():
    g = _generator(WORDS, "suffix")
    cands = _deterministic_phase(g)
    table = [c["expr"] for c in cands if c["origin"] == "table"]
    assert table == ["suffix(11)", "suffix(12)", "suffix(13)", "suffix(1)", "suffix(2)", "suffix(3)"]
    assert "suffix(12)" in [c["expr"] for c in cands if c["origin"] == "pool"]
    words = [c["expr"] for c in _deterministic_phase(_generator(WORDS, "plural")) if c["origin"] == "table"]
    assert words[:2] == ["plural('person')", "plural('people')"]
    assert _deterministic_phase(_generator(WORDS, "suffix")) == cands  # deterministic


def test_extra_keeps_are_capped_and_skip_repeats():
    g = _generator(WORDS, "suffix")
    table = {"origin": "table", "setup": [], "expr": "suffix(12)"}
    pool = {"origin": "pool", "setup": [], "expr": "suffix(5)"}
    th = {"kind": "literal", "src": "'th'"}
    g.note_kept({"setup": [], "expr": "suffix(4)"}, th)  # kept for its arcs
    assert g.extra_reason(pool, th) is None  # a result seen before
    assert g.extra_reason(table, th) == "table"  # a table entry, whatever it returns
    g.note_kept(table, th, "table")
    assert g.extra_reason(table, th) is None  # that entry has its test
    assert g.extra_reason({**pool, "origin": "random"}, {"kind": "literal", "src": "'x'"}) is None
    for i in range(candidates.VALUE_CAP):
        obs = {"kind": "literal", "src": repr(f"v{i}")}
        assert g.extra_reason(pool, obs) == "value"
        g.note_kept(pool, obs, "value")
    assert g.extra_reason(pool, {"kind": "literal", "src": "'new'"}) is None  # cap reached
    failed_setup = {"kind": "raise", "type_name": "ValueError", "step": 0}
    assert g.extra_reason({"origin": "table", "setup": ["x = X(-1)"], "expr": "x.f(1)"}, failed_setup) is None


def test_nonfinite_values_come_early_for_code_that_checks_for_them():
    pool = [s for s, _ in _generator(WORDS, "finite").pools[0]]
    assert pool[3:6] == candidates.NONFINITE
    assert not set(candidates.NONFINITE) & {s for s, _ in _generator(WORDS, "suffix").pools[0]}


def test_param_kinds_follow_hints_and_unions():
    g = _generator(WORDS, "plural")
    assert g.param_kinds(g.c.params[0]) == {"str"}
    assert candidates._hint_kinds(typing.Union[float, str]) == {"number", "str"}  # noqa: UP007 - the old spelling is the input
    assert candidates._entry_fits(12, {"number"}) and not candidates._entry_fits("a", {"int"})
    assert not candidates._entry_fits(True, {"int"})


def _pool(tp) -> list[str]:
    mod = types.ModuleType("m")
    return [s for s, _ in inputs.PoolBuilder(inputs.Namer("m", mod), inputs.Literals()).for_type(tp)]


def test_iterables_of_iterables_get_old_new_pairs():
    # (the pool also holds iterators and generators over its lists: not literals)
    values = [ast.literal_eval(s) for s in _pool(Iterable[Iterable[str]]) if not s.startswith(("iter(", "(x for"))]
    pairs = [v for v in values if v and all(isinstance(p, tuple) and len(p) == 2 for p in v)]
    assert pairs and all(isinstance(x, str) for p in pairs for pair in p for x in pair)
    assert _pool(list[tuple[str, int]]) == _pool(list[tuple[str, int]])  # fixed tuples unchanged
    assert not any(s.startswith("[(") and ", (" in s and "'" not in s for s in _pool(list[tuple[str, int]]))


def test_strings_include_non_latin_text_and_lists_a_one_shot_iterator():
    values = [ast.literal_eval(s) for s in _pool(str)]
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in v) for v in values)  # Cyrillic
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in v) for v in values)  # CJK
    mod = types.ModuleType("m")
    lists = [s for s, _ in inputs.PoolBuilder(inputs.Namer("m", mod), inputs.Literals()).by_kind("list")]
    assert "iter([1, 2, 1])" in lists


def test_end_to_end_table_entries_and_inf_are_asserted_and_pass(tmp_path):
    require_level_a()
    _, text, _ = generate(tmp_path, "words", WORDS, "--budget", "6", "--seed", "1")
    stmts = expanded_statements(text)
    for call in ("suffix(12)", "suffix(13)", "suffix(2)", "plural('person')", "plural('cow')"):
        assert any(s.startswith(f"assert {call} == ") for s in stmts), (call, stmts)
    # an uncountable word (a row of the table, or 'rice' when no row reaches that branch)
    assert any(s.startswith(f"assert plural('{w}') == '{w}'") for w in ("sheep", "fish", "rice") for s in stmts), stmts
    assert "finite(float('nan'))" in text or "finite(float('inf'))" in text
    res = run_generated(tmp_path, "tests/test_words.py")
    assert res.passed, [(r.nodeid, r.outcome, r.message) for r in res.tests]


KWARGS = textwrap.dedent('''
    import math


    def options(**kw: int) -> int:
        if "color" in kw:
            return kw["color"]
        raise TypeError("unknown option")


    def parse(value: float | str) -> str:
        if not math.isfinite(float(value)):
            return "not finite"
        return "ok"
''')


def test_var_keyword_gets_known_and_unknown_names_one_at_a_time():
    exprs = [c["expr"] for c in _deterministic_phase(_generator(KWARGS, "options"))]
    assert "options(color=1)" in exprs
    assert "options(unknown_option=1)" in exprs


def test_nonfinite_text_for_parameters_that_take_strings():
    pool = [s for s, _ in _generator(KWARGS, "parse").pools[0]]
    assert pool[3:8] == candidates.NONFINITE + candidates.NONFINITE_TEXT


def test_untyped_parameters_unpacked_as_pairs_get_pairs():
    src = "def apply(text, rules):\n    for old, new in rules:\n        text = text.replace(old, new)\n    return text\n"
    usage = analyze_module(src).callables["apply"].usage["rules"]
    assert usage[:2] == ["pairs", "list"]
    mod = types.ModuleType("m")
    pool = inputs.PoolBuilder(inputs.Namer("m", mod), inputs.Literals()).untyped(usage)
    first = ast.literal_eval(pool[0][0])
    assert first and all(isinstance(p, tuple) and len(p) == 2 for p in first)


def test_value_novelty_only_for_results_that_are_likely_a_new_behaviour():
    class Colour(__import__("enum").Enum):
        RED = 1

    def ret(value):
        return {"kind": "return", "value_obj": value}

    for value in ("th", True, None, Colour.RED, ["a"]):
        assert observe.discrete_result("words_mod.suffix", ret(value)), value
    assert observe.discrete_result("words_mod.suffix", {"kind": "raise_obj", "exc": KeyError("k")})
    for value in (2.5, 7, 1j):  # numbers: computed from the inputs, each input a new value
        assert not observe.discrete_result("words_mod.area", ret(value)), value
    assert not observe.discrete_result("words_mod.Box.__repr__", ret("Box(w=1.5)"))
    assert not observe.discrete_result("words_mod.Box.__str__", ret("1.5 x 1"))

    g = _generator(WORDS, "suffix")
    pool = {"origin": "pool", "setup": [], "expr": "suffix(5)"}
    assert not g.wants_observation(pool, ret(2.5))
    assert g.wants_observation(pool, ret("th"))
