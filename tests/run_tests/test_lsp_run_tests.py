"""End to end: codeloop.runTests over LSP publishes failures as diagnostics and clears them."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from codeloop.workspace.document import path_to_uri
from support.lsp_client import (
    client_fixture,
    command_params,
    diagnostics_from,
    open_document,
    request_raw,
    server_config,
    wait_for,
)

CONFIG = server_config({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
pytestmark = pytest.mark.usefixtures("needs_bwrap")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "calc.py").write_text(
        "def clamp(x, lo, hi):\n    if x > hi:\n        raise ValueError('too big')\n    return max(lo, x)\n"
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(
        "from pkg.calc import clamp\n\n\ndef test_low():\n    assert clamp(-1, 0, 10) == 0\n\n\n"
        "def test_high():\n    assert clamp(11, 0, 10) == 10\n"
    )
    return root


client = client_fixture(CONFIG)


def run_tests(*arguments):
    return command_params("codeloop.runTests", *arguments)


async def test_failure_becomes_diagnostic_then_clears(client: LanguageClient, project: Path):
    calc_uri = open_document(client, project / "pkg" / "calc.py", (project / "pkg" / "calc.py").read_text())
    test_uri = path_to_uri(project / "tests" / "test_calc.py")
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"uri": calc_uri}))
    assert "result" in response, response
    summary = response["result"]
    assert (summary["passed"], summary["failed"]) == (1, 1), summary
    assert summary["selected"] == ["tests/test_calc.py"]

    def test_diags(uri):
        return diagnostics_from(client, uri, "codeloop-tests")

    await wait_for(lambda: test_diags(test_uri) and test_diags(calc_uri), what="test diagnostics")
    (err,) = test_diags(test_uri)
    assert err.severity == types.DiagnosticSeverity.Error and err.range.start.line == 8
    assert "test_high" in err.message and "too big" in err.message
    assert err.related_information[0].location.uri == calc_uri
    assert err.related_information[0].location.range.start.line == 2
    (info,) = test_diags(calc_uri)
    assert info.range.start.line == 2

    # Fix the code on disk and run the test file by id: the diagnostics clear.
    (project / "pkg" / "calc.py").write_text("def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n")
    response = await request_raw(
        client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"testId": "tests/test_calc.py::test_high"})
    )
    assert response["result"]["passed"] == 1 and response["result"]["failed"] == 0
    await wait_for(lambda: not test_diags(test_uri), what="cleared test diagnostics")


async def test_bad_arguments(client: LanguageClient, project: Path):
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests("nope"))
    assert response["error"]["code"] == -32602
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, run_tests({"testId": 3}))
    assert response["error"]["code"] == -32602


async def test_cancel_command(client: LanguageClient, project: Path):
    response = await request_raw(client, types.WORKSPACE_EXECUTE_COMMAND, command_params("codeloop.cancel"))
    assert response["result"] == {"cancelled": 0}
