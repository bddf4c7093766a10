"""`codeloop search` and `codeloop --version` load only what they use: no settings (nor
the model's SDK) for an index without vectors, no platformdirs on Linux, no command module
for the version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from codeloop.user_dirs import user_cache_dir

# The console script's entry in a new interpreter that lists, at exit, the modules it imported.
ENTRY = ("import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
         "from codeloop.cli import main\n"
         "sys.exit(main(sys.argv[1:]))\n")


def run(*argv: str, cwd: Path, cache: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    proc = subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, "XDG_CACHE_HOME": str(cache)})
    listed = [line for line in proc.stderr.splitlines() if line.startswith("MODULES ")]
    assert listed, proc.stderr
    return proc, set(listed[-1].split()[1:])


def test_search_reads_no_settings_when_the_index_has_no_vectors(tmp_path: Path, write_tree) -> None:
    root = write_tree(tmp_path / "proj", {
        "pyproject.toml": ("[project]\nname = 'p'\n\n[tool.codeloop.model]\nbase_url = 'http://127.0.0.1:9/v1'\n"
                           "name = 'm'\n\n[tool.codeloop.index]\nembeddings = 'auto'\n"),
        "p/tax.py": 'def add_vat(amount):\n    """Add value added tax."""\n    return amount * 1.2\n',
    })
    proc, names = run("search", "value added tax", cwd=root, cache=tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "p/tax.py:1: function p.tax.add_vat(amount)" in proc.stdout.splitlines()
    assert not [n for n in names if n.startswith(("codeloop.config", "codeloop.model", "openai"))]
    assert "platformdirs" not in names


@pytest.mark.parametrize("xdg", [None, "/srv/cache", "relative/cache", ""])
def test_the_cache_folder_is_the_one_platformdirs_names(xdg: str | None, monkeypatch) -> None:
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert user_cache_dir() == Path(platformdirs.user_cache_dir("codeloop", appauthor=False))


def test_version_loads_no_command(tmp_path: Path) -> None:
    proc, names = run("--version", cwd=tmp_path, cache=tmp_path / "cache")
    assert proc.returncode == 0 and proc.stdout.strip().startswith("codeloop ")
    assert not [n for n in names if n.startswith("codeloop.cli.")]
