"""Stale edits never land (issue 16 item 10): a hypothesis property test interleaves random
document edits (of the module and of its open, unsaved test file) with implement, generate
tests and chat apply, all in flight at once, against the real server, the fake model and
the real sandbox. The client acts as an editor that accepts a TextDocumentEdit only for the
version it holds. Properties, for every workspace/applyEdit the server sends:

* each edit of an open document carries a version, and for the module it is a version the
  client sent with a request (computed for that text, never relabelled to a newer one);
* after every accepted edit the module still parses and holds every line the user typed
  (markers at its top and bottom), and the test file holds every user test, saved or not;
* nothing is ever written to disk by the server.
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from support.fake_openai import FakeOpenAI, Reply
from support.files import tree
from support.lsp_client import (
    command_params,
    initialize,
    install_raw_spy,
    needs_level_a,
    plain,
    request_raw,
    server_config,
    stop_server,
)

pytestmark = needs_level_a()

MODULE = '''def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...


def negate(x: int) -> int:
    """Minus x.

    >>> negate(2)
    -2
    """
    ...


def clamp(x: int, lo: int, hi: int) -> int:
    """x limited to lo..hi."""
    return max(lo, min(x, hi))


def scale(x: int, k: int) -> int:
    """x times k."""
    return x * k
'''
USER_TESTS = "from calc import clamp\n\n\ndef test_user_clamp():\n    assert clamp(1, 0, 3) == 1\n"
IMPLEMENTATIONS = ("```python\ndef double(x: int) -> int:\n    return 2 * x\n\n\n"
                   "def negate(x: int) -> int:\n    return -x\n```")


class Model(FakeOpenAI):
    """Answers by what is asked: implementations, model tests, generated tests, chat."""

    def _next(self, kind: str, body: dict[str, Any] | None = None) -> Reply:
        system = str(((body or {}).get("messages") or [{}])[0].get("content", ""))
        n = int((body or {}).get("n") or 1)
        if system.startswith("You are a careful Python programmer"):
            return Reply.text(*[IMPLEMENTATIONS] * n)
        if system.startswith("You write pytest tests that check"):
            return Reply.text("```python\ndef test_model_sanity():\n    assert True\n```")
        if system.startswith("You write pytest unit tests"):
            return Reply.text("```python\nfrom calc import scale\n\n\ndef test_scale_by_three():\n"
                              "    assert scale(2, 3) == 6\n```")
        return Reply.text("Use `return x`.")


@pytest.fixture(scope="module")
def model():
    with Model() as fake:
        yield fake


class Editor:
    """The client's copies (by uri: text, version) and what it saw."""

    def __init__(self, client: Any, root: Path) -> None:
        self.client, self.root = client, root
        self.module = (root / "calc.py").as_uri()
        self.tests = (root / "tests" / "test_calc.py").as_uri()
        self.docs = {self.module: [MODULE, 1], self.tests: [USER_TESTS, 1]}
        self.sent_versions: set[int] = {1}  # versions of the module the client sent with a request
        self.markers: list[str] = []
        self.user_tests = ["test_user_clamp"]
        self.accepted = self.rejected = 0
        self.landed: set[str] = set()  # uris an accepted edit changed
        self.violations: list[str] = []

    def change(self, uri: str, text: str) -> None:
        doc = self.docs[uri]
        doc[0], doc[1] = text, doc[1] + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc[1]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        changes = params.edit.document_changes or []
        if params.edit.changes:
            self.violations.append(f"an unversioned edit: {params.edit.changes}")
        staged = {uri: list(doc) for uri, doc in self.docs.items()}
        for change in changes:
            if isinstance(change, types.CreateFile):
                if change.uri in self.docs or Path(change.uri[len("file://"):]).exists():
                    if change.options is not None and change.options.overwrite:
                        self.violations.append(f"CreateFile overwrites {change.uri}")
                    self.rejected += 1
                    return types.ApplyWorkspaceEditResult(applied=False, failure_reason="the file exists")
                continue
            if not isinstance(change, types.TextDocumentEdit):
                continue
            uri, version = change.text_document.uri, change.text_document.version
            if uri in self.docs and version is None:
                self.violations.append(f"an edit of the open {uri} without a version")
            if uri == self.module and version not in self.sent_versions:
                self.violations.append(f"an edit of the module for version {version}, never sent with a request")
            if uri not in staged or staged[uri][1] != version:
                self.rejected += 1  # what an editor does with an edit for another version
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
            staged[uri][0] = apply_edits(staged[uri][0], change.edits)
        for uri, (text, _version) in staged.items():
            if text != self.docs[uri][0]:
                self.check(uri, text)
                self.landed.add(uri)
                self.change(uri, text)  # the editor applies it: a new version
        self.accepted += 1
        return types.ApplyWorkspaceEditResult(applied=True)

    def check(self, uri: str, text: str) -> None:
        try:
            ast.parse(text)
        except SyntaxError as exc:
            self.violations.append(f"{uri} no longer parses after an edit: {exc}")
        if uri == self.module:
            lost = [m for m in self.markers if m not in text]
            if lost:
                self.violations.append(f"an edit dropped the user's lines {lost}")
        else:
            lost = [t for t in self.user_tests if f"def {t}(" not in text]
            if lost:
                self.violations.append(f"an edit clobbered the user's tests {lost}")


def apply_edits(text: str, edits: list[Any]) -> str:
    """TextEdits (non-overlapping, given in any order) applied to ``text`` (UTF-16 = str
    offsets here: the texts are ASCII)."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(pos: types.Position) -> int:
        return len(text) if pos.line >= len(starts) else min(starts[pos.line] + pos.character, len(text))

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


OPS = st.lists(st.one_of(
    st.tuples(st.just("edit_module"), st.sampled_from(["top", "bottom"])),
    st.tuples(st.just("edit_tests"), st.just("")),
    st.tuples(st.just("implement"), st.sampled_from(["double", "negate"])),
    st.tuples(st.just("generate"), st.just("scale")),
    st.tuples(st.just("apply"), st.booleans()),
    st.tuples(st.just("pause"), st.sampled_from([0.05, 0.5, 1.5])),
), min_size=4, max_size=8)


async def scenario(root: Path, cache: Path, model: Model, ops: list[tuple[str, Any]]) -> Editor:
    client = await server_config({"OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "sk-stale-edits-key",
                                  "CODELOOP_MODEL": "fake-model", "XDG_CACHE_HOME": str(cache / "cache"),
                                  "XDG_DATA_HOME": str(cache / "data"),
                                  "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}).start()
    install_raw_spy(client)
    editor = Editor(client, root)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return editor.apply(params)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: Any) -> None:
        return None

    @client.feature("codeloop/status")
    def status(params: Any) -> None:
        return None
    running: list[asyncio.Task] = []
    try:
        await initialize(client, root)
        for uri, (text, version) in editor.docs.items():
            client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text)))

        def command(name: str, args: dict) -> None:
            editor.sent_versions.add(args["version"])
            running.append(asyncio.ensure_future(request_raw(
                client, types.WORKSPACE_EXECUTE_COMMAND, command_params(name, args), timeout=180)))

        for step, (op, arg) in enumerate(ops):
            text, version = editor.docs[editor.module]
            if op == "edit_module":
                marker = f"# user line {step}"
                editor.markers.append(marker)
                editor.change(editor.module, f"{marker}\n{text}" if arg == "top" else f"{text}{marker}\n")
            elif op == "edit_tests":
                name = f"test_user_{step}"
                editor.user_tests.append(name)
                editor.change(editor.tests, editor.docs[editor.tests][0] + f"\n\ndef {name}():\n    assert True\n")
            elif op in ("implement", "generate"):
                line = next((i for i, ln in enumerate(text.splitlines()) if ln.startswith(f"def {arg}(")), None)
                if line is not None:
                    command("codeloop.implement" if op == "implement" else "codeloop.generateTests",
                            {"uri": editor.module, "line": line, "version": version})
            elif op == "apply":  # the chat panel's apply, sometimes for a version the editor has moved past
                end = len(text.splitlines())
                command("codeloop.applyCode", {"uri": editor.module, "version": version - 1 if arg else version,
                                               "text": "# from chat\n",
                                               "range": {"start": {"line": end, "character": 0},
                                                         "end": {"line": end, "character": 0}}})
            else:
                await asyncio.sleep(arg)
        answers = [plain(a) for a in await asyncio.gather(*running)]
        assert all("result" in a or "error" in a for a in answers), answers
    finally:
        for task in running:
            task.cancel()
        await stop_server(client)
    return editor


# generated tests land in the open test file (the no-clobber check runs on a real edit of it); with
# unsaved changes in that file the server applies nothing and asks to save first
LANDS_IN_TESTS = [("generate", "scale"), ("pause", 0.05)]


@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
# two rich interleavings always run: edits land while each command is in flight, and after
@example(ops=[("implement", "double"), ("pause", 0.05), ("edit_module", "top"), ("generate", "scale"),
              ("edit_tests", ""), ("apply", True), ("apply", False), ("pause", 1.5)])
@example(ops=[("edit_tests", ""), ("generate", "scale"), ("implement", "negate")])  # whichever ends first lands
@example(ops=LANDS_IN_TESTS)
@example(ops=[("generate", "scale"), ("implement", "negate"), ("pause", 0.5), ("edit_tests", ""),
              ("edit_module", "bottom"), ("implement", "double"), ("apply", False)])
def test_no_edit_lands_on_a_version_it_was_not_computed_for(ops, model, tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text("[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\n"
                                         "engine = 'llm'\n[tool.codeloop.model]\ncandidates = 1\n")
    (root / "calc.py").write_text(MODULE)
    (root / "tests" / "test_calc.py").write_text(USER_TESTS)
    before = tree(root)
    editor = asyncio.run(scenario(root, tmp_path_factory.mktemp("cache"), model, ops))
    assert editor.violations == [], (ops, editor.violations)
    assert tree(root) == before  # the server changes files only through the editor
    with model.lock:
        assert not any(r.path.endswith("chat/completions") and r.body is None for r in model.requests)
    if ops == LANDS_IN_TESTS:
        assert editor.tests in editor.landed, "the generated tests never reached the test file"
    if any(op == "apply" and not stale and settled(ops, i) for i, (op, stale) in enumerate(ops)):
        assert editor.accepted + editor.rejected > 0, ops


def settled(ops: list[tuple[str, Any]], i: int) -> bool:
    """Whether the version the chat apply at ``i`` was sent for is still current when the
    server handles it: no edit follows it and no command before it can land meanwhile."""
    return not any(op == "edit_module" for op, _ in ops[i + 1:]) and not any(
        op in ("implement", "generate", "apply") for op, _ in ops[:i])
