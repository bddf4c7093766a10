"""What the user did with a candidate the ``implement`` tool made: the reward signal.

The implement service logs every candidate (``verified`` there means "passes the user's
checks": a plausible or unverified candidate is logged False). In the editor's own
implement path the offer carries its row and applying it marks the row accepted; here the
model carries the code from an ``implement`` result into a ``propose_edit``, so a
proposal is linked to the rows whose function it brings into the file, and applying it
(``codeloop.applyProposal``, ``codeloop ask --yes``, MCP ``write: true``) marks them
accepted, discarding it (or ``codeloop ask`` without ``--yes``) not accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

log = logging.getLogger("codeloop.tools")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _blocks(code: str) -> list[list[str]]:
    """The candidate's top-level definitions, each as its stripped lines; its imports left
    out (they are merged into the file's own, elsewhere)."""
    blocks: list[list[str]] = []
    for line in code.splitlines():
        if not line.strip() or line.startswith(("import ", "from ")):
            continue
        if not line[0].isspace() and not (blocks and blocks[-1][-1].startswith("@")):
            blocks.append([])
        if not blocks:
            blocks.append([])
        blocks[-1].append(line.strip())
    return blocks


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    if not needle or len(needle) > len(haystack):
        return False
    first = needle[0]
    return any(haystack[i] == first and list(haystack[i:i + len(needle)]) == list(needle)
               for i in range(len(haystack) - len(needle) + 1))


def rows_brought_in(rows: Iterable[Mapping[str, Any]], before: str, after: str) -> list[int]:
    """The log ids of ``rows`` (``{"log_id", "function"}``) whose code is in ``after`` (each
    top-level definition whole; indentation, blank lines and imports aside) and was not
    all in ``before``; one row per code text (the first: the best)."""
    old, new = _lines(before), _lines(after)
    ids: list[int] = []
    seen: set[str] = set()
    for row in rows:
        code, log_id = row.get("function"), row.get("log_id")
        if not code or not log_id or code in seen:
            continue
        seen.add(code)
        blocks = _blocks(code)
        if blocks and all(_contains(new, b) for b in blocks) and not all(_contains(old, b) for b in blocks):
            ids.append(int(log_id))
    return ids


def mark(log_ids: Sequence[int], accepted: bool, settings: Any = None, reward_log: Any = None) -> str | None:
    """Mark ``log_ids`` accepted or not in ``reward_log`` (else the log of ``settings``,
    opened and closed here). None when done (or nothing to do), else why not, one line."""
    if not log_ids:
        return None
    from codeloop.services.implement import open_reward_log

    owned = reward_log is None
    if owned:
        reward_log, warning = open_reward_log(settings)
        if warning:
            return f"reward log: {warning}"
    try:
        for log_id in log_ids:
            reward_log.mark_accepted(log_id, accepted)
    except Exception as exc:  # noqa: BLE001 - learning never breaks applying
        return f"reward log: cannot record acceptance: {exc}"
    finally:
        if owned:
            reward_log.close()
    return None


__all__ = ["mark", "rows_brought_in"]
