"""Background sandbox verification of inline completions, end to end: `codeloop serve` over
stdio, the fake OpenAI server, the real bubblewrap sandbox.

Every wait is for an event (a log line the server sends when a check ends, a request the
fake model received), never a fixed delay; the 60 s bound only stops a broken run.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from support.inline import items, model_called

SOURCE = '''import math


def area(r):
    """Area of a circle of radius r.

    >>> area(1)
    3.141592653589793
    >>> area(0)
    0.0
    """
    


print(area(2))
'''
LINE = SOURCE.split("\n").index("    ")  # the blank line after the docstring


async def outcome(lsp, text: str, count: int = 1, within: float = 60.0) -> list[str]:
    """The server's 'inline completion of ...' log lines once ``count`` contain ``text``."""
    async def wait() -> list[str]:
        while True:
            found = [m.message for m in lsp.logs if "codeloop: inline completion of" in m.message]
            if sum(text in m for m in found) >= count:
                return found
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(wait(), within)


async def verdicts(lsp, count: int, within: float = 60.0) -> list:
    """The ``codeloop/inlineVerified`` notifications once ``count`` arrived (each is sent
    beside its log line, not before it)."""
    async def wait() -> list:
        while len(lsp.verdicts) < count:
            await asyncio.sleep(0.05)
        return lsp.verdicts

    return await asyncio.wait_for(wait(), within)


async def sandbox_running(lsp, uri: str, within: float = 60.0) -> None:
    """Until the check of ``uri``'s completion is in the sandbox (it starts a moment after the offer)."""
    async def wait() -> None:
        while True:
            stats = await lsp.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="codeloop.inlineCompletionStats", arguments=[]))
            if uri in stats["running"]:
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), within)


def write(lsp, name: str, text: str) -> str:
    (lsp.root / name).write_text(text, encoding="utf-8")
    return lsp.open(name, text)


async def test_a_correct_completion_is_marked_verified_when_offered_again(lsp, fake_openai):
    fake_openai.add_completion("return math.pi * r ** 2\n")
    uri = write(lsp, "geo.py", SOURCE)
    (first,) = items(await lsp.complete(uri, LINE, 4))
    assert first.insert_text == "    return math.pi * r ** 2"
    assert first.command is None  # not verified yet: no evidence claimed
    logs = await outcome(lsp, "verified 2/2 examples")
    assert logs == ["codeloop: inline completion of area: verified 2/2 examples"]
    # the verdict is also pushed, so an editor can ask again while the suggestion is shown
    (verdict,) = await verdicts(lsp, 1)
    assert (verdict.uri, verdict.version, verdict.line, verdict.name) == (uri, 1, LINE, "area")
    assert (verdict.status, verdict.evidence) == ("verified", "verified 2/2 examples")
    (again,) = items(await lsp.complete(uri, LINE, 4))
    assert again.insert_text == first.insert_text
    assert again.command is not None and again.command.title == "codeloop: verified 2/2 examples"
    assert len(fake_openai.requests_to("/v1/completions")) == 1  # served from the cache
    # accepting it runs the item's command: it only records the acceptance
    assert await lsp.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=again.command.command, arguments=again.command.arguments)) is None


async def test_a_completion_failing_its_example_is_never_marked(lsp, fake_openai):
    fake_openai.add_completion("return 2 * r\n", "return 2 * r\n", "return 2 * r\n")
    uri = write(lsp, "geo.py", SOURCE)
    offered = []
    for round_no in (1, 2):
        offered += items(await lsp.complete(uri, LINE, 4))
        logs = await outcome(lsp, "inline completion of area: failed", round_no)
        assert "area(1) returned 2, expected 3.141592653589793" in logs[-1]
    offered += items(await lsp.complete(uri, LINE, 4))
    assert [i.insert_text for i in offered] == ["    return 2 * r"] * 3
    assert all(i.command is None for i in offered)
    # a failed completion leaves the cache: each request asked the model again
    assert len(fake_openai.requests_to("/v1/completions")) == 3
    assert not any("verified" in m.message for m in lsp.logs if "inline completion of" in m.message)
    assert [(v.status, v.evidence) for v in await verdicts(lsp, 2)] == [("failed", "1/2 examples")] * 2
    assert "area(1) returned 2, expected 3.141592653589793" in lsp.verdicts[0].reason


async def test_a_completion_deleting_files_is_contained_and_not_marked(lsp, fake_openai, tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    hostile = (f'import os\n    getattr(os, "re" + "move")({str(precious)!r})\n'
               '    return math.pi * r ** 2\n')  # disguised: the static audit does not see it
    fake_openai.add_completion(hostile)
    uri = write(lsp, "geo.py", SOURCE)
    (first,) = items(await lsp.complete(uri, LINE, 4))
    assert "getattr(os" in first.insert_text and first.command is None
    logs = await outcome(lsp, "inline completion of area: failed")
    assert "tried to delete a file (os.remove), which is not allowed" in logs[-1]
    assert precious.read_text(encoding="utf-8") == "keep me"


async def test_a_completion_reading_the_key_sees_no_key_and_is_not_marked(lsp, fake_openai):
    # the example passes only if the API key leaks into the sandbox
    source = SOURCE.replace("3.141592653589793", "'sk-test'").replace("    >>> area(0)\n    0.0\n", "")
    fake_openai.add_completion('import os\n    return os.environ.get("OPENAI_" + "API_KEY", "no key")\n')
    uri = write(lsp, "geo.py", source)
    (first,) = items(await lsp.complete(uri, LINE - 2, 4))
    assert "OPENAI_" in first.insert_text and first.command is None
    logs = await outcome(lsp, "inline completion of area: failed")
    assert "area(1) returned 'no key', expected 'sk-test'" in logs[-1]


async def test_an_edit_before_the_check_starts_cancels_it_quietly(lsp, fake_openai):
    fake_openai.add_completion("import time\n    time.sleep(60)\n    return 0.0\n")
    uri = write(lsp, "geo.py", SOURCE)
    items(await lsp.complete(uri, LINE, 4))
    lsp.change(uri, SOURCE.replace("print(area(2))", "print(area(3))"), 2)  # at once: typing on
    async def recorded() -> list:
        while True:
            stats = await lsp.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="codeloop.inlineCompletionStats", arguments=[]))
            if stats["verifications"]:
                return stats["verifications"]
            await asyncio.sleep(0.05)

    [(_, status, _, _, reason)] = await asyncio.wait_for(recorded(), 60)
    assert (status, reason) == ("cancelled", "the document changed")
    assert not any("inline completion of" in m.message for m in lsp.logs)  # nothing ran: no line in the editor


async def test_a_running_check_does_not_block_completions_and_an_edit_cancels_it(lsp, fake_openai):
    # the example of this completion would run for 10 s (the per-example limit)
    fake_openai.add_completion("import time\n    time.sleep(60)\n    return 0.0\n", "return 2 * r\n")
    uri = write(lsp, "geo.py", SOURCE)
    (slow,) = items(await lsp.complete(uri, LINE, 4))
    assert "time.sleep(60)" in slow.insert_text
    # another document completes while the check of the first one runs
    other = write(lsp, "other.py", SOURCE.replace("area", "perimeter"))
    (quick,) = items(await lsp.complete(other, LINE, 4))
    assert quick.insert_text == "    return 2 * r"
    await sandbox_running(lsp, uri)
    assert not any("inline completion of area" in m.message for m in lsp.logs)  # still running
    lsp.change(uri, SOURCE.replace("print(area(2))", "print(area(3))"), 2)
    logs = await outcome(lsp, "inline completion of area: cancelled: the document changed")
    assert not any("area: failed" in m or "area: verified" in m for m in logs)
    await model_called(fake_openai, 2)
