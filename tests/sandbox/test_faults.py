"""Faults around the sandbox: the scratch directory's disk full, bubblewrap removed in the
middle of a session. Each gives one clear line, changes no user file, and the next run
after the fault is fixed works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import pytest

from codeloop_sandbox import Policy, SandboxUnavailable, WarmPool, probe, run, run_pytest
from codeloop_sandbox._probe import BWRAP_ENV
from support.files import tree

POLICY = Policy(timeout=30, allow_levels=("A", "B"))


@pytest.fixture
def ws(tmp_path):
    d = tmp_path / "ws"
    d.mkdir()
    (d / "data.bin").write_bytes(os.urandom(1 << 20))
    (d / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    return d


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 256 KiB tmpfs, nearly full: a scratch directory whose disk fills up during the copy
    (root only). Some room is left: Python's tempfile skips a TMPDIR it cannot write a
    probe file to."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs this suite as root and as a normal user)")
    mnt = tmp_path / "full"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    filler = mnt / "filler"
    filler.write_bytes(b"x" * (192 << 10))
    try:
        yield mnt, filler
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_in_the_scratch_directory(ws, tiny_tmpfs, monkeypatch):
    mnt, filler = tiny_tmpfs
    before = tree(ws)
    env = dict(os.environ, TMPDIR=str(mnt))
    # Level A/B: the copy lives in the sandbox's own tmpfs, the host's full disk is not in the way.
    monkeypatch.setattr(tempfile, "tempdir", str(mnt))
    res = run(["python", "-c", "print(len(open('data.bin', 'rb').read()))"], ws, POLICY)
    assert res.exit_code == 0 and res.stdout.strip() == str(1 << 20), res
    # Level C copies on the host: one clear line, exit 125, no user file changed.
    r = subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "run", "--allow-level", "C", "--", "true"],
                       cwd=ws, env=dict(env, **{BWRAP_ENV: "/nonexistent/bwrap"}), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 125, (r.stdout, r.stderr)
    last = r.stderr.strip().splitlines()[-1]
    assert "no space left for the scratch copy in " + str(mnt) in last, r.stderr
    assert "Traceback" not in r.stderr
    assert tree(ws) == before
    # Fixed (more room): the next run works.
    filler.unlink()
    subprocess.run(["mount", "-o", "remount,size=8m", str(mnt)], check=True)
    r = subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "run", "--allow-level", "C", "--",
                        "python", "-c", "print(len(open('data.bin', 'rb').read()))"],
                       cwd=ws, env=dict(env, **{BWRAP_ENV: "/nonexistent/bwrap"}), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == str(1 << 20), r.stderr
    assert tree(ws) == before


@pytest.fixture
def bwrap_copy(tmp_path, monkeypatch, needs_bwrap):
    """A copy of bwrap that this session uses (the test deletes and restores it)."""
    src = needs_bwrap.bwrap_path
    dest = tmp_path / "bin" / "bwrap"
    dest.parent.mkdir()
    shutil.copy2(src, dest)
    monkeypatch.setenv(BWRAP_ENV, str(dest))
    if probe(refresh=True).level not in ("A", "B"):
        pytest.skip(f"a copy of bwrap outside {src} cannot sandbox here (e.g. an AppArmor profile bound to its path)")
    yield src, dest


def test_bwrap_removed_in_the_middle_of_a_session(ws, bwrap_copy):
    src, dest = bwrap_copy
    before = tree(ws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run(["true"], ws, POLICY).exit_code == 0
        dest.unlink()
        with pytest.raises(SandboxUnavailable) as exc:
            run(["true"], ws, POLICY)
        msg = str(exc.value)
        # the probe cache notices the binary is gone (its key stats bwrap) or the run does
        assert "\n" not in msg and str(dest) in msg
        assert "bubblewrap disappeared" in msg or "bubblewrap not found" in msg
        assert "apt-get install bubblewrap" in msg
        # Still gone: re-probed, the same clear refusal (not a traceback).
        with pytest.raises(SandboxUnavailable):
            run(["true"], ws, POLICY)
        shutil.copy2(src, dest)
        res = run(["python", "-c", "print('back')"], ws, POLICY)
        assert res.exit_code == 0 and res.stdout == "back\n", res
    assert tree(ws) == before


def test_bwrap_removed_under_a_warm_pool(ws, bwrap_copy):
    src, dest = bwrap_copy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with WarmPool(ws, POLICY) as pool:
            assert run_pytest(ws, ["test_ok.py"], pool=pool).passed
            pool.close()  # the worker is gone; the next run must start bwrap again
            dest.unlink()
            with pytest.raises(SandboxUnavailable) as exc:
                run_pytest(ws, ["test_ok.py"], pool=pool)
            assert "bubblewrap disappeared" in str(exc.value) or "bubblewrap not found" in str(exc.value)
            shutil.copy2(src, dest)
            assert run_pytest(ws, ["test_ok.py"], pool=pool).passed
