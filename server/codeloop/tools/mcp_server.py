"""``codeloop mcp``: the agent tools for any MCP host, over stdio (the official ``mcp`` SDK).

The same tools as the chat agent (:func:`codeloop.tools.tools`) but ``propose_edit``: an
MCP host has its own way to edit files. ``search_code``, ``read_symbol``, ``read_file``,
``list_intents`` and ``run_tests`` are annotated read-only; ``implement`` and
``generate_tests`` take ``write: bool`` and, when it is true, write through the CLI's
path: atomically, and never over a file that changed while the tool ran (``implement``
writes a verified result only, as ``codeloop implement`` does). Every tool is listed even
without a model; ``implement`` then answers with an error result that says so.

A call runs in a worker thread with a :class:`~codeloop.job.Job`: its progress becomes
``notifications/progress`` (when the client sent a progress token), and a cancelled
request (``notifications/cancelled``) sets the job's cancel, which stops the sandbox run
or the model call. Tool failures are results with ``isError``. Nothing but the protocol
goes to stdout: logs go to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

from codeloop import __version__
from codeloop.job import Job
from codeloop.tools import Tool, ToolContext, ToolError, tools
from codeloop.tools.base import ToolResult
from codeloop.tools.reward import mark

log = logging.getLogger("codeloop.mcp")

EXCLUDED = ("propose_edit",)
WRITERS = ("implement", "generate_tests")
PROGRESS_EVERY = 0.2  # seconds between progress notifications of one call
WRITE = {"type": "boolean", "description": "write the result into the workspace (atomically; never over a file "
                                          "that changed meanwhile; implement writes verified code only)"}


def mcp_tools(registry: Mapping[str, Tool] | None = None) -> dict[str, Tool]:
    found = dict(registry) if registry is not None else tools()
    return {name: tool for name, tool in found.items() if name not in EXCLUDED}


def schema(tool: Tool) -> dict[str, Any]:
    params = {**tool.parameters, "properties": dict(tool.parameters.get("properties", {}))}
    if tool.name in WRITERS:
        params["properties"]["write"] = WRITE
    return params


def listing(registry: Mapping[str, Tool]) -> list[types.Tool]:
    return [types.Tool(name=t.name, description=t.description, input_schema=schema(t),
                       annotations=types.ToolAnnotations(read_only_hint=t.read_only,
                                                         destructive_hint=False if not t.read_only else None,
                                                         open_world_hint=False))
            for t in registry.values()]


# --- writing, as the CLI writes -------------------------------------------------------------


def _write_implementation(data: Mapping[str, Any], root: Path) -> str:
    from codeloop.fileio import atomic_writer

    if data.get("level") != "verified" or data.get("new_text") is None:
        return f"not written: the result is {data.get('level')}, and only verified code is written"
    path = root / data["path"]
    expected = data["document_text"]

    def unchanged() -> None:  # checked again just before the rename
        if path.read_text(encoding="utf-8") != expected:
            raise ToolError(f"{data['path']} changed while the implementation was made; nothing written")

    unchanged()
    with atomic_writer(path, before_replace=unchanged) as fh:
        fh.write(data["new_text"])
    return f"wrote the verified implementation into {data['path']}"


def _write_tests(data: Mapping[str, Any]) -> str:
    from codeloop.generate.merge import MergeError, write_merged

    if not data.get("tests") or not data.get("merged_text") or not data.get("test_path"):
        return "not written: no tests to write"
    try:
        write_merged(Path(data["test_path"]), data["merged_text"], data.get("fingerprint"))
    except MergeError as exc:
        raise ToolError(str(exc)) from None
    return f"wrote {len(data['tests'])} tests to {data['test_file']}"


def write_result(name: str, result: ToolResult, root: Path) -> str:
    """What writing ``result`` did, in one line (ToolError when the file changed meanwhile)."""
    if name == "implement":
        return _write_implementation(result.data, root)
    return _write_tests(result.data)


# --- the server ----------------------------------------------------------------------------


class CodeloopMCP:
    """The tools of one workspace for one MCP connection."""

    def __init__(self, root: Path, settings: Any = None, llm: Any = None, index_db: Path | None = None,
                 registry: Mapping[str, Tool] | None = None) -> None:
        self.root = root
        self.settings = settings
        self.llm = llm
        self.index_db = index_db
        self.registry = mcp_tools(registry)
        self.server: Server[Any] = Server("codeloop", version=__version__,
                                          instructions="codeloop's workspace tools: search, read, run tests in a "
                                                       "sandbox, and verified tests and implementations.",
                                          on_list_tools=self.list_tools, on_call_tool=self.call_tool)

    async def list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listing(self.registry))

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = self.registry.get(params.name)
        if tool is None:
            return _error(f"unknown tool {params.name!r}; the tools are: {', '.join(self.registry)}")
        args = dict(params.arguments or {})
        write = bool(args.pop("write", False)) if tool.name in WRITERS else False
        cancel = threading.Event()
        last = [0.0]
        loop = anyio.lowlevel.current_token()

        def report(message: str, fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY and fraction < 1.0:
                return
            last[0] = now
            # from whichever thread reports (the sandbox's output reader too); best effort: the
            # call may have ended or the client left
            with contextlib.suppress(Exception):
                anyio.from_thread.run(ctx.session.report_progress, max(0.0, min(fraction, 1.0)) * 100, 100.0,
                                      message, token=loop)

        job = Job(report, cancel)  # report_progress is a no-op when the client asked for none
        context = ToolContext(self.root, self.settings, job, self.llm, self.index_db)

        def run() -> str:
            result = tool.call(args, context)
            if write and result.data is not None and not cancel.is_set():
                done = write_result(tool.name, result, self.root)
                if tool.name == "implement":  # the reward signal, as codeloop implement records it
                    problem = mark([result.data["log_id"]] if result.data.get("log_id") else [],
                                   done.startswith("wrote "), self.settings)
                    if problem:
                        log.warning("%s", problem)
                return result.text + "\n" + done
            return result.text

        started = time.monotonic()
        try:
            text = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except ToolError as exc:
            log.info("mcp %s failed: %s", tool.name, exc)
            return _error(str(exc))
        except anyio.get_cancelled_exc_class():
            cancel.set()
            log.info("mcp %s cancelled after %.1f s", tool.name, time.monotonic() - started)
            raise
        except Exception as exc:  # noqa: BLE001 - a bug is an error result, the server goes on
            log.exception("mcp %s failed", tool.name)
            return _error(f"{tool.name} failed inside codeloop ({type(exc).__name__}: {exc}); see the log")
        log.info("mcp %s in %.2f s", tool.name, time.monotonic() - started)
        return types.CallToolResult(content=[types.TextContent(text=text)])

    async def serve_stdio(self) -> None:
        async with stdio_server() as (read_stream, write_stream):
            await self.server.run(read_stream, write_stream, self.server.create_initialization_options())


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def serve(root: Path) -> None:
    """Serve ``root``'s tools on stdin/stdout until the client goes."""
    from codeloop.config import settings_for_workspace
    from codeloop.model.cache import ClientCache

    settings, warnings = settings_for_workspace(root)
    for warning in warnings:
        log.warning("%s", warning)
    llm = ClientCache().configured(settings.model)
    anyio.run(CodeloopMCP(root, settings, llm).serve_stdio)


__all__ = ["CodeloopMCP", "listing", "mcp_tools", "schema", "serve", "write_result"]
