"""The smallest suite over (arcs, killed mutants): generate/offline/select.py."""

from codeloop.generate.offline.select import call_items, minimal_suite, smallest_cover


def call(cid: str, arcs=None):
    obs = {"kind": "literal", "src": "1"}
    if arcs is not None:
        obs["arcs"] = arcs
    return {"id": cid, "func": "f", "expr": f"f({cid!r})"}, obs


def ids(kept):
    return [c["id"] for c, _ in kept]


def test_a_call_whose_arcs_a_later_call_reaches_too_is_dropped():
    kept = [call("a", [[1, 2]]), call("b", [[3, 4]])]
    cover = {"a": [[1, 2]], "b": [[1, 2], [3, 4]]}
    assert ids(minimal_suite(kept, cover, None)) == ["b"]


def test_calls_with_arcs_of_their_own_all_stay_in_their_order():
    kept = [call("a", [[1, 2]]), call("b", [[3, 4]]), call("c", [[5, 6]])]
    assert ids(minimal_suite(kept, {}, None)) == ["a", "b", "c"]


def test_a_call_kept_only_because_it_kills_a_mutant_stays():
    kept = [call("a", [[1, 2]]), call("m", [])]
    mutation = {"tried": 5, "killers": [["a"], ["m"]]}
    assert ids(minimal_suite(kept, {}, mutation)) == ["a", "m"]


def test_a_call_that_adds_no_arc_and_kills_only_what_another_kills_is_dropped():
    kept = [call("a", [[1, 2]]), call("v")]  # "v": kept for a new kind of result
    mutation = {"tried": 5, "sampled": 5, "killers": [["a", "v"]]}
    assert ids(minimal_suite(kept, {"v": [[1, 2]]}, mutation)) == ["a"]


def test_without_a_mutation_run_calls_kept_for_their_result_stay():
    kept = [call("a", [[1, 2]]), call("v")]
    assert ids(minimal_suite(kept, {}, None)) == ["a", "v"]
    assert ids(minimal_suite(kept, {}, {"tried": 2, "sampled": 3, "killers": []})) == ["a", "v"]
    assert ids(minimal_suite(kept, {}, {"tried": 3, "sampled": 3, "killers": []})) == ["a"]


def test_table_rows_stay_whatever_the_mutation_run_says():
    row = ({"id": "t", "func": "f", "expr": "f('ox')", "origin": "table"}, {"kind": "literal", "src": "'oxen'"})
    kept = [call("a", [[1, 2]]), row]
    assert ids(minimal_suite(kept, {}, {"tried": 3, "sampled": 3, "killers": []})) == ["a", "t"]


def test_arcs_and_mutants_the_users_tests_hold_need_no_generated_test():
    entry = {"executed_lines": [1, 2, 3], "missing_lines": [5], "executed_branches": [[2, 3]],
             "missing_branches": [[2, 5]]}
    kept = [call("a", [[2, 3]]), call("b", [[2, 5]]), call("m", [])]
    mutation = {"tried": 4, "killers": [["m"]], "user_killed": [0]}
    assert ids(minimal_suite(kept, {}, mutation, entry)) == ["b"]
    mutation["user_killed"] = []
    assert ids(minimal_suite(kept, {}, mutation, entry)) == ["b", "m"]


def test_items_name_arcs_and_mutants():
    kept = [call("a", [[1, 2]])]
    assert call_items(kept, {"a": [[2, -1]]}, [["a"], ["x"]]) == [{("arc", 1, 2), ("arc", 2, -1), ("mutant", 0)}]


def test_the_cover_is_minimal_where_greedy_alone_is_not():
    # greedy takes the big set first; afterwards the two small ones hold everything it held
    items = [{1, 2, 3, 4}, {1, 2, 5}, {3, 4, 6}]
    assert smallest_cover(items) == [1, 2]
    assert smallest_cover([set(), {1}, {1}]) == [1]
    assert smallest_cover([]) == []
