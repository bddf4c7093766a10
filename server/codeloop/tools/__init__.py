"""Agent tools: thin adapters over the services, for the chat agent and the MCP server.

One module per tool, each exposing ``TOOL`` (a :class:`~codeloop.tools.base.Tool`),
and one line per tool in :data:`TOOL_MODULES`. :func:`tools` loads them in that order.
"""

from __future__ import annotations

import importlib

from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult

TOOL_MODULES = [
    "codeloop.tools.search_code",
    "codeloop.tools.read_symbol",
    "codeloop.tools.read_file",
    "codeloop.tools.list_intents",
    "codeloop.tools.run_tests",
    "codeloop.tools.generate_tests",
    "codeloop.tools.implement",
    "codeloop.tools.propose_edit",
]


def tools() -> dict[str, Tool]:
    """Every registered tool by name."""
    found: dict[str, Tool] = {}
    for module in TOOL_MODULES:
        tool = importlib.import_module(module).TOOL
        if tool.name in found:
            raise ValueError(f"two tools are named {tool.name!r}")
        found[tool.name] = tool
    return found


__all__ = ["TOOL_MODULES", "Tool", "ToolContext", "ToolError", "ToolResult", "tools"]
