"""Shared inputs split behaviours: each example argument varied on its own, the model tests'
inputs (never their expected values), and which exception is raised is not a behaviour."""

from __future__ import annotations

from codeloop.verify.evidence import judge
from codeloop.verify.output_probe import calls_in, shared_inputs, tied, variants
from codeloop.verify.rank import CandidateEvidence, clusters
from codeloop.workspace.model import Example


def test_variants_reach_the_near_misses():
    assert {"4", "6", "5", "-5", "0", "1", "10"} <= set(variants("5"))
    assert {"''", "'a'", "'abab'", "'ba'", "'ab ab'"} <= set(variants("'ab'"))
    assert {"[]", "[3]", "[1, 2, 3]", "[3, 2, 1, 3, 2, 1]", "[3, 2]", "[4, 3, 2]"} <= set(variants("[3, 2, 1]"))
    assert "(11, 5)" in variants("(10, 4)") and "['b', 'a']" in variants("['a', 'b']")
    assert variants("some_name") == ["some_name"]  # not a literal: nothing to vary


def test_each_argument_is_varied_while_the_example_pins_the_others():
    examples = [Example("window([1, 2, 3], 2)", "[3, 5]", 0, "equals")]
    inputs = shared_inputs("window", ["xs", "k"], False, examples, [None, None])
    assert "[1, 2, 3], 3" in inputs and "[1, 2, 3], 1" in inputs  # k off by one, xs as given
    assert "[], 2" in inputs and "[3, 2, 1], 2" in inputs  # xs changed, k as given


def test_arguments_set_equal_to_each_other_split_comparisons_between_parameters():
    assert tied(["6", "8", "12"]) == ["8, 8, 12", "12, 8, 12", "6, 6, 12", "6, 12, 12", "6, 8, 6", "6, 8, 8", "6, 6, 6"]
    assert tied(["'a'", "3"]) == [] and tied(["2", "2"]) == []  # different types; already equal

    def right(x, y, z):
        return x == y == z

    def near_miss(x, y, z):  # agrees with ``right`` wherever the three arguments all differ
        return x != y == z

    examples = [Example("is_equilateral(6, 8, 12)", "False", 0, "equals")]
    inputs = shared_inputs("is_equilateral", ["x", "y", "z"], False, examples, [None, None, None])
    untied = [a for a in inputs if len(set(a.split(", "))) == 3]
    assert all(right(*map(int, a.split(", "))) == near_miss(*map(int, a.split(", "))) for a in untied)
    assert any(right(*map(int, a.split(", "))) != near_miss(*map(int, a.split(", "))) for a in inputs)


def test_the_model_tests_inputs_come_after_the_own_ones_and_respect_the_domain():
    src = (
        "from m import fact\n\n"
        "def test_a():\n    assert fact(4) == 24\n\n"
        "def test_b():\n    assert fact(-2) == 1\n\n"
        "def test_c():\n    x = 7\n    assert fact(x) == 5040\n\n"  # not literal: no input
        "def test_d():\n    assert [fact(i) for i in (9,)] == [1] and fact(4) == 24\n"
    )
    assert calls_in(src, "fact") == ["4", "-2"]
    assert calls_in("def broken(:\n", "fact") == [] and calls_in(None, "fact") == []
    examples = [Example("fact(3)", "6", 0, "equals")]
    own = shared_inputs("fact", ["n"], False, examples, [None], doc="n must be non-negative.")
    both = shared_inputs("fact", ["n"], False, examples, [None], doc="n must be non-negative.",
                         extra=calls_in(src, "fact") + ["12"])
    assert both[: len(own)] == own
    assert "12" in both[len(own):] and "-2" not in both  # the docstring rules out negatives


def _cand(id: str, outputs: dict[str, str], order: int) -> CandidateEvidence:
    return CandidateEvidence(id, 1, 1, {}, outputs, False, order)


def test_which_exception_an_input_raises_is_not_a_behaviour_but_raising_is():
    a = _cand("a", {"in_0": "3", "in_1": "raises IndexError"}, 0)
    b = _cand("b", {"in_0": "3", "in_1": "raises ValueError"}, 1)
    c = _cand("c", {"in_0": "3", "in_1": "None"}, 2)
    groups = clusters([a, b, c])
    assert [[m.id for m in g.members] for g in groups] == [["a", "b"], ["c"]]


def test_an_input_only_the_model_tests_use_turns_a_false_agreement_into_ambiguous():
    # Both pass the one example and agree on the own inputs; the model's input tells them apart.
    own = {"test_output_0": "6", "test_output_1": "24"}
    right = [_cand(f"r{i}", {**own, "test_output_2": "1"}, i) for i in range(2)]
    wrong = [_cand(f"w{i}", {**own, "test_output_2": "0"}, 2 + i) for i in range(2)]
    without = judge([_cand(c.id, own, c.order) for c in right + wrong], True)
    assert without.level == "verified"  # one behaviour as far as the own inputs can tell
    verdict = judge(right + wrong, True, {"test_output_2": "fact(0)"})
    assert verdict.level == "ambiguous"
    assert verdict.lines() == ["fact(0): 1 (2 candidates) vs 0 (2)"]


def test_a_sample_that_guards_where_others_raise_supports_the_same_behaviour():
    common = {f"test_output_{i}": str(i * i) for i in range(1, 6)}
    raising = [_cand(f"r{i}", {"test_output_0": "raises ValueError", **common}, i) for i in range(3)]
    guarded = [_cand(f"g{i}", {"test_output_0": "0", **common}, 3 + i) for i in range(2)]
    other = [_cand("w", {"test_output_0": "0", **common, "test_output_5": "24"}, 9)]
    groups = clusters(raising + guarded + other)
    assert [[m.id for m in g.members] for g in groups] == [["g0", "g1", "r0", "r1", "r2"], ["w"]]
    assert judge(raising + guarded + other, True).level == "verified"  # 5 vs 1, the more defined represents


def test_a_sample_defined_almost_nowhere_supports_nothing_but_itself():
    full = [_cand(f"f{i}", {f"test_output_{k}": str(k) for k in range(4)}, i) for i in range(2)]
    narrow = [_cand(f"n{i}", {"test_output_0": "0", **{f"test_output_{k}": "raises IndexError" for k in range(1, 4)}},
                    2 + i) for i in range(3)]
    assert [[m.id for m in g.members] for g in clusters(full + narrow)] == [["n0", "n1", "n2"], ["f0", "f1"]]
