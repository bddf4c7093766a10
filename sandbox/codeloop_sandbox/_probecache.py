"""The probe's results on disk, so a short-lived process (``codeloop sandbox run``) does not
run three probing bwraps and a probing interpreter every time.

One JSON file in the user cache directory (``$XDG_CACHE_HOME/codeloop/sandbox-probe.json``,
else ``~/.cache/...``), mode 0600. Each entry carries the key it was made under and is
used only while the key still matches: for the probe, the bubblewrap binary (path, mtime,
size, inode), the kernel release, the uids, the cgroup layout, the user-namespace sysctls,
the host's /bin layout and this package's own source (one entry per installation of the
package); for an interpreter, its path and
stat (its site-packages stamps are re-checked by the caller). Anything unreadable, of
another shape, or unwritable (a full disk, a read-only home) is a miss: the cache can
only save time, never change a result; so is a file that is not the user's own or that
others may write (it says which bwrap flags to drop).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

FORMAT = 2  # 2: one probe entry per installation of this package
FILE_NAME = "sandbox-probe.json"
# A test/ops hook: a path for the cache file, or "off" for no disk cache.
CACHE_ENV = "CODELOOP_SANDBOX_CACHE"
USERNS_SYSCTLS = (
    "/proc/sys/kernel/unprivileged_userns_clone",
    "/proc/sys/user/max_user_namespaces",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
)
# The probe's entries are kept per installation (this directory): two installs used in turn
# (an editor's server and a CLI in another venv) must not make each other probe again.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_file() -> str | None:
    """Where the cache lives (None: disabled)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return None if override == "off" else override
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "codeloop", FILE_NAME)


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def _source_stamp() -> list[Any]:
    """This package's code: a new version may probe differently."""
    try:
        names = sorted(n for n in os.listdir(PACKAGE_DIR) if n.endswith(".py"))
    except OSError:
        return []
    return [[n, _stat(os.path.join(PACKAGE_DIR, n))] for n in names]


def probe_key(bwrap_candidates: tuple[str, ...], layout: Any, override: str) -> list[Any]:
    """What the probe's answer depends on; cheap to compute (stats and /proc reads)."""
    return _plain([
        FORMAT,
        sys.platform,
        os.uname().release,
        os.getuid(),
        os.geteuid(),
        override,
        [[p, _stat(p)] for p in bwrap_candidates],
        _read("/proc/self/cgroup"),
        os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
        [_read(p) for p in USERNS_SYSCTLS],
        layout,
        _source_stamp(),
    ])


def interpreter_key(python: str, stamp: tuple[int, int]) -> list[Any]:
    return _plain([FORMAT, python, stamp, os.environ.get("PYENV_VERSION"), os.getuid()])


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), for comparing keys."""
    return json.loads(json.dumps(value))


def _load() -> dict[str, Any]:
    path = cache_file()
    if path is None:
        return {}
    try:
        with open(path) as fh:
            st = os.fstat(fh.fileno())
            # It decides which bwrap flags are dropped: only a file of ours that no one else may write.
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return {}
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == FORMAT else {}


def _store(update: dict[str, Any] | None = None, drop: str | None = None) -> None:
    """Merge ``update`` into the file (or remove key ``drop``), atomically; errors ignored."""
    path = cache_file()
    if path is None:
        return
    data = _load()
    data["format"] = FORMAT
    if drop is not None:
        data.pop(drop, None)
    for name, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    import tempfile

    directory = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-probe-", dir=directory)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def get(section: str, key: list[Any], name: str | None = None) -> dict[str, Any] | None:
    """The stored value of ``section`` (or of ``name`` inside it) made under ``key``."""
    entry = _load().get(section)
    if name is not None:
        entry = entry.get(name) if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("value"), dict):
        return None
    return entry["value"]


def put(section: str, key: list[Any], value: dict[str, Any], name: str | None = None) -> None:
    entry = {"key": key, "value": value}
    _store({section: {name: entry} if name is not None else entry})


def drop(section: str) -> None:
    _store(drop=section)
