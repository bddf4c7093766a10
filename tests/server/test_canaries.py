"""Secrets end to end (issue 16 item 9): four canaries, each where a real secret lives (the
server's environment, the workspace's ``.env``, the settings' key sent by the editor, and a
password in the file the user works on), are driven through implement, generate tests, chat
and inline completion on the real server, the fake model and the real sandbox. None may
appear in a request body to the model, in the server's log, in the sandbox's environment or
files, in the reward log or in an export. (The file the user asks about is the code under
test, so it is in the sandbox by necessity; its password never leaves for the model.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from lsprotocol import types

from support.fake_openai import Reply
from support.lsp_client import (
    SERVER_ENV,
    execute,
    initialize,
    needs_level_a,
    open_document,
    plain,
    serve_command,
    start_server,
    stop_server,
    wait_for,
)

pytestmark = needs_level_a()

ENV = "cnry-env-4f1d0a9be27c"  # PAYMENTS_SECRET in the server's environment
DOTENV = "cnry-dotenv-8e2b6c1d3a5f"  # SERVICE_TOKEN in the workspace's .env
KEY = "cnry-key-7a9e3b2c5d1f"  # the editor's model.apiKey (initializationOptions)
FILE = "cnry-file-2d8f4e6a0b3c"  # DB_PASSWORD in calc.py, the file the user asks about
CANARIES = {"environment": ENV, ".env": DOTENV, "settings key": KEY, "file": FILE}

SOURCE = f'''"""Small numeric helpers."""

DB_PASSWORD = "{FILE}"


def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...


def clamp(x: int, lo: int, hi: int) -> int:
    """x limited to lo..hi."""
    return max(lo, min(x, hi))
'''
# What a hostile candidate would do: look at everything the sandbox gives it.
SNOOP = '''import os, pathlib
seen = repr(dict(os.environ)) + "".join(p.read_text(errors="replace") for p in pathlib.Path("/").glob("*/**/.env*")
                                        if p.is_file())
'''
SPY = f"```python\ndef double(x: int) -> int:\n    {SNOOP.replace(chr(10), chr(10) + '    ')}    assert False, seen\n```"
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
TESTS = "```python\nfrom calc import clamp\n\n\ndef test_clamp():\n    assert clamp(5, 0, 3) == 3\n```"
def dump_script() -> str:
    """Inside the sandbox: look for the canaries in the environment and in every readable file
    outside the system trees and the interpreter (bound read-only from the host); print where
    each was found. Each needle is put together at run time, so the script's own argv does
    not contain it."""
    needles = {name: value.split("-", 1) for name, value in CANARIES.items()}
    return (f"import os, pathlib, sys\nneedles = {{n: a + '-' + b for n, (a, b) in {needles!r}.items()}}\n"
            "env = repr(dict(os.environ)).encode() + open('/proc/self/environ', 'rb').read()\n"
            "found = [(n, 'environment') for n, v in needles.items() if v.encode() in env]\n"
            "skip = {'/proc', '/sys', '/dev', '/usr', '/lib', '/lib32', '/lib64', '/bin', '/sbin', '/etc', '/opt',\n"
            "        sys.prefix, sys.base_prefix, *sys.path[1:]}\n"
            "def walk(d):\n"
            "    try:\n        entries = list(os.scandir(d))\n    except OSError:\n        return\n"
            "    for e in entries:\n"
            "        if e.path in skip or e.is_symlink():\n            continue\n"
            "        if e.is_dir():\n            walk(e.path)\n"
            "        elif e.is_file():\n"
            "            try:\n"
            "                data = open(e.path, 'rb').read(1 << 20)\n"
            "            except OSError:\n                continue\n"
            "            found.extend((n, e.path) for n, v in needles.items() if v.encode() in data)\n"
            "walk('/')\n"
            "print('files searched; found:', found)\n")


def leaks(text: str, names=tuple(CANARIES)) -> list[str]:
    return [name for name in names if CANARIES[name] in text]


async def test_canaries_never_leave(tmp_path, fake_openai):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\n"
                                         "engine = 'llm'\n[tool.codeloop.model]\ncandidates = 2\n")
    (root / "calc.py").write_text(SOURCE)
    (root / ".env").write_text(f"SERVICE_TOKEN={DOTENV}\n")
    data, log_file = tmp_path / "data", tmp_path / "server.log"
    env = {"OPENAI_BASE_URL": fake_openai.base_url, "CODELOOP_MODEL": "fake-model", "PAYMENTS_SECRET": ENV,
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(data), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    client = await start_server(env, serve_command(log_file))
    try:
        await initialize(client, root, {"apiKey": KEY})
        uri = open_document(client, root / "calc.py", SOURCE)
        # implement: a spying candidate (fails, its message carries what it saw) and a right one
        fake_openai.add_chat(Reply.text(SPY, RIGHT), TESTS)
        implemented = plain(await execute(client, "codeloop.implement", {"uri": uri, "line": 5, "version": 1}))
        assert implemented["result"]["verified"], implemented
        # generate tests (the LLM engine) for clamp
        fake_openai.add_chat(TESTS)
        generated = plain(await execute(client, "codeloop.generateTests", {"uri": uri, "line": 14, "version": 1}))
        assert "result" in generated, generated
        # chat about the file, the password line selected
        fake_openai.add_chat("It doubles x.")
        context = {"uri": uri, "languageId": "python", "text": SOURCE, "selectionText": SOURCE.splitlines()[2],
                   "selection": {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 40}}}
        answer = await asyncio.wait_for(client.protocol.send_request_async(
            "codeloop/chat", {"id": "c1", "message": "What is DB_PASSWORD for?", "history": [], "tools": False,
                              "context": context}), 60)
        assert "doubles" in plain(answer)["text"]
        # inline completion inside clamp's body
        fake_openai.add_completion("    return x\n")
        fake_openai.add_chat("    return x\n")
        await asyncio.wait_for(client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=16, character=4),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked))), 60)
        await wait_for(lambda: len(fake_openai.requests) >= 5, 30, "the model calls")
        shown = " ".join(m.message for m in client.messages) + " ".join(m.message for m in client.log_messages)
        assert leaks(shown) == [], shown
    finally:
        await stop_server(client)

    # 1. the model saw none of them (the key only as the credential)
    bodies = [r.raw.decode("utf-8", "replace") for r in fake_openai.requests]
    assert len(bodies) >= 5 and all(leaks(b) == [] for b in bodies), [leaks(b) for b in bodies]
    assert any("clamp" in b for b in bodies) and any("DB_PASSWORD" in b for b in bodies)  # the file did go, scrubbed
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in fake_openai.requests)
    # 2. the server's log (debug: every message in and out)
    assert leaks(log_file.read_text()) == []
    # 3. the reward log, byte for byte (WAL included), and both exports
    log_dir = data / "codeloop"
    for db in log_dir.glob("rewards.sqlite3*"):
        assert leaks(db.read_bytes().decode("utf-8", "replace")) == [], db
    for fmt in ("sft", "preference"):
        out = tmp_path / f"export-{fmt}.jsonl"
        r = subprocess.run([sys.executable, "-m", "codeloop", "export", "--format", fmt, "--out", str(out),
                            "--db", str(log_dir / "rewards.sqlite3")], capture_output=True, text=True, timeout=60,
                           env={**SERVER_ENV, "PAYMENTS_SECRET": ENV})
        assert r.returncode == 0, r.stderr
        assert leaks(out.read_text() + r.stdout + r.stderr) == []
    # 4. the sandbox's environment and files, as the server's own environment would give them
    r = subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "run", "--timeout", "120", "--",
                        "python", "-c", dump_script()],
                       cwd=root,
                       capture_output=True, text=True, timeout=120,
                       env={**SERVER_ENV, "PAYMENTS_SECRET": ENV, "OPENAI_API_KEY": KEY})
    assert r.returncode == 0, r.stderr[-2000:]
    found = r.stdout.strip().splitlines()[-1]
    assert found.startswith("files searched; found: ") and "calc.py" in found, r.stdout[-2000:]  # the copy was searched
    assert [n for n in CANARIES if f"('{n}'" in found] == ["file"], found  # the code under test, nothing else
    assert Path(root / ".env").read_text() == f"SERVICE_TOKEN={DOTENV}\n"
