"""Translate workspace objects (intents, syntax issues, spans) into lsprotocol types.

Pure functions, no server state: handlers call these on the results of core
functions. Positions in the core are already LSP positions (UTF-16 columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lsprotocol import types

from codeloop.workspace.document import Document, utf16_len
from codeloop.workspace.model import Intent, Span, SyntaxIssue

SOURCE = "codeloop"

# Command ids (DESIGN.md "Interfaces other tools can rely on").
CMD_IMPLEMENT = "codeloop.implement"
CMD_GENERATE_TESTS = "codeloop.generateTests"
CMD_RUN_TESTS = "codeloop.runTests"
CMD_CANCEL = "codeloop.cancel"
CMD_OFFER_ACCEPTED = "codeloop.offerAccepted"  # run by the client after it applied an offer's edit
COMMANDS = (CMD_IMPLEMENT, CMD_GENERATE_TESTS, CMD_RUN_TESTS, CMD_CANCEL, CMD_OFFER_ACCEPTED)

# Code action kinds: writing code into the current buffer is a rewrite (shown in
# the lightbulb's "Rewrite" group); generating tests writes another file, which is
# what LSP calls a source action.
KIND_IMPLEMENT = "refactor.rewrite.codeloop"
KIND_GENERATE_TESTS = "source.codeloop.generateTests"
CODE_ACTION_KINDS = [KIND_IMPLEMENT, KIND_GENERATE_TESTS]

# Diagnostic codes per intent kind.
DIAGNOSTIC_CODES = {
    "implement": "codeloop.implement",
    "from_comment": "codeloop.fromComment",
    "generate_tests": "codeloop.untested",
    "todo": "codeloop.todo",
}


def position(line: int, col: int) -> types.Position:
    return types.Position(line=line, character=col)


def range_of(span: Span) -> types.Range:
    return types.Range(
        start=position(span.start_line, span.start_col), end=position(span.end_line, span.end_col)
    )


def first_line_range(doc: Document, span: Span) -> types.Range:
    """The span's first line only (a diagnostic on a whole function would be noise)."""
    if span.end_line == span.start_line:
        return range_of(span)
    end = utf16_len(doc.line_text(span.start_line))
    return types.Range(
        start=position(span.start_line, span.start_col),
        end=position(span.start_line, max(end, span.start_col)),
    )


# -- diagnostics ------------------------------------------------------------------------


def syntax_diagnostic(issue: SyntaxIssue) -> types.Diagnostic:
    return types.Diagnostic(
        range=range_of(issue.span),
        message=issue.message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code="codeloop.syntax",
    )


def intent_diagnostic(doc: Document, intent: Intent) -> types.Diagnostic | None:
    """Information for work codeloop can do (stubs, comments), hints for the rest."""
    if intent.kind == "implement":
        message, severity = f"{intent.name} is a stub: codeloop can implement it", types.DiagnosticSeverity.Information
    elif intent.kind == "from_comment":
        message, severity = f"This comment describes code to write: {intent.summary}", types.DiagnosticSeverity.Information
    elif intent.kind == "generate_tests":
        if not intent.untested:
            return None
        message, severity = f"{intent.name} has no tests", types.DiagnosticSeverity.Hint
    elif intent.kind == "todo":
        message, severity = intent.summary, types.DiagnosticSeverity.Hint
    else:
        return None
    return types.Diagnostic(
        range=first_line_range(doc, intent.span),
        message=message,
        severity=severity,
        source=SOURCE,
        code=DIAGNOSTIC_CODES[intent.kind],
        data={"kind": intent.kind, "name": intent.name},
    )


def diagnostics(
    doc: Document, issues: Iterable[SyntaxIssue], intents: Iterable[Intent]
) -> list[types.Diagnostic]:
    result = [syntax_diagnostic(issue) for issue in issues]
    for intent in intents:
        diagnostic = intent_diagnostic(doc, intent)
        if diagnostic is not None:
            result.append(diagnostic)
    return result


# -- code actions -----------------------------------------------------------------------


def command_arguments(uri: str, line: int, version: int | None) -> list[dict[str, Any]]:
    """The one argument every intent command takes: where, and which document version."""
    return [{"uri": uri, "line": line, "version": version}]


def intent_code_actions(intent: Intent, uri: str, version: int | None) -> list[types.CodeAction]:
    """The code actions an intent offers (none for TODOs yet)."""
    if intent.kind == "implement":
        title, command, kind = f"Implement {intent.name}", CMD_IMPLEMENT, KIND_IMPLEMENT
    elif intent.kind == "from_comment":
        title, command, kind = "Write code for this comment", CMD_IMPLEMENT, KIND_IMPLEMENT
    elif intent.kind == "generate_tests":
        title, command, kind = f"Generate tests for {intent.name}", CMD_GENERATE_TESTS, KIND_GENERATE_TESTS
    else:
        return []
    return [
        types.CodeAction(
            title=title,
            kind=kind,
            command=types.Command(
                title=title,
                command=command,
                arguments=command_arguments(uri, intent.span.start_line, version),
            ),
        )
    ]


def kind_allowed(kind: str, only: Sequence[str] | None) -> bool:
    """LSP ``context.only`` filtering: a kind matches a requested prefix (``refactor``)."""
    if not only:
        return True
    return any(kind == want or kind.startswith(want + ".") for want in only)


def code_actions(
    intents: Iterable[Intent], uri: str, version: int | None, only: Sequence[str] | None = None
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    seen: set[str] = set()
    for intent in intents:
        for action in intent_code_actions(intent, uri, version):
            if action.title not in seen and kind_allowed(str(action.kind), only):
                seen.add(action.title)
                actions.append(action)
    return actions
