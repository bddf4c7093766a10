"""What an agent tool is: a name, a one-line description, a JSON schema, a read-only
flag and a function over the services that returns a bounded, summarised result.

The chat agent and the MCP server (issue 14) list :data:`codeloop.tools.TOOLS` and call
:meth:`Tool.call`; a tool never writes to the user's files (``propose_edit`` proposes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeloop.job import Job

MAX_ITEMS = 50  # lines of a result before "N more results"
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "boolean": (bool,), "object": (dict,), "array": (list,),
}


class ToolError(Exception):
    """Bad arguments or a failure the model can act on: one line, sent back to it."""


@dataclass(frozen=True)
class ToolContext:
    """Where a tool acts: the workspace root, the settings, and the job of the request."""

    root: Path
    settings: Any = None
    job: Job = field(default_factory=Job)


@dataclass(frozen=True)
class ToolResult:
    text: str  # what the model reads: bounded, and an empty result says so in words
    data: Any = None  # the same as structured data, for clients that render it


Run = Callable[[Mapping[str, Any], ToolContext], ToolResult]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str  # one line
    parameters: Mapping[str, Any]  # JSON schema of the arguments (an object)
    run: Run
    read_only: bool = True

    def call(self, arguments: Mapping[str, Any] | None, context: ToolContext) -> ToolResult:
        """Check ``arguments`` against the schema's required names and types, then run."""
        args = dict(arguments or {})
        props: Mapping[str, Any] = self.parameters.get("properties", {})
        for name in self.parameters.get("required", ()):
            if name not in args:
                raise ToolError(f"{self.name}: missing argument {name!r}")
        for name, value in args.items():
            if name not in props:
                raise ToolError(f"{self.name}: unknown argument {name!r} (known: {', '.join(props) or 'none'})")
            wanted = props[name].get("type")
            types = _JSON_TYPES.get(wanted, (object,))
            if not isinstance(value, types) or (wanted == "integer" and isinstance(value, bool)):
                raise ToolError(f"{self.name}: argument {name!r} must be a {wanted}")
        return self.run(args, context)


def bounded(lines: Sequence[str], empty: str, limit: int = MAX_ITEMS) -> str:
    """``lines`` joined, at most ``limit`` of them plus an "N more results" line."""
    if not lines:
        return empty
    shown = list(lines[:limit])
    if len(lines) > limit:
        shown.append(f"... {len(lines) - limit} more results")
    return "\n".join(shown)
