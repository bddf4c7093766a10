"""What a run gets beyond the bubblewrap mounts: the seccomp filter, the size-capped
scratch space, a fresh session keyring. Fills those fields of the status once per probe,
and lowers level A to B when one of them cannot be had (the documented degradation)."""

from __future__ import annotations

from . import _seccomp
from ._spawn import spawner
from ._types import SandboxStatus

SCRATCH_FLAGS = ("--size", "--info-fd", "--block-fd")
FIX_UPGRADE = "upgrade bubblewrap (0.5 or newer has every flag used here)"


def seccomp_program(unsupported: frozenset[str]) -> bytes | None:
    """The filter runs get, or None when bwrap or the architecture cannot have one."""
    return None if "--seccomp" in unsupported else _seccomp.program()


def scratch_boxed(unsupported: frozenset[str]) -> bool:
    """Can the scratch copy live in a size-capped tmpfs inside the sandbox?"""
    return not any(f in unsupported for f in SCRATCH_FLAGS)


def assess(status: SandboxStatus, unsupported: frozenset[str]) -> None:
    """Fill ``seccomp``, ``scratch`` and ``keyring``; A becomes B for a missing guarantee."""
    degraded = []
    if seccomp_program(unsupported) is not None:
        status.seccomp = _seccomp.describe()
    else:
        why = "bubblewrap lacks --seccomp" if "--seccomp" in unsupported else "no rules for this architecture"
        degraded.append(f"no seccomp filter ({why}): keyctl, add_key, request_key and io_uring are reachable inside")
        status.missing.append("a seccomp filter")
    if scratch_boxed(unsupported):
        status.scratch = "a size-capped tmpfs inside the sandbox (Policy.scratch_mib; the run is stopped at the cap)"
    else:
        lacks = ", ".join(f for f in SCRATCH_FLAGS if f in unsupported)
        status.scratch = "a directory on the host disk, NOT size-capped"
        degraded.append(f"bubblewrap lacks {lacks}: the scratch copy is on the host disk without a size cap")
        status.missing.append("a size-capped scratch space")
    keyring = spawner.keyring
    if keyring.libc is not None:
        status.keyring = "a fresh, empty session keyring per run (the caller's keys are not reachable)"
    else:
        status.keyring = f"the caller's session keyring ({keyring.error}); keyctl is refused inside by seccomp"
    if degraded:
        status.warnings.extend(degraded)
        if status.level == "A":
            status.level = "B"
        status.fix = status.fix or FIX_UPGRADE
