"""``list_intents {path?}``: what codeloop understood in the workspace or one file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codeloop.index.exclude import Exclusions
from codeloop.services.intents import IntentsInputError, IntentsRequest, find_intents
from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult, bounded
from codeloop.tools.paths import root_of, workspace_file


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    given = args.get("path") or "."
    root = root_of(context)
    path = root if given.strip() in (".", "") else workspace_file(context, given, "list_intents", must_exist=False,
                                                                  allow_dir=True).path
    try:
        outcome = find_intents(IntentsRequest(paths=[str(path)]), context.job)
    except IntentsInputError as exc:
        raise ToolError(f"list_intents: {exc}") from None
    data = [{"path": str(Path(file.path).resolve().relative_to(root)), "line": intent.span.start_line + 1,
             "kind": intent.kind, "name": intent.name, "summary": intent.summary}
            for file in outcome.files for intent in file.intents]
    exclusions = Exclusions(root)
    data = [d for d in data if exclusions.reason(d["path"]) is None]
    lines = [f"{d['path']}:{d['line']}: {d['kind']}: {d['name']}: {d['summary']}" for d in data]
    return ToolResult(bounded(lines, f"no intents in {given}"), data)


TOOL = Tool(
    name="list_intents",
    description="List the stubs to implement, describing comments, untested functions and TODOs.",
    parameters={"type": "object", "properties": {"path": {
        "type": "string", "description": "a file or folder relative to the workspace root (default: all of it)"}}},
    run=run,
)
