"""`codeloop index`, `codeloop search` and `codeloop map`: the knowledge base from the terminal.

``codeloop index [DIR] [--stats] [--json] [--reset]``
    bring DIR's index up to date (DIR: the workspace root around the current folder);
    JSON: ``{files, changed, definitions, seconds, db_bytes, ...}``.
``codeloop search QUERY [--project DIR] [--kind function|class|method|module] [--limit N] [--json]``
    one line per result, best first: ``path:line: kind qualified.name(signature)``; JSON: an
    array of ``{path, line, name, qualified_name, kind, signature, score}`` (``path``
    relative to the project root, ``line`` 1-based). Exit 1 when nothing matches.
``codeloop map [FILE...] [--tokens N] [--project DIR] [--mention NAME...]``
    the repo map for FILEs (and mentioned identifiers) within N tokens.

The service is imported when a command runs, not when the parser is built, so that every
other command starts as fast as before.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from codeloop.cli import CliError
from codeloop.cli.progress import CliProgress

if TYPE_CHECKING:
    import sqlite3

    from codeloop.services.embeddings import Embedder

KINDS = ("function", "class", "method", "module")


def register(subparsers: argparse._SubParsersAction) -> None:
    ix = subparsers.add_parser("index", help="index a workspace for search, references and the repo map",
                               description="Bring the workspace's index up to date (only changed files are read).")
    ix.add_argument("dir", nargs="?", metavar="DIR", help="the workspace (default: the project around the current "
                    "folder)")
    ix.add_argument("--stats", action="store_true", help="also print what was skipped and where the index is")
    ix.add_argument("--json", action="store_true", help="print one JSON object")
    ix.add_argument("--reset", action="store_true", help="delete the index and build it again")
    # No thread of these commands outlives them (a build's workers are done, or waited for
    # after a cancel, before the handler returns): they skip the interpreter's teardown.
    ix.set_defaults(handler=run_index, exit_now=True)

    se = subparsers.add_parser("search", help="search the workspace's definitions",
                               description="Full-text search over names, docstrings and code (bm25).")
    se.add_argument("query", metavar="QUERY")
    se.add_argument("--project", metavar="DIR", help="the workspace (default: the project around the current folder)")
    se.add_argument("--kind", choices=KINDS, help="only definitions of this kind")
    se.add_argument("--limit", type=_positive, default=20, metavar="N", help="at most N results (default 20)")
    se.add_argument("--json", action="store_true", help="print a JSON array")
    se.set_defaults(handler=run_search, exit_now=True)

    mp = subparsers.add_parser("map", help="print the repo map: the definitions that matter, within a budget",
                               description="Definitions ranked by PageRank over references, focused on FILEs.")
    mp.add_argument("files", nargs="*", metavar="FILE", help="focus files")
    mp.add_argument("--tokens", type=_positive, default=1024, metavar="N", help="budget in tokens (default 1024)")
    mp.add_argument("--project", metavar="DIR", help="the workspace (default: the project around FILE or the "
                    "current folder)")
    mp.add_argument("--mention", action="append", default=[], metavar="NAME", help="an identifier to focus on "
                    "(repeatable)")
    mp.set_defaults(handler=run_map, exit_now=True)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _root(given: str | None, near: str | None = None) -> str:
    if given is not None:
        if not os.path.isdir(given):
            raise CliError(f"{given}: not a folder")
        return os.path.abspath(given)
    from codeloop.workspace.testindex import find_workspace_root

    return str(find_workspace_root(near or os.getcwd()))


def _warn(warnings: list[str]) -> None:
    for message in warnings:
        print(f"codeloop: warning: {message}", file=sys.stderr)


def _embedder(root: str) -> Embedder | None:
    """The embedder of the workspace's settings (``index.embeddings``), or None. The settings'
    own warnings are left to the commands that use them."""
    from codeloop.config import settings_for_workspace

    settings, _ = settings_for_workspace(root)
    if settings.index.embeddings == "off":
        return None
    from codeloop.services.embeddings import embedder_for

    return embedder_for(settings)


def run_index(args: argparse.Namespace) -> int:
    from codeloop.job import Job
    from codeloop.services.index import IndexInputError, IndexRequest, index_workspace

    progress = CliProgress("index", quiet=args.json)
    try:
        with progress:
            root = _root(args.dir)
            out = index_workspace(IndexRequest(root, reset=args.reset, embedder=_embedder(root)), Job(progress))
    except IndexInputError as exc:
        raise CliError(str(exc)) from None
    _warn(out.warnings)
    if args.json:
        print(json.dumps({"files": out.files, "changed": out.changed, "definitions": out.definitions,
                          "seconds": out.seconds, "db_bytes": out.db_bytes, "removed": out.removed,
                          "skipped": out.skipped, "root": out.root, "db_path": out.db_path}))
        return 0
    print(f"{out.root}: {out.files} files, {out.changed} changed, {out.removed} removed, "
          f"{out.definitions} definitions in {out.seconds:.2f}s")
    if args.stats:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(out.skipped.items())) or "nothing"
        print(f"skipped: {skipped}")
        print(f"index: {out.db_path} ({out.db_bytes} bytes)")
    return 0


class _EmbedderIfVectors:
    """The workspace's embedder for a search, made only when the index holds vectors: the
    settings are not read (nor the model's SDK loaded) for an index that has none."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.warnings: list[str] = []

    def search(self, conn: sqlite3.Connection, query: str, kind: str | None = None, limit: int = 20) -> list:
        from codeloop.index.queries import search
        from codeloop.index.vectors import has_vectors

        embedder = _embedder(self.root) if has_vectors(conn) else None
        if embedder is None:
            return search(conn, query, kind, limit)
        found = embedder.search(conn, query, kind, limit)
        self.warnings = embedder.warnings
        return found


def run_search(args: argparse.Namespace) -> int:
    from codeloop.services.index import IndexInputError, SearchRequest, search_workspace

    try:
        root = _root(args.project)
        embedder = cast("Embedder", _EmbedderIfVectors(root))  # the part of an Embedder a search uses
        out = search_workspace(SearchRequest(root, args.query, args.kind, args.limit, embedder=embedder))
    except IndexInputError as exc:
        raise CliError(str(exc)) from None
    _warn(out.warnings)
    if args.json:
        print(json.dumps([{"path": s.path, "line": s.line, "name": s.name, "qualified_name": s.qualified_name,
                           "kind": s.kind, "signature": s.signature, "score": s.score} for s in out.results]))
    else:
        for s in out.results:
            print(f"{_shown(out.root, s.path)}:{s.line}: {s.kind} {s.qualified_name}{s.signature}")
    return 0 if out.results else 1


def run_map(args: argparse.Namespace) -> int:
    from codeloop.services.index import IndexInputError, MapRequest, map_workspace

    for f in args.files:
        if not os.path.isfile(f):
            raise CliError(f"{f}: no such file")
    root = _root(args.project, args.files[0] if args.files else None)
    try:
        out = map_workspace(MapRequest(root, [os.path.abspath(f) for f in args.files], args.mention, args.tokens))
    except IndexInputError as exc:
        raise CliError(str(exc)) from None
    _warn(out.warnings)
    sys.stdout.write(out.map.text)
    return 0


def _shown(root: str, rel: str) -> str:
    """A result's path as the user can open it from here."""
    path = os.path.join(root, rel)
    here = os.path.relpath(path)
    return path if here.startswith("..") else Path(here).as_posix()
