"""Unit tests for codeloop.generate.completion: triggers, prefix/suffix, post-processing, cache."""

from __future__ import annotations

import threading

from codeloop.generate import completion as core
from codeloop.model.client import Candidate

DOC = (
    "import math\n"
    "\n"
    "def add(a, b):\n"
    '    """Add.\n'
    "\n"
    "    >>> add(1, 2)\n"
    "    3\n"
    '    """\n'
    "    \n"
    "\n"
    "# area of a circle\n"
    "\n"
    "x = 1\n"
)


def test_trigger_after_a_def_line():
    ctx = core.extract("def f(x):\n    \n", 1, 4)
    assert ctx.trigger == core.Trigger("def", 0, 0)
    assert ctx.prefix == "def f(x):\n    " and ctx.suffix == "\n"


def test_trigger_in_an_empty_body_after_the_docstring():
    ctx = core.extract(DOC, 8, 4)
    assert ctx.trigger is not None and ctx.trigger.kind == "body" and ctx.trigger.line == 2


def test_trigger_after_a_comment_line():
    ctx = core.extract(DOC, 11, 0)
    assert ctx.trigger is not None and ctx.trigger.kind == "comment" and ctx.trigger.line == 10


def test_no_trigger_mid_line_or_after_code():
    assert core.extract(DOC, 12, 3).trigger is None
    assert core.extract("x = 1\n\n", 1, 0).trigger is None
    assert core.extract("#!/usr/bin/env python\n\n", 1, 0).trigger is None


def test_one_line_docstring_body():
    ctx = core.extract('def f():\n    """Doc."""\n    \n', 2, 4)
    assert ctx.trigger is not None and ctx.trigger.kind == "body"


def test_prefix_and_suffix_are_bounded():
    text = "x = 1\n" * 5000 + "# do it\n\n" + "y = 2\n" * 5000
    ctx = core.extract(text, 5001, 0)
    assert ctx.trigger is not None
    assert ctx.prefix.count("\n") <= core.MAX_PREFIX_LINES and len(ctx.prefix) <= core.MAX_PREFIX_CHARS
    assert ctx.suffix.count("\n") <= core.MAX_SUFFIX_LINES + 1 and len(ctx.suffix) <= core.MAX_SUFFIX_CHARS
    assert ctx.prefix.endswith("# do it\n")


def test_postprocess_keeps_the_body_and_stops_at_dedent():
    ctx = core.extract(DOC, 8, 4)
    assert core.postprocess("return a + b\n\nprint(add(1, 2))\n", ctx) == "    return a + b"


def test_postprocess_strips_fences_and_keeps_full_indentation_from_chat():
    ctx = core.extract(DOC, 8, 4)
    raw = "```python\n    total = a + b\n    return total\n```\nThat adds."
    assert core.postprocess(raw, ctx) == "    total = a + b\n    return total"


def test_postprocess_comment_at_top_level_keeps_one_block():
    ctx = core.extract("# add two numbers\n\n", 1, 0)
    raw = "def add(a, b):\n    return a + b\n\ndef other():\n    pass\n"
    assert core.postprocess(raw, ctx) == "def add(a, b):\n    return a + b"


def test_postprocess_does_not_repeat_the_suffix():
    text = "# sum the list\n\nprint(total)\n"
    ctx = core.extract(text, 1, 0)
    raw = "total = sum(items)\nprint(total)\n"
    assert core.postprocess(raw, ctx) == "total = sum(items)"


def test_postprocess_empty_answers():
    ctx = core.extract(DOC, 8, 4)
    assert core.postprocess("", ctx) == ""
    assert core.postprocess("\n\n  \n", ctx) == ""
    assert core.postprocess("```\n```", ctx) == ""


def test_cache_key_changes_with_prefix_and_suffix():
    a = core.cache_key("u", core.extract(DOC, 8, 4))
    assert a == core.cache_key("u", core.extract(DOC, 8, 4))
    assert a != core.cache_key("u", core.extract(DOC.replace("x = 1", "x = 2"), 8, 4))
    assert a != core.cache_key("v", core.extract(DOC, 8, 4))


def test_offer_cache_is_lru_and_forgets_a_uri():
    cache = core.OfferCache(size=2)
    cache.put(("a", "1", "1"), core.Offer("x"))
    cache.put(("b", "1", "1"), core.Offer("y"))
    assert cache.get(("a", "1", "1")).text == "x"
    cache.put(("c", "1", "1"), core.Offer("z"))
    assert cache.get(("b", "1", "1")) is None and len(cache) == 2
    cache.forget("a")
    assert cache.get(("a", "1", "1")) is None


class FakeLLM:
    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[dict] = []

    def complete(self, prefix, suffix="", **kwargs):
        self.calls.append({"prefix": prefix, "suffix": suffix, **kwargs})
        return Candidate(self.text, "stop", "fim")


def test_complete_sends_prefix_and_suffix_and_postprocesses():
    llm = FakeLLM("return a + b\n")
    ctx = core.extract(DOC, 8, 4)
    cancel = threading.Event()
    assert core.complete(llm, ctx, cancel) == "    return a + b"
    (call,) = llm.calls
    assert call["prefix"] == ctx.prefix and call["suffix"] == ctx.suffix and call["cancel"] is cancel
