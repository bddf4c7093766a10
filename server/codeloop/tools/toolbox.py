"""The registered tools as the chat agent's :class:`~codeloop.services.agent.Toolbox`:
one workspace, its settings and model client, and (in the editor) the open documents."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codeloop.job import Job
from codeloop.services.agent import ToolReply, ToolSpec
from codeloop.tools import Tool, ToolContext, ToolError, tools


class WorkspaceToolbox:
    def __init__(self, root: str | Path, settings: Any = None, llm: Any = None, index_db: Path | None = None,
                 open_document: Callable[[Path], tuple[str, int] | None] | None = None,
                 registry: Mapping[str, Tool] | None = None) -> None:
        self.context = ToolContext(Path(root), settings, Job(), llm, index_db, open_document)
        self.tools = dict(registry) if registry is not None else tools()

    def specs(self) -> Sequence[ToolSpec]:
        return [ToolSpec(t.name, t.description, t.parameters, t.read_only, t.proposes) for t in self.tools.values()]

    def call(self, name: str, arguments: Mapping[str, Any], job: Job) -> ToolReply:
        tool = self.tools.get(name)
        if tool is None:
            return ToolReply(f"error: unknown tool {name!r}", error=True)
        try:
            result = tool.call(arguments, dataclasses.replace(self.context, job=job))
        except ToolError as exc:
            return ToolReply(f"error: {exc}", error=True)
        return ToolReply(result.text, result.data)


__all__ = ["WorkspaceToolbox"]
