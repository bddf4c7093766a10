"""A full build of an index in a process of its own.

The language server's first index (and a reset) runs here, not on one of the server's
threads: discovery, parsing and row building are Python work, and on a thread of the
server they would hold its interpreter lock against the handlers that answer the editor.
The build process runs at a lower CPU priority; it writes the database directly (SQLite
in WAL mode, so the server keeps reading meanwhile) and reports progress as JSON lines
on its stdout. A SIGTERM (the server cancelling) stops it after the batch in hand, keeping
what was written; so does the server going away.

``python -m codeloop.index.build ROOT DB_PATH [--workers N] [--max-bytes N]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from codeloop.index.sync import Report, SyncStats

NICE = 10  # the build gives way to the editor's process


class BuildFailed(Exception):
    """The build process could not run or ended without its result; one line."""


class _Stop:
    """The build's cancel flag: set by SIGTERM, or when the parent process is gone."""

    def __init__(self) -> None:
        self.parent = os.getppid()
        self.flag = False

    def is_set(self) -> bool:
        return self.flag or os.getppid() != self.parent


def _child_env() -> dict[str, str]:
    """The environment, with this tree's codeloop first on the path (a test or a checkout
    may run it from a folder the installed copy does not know)."""
    import codeloop

    here = str(Path(codeloop.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([here, path]) if path else here}


def build_in_child(root: Path, db_path: Path, *, workers: int | None, max_bytes: int, report: Report,
                     cancel: threading.Event) -> tuple[SyncStats, list[str]]:
    """Run a full scan of ``root`` into ``db_path`` in a build process; its stats and warnings.
    Progress goes to ``report``; setting ``cancel`` stops it (what was written stays)."""
    if cancel.is_set():
        return SyncStats(cancelled=True), []
    cmd = [sys.executable, "-m", "codeloop.index.build", os.fspath(root), os.fspath(db_path),
           "--max-bytes", str(max_bytes)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                    env=_child_env(), text=True)
        except OSError as exc:
            raise BuildFailed(f"cannot start the index build: {exc.strerror or exc}") from None
        done = threading.Event()

        def stop() -> None:
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGTERM)

        def watch() -> None:  # the reading below blocks: a cancel is forwarded from here
            while not done.wait(0.1):
                if cancel.is_set():
                    stop()
                    return

        threading.Thread(target=watch, name="codeloop-index-build-watch", daemon=True).start()
        result: dict | None = None
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                with contextlib.suppress(ValueError):
                    message = json.loads(line)
                    if "progress" in message:
                        report(message["progress"], message["fraction"])
                        if cancel.is_set():  # at once, not at the watcher's next look: a build is fast
                            stop()
                    elif "stats" in message:
                        result = message
            proc.wait()
        finally:
            done.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if result is None and cancel.is_set():  # stopped before it could say so
            return SyncStats(cancelled=True), []
        if result is None:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise BuildFailed(f"the index build ended with code {proc.returncode}"
                              + (f": {tail[-1]}" if tail else ""))
    stats = SyncStats(**{**result["stats"], "skipped": Counter(result["stats"]["skipped"])})
    return stats, list(result["warnings"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codeloop.index.build")
    parser.add_argument("root")
    parser.add_argument("db_path")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--max-bytes", type=int, default=None)
    args = parser.parse_args(argv)
    with contextlib.suppress(OSError):
        os.nice(NICE)
    stop = _Stop()

    def on_term(signum: int, frame: object) -> None:
        stop.flag = True

    signal.signal(signal.SIGTERM, on_term)
    from codeloop.index.discover import MAX_FILE_BYTES
    from codeloop.index.workspace_index import WorkspaceIndex

    def emit(message: dict) -> None:
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    with WorkspaceIndex(args.root, Path(args.db_path), max_bytes=args.max_bytes or MAX_FILE_BYTES) as index:
        stats = index.sync(workers=args.workers, cancel=stop,  # type: ignore[arg-type]
                           report=lambda message, fraction: emit({"progress": message, "fraction": fraction}))
        emit({"stats": {**asdict(stats), "skipped": dict(stats.skipped)}, "warnings": index.warnings})
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["BuildFailed", "build_in_child", "main"]
