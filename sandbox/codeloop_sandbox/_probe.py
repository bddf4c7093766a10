"""Find bubblewrap, probe what works, and describe interpreters.

Both answers are cached in memory and on disk (:mod:`._probecache`), each under a key
of what it depends on that is cheap to recompute, so a new process pays a few stats
instead of three bwraps and an interpreter query. A run that fails the way bubblewrap
fails when the machine changed under it (:func:`note_failure`) drops the cached probe.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading

from . import _argv, _hardening, _probecache, _seccomp
from ._record import Record, as_dict
from ._types import InterpreterMissing, SandboxStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# Fixed system locations only: never PATH-relative, never inside a workspace.
BWRAP_CANDIDATES = ("/usr/bin/bwrap", "/usr/local/bin/bwrap")
# Test/ops hook: an os.pathsep-separated list of absolute candidate paths that replaces
# BWRAP_CANDIDATES (e.g. "/nonexistent/bwrap" to simulate a machine without bubblewrap).
BWRAP_ENV = "CODELOOP_SANDBOX_BWRAP"
PRLIMIT_CANDIDATES = ("/usr/bin/prlimit", "/bin/prlimit")
FIX_INSTALL = "apt-get install bubblewrap  (Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap)"

_lock = threading.Lock()
_cache: dict[str, tuple[list[Any], Probe]] = {}  # $CODELOOP_SANDBOX_BWRAP -> (key, probe)
_interp_cache: dict[str, Interpreter] = {}


class Interpreter(Record, frozen=True):
    """What binding and calling one Python interpreter needs."""

    executable: str  # absolute, not resolved through symlinks (a venv's bin/python)
    bin_dir: str
    dirs: tuple[str, ...]  # prefixes and sys.path dirs to bind read-only
    version: str
    has_pytest: bool
    has_coverage: bool
    stamp: tuple  # changes when the interpreter or its site-packages change


class Probe(Record):
    """The probe's answer: the status and what building a bwrap command line needs."""

    status: SandboxStatus
    bwrap: str | None
    prlimit: str | None
    unsupported: frozenset[str]
    symlinks: tuple[tuple[str, str], ...]
    system_ro: tuple[str, ...]  # top-level dirs that are real dirs (not /usr symlinks) to bind
    cgroup: CgroupRoot | None


class CgroupRoot(Record, frozen=True):
    """A pids cgroup directory per-run groups are made under (root only)."""

    version: int  # 1 or 2
    path: str  # directory under which per-run groups are created


def _bwrap_candidates() -> tuple[str, ...]:
    override = os.environ.get(BWRAP_ENV)
    if override:
        return tuple(p for p in override.split(os.pathsep) if os.path.isabs(p))
    return BWRAP_CANDIDATES


def _host_layout() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    links = []
    dirs = []
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = "/" + name
        if os.path.islink(path):
            target = os.readlink(path)
            links.append((target, path))
        elif os.path.isdir(path):
            dirs.append(path)
    return tuple(links), tuple(dirs)


def _find_cgroup() -> CgroupRoot | None:
    """A pids cgroup we can create children in (used to cap processes when root)."""
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    candidates: list[CgroupRoot] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if "pids" in controllers.split(","):
            candidates.append(CgroupRoot(1, os.path.join("/sys/fs/cgroup/pids", rel.lstrip("/"))))
        elif controllers == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            candidates.append(CgroupRoot(2, os.path.join("/sys/fs/cgroup", rel.lstrip("/"))))
    for root in candidates:
        test = os.path.join(root.path, f"codeloop-probe-{os.urandom(4).hex()}")
        try:
            os.mkdir(test)
        except OSError:
            continue
        try:
            ok = os.path.exists(os.path.join(test, "pids.max"))
            if ok:
                with open(os.path.join(test, "pids.max"), "w") as fh:
                    fh.write("64")
        except OSError:
            ok = False
        finally:
            with contextlib.suppress(OSError):
                os.rmdir(test)
        if ok:
            _remove_stale_groups(root.path)
            return root
    return None


def _remove_stale_groups(parent: str, age: float = 120.0) -> None:
    """Empty per-run groups left by callers that were SIGKILLed (older than ``age`` s)."""
    import time

    try:
        names = [n for n in os.listdir(parent) if n.startswith("codeloop-")]
    except OSError:
        return
    now = time.time()
    for name in names:
        path = os.path.join(parent, name)
        try:
            if now - os.stat(path).st_mtime < age:
                continue
            with open(os.path.join(path, "cgroup.procs")) as fh:
                if fh.read().strip():
                    continue
            os.rmdir(path)
        except OSError:
            pass


def _flags_supported(bwrap: str) -> tuple[frozenset[str], str | None, list[str]]:
    try:
        ver = subprocess.run([bwrap, "--version"], env={}, capture_output=True, text=True, timeout=10)
        helptext = subprocess.run([bwrap, "--help"], env={}, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return frozenset(), None, [f"cannot execute {bwrap}: {exc}"]
    version = (ver.stdout or ver.stderr).strip().replace("bubblewrap ", "") or None
    text = helptext.stdout + helptext.stderr
    unsupported = frozenset(f for f in _argv.OPTIONAL_FLAGS if f not in text)
    return unsupported, version, []


def probe(refresh: bool = False) -> SandboxStatus:
    """Which sandbox level this machine offers (cached; ``refresh`` probes again)."""
    return _probe(refresh).status


def _probe(refresh: bool = False) -> Probe:
    override = os.environ.get(BWRAP_ENV, "")
    key = _probecache.probe_key(_bwrap_candidates(), _host_layout(), override)
    with _lock:
        if not refresh:
            hit = _cache.get(override)
            if hit is not None and hit[0] == key:
                return hit[1]
            loaded = _from_disk(key)
            if loaded is not None:
                _cache[override] = (key, loaded)
                return loaded
        result = _do_probe()
        _cache[override] = (key, result)
        # Only a working sandbox is remembered: a failure may be passing (a bwrap timed out
        # on a loaded machine), and probing a missing bwrap costs nothing.
        if result.status.level in ("A", "B"):
            _probecache.put("probe", key, _to_plain(result), name=_probecache.PACKAGE_DIR)
        return result


def invalidate() -> None:
    """Forget the probe (memory and disk): the next run probes again."""
    with _lock:
        _cache.clear()
        _probecache.drop("probe")


def note_failure(exit_code: int | None, stderr: str) -> bool:
    """After a run: when it failed as bubblewrap does when it cannot set up (exit 1, a
    ``bwrap:`` message first), the environment may have changed since the probe:
    forget it. A command that imitates this only costs one probe. True when forgotten."""
    if exit_code != 1 or not stderr.lstrip().startswith("bwrap: "):
        return False
    invalidate()
    return True


def _to_plain(pr: Probe) -> dict[str, Any]:
    return {"status": as_dict(pr.status), "bwrap": pr.bwrap, "prlimit": pr.prlimit,
            "unsupported": sorted(pr.unsupported), "symlinks": pr.symlinks, "system_ro": pr.system_ro,
            "cgroup": [pr.cgroup.version, pr.cgroup.path] if pr.cgroup else None}


def _from_disk(key: list[Any]) -> Probe | None:
    """The stored probe made under ``key``, if it still makes sense here."""
    value = _probecache.get("probe", key, name=_probecache.PACKAGE_DIR)
    if value is None:
        return None
    try:
        status = SandboxStatus(**value["status"])
        bwrap, prlimit, cg = value["bwrap"], value["prlimit"], value["cgroup"]
        cgroup = CgroupRoot(int(cg[0]), str(cg[1])) if cg else None
        pr = Probe(status, bwrap, prlimit, frozenset(value["unsupported"]),
                   tuple((str(a), str(b)) for a, b in value["symlinks"]), tuple(value["system_ro"]), cgroup)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if bwrap not in _bwrap_candidates() or not os.access(bwrap, os.X_OK):
        return None
    if prlimit is not None and not os.access(prlimit, os.X_OK):
        return None
    if cgroup is not None:
        if not os.path.isdir(cgroup.path):
            return None
        _remove_stale_groups(cgroup.path)
    return pr


def _do_probe() -> Probe:
    is_root = os.geteuid() == 0
    symlinks, system_ro = _host_layout()
    prlimit = next((p for p in PRLIMIT_CANDIDATES if os.access(p, os.X_OK)), None)
    status = SandboxStatus(level="D", is_root=is_root)
    if sys.platform != "linux":
        status.missing.append("Linux (bubblewrap sandbox)")
        status.detail = "no sandbox mechanism on this platform; only limits-only level C"
        status.level = "C"
        return Probe(status, None, prlimit, frozenset(), symlinks, system_ro, None)
    cgroup = _find_cgroup() if is_root else None
    bwrap = next((p for p in _bwrap_candidates() if os.path.isfile(p) and os.access(p, os.X_OK)), None)
    if prlimit is None:
        status.missing.append("prlimit (util-linux)")
        status.warnings.append("prlimit not found: in-sandbox process limit falls back to a pids cgroup only")
    if bwrap is None:
        status.missing.append("bubblewrap")
        status.fix = FIX_INSTALL
        status.level = "C"
        status.detail = f"bubblewrap not found at {', '.join(_bwrap_candidates())}"
        return Probe(status, None, prlimit, frozenset(), symlinks, system_ro, cgroup)
    status.bwrap_path = bwrap
    unsupported, version, errs = _flags_supported(bwrap)
    status.bwrap_version = version
    status.dropped_flags = sorted(unsupported)
    for flag in sorted(unsupported):
        status.warnings.append(f"bubblewrap {version} lacks {flag}: dropped (upgrade bubblewrap)")
    # Run the full argv on `true` (with the seccomp filter runs get).
    import tempfile

    prog = _hardening.seccomp_program(unsupported)
    seccomp_fd = _seccomp.program_fd(prog) if prog else None
    with tempfile.TemporaryDirectory(prefix="codeloop-probe-") as ws:
        spec = _argv.BwrapSpec(
            bwrap=bwrap,
            command=["/usr/bin/true"] if os.path.exists("/usr/bin/true") else ["/bin/true"],
            cwd=ws,
            env=_argv.sandbox_env([])[0],
            rw_binds=[(ws, ws)],
            symlinks=symlinks,
            ro_binds=[(d, d) for d in system_ro],
            limits=_argv.prlimit_argv(prlimit, nproc=64, as_bytes=1 << 30, fsize_bytes=1 << 20, nofile=64, cpu_seconds=5)
            if prlimit
            else (),
            unsupported=unsupported,
            cover=[p for p in _argv.KEY_FILES if os.path.exists(p)],
            seccomp_fd=seccomp_fd,
        )
        try:
            proc = subprocess.run(
                _argv.build_bwrap_argv(spec), env={}, capture_output=True, text=True, timeout=20,
                stdin=subprocess.DEVNULL, pass_fds=(seccomp_fd,) if seccomp_fd is not None else (),
            )
            ok, err = proc.returncode == 0, (proc.stderr or "").strip()
        except (OSError, subprocess.SubprocessError) as exc:
            ok, err = False, str(exc)
        finally:
            if seccomp_fd is not None:
                os.close(seccomp_fd)
    if errs or not ok:
        status.level = "C"
        why = "; ".join(errs) or err or "bubblewrap failed"
        from . import _userns

        diag = _userns.diagnose(why, is_root, bwrap)
        status.missing.append(diag.missing)
        status.detail = f"bubblewrap at {bwrap} cannot create a sandbox: {why.splitlines()[-1] if why else ''}"
        status.fix = diag.fix
        return Probe(status, bwrap, prlimit, unsupported, symlinks, system_ro, cgroup)
    status.level = "A"
    if is_root:
        if cgroup is not None:
            status.nproc_mechanism = f"pids-cgroup-v{cgroup.version}"
            status.root_nproc_ok = True
        else:
            status.nproc_mechanism = "none"
            status.root_nproc_ok = False
            status.level = "B"
            status.warnings.append(
                "running as root: the kernel ignores RLIMIT_NPROC for root and no writable pids cgroup was found; "
                "fork bombs are bounded only by the timeout"
            )
            status.missing.append("a writable pids cgroup (or run as a non-root user)")
            status.fix = "run codeloop as a non-root user, or give it a delegated cgroup with the pids controller"
    else:
        status.nproc_mechanism = "rlimit" if prlimit else "none"
        status.root_nproc_ok = True
        if not prlimit:
            status.level = "B"
            status.fix = "apt-get install util-linux"
    status.detail = "bubblewrap sandbox works"
    _hardening.assess(status, unsupported)
    return Probe(status, bwrap, prlimit, unsupported, symlinks, system_ro, cgroup)


_INTERP_QUERY = r"""
import json, os, site, sys
try:
    import importlib.util as u
    has_pytest = u.find_spec("pytest") is not None
    has_cov = u.find_spec("coverage") is not None
except Exception:
    has_pytest = has_cov = False
paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
paths += [p for p in sys.path if p]
try:
    paths += site.getsitepackages()
except Exception:
    pass
print(json.dumps({"executable": sys.executable, "paths": paths, "version": sys.version.split()[0],
                  "pytest": has_pytest, "coverage": has_cov,
                  "real": os.path.realpath(sys.executable)}))
"""

_SKIP_PREFIXES = ("/usr/", "/proc/", "/sys/", "/dev/", "/etc/")
_NEVER_BIND = frozenset({"/home", "/root", "/tmp", "/var", "/var/tmp", "/srv", "/opt", "/mnt", "/media", "/run", "/work"})


def interpreter(python: str | None) -> Interpreter:
    """Describe ``python`` (default: this interpreter); cached by path and mtimes."""
    if python is None:
        python = sys.executable
    python = os.path.abspath(python)
    try:
        st = os.stat(python)
        key_stamp = (st.st_mtime_ns, st.st_ino)
    except OSError as exc:
        raise InterpreterMissing(f"interpreter not found: {python} (removed or moved? reinstall it, or restart "
                                 "codeloop with an interpreter that exists)") from exc
    cached = _interp_cache.get(python) or _interpreter_from_disk(python, key_stamp)
    if cached is not None and cached.stamp[0] == key_stamp and _site_stamp(cached.dirs) == cached.stamp[1]:
        _interp_cache[python] = cached
        return cached
    # Always ask the interpreter itself, isolated (-I): this process's sys.path may have
    # been modified at run time (pytest rootdirs, script dirs such as /tmp) and must not
    # decide what gets bound into the sandbox.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    if "PYENV_VERSION" in os.environ:
        env["PYENV_VERSION"] = os.environ["PYENV_VERSION"]
    out = subprocess.run([python, "-I", "-c", _INTERP_QUERY], capture_output=True, text=True, timeout=60, env=env,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(f"cannot query interpreter {python}: {out.stderr.strip()[-300:]}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    if python != info["executable"] and os.path.dirname(python) != os.path.dirname(info["executable"]):
        # e.g. a pyenv shim (a shell script): use the real interpreter it runs.
        pass
    executable = info["executable"] or python
    dirs: list[str] = []
    home = os.path.abspath(os.path.expanduser("~"))
    for p in [*info["paths"], os.path.dirname(info["real"])]:
        p = os.path.abspath(p)
        if not os.path.isdir(p) or p == "/" or p == "/usr" or p.startswith(_SKIP_PREFIXES):
            continue
        if p in _NEVER_BIND or home == p or home.startswith(p.rstrip("/") + "/"):
            continue  # a sys.path entry that would expose HOME or a whole shared tree
        dirs.append(p)
    # Keep only the outermost of nested dirs.
    dirs = sorted(set(dirs))
    outer: list[str] = []
    for d in dirs:
        if not any(d.startswith(o.rstrip("/") + "/") for o in outer):
            outer.append(d)
    interp = Interpreter(
        executable=executable,
        bin_dir=os.path.dirname(executable),
        dirs=tuple(outer),
        version=info["version"],
        has_pytest=bool(info["pytest"]),
        has_coverage=bool(info["coverage"]),
        stamp=(key_stamp, _site_stamp(tuple(outer))),
    )
    _interp_cache[python] = interp
    _probecache.put("interpreters", _probecache.interpreter_key(python, key_stamp), as_dict(interp), name=python)
    return interp


def _interpreter_from_disk(python: str, key_stamp: tuple[int, int]) -> Interpreter | None:
    value = _probecache.get("interpreters", _probecache.interpreter_key(python, key_stamp), name=python)
    if value is None:
        return None
    try:
        stamp = value["stamp"]
        return Interpreter(
            executable=str(value["executable"]), bin_dir=str(value["bin_dir"]), dirs=tuple(value["dirs"]),
            version=str(value["version"]), has_pytest=bool(value["has_pytest"]),
            has_coverage=bool(value["has_coverage"]), stamp=(tuple(stamp[0]), tuple(stamp[1])))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _site_stamp(dirs: tuple[str, ...]) -> tuple:
    """mtimes of site-packages dirs: they change when packages are installed/removed."""
    out = []
    for d in dirs:
        try:
            out.append(os.stat(d).st_mtime_ns)
        except OSError:
            out.append(0)
        for root, _names, _ in _limited_walk(d):
            if os.path.basename(root) in ("site-packages", "dist-packages"):
                with contextlib.suppress(OSError):
                    out.append(os.stat(root).st_mtime_ns)
    return tuple(out)


def _limited_walk(top: str, depth: int = 4):
    """Find site-packages dirs without walking whole trees."""
    stack = [(top, 0)]
    while stack:
        path, d = stack.pop()
        yield path, None, None
        if d >= depth or os.path.basename(path) in ("site-packages", "dist-packages"):
            continue
        try:
            with os.scandir(path) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False) and (e.name in ("lib", "lib64", "local") or e.name.startswith("python") or e.name in ("site-packages", "dist-packages")):
                        stack.append((e.path, d + 1))
        except OSError:
            pass


def which_prlimit() -> str | None:
    import shutil

    return shutil.which("prlimit", path="/usr/bin:/bin")
