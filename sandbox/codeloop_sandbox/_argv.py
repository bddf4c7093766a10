"""Pure functions that build the bubblewrap command line and the sandbox environment.

Nothing here touches the file system or spawns processes, so the security-relevant
flags can be unit-tested exactly.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence

from ._record import Record, field

# Host variables that may never enter, even when a caller allowlists them.
SECRET_PATTERNS = ("*KEY*", "*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*", "OPENAI_API_KEY")

# Base environment inside the sandbox (values are fixed, never copied from the host).
BASE_ENV = {
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp/home",
    "TMPDIR": "/tmp",
    "USER": "sandbox",
    "LOGNAME": "sandbox",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "PYTHONUNBUFFERED": "1",
    "TERM": "dumb",
}

# /etc entries a Python process needs (name resolution config, users, time zone, linker).
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/localtime",
    "/etc/hosts",
    "/etc/alternatives",
    "/etc/mime.types",
)

# Flags an old bubblewrap may lack; the probe drops them with a warning.
OPTIONAL_FLAGS = ("--disable-userns", "--size", "--cap-drop", "--remount-ro", "--seccomp", "--info-fd", "--block-fd")

# /proc files that list the keys of every keyring the caller's uid can view (descriptions
# only; payloads need keyctl, which the seccomp filter refuses): covered with /dev/null.
KEY_FILES = ("/proc/keys", "/proc/key-users")

# pytest's own settings from the environment. A run of the user's tests honours them as
# `python -m pytest` in the user's shell does (PYTEST_DISABLE_PLUGIN_AUTOLOAD alone decides
# whether every installed plugin loads in every session): callers add them to allow_env.
PYTEST_ENV = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")

HELPER_DIR = "/run/codeloop-sandbox"  # read-only: our in-sandbox helper modules
OUT_DIR = "/run/codeloop-out"  # read-write: result files written by the helpers


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pat) for pat in SECRET_PATTERNS)


def sandbox_env(
    path_dirs: Sequence[str],
    allow_env: Sequence[str] = (),
    explicit: Mapping[str, str] | None = None,
    host_env: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Return (environment inside the sandbox, warnings).

    Only BASE_ENV, PATH, allowlisted host variables and explicit values enter; any
    name that looks like a secret is refused with a warning.
    """
    host_env = os.environ if host_env is None else host_env
    env = dict(BASE_ENV)
    env["PATH"] = ":".join(dict.fromkeys([*path_dirs, "/usr/local/bin", "/usr/bin", "/bin"]))
    warnings: list[str] = []
    for name in allow_env:
        if is_secret_name(name):
            warnings.append(f"refused to pass secret-looking variable {name} into the sandbox")
            continue
        if name in host_env:
            env[name] = host_env[name]
    for name, value in (explicit or {}).items():
        if is_secret_name(name):
            warnings.append(f"refused to set secret-looking variable {name} in the sandbox")
            continue
        env[name] = str(value)
    return env, warnings


class BwrapSpec(Record, frozen=True):
    """Everything the command line depends on."""

    bwrap: str
    command: Sequence[str]
    cwd: str
    env: Mapping[str, str]
    # (host source, sandbox destination) pairs.
    ro_binds: Sequence[tuple[str, str]] = ()
    rw_binds: Sequence[tuple[str, str]] = ()
    symlinks: Sequence[tuple[str, str]] = ()  # (target, link path)
    etc_files: Sequence[str] = ETC_FILES
    tmp_bytes: int = 256 << 20
    shm_bytes: int = 64 << 20
    limits: Sequence[str] = ()  # in-sandbox limits shim, e.g. ["/usr/bin/prlimit", "--nproc=128:128", ...]
    unsupported: frozenset[str] = field(default_factory=frozenset)
    # (sandbox path, size in bytes) of extra size-capped tmpfs mounts (the scratch copy).
    tmpfs: Sequence[tuple[str, int]] = ()
    cover: Sequence[str] = ()  # files hidden under /dev/null (KEY_FILES that exist)
    seccomp_fd: int | None = None  # a compiled filter (_seccomp.program), loaded before exec
    info_fd: int | None = None  # bwrap writes {"child-pid": N} here
    block_fd: int | None = None  # bwrap waits for one byte here after its mounts, before exec


def build_bwrap_argv(spec: BwrapSpec) -> list[str]:
    """The full argv. Must be exec'd with an EMPTY environment (env={})."""

    def has(flag: str) -> bool:
        return flag not in spec.unsupported

    argv = [spec.bwrap, "--unshare-all", "--unshare-user"]
    if has("--disable-userns"):
        argv.append("--disable-userns")
    argv += ["--die-with-parent", "--new-session"]
    if has("--cap-drop"):
        argv += ["--cap-drop", "ALL"]
    argv += ["--hostname", "sandbox", "--clearenv"]
    # Minimal read-only system.
    argv += ["--ro-bind", "/usr", "/usr"]
    for target, link in spec.symlinks:
        argv += ["--symlink", target, link]
    for path in spec.etc_files:
        argv += ["--ro-bind-try", path, path]
    argv += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"]
    for path in spec.cover:
        argv += ["--ro-bind", "/dev/null", path]
    argv += ["--dev", "/dev"]
    if has("--size"):
        argv += ["--size", str(spec.shm_bytes)]
    argv += ["--tmpfs", "/dev/shm"]
    if has("--remount-ro"):
        argv += ["--remount-ro", "/dev"]
    if has("--size"):
        argv += ["--size", str(spec.tmp_bytes)]
    argv += ["--tmpfs", "/tmp", "--dir", "/tmp/home"]
    # Mounts: parents before children (a venv inside the workspace goes over the copy).
    binds = [("--ro-bind", s, d) for s, d in spec.ro_binds] + [("--bind", s, d) for s, d in spec.rw_binds]
    binds += [("--tmpfs", str(size), d) for d, size in spec.tmpfs]
    binds.sort(key=lambda b: (b[2].rstrip("/").count("/"), b[2]))
    for flag, src, dest in binds:
        if flag == "--tmpfs":
            if has("--size") and int(src) > 0:
                argv += ["--size", src]
            argv += ["--tmpfs", dest]
        else:
            argv += [flag, src, dest]
    for name in sorted(spec.env):
        argv += ["--setenv", name, spec.env[name]]
    for flag, fd in (("--seccomp", spec.seccomp_fd), ("--info-fd", spec.info_fd), ("--block-fd", spec.block_fd)):
        if fd is not None:
            argv += [flag, str(fd)]
    if has("--remount-ro"):
        argv += ["--remount-ro", "/"]
    argv += ["--chdir", spec.cwd, "--"]
    argv += list(spec.limits)
    argv += list(spec.command)
    return argv


def prlimit_argv(
    prlimit: str,
    *,
    nproc: int,
    as_bytes: int,
    fsize_bytes: int,
    nofile: int,
    cpu_seconds: int,
) -> list[str]:
    """The in-sandbox limits shim (NPROC must be set inside the user namespace)."""
    return [
        prlimit,
        f"--nproc={nproc}:{nproc}",
        f"--as={as_bytes}:{as_bytes}",
        f"--fsize={fsize_bytes}:{fsize_bytes}",
        f"--nofile={nofile}:{nofile}",
        "--core=0:0",
        f"--cpu={cpu_seconds}:{cpu_seconds}",
        "--",
    ]
