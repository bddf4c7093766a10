"""Runs INSIDE the sandbox: a warm worker that forks one pytest session per request.

Protocol over an inherited AF_UNIX SOCK_SEQPACKET socket (fd in the config):
  worker -> host: {"ready": true, ...} once imports are done
  host -> worker: {"cfg": {...}, "args": [...], "cwd": "..."} with two fds (stdout, stderr)
  worker -> host: {"exit": code} after the child ended and every other process of the
                  sandbox was killed and /tmp was wiped (so the next run starts clean).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import shutil
import signal
import socket
import sys
import time


def _preload(autoload: bool) -> list[str]:
    loaded = []
    import pytest  # noqa: F401

    try:
        from _pytest.config import default_plugins

        for name in default_plugins:
            with contextlib.suppress(Exception):
                importlib.import_module("_pytest." + name)
    except Exception:
        pass
    for name in ("_pytest._argcomplete", "pdb", "email.parser", "difflib", "pprint"):
        with contextlib.suppress(Exception):
            importlib.import_module(name)  # imported lazily by every session otherwise
    try:
        import coverage  # noqa: F401
        import coverage.control  # noqa: F401

        loaded.append("coverage")
    except Exception:
        pass
    if autoload:
        # Entry-point plugins (hypothesis, pytest-asyncio, ...) are what makes pytest slow
        # to start. Import them here, and the top-level packages of their distributions:
        # plugins import those lazily during the session (hypothesis at terminal summary),
        # where pytest's assertion rewriter recompiles every module of the distribution
        # (no bytecode cache in a read-only venv): seconds per run.
        try:
            from importlib.metadata import entry_points

            for ep in entry_points(group="pytest11"):
                try:
                    ep.load()
                    loaded.append(ep.name)
                except Exception:
                    continue
                dist = getattr(ep, "dist", None)
                tops = []
                try:
                    text = dist.read_text("top_level.txt") if dist is not None else None
                    tops = [t.strip() for t in (text or "").splitlines() if t.strip()]
                    if not tops and dist is not None:
                        for f in dist.files or ():
                            parts = f.parts
                            if len(parts) == 1 and parts[0].endswith(".py"):
                                tops.append(parts[0][:-3])
                            elif len(parts) > 1 and parts[-1] == "__init__.py" and len(parts) == 2:
                                tops.append(parts[0])
                except Exception:
                    tops = []
                if not tops:
                    tops = [ep.value.split(":")[0].split(".")[0]]
                for top in tops:
                    if top.startswith("_") and top not in sys.modules:
                        continue  # private helpers (e.g. _hypothesis_ftz_detector): skip
                    with contextlib.suppress(Exception):
                        importlib.import_module(top)
        except Exception:
            pass
    return loaded


def _set_dumpable(flag: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, flag, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:
        pass


def _sweep() -> None:
    """Kill every process of the sandbox except pid 1 (bwrap's init) and this worker."""
    me = os.getpid()
    for _ in range(100):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        alive = []
        for pid in others:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    state = fh.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state in ("Z", "X"):
                continue
            alive.append(pid)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:  # reap our own children
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not alive:
            return
        time.sleep(0.005)


def _wipe_tmp() -> None:
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass
    os.makedirs(os.environ.get("HOME", "/tmp/home"), exist_ok=True)


def _wait_child(pid: int, ctrl: socket.socket):
    """Wait for the run's child; None if the control socket closed meanwhile (host died)."""
    import select

    try:
        pidfd = os.pidfd_open(pid)  # readable the moment the child exits
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            watched = [ctrl] if pidfd is None else [ctrl, pidfd]
            r, _, _ = select.select(watched, [], [], 0.1 if pidfd is not None else 0.005)
            if ctrl not in r:
                continue
            try:
                data = ctrl.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                return None
            if not data:
                return None
    finally:
        if pidfd is not None:
            os.close(pidfd)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    ctrl = socket.socket(fileno=int(cfg["ctrl_fd"]))
    t0 = time.monotonic()
    loaded = _preload(os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") is None)
    import _codeloop_sbx_runner as runner

    if "coverage" in loaded:
        with contextlib.suppress(Exception):
            runner.warm_coverage()
    _set_dumpable(0)  # runs (same uid) cannot ptrace the worker and poison later runs
    gc.collect()
    gc.freeze()
    ctrl.send(json.dumps({"ready": True, "plugins": loaded, "startup": time.monotonic() - t0}).encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctrl, 1 << 20, 2)
        except OSError:
            break
        if not msg:
            break
        req = json.loads(msg)
        sys.stdout.flush()
        sys.stderr.flush()
        t_fork = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                ctrl.close()
                os.dup2(fds[0], 1)
                os.dup2(fds[1], 2)
                for fd in fds:
                    os.close(fd)
                os.chdir(req["cwd"])
                importlib.invalidate_caches()
                sys.path_importer_cache.clear()
                args = list(req["args"])
                sys.argv = ["pytest", *args]
                code = runner.run_pytest(req["cfg"], args)
            except BaseException as exc:  # noqa: BLE001
                with contextlib.suppress(OSError):
                    os.write(2, f"codeloop sandbox worker: {type(exc).__name__}: {exc}\n".encode())
                code = 3
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except Exception:
                pass
            os._exit(code)
        for fd in fds:
            os.close(fd)
        status = _wait_child(pid, ctrl)
        if status is None:  # the host went away mid-run: end the sandbox
            os.kill(pid, signal.SIGKILL)
            _sweep()
            os._exit(0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            code = 128 - code
        t_child = time.monotonic()
        _sweep()
        _wipe_tmp()
        ctrl.send(json.dumps({"exit": code, "child": t_child - t_fork, "sweep": time.monotonic() - t_child}).encode())
    os._exit(0)
