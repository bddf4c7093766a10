"""Protocol fuzzing (issue 16 item 8): a seeded fuzzer (tests/support/lsp_fuzz.py) sends
thousands of random valid edits mixed with malformed, out-of-order and oversized messages to
a real `codeloop serve` over stdio. The server stays up, answers every request, and its copy
of each document (``codeloop.documentState``) equals the client's at every check. The larger
run is bench/fuzz/run.py."""

from __future__ import annotations

import pytest

from support.lsp_fuzz import Fuzzer, RawServer, digest, start


@pytest.fixture
def fuzz_root(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'fuzz'\n")
    return root


@pytest.fixture
def served(tmp_path, fuzz_root):
    server = start(fuzz_root, tmp_path, {"PYTHONFAULTHANDLER": "1"})
    yield server
    if server.proc.poll() is None:
        assert server.close() == 0


@pytest.mark.parametrize("seed", [16, 808])
def test_the_server_survives_and_stays_in_sync(served: RawServer, fuzz_root, tmp_path, seed):
    stats = Fuzzer(served, fuzz_root, seed, big_mib=0.25).run(2000, check_every=50)
    assert served.proc.poll() is None
    assert stats.checks >= 120 and stats.requests >= 350 and stats.refused_edits >= 150
    assert min(stats.sent[a] for a in ("valid_edit", "garbage", "bad_types", "out_of_order", "oversized")) > 0
    assert served.close() == 0
    stderr = (tmp_path / "stderr.txt").read_text()
    # every malformed message is one log line, never a traceback
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr


def test_code_actions_on_blank_lines_after_the_last_statement(served: RawServer, fuzz_root):
    """The crash the fuzzer found: tree-sitter asked for the top-level node at a byte in the
    blank lines after the last statement returned a node that segfaulted when walked."""
    uri = (fuzz_root / "doc.py").as_uri()
    text = "'''doc'''\r\n\r\n"
    served.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": text}})
    for line in range(4):
        answer = served.call("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0},
                                                    "end": {"line": line, "character": 0}},
            "context": {"diagnostics": []}})
        assert "result" in answer, answer
    state = served.call("workspace/executeCommand", {"command": "codeloop.documentState", "arguments": [{"uri": uri}]})
    assert state["result"] == {"open": True, "version": 1, "length": len(text), "sha256": digest(text)}
