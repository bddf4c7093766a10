"""``read_symbol {name}``: one definition with its signature, docstring, body and location."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeloop.tools.base import Tool, ToolContext, ToolResult, clip
from codeloop.tools.paths import read_text
from codeloop.tools.targets import resolve

MAX_LINES = 200


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    resolved = resolve(context, args["name"], "read_symbol", allow_module=True)
    s = resolved.symbol
    lines = read_text(resolved.where, "read_symbol").splitlines()
    start = s.line
    end = min(max(s.end_line, s.line), len(lines))
    if s.kind == "module":  # the module's head: its docstring and imports
        end = min(len(lines), 40)
    body = lines[start - 1:end]
    cut = ""
    if len(body) > MAX_LINES:
        cut = f"\n... {len(body) - MAX_LINES} more lines (read_file {s.path} start_line={start + MAX_LINES})"
        body = body[:MAX_LINES]
    numbered = "\n".join(f"{start + i:>5}  {text}" for i, text in enumerate(body))
    head = f"{s.kind} {s.qualified_name}{s.signature}\n{s.path}:{s.line}-{s.end_line}"
    # a function's or class's docstring is in its body; a module's head may be cut before it ends
    doc = f"\ndocstring: {s.doc.strip()}" if s.kind == "module" and s.doc and s.doc.strip() else ""
    text = clip(f"{head}{doc}\n{numbered}{cut}")
    data = {"path": s.path, "line": s.line, "end_line": s.end_line, "kind": s.kind, "name": s.qualified_name,
            "signature": s.signature, "doc": s.doc, "body": "\n".join(body)}
    return ToolResult(text, data)


TOOL = Tool(
    name="read_symbol",
    description="Show a definition's signature, docstring, body and location (pkg.mod.func or path.py::func).",
    parameters={"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "description": "pkg.mod.func, pkg.mod.Class.method, a unique name, "
                                                  "or path/to/mod.py::func"}}},
    run=run,
)
