"""textDocument/codeAction: one action per intent kind, with the command and its arguments."""

from __future__ import annotations

from support.lsp_client import code_actions, open_document, titles

SOURCE = '''\
import math

# Return the n-th Fibonacci number.
# fib(10) == 55


def area(w: float, h: float) -> float:
    """Area of a rectangle.

    >>> area(2, 3)
    6
    """
    ...


class Shape:
    @staticmethod
    async def load(path):
        raise NotImplementedError("later")

    def grow(self, k):
        # TODO: check k > 0
        return k * 2


def 面积(r):
    pass
'''


async def test_each_intent_kind_offers_its_actions(client, workspace):
    uri = open_document(client, workspace / "geometry.py", SOURCE)

    assert await titles(client, uri, 2) == ["Write code for this comment"]
    assert await titles(client, uri, 3) == ["Write code for this comment"]
    assert await titles(client, uri, 6) == ["Implement area", "Generate tests for area"]
    # Inside the function body still counts (the cursor is anywhere in the stub).
    assert "Implement area" in await titles(client, uri, 12)
    assert await titles(client, uri, 17, 18) == ["Implement Shape.load", "Generate tests for Shape.load"]
    assert await titles(client, uri, 20) == ["Generate tests for Shape.grow"]
    assert await titles(client, uri, 25) == ["Implement 面积", "Generate tests for 面积"]
    assert await titles(client, uri, 0) == []  # an import is no intent


async def test_action_carries_command_and_version(client, workspace):
    uri = open_document(client, workspace / "geometry.py", SOURCE, version=7)
    actions = await code_actions(client, uri, 6)
    implement, tests = actions
    assert implement["kind"] == "refactor.rewrite.codeloop"
    assert implement["command"]["command"] == "codeloop.implement"
    assert implement["command"]["arguments"] == [{"uri": uri, "line": 6, "version": 7}]
    assert tests["kind"] == "source.codeloop.generateTests"
    assert tests["command"]["command"] == "codeloop.generateTests"
    assert tests["command"]["arguments"] == [{"uri": uri, "line": 6, "version": 7}]

    comment = (await code_actions(client, uri, 2))[0]
    assert comment["command"]["command"] == "codeloop.implement"
    assert comment["command"]["arguments"][0]["line"] == 2


async def test_only_filter(client, workspace):
    uri = open_document(client, workspace / "geometry.py", SOURCE)
    only_rewrite = await code_actions(client, uri, 6, only=["refactor"])
    assert [a["title"] for a in only_rewrite] == ["Implement area"]
    only_source = await code_actions(client, uri, 6, only=["source"])
    assert [a["title"] for a in only_source] == ["Generate tests for area"]
    assert await code_actions(client, uri, 6, only=["quickfix"]) == []


async def test_range_spanning_several_intents(client, workspace):
    uri = open_document(client, workspace / "geometry.py", SOURCE)
    found = await titles(client, uri, 0, 26)
    assert "Write code for this comment" in found
    assert "Implement area" in found and "Implement Shape.load" in found
    assert len(found) == len(set(found))


async def test_file_not_open_is_read_from_disk(client, workspace):
    path = workspace / "pkg" / "mod.py"
    path.parent.mkdir()
    path.write_text("def todo_later():\n    ...\n", encoding="utf-8")
    uri = path.as_uri()
    actions = await code_actions(client, uri, 0)
    assert [a["title"] for a in actions] == ["Implement todo_later", "Generate tests for todo_later"]
    assert actions[0]["command"]["arguments"][0]["version"] is None
