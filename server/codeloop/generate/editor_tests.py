"""A test-generation result as the editor applies it.

In the editor each probable bug is a diagnostic whose quick fixes add its test (as
xfail, or as is), so the main edit carries only the other tests; the quick fixes'
texts are the test file with that one test merged in.
"""

from __future__ import annotations

from dataclasses import replace

from codeloop.generate.merge import merge_tests
from codeloop.generate.tests_model import GeneratedTest, GenerationResult


def passing_only(result: GenerationResult) -> GenerationResult:
    """``result`` without its probable-bug tests (and its merged text without them)."""
    bug_tests = {id(b.test) for b in result.probable_bugs}
    if not bug_tests:
        return result
    tests = [t for t in result.tests if id(t) not in bug_tests]
    merged = merge_tests(result.existing_text, tests, module=result.module) if tests else None
    return replace(result, tests=tests, merged_text=merged)


def bug_test_variants(base: str | None, xfail: GeneratedTest, as_is_code: str, module: str) -> dict[str, str]:
    """``{"as xfail": text, "as is": text}``: the test file ``base`` (None: no file yet)
    with the bug's test merged in; a variant that cannot be merged is left out."""
    out: dict[str, str] = {}
    for how, test in (("as xfail", xfail), ("as is", replace(xfail, code=as_is_code))):
        try:
            out[how] = merge_tests(base, [test], module=module)
        except Exception:  # noqa: BLE001 - an action we cannot build is omitted
            continue
    return out
