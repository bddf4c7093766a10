"""``implement {target}``: candidates for a stub, verified in the sandbox, with their
evidence level (verified / ambiguous / plausible / unverified). Nothing is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeloop.tools.base import Tool, ToolContext, ToolError, ToolResult, bounded, clip
from codeloop.tools.paths import read_text, root_of
from codeloop.tools.settings import settings_of
from codeloop.tools.targets import resolve

NO_MODEL = ("implement: no model is configured, so nothing can be implemented (set codeloop.model.name and "
            "codeloop.model.baseUrl, or CODELOOP_MODEL and OPENAI_BASE_URL); the other tools work without one")


def run(args: Mapping[str, Any], context: ToolContext) -> ToolResult:
    from codeloop.services.implement import ImplementError, ImplementRequest, NoIntentError, implement

    settings = settings_of(context)
    if not settings.model.configured:
        raise ToolError(NO_MODEL)
    resolved = resolve(context, args["target"], "implement")
    where = resolved.where
    opened = context.open_document(where.path) if context.open_document is not None else None
    text = opened[0] if opened is not None else read_text(where, "implement")
    request = ImplementRequest(path=str(where.path), document_text=text, workspace=str(root_of(context)),
                               settings=settings, line=resolved.symbol.line - 1, llm=context.llm)
    try:
        outcome = implement(request, context.job)
    except NoIntentError:
        raise ToolError(f"implement: {args['target']} is not a stub (a body of ..., pass or raise "
                        "NotImplementedError) nor a describing comment; propose_edit changes working code") from None
    except ImplementError as exc:
        raise ToolError(f"implement: {exc}") from None
    try:
        if outcome.error_kind == "not_configured":
            raise ToolError(NO_MODEL)
        if outcome.best is None:
            why = outcome.error or "no candidate passed extraction and the audit"
            failed = bounded([f.splitlines()[0] for f in outcome.failed if f], "", limit=8)
            raise ToolError(f"implement: no usable candidate for {resolved.symbol.qualified_name}: {why}"
                            + (f"\n{failed}" if failed else ""))
        lines = [f"{outcome.level}: {outcome.title}"]
        if outcome.level == "ambiguous":
            lines += outcome.disagreement_lines()
            lines += [outcome.behaviour_title(b.number) for b in outcome.behaviours]
        elif outcome.level != "verified":
            lines += [f"- {f.splitlines()[0]}" for f in outcome.failed[:8] if f]
        lines += ["```python", (outcome.best.code or outcome.best.answer).rstrip(), "```",
                  f"Nothing was written. propose_edit on {where.rel} offers it to the user."]
        data = {"target": resolved.spec, "path": where.rel, "level": outcome.level, "title": outcome.title,
                "evidence": outcome.evidence, "disagreements": outcome.disagreement_lines(),
                "function": outcome.best.code, "new_text": outcome.new_text, "document_text": text,
                "version": opened[1] if opened is not None else None, "log_id": outcome.best.log_id,
                "reward_rows": _reward_rows(outcome)}
        return ToolResult(clip("\n".join(lines)), data)
    finally:
        outcome.close()


def _reward_rows(outcome: Any) -> list[dict[str, Any]]:
    """The logged candidates a proposal may bring in (codeloop.tools.reward): the best,
    then each behaviour's (an ambiguous result)."""
    picked = {c.log_id: c for c in [outcome.best] + [outcome.pick(b.number) for b in outcome.behaviours]
              if c is not None and c.log_id and c.code}
    return [{"log_id": c.log_id, "function": c.code} for c in picked.values()]


TOOL = Tool(
    name="implement",
    description="Implement a stub with candidates verified in the sandbox; says the evidence level; writes nothing.",
    parameters={"type": "object", "required": ["target"], "properties": {
        "target": {"type": "string", "description": "pkg.mod.func, pkg.mod.Class.method or path/to/mod.py::func"}}},
    run=run,
    read_only=False,  # sandboxed, writes nothing here; the MCP server's write: true writes
)
