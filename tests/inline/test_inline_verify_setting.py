"""The setting ``inline_completion.verify``: off, an inline completion is offered but no
background sandbox check starts; on (the default), the same completion is checked.

End to end: `codeloop serve` over stdio, the fake OpenAI server, the real sandbox. The
server's ``codeloop.inlineCompletionStats`` lists what the verifier did per completion.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from support.inline import items, start

SOURCE = '''def area(r):
    """Area of a square of side r.

    >>> area(3)
    9
    """
    
'''
LINE = SOURCE.split("\n").index("    ")  # the blank line after the docstring
VERIFY_OFF = "inline_completion.verify is off"


async def verifications(session) -> list[list]:
    stats = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="codeloop.inlineCompletionStats", arguments=[]))
    return [list(v) for v in stats["verifications"]]


async def first_verification(session, within: float = 60.0) -> list[list]:
    """The verifier's outcomes once there is one (an event: ``within`` only stops a broken run)."""
    async def wait() -> list[list]:
        while not (found := await verifications(session)):
            await asyncio.sleep(0.05)
        return found

    return await asyncio.wait_for(wait(), within)


async def complete_area(session, fake_openai) -> tuple[str, list]:
    fake_openai.add_completion("return r * r\n")
    (session.root / "geo.py").write_text(SOURCE, encoding="utf-8")
    uri = session.open("geo.py", SOURCE)
    offered = items(await session.complete(uri, LINE, 4))
    return uri, offered


async def test_verify_off_starts_no_check(tmp_path, fake_openai):
    session = await start(tmp_path, fake_openai, init_options={"inlineCompletion": {"verify": False}})
    try:
        uri, offered = await complete_area(session, fake_openai)
        assert [i.insert_text for i in offered] == ["    return r * r"]
        assert offered[0].command is None  # no evidence claimed
        assert await first_verification(session) == [[uri, "skipped", "", "", VERIFY_OFF]]
        # offered again (from the cache): still not marked verified, nothing else recorded
        (again,) = items(await session.complete(uri, LINE, 4))
        assert again.insert_text == offered[0].insert_text and again.command is None
        assert await verifications(session) == [[uri, "skipped", "", "", VERIFY_OFF]]
        assert not [m for m in session.logs if "codeloop: inline completion of" in m.message]
        assert len(fake_openai.requests_to("/v1/completions")) == 1
    finally:
        await session.client.shutdown_session()
        await session.client.stop()


async def test_verify_on_by_default_checks_the_same_completion(tmp_path, fake_openai):
    session = await start(tmp_path, fake_openai)
    try:
        uri, offered = await complete_area(session, fake_openai)
        assert [i.insert_text for i in offered] == ["    return r * r"]
        assert await first_verification(session) == [[uri, "verified", "area", "verified 1/1 example", ""]]
    finally:
        await session.client.shutdown_session()
        await session.client.stop()
