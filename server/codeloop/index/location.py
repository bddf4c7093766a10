"""Where a workspace's index lives: one SQLite file per workspace root in the user cache
directory (``$XDG_CACHE_HOME/codeloop/index/<hash of the root>.sqlite3`` on Linux)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from codeloop.user_dirs import user_cache_dir


def index_dir() -> Path:
    return user_cache_dir() / "index"


def canonical_root(root: str | os.PathLike[str]) -> Path:
    """The real absolute path of a workspace root (symlinks resolved, so two spellings of
    one folder share one index)."""
    return Path(os.path.realpath(os.fspath(root)))


def database_path(root: str | os.PathLike[str]) -> Path:
    """The index file of ``root``."""
    key = hashlib.sha256(os.fsencode(canonical_root(root))).hexdigest()[:20]
    return index_dir() / f"{key}.sqlite3"


__all__ = ["canonical_root", "database_path", "index_dir"]
