"""Markdown fences around a model's code answer."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*$", re.S)


def strip_fences(text: str) -> str:
    """The code inside a single Markdown fence, or the text as it is."""
    match = _FENCE.match(text)
    return match.group(1) if match else text
