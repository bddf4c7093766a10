"""End to end over LSP: workspace symbols, go to definition and references from the index,
the index following the editor (didChange, watched files), its progress and reset, and
runTests choosing the tests that refer to the code."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from codeloop.workspace.document import path_to_uri
from support.lsp_client import (
    change_document,
    execute,
    initialize,
    open_document,
    request_raw,
    start_server,
    stop_server,
    wait_for,
)

PROJECT = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "shop/__init__.py": "",
    "shop/tax.py": (
        "VAT = 0.2\n\n\n"
        "def add_vat(amount):\n"
        '    """Add value added tax to a net amount."""\n'
        "    return amount * (1 + VAT)\n"
    ),
    "shop/pricing.py": (
        "from shop.tax import add_vat\n\n\n"
        "class PriceCalculator:\n"
        "    def total(self, items):\n"
        '        print("prix 😀 é", add_vat(sum(items)))\n'
        "        return add_vat(sum(items))\n"
    ),
    "tests/test_tax.py": (
        "from shop.tax import add_vat\n\n\n"
        "def test_add_vat():\n"
        "    assert add_vat(10) == 12.0\n"
    ),
    "tests/test_other.py": (
        "import shop.tax\n\n\n"
        "def test_rate():\n"
        "    assert shop.tax.VAT == 0.2\n"
    ),
}


@pytest.fixture
async def session(tmp_path: Path, write_tree):
    """A server on a fresh copy of PROJECT with an empty index cache: (client, root)."""
    root = write_tree(tmp_path / "shop", PROJECT)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    client = await start_server(env)
    await initialize(client, root)
    yield client, root
    await stop_server(client)


async def symbols(client: Any, query: str) -> list[dict]:
    response = await request_raw(client, types.WORKSPACE_SYMBOL, types.WorkspaceSymbolParams(query=query))
    assert "error" not in response, response
    return response["result"] or []


async def wait_symbol(client: Any, query: str, present: bool = True) -> list[dict]:
    found: list[dict] = []

    async def look() -> bool:
        nonlocal found
        found = [s for s in await symbols(client, query) if s["name"] == query]
        return bool(found) == present

    # The first index is built in a process of its own, at a low priority: on a busy
    # machine it can take a while (a patience, not a speed check).
    for _ in range(1200):
        if await look():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"workspace/symbol {query!r}: never {'found' if present else 'gone'}")


def index_tokens(client: Any) -> list[str]:
    return [t for t in client.progress_reports if str(t).startswith("codeloop-index-")]


async def wait_indexed(client: Any) -> None:
    """Until the first full index has ended (its $/progress end)."""
    def ended() -> bool:
        tokens = index_tokens(client)
        reports = client.progress_reports[tokens[0]] if tokens else []
        return bool(reports) and isinstance(reports[-1], types.WorkDoneProgressEnd)

    await wait_for(ended, timeout=60, what="the index progress")


def position_params(uri: str, line: int, character: int) -> types.DefinitionParams:
    return types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                  position=types.Position(line=line, character=character))


def reference_params(uri: str, line: int, character: int, declaration: bool) -> types.ReferenceParams:
    return types.ReferenceParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                 position=types.Position(line=line, character=character),
                                 context=types.ReferenceContext(include_declaration=declaration))


def spans(locations: list[dict]) -> set[tuple[str, int, int, int]]:
    return {(loc["uri"].rsplit("/", 2)[-2] + "/" + loc["uri"].rsplit("/", 1)[-1], loc["range"]["start"]["line"],
             loc["range"]["start"]["character"], loc["range"]["end"]["character"]) for loc in locations}


async def test_workspace_symbol(session):
    client, root = session
    (found,) = await wait_symbol(client, "PriceCalculator")
    assert found["kind"] == types.SymbolKind.Class
    assert found["location"]["uri"] == path_to_uri(root / "shop" / "pricing.py")
    assert found["location"]["range"]["start"] == {"line": 3, "character": 6}
    (method,) = await wait_symbol(client, "total")
    assert method["kind"] == types.SymbolKind.Method and method["containerName"] == "shop.pricing.PriceCalculator"
    # Prefix first, then names containing the query, then the query's pieces starting words.
    assert [s["name"] for s in await symbols(client, "ADD_v")] == ["add_vat", "test_add_vat"]
    assert [s["name"] for s in await symbols(client, "PriCal")] == ["PriceCalculator"]
    assert await symbols(client, "nothing_like_this") == []


async def test_first_index_reports_progress_and_reset_rebuilds(session):
    client, _root = session
    await wait_indexed(client)
    reports = client.progress_reports[index_tokens(client)[0]]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert reports[-1].message.startswith("5 files, 5 definitions")

    response = await execute(client, "codeloop.resetIndex")
    assert response["result"]["files"] == 5 and response["result"]["definitions"] == 5, response
    assert len(index_tokens(client)) == 2
    assert (await wait_symbol(client, "add_vat"))[0]["name"] == "add_vat"
    bad = await execute(client, "codeloop.resetIndex", "now")
    assert "expects no argument or one" in bad["error"]["message"]


async def test_definition(session):
    client, root = session
    await wait_symbol(client, "add_vat")
    pricing = root / "shop" / "pricing.py"
    uri = open_document(client, pricing, pricing.read_text())
    # add_vat after an emoji and an "é": UTF-16 column 27 is byte 30 (the emoji counts two).
    response = await request_raw(client, types.TEXT_DOCUMENT_DEFINITION, position_params(uri, 5, 30))
    assert spans(response["result"]) == {("shop/tax.py", 3, 4, 11)}
    on_class = await request_raw(client, types.TEXT_DOCUMENT_DEFINITION, position_params(uri, 3, 8))
    assert spans(on_class["result"]) == {("shop/pricing.py", 3, 6, 21)}
    nothing = await request_raw(client, types.TEXT_DOCUMENT_DEFINITION, position_params(uri, 1, 0))
    assert nothing["result"] == []


async def test_references(session):
    client, root = session
    await wait_symbol(client, "add_vat")
    tax = root / "shop" / "tax.py"
    uri = open_document(client, tax, tax.read_text())
    response = await request_raw(client, types.TEXT_DOCUMENT_REFERENCES, reference_params(uri, 3, 6, True))
    assert spans(response["result"]) == {
        ("shop/tax.py", 3, 4, 11),  # the definition
        ("shop/pricing.py", 0, 21, 28), ("shop/pricing.py", 5, 27, 34), ("shop/pricing.py", 6, 15, 22),
        ("tests/test_tax.py", 0, 21, 28), ("tests/test_tax.py", 4, 11, 18),
    }
    response = await request_raw(client, types.TEXT_DOCUMENT_REFERENCES, reference_params(uri, 3, 6, False))
    assert ("shop/tax.py", 3, 4, 11) not in spans(response["result"]) and len(response["result"]) == 5


async def test_unsaved_edit_reaches_workspace_symbols_and_definition(session):
    client, root = session
    await wait_symbol(client, "add_vat")
    tax = root / "shop" / "tax.py"
    uri = open_document(client, tax, tax.read_text())
    change_document(client, uri, 2, [((3, 4, 3, 11), "add_value_tax")])  # rename, not saved
    (renamed,) = await wait_symbol(client, "add_value_tax")
    assert renamed["location"]["range"]["start"] == {"line": 3, "character": 4}
    await wait_symbol(client, "add_vat", present=False)
    # A new function typed and asked for at once: the request waits for the edit.
    change_document(client, uri, 3, [((6, 0, 6, 0), "\n\ndef brand_new():\n    return add_value_tax(1)\n")])
    response = await request_raw(client, types.TEXT_DOCUMENT_DEFINITION, position_params(uri, 9, 14))
    assert spans(response["result"]) == {("shop/tax.py", 3, 4, 17)}
    # Closed without saving: the file on disk is what the index holds again.
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri)))
    await wait_symbol(client, "add_vat")
    await wait_symbol(client, "brand_new", present=False)


async def test_files_changed_on_disk(session):
    client, root = session
    await wait_symbol(client, "add_vat")
    (root / "shop" / "discounts.py").write_text("def loyalty_discount(total):\n    return total * 0.95\n")
    (root / "shop" / "tax.py").unlink()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=path_to_uri(root / "shop" / "discounts.py"), type=types.FileChangeType.Created),
        types.FileEvent(uri=path_to_uri(root / "shop" / "tax.py"), type=types.FileChangeType.Deleted),
    ]))
    await wait_symbol(client, "loyalty_discount")
    await wait_symbol(client, "add_vat", present=False)


@pytest.mark.usefixtures("needs_bwrap")
async def test_run_tests_selects_the_tests_that_refer_to_the_code(session):
    client, root = session
    await wait_indexed(client)  # before, the old rule (the test files importing the module) applies
    uri = path_to_uri(root / "shop" / "tax.py")
    response = await execute(client, "codeloop.runTests", {"uri": uri})
    assert "result" in response, response
    # test_other.py imports shop.tax but uses no function of it: the import rule would run it.
    assert response["result"]["selected"] == ["tests/test_tax.py"], response["result"]
    assert response["result"]["passed"] == 1
