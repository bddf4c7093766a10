"""Shared registries the feature modules plug into, so none wraps another's handlers.

* :class:`DiagnosticsBoard`: diagnostics per URI and *source* (intents, tests, probable
  bugs, implement failures). A feature replaces only its own source; what the editor
  gets is the composition of every source, so no feature clobbers another.
* :class:`JobRegistry`: long work in progress (implement, runTests, generateTests), each
  with a human label, its workspace root and a cancel event. ``codeloop.cancel`` cancels
  the matching jobs; ``codeloop/status`` reports the label of the work going on.
* :class:`Hooks`: document events (change, close, save) and shutdown, for features that
  must react to them without owning the handlers.

Pure bookkeeping plus a ``publish`` callback; the server owns one of each.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class DiagnosticsBoard:
    """Diagnostics per URI, grouped by source; ``publish(uri, diagnostics)`` sends the composition."""

    def __init__(self, publish: Callable[[str, list[Any]], None]) -> None:
        self._publish = publish
        self._by_uri: dict[str, dict[str, list[Any]]] = {}
        self._made_from: dict[tuple[str, str], Any] = {}  # (uri, source) -> fingerprint
        self._lock = threading.Lock()

    def get(self, uri: str, source: str | None = None) -> list[Any]:
        """One source's diagnostics for ``uri``, or all of them (in source registration order)."""
        with self._lock:
            groups = self._by_uri.get(uri, {})
            if source is not None:
                return list(groups.get(source, []))
            return [d for diags in groups.values() for d in diags]

    def unchanged(self, uri: str, source: str, fingerprint: Any) -> bool:
        """Whether ``source``'s diagnostics for ``uri`` were last set from this ``fingerprint``
        (what they were computed from), so the client already shows exactly them."""
        with self._lock:
            return fingerprint is not None and self._made_from.get((uri, source)) == fingerprint

    def set(self, uri: str, source: str, diagnostics: list[Any], publish: bool = True,
            fingerprint: Any = None) -> None:
        """Replace ``source``'s diagnostics for ``uri`` and publish the composed list.

        ``fingerprint``: what they were computed from, for :meth:`unchanged`."""
        with self._lock:
            self._made_from[(uri, source)] = fingerprint
            groups = self._by_uri.setdefault(uri, {})
            if diagnostics:
                groups[source] = list(diagnostics)
            else:
                groups.pop(source, None)
                if not groups:
                    del self._by_uri[uri]
        if publish:
            self.publish(uri)

    def publish(self, uri: str) -> None:
        self._publish(uri, self.get(uri))


@dataclass
class Job:
    """One piece of long work: what it is, where, and how to stop it."""

    kind: str  # "implement", "runTests", "generateTests"
    label: str  # what the user sees in the status: "Implement parse_date"
    root: str | None  # the workspace root it works in
    uri: str | None
    cancel: threading.Event
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class JobRegistry:
    """The jobs in progress; ``on_change`` is called (on the caller's thread) when the busy label changes."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._on_change = on_change

    def start(self, kind: str, label: str, root: str | None, uri: str | None = None,
              cancel: threading.Event | None = None) -> Job:
        job = Job(kind, label, root, uri, cancel if cancel is not None else threading.Event())
        self._changing(lambda: self._jobs.__setitem__(job.id, job))
        return job

    def finish(self, job: Job) -> None:
        self._changing(lambda: self._jobs.pop(job.id, None))

    def find(self, kind: str | None = None, root: str | None = None, uri: str | None = None) -> list[Job]:
        """The running jobs of ``kind`` in workspace ``root`` (or on ``uri``); None matches any."""
        with self._lock:
            return [j for j in self._jobs.values()
                    if (kind is None or j.kind == kind) and (root is None or j.root == root)
                    and (uri is None or j.uri == uri)]

    def cancel(self, root: str | None = None, kind: str | None = None) -> int:
        """Set the cancel event of the matching jobs; how many there were."""
        jobs = self.find(kind, root)
        for job in jobs:
            job.cancel.set()
        return len(jobs)

    def busy(self) -> str | None:
        """The label of the work in progress, ``"N jobs"`` for several, None when idle."""
        with self._lock:
            jobs = list(self._jobs.values())
        if not jobs:
            return None
        return jobs[0].label if len(jobs) == 1 else f"{len(jobs)} jobs"

    def _changing(self, change: Callable[[], Any]) -> None:
        before = self.busy()
        with self._lock:
            change()
        if self._on_change is not None and self.busy() != before:
            try:
                self._on_change()
            except Exception:  # noqa: BLE001 - the status is informative only
                log.exception("cannot report the status")


# A change as the document model applies it: (range or None for the whole text, new text).
Change = tuple[Any, str]


class Hooks:
    """Callbacks for document events and shutdown; one failing callback does not stop the rest."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[..., Any]]] = {}

    def on(self, event: str, callback: Callable[..., Any]) -> None:
        """``event``: "initialized" () after the settings are in, "change" (uri, changes),
        "close" (uri), "save" (uri), "watched" ([(path, FileChangeType)]) for files changed
        on disk, "shutdown" ()."""
        self._callbacks.setdefault(event, []).append(callback)

    def emit(self, event: str, *args: Any) -> None:
        for callback in list(self._callbacks.get(event, [])):
            try:
                callback(*args)
            except Exception:  # noqa: BLE001 - one feature's failure must not stop the others
                log.exception("%s hook %s failed", event, getattr(callback, "__qualname__", callback))


__all__ = ["Change", "DiagnosticsBoard", "Hooks", "Job", "JobRegistry"]
