"""What an agent tool is: a name, a one-line description, a JSON schema, a read-only
flag and a function over the services that returns a bounded, summarised result.

The chat agent (:mod:`codeloop.tools.toolbox`) and the MCP server
(:mod:`codeloop.tools.mcp_server`) list :func:`codeloop.tools.tools` and call
:meth:`Tool.call`; a tool never writes to the user's files (``propose_edit`` proposes,
the MCP server writes only when asked with ``write: true``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeloop.job import Job

MAX_ITEMS = 50  # lines of a result before "N more results"
MAX_CHARS = 12_000  # characters of a result's text (about 3000 tokens)
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "boolean": (bool,), "object": (dict,), "array": (list,),
    "number": (int, float),
}


class ToolError(Exception):
    """Bad arguments or a failure the model can act on: one line, sent back to it."""


@dataclass(frozen=True)
class ToolContext:
    """Where a tool acts: the workspace root, the settings, and the job of the request."""

    root: Path
    settings: Any = None  # codeloop.config.Settings; None: the workspace's own
    job: Job = field(default_factory=Job)
    llm: Any = None  # a codeloop.model.client.ModelClient, or None (no model: implement says so)
    index_db: Path | None = None  # the index database; None: the user cache (tests pass their own)
    # (text, version) of a file open in the editor, or None: propose_edit diffs against
    # the editor's copy and the proposal is checked against that version when applied.
    open_document: Callable[[Path], tuple[str, int] | None] | None = None


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
    read_only: bool = True  # reads only (sandboxed runs included): runs without asking
    proposes: bool = False  # its result's data is a proposal for the user (propose_edit)

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
                article = "an" if str(wanted)[:1] in "aeiou" else "a"
                raise ToolError(f"{self.name}: argument {name!r} must be {article} {wanted}")
            allowed = props[name].get("enum")
            if allowed is not None and value not in allowed:
                raise ToolError(f"{self.name}: argument {name!r} must be one of {', '.join(map(str, allowed))}")
            low, high = props[name].get("minimum"), props[name].get("maximum")
            if (low is not None and value < low) or (high is not None and value > high):
                raise ToolError(f"{self.name}: argument {name!r} must be between {low} and {high}")
        return self.run(args, context)


def bounded(lines: Sequence[str], empty: str, limit: int = MAX_ITEMS) -> str:
    """``lines`` joined, at most ``limit`` of them plus an "N more results" line."""
    if not lines:
        return empty
    shown = list(lines[:limit])
    if len(lines) > limit:
        shown.append(f"... {len(lines) - limit} more results")
    return "\n".join(shown)


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a line end, saying how much was left out."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    cut = cut if cut > limit // 2 else limit
    rest = text[cut:].count("\n")
    return text[:cut].rstrip("\n") + f"\n... {rest} more lines ({len(text) - cut} characters) not shown"
