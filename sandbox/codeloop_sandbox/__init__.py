"""codeloop_sandbox: run commands and pytest over a copy of a workspace under bubblewrap.

Standalone: it never imports ``codeloop``. See docs/sandbox.md.
"""

from ._argv import PYTEST_ENV
from ._probe import probe
from ._run import run
from ._types import (
    InterpreterMissing,
    Policy,
    Result,
    SandboxStatus,
    SandboxUnavailable,
)

__version__ = "0.1.0"

__all__ = [
    "Frame",
    "PYTEST_ENV",
    "InterpreterMissing",
    "Policy",
    "PytestResult",
    "Result",
    "SandboxStatus",
    "SandboxUnavailable",
    "TestOutcome",
    "WarmPool",
    "probe",
    "run",
    "run_pytest",
]


def __getattr__(name: str):
    # run_pytest / WarmPool and the types of pytest runs live in modules loaded on first use
    # (`codeloop sandbox run` starts faster without them).
    if name in ("Frame", "TestOutcome", "PytestResult"):
        from . import _pytest_types

        return getattr(_pytest_types, name)
    if name == "run_pytest":
        from ._pytest import run_pytest

        return run_pytest
    if name == "WarmPool":
        from ._pool import WarmPool

        return WarmPool
    raise AttributeError(name)
