"""Progress of a long CLI command, on stderr: a bar on a terminal, plain lines when piped.

Nothing shows for the first ``delay`` seconds (a quick command prints nothing extra), and
nothing at all with ``--json`` (``quiet``): stdout is only ever the command's result.
On a terminal the bar is rich's (imported only then, so a piped or quick run does not pay
for it); piped, each new step is one ``codeloop: <step>`` line, at most one a second.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class CliProgress:
    """A :data:`codeloop.job.Progress` callable; use as a context manager (the bar is
    removed on exit)."""

    def __init__(self, label: str, *, quiet: bool = False, delay: float = 1.0, stream: TextIO | None = None,
                 interval: float = 1.0) -> None:
        self.label = label
        self.quiet = quiet
        self.delay = delay
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._last_line = ("", 0.0)  # piped: the step last printed, and when

    @property
    def tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, message: str, fraction: float = 0.0) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if now - self._started < self.delay:
            return
        if self.tty:
            self._draw(message, fraction)
            return
        step, printed = self._last_line
        if message != step and (now - printed >= self.interval or fraction >= 1.0):
            self._last_line = (message, now)
            print(f"codeloop: {self.label}: {message}", file=self.stream, flush=True)

    def _draw(self, message: str, fraction: float) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn(f"{self.label}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.description}"), console=Console(file=self.stream),
                                 transient=True)
            self._bar.start()
            self._task = self._bar.add_task(message, total=1.0)
        self._bar.update(self._task, completed=max(0.0, min(1.0, fraction)), description=message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> CliProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CliProgress"]
