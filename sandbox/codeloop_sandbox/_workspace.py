"""The scratch copy of a workspace: made on the host, bound at the original path."""

from __future__ import annotations

import atexit
import contextlib
import errno
import fnmatch
import os
import queue
import stat
import threading
import time
from collections.abc import Mapping

from ._record import Record, field

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
        import tempfile

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
    import shutil

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


PAGE = 4096  # tmpfs allocates whole pages: a 1-byte file costs 4 KiB of the cap
_FULL = (errno.ENOSPC, errno.EDQUOT)


class ScratchFull(OSError):
    """The scratch space (the size-capped tmpfs, or the host disk at level C) is full."""


class CopyPlan(Record):
    """What a copy of a workspace writes: found by one walk, applied to any destination."""

    mode: int
    dirs: list[tuple[str, int]] = field(default_factory=list)  # (relative path, mode)
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (relative path, source, mode)
    links: list[tuple[str, str]] = field(default_factory=list)  # (relative path, target)
    venvs: list[str] = field(default_factory=list)  # relative paths: bound read-only, not copied
    bytes: int = 0  # space the copy takes on a tmpfs (pages, plus one per dir and link)


# Files that hold the user's secrets, never tests' inputs: environment files (templates such
# as .env.example stay) and credential stores. The copy leaves them out, so code under test
# cannot read them (issue 16: a canary in a workspace .env reached the sandbox).
SECRET_FILES = (".env", ".env.*", "*.env", ".envrc", ".netrc", ".pgpass", ".git-credentials")
TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults")


def secret_file(name: str) -> bool:
    """Whether a file of this name stays out of the copy."""
    return any(fnmatch.fnmatchcase(name, p) for p in SECRET_FILES) and not name.endswith(TEMPLATE_SUFFIXES)


def plan_copy(src: str) -> CopyPlan:
    """Walk ``src``: symlinks stay links (never followed), special files, SKIP_DIRS and
    secret files (:data:`SECRET_FILES`) are left out, virtualenvs (dirs with pyvenv.cfg) are listed instead of copied."""
    src = os.path.abspath(src)
    plan = CopyPlan(mode=stat.S_IMODE(os.stat(src).st_mode) | 0o700)
    stack = [("", src)]
    while stack:
        rel, sdir = stack.pop()
        try:
            entries = list(os.scandir(sdir))
        except OSError:
            continue
        for e in entries:
            erel = os.path.join(rel, e.name) if rel else e.name
            try:
                if e.is_symlink():
                    plan.links.append((erel, os.readlink(e.path)))
                    plan.bytes += PAGE
                elif e.is_dir(follow_symlinks=False):
                    if e.name in SKIP_DIRS:
                        continue
                    if os.path.exists(os.path.join(e.path, "pyvenv.cfg")):
                        plan.venvs.append(erel)
                        continue
                    plan.dirs.append((erel, stat.S_IMODE(e.stat(follow_symlinks=False).st_mode) | 0o700))
                    plan.bytes += PAGE
                    stack.append((erel, e.path))
                elif e.is_file(follow_symlinks=False):
                    if secret_file(e.name):
                        continue
                    st = e.stat(follow_symlinks=False)
                    plan.files.append((erel, e.path, stat.S_IMODE(st.st_mode) | 0o600))
                    plan.bytes += -(-st.st_size // PAGE) * PAGE
                # fifos, sockets, devices: skipped
            except OSError:
                continue
    return plan


def apply_copy(plan: CopyPlan, dest: str, exist_ok: bool = False) -> None:
    """Write ``plan`` under ``dest``. Unreadable sources are skipped; a full file system
    raises ScratchFull. New entries only (O_EXCL, no link followed at the destination)."""
    try:
        if not (exist_ok and os.path.isdir(dest)):  # (dest may be a /proc/self/fd/N magic link)
            os.mkdir(dest, plan.mode)
        for rel, mode in plan.dirs:  # parents come first: the walk lists a dir before its entries
            os.mkdir(os.path.join(dest, rel), mode)
        for rel, target in plan.links:
            os.symlink(target, os.path.join(dest, rel))
        for rel, source, mode in plan.files:
            _copy_file(source, os.path.join(dest, rel), mode)
    except OSError as exc:
        if exc.errno in _FULL:
            raise ScratchFull(exc.errno, f"no space left for the workspace copy ({exc.strerror})") from None
        raise


def _copy_file(source: str, target: str, mode: int) -> None:
    try:
        src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return  # unreadable or vanished since the walk: skipped, as before
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            size = os.fstat(src).st_size
            offset = 0
            while offset < size or size == 0:
                sent = os.sendfile(dst, src, offset, (size - offset) or 1)
                if sent == 0:
                    break
                offset += sent
            os.fchmod(dst, mode)
        finally:
            os.close(dst)
    finally:
        os.close(src)


def copy_workspace(src: str, dest: str, exist_ok: bool = False) -> list[str]:
    """Copy ``src`` to ``dest`` (see plan_copy); returns the relative paths of the
    virtualenvs found (not copied)."""
    plan = plan_copy(src)
    apply_copy(plan, dest, exist_ok)
    return plan.venvs


def empty_dir(path: str) -> None:
    """Remove everything inside ``path`` (never following links), keeping the dir itself
    and mount points (a virtualenv bound read-only inside the sandbox's workspace)."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o755)
    dev = os.stat(path).st_dev
    with os.scandir(path) as it:
        entries = list(it)
    for e in entries:
        with contextlib.suppress(OSError):
            if e.stat(follow_symlinks=False).st_dev != dev:
                continue
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
