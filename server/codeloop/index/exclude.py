"""Files no agent tool reads and no prompt includes: secrets by name (``.env``, ``*.pem``,
``id_*`` keys, ...) and whatever the workspace's ``.codeloopignore`` files list.

The chat agent, its context (``@file`` mentions, the open file) and the MCP tools ask
:meth:`Exclusions.reason` before reading a path; an excluded path is answered with an
error that says it is excluded, never with its content. ``.gitignore`` is not an
exclusion here: ignored build output may be worth reading; secrets are what is kept out.
"""

from __future__ import annotations

import fnmatch
import os
from functools import lru_cache
from pathlib import Path, PurePosixPath

from codeloop.index.ignore import Rule, is_ignored, parse_rules

# Names (of a file or of any folder above it) that are never read: environment files,
# private keys and certificates, SSH keys, credential stores.
SECRET_NAMES = (".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "id_*", ".netrc", ".pgpass",
                ".git-credentials", "credentials.json")
IGNORE_FILE = ".codeloopignore"


@lru_cache(maxsize=256)
def _rules_of(path: str, mtime_ns: int, base: str) -> tuple[Rule, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(parse_rules(text, base))


class Exclusions:
    """The exclusion rules of one workspace root (``.codeloopignore`` files are re-read
    when they change)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.realpath(os.fspath(root)))

    def _rules(self, rel_dir: str) -> list[Rule]:
        rules: list[Rule] = []
        parts = [p for p in rel_dir.split("/") if p]
        for depth in range(len(parts) + 1):
            base = "/".join(parts[:depth])
            ignore = self.root.joinpath(*parts[:depth], IGNORE_FILE)
            try:
                mtime = ignore.stat().st_mtime_ns
            except OSError:
                continue
            rules.extend(_rules_of(str(ignore), mtime, base))
        return rules

    def reason(self, rel: str) -> str | None:
        """Why ``rel`` (relative to the root, "/"-separated) is excluded, or None."""
        parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".")]
        for part in parts:
            for pattern in SECRET_NAMES:
                if fnmatch.fnmatchcase(part, pattern):
                    return f"its name matches {pattern!r}, a secret codeloop never reads"
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            is_dir = i < len(parts) or (self.root / prefix).is_dir()
            if is_ignored(self._rules("/".join(parts[:i - 1])), prefix, is_dir):
                return f"{IGNORE_FILE} lists it"
        return None


def excluded_reason(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> str | None:
    """:meth:`Exclusions.reason` for an absolute or root-relative ``path`` (None when it is
    outside the root: the caller refuses that on its own)."""
    base = os.path.realpath(os.fspath(root))
    full = os.path.join(base, os.fspath(path))
    rel = os.path.relpath(os.path.abspath(full), base)
    if rel.startswith(".."):
        return None
    return Exclusions(base).reason(Path(rel).as_posix())


__all__ = ["IGNORE_FILE", "SECRET_NAMES", "Exclusions", "excluded_reason"]
