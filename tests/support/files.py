"""Snapshots of a directory tree, to check that a run changed nothing in it."""

from __future__ import annotations

import os


def tree(root: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every file under ``root`` (path relative to it) and its bytes."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out
