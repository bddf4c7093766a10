"""The LLM engine's pure parts: splitting answers, the probable-bug rule, coverage gaps, prompts."""

from __future__ import annotations

import ast

from codeloop.generate.llm_tests import (
    PromptParts,
    bug_test,
    build_messages,
    called_signatures,
    documented_in,
    is_own_check,
    split_answer,
    target_scope,
    top_level_names,
    uncovered,
)
from codeloop.generate.targets import resolve_target

ANSWER = '''Sure! Here are some tests:

```python
import pytest
import os
from shop.pricing import clamp

def test_low():
    assert clamp(-2, 0, 3) == 0

def test_broken(:
    assert clamp(1, 0, 3) == 1

# documented: >>> clamp(4, 0, 3)
def test_high():
    with pytest.raises(ValueError):
        clamp(1, 3, 0)
    assert clamp(4, 0, 3) == 3

def helper():
    return 1

def test_label_uses_module_names():
    assert label("") == "anonymous"
```
'''


def test_split_answer_compiles_each_test_on_its_own_and_gives_each_its_imports():
    cands, problems = split_answer(ANSWER, "shop.pricing", {"clamp", "label"}, "shop.pricing")
    by_name = {c.name: c for c in cands}
    assert list(by_name) == ["test_low", "test_high", "test_label_uses_module_names"]
    assert problems[0].startswith("test_broken does not compile: ")
    assert any(p.startswith("helper was ignored") for p in problems)
    assert by_name["test_low"].imports == ["from shop.pricing import clamp"]  # no pytest, no os
    assert set(by_name["test_high"].imports) == {"import pytest", "from shop.pricing import clamp"}
    # A module name the model forgot to import is imported for it.
    assert by_name["test_label_uses_module_names"].imports == ["from shop.pricing import label"]
    assert by_name["test_high"].documented == ">>> clamp(4, 0, 3)"
    assert by_name["test_low"].documented is None
    assert by_name["test_high"].code.startswith("# documented: >>> clamp(4, 0, 3)\ndef test_high():")
    assert by_name["test_low"].target == "clamp"


def test_split_answer_without_code_or_with_a_class_finds_no_tests():
    assert split_answer("I cannot help with that.", "m", set(), "m")[0] == []
    cands, problems = split_answer("```python\nclass TestX:\n    def test_a(self):\n        pass\n```", "m", set(), "m")
    assert cands == [] and problems == ["TestX was ignored: write only top-level test_* functions"]


def test_documented_rule_needs_the_quote_in_the_source_and_an_own_check():
    source = 'def clamp(x, lo, hi):\n    """Clamp.\n\n    >>> clamp(4, 0, 3)\n    3\n    """\n'
    assert documented_in(">>> clamp(4, 0, 3)", source)
    assert documented_in("clamp(4,  0, 3)", source)
    assert not documented_in("clamp(5, 0, 3)", source)
    assert not documented_in(None, source) and not documented_in("3", source)
    assert is_own_check("assert 4 == 3\n +  where 4 = clamp(4, 0, 3)")
    assert is_own_check("Failed: DID NOT RAISE <class 'ValueError'>")
    assert not is_own_check("NameError: name 'clmp' is not defined")


def test_bug_test_is_strict_xfail_at_the_docstring_line():
    cands, _ = split_answer(ANSWER, "shop.pricing", {"clamp"}, "shop.pricing")
    high = next(c for c in cands if c.name == "test_high")
    lines = ["def clamp(x, lo, hi):", '    """Clamp.', "", "    >>> clamp(4, 0, 3)", "    3", '    """']
    test, line, message = bug_test(high, "assert 4 == 3 + where 4 = clamp(4, 0, 3)", lines, 1)
    assert line == 4
    assert message == "probable bug: test_high fails (assert 4 == 3), docstring says: >>> clamp(4, 0, 3)"
    assert test.kind == "xfail" and "import pytest" in test.imports
    ast.parse(test.code)
    assert f"@pytest.mark.xfail(reason={message!r}, strict=True)\ndef test_high():" in test.code


def test_uncovered_combines_runs_and_keeps_to_the_scope():
    a = {"executed_lines": [1, 2], "missing_lines": [3, 4, 9], "executed_branches": [[2, 3]],
         "missing_branches": [[2, 4], [8, 9]]}
    b = {"executed_lines": [1, 2, 4], "missing_lines": [3, 9], "executed_branches": [[2, 4]],
         "missing_branches": [[2, 3], [8, 9]]}
    assert uncovered([a, b, None], None) == ([3, 9], [(8, 9)])
    assert uncovered([a, b], range(1, 5)) == ([3], [])


def test_scope_and_called_signatures(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "util.py").write_text("def norm(s: str) -> str:\n    return s\n\ndef other(): pass\n")
    src = ("from .util import norm\n\n\ndef helper(n: int) -> int:\n    return n\n\n\n"
           "def unused(): pass\n\n\n@staticmethod\ndef main(s: str) -> int:\n    return helper(len(norm(s)))\n")
    (tmp_path / "pkg" / "mod.py").write_text(src)
    tgt = resolve_target("pkg.mod::main", tmp_path)
    tree = ast.parse(src)
    node, scope = target_scope(tree, "main")
    assert scope == range(11, 14)  # the decorator line through the last body line
    sigs = called_signatures(tgt, tree, src, node)
    assert sigs == ["def helper(n: int) -> int: ...", "def norm(s: str) -> str: ...  # from pkg.util"]


def test_prompt_holds_uncovered_lines_feedback_and_no_key():
    parts = PromptParts(module="m", rel_file="m.py", import_hint="from m import f", code="def f(x):\n    return x\n",
                        signatures=["def g() -> int: ..."], style="def test_old():\n    assert True",
                        source_lines=["def f(x):", "    return x  # key sk-abcdefghijklmnopqrstuv"])
    key = "sk-abcdefghijklmnopqrstuv"
    msgs = build_messages(parts, [2], [(1, -1)], ["test_kept"], ["test_bad failed: assert 1 == 2"], (key,))
    user = msgs[1]["content"]
    assert "line 2: return x" in user and "line 1 -> exit" in user
    assert "- test_bad failed: assert 1 == 2" in user and "test_kept" in user
    assert "def g() -> int: ..." in user and "def test_old():" in user
    assert key not in user and key not in msgs[0]["content"]


def test_imports_split_per_name_and_unknown_module_names_drop_only_their_test():
    answer = ("```python\nfrom shop.pricing import clamp, no_such_thing\nimport os, sys\n\n"
              "def test_ok():\n    assert clamp(1, 0, 3) == 1 and os.sep\n\n"
              "def test_bad():\n    assert no_such_thing() == 1\n```")
    cands, problems = split_answer(answer, "shop.pricing", {"clamp"}, "shop.pricing", {"clamp", "Tier"})
    assert [c.name for c in cands] == ["test_ok"]
    assert cands[0].imports == ["from shop.pricing import clamp", "import os"]
    assert problems == ["test_bad imports no_such_thing from shop.pricing, which does not define it"]


def test_top_level_names():
    tree = ast.parse("import os.path\nfrom x import y as z\nA: int = 1\nB, C = 2, 3\ndef f(): pass\nclass K: pass\n")
    assert top_level_names(tree) == {"os", "z", "A", "B", "C", "f", "K"}
