"""`codeloop sandbox run|status`: exit codes, streaming, working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def cli(*args, cwd=None, env_extra=None, timeout=60):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "codeloop", "sandbox", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.txt").write_text("hello\n")
    return tmp_path


def test_run_passes_output_exit_code_and_relative_cwd(ws, needs_bwrap):
    r = cli("run", "--", "python", "-c", "import os,sys; print(os.getcwd()); print(open('data.txt').read().strip()); "
            "print('err', file=sys.stderr); sys.exit(3)", cwd=ws / "sub")
    assert r.returncode == 3, r.stderr
    assert r.stdout.splitlines() == [str(ws / "sub"), "hello"]
    assert "err" in r.stderr


def test_run_workspace_option_and_zero(ws, tmp_path_factory, needs_bwrap):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    r = cli("run", "--workspace", str(ws), "--", "sh", "-c", "pwd; ls", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == str(ws)
    assert "sub" in r.stdout


def test_timeout_124_and_limit_125(ws, needs_bwrap):
    r = cli("run", "--timeout", "1", "--", "sleep", "30", cwd=ws)
    assert r.returncode == 124 and "timed out" in r.stderr
    r = cli("run", "--max-output", "4", "--", "yes", cwd=ws)
    assert r.returncode == 125 and "output" in r.stderr
    assert len(r.stdout) <= 4096


def test_unavailable_126(ws):
    r = cli("run", "--", "true", cwd=ws, env_extra={"CODELOOP_SANDBOX_BWRAP": "/nonexistent/bwrap"})
    assert r.returncode == 126
    line = r.stderr.strip().splitlines()[-1]
    assert "bubblewrap" in line and "apt-get install bubblewrap" in line


def test_bad_input_2(ws):
    assert cli("run", cwd=ws).returncode == 2
    assert cli("run", "--timeout", "0", "--", "true", cwd=ws).returncode == 2
    r = cli("run", "--workspace", str(ws / "missing"), "--", "true", cwd=ws)
    assert r.returncode == 2 and "not a directory" in r.stderr


def test_secret_env_refused(ws, needs_bwrap):
    r = cli("run", "--allow-env", "OPENAI_API_KEY", "--allow-env", "KEEP_ME", "--", "sh", "-c",
            "echo ${OPENAI_API_KEY:-unset} ${KEEP_ME:-unset}", cwd=ws,
            env_extra={"OPENAI_API_KEY": "sk-canary-cli", "KEEP_ME": "kept"})
    assert r.returncode == 0
    assert r.stdout.strip() == "unset kept"
    assert "refused" in r.stderr and "sk-canary-cli" not in r.stdout + r.stderr


def test_status_text_and_json(needs_bwrap):
    r = cli("status")
    assert "sandbox level:" in r.stdout and "bubblewrap:" in r.stdout
    assert r.returncode == (0 if "level: A" in r.stdout else 1)
    data = json.loads(cli("status", "--json").stdout)
    assert data["level"] in "ABCD" and "root_nproc_ok" in data


def test_status_without_bwrap():
    r = cli("status", env_extra={"CODELOOP_SANDBOX_BWRAP": "/nonexistent/bwrap"})
    assert r.returncode == 1
    assert "bubblewrap: not found" in r.stdout and "apt-get install bubblewrap" in r.stdout


def test_pytest_environment_enters_as_in_the_shell(ws, needs_bwrap):
    # `python -m pytest` in the user's shell sees PYTEST_DISABLE_PLUGIN_AUTOLOAD; the same
    # command through the sandbox must too (else every installed plugin loads inside).
    show = "import os; print([os.environ.get(n, '-') for n in ('PYTEST_DISABLE_PLUGIN_AUTOLOAD', 'PYTEST_ADDOPTS', 'OTHER')])"
    r = cli("run", "--", "python", "-c", show, cwd=ws,
            env_extra={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTEST_ADDOPTS": "-x", "OTHER": "no"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['1', '-x', '-']"
    r = cli("run", "--", "python", "-c", show, cwd=ws,
            env_extra={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "", "PYTEST_ADDOPTS": ""})
    assert r.stdout.strip() == "['', '', '-']"  # what the shell has, not a value of ours


# `codeloop sandbox run` as the console script runs it (main() without arguments), with the
# path of each per-run pids cgroup written to a file as it is made.
AS_PROGRAM = """import sys
from codeloop_sandbox import _run
made, log = _run._Cgroup.__init__, sys.argv[1]
def record(self, *a, **k):
    made(self, *a, **k)
    with open(log, "a") as fh:
        fh.write(self.path + "\\n")
_run._Cgroup.__init__ = record
from codeloop.cli import main
sys.argv = ["codeloop", *sys.argv[2:]]
raise SystemExit(main())
"""


def test_program_exit_flushes_output_and_cleans_up(ws, tmp_path, needs_bwrap):
    # The CLI ends without the interpreter's teardown (exit_now): all output must still
    # arrive, and the atexit handlers must still run: the per-run cgroup (root) is removed
    # even while the sandbox's last processes are still being killed when bwrap returns.
    log = tmp_path / "groups.txt"
    body = "import subprocess, sys; subprocess.Popen(['sleep', '5']); sys.stdout.write('x' * 200000); sys.exit(4)"
    r = subprocess.run([sys.executable, "-c", AS_PROGRAM, str(log), "sandbox", "run", "--", "python", "-c", body],
                       cwd=ws, capture_output=True, text=True, timeout=60)
    assert r.returncode == 4, r.stderr
    assert r.stdout == "x" * 200000
    groups = log.read_text().split() if log.exists() else []
    if needs_bwrap.nproc_mechanism.startswith("pids-cgroup"):
        assert len(groups) == 1
        assert not os.path.exists(groups[0])
    else:
        assert groups == []
