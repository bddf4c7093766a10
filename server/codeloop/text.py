"""Small text helpers shared by every layer (messages, summaries)."""

from __future__ import annotations


def first_line(text: object, limit: int | None = None) -> str:
    """The first non-blank line of ``text``, stripped; "" for None or blank text.

    With ``limit``, a longer line is cut to ``limit`` characters ending in ``...``
    (messages that go into one-line reports). Anything that is not a str is read
    through ``str()`` (exceptions).
    """
    value = "" if text is None else str(text)
    line = next((ln.strip() for ln in value.splitlines() if ln.strip()), "")
    if limit is not None and len(line) > limit:
        return line[: max(limit - 3, 0)] + "..."
    return line
