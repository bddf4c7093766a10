"""Faults under a running server (issue 16 item 7): the cache directory's disk full, the
reward log locked by another process or damaged, the interpreter removed mid-session. Each
gives one clear message, the server keeps answering, no user file changes, and the next
request after the fault is fixed works. (The scratch directory's disk full and bwrap removed
are in tests/sandbox/test_faults.py; the flapping endpoint in tests/model/test_deadline.py
and tests/chat/test_llm_lsp_chat.py.)"""

from __future__ import annotations

import asyncio
import os
import site
import sqlite3
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from lsprotocol import types

from codeloop.learn.log import RewardLog
from support.fake_openai import Reply
from support.files import tree
from support.lsp_client import (
    assert_alive,
    command_params,
    execute,
    fake_model_env,
    initialize,
    needs_level_a,
    open_document,
    plain,
    request_raw,
    serve_command,
    start_server,
    stop_server,
    wait_for,
)

KEY = "sk-faults-0123456789abcdefDONOTLEAK"
STUB = 'def double(x: int) -> int:\n    """Twice x.\n\n    >>> double(2)\n    4\n    """\n    ...\n'
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
TESTS = "```python\nfrom calc import double\n\ndef test_zero():\n    assert double(0) == 0\n```"


def messages_with(client, text: str) -> list[str]:
    return [m.message for m in client.messages if text in m.message]


# -- disk full in the cache directory ------------------------------------------------------

@pytest.fixture
def tiny_cache(tmp_path):
    """A 64 KiB tmpfs as the cache directory (root only): the index does not fit."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs this suite as root)")
    mnt = tmp_path / "cache"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


async def symbols(client, query: str) -> list[str]:
    response = await request_raw(client, types.WORKSPACE_SYMBOL, types.WorkspaceSymbolParams(query=query))
    assert "error" not in response, response
    return [s["name"] for s in response["result"] or []]


async def test_disk_full_in_the_cache_directory(tmp_path, tiny_cache):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'big'\n")
    for i in range(40):
        (root / f"mod{i}.py").write_text("".join(
            f"def func_{i}_{j}(a, b):\n    '''Add {j} words to the index.'''\n    return a + b\n\n" for j in range(40)))
    before = tree(root)
    # the default log file lives in the cache directory too
    client = await start_server({"XDG_CACHE_HOME": str(tiny_cache), "XDG_DATA_HOME": str(tmp_path / "data")},
                                serve_command()[:-1])
    try:
        await initialize(client, root)
        await wait_for(lambda: messages_with(client, "no space left for the index"), 60, "the disk-full message")
        (message,) = messages_with(client, "index")
        assert "\n" not in message and str(tiny_cache) in message and "Traceback" not in message
        assert await symbols(client, "func_3_3") == []  # no index: an empty answer, not an error
        await assert_alive(client, root / "probe.py")
        assert tree(root) == before
        # Fixed (more room): the next change brings the index up to date.
        subprocess.run(["mount", "-o", "remount,size=16m", str(tiny_cache)], check=True)
        uri = open_document(client, root / "mod3.py", (root / "mod3.py").read_text())
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        for _ in range(200):
            if "func_39_39" in await symbols(client, "func_39_39"):
                break
            await asyncio.sleep(0.1)
        assert "func_39_39" in await symbols(client, "func_39_39")
        assert len(messages_with(client, "index")) == 1
        assert tree(root) == before
    finally:
        await stop_server(client)


# -- the workspace's interpreter removed ----------------------------------------------------

@pytest.fixture
def own_interpreter(tmp_path):
    """A virtualenv that sees this venv's packages: the server runs (and sandboxes) with its
    ``bin/python``, which the test removes and puts back."""
    home = tmp_path / "venv"
    venv.create(home, with_pip=False, symlinks=True)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (home / "lib" / version / "site-packages" / "outer.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages()))
    python = home / "bin" / "python"
    return python, os.readlink(python)


@needs_level_a()
async def test_interpreter_removed_in_the_middle_of_a_session(tmp_path, own_interpreter):
    python, target = own_interpreter
    root = tmp_path / "ws"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'calc'\n")
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests" / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    before = tree(root)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    client = await start_server(env, [str(python), "-m", "codeloop", "serve", "--no-log-file"])
    try:
        await initialize(client, root)
        uri = open_document(client, root / "calc.py", (root / "calc.py").read_text())
        run = command_params("codeloop.runTests", {"uri": uri})
        ok = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run, 120)
        assert ok.get("result", {}).get("passed") == 1, ok
        python.unlink()
        gone = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run, 120)
        assert gone["error"]["code"] == types.LSPErrorCodes.RequestFailed, gone
        line = gone["error"]["message"]
        assert "\n" not in line and f"interpreter not found: {python}" in line and "reinstall" in line
        assert len(messages_with(client, "interpreter not found")) == 1
        await assert_alive(client, root / "probe.py")
        os.symlink(target, python)
        back = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run, 120)
        assert back.get("result", {}).get("passed") == 1, back
        assert tree(root) == before
    finally:
        if not python.is_symlink():
            os.symlink(target, python)
        await stop_server(client)


# -- the reward log locked by another process, or damaged -----------------------------------

@pytest.fixture
async def implementing(tmp_path, fake_openai):
    """A server on the fake model (its data directory under tmp_path) with ``calc.py`` open."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\n"
                                         "[tool.codeloop.model]\ncandidates = 2\n")
    (root / "calc.py").write_text(STUB)
    log_path = tmp_path / "data" / "codeloop" / "rewards.sqlite3"
    log_path.parent.mkdir(parents=True)

    async def start():
        client = await start_server(fake_model_env(fake_openai, tmp_path, api_key=KEY))
        await initialize(client, root)
        client.uri = open_document(client, root / "calc.py", STUB)  # type: ignore[attr-defined]
        return client

    clients = []

    async def session():
        clients.append(await start())
        return clients[-1]

    yield session, root, log_path
    for client in clients:
        await stop_server(client)


async def implement(client, fake_openai) -> dict:
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS)
    return plain(await execute(client, "codeloop.implement", {"uri": client.uri, "line": 0, "version": 1}))["result"]


def logged(path: Path) -> int:
    with RewardLog(path, readonly=True) as log:
        return log.count()


@needs_level_a()
async def test_reward_log_locked_by_another_process(implementing, fake_openai):
    session, root, log_path = implementing
    client = await session()
    first = await implement(client, fake_openai)
    assert first["applied"] and first["verified"] and "logWarning" not in first
    rows = logged(log_path)
    assert rows == 2
    locker = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys\n"
        f"db = sqlite3.connect({str(log_path)!r}, isolation_level=None)\n"
        "db.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        during = await implement(client, fake_openai)
        # implementing goes on: the edit is made, the outcome is not recorded, and it says why
        assert during["applied"] and during["verified"], during
        assert "locked by another process" in during["logWarning"]
        (message,) = messages_with(client, "reward log")
        assert "\n" not in message and str(log_path) in message
    finally:
        locker.stdin.close()
        locker.wait(10)
    after = await implement(client, fake_openai)
    assert after["applied"] and "logWarning" not in after
    assert logged(log_path) == rows + 2
    assert (root / "calc.py").read_text() == STUB  # the server never writes the user's file
    await assert_alive(client, root / "probe.py")


@needs_level_a()
async def test_reward_log_damaged(implementing, fake_openai):
    session, root, log_path = implementing
    garbage = b"this is not a SQLite database\n" * 100
    log_path.write_bytes(garbage)
    client = await session()
    during = await implement(client, fake_openai)
    assert during["applied"] and during["verified"], during
    assert "damaged" in during["logWarning"] and "move it away" in during["logWarning"]
    (message,) = messages_with(client, "reward log")
    assert "\n" not in message and str(log_path) in message
    # Fixed: the user moves the damaged file away; the next request starts a new log.
    aside = log_path.with_name("rewards.damaged")
    log_path.rename(aside)
    after = await implement(client, fake_openai)
    assert after["applied"] and "logWarning" not in after, after
    assert logged(log_path) == 2
    assert aside.read_bytes() == garbage  # nothing of the old file was touched
    assert (root / "calc.py").read_text() == STUB
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(aside).execute("SELECT 1 FROM outcomes").fetchone()
