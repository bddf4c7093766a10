"""``read_file {path, start_line?, end_line?}``: a bounded window of a workspace file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult, clip
from codeloop.tools.paths import read_text, workspace_file

WINDOW = 300  # lines when no end is given, and at most


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    where = workspace_file(context, args["path"], "read_file")
    opened = context.open_document(where.path) if context.open_document is not None else None
    text = opened[0] if opened is not None else read_text(where, "read_file")
    lines = text.splitlines()
    if not lines:
        return ToolResult(f"{where.rel} is empty", {"path": where.rel, "lines": 0, "text": ""})
    start = args.get("start_line", 1)
    end = args.get("end_line", start + WINDOW - 1)
    if end < start:
        raise ToolError(f"read_file: end_line {end} is before start_line {start}")
    if start > len(lines):
        raise ToolError(f"read_file: {where.rel} has {len(lines)} lines; start_line {start} is past the end")
    end = min(end, len(lines), start + WINDOW - 1)
    shown = lines[start - 1:end]
    body = "\n".join(f"{start + i:>5}  {line}" for i, line in enumerate(shown))
    tail = f"\n... lines {end + 1}-{len(lines)} not shown (read_file start_line={end + 1})" if end < len(lines) else ""
    head = f"{where.rel} lines {start}-{end} of {len(lines)}" + (" (the editor's unsaved copy)" if opened else "")
    return ToolResult(clip(f"{head}\n{body}{tail}"),
                      {"path": where.rel, "start_line": start, "end_line": end, "lines": len(lines),
                       "text": "\n".join(shown)})


TOOL = Tool(
    name="read_file",
    description=f"Read a workspace file, or lines start_line..end_line of it (at most {WINDOW} lines at a time).",
    parameters={"type": "object", "required": ["path"], "properties": {
        "path": {"type": "string", "description": "relative to the workspace root"},
        "start_line": {"type": "integer", "minimum": 1, "description": "first line (1-based, default 1)"},
        "end_line": {"type": "integer", "minimum": 1, "description": "last line (inclusive)"},
    }},
    run=run,
)
