"""textDocument/codeAction: the intents on the requested lines, as commands.

``Implement <name>`` / ``Write code for this comment`` run ``codeloop.implement``;
``Generate tests for <name>`` runs ``codeloop.generateTests``. Each carries
``{"uri", "line", "version"}`` so the command can refuse a stale document.
"""

from __future__ import annotations

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.errors import invalid_params
from codeloop.lsp.server import CodeloopServer


def register(server: CodeloopServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=list(convert.CODE_ACTION_KINDS), resolve_provider=False),
    )
    def code_action(ls: CodeloopServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = ls.document(params.text_document.uri)
        first, last = check_range(params.range, doc.line_count)
        found = ls.intents_on_lines(doc, first, last)
        return convert.code_actions(found, params.text_document.uri, doc.version, params.context.only)


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
