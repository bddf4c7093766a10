"""Replace a file's content atomically: readers see the old file or the new one, never half.

The text goes to a temporary file in the same directory (``os.replace`` is only atomic
within one file system), is flushed and fsynced, takes the mode of the file it replaces,
and is renamed over it. On any failure, including one raised while writing, the
temporary file is removed and the target keeps its old content (or stays absent).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TextIO


def new_file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: 0o666 less the umask (mkstemp's
    temporary is always 0o600). Read from /proc: ``os.umask`` can only be read by setting
    it, which races with other threads."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


@contextmanager
def atomic_writer(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    newline: str | None = "",
    before_replace: Callable[[], None] | None = None,
    new_mode: int | None = None,
) -> Iterator[TextIO]:
    """A text handle whose content replaces ``path`` when the ``with`` block ends cleanly.

    ``newline=""`` writes the text as given (no translation). ``before_replace`` runs
    after the data is on disk and just before the rename: it may raise to abort (for
    example when the target changed in the meantime). ``new_mode``: the mode when ``path``
    does not exist yet (default: :func:`new_file_mode`); an existing file keeps its own.
    """
    target = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = new_file_mode() if new_mode is None else new_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_dir(directory)


def atomic_write(
    path: str | os.PathLike[str],
    text: str,
    *,
    encoding: str = "utf-8",
    newline: str | None = "",
    before_replace: Callable[[], None] | None = None,
    new_mode: int | None = None,
) -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, encoding=encoding, newline=newline, before_replace=before_replace,
                       new_mode=new_mode) as fh:
        fh.write(text)


def _sync_dir(directory: str) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
