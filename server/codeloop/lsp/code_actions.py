"""textDocument/codeAction: the intents on the requested lines, then every registered provider.

``Implement <name>`` / ``Write code for this comment`` run ``codeloop.implement``;
``Generate tests for <name>`` runs ``codeloop.generateTests``. Each carries
``{"uri", "line", "version"}`` so the command can refuse a stale document. Which action
an intent offers is its kind's :attr:`~codeloop.workspace.kinds.Kind.offer` in the
kinds table, so a new kind brings its action with it.

Other features add their actions (implement offers with evidence, probable-bug quick
fixes) by appending a provider to ``server.code_action_providers``: a callable
``(server, params, document) -> list[CodeAction]``. A provider that fails is logged and
skipped; the other actions still go out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.errors import invalid_params
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace import kinds
from codeloop.workspace.model import Intent

log = logging.getLogger(__name__)


def register(server: CodeloopServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[*offered_action_kinds(), types.CodeActionKind.QuickFix], resolve_provider=False
        ),
    )
    def code_action(ls: CodeloopServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = ls.document(params.text_document.uri)
        first, last = check_range(params.range, doc.line_count)
        found = ls.intents_on_lines(doc, first, last)
        actions = intent_actions(found, params.text_document.uri, doc.version, params.context.only)
        for provider in list(ls.code_action_providers):
            try:
                actions.extend(provider(ls, params, doc))
            except Exception:  # noqa: BLE001 - the other actions still go out
                log.exception("code action provider %s failed", getattr(provider, "__qualname__", provider))
        return actions


def offered_action_kinds() -> list[str]:
    """The code-action kinds the registered intent kinds offer, each once, in table order."""
    return list(dict.fromkeys(k.offer.action_kind for k in kinds.KINDS.values() if k.offer is not None))


def intent_actions(
    intents: Iterable[Intent], uri: str, version: int | None, only: Sequence[str] | None
) -> list[types.CodeAction]:
    """One action per intent whose kind offers one (the table says which), each title once."""
    actions: list[types.CodeAction] = []
    for intent in intents:
        kind = kinds.lookup(intent.kind)
        offer = kind.offer if kind is not None else None
        if offer is None or not convert.kind_allowed(offer.action_kind, only):
            continue
        title = offer.title_for(intent)
        if any(a.title == title for a in actions):
            continue
        arguments = convert.command_arguments(uri, intent.span.start_line, version)
        actions.append(convert.code_action(title, offer.action_kind,
                                           run=convert.command(title, offer.command, arguments)))
    return actions


def check_range(rng: types.Range, line_count: int) -> tuple[int, int]:
    """The requested lines; an inverted range or one past the end is InvalidParams."""
    start, end = rng.start, rng.end
    if (start.line, start.character) > (end.line, end.character):
        raise invalid_params(
            f"codeloop: range start {start.line}:{start.character} is after its end {end.line}:{end.character}"
        )
    if start.line > line_count:  # line_count itself is the end-of-document position
        raise invalid_params(
            f"codeloop: line {start.line} is past the end of the document ({line_count} lines)"
        )
    return start.line, min(end.line, max(line_count - 1, 0))
