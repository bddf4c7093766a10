"""``todo``: ``TODO`` / ``FIXME`` comments, anywhere."""

from __future__ import annotations

from codeloop.workspace.kinds.base import Kind, Notice, Scan
from codeloop.workspace.model import Intent
from codeloop.workspace.nodes import TODO, one_line


def detect(scan: Scan) -> list[Intent]:
    out = []
    for c in scan.comments:
        m = TODO.search(c.text)
        if m is None:
            continue
        marker, rest = m.group(1), m.group(2).strip()
        out.append(
            Intent(
                kind=KIND.name,
                name=marker,
                summary=one_line(rest or marker, 100),
                span=scan.doc.node_span(c.node),
                path=scan.doc.path,
                comment=c.text,
            )
        )
    return out


KIND = Kind(
    name="todo",
    description="a TODO or FIXME comment",
    per_document=detect,
    notice=Notice("codeloop.todo", "hint", "{summary}"),
)
