"""The scratch copy of a workspace: made on the host, bound at the original path."""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Mapping

# Directory names never copied (caches, VCS, dependencies). Virtualenvs (dirs with
# pyvenv.cfg) are detected and bound read-only instead of copied.
SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".tox", ".nox", "node_modules", ".hypothesis", ".cache", ".idea", ".vscode",
        ".codeloop-sandbox-scratch",
    }
)


class Scratch:
    """``root/ws`` is the workspace copy, ``root/out`` holds helper results."""

    def __init__(self, base: str | None = None) -> None:
        self.root = tempfile.mkdtemp(prefix="codeloop-sbx-", dir=base)
        self.ws = os.path.join(self.root, "ws")
        self.out = os.path.join(self.root, "out")
        os.mkdir(self.out, 0o700)
        self.venvs: list[str] = []  # relative paths of virtualenvs inside the workspace

    def cleanup(self, background: bool = False) -> None:
        if background:
            _cleaner.add(self.root)
        else:
            remove_tree(self.root)


class _Cleaner:
    """Removes scratch trees off the caller's path (a result should not wait for rm)."""

    def __init__(self) -> None:
        self._q: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, path: str) -> None:
        self._q.put(path)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="codeloop-scratch-cleaner", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            path = self._q.get()
            try:
                remove_tree(path)
            finally:
                self._q.task_done()

    def flush(self, wait: float = 10.0) -> None:
        """At exit: remove what is queued, and let an in-progress removal finish."""
        while True:
            try:
                path = self._q.get_nowait()
            except queue.Empty:
                break
            try:
                remove_tree(path)
            finally:
                self._q.task_done()
        deadline = time.monotonic() + wait
        while self._q.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)


_cleaner = _Cleaner()
atexit.register(_cleaner.flush)


def remove_tree(path: str) -> None:
    def onerror(func, p, exc_info):  # a run may have chmod'ed dirs to 000
        try:
            parent = os.path.dirname(p)
            os.chmod(parent, 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


def copy_workspace(src: str, dest: str, exist_ok: bool = False) -> list[str]:
    """Copy ``src`` to ``dest``; symlinks stay links (never followed), special files are
    skipped. Returns relative paths of virtualenvs found (not copied)."""
    venvs: list[str] = []
    src = os.path.abspath(src)
    if not (exist_ok and os.path.isdir(dest) and not os.path.islink(dest)):
        os.mkdir(dest, stat.S_IMODE(os.stat(src).st_mode) | 0o700)
    stack = [("", src, dest)]
    while stack:
        rel, sdir, ddir = stack.pop()
        try:
            entries = list(os.scandir(sdir))
        except OSError:
            continue
        for e in entries:
            s = e.path
            d = os.path.join(ddir, e.name)
            try:
                if e.is_symlink():
                    os.symlink(os.readlink(s), d)
                elif e.is_dir(follow_symlinks=False):
                    erel = os.path.join(rel, e.name) if rel else e.name
                    if e.name in SKIP_DIRS:
                        continue
                    if os.path.exists(os.path.join(s, "pyvenv.cfg")):
                        venvs.append(erel)
                        continue
                    os.mkdir(d, stat.S_IMODE(e.stat(follow_symlinks=False).st_mode) | 0o700)
                    stack.append((erel, s, d))
                elif e.is_file(follow_symlinks=False):
                    shutil.copyfile(s, d, follow_symlinks=False)
                    os.chmod(d, stat.S_IMODE(e.stat(follow_symlinks=False).st_mode) | 0o600)
                # fifos, sockets, devices: skipped
            except OSError:
                continue
    return venvs


def empty_dir(path: str) -> None:
    """Remove everything inside ``path`` (never following links), keeping the dir itself."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o755)
    with os.scandir(path) as it:
        entries = list(it)
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            remove_tree(e.path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(e.path)


def _safe_parent(root: str, rel: str) -> str:
    """Create parent dirs of ``rel`` under ``root`` refusing any symlink on the way."""
    parts = rel.split("/")
    cur = root
    for part in parts[:-1]:
        cur = os.path.join(cur, part)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o755)
            continue
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            raise ValueError(f"extra_files path {rel!r} goes through a symlink or non-directory in the workspace")
    return os.path.join(cur, parts[-1])


def normalize_rel(rel: str) -> str:
    if os.path.isabs(rel):
        raise ValueError(f"extra_files paths must be relative: {rel!r}")
    norm = os.path.normpath(rel).replace(os.sep, "/")
    if norm.startswith("../") or norm == ".." or norm == ".":
        raise ValueError(f"extra_files path escapes the workspace: {rel!r}")
    return norm


def write_extra_files(ws_copy: str, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        target = _safe_parent(ws_copy, normalize_rel(rel))
        try:
            st = os.lstat(target)
            if stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode):
                raise ValueError(f"extra_files path is a directory: {rel!r}")
            os.unlink(target)  # also removes a symlink instead of writing through it
        except FileNotFoundError:
            pass
        data = content.encode() if isinstance(content, str) else bytes(content)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def read_result_file(path: str, limit: int = 64 << 20) -> bytes | None:
    """Read a file the sandbox wrote, never following links or blocking on fifos."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        total = 0
        while total < limit:
            b = os.read(fd, min(1 << 20, limit - total))
            if not b:
                break
            chunks.append(b)
            total += len(b)
        return b"".join(chunks)
    finally:
        os.close(fd)
