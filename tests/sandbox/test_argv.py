"""The bubblewrap command line: security-relevant flags and the empty environment."""

from __future__ import annotations

import os
import subprocess

import pytest

from codeloop_sandbox import _argv
from codeloop_sandbox._argv import BwrapSpec, build_bwrap_argv, is_secret_name, sandbox_env


def spec(**kw):
    base = dict(
        bwrap="/usr/bin/bwrap",
        command=["/usr/bin/python3", "-c", "pass"],
        cwd="/home/u/proj",
        env={"PATH": "/usr/bin", "HOME": "/tmp/home"},
        ro_binds=[("/opt/py", "/opt/py"), ("/home/u/proj/.venv", "/home/u/proj/.venv")],
        rw_binds=[("/tmp/scratch/ws", "/home/u/proj")],
        symlinks=[("usr/bin", "/bin")],
        limits=_argv.prlimit_argv("/usr/bin/prlimit", nproc=128, as_bytes=1 << 31, fsize_bytes=1 << 26, nofile=1024, cpu_seconds=33),
    )
    base.update(kw)
    return BwrapSpec(**base)


def pairs(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_security_flags_present():
    argv = build_bwrap_argv(spec())
    sep = argv.index("--")
    head = argv[:sep]
    assert argv[0] == "/usr/bin/bwrap"
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in head, flag
    assert head[head.index("--cap-drop") + 1] == "ALL"
    # /proc/sys read-only after --proc, and the root remounted read-only at the end.
    assert head.index("--proc") < head.index("/proc/sys")
    assert head[head.index("/proc/sys") - 1 : head.index("/proc/sys") + 2] == ["--ro-bind", "/proc/sys", "/proc/sys"]
    assert head[head.index("--chdir") - 2 : head.index("--chdir")] == ["--remount-ro", "/"]
    # Size-capped /tmp; /dev read-only with a capped /dev/shm.
    i = head.index("/tmp")
    assert head[i - 1] == "--tmpfs" and head[i - 3] == "--size"
    assert head[head.index("/dev/shm") + 1 : head.index("/dev/shm") + 3] == ["--remount-ro", "/dev"]
    # Never share the network or the host root.
    assert "--share-net" not in head
    assert head[:3] != ["--bind", "/", "/"]
    assert "/" not in pairs(head, "--bind") and "/" not in pairs(head, "--ro-bind")


def test_nproc_inside_and_command_last():
    argv = build_bwrap_argv(spec())
    tail = argv[argv.index("--") + 1 :]
    assert tail[0] == "/usr/bin/prlimit"
    assert "--nproc=128:128" in tail and "--core=0:0" in tail
    assert tail[-3:] == ["/usr/bin/python3", "-c", "pass"]


def test_workspace_bound_at_original_path_before_venv():
    argv = build_bwrap_argv(spec())
    i = argv.index("/tmp/scratch/ws")
    assert argv[i - 1] == "--bind" and argv[i + 1] == "/home/u/proj"
    j = argv.index("/home/u/proj/.venv")
    assert argv[j - 1] == "--ro-bind" and j > i  # the venv goes over the copy, read-only


def test_dropped_flags_for_old_bwrap():
    argv = build_bwrap_argv(spec(unsupported=frozenset({"--disable-userns", "--size"})))
    assert "--disable-userns" not in argv and "--size" not in argv
    assert "--cap-drop" in argv


def test_env_only_allowlisted_and_never_secrets():
    host = {"OPENAI_API_KEY": "sk-canary", "FOO_TOKEN": "t", "MY_PASSWORD": "p", "AWS_SECRET_ACCESS_KEY": "x",
            "PYTHONHASHSEED": "0", "HOME": "/root", "SHELL": "/bin/bash", "LC_FOO": "x"}
    env, warns = sandbox_env(["/venv/bin"], ["PYTHONHASHSEED", "OPENAI_API_KEY", "FOO_TOKEN", "MY_PASSWORD"], {"API_KEY": "v", "X": "1"}, host)
    assert env["PYTHONHASHSEED"] == "0" and env["X"] == "1"
    assert env["HOME"] == "/tmp/home" and env["PATH"].startswith("/venv/bin:")
    for bad in ("OPENAI_API_KEY", "FOO_TOKEN", "MY_PASSWORD", "AWS_SECRET_ACCESS_KEY", "SHELL", "API_KEY", "LC_FOO"):
        assert bad not in env
    assert len(warns) == 4
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert is_secret_name("github_token") and not is_secret_name("PYTHONPATH")


def test_bwrap_exec_with_empty_environment(monkeypatch, tmp_path, needs_bwrap):
    """Every subprocess that starts bwrap gets env={} (--clearenv alone leaks via /proc/1/environ)."""
    import codeloop_sandbox
    from codeloop_sandbox import _run

    seen = []
    real = subprocess.Popen

    def spy(argv, *a, **kw):
        seen.append((argv, kw.get("env")))
        return real(argv, *a, **kw)

    monkeypatch.setattr(_run.subprocess, "Popen", spy)
    (tmp_path / "a.py").write_text("print(1)\n")
    res = codeloop_sandbox.run(["python", "a.py"], tmp_path, codeloop_sandbox.Policy(timeout=20, allow_levels=("A", "B")))
    assert res.exit_code == 0, res
    def bwrap_of(argv):
        # As root with a pids cgroup: /bin/sh -c 'echo 0 > "$0" && exec "$@"' <cgroup.procs> bwrap ...
        if argv[0] == "/bin/sh" and argv[1] == "-c" and argv[2] == 'echo 0 > "$0" && exec "$@"':
            assert argv[3].endswith("/cgroup.procs")
            argv = argv[4:]
        return argv

    bwrap_calls = [(bwrap_of(argv), env) for argv, env in seen if os.path.basename(bwrap_of(argv)[0]) == "bwrap"]
    assert bwrap_calls and all(argv[0] in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") for argv, _ in bwrap_calls)
    assert all(env == {} for _, env in bwrap_calls)
    assert any("--cap-drop" in argv for argv, _ in bwrap_calls)


def test_bwrap_never_from_path_or_workspace(monkeypatch):
    from codeloop_sandbox import _probe

    monkeypatch.delenv(_probe.BWRAP_ENV, raising=False)
    assert all(os.path.isabs(p) and p.startswith(("/usr/bin/", "/usr/local/bin/")) for p in _probe._bwrap_candidates())
    monkeypatch.setenv(_probe.BWRAP_ENV, "bwrap:./bwrap:/opt/x/bwrap")
    assert _probe._bwrap_candidates() == ("/opt/x/bwrap",)


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x.py", "a/../../x"])
def test_extra_files_must_stay_inside(tmp_path, bad):
    from codeloop_sandbox._workspace import write_extra_files

    with pytest.raises(ValueError):
        write_extra_files(str(tmp_path), {bad: "x"})


def test_scratch_tmpfs_keys_covered_and_fds():
    argv = build_bwrap_argv(spec(rw_binds=[], tmpfs=[("/home/u/proj", 64 << 20), ("/run/codeloop-out", 64 << 20)],
                                 cover=["/proc/keys", "/proc/key-users"], seccomp_fd=7, info_fd=8, block_fd=9))
    head = argv[: argv.index("--")]
    # The copy is a size-capped tmpfs at the original path, mounted before the venv inside it.
    i = head.index("/home/u/proj")
    assert head[i - 3 : i + 1] == ["--size", str(64 << 20), "--tmpfs", "/home/u/proj"]
    assert i < head.index("/home/u/proj/.venv")
    assert "/tmp/scratch/ws" not in head  # nothing of the host is bound writable
    j = head.index("/run/codeloop-out")
    assert head[j - 3 : j + 1] == ["--size", str(64 << 20), "--tmpfs", "/run/codeloop-out"]
    for path in ("/proc/keys", "/proc/key-users"):
        k = head.index(path)
        assert head[k - 2 : k + 1] == ["--ro-bind", "/dev/null", path] and k > head.index("--proc")
    assert pairs(head, "--seccomp") == ["7"] and pairs(head, "--info-fd") == ["8"] and pairs(head, "--block-fd") == ["9"]
    assert head[-4:-1] == ["--remount-ro", "/", "--chdir"]


def test_old_bwrap_without_size_gets_plain_tmpfs():
    argv = build_bwrap_argv(spec(rw_binds=[], tmpfs=[("/home/u/proj", 1 << 20)], unsupported=frozenset({"--size"})))
    head = argv[: argv.index("--")]
    assert "--size" not in head and head[head.index("/home/u/proj") - 1] == "--tmpfs"
