"""The scratch space of a level A/B run: size-capped tmpfs mounts inside the sandbox.

The workspace copy (and the helpers' result directory) live in tmpfs mounts that bwrap
creates with ``--size``, so a run cannot fill the host disk: it gets ENOSPC at the cap
and the host stops it (``Result.limit == "scratch"``). The host writes the copy into the
mount before the command starts: bwrap waits on ``--block-fd`` after all mounts are in
place, the host opens ``/proc/<child>/root/<workspace>`` (same uid, bwrap made the child
dumpable again) and keeps that directory fd. The fd also keeps the mount readable after
the sandbox is gone, which is how results are read after a cold run ends.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time

from ._spawn import close_quietly
from ._workspace import CopyPlan, apply_copy

FULL_SLACK = 64 << 10  # less free space than this counts as "the cap was reached"


class AttachError(RuntimeError):
    """The host could not reach the sandbox's scratch mount."""


class Box:
    """Host-side handles on the scratch mounts of one sandbox."""

    def __init__(self, workspace: str, out_dir: str | None, cap_bytes: int) -> None:
        self.workspace = workspace  # the original path, where the tmpfs is mounted inside
        self.out_inside = out_dir
        self.cap_bytes = cap_bytes
        self.ws_fd: int | None = None
        self.out_fd: int | None = None
        self.info_r: int | None = None
        self.info_w: int | None = None
        self.block_r: int | None = None
        self.block_w: int | None = None

    # Before the spawn ---------------------------------------------------------------------
    def fds_for_bwrap(self) -> tuple[int, int]:
        """(info fd, block fd) to pass to bwrap (``--info-fd``, ``--block-fd``)."""
        self.info_r, self.info_w = os.pipe()
        self.block_r, self.block_w = os.pipe()
        return self.info_w, self.block_r

    def spawned(self) -> None:
        """Close our copies of the ends bwrap holds (so EOF means bwrap is gone)."""
        close_quietly(self.info_w, self.block_r)
        self.info_w = self.block_r = None

    # After the spawn ----------------------------------------------------------------------
    def attach(self, proc: subprocess.Popen, timeout: float = 20.0) -> None:
        """Wait until the sandbox's mounts are in place and open them from the host."""
        deadline = time.monotonic() + timeout
        pid = self._child_pid(proc, deadline)
        try:
            orig = os.stat(self.workspace)
            orig_id = (orig.st_dev, orig.st_ino)
        except OSError:
            orig_id = None
        root = f"/proc/{pid}/root"
        while True:
            # Until bwrap's final pivot_root, /proc/<pid>/root is the host's root, where the
            # path is the ORIGINAL workspace: accept only a different file system.
            try:
                fd = os.open(root + self.workspace, os.O_RDONLY | os.O_DIRECTORY)
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) != orig_id:
                    self.ws_fd = fd
                    break
                os.close(fd)
            except FileNotFoundError:
                pass
            except PermissionError as exc:
                raise AttachError(f"cannot reach the sandbox's scratch space ({root}): {exc.strerror}") from None
            if proc.poll() is not None:
                raise AttachError("bubblewrap exited during setup")
            if time.monotonic() >= deadline:
                raise AttachError("bubblewrap did not finish its setup in time")
            time.sleep(0.0005)
        if self.out_inside:
            try:
                self.out_fd = os.open(root + self.out_inside, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                raise AttachError(f"cannot reach the sandbox's result directory: {exc.strerror}") from None

    def _child_pid(self, proc: subprocess.Popen, deadline: float) -> int:
        assert self.info_r is not None
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AttachError("bubblewrap did not report its child in time")
            r, _, _ = select.select([self.info_r], [], [], min(left, 0.5))
            if not r:
                continue
            chunk = os.read(self.info_r, 4096)
            if not chunk:
                break
            data += chunk
        close_quietly(self.info_r)
        self.info_r = None
        try:
            return int(json.loads(data)["child-pid"])
        except (ValueError, KeyError, TypeError):
            raise AttachError("bubblewrap exited during setup") from None

    @property
    def ws_path(self) -> str:
        """The copy's root as a host path (valid while this object is open)."""
        assert self.ws_fd is not None
        return f"/proc/self/fd/{self.ws_fd}"

    @property
    def out_path(self) -> str | None:
        return f"/proc/self/fd/{self.out_fd}" if self.out_fd is not None else None

    def fill(self, plan: CopyPlan) -> None:
        apply_copy(plan, self.ws_path, exist_ok=True)

    def release(self) -> None:
        """Let the command start (bwrap reads one byte from its block fd)."""
        if self.block_w is not None:
            try:
                os.write(self.block_w, b"x")
            finally:
                close_quietly(self.block_w)
                self.block_w = None

    def full(self) -> bool:
        """Has a run used up the scratch space (bytes or inodes)?"""
        for fd in (self.ws_fd, self.out_fd):
            if fd is None:
                continue
            try:
                st = os.fstatvfs(fd)
            except OSError:
                continue
            if st.f_bavail * st.f_frsize < FULL_SLACK or (st.f_files and st.f_favail == 0):
                return True
        return False

    def close(self) -> None:
        close_quietly(self.ws_fd, self.out_fd, self.info_r, self.info_w, self.block_r, self.block_w)
        self.ws_fd = self.out_fd = self.info_r = self.info_w = self.block_r = self.block_w = None
