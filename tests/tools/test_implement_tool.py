"""The ``implement`` tool reports the evidence level and, for an ambiguous result, the
disagreement lines (the trust issue), in the text the model reads and in its data; on a
src-layout package written here, not the calc fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.config import GenerateSettings, ModelSettings, SandboxSettings, Settings
from codeloop.job import Job
from codeloop.tools import ToolContext, tools
from support.fake_openai import Reply
from support.llm import make

STUB = '''"""Arithmetic."""


def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...
'''
NO_EXAMPLES = '''def double(x: int) -> int:
    """Twice x."""
    ...
'''
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
PLUS2 = "```python\ndef double(x: int) -> int:\n    return x + 2\n```"  # passes double(2) == 4 too
WRONG = "```python\ndef double(x: int) -> int:\n    return x * 3\n```"  # fails the example
TESTS = "```python\nfrom arith.core import double\n\ndef test_zero():\n    assert double(0) == 0\n```"


def project(root: Path, stub: str) -> Path:
    for rel, text in {"pyproject.toml": "[project]\nname = 'arith'\n", "src/arith/__init__.py": "",
                      "src/arith/core.py": stub}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def implement(fake, root: Path, target: str):
    settings = Settings(model=ModelSettings(base_url=fake.base_url, name="fake-model", candidates=2, timeout=10.0,
                                            max_retries=0),
                        generate=GenerateSettings(repair_rounds=0, extra_samples=0),
                        sandbox=SandboxSettings(allow_levels=("A", "B")))
    return tools()["implement"].call({"target": target}, ToolContext(root, settings, Job(), make(fake)))


def test_ambiguous_says_so_with_the_disagreement(fake_openai, tmp_path: Path, needs_bwrap) -> None:
    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS)
    result = implement(fake_openai, project(tmp_path, STUB), "arith.core.double")
    lines = result.text.splitlines()
    assert lines[0] == "ambiguous: Implement double (ambiguous: 2 behaviours pass your checks; 1, 1 candidates)"
    assert lines[1] == "double(3): 6 (1 candidate) vs 5 (1)"
    assert any(line.startswith("Implement double as behaviour 2: double(3) -> 5") for line in lines)
    shown = result.data["disagreements"]
    assert result.data["level"] == "ambiguous" and shown[0] == "double(3): 6 (1 candidate) vs 5 (1)"
    assert lines[1:1 + len(shown)] == shown  # every disagreement line the model reads, in the data too
    assert len(result.data["reward_rows"]) == 2  # the best, then the other behaviour's candidate
    assert "Nothing was written" in result.text and "    ...\n" in (tmp_path / "src/arith/core.py").read_text()


def test_verified_by_the_example_through_a_path_target(fake_openai, tmp_path: Path, needs_bwrap) -> None:
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS)
    result = implement(fake_openai, project(tmp_path, STUB), "src/arith/core.py::double")
    assert result.text.startswith("verified: Implement double (verified): ")
    assert result.data["level"] == "verified" and result.data["reward_rows"]


def test_plausible_says_nothing_of_the_user_checks_it(fake_openai, tmp_path: Path, needs_bwrap) -> None:
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS)
    result = implement(fake_openai, project(tmp_path, NO_EXAMPLES), "arith.core.double")
    assert result.text.startswith("plausible: Implement double (plausible: ")
    assert "- nothing the user wrote to check it against: no examples, no tests of the function" in result.text
    assert result.data["level"] == "plausible"


def test_unverified_lists_what_failed(fake_openai, tmp_path: Path, needs_bwrap) -> None:
    fake_openai.add_chat(Reply.text(WRONG, WRONG), TESTS)
    result = implement(fake_openai, project(tmp_path, STUB), "arith.core.double")
    assert result.text.startswith("unverified: Implement double (unverified): ")
    assert any(line.startswith("- ") and "double(2)" in line for line in result.text.splitlines())
    assert result.data["level"] == "unverified"


@pytest.mark.parametrize("target", ["arith.core.triple", "src/arith/core.py::triple", "arith.nowhere.double"])
def test_an_unknown_target_is_one_line(fake_openai, tmp_path: Path, target: str) -> None:
    from codeloop.tools import ToolError

    with pytest.raises(ToolError) as info:
        implement(fake_openai, project(tmp_path, STUB), target)
    assert "\n" not in str(info.value) and fake_openai.chat_bodies() == []


