"""Running `codeloop gen-tests` as a user does, and the tests it wrote in the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from codeloop_sandbox import Policy, run_pytest

HANG_GUARD = 180  # seconds: only to turn a hang into a failure, not a speed requirement


def gen_tests(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``codeloop gen-tests ARGS`` in ``cwd`` with no model configured (the offline engine)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CODELOOP_MODEL",)}
    return subprocess.run([sys.executable, "-m", "codeloop", "gen-tests", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD)


def run_generated(project: Path, rel: str):
    """The pytest result of the test file ``rel`` of ``project``, run in the sandbox."""
    policy = Policy(timeout=120, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(project)})
    return run_pytest(project, args=["-q", "-p", "no:cacheprovider", rel], policy=policy)
