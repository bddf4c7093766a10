"""codeloop.verify.completion_check: assembling the completed function, finding its
examples, and checking it (real sandbox where something runs)."""

from __future__ import annotations

from codeloop.verify import completion_check as cc
from codeloop_sandbox import Policy

STUB = 'import math\n\n\ndef area(r):\n    """Area.\n\n    >>> area(1)\n    3.141592653589793\n    """\n    \n\nx = 1\n'
BODY_LINE = 9  # the blank line after the docstring

COMMENT = "# double(2) -> 4\n# double(-1) -> -2\n\n\nprint(double(3))\n"


def test_assemble_after_a_docstring_finds_the_function_and_its_doctest():
    fn = cc.assemble(STUB, BODY_LINE, 4, "    return math.pi * r ** 2", "body", 3)
    assert fn is not None and fn.name == "area"
    assert fn.lines == (4, 10) and fn.inserted == (10, 10)
    assert [(e.call, e.expected) for e in fn.examples] == [("area(1)", "3.141592653589793")]
    assert fn.text.split("\n")[9] == "    return math.pi * r ** 2"
    assert fn.text.endswith("\nx = 1\n")


def test_assemble_after_a_comment_reads_the_comment_examples():
    fn = cc.assemble(COMMENT, 2, 0, "def double(x):\n    return 2 * x", "comment", 1)
    assert fn is not None and fn.name == "double"
    assert [(e.call, e.expected, e.line) for e in fn.examples] == [("double(2)", "4", 0), ("double(-1)", "-2", 1)]
    assert fn.inserted == (3, 4)


def test_assemble_without_a_function_or_with_a_syntax_error_gives_none():
    assert cc.assemble(COMMENT, 2, 0, "print('hello')", "comment", 1) is None
    assert cc.assemble(STUB, BODY_LINE, 4, "    return (", "body", 3) is None


def test_nothing_to_check_is_skipped_without_running(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'd'\n")
    source = "def area(r):\n    \n"
    fn = cc.assemble(source, 1, 4, "    return r", "def", 0)
    outcome = cc.check(fn, tmp_path / "geo.py", tmp_path, Policy())
    assert outcome.status == cc.SKIPPED and "nothing to check" in outcome.reason and outcome.level == "plausible"
    assert outcome.evidence == ""


def test_plain_file_deletion_is_rejected_by_the_audit_before_running(tmp_path):
    fn = cc.assemble(STUB, BODY_LINE, 4, "    import os\n    os.remove('x')\n    return 0.0", "body", 3)
    outcome = cc.check(fn, tmp_path / "geo.py", tmp_path, Policy())
    assert outcome.status == cc.FAILED and outcome.reason.startswith("not run:") and "(audit)" in outcome.reason


def test_a_comment_completion_is_verified_against_its_examples_and_existing_tests(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'd'\n")
    (tmp_path / "test_double.py").write_text("from calc import double\n\n\ndef test_double():\n    assert double(5) == 10\n")
    good = cc.assemble(COMMENT, 2, 0, "def double(x):\n    return 2 * x", "comment", 1)
    outcome = cc.check(good, tmp_path / "calc.py", tmp_path, Policy())
    assert (outcome.status, outcome.evidence, outcome.level) == (cc.VERIFIED, "verified 2/2 examples, 1/1 existing tests", "verified")
    wrong = cc.assemble(COMMENT, 2, 0, "def double(x):\n    return x + 2", "comment", 1)
    outcome = cc.check(wrong, tmp_path / "calc.py", tmp_path, Policy())
    assert outcome.status == cc.FAILED and outcome.level == "unverified" and "double(-1) returned 1, expected -2" in outcome.reason
    assert outcome.evidence == "1/2 examples, 0/1 existing tests"


def test_a_syntax_error_elsewhere_in_the_file_skips_instead_of_failing(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'd'\n")
    broken = STUB + "\ndef other(:\n    pass\n"
    fn = cc.assemble(broken, BODY_LINE, 4, "    return math.pi * r ** 2", "body", 3)
    assert fn is not None  # only the completed function is parsed
    outcome = cc.check(fn, tmp_path / "geo.py", tmp_path, Policy())
    assert outcome.status == cc.SKIPPED and outcome.reason.startswith("the file does not import")
