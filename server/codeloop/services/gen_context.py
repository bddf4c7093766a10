"""Context for generation from the workspace index: what a function's prompt should know
about the rest of the project.

For a target function (implement, generate tests) the prompt gets, within a token budget
and in this order: the signatures and docstrings of what the target calls, of the project
definitions its description names, of its callers (how it is used) and of definitions that
look like it (full-text search over names and docstrings); then, with what is left, the
repo map for its file (personalised PageRank over the file's neighbourhood in the reference
graph). Definitions of the target's own file are left out (the prompt shows that file's
signatures already), and so are tests.

The index is read as it is when it exists (the language server keeps it current); when the
workspace has none yet it is built first. Any failure gives no context, never a failed
generation.
"""

from __future__ import annotations

import builtins
import keyword
import logging
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("codeloop.gen_context")

DEFAULT_TOKENS = 600
MAP_FROM = 80  # tokens left over worth a repo map
READ_WAIT = 1.0  # seconds a query may wait on a lock (a schema being created)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_COMMON = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"self", "cls", "None", "True", "False"}
HEADER = "Related definitions elsewhere in the project (signatures and docstrings, from the workspace index):"


@dataclass
class GenContext:
    text: str = ""  # the block for the prompt ("" when there is nothing to say)
    tokens: int = 0
    shown: list[str] = field(default_factory=list)  # qualified names, in the order shown
    seconds: float = 0.0


def _line(symbol, why: str) -> str:
    kind = "class" if symbol.kind == "class" else "def"
    sig = symbol.signature if len(symbol.signature) <= 160 else symbol.signature[:159] + "…"
    head = f"{symbol.path}:{symbol.line}: {kind} {symbol.qualified_name}{sig}  # {why}"
    summary = symbol.summary
    return f"{head}\n    \"\"\"{summary[:200]}\"\"\"" if summary else head


def _target(conn: sqlite3.Connection, rel_path: str, name: str, line: int | None):
    from codeloop.index.queries import lookup

    found = [s for s in lookup(conn, name) if s.path == rel_path]
    if line is not None and found:
        found.sort(key=lambda s: abs(s.line - line))
    return found[0] if found else None


def _mentioned(words: str, name: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in _IDENT.findall(words):
        if word != name and word not in _COMMON:
            seen[word] = None
    return list(seen)[:20]


def gather(conn: sqlite3.Connection, rel_path: str, name: str, line: int | None = None, words: str = "",
           tokens: int = DEFAULT_TOKENS, root: str | Path | None = None) -> GenContext:
    """The context for ``name`` (defined in ``rel_path`` near 1-based ``line``), ``words`` being
    its description and stub (identifiers in it are looked up), at most ``tokens`` long.
    With ``root``, files excluded from models (``.codeloopignore`` and the like) are left out."""
    from codeloop.index import queries as q
    from codeloop.index.exclude import excluded_reason
    from codeloop.index.repomap import estimate_tokens, repo_map

    start = time.perf_counter()
    target = _target(conn, rel_path, name, line)
    candidates: list[tuple[object, str]] = []
    if target is not None:
        candidates += [(s, "called by it") for s in q.callees(conn, target)]
    mentioned = _mentioned(words, name)
    for word in mentioned:
        candidates += [(s, "named in its description") for s in q.lookup(conn, word, limit=3)]
    if target is not None:
        candidates += [(s, "calls it") for s in q.callers(conn, target)[:6]]
    summary = target.summary if target is not None else ""
    candidates += [(s, "similar") for s in q.search(conn, f"{name} {summary}", limit=8)[:6]]
    lines: list[str] = []
    shown: list[str] = []
    used = estimate_tokens(HEADER) + 1
    for symbol, why in candidates:
        if (symbol.path == rel_path or symbol.is_test or symbol.kind == "module"
                or symbol.qualified_name in shown or (root is not None and excluded_reason(root, symbol.path))):
            continue
        text = _line(symbol, why)
        cost = estimate_tokens(text) + 1
        if used + cost > tokens:
            continue
        lines.append(text)
        shown.append(symbol.qualified_name)
        used += cost
    parts = [HEADER, *lines] if lines else []
    left = tokens - used - 20
    if left >= MAP_FROM:
        rmap = repo_map(conn, [rel_path], [*mentioned, name], left, exclude_focus=True)
        if rmap.text:
            parts.append("Repo map around this file (ranked by references):\n" + rmap.text.rstrip())
    text = "\n".join(parts)
    return GenContext(text, estimate_tokens(text), shown, round(time.perf_counter() - start, 4))


def related_context(root: str | Path, path: str | Path, name: str, line: int | None = None, words: str = "",
                    tokens: int = DEFAULT_TOKENS, db_path: Path | None = None) -> GenContext:
    """:func:`gather` over the index of ``root`` for a target in ``path`` (absolute, or
    relative to ``root``); an empty context when there is no usable index."""
    import os

    from codeloop.index.location import canonical_root, database_path
    from codeloop.index.schema import connect
    from codeloop.index.workspace_index import WorkspaceIndex

    if tokens <= 0:
        return GenContext()
    try:
        top = canonical_root(root)
        rel = Path(os.path.relpath(os.path.realpath(os.path.join(top, path)), top)).as_posix()
        if rel.startswith("../"):
            return GenContext()
        db = db_path or database_path(top)
        if not db.exists():  # no index yet (a first use from the terminal): build it
            with WorkspaceIndex(top, db) as index:
                index.sync()
        # Only read: another process (the language server, its build process) may be writing,
        # and opening for writes would wait for it (WAL readers never wait).
        conn = connect(db, READ_WAIT)
        try:
            return gather(conn, rel, name, line, words, tokens, top)
        finally:
            conn.close()
    except Exception as exc:  # the index is a help: generation goes on without it
        log.warning("no index context for %s: %s", name, exc)
        return GenContext()


__all__ = ["DEFAULT_TOKENS", "GenContext", "gather", "related_context"]
