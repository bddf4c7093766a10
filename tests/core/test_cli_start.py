"""Fast CLI start: a command imports only its own module; ``--help`` still lists them all."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

import pytest

import codeloop.cli as cli

# What a terminal command must not pay for unless it uses it.
HEAVY = ("openai", "pygls", "lsprotocol", "tree_sitter", "asyncio", "codeloop.services", "codeloop.workspace",
         "codeloop.generate", "codeloop.verify", "codeloop.model", "codeloop.learn", "codeloop.lsp")


def registered(module: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_the_command_table_matches_what_the_modules_register():
    seen: dict[str, str] = {}
    for module in cli.SUBCOMMAND_MODULES:
        for name in registered(module):
            seen[name] = module
    assert seen == cli.COMMANDS


# The console script's entry (codeloop.cli:main) in a new interpreter that lists, at exit,
# every module it imported (-X importtime misses importlib.import_module).
ENTRY = ("import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
         "from codeloop.cli import main\n"
         "sys.exit(main(sys.argv[1:]))\n")


def imported_modules(*argv: str) -> tuple[int, set[str], str]:
    """(exit code, modules imported, stderr) of ``codeloop ARGV`` in a new interpreter."""
    proc = subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    listed = [line for line in proc.stderr.splitlines() if line.startswith("MODULES ")]
    assert listed, proc.stderr
    return proc.returncode, set(listed[-1].split()[1:]), proc.stderr


def heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.startswith(HEAVY))


def test_sandbox_run_imports_no_other_command_and_nothing_heavy():
    code, names, err = imported_modules("sandbox", "run")  # no command: exit 2 before any bwrap
    assert code == 2 and "missing command" in err
    assert "codeloop_sandbox" in names and "codeloop.cli.sandbox" in names
    assert not [n for n in names if n.startswith("codeloop.cli.") and n != "codeloop.cli.sandbox"]
    assert heavy(names) == []


@pytest.mark.parametrize("command,allowed", [("sandbox", ()), ("export", ("codeloop.learn",)),
                                             ("stats", ("codeloop.learn",))])
def test_light_commands_stay_light(command, allowed):
    code, names, _ = imported_modules(command, "--help")
    assert code == 0
    assert [n for n in heavy(names) if not n.startswith(allowed)] == []
    assert sum(n.startswith("codeloop.cli.") for n in names) == 1


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_parses_on_its_own(name, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([name, "--help"])
    assert info.value.code == 0
    assert f"usage: codeloop {name}" in capsys.readouterr().out


def test_an_unknown_command_is_one_clear_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'no-such-command'" in err and "implement" in err  # every command offered


def test_the_command_word_after_options():
    assert cli.command_of(["--version"]) is None
    assert cli.command_of(["sandbox", "run", "--", "true"]) == "sandbox"
    assert cli.command_of(["--", "implement"]) is None
