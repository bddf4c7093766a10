"""What the chat agent sends with a question: the open file and selection (as the plain
chat does, :mod:`codeloop.generate.chat_prompt`), the ``@file`` and ``@symbol`` mentions
resolved through the workspace index, and a repo map ranked for the question within
``map_tokens``. An excluded file (:mod:`codeloop.index.exclude`) is never included, not
even when it is the open one; everything is scrubbed of secrets on the way out (the model
client scrubs every message again)."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from codeloop import secrets
from codeloop.generate.chat_prompt import build_messages, relevant_text
from codeloop.index.exclude import excluded_reason

MENTION = re.compile(r"(?<![\w@.])@([A-Za-z_./][\w./-]*(?:::[\w.]+)?)")
MENTION_CHARS = 8_000  # characters of one mentioned file or symbol
MENTIONS = 5
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def _path_of(uri: str | None) -> str | None:
    if not uri:
        return None
    if uri.startswith("file://"):
        return unquote(urlparse(uri).path)
    return uri if os.path.isabs(uri) else None


def _inside(root: str, path: str) -> str | None:
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    return None if rel.startswith("..") else Path(rel).as_posix()


def _mention(root: str, name: str, db_path: Any) -> tuple[str | None, str | None]:
    """(the text to include, a note when it could not be) for one ``@name``."""
    candidate = os.path.join(root, name.partition("::")[0])
    if ("/" in name or name.endswith(".py") or os.path.isfile(candidate)) and "::" not in name:
        rel = _inside(root, candidate)
        if rel is None or not os.path.isfile(candidate):
            return None, f"@{name}: no such file in the workspace"
        why = excluded_reason(root, rel)
        if why:
            return None, f"@{name}: excluded ({why})"
        try:
            text = Path(candidate).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return None, f"@{name}: cannot read it ({exc.strerror or exc})"
        return f"The file `{rel}` (mentioned):\n```\n{relevant_text(text, name, None, MENTION_CHARS)}\n```", None
    from codeloop.index.queries import lookup
    from codeloop.services.index import IndexInputError, synced_index

    member = name.partition("::")[2] or name
    try:
        with synced_index(root, None, db_path) as index:
            found = [s for s in lookup(index.conn, member) if s.kind != "module"]
            if "::" in name:
                found = [s for s in found if s.path == name.partition("::")[0]]
    except IndexInputError as exc:
        return None, f"@{name}: the index is unavailable ({exc})"
    if not found:
        return None, f"@{name}: no such symbol in the workspace index"
    s = found[0]
    if excluded_reason(root, s.path):
        return None, f"@{name}: excluded"
    try:
        lines = Path(root, s.path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None, f"@{name}: cannot read {s.path}"
    body = "\n".join(lines[s.line - 1:s.end_line])[:MENTION_CHARS]
    more = f" (and {len(found) - 1} more with that name)" if len(found) > 1 else ""
    return f"The symbol `{s.qualified_name}` ({s.path}:{s.line}, mentioned{more}):\n```python\n{body}\n```", None


def _repo_map(root: str, focus: list[str], question: str, tokens: int, db_path: Any) -> str | None:
    from codeloop.services.index import IndexInputError, MapRequest, map_workspace

    words = sorted({w for w in _WORD.findall(question)})[:40]
    try:
        result = map_workspace(MapRequest(root, focus_files=focus, mentioned=words, tokens=tokens, db_path=db_path))
    except IndexInputError:
        return None
    return result.map.text.strip() or None


def without_excluded(context: Any, root: str | None) -> tuple[Any, str | None]:
    """``context`` (a ChatContext) without the open file's text when that file is excluded
    (in the workspace: its rules; outside it, or with no workspace: its own name and its
    folder's ``.codeloopignore``), and a note saying so."""
    path = _path_of(context.uri)
    if not path:
        return context, None
    rel = _inside(root, path) if root else None
    why = excluded_reason(root, rel) if rel is not None else excluded_reason(os.path.dirname(path),
                                                                             os.path.basename(path))
    if not why:
        return context, None
    shown = rel or os.path.basename(path)
    return (replace(context, text=None, selection_text=None, selection=None),
            f"the open file {shown} is excluded ({why}); it was not sent")


def agent_messages(request: Any, system: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The messages of a question (system prompt, history, the question with its context)
    and notes on what could not be included."""
    notes: list[str] = []
    context = request.context
    root = request.root
    focus: list[str] = []
    if context is not None:
        context, note = without_excluded(context, root)
        if note:
            notes.append(note)
        path = _path_of(context.uri)
        if note is None and path and root and _inside(root, path) is not None and path.endswith(".py"):
            focus.append(path)
    messages: list[dict[str, Any]] = [dict(m) for m in build_messages(request.message, request.history, context)]
    messages[0] = {"role": "system", "content": system}
    extra: list[str] = []
    if root:
        for name in list(dict.fromkeys(MENTION.findall(request.message)))[:MENTIONS]:
            text, note = _mention(root, name.rstrip("."), request.index_db)
            if text:
                extra.append(text)
            if note:
                notes.append(note)
        if request.map_tokens > 0:
            repo = _repo_map(root, focus, request.message, request.map_tokens, request.index_db)
            if repo:
                extra.append(f"Repo map (the workspace's most relevant definitions):\n{repo}")
    if extra:
        messages[-1]["content"] = "\n\n".join([*extra, messages[-1]["content"]])
    for m in messages:
        m["content"] = secrets.scrub(m["content"])
    return messages, notes


__all__ = ["agent_messages", "without_excluded"]
