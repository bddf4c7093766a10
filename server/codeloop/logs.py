"""Logging for the server and CLI: stderr plus a rotating file, never stdout.

stdout is the LSP channel when the server runs over stdio, so nothing here ever
writes there. Every handler carries a :class:`RedactionFilter` that removes API
keys from messages and tracebacks with :func:`codeloop.secrets.scrub` (the one
scrubber, shared with prompts and the reward log).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import TextIO

from codeloop.secrets import scrub
from codeloop.text import first_line
from codeloop.user_dirs import user_cache_dir

LOGGER_NAMES = ("codeloop", "codeloop_sandbox", "pygls")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

class ExpectedErrorFilter(logging.Filter):
    """An error the server answered on purpose (bad input, "no model configured") is not a
    crash: log it as one INFO line instead of an ERROR with a traceback.

    Exceptions opt in with a true ``expected`` class attribute.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and getattr(exc, "expected", False):
            record.msg = f"answered with an error: {exc}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class MalformedMessageFilter(logging.Filter):
    """pygls logs a message it cannot read (bad JSON, params that do not fit the method)
    with a traceback or two; a client can send thousands, so each is one line."""

    PREFIXES = ("Unable to deserialize message", "Unable to handle message")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("pygls") and isinstance(record.msg, str) and record.msg.startswith(self.PREFIXES):
            exc = record.exc_info[1] if record.exc_info else None
            cause = exc.__cause__ if exc is not None and exc.__cause__ is not None else exc
            head = record.msg.splitlines()[0]  # (the deserialize record has its traceback in the text)
            tail = f": {type(cause).__name__}: {first_line(str(cause))}" if cause is not None else ""
            record.msg, record.args = head + tail, None
            record.exc_info, record.exc_text = None, None
        return True


class RedactionFilter(logging.Filter):
    """Rewrites each record's message and traceback with secrets removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file. A write that fails (a full disk, a removed directory) says so
    once on stderr instead of a traceback per record; writing resumes when it can."""

    _failing = False
    _erred = False

    def emit(self, record: logging.LogRecord) -> None:
        self._erred = False
        super().emit(record)
        if not self._erred:
            self._failing = False

    def handleError(self, record: logging.LogRecord) -> None:
        self._erred = True
        if not self._failing:
            self._failing = True
            exc = sys.exc_info()[1]
            reason = getattr(exc, "strerror", None) or exc
            with contextlib.suppress(Exception):
                sys.stderr.write(f"codeloop: warning: cannot write the log file {self.baseFilename}: {reason}; "
                                 "logging to stderr only until it can\n")


def default_log_file() -> Path:
    """``<user cache dir>/codeloop/logs/server.log``."""
    return user_cache_dir() / "logs" / "server.log"


def level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    return LEVELS.get(level.lower(), logging.INFO)


def setup_logging(
    level: str | int = "info",
    log_file: str | os.PathLike[str] | None = None,
    *,
    file_logging: bool = True,
    stream: TextIO | None = None,
) -> Path | None:
    """Configure codeloop's loggers; returns the log file in use, if any.

    ``stream`` defaults to stderr. The file is rotated at 2 MiB with 3 backups; if
    it cannot be opened a warning goes to the stream and logging continues there.
    Calling this again replaces the handlers it installed before.
    """
    stream = sys.stderr if stream is None else stream
    formatter = logging.Formatter(FORMAT)
    expected = ExpectedErrorFilter()
    malformed = MalformedMessageFilter()
    redaction = RedactionFilter()
    handlers: list[logging.Handler] = []

    stream_handler = logging.StreamHandler(stream)
    handlers.append(stream_handler)

    path: Path | None = None
    if file_logging:
        path = Path(log_file) if log_file is not None else default_log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(
                LogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
            )
        except OSError as exc:
            print(f"codeloop: warning: cannot write the log file {path}: {exc}", file=stream)
            path = None

    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(malformed)
        handler.addFilter(expected)
        handler.addFilter(redaction)
        handler._codeloop = True  # type: ignore[attr-defined]

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_codeloop", False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    set_level(level)
    return path


def set_level(level: str | int) -> None:
    """Apply ``level`` to codeloop's loggers; pygls's chatty INFO stays hidden unless debug."""
    number = level_number(level)
    for name in LOGGER_NAMES:
        logging.getLogger(name).setLevel(number)
    if number > logging.DEBUG:
        logging.getLogger("pygls").setLevel(max(number, logging.WARNING))
