"""Prompts: what the model sees (and what it never sees)."""

from __future__ import annotations

from codeloop.generate.prompts import describe_example, file_context, implement_messages, repair_messages
from codeloop.generate.prompts import tests_messages as ask_tests_messages
from codeloop.workspace.model import Example, Intent, Span

KEY = "sk-prompt-test-0123456789abcdefgh"
DOC = f'''"""Geometry."""
import math
from typing import Sequence

API_KEY = "{KEY}"


def helper(x: float) -> float:
    """Square a number."""
    return x * x


class Shape:
    def area(self) -> float:
        ...


def area(w: float, h: float = 1.0) -> float:
    """Area.

    >>> area(2, 3)
    6
    """
    ...
'''
STUB = DOC[DOC.index("def area(w"):]


def intent(**kw):
    base = dict(kind="implement", name="area", summary="stub", span=Span(17, 0, 23, 7), path="/ws/geo.py",
                examples=(Example("area(2, 3)", "6", 20), Example("area(-1)", "raises ValueError", 21, "arrow")))
    base.update(kw)
    return Intent(**base)


def test_context_has_imports_and_signatures_not_bodies():
    ctx = file_context(DOC, exclude="area", path="geo.py", module="geo")
    assert ctx.imports == ("import math", "from typing import Sequence")
    assert "def helper(x: float) -> float: ...  # Square a number." in ctx.symbols
    assert "class Shape:" in ctx.symbols and "    def area(self) -> float: ..." not in ctx.symbols
    assert not any("return x * x" in s for s in ctx.symbols)


def test_implement_prompt_never_carries_the_key():
    ctx = file_context(DOC, exclude="area", path="geo.py", module="geo")
    messages = implement_messages(intent(), STUB, ctx, secrets=[KEY])
    assert [m["role"] for m in messages] == ["system", "user"]
    text = messages[1]["content"]
    assert KEY not in text and "[redacted]" in text
    assert "Implement the function `area`" in text and "def area(w: float, h: float = 1.0) -> float:" in text
    assert "- area(2, 3) == 6" in text and "- area(-1) raises ValueError" in text
    assert text.startswith("File: geo.py (module geo)")


def test_key_shaped_strings_are_scrubbed_even_when_unknown():
    ctx = file_context(DOC, exclude="area")
    text = implement_messages(intent(), STUB, ctx)[1]["content"]
    assert KEY not in text


def test_from_comment_prompt():
    it = intent(kind="from_comment", name="hyp", comment="Hypotenuse of a and b.\nhyp(3, 4) -> 5.0",
                examples=(Example("hyp(3, 4)", "5.0", 3, "arrow"),))
    text = implement_messages(it, None, file_context("import math\n"))[1]["content"]
    assert "Write the function `hyp` that this comment describes:\nHypotenuse of a and b." in text
    untitled = intent(kind="from_comment", name="compute the hypotenuse", comment="compute the hypotenuse", examples=())
    assert "choose a good name" in implement_messages(untitled, None, file_context(""))[1]["content"]


def test_tests_prompt_names_the_import():
    messages = ask_tests_messages(intent(), STUB, file_context(DOC, exclude="area"), "from geo import area")
    assert "Import it with `from geo import area`" in messages[1]["content"]
    assert "Expected values must follow from the description" in messages[0]["content"]


def test_repair_prompt_feeds_back_failures_bounded():
    base = implement_messages(intent(), STUB, file_context(DOC, exclude="area"))
    failures = ["example at line 21: area(2, 3) returned 5, expected 6"] + [f"test_{i} failed: " + "x" * 500 for i in range(20)]
    messages = repair_messages(base, "def area(w, h=1.0):\n    return w + h\n", failures, secrets=[KEY])
    assert messages[:2] == base
    assert messages[2] == {"role": "assistant", "content": "```python\ndef area(w, h=1.0):\n    return w + h\n```"}
    feedback = messages[3]["content"]
    assert "- example at line 21: area(2, 3) returned 5, expected 6" in feedback
    assert "(more failures not shown)" in feedback and len(feedback) < 4000


def test_describe_example_styles():
    assert describe_example(Example("f(1)", None, 0)) == "f(1)  (returns None, prints nothing)"
    assert describe_example(Example("f(0)", "Traceback (most recent call last):\n ...\nZeroDivisionError: x", 0)) == \
        "f(0) raises ZeroDivisionError: x"
    assert describe_example(Example("show()", "a\nb", 0)) == "show() prints:\na\nb"
