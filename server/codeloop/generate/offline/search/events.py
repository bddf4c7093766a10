"""The driver's output: one JSON event per line, each prefixed with :data:`MARK` so that whatever
the code under test prints cannot be mistaken for an event (the host parses them:
``codeloop.verify.input_search.parse_events``)."""

from __future__ import annotations

import json
import os

MARK = "@@codeloop-testgen@@ "

_out_fd = None


def open_output() -> None:
    """Events go to a copy of the process's stdout, taken before any call redirects it."""
    global _out_fd
    _out_fd = os.dup(1)


def emit(event: dict) -> None:
    data = (MARK + json.dumps(event, default=repr) + "\n").encode("utf-8", "replace")
    os.write(_out_fd, data)
