"""The variant hunt for surviving mutants (issue 15, item 4): mutants.variant / new_value /
function_constants / hunt_variants, and select.py keeping the calls it found."""

from __future__ import annotations

import random
import textwrap
import types

from codeloop.generate.offline import mutants
from codeloop.generate.offline.select import minimal_suite
from support.gen_tests import generate, require_level_a, run_generated

# `century(1)` takes every line but y // 100 == 0 there: changing 100 or 4 shows only for other years.
SOURCE = textwrap.dedent("""
    def century(y, start=7):
        c = y // 100
        return c - c // 4 + 3

    def same(x):
        return x + 0
""")


def _module() -> types.ModuleType:
    mod = types.ModuleType("calendarish")
    mod.__file__ = "/virtual/calendarish.py"
    exec(compile(SOURCE, mod.__file__, "exec"), vars(mod))  # noqa: S102 - trusted test source
    return mod


def _observe(mod):
    def observe(cand: dict):
        try:
            return ("literal", repr(eval(cand["expr"], vars(mod))))  # noqa: S307 - trusted test calls
        except Exception as exc:  # noqa: BLE001 - a raise is an observation too
            return ("raise", type(exc).__name__)
    return observe


def test_a_variant_changes_one_literal_and_keeps_the_rest():
    cand = {"id": "f#1", "func": "f", "setup": ["box = Box(3, 'a')"], "expr": "box.f(-2, 1.5, key='k')", "imports": ["x"]}
    rng = random.Random(5)
    seen = set()
    for _ in range(60):
        v = mutants.variant(cand, [100, "edge"], rng)
        if v is None:
            continue
        assert v["imports"] == ["x"] and v["func"] == "f"
        changed = (v["setup"] != cand["setup"]) + (v["expr"] != cand["expr"])
        assert changed == 1
        seen.add(v["expr"] if v["expr"] != cand["expr"] else v["setup"][0])
    assert len(seen) > 10
    # the negative number is one literal (never `--2`), the keyword name is no literal
    assert not any("--" in s or "key=" not in s for s in seen if s.startswith("box.f"))
    again = [mutants.variant(cand, [100, "edge"], random.Random(5)) for _ in range(3)]
    assert again[0] == again[1] == again[2]  # deterministic per seed
    assert mutants.variant({"setup": [], "expr": "f(x)"}, [1], rng) is None  # nothing to vary


def test_new_values_keep_the_kind_and_use_the_functions_constants():
    rng = random.Random(1)
    ints = [mutants.new_value(1, [1600, 16], rng) for _ in range(200)]
    assert all(type(v) is int for v in ints)
    assert any(v > 1600 for v in ints)  # on the scale of the constants, not of the argument
    assert {1599, 1600, 1601} & set(ints)
    assert all(type(mutants.new_value(0.5, [2.0], rng)) is float for _ in range(50))
    texts = {mutants.new_value("abc", ["-", "xyz"], rng) for _ in range(100)}
    assert "xyz" in texts and all(type(t) is str and t != "abc" for t in texts)
    assert mutants.new_value(None, [1], rng) is None


def test_function_constants_are_those_of_the_body():
    assert sorted(mutants.function_constants(SOURCE, "century")) == [3, 4, 100]  # not the default 7
    assert mutants.function_constants(SOURCE, "same") == [0]


def test_the_hunt_keeps_a_variant_that_kills_a_mutant_the_seed_call_misses():
    mod = _module()
    swapper = mutants.Swapper(SOURCE, mod.__file__, mod)
    found, _ = mutants.find(SOURCE, seed=1, limit=1000)
    observe = _observe(mod)
    seed_call = {"id": "century#1", "func": "century", "setup": [], "expr": "century(1)"}
    survivors = []
    for m in found:
        if m.qualname != "century":
            continue
        swapped = swapper.apply(m)
        if swapped is None:
            continue
        try:
            if observe(seed_call) == ("literal", "3"):  # what it is on the original code
                survivors.append(m)
        finally:
            swapper.restore(swapped)
    div = [m for m in survivors if m.describe().endswith("100 -> 101")]
    assert div, "the seed call cannot kill the constant mutant"
    live = {"century": [(("sampled", i), m) for i, m in enumerate(survivors)]}
    confirmed = []

    def confirm(cand, key):
        confirmed.append(cand["expr"])
        return {"kind": "literal", "src": key[1]}

    kept = mutants.hunt_variants(live, {"century": [seed_call]}, {"century": [100, 4, 3]}, swapper, observe,
                                 confirm, end=float("inf"), rng=random.Random(2), tries=300, keeps=3)
    assert 1 <= len(kept) <= 3
    killed = {label for _c, _o, labels in kept for label in labels}
    assert ("sampled", survivors.index(div[0])) in killed
    assert all(label not in killed for label, _m in live["century"])  # killed ones left `live`
    for cand, obs, labels in kept:
        assert cand["expr"].startswith("century(") and cand["expr"] != "century(1)"
        assert obs == {"kind": "literal", "src": observe(cand)[1]} and labels
    assert mod.century(2000) == 18  # every mutant was swapped back


def test_the_hunt_stops_at_its_caps_and_keeps_nothing_unconfirmed():
    mod = _module()
    swapper = mutants.Swapper(SOURCE, mod.__file__, mod)
    found, _ = mutants.find(SOURCE, seed=1, limit=1000)
    same = [m for m in found if m.qualname == "same"]
    live = {"same": [(("sampled", i), m) for i, m in enumerate(same)]}
    seeds = {"same": [{"id": "same#1", "func": "same", "setup": [], "expr": "same(0)"}]}
    # every variant is refused: nothing is kept, and the hunt ends after its tries
    calls = []

    def observe(cand):
        calls.append(cand["expr"])
        return _observe(mod)(cand)

    kept = mutants.hunt_variants(live, seeds, {"same": [0]}, swapper, observe, lambda c, k: None, float("inf"),
                                 random.Random(3), tries=20, keeps=5)
    assert kept == [] and len({c for c in calls}) <= 21
    # patience: a function whose mutants no variant kills (x + 0 -> x - 0 is the same code) stops early
    equivalent = [m for m in same if m.describe().endswith("+ -> -")]
    live = {"same": [(("sampled", 0), equivalent[0])]}
    calls.clear()
    mutants.hunt_variants(live, seeds, {"same": [0]}, swapper, observe, lambda c, k: {"kind": "literal"},
                          float("inf"), random.Random(3), tries=500, keeps=5, patience=10)
    assert len(calls) <= 2 * 10 and live["same"]
    # time: an end in the past tries nothing
    calls.clear()
    assert mutants.hunt_variants(live, seeds, {}, swapper, observe, lambda c, k: None, 0.0, random.Random(3),
                                 tries=500, keeps=5) == []
    assert calls == []


def _call(cid: str, arcs=None):
    return {"id": cid, "func": "f", "expr": f"f({cid!r})"}, {"kind": "literal", "src": "1", "arcs": arcs or []}


def test_select_keeps_a_call_that_alone_kills_an_unsampled_mutant():
    kept = [_call("a", [[1, 2]]), _call("f#variant1"), _call("f#variant2")]
    mutation = {"tried": 5, "sampled": 5, "killers": [["a"]], "hunted": [["f#variant1"], ["f#variant2", "a"]]}
    chosen = [c["id"] for c, _ in minimal_suite(kept, {}, mutation)]
    assert chosen == ["a", "f#variant1"]  # variant2's only mutant is killed by "a" too


EPACT = '''
def epact(year: int) -> int:
    """A toy epact: the moon's age on 1 January of ``year`` (0-9999)."""
    if year < 0 or year > 9999:
        raise ValueError("year out of range")
    c = year // 100
    return (c - c // 4 + 8 * c // 25 + 13) % 30
'''


def test_gen_tests_writes_the_years_that_tell_the_mutants_apart(tmp_path):
    # every branch is taken by epact(1), epact(-1) and epact(10000); the century arithmetic and
    # the bounds (0, 9999) are only checked by other years, which the variant hunt finds
    require_level_a()
    _, text, data = generate(tmp_path, "calendarish", EPACT, "--budget", "8", "--seed", "1", "--json")
    assert data["coverage_after"] == 100.0
    assert data["mutation"]["tried"] >= 15
    assert data["mutation"]["killed"] == data["mutation"]["tried"], (data["mutation"]["survivors"], text)
    assert "@pytest.mark.parametrize" in text  # the years are rows of one test
    assert run_generated(tmp_path, "tests/test_calendarish.py").passed
