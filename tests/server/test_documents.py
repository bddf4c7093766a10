"""Text synchronisation (open/change/close) and the diagnostics it publishes."""

from __future__ import annotations

from lsprotocol import types

from support.lsp_client import change_document, open_document, titles, wait_for, wait_for_diagnostics

STUB = 'def area(w, h):\n    """Area of a rectangle."""\n    ...\n'


async def test_open_publishes_intent_diagnostics(client, workspace):
    uri = open_document(client, workspace / "shapes.py", STUB)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: len(d) > 0)
    implement = [d for d in diagnostics if d.code == "codeloop.implement"]
    assert len(implement) == 1
    assert implement[0].severity == types.DiagnosticSeverity.Information
    assert implement[0].range.start.line == 0
    assert implement[0].range.end.line == 0
    assert "area" in implement[0].message


async def test_syntax_error_is_an_error_diagnostic(client, workspace):
    uri = open_document(client, workspace / "broken.py", "def f(:\n    pass\n")
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: any(x.code == "codeloop.syntax" for x in d))
    errors = [d for d in diagnostics if d.code == "codeloop.syntax"]
    assert errors[0].severity == types.DiagnosticSeverity.Error
    assert errors[0].range.start.line == 0


async def test_incremental_change_updates_actions_and_diagnostics(client, workspace):
    uri = open_document(client, workspace / "shapes.py", STUB)
    assert "Implement area" in await titles(client, uri, 0)
    # Replace the `...` body with a real return: the stub is gone.
    change_document(client, uri, 2, [((2, 4, 2, 7), "return w * h")])
    assert "Implement area" not in await titles(client, uri, 0)
    await wait_for_diagnostics(client, uri, lambda d: not any(x.code == "codeloop.implement" for x in d))
    # Rename with a non-ASCII name typed after an emoji comment (UTF-16 columns).
    change_document(client, uri, 3, [((0, 0, 0, 0), "# 📐 shapes\n")])
    change_document(client, uri, 4, [((1, 4, 1, 8), "aréa")])
    assert "Generate tests for aréa" in await titles(client, uri, 1)


async def test_several_changes_in_one_notification_apply_in_order(client, workspace):
    uri = open_document(client, workspace / "m.py", "x = 1\n")
    change_document(client, uri, 2, [((0, 0, 0, 0), "def g():\n    pass\n"), ((0, 4, 0, 5), "h")])
    assert "Implement h" in await titles(client, uri, 0)


async def test_whole_document_change(client, workspace):
    uri = open_document(client, workspace / "m.py", "x = 1\n")
    assert await titles(client, uri, 0) == []
    change_document(client, uri, 2, [(None, "def fresh():\n    pass\n")])
    assert "Implement fresh" in await titles(client, uri, 0)


async def test_close_clears_diagnostics_and_falls_back_to_disk(client, workspace):
    path = workspace / "on_disk.py"
    path.write_text("def saved():\n    return 1\n", encoding="utf-8")
    uri = open_document(client, path, STUB)
    await wait_for_diagnostics(client, uri, lambda d: len(d) > 0)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_for(lambda: not client.diagnostics.get(uri), what=f"cleared diagnostics {client.diagnostics}")
    # Not open any more: code actions come from the file on disk.
    assert await titles(client, uri, 0) == ["Generate tests for saved"]


async def test_untested_functions_and_todos_are_hints(client, workspace):
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_calc.py").write_text(
        "from calc import used\n\n\ndef test_used():\n    assert used() == 1\n", encoding="utf-8"
    )
    text = "def used():\n    return 1\n\n\ndef unused():\n    # TODO: make it useful\n    return 2\n"
    uri = open_document(client, workspace / "calc.py", text)

    def ready(diagnostics) -> bool:
        return {d.code for d in diagnostics} >= {"codeloop.untested", "codeloop.todo"}

    diagnostics = await wait_for_diagnostics(client, uri, ready)
    untested = [d for d in diagnostics if d.code == "codeloop.untested"]
    assert [d.message for d in untested] == ["unused has no tests"]
    assert untested[0].severity == types.DiagnosticSeverity.Hint
    assert untested[0].range.start.line == 4
    todo = [d for d in diagnostics if d.code == "codeloop.todo"]
    assert todo[0].severity == types.DiagnosticSeverity.Hint
    assert todo[0].range.start.line == 5


async def test_a_new_test_file_on_disk_clears_the_untested_hint(client, workspace):
    uri = open_document(client, workspace / "calc.py", "def lonely():\n    return 1\n")
    await wait_for_diagnostics(client, uri, lambda d: any(x.code == "codeloop.untested" for x in d))
    test_file = workspace / "test_calc.py"
    test_file.write_text("from calc import lonely\n\n\ndef test_lonely():\n    assert lonely() == 1\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=test_file.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    await wait_for_diagnostics(client, uri, lambda d: not any(x.code == "codeloop.untested" for x in d))
