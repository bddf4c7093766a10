"""Paths the tools are given: inside the workspace, not excluded, read as text.

Every tool that touches a file goes through :func:`workspace_file`, so the rules are one:
a path outside the root (``..``, an absolute path elsewhere, a link that leads out) and an
excluded path (:mod:`codeloop.index.exclude`: ``.env``, keys, ``.codeloopignore``) are
errors the model reads, and an excluded file's content is never read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codeloop.index.exclude import Exclusions
from codeloop.tools.base import ToolContext, ToolError

MAX_READ_BYTES = 2_000_000


@dataclass(frozen=True)
class WorkspacePath:
    path: Path  # absolute, links resolved
    rel: str  # relative to the root, "/"-separated, as given (links not resolved)


def root_of(context: ToolContext) -> Path:
    return Path(os.path.realpath(context.root))


def workspace_file(context: ToolContext, given: str, tool: str, *, must_exist: bool = True,
                   allow_dir: bool = False) -> WorkspacePath:
    """``given`` (relative to the root, or absolute inside it) checked; ToolError otherwise."""
    root = root_of(context)
    text = given.strip()
    if not text:
        raise ToolError(f"{tool}: the path is empty")
    raw = Path(text)
    if text.startswith("file://"):
        raw = Path(text[len("file://"):])
    full = raw if raw.is_absolute() else root / raw
    lexical = Path(os.path.normpath(full))
    real = Path(os.path.realpath(lexical))
    for candidate in (lexical, real):
        if not candidate.is_relative_to(root):
            raise ToolError(f"{tool}: {given} is outside the workspace")
    rel = lexical.relative_to(root).as_posix()
    exclusions = Exclusions(root)
    for name in dict.fromkeys([rel, real.relative_to(root).as_posix()]):
        why = exclusions.reason(name)
        if why:
            raise ToolError(f"{tool}: {given} is excluded ({why}); codeloop's tools do not read it")
    if must_exist and not real.exists():
        raise ToolError(f"{tool}: no such file in the workspace: {rel}")
    if real.is_dir() and not allow_dir:
        raise ToolError(f"{tool}: {rel} is a folder, not a file")
    return WorkspacePath(real, rel if rel != "." else ".")


def read_text(where: WorkspacePath, tool: str) -> str:
    """The file's text (UTF-8, undecodable bytes replaced); binary and huge files refused."""
    try:
        size = where.path.stat().st_size
        if size > MAX_READ_BYTES:
            raise ToolError(f"{tool}: {where.rel} is {size // 1024} KiB; files over "
                            f"{MAX_READ_BYTES // 1_000_000} MB are not read")
        data = where.path.read_bytes()
    except OSError as exc:
        raise ToolError(f"{tool}: cannot read {where.rel}: {exc.strerror or exc}") from None
    if b"\0" in data[:8192]:
        raise ToolError(f"{tool}: {where.rel} is a binary file")
    return data.decode("utf-8", errors="replace")


def relative(context: ToolContext, path: str | os.PathLike[str]) -> str:
    """``path`` relative to the root when inside it, else as given."""
    root = root_of(context)
    full = Path(os.path.realpath(path))
    return full.relative_to(root).as_posix() if full.is_relative_to(root) else str(path)


__all__ = ["WorkspacePath", "read_text", "relative", "root_of", "workspace_file"]
