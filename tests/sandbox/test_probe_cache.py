"""The probe's disk cache: a second process runs no probing bwrap and no interpreter query;
a change of the bwrap binary, or a run failing as bwrap fails when it cannot set up,
brings the probe back. bubblewrap is real: a logging wrapper script stands in front of it
(``CODELOOP_SANDBOX_BWRAP``), so every call is counted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codeloop_sandbox import _probecache

REAL_BWRAP = next((p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None)


@pytest.fixture
def rig(tmp_path, needs_bwrap):
    """(run the CLI, the calls logged by the wrapper, the cache file)."""
    if REAL_BWRAP is None:
        pytest.skip("no bwrap at a fixed location")
    log = tmp_path / "bwrap-calls.log"
    wrapper = tmp_path / "bin" / "bwrap"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {REAL_BWRAP} "$@"\n')
    wrapper.chmod(0o755)
    ws = tmp_path / "ws"
    ws.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CODELOOP_SANDBOX_BWRAP": str(wrapper)}
    env.pop(_probecache.CACHE_ENV, None)

    def cli(*cmd: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "run", "--allow-level", "B", "--", *cmd],
                              cwd=ws, env={**env, **env_extra}, capture_output=True, text=True, timeout=120)

    def calls() -> list[str]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return lines

    return cli, calls, tmp_path / "cache" / "codeloop" / _probecache.FILE_NAME, wrapper


def probes(calls: list[str]) -> int:
    """The probing calls among ``calls`` (--version, --help; the probe's `true` run and a
    real run both start with --unshare-all, so those are counted apart)."""
    return sum(c in ("--version", "--help") for c in calls)


def test_the_second_process_does_not_probe(rig):
    cli, calls, cache, _ = rig
    first = cli("python", "-c", "print('one')")
    assert first.returncode == 0 and first.stdout == "one\n", first.stderr
    assert probes(calls()) == 2
    data = json.loads(cache.read_text())
    assert data["probe"][_probecache.PACKAGE_DIR]["value"]["status"]["level"] in ("A", "B")
    assert sys.executable in data["interpreters"]
    second = cli("python", "-c", "print('two')")
    assert second.returncode == 0 and second.stdout == "two\n", second.stderr
    assert calls() == ["--unshare-all"]  # only the run itself: no probe, and the run is the same
    assert oct(cache.stat().st_mode & 0o777) == "0o600"


def test_two_installations_used_in_turn_do_not_probe_again(rig, tmp_path):
    """An editor's server and a CLI from another venv share the cache file: each keeps its
    own probe entry (the key includes the package's source, so one entry would flip)."""
    cli, calls, _, _ = rig
    other = tmp_path / "other-install"
    shutil.copytree(Path(_probecache.PACKAGE_DIR), other / "codeloop_sandbox",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = os.pathsep.join([str(other), os.environ.get("PYTHONPATH", "")])
    assert cli("true").returncode == 0 and cli("true", PYTHONPATH=path).returncode == 0
    assert probes(calls()) == 4  # each installation probed once
    for _ in range(2):
        assert cli("true").returncode == 0 and cli("true", PYTHONPATH=path).returncode == 0
    assert probes(calls()) == 0


def test_the_interpreter_description_comes_from_the_cache(rig):
    """Proof that the second process reads the stored description instead of asking the
    interpreter: one emptied on disk (no dirs to bind) breaks the run."""
    cli, _, cache, _ = rig
    assert cli("python", "-c", "print('ok')").returncode == 0
    data = json.loads(cache.read_text())
    entry = data["interpreters"][sys.executable]["value"]
    entry["dirs"], entry["stamp"][1] = [], []
    cache.write_text(json.dumps(data))
    assert cli("python", "-c", "print('ok')").stdout != "ok\n"


def test_a_changed_bwrap_binary_is_probed_again(rig):
    cli, calls, _, wrapper = rig
    assert cli("true").returncode == 0
    calls()
    wrapper.write_text(wrapper.read_text() + "# upgraded\n")  # another size and mtime
    assert cli("true").returncode == 0
    assert probes(calls()) == 2


def test_a_run_failing_like_bwrap_drops_the_probe(rig):
    """A run whose stderr starts with "bwrap: " and exits 1 (what bwrap does when the
    machine no longer lets it set up) makes the next process probe again."""
    cli, calls, cache, _ = rig
    assert cli("true").returncode == 0
    calls()
    failed = cli("sh", "-c", "echo 'bwrap: setting up uid map: Permission denied' >&2; exit 1")
    assert failed.returncode == 1
    assert "probe" not in json.loads(cache.read_text())
    assert cli("true").returncode == 0
    assert probes(calls()) == 2


def test_an_ordinary_failure_keeps_the_probe(rig):
    cli, calls, cache, _ = rig
    assert cli("true").returncode == 0
    assert cli("sh", "-c", "echo 'error: no such thing' >&2; exit 1").returncode == 1
    assert "probe" in json.loads(cache.read_text())
    calls()
    assert cli("true").returncode == 0
    assert probes(calls()) == 0


def test_a_damaged_or_foreign_cache_file_is_a_miss(rig):
    cli, calls, cache, _ = rig
    cache.parent.mkdir(parents=True)
    here, fmt = _probecache.PACKAGE_DIR, _probecache.FORMAT
    for text in ("{not json", json.dumps({"format": fmt, "probe": {here: {"key": [], "value": {"status": {"level": "A"}}}}}),
                 json.dumps({"format": fmt, "probe": {"key": [], "value": {"status": {"level": "A"}}}}),
                 json.dumps({"format": fmt, "probe": "x", "interpreters": [1, 2]})):
        cache.write_text(text)
        r = cli("python", "-c", "print('ok')")
        assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
        assert probes(calls()) == 2


def test_a_cache_file_others_may_write_is_ignored(rig):
    cli, calls, cache, _ = rig
    assert cli("true").returncode == 0
    calls()
    cache.chmod(0o666)
    assert cli("true").returncode == 0
    assert probes(calls()) == 2


def test_an_unwritable_cache_directory_only_costs_time(rig, tmp_path):
    cli, calls, cache, _ = rig
    cache.parent.parent.mkdir(parents=True)
    cache.parent.parent.chmod(0o500)  # as root this is still writable; then the cache works, also fine
    try:
        for _ in range(2):
            r = cli("python", "-c", "print('ok')")
            assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    finally:
        cache.parent.parent.chmod(0o700)


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv(_probecache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _probecache.cache_file() == str(tmp_path / "codeloop" / _probecache.FILE_NAME)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _probecache.cache_file() == str(Path(tmp_path / "home" / ".cache" / "codeloop" / _probecache.FILE_NAME))
    monkeypatch.setenv(_probecache.CACHE_ENV, "off")
    assert _probecache.cache_file() is None
