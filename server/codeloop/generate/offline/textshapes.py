"""Texts the code under test spells out, for the text pools of the offline engine (host side,
used by :mod:`.analysis`): the two-mark sequences a lexer tells apart and the format
templates a docstring names (``PYYYY-MM-DDThh:mm:ss``), made into sample texts."""

from __future__ import annotations

import ast
import re

MAX_SEQUENCES = 12  # per callable


def mark_sequences(func: ast.AST) -> list[str]:
    """Two-character texts a lexer tells apart: under a test of the current character against
    a mark (``if c == '[':``), the marks compared or passed on inside that block (``if nxt ==
    ']'``, ``match_or_else('=', ...)``) make ``'[]'`` and ``'<='``: text that reaches the
    inner branches, which single marks and words do not."""
    out: list[str] = []
    for node in ast.walk(func):
        first = _mark_tested(node.test) if isinstance(node, ast.If) else None
        if first is None:
            continue
        for stmt in node.body:
            for n in ast.walk(stmt):
                parts = [n.left, *n.comparators] if isinstance(n, ast.Compare) else n.args if isinstance(n, ast.Call) else []
                for part in parts:
                    if _is_mark(part) and first + part.value not in out and len(out) < MAX_SEQUENCES:
                        out.append(first + part.value)
    return out


def _is_mark(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) == 1
            and not node.value.isalnum() and not node.value.isspace())


def _mark_tested(test: ast.AST) -> str | None:
    """``'['`` of ``x == '['`` (or ``'[' == x``)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        for side in (test.left, test.comparators[0]):
            if _is_mark(side):
                return side.value
    return None



# Format placeholders, longest first (``DDD`` before ``DD``), and the digits they become:
# a date that exists (2001-02-03, day 034 of the year) and a time (04:05:06).
_PLACEHOLDERS = (("YYYY", "2001"), ("DDD", "034"), ("MM", "02"), ("DD", "03"), ("hh", "04"), ("mm", "05"),
                 ("ss", "06"), ("nn", "12"))
_TEMPLATE = re.compile(r"(?<![\w%])-?[A-Za-z]*(?:YYYY|hh|nn)[A-Za-z0-9:.,+-]*")
MAX_TEMPLATES = 8


def doc_templates(doc: str) -> list[str]:
    """Sample texts for the format templates a docstring lists (``-PnnW``,
    ``PYYYY-MM-DDThh:mm:ss``): each placeholder replaced by digits of a valid date/time."""
    out: list[str] = []
    for token in _TEMPLATE.findall(doc):
        text, count = token, 0
        for mark, digits in _PLACEHOLDERS:
            count += text.count(mark)
            text = text.replace(mark, digits)
        # a lone placeholder (`the hh of`) is a word; a template has marks or several of them
        if text == token or re.search(r"[a-z]{2}", text) or (count < 2 and text.strip("+-").isdigit()):
            continue
        # an optional sign the template shows (`-PnnW`): without it first, then with it
        for variant in ([text[1:], text] if text.startswith(("-", "+")) else [text]):
            if variant not in out and len(out) < MAX_TEMPLATES:
                out.append(variant)
    return out
