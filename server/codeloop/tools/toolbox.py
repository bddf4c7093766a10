"""The registered tools as the chat agent's :class:`~codeloop.services.agent.Toolbox`:
one workspace, its settings and model client, and (in the editor) the open documents.

One toolbox serves one conversation: it remembers the logged candidates of its
``implement`` results and links each proposal to those it brings into the file
(:mod:`codeloop.tools.reward`), so applying or discarding it marks the reward log."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codeloop.job import Job
from codeloop.services.agent import ToolReply, ToolSpec
from codeloop.tools import Tool, ToolContext, ToolError, tools
from codeloop.tools.propose_edit import Proposal
from codeloop.tools.reward import rows_brought_in


class WorkspaceToolbox:
    def __init__(self, root: str | Path, settings: Any = None, llm: Any = None, index_db: Path | None = None,
                 open_document: Callable[[Path], tuple[str, int] | None] | None = None,
                 registry: Mapping[str, Tool] | None = None) -> None:
        self.context = ToolContext(Path(root), settings, Job(), llm, index_db, open_document)
        self.tools = dict(registry) if registry is not None else tools()
        self.reward_rows: list[Mapping[str, Any]] = []  # logged implement candidates of this conversation

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
        data = result.data
        if isinstance(data, Mapping) and data.get("reward_rows"):
            self.reward_rows.extend(data["reward_rows"])
        if isinstance(data, Proposal) and self.reward_rows:
            data.log_ids = tuple(rows_brought_in(self.reward_rows, data.before, data.after))
        return ToolReply(result.text, data)


__all__ = ["WorkspaceToolbox"]
