"""CodeT-style ranking: examples filter, agreement groups score, ties are deterministic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from codeloop.verify.rank import CandidateEvidence, best, rank


def cand(id, ex=(2, 2), tests=None, outputs=None, rejected=False, order=0):
    return CandidateEvidence(id, ex[0], ex[1], dict(tests or {}), dict(outputs or {}), rejected, order)


T = {"t1": True, "t2": True, "t3": True}


def test_examples_are_a_hard_filter():
    good = cand("good", (2, 2), {"t1": False}, order=3)
    great_but_fails_example = cand("bad", (1, 2), T, order=0)
    ranking = rank([great_but_fails_example, good])
    assert [r.id for r in ranking] == ["good", "bad"]
    assert ranking[0].eligible and not ranking[1].eligible and ranking[1].score == 0


def test_rejected_candidates_come_last():
    rejected = cand("rej", (2, 2), T, rejected=True, order=0)
    failing = cand("fail", (0, 2), {}, order=1)
    assert [r.id for r in rank([rejected, failing])] == ["fail", "rej"]


def test_agreement_beats_a_lone_candidate_that_passes_more():
    # Three candidates agree on outputs and pass 2 tests; one outlier passes 3 tests alone.
    same = {"in1": "4", "in2": "9"}
    group = [cand(f"g{i}", tests={"t1": True, "t2": True, "t3": False}, outputs=same, order=i) for i in range(3)]
    lone = cand("lone", tests=T, outputs={"in1": "4", "in2": "10"}, order=3)
    ranking = rank([lone, *group])
    assert ranking[0].id == "g0"
    assert ranking[0].score == 3 * 2 and ranking[0].group == ("g0", "g1", "g2")
    assert [r.id for r in ranking] == ["g0", "g1", "g2", "lone"]
    assert next(r for r in ranking if r.id == "lone").score == 3


def test_without_shared_inputs_groups_by_passed_tests():
    a = cand("a", tests={"t1": True, "t2": False}, order=0)
    b = cand("b", tests={"t1": True, "t2": True}, order=1)
    c = cand("c", tests={"t1": True, "t2": True}, order=2)
    ranking = rank([a, b, c])
    assert ranking[0].id == "b" and ranking[0].group == ("b", "c") and ranking[0].score == 4


def test_no_tests_at_all_prefers_bigger_group_then_order():
    a = cand("a", outputs={"x": "1"}, order=0)
    b = cand("b", outputs={"x": "2"}, order=1)
    c = cand("c", outputs={"x": "2"}, order=2)
    assert [r.id for r in rank([a, b, c])] == ["b", "c", "a"]


def test_passes_everything():
    (r,) = rank([cand("a", tests=T)])
    assert r.passes_everything
    (r,) = rank([cand("a", tests={"t1": False})])
    assert not r.passes_everything


def test_best_of_nothing():
    assert best([]) is None


ids = st.sampled_from("abcdef")
evidence = st.builds(
    CandidateEvidence,
    id=ids,
    examples_passed=st.integers(0, 2),
    examples_total=st.just(2),
    tests=st.dictionaries(st.sampled_from(["t1", "t2", "t3"]), st.booleans()),
    outputs=st.dictionaries(st.sampled_from(["i1", "i2"]), st.sampled_from(["1", "2"])),
    rejected=st.booleans(),
    order=st.integers(0, 5),
)


@given(st.lists(evidence, max_size=6, unique_by=lambda c: c.id))
def test_ranking_is_a_deterministic_permutation(cands):
    first = rank(cands)
    assert sorted(r.id for r in first) == sorted(c.id for c in cands)
    assert [r.id for r in rank(list(reversed(cands)))] == [r.id for r in first]
    # Eligible candidates always come before ineligible ones.
    flags = [r.eligible for r in first]
    assert flags == sorted(flags, reverse=True)


def test_user_checks_besides_the_examples_are_gates_and_model_tests_only_vote():
    # An existing test (or a return-type check) the candidate fails filters it like an example.
    fails_existing = CandidateEvidence("a", 2, 2, T, {}, False, 0, {"existing::t": False})
    passes = CandidateEvidence("b", 2, 2, {"t1": False}, {}, False, 1, {"existing::t": True, "property::o": True})
    ranking = rank([fails_existing, passes])
    assert [(r.id, r.eligible) for r in ranking] == [("b", True), ("a", False)]


def test_a_lone_extra_model_test_does_not_pick_the_representative():
    # Six candidates agree on the shared inputs; five also agree on the model tests, and one
    # (a mutant) alone passes an extra, wrong, model test: one of the five represents them
    # (bench/implement: first_Missing_Positive, where the mutant was written as verified).
    out = {"i1": "1", "i2": "4"}
    agreeing = [cand(f"c{i}", tests={"t1": True, "t2": True, "t3": False}, outputs=out, order=i)
                for i in (1, 2, 3, 5, 6)]
    mutant = cand("c4", tests={"t1": True, "t2": True, "t3": True}, outputs=out, order=4)
    ranking = rank([*agreeing[:3], mutant, *agreeing[3:]])
    assert ranking[0].id == "c1" and ranking[-1].id == "c4"
    assert len({r.group for r in ranking}) == 1  # one behaviour
