"""Helpers for the LLM engine tests (fixtures are in conftest.py)."""

from __future__ import annotations

import subprocess
import sys

KEY = "sk-gentests-secret-0123456789abcdefXYZ"


def set_order_under(seed: int, items: list[str]) -> list[str]:
    """The iteration order of a set of strings under PYTHONHASHSEED=seed (fresh interpreter)."""
    code = f"print(list({set(items)!r}))"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONHASHSEED": str(seed)},
                         capture_output=True, text=True, check=True).stdout
    return eval(out)  # noqa: S307 - a list of the literals above


def fence(code: str) -> str:
    return f"Here are the tests.\n\n```python\n{code.strip()}\n```\n"


def prompts(fake) -> list[str]:
    """The user messages the fake server received, in order."""
    return [m["content"] for r in fake.requests_to("/chat/completions") for m in r.body["messages"]
            if m["role"] == "user"]
