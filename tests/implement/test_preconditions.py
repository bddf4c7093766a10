"""Out-of-domain probing: preconditions from the docstring and the code's guards keep
inputs the function does not accept out of the shared inputs and the return-type check."""

from __future__ import annotations

import subprocess
import sys

from codeloop.verify.output_probe import outputs_probe, shared_inputs, typed_inputs
from codeloop.verify.preconditions import doc_preconditions, guard_preconditions, holds, preconditions
from codeloop.workspace.model import Example


def test_common_phrasings_in_the_docstring():
    assert doc_preconditions("Factorial of n.\n\nn must be non-negative.", ["n"]) == ["n >= 0"]
    assert doc_preconditions("Given a positive integer, return its digits.", ["n"]) == ["n > 0"]
    assert doc_preconditions("Return the factorial of a non-negative integer.", ["n"]) == ["n >= 0"]
    assert doc_preconditions("xs: a non-empty list. 0 <= k <= 10", ["xs", "k"]) == ["len(xs) > 0", "0 <= k", "k <= 10"]
    assert doc_preconditions("n must be >= 0; k is at least 2", ["n", "k"]) == ["n >= 0", "k >= 2"]


def test_prose_about_the_result_or_other_things_is_no_precondition():
    assert doc_preconditions("Returns a positive integer.", ["n"]) == []
    assert doc_preconditions("Split s into words.", ["s"]) == []
    # two parameters and no name in the sentence: nothing to attach the phrase to
    assert doc_preconditions("Works on positive numbers.", ["a", "b"]) == []


def test_guards_at_the_top_of_the_body():
    code = 'def f(n, xs):\n    """Doc."""\n    if n < 0:\n        raise ValueError(n)\n    assert len(xs) > 0\n    return n\n'
    assert guard_preconditions(code, ["n", "xs"]) == ["not (n < 0)", "len(xs) > 0"]
    # guards after the work starts, and anything beyond plain comparisons, are not read
    assert guard_preconditions("def f(n):\n    m = n\n    if m < 0:\n        raise ValueError\n", ["n"]) == []
    assert guard_preconditions("def f(n):\n    if os.system(n):\n        raise ValueError\n", ["n"]) == []


def test_holds_on_literal_arguments_only():
    assert holds(["n >= 0"], ["n"], "-1") is False
    assert holds(["n >= 0"], ["n"], "3") is True
    assert holds(["len(xs) > 0"], ["xs"], "xs=[]") is False
    assert holds(["n >= 0"], ["n"], "some_name") is True  # cannot tell: keep
    assert holds(["n >= 0"], ["n"], "'text'") is True  # the check errs: keep


def test_shared_inputs_leave_out_what_the_docstring_or_the_guard_rules_out():
    examples = [Example("fact(3)", "6", 0, "equals")]
    everything = shared_inputs("fact", ["n"], False, examples, ["int"])
    assert "-1" in everything and "-3" in everything
    by_doc = shared_inputs("fact", ["n"], False, examples, ["int"], doc="n must be non-negative.")
    by_guard = shared_inputs("fact", ["n"], False, examples, ["int"],
                             code="def fact(n):\n    if n < 0:\n        raise ValueError\n")
    assert by_doc == by_guard == [a for a in everything if not a.startswith("-")]
    assert preconditions("n must be non-negative.", None, ["n"]) == ["n >= 0"]


def test_the_type_check_runs_only_where_the_examples_go():
    examples = [Example("fact(3)", "6", 0, "equals")]
    inputs = ["3", "-3", "0"]
    assert typed_inputs(inputs, "fact", ["n"], examples) == ["3", "0"]
    # an empty list stays checked: mean([]) -> None for "-> float" is still refused
    assert typed_inputs(["[]", "[1]"], "mean", ["xs"], [Example("mean([1, 2])", "1.5", 0, "equals")]) == ["[]", "[1]"]
    with_negative = [*examples, Example("fact(-1)", "None", 1, "equals")]
    assert typed_inputs(inputs, "fact", ["n"], with_negative) == inputs
    assert typed_inputs(inputs, "fact", ["n"], examples, doc="a positive integer n") == ["3"]
    assert typed_inputs(inputs, "fact", ["n"]) == inputs  # no examples: every input in the domain


CANDIDATE = '''\
def fact(n: int) -> int:
    """n must be non-negative."""
    if n < 0:
        return None
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out
'''


def _run_probe(tmp_path, typed):
    pkg = tmp_path / "pkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text(CANDIDATE)
    src = outputs_probe("fact", "pkg.m", str(tmp_path), str(pkg / "m.py"), "int", ["3", "-2"], typed=typed)
    (tmp_path / "test_probe.py").write_text(src)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_probe.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_none_on_an_out_of_domain_input_does_not_refuse_a_candidate(tmp_path):
    # Before: every input was type-checked and fact(-2) -> None refused a correct candidate.
    refused = _run_probe(tmp_path, None)
    assert "fact(-2) returned None, which does not fit its annotation -> int" in refused.stdout
    typed = typed_inputs(["3", "-2"], "fact", ["n"], [Example("fact(3)", "6", 0, "equals")])
    kept = _run_probe(tmp_path, typed)
    assert "failed" not in kept.stdout and "2 skipped" in kept.stdout, kept.stdout
    assert '"out": "6", "typed": true' in kept.stdout and '"out": "None", "typed": null' in kept.stdout
