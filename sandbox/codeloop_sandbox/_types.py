"""Public data types of codeloop_sandbox (the API contract other modules code against).

They are ``Record``s (``_record``: dataclass-like, ``dataclasses.replace``/``asdict``
work on them) so that `codeloop sandbox run` does not import ``dataclasses``. The types of
pytest runs (``Frame``, ``TestOutcome``, ``PytestResult``) live in ``_pytest_types``, made
on first use.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._record import Record, field


class Policy(Record, frozen=True):
    """What a sandboxed run may use.

    ``timeout`` is wall-clock seconds; ``memory_mib`` is RLIMIT_AS per process;
    ``max_processes`` caps the processes of the run (RLIMIT_NPROC inside the user
    namespace, plus a pids cgroup when running as root); ``max_file_mib`` is
    RLIMIT_FSIZE; ``max_output_kib`` caps stdout+stderr (the run is killed past it);
    ``tmp_mib`` sizes the /tmp tmpfs (HOME lives in it); ``scratch_mib`` caps the
    scratch space (the workspace copy plus what the run writes there, and the helpers'
    results): a run that reaches it is stopped (``Result.limit == "scratch"``). ``allow_env`` names host
    environment variables that may enter (never secret-looking names); ``env`` sets
    explicit values inside (same secret filter). ``python`` is the interpreter used
    for ``python`` in argv and for pytest (default: ``sys.executable``).
    ``allow_levels``: levels this caller accepts (see :func:`probe`).
    """

    timeout: float = 30.0
    memory_mib: int = 2048
    max_processes: int = 128
    max_file_mib: int = 64
    max_output_kib: int = 1024
    tmp_mib: int = 256
    scratch_mib: int = 512
    allow_env: tuple[str, ...] = ()
    python: str | None = None
    allow_levels: tuple[str, ...] = ("A",)
    network: bool = False
    env: Mapping[str, str] | None = field(default=None, hash=False)
    max_open_files: int = 1024

    def __post_init__(self) -> None:
        if self.network:
            raise ValueError("Policy(network=True) is not supported: sandboxed runs never get network")
        if self.timeout <= 0:
            raise ValueError("Policy.timeout must be > 0")
        if self.scratch_mib < 1:
            raise ValueError("Policy.scratch_mib must be >= 1")
        # Accept lists from callers but keep the object hashable/immutable.
        object.__setattr__(self, "allow_env", tuple(self.allow_env))
        object.__setattr__(self, "allow_levels", tuple(self.allow_levels))
        if self.env is not None:
            object.__setattr__(self, "env", dict(self.env))


class Result(Record):
    """What a run did: its exit code and output, and the limit that stopped it, if any."""

    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool = False
    timed_out: bool = False
    limit: str | None = None  # "timeout", "output", "memory", "cpu", "file_size", "scratch", "cancelled"
    duration: float = 0.0
    level: str = "A"
    cancelled: bool = False
    message: str = ""  # one line on why the sandbox stopped the run, when it says more than ``limit``

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.limit is None


class SandboxStatus(Record):
    """The sandbox level this machine offers, what is missing and how to fix it."""

    level: str  # "A", "B", "C", "D"
    bwrap_path: str | None = None
    bwrap_version: str | None = None
    missing: list[str] = field(default_factory=list)
    fix: str | None = None
    warnings: list[str] = field(default_factory=list)
    root_nproc_ok: bool = True
    is_root: bool = False
    nproc_mechanism: str = ""  # "rlimit", "pids-cgroup-v1", "pids-cgroup-v2", "none"
    dropped_flags: list[str] = field(default_factory=list)
    detail: str = ""
    seccomp: str = ""  # what the seccomp filter blocks; "" = no filter
    scratch: str = ""  # where the scratch copy lives and how it is capped
    keyring: str = ""  # the session keyring a run gets

    def describe(self) -> str:
        names = {
            "A": "A (isolated: bubblewrap)",
            "B": "B (partial isolation)",
            "C": "C (limits only, NO isolation)",
            "D": "D (refuse: no sandbox)",
        }
        return names.get(self.level, self.level)


class SandboxUnavailable(Exception):
    """The best available sandbox level is not in ``policy.allow_levels``."""

    def __init__(self, message: str, status: SandboxStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


class InterpreterMissing(SandboxUnavailable, FileNotFoundError):
    """The interpreter runs use (``Policy.python``, default this process's) is gone: removed
    or moved while the caller kept running. Also a FileNotFoundError, as before."""


_PYTEST_TYPES = ("Frame", "TestOutcome", "PytestResult")


def __getattr__(name: str):
    if name in _PYTEST_TYPES:
        from . import _pytest_types

        return getattr(_pytest_types, name)
    raise AttributeError(name)
