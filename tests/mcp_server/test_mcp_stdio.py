"""``codeloop mcp`` through the official SDK's own stdio client (issue 14, item 6): the
tools listed with their annotations, calls, errors as results, progress, a cancelled long
call, writes through the CLI's atomic path, and nothing but the protocol on stdout."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from codeloop.learn.log import RewardLog
from support.agent_project import SECRET, calc_project
from support.fake_openai import Reply

REPO = Path(__file__).resolve().parents[2]
SETTINGS = ("[project]\nname = 'calc'\n\n[tool.codeloop.model]\ncandidates = 2\n\n"
            "[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\nengine = 'offline'\nbudget = 8\n")
RIGHT = "```python\ndef mean(values: list[float]) -> float:\n    return sum(values) / len(values)\n```"
TESTS = "```python\nfrom calc.ops import mean\n\ndef test_one():\n    assert mean([4.0]) == 4.0\n```"
SLOW = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"


@pytest.fixture
def project(tmp_path) -> Path:
    root = calc_project(tmp_path / "calc_project")
    (root / "pyproject.toml").write_text(SETTINGS)
    (root / "tests/test_slow.py").write_text(SLOW)
    return root


def params(root: Path, tmp_path: Path, model_url: str | None) -> StdioServerParameters:
    env = {"PYTHONPATH": os.pathsep.join([str(REPO / "server"), str(REPO / "sandbox")]),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "OPENAI_API_KEY": "sk-mcp-test-0123456789abcdef", "HOME": str(tmp_path)}
    if model_url:
        env.update(OPENAI_BASE_URL=model_url, CODELOOP_MODEL="fake-model")
    return StdioServerParameters(command=sys.executable, args=["-m", "codeloop", "mcp", "--project", str(root),
                                                               "--log-level", "info"], env=env, cwd=str(root))


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content)


async def session_run(root: Path, tmp_path: Path, model_url: str | None, body) -> str:
    """Run ``body(session)`` against a fresh server; the server's stderr."""
    errlog = tmp_path / "mcp-stderr.log"
    with errlog.open("w") as err:
        async with stdio_client(params(root, tmp_path, model_url), errlog=err) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            await body(session)
    return errlog.read_text()


def test_tools_listed_and_called_without_a_model(project: Path, tmp_path: Path) -> None:
    async def body(session: ClientSession) -> None:
        listed = (await session.list_tools()).tools
        names = [t.name for t in listed]
        assert names == ["search_code", "read_symbol", "read_file", "list_intents", "run_tests", "generate_tests",
                         "implement"]
        read_only = {t.name for t in listed if t.annotations and t.annotations.read_only_hint}
        assert read_only == {"search_code", "read_symbol", "read_file", "list_intents", "run_tests"}
        by_name = {t.name: t for t in listed}
        assert by_name["implement"].input_schema["properties"]["write"]["type"] == "boolean"
        assert by_name["generate_tests"].input_schema["required"] == ["target"]
        assert "write" not in by_name["search_code"].input_schema["properties"]

        found = await session.call_tool("search_code", {"query": "mean"})
        assert not found.is_error and text_of(found).startswith("calc/ops.py:13: function calc.ops.mean")
        secret = await session.call_tool("read_file", {"path": ".env"})
        assert secret.is_error and "is excluded" in text_of(secret) and SECRET not in text_of(secret)
        bad = await session.call_tool("read_file", {"path": 7})
        assert bad.is_error and text_of(bad) == "read_file: argument 'path' must be a string"
        no_model = await session.call_tool("implement", {"target": "calc.ops.mean"})
        assert no_model.is_error and text_of(no_model).startswith("implement: no model is configured")

    asyncio_run(body, project, tmp_path, None)


def asyncio_run(body, project: Path, tmp_path: Path, model_url: str | None) -> str:
    return anyio.run(session_run, project, tmp_path, model_url, body)


def test_run_tests_with_progress_and_a_cancelled_long_call(project: Path, tmp_path: Path, needs_bwrap) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def body(session: ClientSession) -> None:
        ran = await session.call_tool("run_tests", {"path": "tests/test_ops.py"}, progress_callback=on_progress)
        assert text_of(ran).startswith("tests: 1 passed, 1 failed")
        assert "tests/test_ops.py:9: tests/test_ops.py::test_add_wrong failed" in text_of(ran)
        started = time.monotonic()
        with anyio.move_on_after(2.0):
            await session.call_tool("run_tests", {"test_id": "tests/test_slow.py::test_slow"})
            raise AssertionError("the slow call returned")
        assert time.monotonic() - started < 10
        again = await session.call_tool("list_intents", {"path": "calc"})  # the server goes on
        assert "calc/ops.py:13: implement: mean:" in text_of(again)

    stderr = asyncio_run(body, project, tmp_path, None)
    assert progress and progress[0][1] == 100.0
    assert "mcp run_tests cancelled after" in stderr


def test_implement_and_generate_tests_write_only_when_asked(project: Path, tmp_path: Path, fake_openai,
                                                            needs_bwrap) -> None:
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS, Reply.text(RIGHT, RIGHT), TESTS)
    ops = project / "calc/ops.py"
    before = ops.read_text()

    async def body(session: ClientSession) -> None:
        dry = await session.call_tool("implement", {"target": "calc/ops.py::mean"})
        assert not dry.is_error and text_of(dry).startswith("verified: Implement mean (verified)")
        assert ops.read_text() == before
        wet = await session.call_tool("implement", {"target": "calc.ops.mean", "write": True})
        assert text_of(wet).endswith("wrote the verified implementation into calc/ops.py")
        assert "return sum(values) / len(values)" in ops.read_text()
        tests = await session.call_tool("generate_tests", {"target": "calc.ops.Register.push", "write": True})
        assert "(nothing written)" in text_of(tests) and "wrote " in text_of(tests).splitlines()[-1]
        assert (project / "tests/test_ops.py").read_text().count("def test_") > 2

    asyncio_run(body, project, tmp_path, fake_openai.base_url)
    with RewardLog(tmp_path / "data/codeloop/rewards.sqlite3", readonly=True) as log:
        rows = list(log.rows())
    # two candidates per call: the dry run's stay unmarked, the written best is accepted
    assert len(rows) == 4 and all(r.verified for r in rows) and [r.accepted for r in rows] == [None, None, True, None]


def test_nothing_but_protocol_on_stdout(project: Path, tmp_path: Path) -> None:
    import json
    import subprocess

    p = params(project, tmp_path, None)
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_intents", "arguments": {}}},
    ]
    proc = subprocess.Popen([p.command, *p.args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, **(p.env or {})}, cwd=p.cwd)
    lines: list[str] = []
    try:
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" in message:
                lines.append(proc.stdout.readline())  # the answer, before anything else is asked
        proc.stdin.close()
        rest = proc.stdout.read()
    finally:
        proc.wait(timeout=30)
    assert rest.strip() == ""
    assert [json.loads(line).get("id") for line in lines] == [1, 2]
    assert "calc/ops.py:13: implement: mean" in json.loads(lines[1])["result"]["content"][0]["text"]
