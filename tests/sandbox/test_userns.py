"""Where unprivileged user namespaces are restricted, `codeloop sandbox status` says what is
missing and the command that fixes it; the sandbox degrades to level C (refused by default)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from codeloop_sandbox._userns import diagnose


def sysdir(tmp_path, **values: str) -> str:
    for name, value in values.items():
        path = tmp_path.joinpath(*name.split("__"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return str(tmp_path)


def test_max_user_namespaces_zero(tmp_path):
    d = diagnose("bwrap: Creating new namespace failed: ... (ENOSPC)", is_root=False,
                 sys_dir=sysdir(tmp_path, user__max_user_namespaces="0"))
    assert "user.max_user_namespaces = 0" in d.missing
    assert "sysctl -w user.max_user_namespaces=15000" in d.fix


def test_debian_unprivileged_userns_clone_zero(tmp_path):
    d = diagnose("bwrap: No permission to create new namespace", is_root=False,
                 sys_dir=sysdir(tmp_path, user__max_user_namespaces="15000", kernel__unprivileged_userns_clone="0"))
    assert "kernel.unprivileged_userns_clone = 0" in d.missing
    assert "sysctl -w kernel.unprivileged_userns_clone=1" in d.fix


def test_ubuntu_apparmor_restriction(tmp_path):
    d = diagnose("bwrap: setting up uid map: Permission denied", is_root=False, bwrap="/usr/bin/bwrap",
                 sys_dir=sysdir(tmp_path, user__max_user_namespaces="15000",
                                kernel__apparmor_restrict_unprivileged_userns="1"))
    assert "AppArmor" in d.missing and "apparmor_restrict_unprivileged_userns = 1" in d.missing
    # The narrow fix first (a profile for bwrap only), the broad one as the alternative.
    assert "profile bwrap /usr/bin/bwrap flags=(unconfined)" in d.fix and "userns," in d.fix
    assert "apparmor_parser -r /etc/apparmor.d/bwrap" in d.fix
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in d.fix
    assert "\n" not in d.fix


def test_root_is_not_told_about_unprivileged_knobs(tmp_path):
    d = diagnose("bwrap: some other failure", is_root=True,
                 sys_dir=sysdir(tmp_path, kernel__apparmor_restrict_unprivileged_userns="1",
                                kernel__unprivileged_userns_clone="0"))
    assert "AppArmor" not in d.missing and "unprivileged_userns_clone" not in d.missing


def test_status_inside_a_namespace_with_user_namespaces_switched_off(tmp_path, needs_bwrap):
    """For real: a user namespace where user.max_user_namespaces = 0 (set inside it, so the
    host is untouched); bwrap then cannot create its namespace, as on such a machine."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) not installed")
    probe = subprocess.run([unshare, "--user", "--map-root-user", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a user namespace for the test: {probe.stderr.strip()}")
    script = (
        "echo 0 > /proc/sys/user/max_user_namespaces && "
        f"exec {sys.executable} -m codeloop sandbox status"
    )
    r = subprocess.run([unshare, "--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc",
                        "sh", "-c", script], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "sandbox level: C" in r.stdout
    assert "missing: user namespaces (user.max_user_namespaces = 0)" in r.stdout, r.stdout
    assert "fix: sudo sysctl -w user.max_user_namespaces=15000" in r.stdout
    # And a run is refused with the same fix in one line (exit 126).
    run_script = (
        "echo 0 > /proc/sys/user/max_user_namespaces && "
        f"cd {tmp_path} && exec {sys.executable} -m codeloop sandbox run -- true"
    )
    r = subprocess.run([unshare, "--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc",
                        "sh", "-c", run_script], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 126, (r.stdout, r.stderr)
    last = r.stderr.strip().splitlines()[-1]
    assert "sysctl -w user.max_user_namespaces=15000" in last
