"""logs.py: stderr + rotating file, never stdout; API keys never reach a log record."""

from __future__ import annotations

import io
import logging

from codeloop import logs, secrets


def test_redact_patterns():
    secrets.add_secret("my-very-private-key")
    text = secrets.scrub(
        'key=my-very-private-key {"apiKey": "abc123xyz"} sk-proj-ABCDEFGH12345678 Authorization: Bearer tok12345678'
    )
    assert "my-very-private-key" not in text
    assert "abc123xyz" not in text
    assert "sk-proj-ABCDEFGH12345678" not in text
    assert "tok12345678" not in text
    assert text.count("[redacted]") == 4


def test_setup_logging_writes_file_and_stream_with_redaction(tmp_path, capsys):
    stream = io.StringIO()
    path = logs.setup_logging("debug", tmp_path / "logs" / "server.log", stream=stream)
    try:
        log = logging.getLogger("codeloop.test")
        log.info("hello %s", "sk-secretsecretsecret")
        try:
            raise RuntimeError("failed with sk-inexceptionabcdef")
        except RuntimeError:
            log.exception("oops")
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        for output in (text, stream.getvalue()):
            assert "hello [redacted]" in output
            assert "sk-secret" not in output
            assert "sk-inexception" not in output
            assert "RuntimeError" in output
        assert capsys.readouterr().out == ""  # never stdout
    finally:
        logs.setup_logging("info", file_logging=False, stream=io.StringIO())


def test_unwritable_log_file_falls_back_to_stream(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    stream = io.StringIO()
    try:
        path = logs.setup_logging("info", blocker / "sub" / "server.log", stream=stream)
        assert path is None
        assert "cannot write the log file" in stream.getvalue()
    finally:
        logs.setup_logging("info", file_logging=False, stream=io.StringIO())


def test_pygls_info_hidden_unless_debug():
    logs.set_level("info")
    assert logging.getLogger("pygls").level == logging.WARNING
    logs.set_level("debug")
    assert logging.getLogger("pygls").level == logging.DEBUG
    logs.set_level("info")


def test_default_log_file_is_in_the_cache_dir():
    path = logs.default_log_file()
    assert path.parts[-3:] == ("codeloop", "logs", "server.log")


def test_expected_errors_are_one_info_line(tmp_path):
    from codeloop.lsp.errors import request_failed

    stream = io.StringIO()
    logs.setup_logging("info", file_logging=False, stream=stream)
    try:
        try:
            raise request_failed("codeloop: Implement is not available yet in this version")
        except Exception:
            logging.getLogger("codeloop.x").exception("Exception occurred for message")
        output = stream.getvalue()
        assert "INFO codeloop.x: answered with an error: codeloop: Implement is not available yet" in output
        assert "Traceback" not in output
    finally:
        logs.setup_logging("info", file_logging=False, stream=io.StringIO())
