"""The KNOWLEDGE BASE capability: index a workspace, search it, map it.

``index_workspace`` brings a workspace's index up to date (or rebuilds it with ``reset``);
``search_workspace`` and ``map_workspace`` update it first (a scan of an indexed workspace
only stats its files) and answer from it. The language server keeps its index open and
up to date itself and asks :mod:`codeloop.index.queries` directly; the CLI and the agent
tools come through here. Paths in outcomes are relative to the workspace root, "/"-separated.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codeloop.index.schema import IndexUnavailable
from codeloop.index.sync import SyncStats
from codeloop.index.workspace_index import WorkspaceIndex
from codeloop.job import Job

if TYPE_CHECKING:
    from codeloop.index.queries import Symbol
    from codeloop.index.repomap import RepoMap
    from codeloop.services.embeddings import Embedder


class IndexInputError(Exception):
    """A request that cannot be answered (a missing folder, an unusable cache); one line."""


@dataclass
class IndexRequest:
    root: str
    reset: bool = False
    workers: int | None = None  # worker processes for parsing; None: up to two
    db_path: Path | None = None  # None: the user cache directory
    embedder: Embedder | None = None  # semantic search on (services.embeddings.embedder_for)


@dataclass
class IndexOutcome:
    root: str
    db_path: str
    files: int
    changed: int
    removed: int
    definitions: int
    skipped: dict[str, int]
    seconds: float
    db_bytes: int
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False
    embedded: int = 0  # definitions embedded (semantic search on)


@dataclass
class SearchRequest:
    root: str
    query: str
    kind: str | None = None  # module | class | function | method
    limit: int = 20
    db_path: Path | None = None
    embedder: Embedder | None = None  # fuse vector search with bm25 when the index has vectors


@dataclass
class SearchOutcome:
    root: str
    results: list[Symbol]
    warnings: list[str] = field(default_factory=list)


@dataclass
class MapRequest:
    root: str
    focus_files: list[str] = field(default_factory=list)  # absolute, or relative to the current folder
    mentioned: list[str] = field(default_factory=list)  # identifiers or qualified names
    tokens: int = 1024
    db_path: Path | None = None


@dataclass
class MapOutcome:
    root: str
    map: RepoMap
    warnings: list[str] = field(default_factory=list)


def _open(root: str, db_path: Path | None) -> WorkspaceIndex:
    if not os.path.isdir(root):
        raise IndexInputError(f"{root}: not a folder")
    try:
        return WorkspaceIndex(root, db_path)
    except IndexUnavailable as exc:
        raise IndexInputError(str(exc)) from None


def _sync(index: WorkspaceIndex, job: Job, workers: int | None = None) -> SyncStats:
    try:
        return index.sync(workers=workers, report=job.report, cancel=job.cancel)
    except IndexUnavailable as exc:
        raise IndexInputError(str(exc)) from None


def index_workspace(request: IndexRequest, job: Job | None = None) -> IndexOutcome:
    job = job or Job()
    with _open(request.root, request.db_path) as index:
        if request.reset:
            index.reset()
        stats = _sync(index, job, request.workers)
        embedded = 0
        if request.embedder is not None and not stats.cancelled:
            job.report("embedding definitions")
            embedded = request.embedder.update(index.conn, job.cancel)
        warnings = list(index.warnings) + (request.embedder.warnings if request.embedder else [])
        return IndexOutcome(str(index.root), str(index.db_path), stats.files, stats.changed, stats.removed,
                            stats.definitions, dict(stats.skipped), round(stats.seconds, 3), index.db_bytes(),
                            warnings, stats.cancelled, embedded)


def search_workspace(request: SearchRequest, job: Job | None = None) -> SearchOutcome:
    job = job or Job()
    from codeloop.index.queries import search  # not for `codeloop index`: it starts sooner

    with _open(request.root, request.db_path) as index:
        _sync(index, job)
        if request.embedder is None:
            results = search(index.conn, request.query, request.kind, request.limit)
            return SearchOutcome(str(index.root), results, list(index.warnings))
        results = request.embedder.search(index.conn, request.query, request.kind, request.limit)
        return SearchOutcome(str(index.root), results, list(index.warnings) + request.embedder.warnings)


def map_workspace(request: MapRequest, job: Job | None = None) -> MapOutcome:
    job = job or Job()
    with _open(request.root, request.db_path) as index:
        _sync(index, job)
        focus = [Path(os.path.relpath(os.path.realpath(f), index.root)).as_posix() for f in request.focus_files]
        outside = [f for f, rel in zip(request.focus_files, focus, strict=True) if rel.startswith("../")]
        if outside:
            raise IndexInputError(f"{outside[0]}: not in the workspace {index.root}")
        from codeloop.index.repomap import repo_map

        result = repo_map(index.conn, focus, request.mentioned, request.tokens)
        return MapOutcome(str(index.root), result, list(index.warnings))


@contextmanager
def synced_index(root: str, job: Job | None = None, db_path: Path | None = None) -> Iterator[WorkspaceIndex]:
    """The workspace's index brought up to date, open for queries (:mod:`codeloop.index.queries`)
    on its ``conn``; closed after. For the agent tools' lookups (definitions, references)."""
    with _open(root, db_path) as index:
        _sync(index, job or Job())
        yield index


__all__ = ["IndexInputError", "IndexOutcome", "IndexRequest", "MapOutcome", "MapRequest", "SearchOutcome",
           "SearchRequest", "index_workspace", "map_workspace", "search_workspace", "synced_index"]
