"""run(): one command in the sandbox over a scratch copy of a workspace."""

from __future__ import annotations

import atexit
import codecs
import contextlib
import errno
import os
import select
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence

from . import _argv, _hardening, _probe
from ._box import AttachError, Box
from ._seccomp import program_fd
from ._spawn import close_quietly, spawner
from ._types import Policy, Result, SandboxUnavailable
from ._workspace import PAGE, SKIP_DIRS, CopyPlan, Scratch, ScratchFull, apply_copy, plan_copy, write_extra_files

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from pathlib import Path

OutputCallback = Callable[[str, str], None]
HELPERS_HOST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_inside")
_PY_NAMES = ("python", "python3")
TIMEOUT_BIN = "/usr/bin/timeout"


def check_level(policy: Policy) -> tuple[_probe.Probe, str]:
    pr = _probe._probe()
    if pr.bwrap is None and any(os.access(p, os.X_OK) for p in _probe._bwrap_candidates()):
        pr = _probe._probe(refresh=True)  # bubblewrap (re)installed since the probe
    st = pr.status
    level = st.level
    if level == "D" or level not in policy.allow_levels:
        why = st.detail or f"sandbox level {level}"
        if st.warnings and level == "B":
            why = st.warnings[-1]
        fix = f"; fix: {st.fix}" if st.fix else ""
        allowed = ",".join(policy.allow_levels) or "none"
        raise SandboxUnavailable(
            f"sandbox level {level} available but only {allowed} allowed: {why}{fix}", st
        )
    if level == "C":
        warnings.warn(
            "codeloop_sandbox: running at level C (limits only): NO file system, network or process isolation",
            RuntimeWarning,
            stacklevel=3,
        )
    return pr, level


def _gone(bwrap: str) -> SandboxUnavailable:
    """bwrap vanished after the probe (uninstalled, or replaced by an upgrade): re-probe next time."""
    _probe.invalidate()
    return SandboxUnavailable(
        f"bubblewrap disappeared: {bwrap} no longer exists (removed or upgraded while codeloop was running); "
        f"fix: {_probe.FIX_INSTALL}"
    )


class Prepared:
    """A scratch copy plus the command line that runs inside it.

    Level A/B ("boxed"): the copy is planned here and written by ``execute`` into a
    size-capped tmpfs inside the sandbox, after bwrap has mounted it and before the
    command starts (``_box.Box``). Level C: the copy is made now, on the host.
    """

    def __init__(
        self,
        workspace: str | Path,
        policy: Policy,
        cwd: str | Path | None,
        extra_files: Mapping[str, str | bytes] | None,
        *,
        helpers: bool = False,
        extra_env: Mapping[str, str] | None = None,
        copy: bool = True,
        scratch_base: str | None = None,
        rw_binds: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.probe, self.level = check_level(policy)
        self.policy = policy
        self.workspace = os.path.abspath(os.fspath(workspace))
        if not os.path.isdir(self.workspace):
            raise FileNotFoundError(f"workspace is not a directory: {self.workspace}")
        cwd_abs = os.path.abspath(os.path.join(self.workspace, os.fspath(cwd))) if cwd is not None else self.workspace
        if cwd_abs != self.workspace and not cwd_abs.startswith(self.workspace.rstrip("/") + "/"):
            raise ValueError(f"cwd {cwd_abs} is not inside the workspace {self.workspace}")
        self.cwd = cwd_abs
        self.interp = _probe.interpreter(policy.python)
        self.helpers = helpers
        unsupported = self.probe.unsupported
        self.boxed = self.level in ("A", "B") and _hardening.scratch_boxed(unsupported)
        self.seccomp = _hardening.seccomp_program(unsupported) if self.level in ("A", "B") else None
        self.cap_bytes = policy.scratch_mib << 20
        self.box: Box | None = None
        self._seccomp_fd: int | None = None
        self.plan = plan_copy(self.workspace) if copy else CopyPlan(mode=0o700)
        self.venvs = self.plan.venvs
        self.extra_files = dict(extra_files or {})
        self.over_cap = ""
        need = self.plan.bytes + sum(-(-len(v) // PAGE) * PAGE for v in self.extra_files.values())
        if self.boxed and need > self.cap_bytes - (64 << 10):
            self.over_cap = (
                f"the workspace copy needs {need / (1 << 20):.0f} MiB, over the scratch limit of "
                f"{policy.scratch_mib} MiB (Policy.scratch_mib; `codeloop sandbox run --scratch MiB`)"
            )
        self.scratch: Scratch | None = None
        if not self.boxed:
            try:
                self.scratch = Scratch(scratch_base)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                import tempfile

                where = scratch_base or tempfile.gettempdir()
                self.over_cap = f"no space left for a scratch directory in {where} ({exc.strerror})"
        if self.scratch is not None:
            try:
                apply_copy(self.plan, self.scratch.ws)
                if self.extra_files:
                    write_extra_files(self.scratch.ws, self.extra_files)
                os.makedirs(self.host_path(self.cwd), exist_ok=True)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    self.scratch.cleanup()
                    raise
                where = os.path.dirname(self.scratch.root)
                self.over_cap = f"no space left for the scratch copy in {where} ({os.strerror(exc.errno)})"
            except BaseException:
                self.scratch.cleanup()
                raise
        env_extra = dict(policy.env or {})
        env_extra.update(extra_env or {})
        self.env, env_warnings = _argv.sandbox_env([self.interp.bin_dir], policy.allow_env, env_extra)
        for w in env_warnings:
            warnings.warn(f"codeloop_sandbox: {w}", RuntimeWarning, stacklevel=3)
        self.env_warnings = env_warnings
        self.extra_rw_binds = list(rw_binds)
        self.watchdog = True  # in-sandbox wall-clock kill (off for the long-lived warm worker)

    # Paths -------------------------------------------------------------------------------
    def host_path(self, original: str) -> str:
        """Where an original workspace path lives in the scratch copy, seen from the host."""
        root = self.box.ws_path if self.box is not None else self.scratch.ws  # type: ignore[union-attr]
        rel = os.path.relpath(original, self.workspace)
        return root if rel == "." else os.path.join(root, rel)

    @property
    def results_dir(self) -> str:
        """Where the helpers' result files are, seen from the host (read them before cleanup)."""
        if self.box is not None:
            return self.box.out_path or ""
        return self.scratch.out if self.scratch is not None else ""

    def _copied(self, d: str) -> bool:
        """Is ``d`` (a directory inside the workspace) part of the copy?"""
        rel = os.path.relpath(d, self.workspace)
        parts = rel.split(os.sep)
        if any(p in SKIP_DIRS for p in parts):
            return False
        if any(rel == v or rel.startswith(v + os.sep) for v in self.venvs):
            return False
        return os.path.isdir(d)

    def to_original(self, path: str) -> str:
        """Map a path seen by the run back to the original workspace (level C runs)."""
        if self.level in ("A", "B") or self.scratch is None:
            return path
        for prefix, repl in ((self.scratch.ws, self.workspace), (os.path.realpath(self.scratch.ws), self.workspace)):
            if path == prefix or path.startswith(prefix + "/"):
                return repl + path[len(prefix):]
        return path

    @property
    def out_dir_inside(self) -> str:
        if self.level in ("A", "B"):
            return _argv.OUT_DIR
        assert self.scratch is not None
        return self.scratch.out

    @property
    def helper_dir_inside(self) -> str:
        return _argv.HELPER_DIR if self.level in ("A", "B") else HELPERS_HOST_DIR

    def resolve_command(self, argv: Sequence[str]) -> list[str]:
        argv = [os.fspath(a) for a in argv]
        if not argv:
            raise ValueError("empty argv")
        first = argv[0]
        ver = ".".join(self.interp.version.split(".")[:2])
        if first in _PY_NAMES or first == f"python{ver}":
            argv[0] = self.interp.executable
        return argv

    def limits(self) -> list[str]:
        p = self.policy
        prl = self.probe.prlimit
        if not prl:
            return []
        cpu = int(p.timeout) + 3
        nproc = p.max_processes
        if self.level == "C":
            # Outside a user namespace NPROC counts every process of the user: skip it.
            nproc = 0
        args = _argv.prlimit_argv(
            prl,
            nproc=nproc,
            as_bytes=p.memory_mib << 20,
            fsize_bytes=p.max_file_mib << 20,
            nofile=p.max_open_files,
            cpu_seconds=cpu,
        )
        if nproc == 0:
            args = [a for a in args if not a.startswith("--nproc")]
        if self.watchdog and os.access(TIMEOUT_BIN, os.X_OK):
            # Wall-clock bound that holds even if this process dies before bwrap armed
            # --die-with-parent (PDEATHSIG set after the parent died never fires).
            args += [TIMEOUT_BIN, "-s", "KILL", f"{int(p.timeout) + 2}s"]
        return args

    def argv(self, command: Sequence[str]) -> tuple[list[str], str | None, tuple[int, ...]]:
        """Return (argv to exec with env={}, cwd for Popen, fds to pass).

        Opens the fds bwrap reads (seccomp program, info and block pipes): the caller
        passes them to Popen and calls ``spawned()`` right after."""
        cmd = self.resolve_command(command)
        if self.level == "C":
            assert self.scratch is not None
            env_home = os.path.join(self.scratch.root, "home")
            os.makedirs(env_home, exist_ok=True)
            self.env["HOME"] = env_home
            self.env["TMPDIR"] = env_home
            return self.limits() + cmd, self.host_path(self.cwd), ()
        ro: list[tuple[str, str]] = [(d, d) for d in self.probe.system_ro]
        ws = self.workspace
        for d in self.interp.dirs:
            if (d == ws or d.startswith(ws.rstrip("/") + "/")) and self._copied(d):
                continue  # already part of the copy
            ro.append((d, d))  # (a dir above the workspace: the copy is mounted over it afterwards)
        for rel in self.venvs:
            src = os.path.join(ws, rel)
            if (src, src) not in ro:
                ro.append((src, src))
        if self.helpers:
            ro.append((HELPERS_HOST_DIR, _argv.HELPER_DIR))
        rw = list(self.extra_rw_binds)
        tmpfs: list[tuple[str, int]] = []
        pass_fds: list[int] = []
        info_fd = block_fd = seccomp_fd = None
        if self.boxed:
            self.box = Box(ws, _argv.OUT_DIR if self.helpers else None, self.cap_bytes)
            tmpfs.append((ws, self.cap_bytes))
            if self.helpers:
                tmpfs.append((_argv.OUT_DIR, self.cap_bytes))
            info_fd, block_fd = self.box.fds_for_bwrap()
            pass_fds += [info_fd, block_fd]
        else:
            assert self.scratch is not None
            rw.insert(0, (self.scratch.ws, ws))
            if self.helpers:
                rw.append((self.scratch.out, _argv.OUT_DIR))
        if self.seccomp is not None:
            seccomp_fd = program_fd(self.seccomp)
            self._seccomp_fd = seccomp_fd
            pass_fds.append(seccomp_fd)
        spec = _argv.BwrapSpec(
            bwrap=self.probe.bwrap or "/usr/bin/bwrap",
            command=cmd,
            cwd=self.cwd,
            env=self.env,
            ro_binds=ro,
            rw_binds=rw,
            symlinks=self.probe.symlinks,
            tmp_bytes=self.policy.tmp_mib << 20,
            shm_bytes=min(64, self.policy.tmp_mib) << 20,
            limits=self.limits(),
            unsupported=self.probe.unsupported,
            tmpfs=tmpfs,
            cover=[p for p in _argv.KEY_FILES if os.path.exists(p)],
            seccomp_fd=seccomp_fd,
            info_fd=info_fd,
            block_fd=block_fd,
        )
        return _argv.build_bwrap_argv(spec), None, tuple(pass_fds)

    def spawned(self) -> None:
        """After Popen: close our copies of the fds bwrap now holds."""
        close_quietly(self._seccomp_fd)
        self._seccomp_fd = None
        if self.box is not None:
            self.box.spawned()

    def fill(self, proc: subprocess.Popen) -> None:
        """Boxed runs: write the copy into the sandbox's tmpfs, then let the command start.
        Raises ScratchFull (the copy does not fit) or AttachError."""
        if self.box is None:
            return
        self.box.attach(proc)
        self.box.fill(self.plan)
        try:
            if self.extra_files:
                write_extra_files(self.box.ws_path, self.extra_files)
            os.makedirs(self.host_path(self.cwd), exist_ok=True)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ScratchFull(exc.errno, "no space left for the extra files") from None
            raise
        self.box.release()

    def scratch_message(self) -> str:
        return (
            f"the scratch space is full: the workspace copy and what the run wrote reached the "
            f"{self.policy.scratch_mib} MiB limit (Policy.scratch_mib; `codeloop sandbox run --scratch MiB`)"
        )

    def cleanup(self, background: bool = False) -> None:
        close_quietly(getattr(self, "_seccomp_fd", None))
        self._seccomp_fd = None
        if self.box is not None:
            self.box.close()
        if self.scratch is not None:
            self.scratch.cleanup(background)


class _Cgroup:
    """A per-run pids cgroup (root only: the kernel ignores RLIMIT_NPROC for root)."""

    SH = "/bin/sh"

    def __init__(self, root: _probe.CgroupRoot, max_pids: int) -> None:
        self.path = os.path.join(root.path, f"codeloop-{os.urandom(6).hex()}")
        os.mkdir(self.path)
        with open(os.path.join(self.path, "pids.max"), "w") as fh:
            fh.write(str(max_pids))
        self.procs = os.path.join(self.path, "cgroup.procs")

    def wrap(self, argv: list[str]) -> list[str]:
        """Prefix that moves the process into the group, then execs ``argv``.

        A shell builtin does it (no preexec_fn: that would force fork() instead of
        vfork() in this possibly large, multi-threaded process)."""
        return [self.SH, "-c", 'echo 0 > "$0" && exec "$@"', self.procs, *argv]

    def kill_all(self) -> None:
        try:
            with open(self.procs) as fh:
                pids = [int(x) for x in fh.read().split()]
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def _try_remove(self) -> bool:
        try:
            os.rmdir(self.path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            return False

    def remove(self) -> None:
        """Remove now if empty, else let the reaper thread retry (processes still exiting)."""
        if not self._try_remove():
            _cgroup_reaper.add(self)


class _CgroupReaper:
    def __init__(self) -> None:
        self._pending: list[tuple[_Cgroup, float]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, cg: _Cgroup) -> None:
        with self._lock:
            self._pending.append((cg, time.monotonic() + 30.0))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="codeloop-cgroup-reaper", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(0.05)
            with self._lock:
                keep = []
                for cg, deadline in self._pending:
                    if cg._try_remove():
                        continue
                    cg.kill_all()
                    if time.monotonic() < deadline:
                        keep.append((cg, deadline))
                self._pending = keep
                if not keep:
                    self._thread = None
                    return


    def flush(self, wait: float = 2.0) -> None:
        """At exit: give pending groups a moment to empty, then remove them. A group is
        usually empty a millisecond after its bwrap (the last of its processes being
        reaped), so poll finely at first: a short-lived caller (the CLI) waits here."""
        deadline = time.monotonic() + wait
        pause = 0.001
        while time.monotonic() < deadline:
            with self._lock:
                self._pending = [(cg, d) for cg, d in self._pending if not cg._try_remove()]
                if not self._pending:
                    return
                for cg, _ in self._pending:
                    cg.kill_all()
            time.sleep(pause)
            pause = min(pause * 2, 0.02)


_cgroup_reaper = _CgroupReaper()
atexit.register(_cgroup_reaper.flush)


def execute(
    prep: Prepared,
    command: Sequence[str],
    on_output: OutputCallback | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``command`` for a prepared scratch copy, enforcing timeout, output cap and the
    scratch cap."""
    policy = prep.policy
    if prep.over_cap:
        return Result(None, "", "", limit="scratch", level=prep.level, message=prep.over_cap)
    bwrap = prep.probe.bwrap if prep.level in ("A", "B") else None
    if bwrap and not os.access(bwrap, os.X_OK):
        raise _gone(bwrap)
    argv, popen_cwd, pass_fds = prep.argv(command)
    timeout = policy.timeout if timeout is None else timeout
    cap = policy.max_output_kib * 1024
    cg: _Cgroup | None = None
    if prep.level in ("A", "B") and prep.probe.status.is_root and prep.probe.cgroup is not None:
        try:
            # bwrap (2 processes) + the prlimit shim exec + the run itself.
            cg = _Cgroup(prep.probe.cgroup, policy.max_processes + 3)
            argv = cg.wrap(argv)
        except OSError:
            cg = None
    try:
        # From the spawner thread: a fresh session keyring, and PDEATHSIG tied to a thread
        # that lives as long as the process.
        proc = spawner.popen(
            argv,
            env=prep.env if prep.level == "C" else {},
            cwd=popen_cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            pass_fds=pass_fds,
        )
    except FileNotFoundError:
        if cg is not None:
            cg.remove()
        if bwrap and not os.access(bwrap, os.X_OK):
            raise _gone(bwrap) from None
        raise
    except BaseException:
        if cg is not None:
            cg.remove()
        raise
    finally:
        prep.spawned()
    state = _Reader(cap, on_output)
    threads = [
        threading.Thread(target=state.pump, args=(proc.stdout, "stdout"), daemon=True),
        threading.Thread(target=state.pump, args=(proc.stderr, "stderr"), daemon=True),
    ]
    for t in threads:
        t.start()
    limit: str | None = None
    box = prep.box

    def kill() -> None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        if cg is not None:
            cg.kill_all()

    try:
        prep.fill(proc)
    except ScratchFull:
        limit = "scratch"
    except AttachError as exc:
        if proc.poll() is None:  # bwrap alive but unreachable: fail closed, one line
            kill()
            proc.wait()
            raise SandboxUnavailable(str(exc), prep.probe.status) from None
        # bwrap died during setup: its own message is on stderr; probe again next time.
        _probe.invalidate()
    except BaseException:
        kill()
        proc.wait()
        raise
    if limit is not None:
        kill()
    start = time.monotonic()
    deadline = start + timeout
    # A pidfd wakes us the moment bwrap exits (Popen.wait(timeout) polls with sleeps).
    try:
        pidfd: int | None = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while limit is None:
            if pidfd is not None:
                select.select([pidfd], [], [], 0.02)
                if proc.poll() is not None:
                    break
            else:
                try:
                    proc.wait(timeout=0.02)
                    break
                except subprocess.TimeoutExpired:
                    pass
            limit = _limit_reached(cancel, state, deadline, box)
            if limit:
                kill()
        proc.wait()
    except BaseException:
        kill()
        proc.wait()
        raise
    finally:
        if pidfd is not None:
            os.close(pidfd)
        if limit is None and state.over:
            limit = "output"
        # The pid namespace died with bwrap; pipes reach EOF. Do not hang on leftovers.
        for t in threads:
            t.join(timeout=2.0)
        if any(t.is_alive() for t in threads):
            kill()
            for t in threads:
                t.join(timeout=1.0)
        for f in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                f.close()
        if cg is not None:
            cg.remove()
    duration = time.monotonic() - start
    stdout, stderr = state.text()
    rc = proc.returncode
    if limit is None and box is not None and box.full():
        limit = "scratch"  # the run hit the cap and ended before the next check
    if bwrap and rc == 127 and not os.access(bwrap, os.X_OK):
        raise _gone(bwrap)  # vanished between the check and the exec (the cgroup shell said 127)
    exit_code: int | None = rc
    if limit is not None:
        exit_code = None
    elif rc is not None and rc < 0:
        exit_code = 128 - rc
    if limit is None and exit_code not in (0, None):
        tail = stderr[-4000:]
        if "MemoryError" in tail or "Cannot allocate memory" in tail or "std::bad_alloc" in tail:
            limit = "memory"
        elif exit_code == 128 + signal.SIGXCPU:
            limit = "cpu"
        elif exit_code == 128 + signal.SIGXFSZ or "File too large" in tail:
            limit = "file_size"
    if limit is None and prep.level in ("A", "B"):
        _probe.note_failure(exit_code, stderr)  # bwrap could not set up: probe again next time
    return Result(
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        truncated=state.truncated,
        timed_out=limit == "timeout",
        limit=limit,
        duration=duration,
        level=prep.level,
        cancelled=limit == "cancelled",
        message=prep.scratch_message() if limit == "scratch" else "",
    )


def _limit_reached(cancel: threading.Event | None, state: _Reader, deadline: float,
                   box: Box | None = None) -> str | None:
    """Why a running sandbox must stop now (``cancelled``, ``output``, ``scratch``,
    ``timeout``), or None; checked in this order by both the cold run and the warm pool."""
    if cancel is not None and cancel.is_set():
        return "cancelled"
    if state.over:
        return "output"
    if box is not None and box.full():
        return "scratch"
    if time.monotonic() >= deadline:
        return "timeout"
    return None


class _Reader:
    def __init__(self, cap: int, on_output: OutputCallback | None) -> None:
        self.cap = cap
        self.total = 0
        self.over = False
        self.truncated = False
        self.lock = threading.Lock()
        self.chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        self.on_output = on_output

    def pump(self, pipe, name: str) -> None:
        fd = pipe.fileno()
        dec = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                room = self.cap - self.total
                if len(data) > room:
                    data = data[: max(room, 0)]
                    self.truncated = True
                    self.over = True
                self.total += len(data)
                if data:
                    self.chunks[name].append(data)
            if data and self.on_output is not None:
                try:
                    text = dec.decode(data)
                    if text:
                        self.on_output(name, text)
                except Exception:  # a broken callback must not break the run
                    pass
            if self.over:
                # Keep draining so the writer cannot block; drop the bytes.
                continue

    def text(self) -> tuple[str, str]:
        with self.lock:
            return (
                b"".join(self.chunks["stdout"]).decode("utf-8", "replace"),
                b"".join(self.chunks["stderr"]).decode("utf-8", "replace"),
            )


def run(
    argv: Sequence[str],
    workspace: str | Path,
    policy: Policy = Policy(),
    cwd: str | Path | None = None,
    extra_files: Mapping[str, str | bytes] | None = None,
    on_output: OutputCallback | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Run ``argv`` inside the sandbox over a scratch copy of ``workspace``.

    ``argv[0] == "python"`` means ``policy.python``. The original workspace is never
    written; ``extra_files`` go into the copy only. Raises SandboxUnavailable when the
    available level is not in ``policy.allow_levels``.
    """
    prep = Prepared(workspace, policy, cwd, extra_files)
    try:
        return execute(prep, argv, on_output=on_output, cancel=cancel)
    finally:
        prep.cleanup(background=True)
