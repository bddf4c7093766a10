"""Evidence levels (pure): the user's checks gate, the model's tests vote, behaviours are
clustered by their outputs on shared inputs, and "verified" needs a clear winner."""

from __future__ import annotations

from codeloop.verify.evidence import clear_winner, judge, model_tests_to_drop
from codeloop.verify.rank import CandidateEvidence, clusters

INPUTS = {"test_output_0": "split_words('a b')", "test_output_1": "split_words('a  b')"}
ONE_SPACE = {"test_output_0": "['a', 'b']", "test_output_1": "['a', 'b']"}
EMPTY_PART = {"test_output_0": "['a', 'b']", "test_output_1": "['a', '', 'b']"}


def cand(id, order, outputs, tests=None, ex=(1, 1), checks=None, rejected=False):
    return CandidateEvidence(id, ex[0], ex[1], dict(tests or {}), dict(outputs), rejected, order, dict(checks or {}))


def test_verified_when_every_passing_candidate_agrees():
    cs = [cand(f"c{i}", i, ONE_SPACE, {"t1": True}) for i in range(3)] + [cand("c3", 3, EMPTY_PART, ex=(0, 1))]
    v = judge(cs, user_checks=True, inputs=INPUTS)
    assert v.level == "verified" and v.best == "c0" and not v.close
    assert [b.ids for b in v.behaviours] == [("c0", "c1", "c2")] and v.disagreements == ()


def test_ambiguous_shows_the_disagreeing_input_with_outputs_and_support():
    cs = [cand(f"a{i}", i, ONE_SPACE) for i in range(3)] + [cand(f"b{i}", 3 + i, EMPTY_PART) for i in range(2)]
    v = judge(cs, user_checks=True, inputs=INPUTS)
    assert v.level == "ambiguous" and v.close and v.best == "a0"
    assert v.lines() == ["split_words('a  b'): ['a', 'b'] (3 candidates) vs ['a', '', 'b'] (2)"]
    assert [(b.number, b.support, b.representative) for b in v.behaviours] == [(1, 3, "a0"), (2, 2, "b0")]
    assert v.behaviours[1].outputs == {"split_words('a  b')": "['a', '', 'b']"}


def test_the_first_candidate_does_not_win_a_tie():
    # Issue 12, cause 3: the first (wrong) candidate was written as verified.
    cs = [cand("wrong", 0, EMPTY_PART), cand("right", 1, ONE_SPACE)]
    assert judge(cs, user_checks=True, inputs=INPUTS).level == "ambiguous"


def test_clear_winner_rule():
    def groups(*sizes_and_passed):
        cs, order = [], 0
        for g, (size, passed) in enumerate(sizes_and_passed):
            for _ in range(size):
                cs.append(cand(f"g{g}.{order}", order, {"i": str(g)}, {f"t{k}": k < passed for k in range(3)}))
                order += 1
        return clusters(cs)

    assert clear_winner(groups((1, 0)))  # the only behaviour
    assert clear_winner(groups((4, 2), (2, 2)))  # twice the support, as many model tests, a majority
    assert not clear_winner(groups((3, 2), (2, 2)))  # not twice the runner-up
    assert not clear_winner(groups((4, 1), (2, 2)))  # the runner-up passes more model tests
    assert not clear_winner(groups((4, 3), (2, 0), (2, 0), (1, 0)))  # not a majority of the passing candidates
    assert not clear_winner(groups((1, 3), (1, 0)))  # one against one


def test_model_tests_are_votes_never_gates():
    # Every candidate fails t_wrong (a wrong assertion): dropped, and the agreeing pair still verifies.
    cs = [cand("c0", 0, ONE_SPACE, {"t_ok": True, "t_wrong": False}),
          cand("c1", 1, ONE_SPACE, {"t_ok": True, "t_wrong": False})]
    v = judge(cs, user_checks=True, inputs=INPUTS)
    assert v.level == "verified" and v.dropped == ("t_wrong",) and v.model_tests == ("t_ok",)


def test_placeholder_tests_are_dropped_even_for_one_candidate():
    cs = [cand("c0", 0, ONE_SPACE, {"t_ok": True, "t_blank": False, "t_fails": False})]
    assert model_tests_to_drop(cs, {"c0": {"t_blank"}}) == {"t_blank"}  # one candidate: a real failure stays
    two = [*cs, cand("c1", 1, ONE_SPACE, {"t_ok": False, "t_blank": False, "t_fails": False})]
    assert model_tests_to_drop(two, {"c0": {"t_blank"}, "c1": {"t_blank"}}) == {"t_blank", "t_fails"}
    assert model_tests_to_drop(two, {"c0": {"t_blank"}}) == {"t_blank", "t_fails"}  # nobody passes it either


def test_plausible_without_user_checks():
    cs = [cand("a", 0, ONE_SPACE, {"t1": True, "t2": True}, ex=(0, 0)),
          cand("b", 1, ONE_SPACE, {"t1": True, "t2": False}, ex=(0, 0)),
          cand("c", 2, EMPTY_PART, {"t1": False, "t2": True}, ex=(0, 0)),
          cand("r", 3, {}, rejected=True, ex=(0, 0))]
    v = judge(cs, user_checks=False, inputs=INPUTS)
    assert v.level == "plausible" and v.best == "a"
    assert v.summary() == "2/3 candidates agree, 1/2 model tests"


def test_unverified_when_nothing_passes_the_user_checks():
    cs = [cand("a", 0, ONE_SPACE, ex=(0, 2)), cand("b", 1, ONE_SPACE, ex=(1, 2)),
          cand("c", 2, ONE_SPACE, ex=(2, 2), checks={"existing::t": False})]
    v = judge(cs, user_checks=True, inputs=INPUTS)
    assert v.level == "unverified" and v.behaviours == ()
    assert v.best == "c"  # all examples pass, an existing test fails: closest to passing


def test_failing_before_the_call_is_told_by_the_innermost_frame():
    from codeloop.verify.candidates import GENERATED_TESTS_FILE, fails_before_call
    from codeloop_sandbox import Frame, TestOutcome

    def failed(message, *paths):
        return TestOutcome("t", "failed", message=message, frames=[Frame(f"/ws/{p}", 3, "f") for p in paths])

    assert fails_before_call(failed("NameError: name '____' is not defined", GENERATED_TESTS_FILE))
    assert fails_before_call(failed("ModuleNotFoundError: No module named 'calcs'", GENERATED_TESTS_FILE))
    # The candidate's own NameError is its fault: a real failure, and a vote against it.
    assert not fails_before_call(failed("NameError: name 'helper' is not defined", GENERATED_TESTS_FILE, "calc.py"))
    assert not fails_before_call(failed("assert 2 == 3", GENERATED_TESTS_FILE))
    assert fails_before_call(failed("NameError: name '___' is not defined"))  # no frames: the placeholder itself
    assert not fails_before_call(failed("NameError: name 'x' is not defined"))
    assert fails_before_call(TestOutcome("t", "error", message="fixture 'tmp_dir' not found"))


def test_a_model_tests_file_that_does_not_import_is_no_fault_of_the_candidate(tmp_path):
    from codeloop.verify.candidates import GENERATED_TESTS_FILE, CandidateRecord, Checks, read_results
    from codeloop_sandbox import PytestResult, Result

    checks = Checks(None, "import nothing_here\n", ("test_a", "test_b"), None, (), ())
    rec = CandidateRecord("c1", "sample", "m", "")
    pres = PytestResult(Result(1, "", ""), errors=[f"{GENERATED_TESTS_FILE}: ModuleNotFoundError: nothing_here"])
    read_results(rec, pres, tmp_path / "calc.py", checks)
    assert rec.run_problem is None and rec.passes_checks
    assert rec.tests == {"generated::test_a": False, "generated::test_b": False}
    assert rec.precall == {"generated::test_a", "generated::test_b"}
    assert not rec.verified  # nothing the user wrote: not verified (plausible at best)
