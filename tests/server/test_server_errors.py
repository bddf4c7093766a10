"""In-process: an exception in a notification handler is reported once and never fatal."""

from __future__ import annotations

from lsprotocol import types

from codeloop.lsp.server import CodeloopServer, create_server


def make_server(monkeypatch) -> tuple[CodeloopServer, list, list]:
    server = create_server()
    shown: list[types.ShowMessageParams] = []
    logged: list[types.LogMessageParams] = []
    monkeypatch.setattr(server, "window_show_message", shown.append)
    monkeypatch.setattr(server, "window_log_message", logged.append)
    return server, shown, logged


def test_guard_reports_once_and_keeps_going(monkeypatch):
    server, shown, logged = make_server(monkeypatch)
    calls = []

    @server.guard("textDocument/didChange")
    def handler(x):
        calls.append(x)
        raise RuntimeError("boom")

    for i in range(5):
        assert handler(i) is None
    assert calls == [0, 1, 2, 3, 4]
    assert len(shown) == 1
    assert shown[0].type == types.MessageType.Error
    assert "textDocument/didChange failed: RuntimeError: boom" in shown[0].message
    assert len(logged) == 1


def test_messages_are_redacted(monkeypatch):
    server, shown, logged = make_server(monkeypatch)
    server.report_failure("calling the model", ValueError("bad key sk-abcdefghijklmnop1234"))
    assert "sk-abcdefghijklmnop1234" not in shown[0].message
    assert "sk-abcdefghijklmnop1234" not in logged[0].message


def test_show_once(monkeypatch):
    server, shown, _ = make_server(monkeypatch)
    server.show_once("a")
    server.show_once("a")
    server.show_once("b")
    assert [m.message for m in shown] == ["a", "b"]


def test_feature_modules_register_every_command():
    server = create_server()
    commands = set(server.protocol.fm.commands)
    assert {"codeloop.implement", "codeloop.generateTests", "codeloop.runTests", "codeloop.cancel"} <= commands
