"""A generation result as the editor applies it: bug tests go to quick fixes, not the main edit."""

from __future__ import annotations

from codeloop.generate.editor_tests import bug_test_variants, passing_only
from codeloop.generate.tests_model import GeneratedTest, GenerationResult, ProbableBug

GOOD = GeneratedTest("test_add", "def test_add():\n    assert add(1, 2) == 3\n", [], "add")
BUG = GeneratedTest("test_sub_bug", "@pytest.mark.xfail(strict=True)\ndef test_sub_bug():\n    assert sub(3, 1) == 2\n",
                    ["import pytest"], "sub", kind="xfail")


def test_passing_only_leaves_the_bug_tests_out_of_the_merged_text() -> None:
    bug = ProbableBug("sub", 4, "sub(3, 1) returned 4", BUG)
    result = GenerationResult("m.py", "m", tests=[GOOD, BUG], merged_text="old", probable_bugs=[bug])
    kept = passing_only(result)
    assert kept.tests == [GOOD] and "test_add" in kept.merged_text and "test_sub_bug" not in kept.merged_text
    assert result.tests == [GOOD, BUG]  # the original is untouched
    assert passing_only(GenerationResult("m.py", "m", tests=[GOOD])).tests == [GOOD]


def test_a_bug_test_comes_as_xfail_and_as_is() -> None:
    bug = ProbableBug("sub", 4, "sub(3, 1) returned 4", BUG)
    variants = bug_test_variants(None, BUG, bug.test_as_is, "m")
    assert set(variants) == {"as xfail", "as is"}
    assert "xfail" in variants["as xfail"] and "xfail" not in variants["as is"]
    assert "def test_sub_bug" in variants["as is"]
