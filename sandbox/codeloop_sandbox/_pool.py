"""WarmPool: a pre-forked pytest worker per workspace, living inside the sandbox.

One long-lived bubblewrap sandbox runs a worker that has already imported pytest,
coverage and (unless autoload is disabled) the entry-point plugins, then froze its heap
(gc.freeze). Each run: the host refreshes the scratch copy bound at the original
workspace path, the worker forks one child that runs pytest; afterwards the worker kills
every other process in the sandbox and wipes /tmp. The worker is recycled after
``max_runs`` runs, after any kill (timeout, output cap, cancel), and when the interpreter,
its site-packages or the project's dependency files change.

Isolation caveat (why cold runs stay the default for batch work): runs served by one
worker share its namespaces, so a run could interfere with the worker itself; the sweep
and /tmp wipe between runs, a non-dumpable worker, and recycling on any kill limit that.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from . import _argv, _probe
from ._pytest import DEFAULT_ARGS, collect_results
from ._pytest import run_pytest as _cold_run_pytest
from ._pytest_types import PytestResult
from ._run import Prepared, _Cgroup, _limit_reached, _Reader
from ._spawn import spawner
from ._types import Policy, Result
from ._workspace import ScratchFull, apply_copy, empty_dir, plan_copy, write_extra_files

DEP_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt", "requirements-dev.txt",
             "poetry.lock", "uv.lock", "Pipfile.lock", "conftest.py", "pytest.ini", "tox.ini")
BOOT = "import sys;sys.path.append({helper!r});import _codeloop_sbx_zygote as z;z.main()"


_live_pools: weakref.WeakSet[WarmPool] = weakref.WeakSet()


@atexit.register
def _close_pools() -> None:
    for pool in list(_live_pools):
        with contextlib.suppress(Exception):
            pool.close()


class WarmPool:
    """A warm pytest worker for one workspace. Thread-safe (runs are serialized)."""

    def __init__(self, workspace: str | Path, policy: Policy = Policy(), max_runs: int = 50,
                 start: bool = True) -> None:
        self.workspace = os.path.abspath(os.fspath(workspace))
        self.policy = policy
        self.max_runs = max_runs
        self.runs = 0  # runs served by the current worker
        self.total_runs = 0
        self.restarts = 0  # workers started after the first one
        self._starts = 0
        self.startup_seconds: float | None = None
        self.plugins: list[str] = []
        self.last_error: str | None = None
        self.last_timings: dict = {}
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._prep: Prepared | None = None
        self._ctrl: socket.socket | None = None
        self._cg: _Cgroup | None = None
        self._ready = False
        self._stamp: tuple | None = None
        self._log = None
        _live_pools.add(self)
        if start:
            try:
                self._start()
            except Exception as exc:  # fall back to cold runs; surfaced via last_error
                self.last_error = f"{type(exc).__name__}: {exc}"

    # Life cycle ------------------------------------------------------------------------
    def _dep_stamp(self) -> tuple:
        out = []
        for name in DEP_FILES:
            try:
                st = os.stat(os.path.join(self.workspace, name))
                out.append((name, st.st_mtime_ns, st.st_size))
            except OSError:
                pass
        interp = _probe.interpreter(self.policy.python)
        return (tuple(out), interp.stamp)

    def _start(self) -> None:
        prep = Prepared(self.workspace, self.policy, None, None, helpers=True)
        prep.watchdog = False
        if prep.level not in ("A", "B"):
            prep.cleanup()
            raise RuntimeError(f"warm pool needs sandbox level A or B, have {prep.level}")
        try:
            parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            cfg = {"ctrl_fd": child.fileno()}
            cmd = [prep.interp.executable, "-c", BOOT.format(helper=_argv.HELPER_DIR), json.dumps(cfg)]
            # The worker lives long: its timeout is enforced per run by this class, so
            # RLIMIT_CPU must not count the whole life of the worker.
            argv, _, pass_fds = prep.argv(cmd)
            argv = [a if not a.startswith("--cpu=") else "--cpu=unlimited" for a in argv]
            cg = None
            if prep.probe.status.is_root and prep.probe.cgroup is not None:
                try:
                    cg = _Cgroup(prep.probe.cgroup, self.policy.max_processes + 5)
                    argv = cg.wrap(argv)
                except OSError:
                    cg = None
            self._log = tempfile.TemporaryFile(prefix="codeloop-worker-")  # noqa: SIM115 - the worker's lifetime
            log = self._log
            try:
                # The spawner thread lives as long as the process (PDEATHSIG) and gives the
                # worker a fresh session keyring.
                proc = spawner.popen(
                    argv, env={}, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=True, close_fds=True, pass_fds=(child.fileno(), *pass_fds),
                )
            finally:
                prep.spawned()
                child.close()
            if prep.box is not None:
                try:
                    prep.box.attach(proc)  # mounts in place: the host can reach the copy's tmpfs
                    prep.box.release()
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    raise
        except BaseException:
            prep.cleanup()
            if self._log is not None:
                self._log.close()
                self._log = None
            raise
        self._proc, self._prep, self._ctrl, self._cg = proc, prep, parent, cg
        self._starts += 1
        self.restarts = self._starts - 1
        self._ready = False
        self.runs = 0
        self._stamp = self._dep_stamp()

    def _wait_ready(self, timeout: float = 120.0, cancel: threading.Event | None = None) -> bool:
        """Wait for the worker's hello; False when ``cancel`` was set first."""
        if self._ready:
            return True
        assert self._ctrl is not None
        deadline = time.monotonic() + timeout
        while True:
            if cancel is not None and cancel.is_set():
                return False
            r, _, _ = select.select([self._ctrl], [], [], 0.02)
            if r:
                break
            if time.monotonic() >= deadline or (self._proc is not None and self._proc.poll() is not None):
                raise RuntimeError("warm worker failed to start: " + (self._worker_log() or "no output"))
        msg = self._ctrl.recv(1 << 16)
        if not msg:
            raise RuntimeError("warm worker failed to start: " + self._worker_log())
        info = json.loads(msg)
        self.startup_seconds = info.get("startup")
        self.plugins = info.get("plugins", [])
        self._ready = True
        return True

    def _worker_log(self) -> str:
        if self._log is None:
            return ""
        try:
            self._log.seek(0)
            return self._log.read()[-2000:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _signal_kill(self) -> None:
        """SIGKILL the worker's sandbox now (bwrap's process group, then the pids cgroup)."""
        if self._proc is not None:
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        if self._cg is not None:
            self._cg.kill_all()

    def _kill(self, block: bool = True) -> None:
        """Kill the worker and tear its sandbox down (in the background if not ``block``)."""
        self._signal_kill()
        proc, prep, ctrl, cg, log = self._proc, self._prep, self._ctrl, self._cg, self._log
        self._proc = self._prep = self._ctrl = self._cg = self._log = None
        self._ready = False

        def finish() -> None:
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            for obj in (ctrl, log):
                try:
                    if obj is not None:
                        obj.close()
                except OSError:
                    pass
            if cg is not None:
                cg.remove()

        if prep is not None:
            prep.cleanup(background=True)  # queued: drained at exit even if we are killed
        if block:
            finish()
        else:
            threading.Thread(target=finish, name="codeloop-pool-teardown", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._kill()

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._kill()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _needs_recycle(self) -> str | None:
        if self._proc is None:
            return "not started"
        if self._proc.poll() is not None:
            return "worker exited"
        if self.runs >= self.max_runs:
            return "max runs"
        if self._dep_stamp() != self._stamp:
            return "interpreter or dependencies changed"
        return None

    def recycle(self) -> None:
        with self._lock:
            self._kill()
            self._start()

    # Runs ------------------------------------------------------------------------------
    def run_pytest(
        self,
        args: Sequence[str] = (),
        coverage: bool = False,
        cov_source: Sequence[str] | None = None,
        extra_files: Mapping[str, str | bytes] | None = None,
        on_output: Callable[[str, str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> PytestResult:
        with self._lock:
            try:
                if self._needs_recycle():
                    self._kill()
                    self._start()
                if not self._wait_ready(cancel=cancel):
                    level = self._prep.level if self._prep is not None else "A"
                    return PytestResult(Result(None, "", "", limit="cancelled", cancelled=True, level=level))
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._kill()
                warnings.warn(f"codeloop_sandbox: warm pool unavailable, running cold: {self.last_error}",
                              RuntimeWarning, stacklevel=2)
                return _cold_run_pytest(self.workspace, args, self.policy, coverage, cov_source, extra_files,
                                        on_output, cancel)
            return self._run(args, coverage, cov_source, extra_files, on_output, cancel)

    def _run(self, args, coverage, cov_source, extra_files, on_output, cancel) -> PytestResult:
        prep = self._prep
        assert prep is not None and self._ctrl is not None
        start = time.monotonic()
        if coverage and not prep.interp.has_coverage:
            return PytestResult(Result(None, "", "", level=prep.level),
                                errors=[f"coverage is not installed for {prep.interp.executable}"])
        # Fresh copy in the slot mounted at the original path (the worker swept the last run).
        ws_dir = prep.host_path(self.workspace)
        out_dir = prep.results_dir
        empty_dir(ws_dir)
        empty_dir(out_dir)
        try:
            apply_copy(plan_copy(self.workspace), ws_dir, exist_ok=True)
            if extra_files:
                write_extra_files(ws_dir, extra_files)
        except OSError as exc:
            if not isinstance(exc, ScratchFull) and exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            return PytestResult(Result(None, "", "", limit="scratch", level=prep.level,
                                       message=prep.scratch_message()))
        self.total_runs += 1
        self.runs += 1
        name = f"run{self.total_runs}"
        os.mkdir(os.path.join(out_dir, name))
        sources = None
        if cov_source:
            sources = [os.path.abspath(os.path.join(self.workspace, os.fspath(s))) for s in cov_source]
        cfg = {"out": f"{_argv.OUT_DIR}/{name}", "workspace": self.workspace, "coverage": bool(coverage),
               "cov_source": sources}
        req = {"cfg": cfg, "args": [*DEFAULT_ARGS, *args], "cwd": self.workspace}
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        try:
            socket.send_fds(self._ctrl, [json.dumps(req).encode()], [w_out, w_err])
        finally:
            os.close(w_out)
            os.close(w_err)
        state = _Reader(self.policy.max_output_kib * 1024, on_output)
        files = [os.fdopen(r_out, "rb", buffering=0), os.fdopen(r_err, "rb", buffering=0)]
        threads = [threading.Thread(target=state.pump, args=(f, n), daemon=True)
                   for f, n in zip(files, ("stdout", "stderr"), strict=False)]
        for t in threads:
            t.start()
        deadline = start + self.policy.timeout
        limit = None
        exit_code = None
        while True:
            r, _, _ = select.select([self._ctrl], [], [], 0.02)
            if r:
                msg = self._ctrl.recv(1 << 16)
                if not msg:
                    limit = "crashed"
                    break
                reply = json.loads(msg)
                exit_code = int(reply.get("exit", 3))
                self.last_timings = {"child": reply.get("child"), "sweep": reply.get("sweep")}
                break
            limit = _limit_reached(cancel, state, deadline, prep.box)
            if limit is None and self._proc is not None and self._proc.poll() is not None:
                limit = "crashed"
            if limit:
                break
        if limit is not None:
            self._signal_kill()  # the pid namespace dies with bwrap; recycled on the next run
        for t in threads:
            t.join(timeout=2.0)
        if any(t.is_alive() for t in threads):
            self._signal_kill()
            limit = limit or "output"
            for t in threads:
                t.join(timeout=1.0)
        for f in files:
            f.close()
        if limit is None and state.over:
            limit = "output"
            self._signal_kill()
        if limit is None and prep.box is not None and prep.box.full():
            limit = "scratch"
            self._signal_kill()
        stdout, stderr = state.text()
        if limit == "crashed":
            stderr += "\ncodeloop sandbox: the warm worker died during the run\n"
        if limit is None and exit_code not in (0, None):
            tail = stderr[-4000:] + stdout[-4000:]
            if "MemoryError" in tail:
                limit = "memory"
        res = Result(
            exit_code=None if limit in ("timeout", "output", "cancelled", "crashed", "scratch") else exit_code,
            stdout=stdout,
            stderr=stderr,
            truncated=state.truncated,
            timed_out=limit == "timeout",
            limit=limit,
            duration=time.monotonic() - start,
            level=prep.level,
            cancelled=limit == "cancelled",
            message=prep.scratch_message() if limit == "scratch" else "",
        )
        pres = collect_results(res, os.path.join(out_dir, name), lambda p: p, self.workspace, coverage)
        if limit is not None:
            self._kill(block=False)
        return pres
