"""A real headless Neovim (0.7.2 in this project's install) drives `codeloop serve`.

The Lua client in codeaction.lua uses vim.lsp.start_client + vim.lsp.buf_attach_client
(the API docs/neovim.md shows for 0.7) and vim.lsp.buf_request_sync for code actions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NVIM = shutil.which("nvim")
SCRIPT = Path(__file__).with_name("codeaction.lua")

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (./install.sh installs it)")


def test_neovim_gets_codeloop_code_actions(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    source = root / "shapes.py"
    source.write_text('def area(w: float, h: float) -> float:\n    """Area of a rectangle."""\n    ...\n', encoding="utf-8")
    out = tmp_path / "out.txt"
    env = dict(
        os.environ,
        CODELOOP_NVIM_OUT=str(out),
        CODELOOP_NVIM_CMD=json.dumps([sys.executable, "-m", "codeloop", "serve", "--no-log-file"]),
        CODELOOP_NVIM_ROOT=str(root),
        CODELOOP_NVIM_FILE=str(source),
        HOME=str(tmp_path),  # no user config, no shada in the real home
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-n", "-i", "NONE", "-c", f"luafile {SCRIPT}"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    assert out.exists(), f"nvim wrote nothing (exit {proc.returncode}): {proc.stdout}\n{proc.stderr}"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if line.startswith(("LUAERROR", "ERROR"))], lines
    assert "ACTION Implement area -> codeloop.implement" in lines
    assert "ACTION Generate tests for area -> codeloop.generateTests" in lines
    assert "DIAGNOSTIC codeloop.implement line 0" in lines
    assert lines[-1] == "DONE"
