"""The reward log as fine-tuning data (JSON Lines).

- ``sft``: one record per distinct verified answer,
  ``{"messages": [<the prompt's messages>..., {"role": "assistant", "content": <answer>}]}``
  (the chat format of OpenAI fine-tuning and TRL's ``SFTTrainer``);
- ``preference``: for a prompt that has both verified and failing answers,
  ``{"prompt": [<messages>], "chosen": [<assistant: verified>], "rejected": [<assistant: failing>]}``
  (TRL's conversational preference format, for DPO and friends).

Only verified answers are ever used as SFT targets or as ``chosen``. Files are
written atomically (a temporary file in the same directory, then a rename).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TextIO

from codeloop.fileio import atomic_writer
from codeloop.learn.log import Row

FORMATS = ("sft", "preference")
MAX_PAIRS_PER_PROMPT = 4


def answer_text(candidate: str) -> str:
    """The assistant message a model should have produced: the code, fenced."""
    return "```python\n" + candidate.rstrip("\n") + "\n```"


def _messages(prompt: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"role": str(m.get("role", "user")), "content": str(m.get("content", ""))} for m in prompt]


def sft_records(rows: Iterable[Row]) -> Iterator[dict[str, Any]]:
    """One SFT record per distinct (prompt, verified candidate)."""
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if not row.verified or not row.prompt:
            continue
        key = (row.prompt_hash, row.candidate)
        if key in seen:
            continue
        seen.add(key)
        yield {"messages": _messages(row.prompt) + [{"role": "assistant", "content": answer_text(row.candidate)}]}


def preference_records(rows: Iterable[Row], max_pairs: int = MAX_PAIRS_PER_PROMPT) -> Iterator[dict[str, Any]]:
    """Chosen (verified) / rejected (failing) pairs for the same prompt hash."""
    by_prompt: dict[str, tuple[list[Row], list[Row], list[Row]]] = {}
    for row in rows:
        if not row.prompt:
            continue
        prompt_rows, good, bad = by_prompt.setdefault(row.prompt_hash, ([], [], []))
        prompt_rows.append(row)
        target = good if row.verified else bad
        if all(r.candidate != row.candidate for r in target):
            target.append(row)
    for _hash, (prompt_rows, good, bad) in by_prompt.items():
        if not good or not bad:
            continue
        # A candidate text that verified somewhere is never used as "rejected".
        good_texts = {r.candidate for r in good}
        bad = [r for r in bad if r.candidate not in good_texts]
        pairs = ((g, b) for g in good for b in bad)
        for g, b in islice(pairs, max_pairs):
            yield {
                "prompt": _messages(prompt_rows[0].prompt),
                "chosen": [{"role": "assistant", "content": answer_text(g.candidate)}],
                "rejected": [{"role": "assistant", "content": answer_text(b.candidate)}],
            }


def records(rows: Iterable[Row], fmt: str) -> Iterator[dict[str, Any]]:
    if fmt == "sft":
        return sft_records(rows)
    if fmt == "preference":
        return preference_records(rows)
    raise ValueError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")


def write_jsonl(items: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for item in items:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_jsonl_atomic(items: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    """Write JSON lines to ``path`` atomically; returns the number of records.

    Nothing is left behind on failure: the temporary file is removed and ``path``
    keeps its old content (or stays absent).
    """
    with atomic_writer(path, newline="\n") as fh:
        n = write_jsonl(items, fh)
    return n
