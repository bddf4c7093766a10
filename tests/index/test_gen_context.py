"""Context for generation from the index: implement's prompt (recorded by the fake OpenAI
server, through the real SDK) carries what the target's description names and its callers
from other files, within the budget; generate-tests' LLM prompt the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.config import GenerateSettings, ModelSettings, Settings
from codeloop.generate.llm_tests import PromptParts, build_messages
from codeloop.generate.targets import resolve_target
from codeloop.index.repomap import estimate_tokens
from codeloop.learn.log import DisabledLog
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig
from codeloop.services.gen_context import HEADER, gather, related_context
from codeloop.services.gen_tests import index_context
from codeloop.services.implement import implement_intent
from codeloop.workspace.document import Document
from codeloop.workspace.intents import find_intents
from codeloop_sandbox import Policy
from support.fake_openai import Reply

KEY = "sk-context-test-0123456789abcdef"
PAIRS = '''"""Pairs of numbers."""
from helpers import pair_sum


def add_pairs(xs: list[int]) -> list[int]:
    """Apply pair_sum to adjacent items: the 1st and 2nd, the 3rd and 4th, ...

    >>> add_pairs([1, 2, 3, 4])
    [3, 7]
    """
    ...
'''
PROJECT = {
    "pyproject.toml": "[project]\nname = 'pairs'\n",
    "pairs.py": PAIRS,
    "helpers.py": 'def pair_sum(a: int, b: int) -> int:\n    """The sum of one pair."""\n    return a + b\n\n\n'
                  'def unrelated_thing(z):\n    return z\n',
    "app.py": "from pairs import add_pairs\n\n\ndef report(values):\n    \"\"\"Print the pair sums.\"\"\"\n"
              "    print(add_pairs(values))\n",
}
RIGHT = "```python\ndef add_pairs(xs: list[int]) -> list[int]:\n    return [pair_sum(a, b) for a, b in zip(xs[::2], xs[1::2])]\n```\n"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch, write_tree) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return write_tree(tmp_path / "ws", PROJECT)


def implement(fake, ws: Path, tokens: int):
    text = (ws / "pairs.py").read_text()
    intent = next(i for i in find_intents(Document((ws / "pairs.py").as_uri(), text)) if i.name == "add_pairs")
    llm = OpenAIClient(ModelConfig(base_url=fake.base_url, name="fake-model", timeout=10, max_retries=0), api_key=KEY)
    settings = Settings(model=ModelSettings(candidates=1),
                        generate=GenerateSettings(repair_rounds=0, extra_samples=0, context_tokens=tokens))
    try:
        return implement_intent(intent, text, ws, llm, Policy(timeout=60, allow_levels=("A", "B")), settings,
                                path=ws / "pairs.py", log=DisabledLog())
    finally:
        llm.close()


def test_implement_prompt_has_the_related_definitions(fake_openai, ws: Path, bwrap_sandbox):
    fake_openai.add_chat(Reply.text(RIGHT), "```python\ndef test_nothing():\n    pass\n```")
    result = implement(fake_openai, ws, 600)
    assert result.verified, result.failed
    prompt = fake_openai.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
    assert HEADER in prompt
    block = prompt[prompt.index(HEADER):]
    # named in the description, with its docstring; the caller in another file; not what is unrelated
    assert "helpers.py:1: def helpers.pair_sum(a: int, b: int) -> int  # named in its description" in block
    assert '"""The sum of one pair."""' in block
    assert "app.py:4: def app.report(values)  # calls it" in block
    assert "unrelated_thing" not in block.split("Repo map")[0]


def test_a_zero_budget_leaves_the_prompt_as_it_was(fake_openai, ws: Path, bwrap_sandbox):
    fake_openai.add_chat(Reply.text(RIGHT), "```python\ndef test_nothing():\n    pass\n```")
    implement(fake_openai, ws, 0)
    prompt = fake_openai.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
    assert HEADER not in prompt


def test_the_context_fits_its_budget_and_ranks_the_direct_facts_first(ws: Path):
    for tokens in (40, 60, 120, 600):
        ctx = related_context(ws, "pairs.py", "add_pairs", 5, "Apply pair_sum to adjacent items", tokens)
        assert ctx.tokens <= tokens
    full = related_context(ws, "pairs.py", "add_pairs", 5, "Apply pair_sum to adjacent items", 600)
    assert full.shown[:2] == ["helpers.pair_sum", "app.report"]  # what it names, then its callers
    small = related_context(ws, "pairs.py", "add_pairs", 5, "Apply pair_sum to adjacent items", 60)
    assert small.shown and set(small.shown) < set(full.shown)
    assert estimate_tokens(small.text) == small.tokens
    assert related_context(ws, "../elsewhere.py", "x").text == ""  # outside the workspace: nothing


def test_generate_tests_prompt_gets_the_callees_from_the_index(ws: Path):
    target = resolve_target("app.py::report", ws)
    context = index_context(target, Settings())
    assert "def pairs.add_pairs(xs: list[int]) -> list[int]  # called by it" in context
    parts = PromptParts(module="app", rel_file="app.py", import_hint="from app import report", code="...",
                        signatures=[], style="", source_lines=[], related=context)
    prompt = build_messages(parts, [], [], [], [], ())[-1]["content"]
    assert HEADER in prompt and "pairs.add_pairs" in prompt


def test_gather_without_the_target_in_the_index_still_searches(tmp_path: Path, make_index, write_tree):
    root = write_tree(tmp_path / "p", {"a.py": "def parse_header(line):\n    \"\"\"Parse one header line.\"\"\"\n",
                                       "b.py": "def parse_headers(text):\n    pass\n"})
    ix = make_index(root)
    ix.sync(workers=0)
    ctx = gather(ix.conn, "new.py", "parse_header_line", None, "", 600)
    assert ctx.shown[:2] == ["a.parse_header", "b.parse_headers"] or set(ctx.shown[:2]) == {
        "a.parse_header", "b.parse_headers"}
