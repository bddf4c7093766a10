"""The intents service: what the developer means, in files or in one document.

``find_intents(request, job)`` loads the files (or takes the document), finds the
intents of each with the names the workspace's tests refer to, and, when asked, the
syntax errors as :class:`~codeloop.workspace.model.Finding` (what ``codeloop check``
prints). Bad input (a missing path, a directory without Python files, an unreadable
or undecodable file) raises :class:`IntentsInputError` before any work is done.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codeloop.job import Job
from codeloop.workspace.document import Document, DocumentLoadError, DocumentStore
from codeloop.workspace.intents import find_intents as intents_in
from codeloop.workspace.model import Finding, Intent
from codeloop.workspace.syntax import syntax_issues
from codeloop.workspace.testindex import TestIndex, find_workspace_root, is_skipped_dir


class IntentsInputError(Exception):
    """The request names files that cannot be read (the message says which and why)."""


@dataclass
class IntentsRequest:
    """Either ``paths`` (files or directories) or one ``document``.

    ``lines=(first, last)`` (0-based, inclusive) keeps the intents offered on those lines.
    ``tested_names``: the names tests refer to; None reads them from the test index of
    each file's workspace root (for a document without a path: nothing is untested).
    """

    paths: list[str] = field(default_factory=list)
    document: Document | None = None
    lines: tuple[int, int] | None = None
    tested_names: frozenset[str] | None = None
    syntax: bool = False  # also report syntax errors


@dataclass
class FileIntents:
    path: str  # as given (or the document's path)
    document: Document
    intents: list[Intent]
    syntax: list[Finding] = field(default_factory=list)  # severity "error", in document order


@dataclass
class IntentsOutcome:
    files: list[FileIntents] = field(default_factory=list)
    cancelled: bool = False

    @property
    def intents(self) -> list[tuple[str, Intent]]:
        return [(f.path, it) for f in self.files for it in f.intents]


def find_intents(request: IntentsRequest, job: Job) -> IntentsOutcome:
    if request.document is not None:
        docs = [(request.document.path or request.document.uri, request.document)]
    else:
        docs = load_documents(request.paths)
    indexes: dict[Path, TestIndex] = {}
    outcome = IntentsOutcome()
    for i, (path, doc) in enumerate(docs):
        if job.cancelled:
            outcome.cancelled = True
            break
        job.report(path, i / max(len(docs), 1))
        names = request.tested_names
        if names is None and request.document is None:
            names = _tested_names(indexes, path)
        elif names is None and doc.path:
            names = _tested_names(indexes, doc.path)
        found = intents_in(doc, names, lines=request.lines)
        syntax = [Finding(path, s.span, "error", s.message) for s in syntax_issues(doc)] if request.syntax else []
        outcome.files.append(FileIntents(path, doc, found, syntax))
    return outcome


def _tested_names(indexes: dict[Path, TestIndex], path: str) -> frozenset[str]:
    root = find_workspace_root(path)
    index = indexes.get(root)
    if index is None:
        index = indexes[root] = TestIndex(root)
    return index.tested_names()


# -- reading the files --------------------------------------------------------------------


def load_documents(paths: Iterable[str]) -> list[tuple[str, Document]]:
    """(path as given, document) for every Python file the paths name."""
    store = DocumentStore()
    docs = []
    for f in collect_files(paths):
        try:
            docs.append((f, store.get_or_load(f)))
        except DocumentLoadError as exc:
            raise IntentsInputError(str(exc)) from None
    return docs


def iter_python_files(directory: str) -> Iterator[str]:
    """``*.py`` files under ``directory``, sorted, skipping VCS, venv and build dirs."""
    for dirpath, dirnames, filenames in os.walk(directory, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not is_skipped_dir(d))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def _walk_error(exc: OSError) -> None:
    if isinstance(exc, PermissionError):
        raise IntentsInputError(f"permission denied: {exc.filename}")
    raise IntentsInputError(f"cannot read {exc.filename}: {exc.strerror or exc}")


def collect_files(paths: Iterable[str]) -> list[str]:
    """Expand PATH arguments into Python files, each once; IntentsInputError on bad input."""
    files: list[str] = []
    for p in paths:
        if not os.path.exists(p):
            raise IntentsInputError(f"no such file or directory: {p}")
        if os.path.isdir(p):
            if not os.access(p, os.R_OK | os.X_OK):
                raise IntentsInputError(f"permission denied: {p}")
            found = list(iter_python_files(p))
            if not found:
                raise IntentsInputError(f"no Python files in directory: {p}")
            files.extend(found)
        else:
            files.append(p)
    seen: set[str] = set()
    unique = []
    for f in files:
        key = os.path.abspath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique
