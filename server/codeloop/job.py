"""One piece of long work as the services see it: report progress, check cancellation.

Every service (:mod:`codeloop.services`) takes a :class:`Job`. The adapters make one
that fits their front end: the language server's reports ``$/progress`` and is
cancelled by ``$/cancelRequest``/``codeloop.cancel``; the CLI's draws on a terminal and
is cancelled by Ctrl-C; tests use a plain ``Job()``. Core code below the services takes
the two halves separately (``report`` as a :data:`Progress`, ``cancel`` as a
``threading.Event``) so that it needs nothing from this module but the names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# report(message, fraction in 0..1): what the work is doing now.
Progress = Callable[[str, float], None]


def no_progress(message: str, fraction: float) -> None:
    """A :data:`Progress` that shows nothing."""


class Job:
    """Progress and cancellation of one request, shared by the service and its caller."""

    def __init__(self, report: Progress | None = None, cancel: threading.Event | None = None) -> None:
        self._report = report or no_progress
        self.cancel = cancel if cancel is not None else threading.Event()

    def report(self, message: str, fraction: float = 0.0) -> None:
        self._report(message, fraction)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def stop(self) -> None:
        """Ask the work to stop at its next check."""
        self.cancel.set()


__all__ = ["Job", "Progress", "no_progress"]
