"""Start every bwrap from one long-lived thread that gives each a fresh session keyring.

Two reasons for one thread:
- bwrap --die-with-parent uses PR_SET_PDEATHSIG, which fires when the *thread* that
  forked bwrap exits, not the process: a sandbox started from a short-lived thread (a
  request handler, a thread pool) would be SIGKILLed as soon as that thread ends.
- The session keyring is inherited through clone(CLONE_NEWUSER): a run could read the
  caller's keys (ssh/kerberos/ecryptfs) and add its own. Since Linux 3.8 the session
  keyring belongs to the thread's credentials, so this thread joins a new, empty,
  anonymous session keyring before each spawn: the run gets its own, the caller's threads
  keep theirs. (The seccomp filter refuses keyctl/add_key/request_key inside as well.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

_KEYCTL_NR = {"x86_64": 250, "amd64": 250, "aarch64": 219, "arm64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1


class _Keyring:
    """keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) through libc's syscall() (ctypes loaded on
    first use: a process that never starts a sandbox does not pay for it)."""

    def __init__(self) -> None:
        self.machine = os.uname().machine  # (platform.machine() is this, at an import's cost)
        self.nr = _KEYCTL_NR.get(self.machine.lower())
        self._libc: Any = None
        self._loaded = False
        self.error = ""

    @property
    def libc(self) -> Any:
        if not self._loaded:
            self._loaded = True
            if self.nr is None:
                self.error = f"no keyctl number for {self.machine}"
                return None
            try:
                import ctypes

                self._libc = ctypes.CDLL(None, use_errno=True)
                self._libc.syscall.restype = ctypes.c_long
            except (OSError, AttributeError) as exc:
                self.error = f"libc syscall() unavailable: {exc}"
        return self._libc

    def join_fresh(self) -> bool:
        """Give the calling thread a new anonymous session keyring; False (and ``error``) if not."""
        libc = self.libc
        if libc is None:
            return False
        if libc.syscall(self.nr, KEYCTL_JOIN_SESSION_KEYRING, None) >= 0:
            self.error = ""
            return True
        import ctypes

        err = ctypes.get_errno()
        self.error = f"keyctl(JOIN_SESSION_KEYRING): {errno.errorcode.get(err, err)}"
        return False


class Spawner:
    """Runs callables on one daemon thread that lives as long as the process."""

    def __init__(self) -> None:
        self._q: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.keyring = _Keyring()
        self.fresh_keyring = False  # did the last spawn get a fresh session keyring?

    def call(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="codeloop-sandbox-spawner", daemon=True)
                self._thread.start()
        done = threading.Event()
        box: dict = {}
        self._q.put((fn, box, done))
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _loop(self) -> None:
        while True:
            fn, box, done = self._q.get()
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["error"] = exc
            done.set()

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        """``subprocess.Popen(argv, **kwargs)`` from the spawner thread, in a fresh keyring."""

        def start() -> subprocess.Popen:
            self.fresh_keyring = self.keyring.join_fresh()
            return subprocess.Popen(list(argv), **kwargs)

        return self.call(start)


spawner = Spawner()


def close_quietly(*fds: int | None) -> None:
    for fd in fds:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
