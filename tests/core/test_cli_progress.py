"""CLI progress on stderr: a bar on a terminal, plain lines when piped, nothing with --json
or for quick work; the result on stdout stays clean."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from codeloop.cli.progress import CliProgress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_each_new_step_is_one_line_and_repeats_are_not():
    out = io.StringIO()
    progress = CliProgress("gen-tests", delay=0, interval=0, stream=out)
    for message in ("running the sandbox", "running the sandbox", "round 2", "done"):
        progress(message, 0.5)
    progress.close()
    assert out.getvalue().splitlines() == ["codeloop: gen-tests: running the sandbox", "codeloop: gen-tests: round 2",
                                           "codeloop: gen-tests: done"]


def test_quick_work_and_json_show_nothing():
    quick, quiet = io.StringIO(), Tty()
    CliProgress("implement", delay=60, stream=quick)("asking the model", 0.1)
    with CliProgress("implement", quiet=True, delay=0, stream=quiet) as progress:
        progress("asking the model", 0.1)
    assert quick.getvalue() == "" and quiet.getvalue() == ""


def test_a_terminal_gets_a_bar_that_is_removed_at_the_end():
    tty = Tty()
    with CliProgress("index", delay=0, stream=tty) as progress:
        progress("parsing 40 files", 0.4)
        assert progress._bar is not None
    assert "index" in tty.getvalue() and progress._bar is None


def test_index_json_keeps_stdout_to_the_result(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    env_cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "codeloop", "index", str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env_cache})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == 1
