"""Why bubblewrap cannot create user namespaces here, and the command that fixes it.

bwrap needs an unprivileged user namespace. Distributions switch them off in three ways,
each with its own knob (read from /proc/sys, so a test can point ``sys_dir`` elsewhere):
- ``user.max_user_namespaces = 0`` (any kernel): no user namespace at all;
- ``kernel.unprivileged_userns_clone = 0`` (Debian's kernel patch, Debian <= 10 default);
- ``kernel.apparmor_restrict_unprivileged_userns = 1`` (Ubuntu 23.10+, 24.04 default):
  only programs with an AppArmor profile that allows ``userns`` may create one; bwrap
  then fails with "setting up uid map: Permission denied".
"""

from __future__ import annotations

import os
from dataclasses import dataclass

APPARMOR_PROFILE = "/etc/apparmor.d/bwrap"
SYSCTL_FILE = "/etc/sysctl.d/60-codeloop-userns.conf"


@dataclass(frozen=True)
class Diagnosis:
    missing: str  # what is missing, one phrase
    fix: str  # the command(s) that fix it


def _read(sys_dir: str, name: str) -> str | None:
    try:
        with open(os.path.join(sys_dir, *name.split("."))) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _persist(setting: str) -> str:
    return f"sudo sysctl -w {setting} && echo '{setting}' | sudo tee {SYSCTL_FILE}"


def diagnose(bwrap_error: str, is_root: bool, bwrap: str = "/usr/bin/bwrap", sys_dir: str = "/proc/sys") -> Diagnosis:
    """The most likely reason for ``bwrap_error`` on this machine, with its fix."""
    max_ns = _read(sys_dir, "user.max_user_namespaces")
    if max_ns == "0":
        return Diagnosis(
            "user namespaces (user.max_user_namespaces = 0)",
            _persist("user.max_user_namespaces=15000"),
        )
    if not is_root and _read(sys_dir, "kernel.unprivileged_userns_clone") == "0":
        return Diagnosis(
            "unprivileged user namespaces (kernel.unprivileged_userns_clone = 0)",
            _persist("kernel.unprivileged_userns_clone=1"),
        )
    if not is_root and _read(sys_dir, "kernel.apparmor_restrict_unprivileged_userns") == "1":
        profile = (
            f"printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile bwrap {bwrap} flags=(unconfined) "
            f"{{\\n  userns,\\n}}\\n' | sudo tee {APPARMOR_PROFILE} && sudo apparmor_parser -r {APPARMOR_PROFILE}"
        )
        return Diagnosis(
            "an AppArmor profile that lets bubblewrap create user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns = 1, the Ubuntu 24.04 default)",
            f"{profile}   (or, for every program: {_persist('kernel.apparmor_restrict_unprivileged_userns=0')})",
        )
    low = bwrap_error.lower()
    if "no space left" in low or "no permission to create new namespace" in low or "uid map" in low:
        return Diagnosis(
            "working user namespaces for bubblewrap",
            "enable unprivileged user namespaces (sysctl user.max_user_namespaces > 0, "
            "kernel.unprivileged_userns_clone=1) or run codeloop where they are allowed "
            "(a container may need --security-opt seccomp=unconfined or a userns-enabled runtime)",
        )
    return Diagnosis(
        "working user namespaces for bubblewrap",
        "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; "
        "on Ubuntu 24.04+ give /usr/bin/bwrap an AppArmor profile with `userns,`)",
    )
