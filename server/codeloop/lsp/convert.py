"""Every lsprotocol object the features send, built here from core objects.

Pure functions, no server state: handlers call these on the results of core
functions and services. Positions in the core are already LSP positions (UTF-16
columns). What an intent shows (its diagnostic) comes from its kind's declaration in
:mod:`codeloop.workspace.kinds`, never from comparing kind names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lsprotocol import types

from codeloop.workspace import kinds
from codeloop.workspace.document import Document, utf16_len
from codeloop.workspace.model import Intent, Span, SyntaxIssue

SOURCE = "codeloop"
QUICK_FIX = types.CodeActionKind.QuickFix

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}

# -- positions and ranges ---------------------------------------------------------------


def position(line: int, col: int) -> types.Position:
    return types.Position(line=line, character=col)


def range_between(start_line: int, start_col: int, end_line: int, end_col: int) -> types.Range:
    return types.Range(start=position(start_line, start_col), end=position(end_line, end_col))


def range_of(span: Span) -> types.Range:
    return range_between(span.start_line, span.start_col, span.end_line, span.end_col)


def lines_range(first: int, end: int) -> types.Range:
    """Whole lines ``first`` up to (not including) ``end``: column 0 to column 0."""
    return range_between(first, 0, end, 0)


def line_range(line: int) -> types.Range:
    """One whole line (a negative line is the first)."""
    line = max(0, line)
    return lines_range(line, line + 1)


def whole_text_range(text: str) -> types.Range:
    """From the start to the end of ``text`` (for an edit replacing all of it)."""
    lines = text.split("\n")
    return range_between(0, 0, len(lines) - 1, utf16_len(lines[-1]))


def first_line_range(doc: Document, span: Span) -> types.Range:
    """The span's first line only (a diagnostic on a whole function would be noise)."""
    if span.end_line == span.start_line:
        return range_of(span)
    end = utf16_len(doc.line_text(span.start_line))
    return range_between(span.start_line, span.start_col, span.start_line, max(end, span.start_col))


def shifted(rng: types.Range, delta: int) -> types.Range:
    """``rng`` moved ``delta`` lines down, on one line (a diagnostic following its code)."""
    line = rng.start.line + delta
    return range_between(line, rng.start.character, line, rng.end.character)


# -- diagnostics ------------------------------------------------------------------------


def related(uri: str, line: int, message: str) -> types.DiagnosticRelatedInformation:
    """Related information at 0-based ``line`` of ``uri``."""
    return types.DiagnosticRelatedInformation(location=types.Location(uri=uri, range=line_range(line)),
                                              message=message)


def diagnostic(
    rng: types.Range, message: str, severity: str, code: str, *, source: str = SOURCE,
    data: Any = None, related_information: list[types.DiagnosticRelatedInformation] | None = None,
) -> types.Diagnostic:
    """A diagnostic; ``severity`` is ``error``, ``warning``, ``information`` or ``hint``."""
    return types.Diagnostic(range=rng, message=message, severity=SEVERITY.get(severity, types.DiagnosticSeverity.Error),
                            source=source, code=code, related_information=related_information, data=data)


def syntax_diagnostic(issue: SyntaxIssue) -> types.Diagnostic:
    return diagnostic(range_of(issue.span), issue.message, "error", "codeloop.syntax")


def intent_diagnostic(doc: Document, intent: Intent) -> types.Diagnostic | None:
    """The diagnostic the intent's kind declares (its ``notice``), or None."""
    kind = kinds.lookup(intent.kind)
    notice = kind.notice if kind is not None else None
    message = notice.message_for(intent) if notice is not None else None
    if notice is None or message is None:
        return None
    return diagnostic(first_line_range(doc, intent.span), message, notice.severity, notice.code,
                      data={"kind": intent.kind, "name": intent.name})


def diagnostics(
    doc: Document, issues: Iterable[SyntaxIssue], intents: Iterable[Intent]
) -> list[types.Diagnostic]:
    result = [syntax_diagnostic(issue) for issue in issues]
    for intent in intents:
        found = intent_diagnostic(doc, intent)
        if found is not None:
            result.append(found)
    return result


# -- edits ------------------------------------------------------------------------------


def text_document_edit(uri: str, version: int | None, rng: types.Range, new_text: str) -> types.TextDocumentEdit:
    """One edit of ``uri``, valid only for document ``version`` (None: whatever is there)."""
    return types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[types.TextEdit(range=rng, new_text=new_text)],
    )


def create_file(uri: str, overwrite: bool | None = None) -> types.CreateFile:
    """Create ``uri`` unless it exists already."""
    return types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=overwrite, ignore_if_exists=True))


def workspace_edit(*changes: types.TextDocumentEdit | types.CreateFile) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(document_changes=list(changes))


def line_edit(uri: str, version: int | None, edit: Any) -> types.WorkspaceEdit:
    """A core LineEdit (``start_line``, ``end_line``, ``new_text``) as a version-checked
    WorkspaceEdit (the client refuses it for another version)."""
    return workspace_edit(text_document_edit(uri, version, lines_range(edit.start_line, edit.end_line), edit.new_text))


def whole_file_edit(uri: str, version: int | None, old_text: str, new_text: str, *,
                    create: bool = False, overwrite: bool | None = None) -> types.WorkspaceEdit:
    """Replace all of ``old_text`` by ``new_text``; with ``create``, create the file first."""
    change = text_document_edit(uri, version, whole_text_range(old_text), new_text)
    return workspace_edit(create_file(uri, overwrite), change) if create else workspace_edit(change)


def edit_with_file(uri: str, version: int | None, edit: Any, other_uri: str, before: str | None,
                   after: str) -> types.WorkspaceEdit:
    """A core LineEdit of ``uri`` (version-checked) plus the whole new text of another
    file (created when ``before`` is None): an implementation and the test that goes with it."""
    changes: list[types.TextDocumentEdit | types.CreateFile] = [
        text_document_edit(uri, version, lines_range(edit.start_line, edit.end_line), edit.new_text)]
    if before is None:
        changes.append(create_file(other_uri))
    changes.append(text_document_edit(other_uri, None, whole_text_range(before or ""), after))
    return workspace_edit(*changes)


# -- code actions and commands ----------------------------------------------------------


def command(title: str, command_id: str, arguments: list[Any] | None = None) -> types.Command:
    return types.Command(title=title, command=command_id, arguments=arguments)


def command_arguments(uri: str, line: int, version: int | None) -> list[dict[str, Any]]:
    """The one argument every intent command takes: where, and which document version."""
    return [{"uri": uri, "line": line, "version": version}]


def code_action(
    title: str, kind: str, *, run: types.Command | None = None, edit: types.WorkspaceEdit | None = None,
    diagnostics: list[types.Diagnostic] | None = None, preferred: bool | None = None,
) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, command=run, edit=edit, diagnostics=diagnostics,
                            is_preferred=preferred)


def kind_allowed(kind: str, only: Sequence[str] | None) -> bool:
    """LSP ``context.only`` filtering: a kind matches a requested prefix (``refactor``)."""
    if not only:
        return True
    return any(kind == want or kind.startswith(want + ".") for want in only)


# -- inline completion ------------------------------------------------------------------


def inline_item(text: str, line: int, col_utf16: int, run: types.Command | None = None) -> types.InlineCompletionItem:
    """A completion replacing ``line`` from its start up to the cursor (``col_utf16``)."""
    return types.InlineCompletionItem(insert_text=text, range=range_between(line, 0, line, col_utf16), command=run)


# -- workspace index: symbols and locations ---------------------------------------------

SYMBOL_KINDS = {
    "module": types.SymbolKind.Module,
    "class": types.SymbolKind.Class,
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
}


def location(uri: str, line: int, start: int, end: int) -> types.Location:
    """A place on one line (0-based line, UTF-16 columns)."""
    return types.Location(uri=uri, range=range_between(line, start, line, end))


def symbol_information(name: str, kind: str, container: str, where: types.Location) -> types.SymbolInformation:
    """A workspace symbol: ``kind`` is the index's (module, class, function, method)."""
    return types.SymbolInformation(name=name, kind=SYMBOL_KINDS.get(kind, types.SymbolKind.Variable),
                                   location=where, container_name=container or None)
