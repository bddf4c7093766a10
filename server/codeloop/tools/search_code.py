"""``search_code {query, kind?, limit?}``: the workspace index's full-text search (bm25, fused with
vector search when embeddings are on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeloop.index.exclude import Exclusions
from codeloop.index.queries import KINDS
from codeloop.services.index import IndexInputError, SearchRequest, search_workspace
from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult
from codeloop.tools.paths import root_of

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
LOOK_AHEAD = 100  # results fetched to say how many more there are


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    query, kind = args["query"].strip(), args.get("kind")
    limit = args.get("limit", DEFAULT_LIMIT)
    if not query:
        raise ToolError("search_code: the query is empty")
    root = root_of(context)
    try:
        request = SearchRequest(str(root), query, kind, max(limit, LOOK_AHEAD), context.index_db)
        if context.settings is not None:  # vectors fused in when index.embeddings is "auto"
            from codeloop.services.embeddings import embedder_for

            request.embedder = embedder_for(context.settings)
        outcome = search_workspace(request, context.job)
    except IndexInputError as exc:
        raise ToolError(f"search_code: {exc}") from None
    exclusions = Exclusions(root)
    found = [s for s in outcome.results if exclusions.reason(s.path) is None]
    data = [{"path": s.path, "line": s.line, "end_line": s.end_line, "kind": s.kind, "name": s.qualified_name,
             "signature": s.signature, "summary": s.summary} for s in found]
    if not data:
        what = f" {kind}" if kind else ""
        return ToolResult(f"no{what} definitions match {query!r}", [])
    lines = [f"{d['path']}:{d['line']}: {d['kind']} {d['name']}{d['signature']}"
             + (f"  # {d['summary']}" if d["summary"] else "") for d in data[:limit]]
    if len(data) > limit:
        more = f"{len(data) - limit}" + ("+" if len(outcome.results) >= max(limit, LOOK_AHEAD) else "")
        lines.append(f"... {more} more results (raise limit, at most {MAX_LIMIT}, or narrow the query)")
    return ToolResult("\n".join(lines), data[:limit])


TOOL = Tool(
    name="search_code",
    description="Search the workspace's definitions (names, docstrings, code) and list the best matches.",
    parameters={"type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "description": "words or identifiers to look for"},
        "kind": {"type": "string", "enum": list(KINDS), "description": "only definitions of this kind"},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                  "description": f"results to show (default {DEFAULT_LIMIT})"},
    }},
    run=run,
)
