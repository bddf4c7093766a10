"""Where a workspace's index lives: one SQLite file per workspace root in the user cache
directory (``$XDG_CACHE_HOME/codeloop/index/<hash of the root>.sqlite3`` on Linux)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def index_dir() -> Path:
    return user_cache_dir() / "index"


def user_cache_dir() -> Path:
    """codeloop's folder in the user cache directory. On Linux and the BSDs, the XDG rule
    itself (``$XDG_CACHE_HOME`` when it is an absolute path, else ``~/.cache``: what
    platformdirs answers there) without loading platformdirs, ~15 ms of every `codeloop
    search`."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        base = os.environ.get("XDG_CACHE_HOME", "")
        return Path(base if os.path.isabs(base) else os.path.expanduser("~/.cache")) / "codeloop"
    import platformdirs

    return Path(platformdirs.user_cache_dir("codeloop", appauthor=False))


def canonical_root(root: str | os.PathLike[str]) -> Path:
    """The real absolute path of a workspace root (symlinks resolved, so two spellings of
    one folder share one index)."""
    return Path(os.path.realpath(os.fspath(root)))


def database_path(root: str | os.PathLike[str]) -> Path:
    """The index file of ``root``."""
    key = hashlib.sha256(os.fsencode(canonical_root(root))).hexdigest()[:20]
    return index_dir() / f"{key}.sqlite3"


__all__ = ["canonical_root", "database_path", "index_dir", "user_cache_dir"]
