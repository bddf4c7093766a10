"""The ``codeloop.generateTests`` command: generate tests in the sandbox, apply them.

Arguments ``[{"uri", "line"?, "version"?, "target"?}]`` (checked by the command table): ``line`` selects the function,
class or method at that line; without it the whole module is the target; ``target``
(engine syntax, ``path.py::name``) overrides both. The work is
:func:`codeloop.services.gen_tests.generate_tests`, run off the event loop with
cancellable ``$/progress`` (also stopped by ``codeloop.cancel`` and ``$/cancelRequest``).

The tests go to the client as one ``workspace/applyEdit`` labelled with the evidence
(``Add 7 tests: branch coverage 41% -> 93%, all pass``): a ``CreateFile`` plus an insert
for a new test file, a version-checked ``TextDocumentEdit`` when the test file is open,
else a whole-file edit from the disk text the engine read (nothing when the disk changed
meanwhile). Nothing is applied when the source document changed during generation.

Probable bugs become Warning diagnostics (code ``probable-bug``, the ``probable-bugs``
source on the server's diagnostics board) at the function's line, kept until the next
generation for that file, each with two quick fixes (a code action provider) carrying a
ready ``WorkspaceEdit``: add the failing test as xfail, or as is.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from codeloop.generate.editor_tests import bug_test_variants, passing_only
from codeloop.lsp import convert
from codeloop.lsp.command_table import CMD_GENERATE_TESTS, LINE, NAME, URI, VERSION, CommandSpec
from codeloop.lsp.commands import target_of
from codeloop.lsp.progress import job_progress, request_future
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import path_to_uri
from codeloop.workspace.members import definition_line, member_at

log = logging.getLogger(__name__)

BUG_CODE = "probable-bug"
BUG_SOURCE = "probable-bugs"  # this feature's key on the diagnostics board
JOB_KIND = "generateTests"
PROGRESS_FEATURE = "generateTests"  # $/progress tokens read codeloop-generateTests-*
STALE_SOURCE = "the document changed while tests were generated; nothing was applied"
STALE_TEST_FILE = "the test file changed on disk while tests were generated; nothing was applied"
NOT_SAVED = "the test file is open with changes not on disk; nothing was applied (save it and run again)"


@dataclass
class BugEntry:
    diagnostic: types.Diagnostic
    function: str
    test_uri: str
    test_path: Path
    base_text: str | None  # the test file's text the edits were computed against
    module: str
    xfail_code: Any  # GeneratedTest
    as_is_code: str
    edits: dict[str, types.WorkspaceEdit] = field(default_factory=dict)  # title -> edit


class GenerateService:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bugs: dict[str, list[BugEntry]] = {}  # source uri -> entries


def register(server: CodeloopServer) -> None:
    service = server.services.generate = GenerateService()

    async def generate_tests_command(ls: CodeloopServer, args: dict[str, Any]) -> dict[str, Any]:
        return await run_generate(ls, service, args)

    server.commands.add(CommandSpec(CMD_GENERATE_TESTS, generate_tests_command, {
        "uri": URI.needed(), "line": LINE, "version": VERSION, "target": NAME}))
    server.code_action_providers.append(
        lambda ls, params, _doc: bug_actions(ls, service, params))


# --- the command -----------------------------------------------------------------------

def _spec(ls: CodeloopServer, args: dict[str, Any]) -> tuple[str, Any, int | None, str]:
    """(uri, document, version, engine target) of the parsed arguments."""
    target = target_of(ls, args, CMD_GENERATE_TESTS, on_disk_for="have tests generated")
    spec = args.get("target")
    if spec is None:
        spec = str(target.doc.path)
        member = member_at(target.doc.text, target.line) if target.line is not None else None
        if member:
            spec += "::" + member
    return target.uri, target.doc, target.version, spec


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


def evidence_title(result: Any) -> str:
    n = len(result.tests)
    title = f"Add {n} test{'s' if n != 1 else ''}: branch coverage {_pct(result.coverage_before)} -> {_pct(result.coverage_after)}"
    passing = [t for t in result.tests if t.kind != "xfail"]
    title += ", all pass" if len(passing) == n else f", {len(passing)} pass, {n - len(passing)} xfail"
    score = getattr(result, "mutation_score", None)
    if score is not None:
        title += f", kill {score:.0f}% of mutants"
    return title


async def run_generate(ls: CodeloopServer, service: GenerateService, args: dict[str, Any]) -> dict[str, Any]:
    from codeloop.job import Job
    from codeloop.services.gen_tests import GenerateTestsRequest, generate_tests
    from codeloop.workspace.testindex import find_workspace_root
    from codeloop_sandbox import SandboxUnavailable

    uri, doc, version, spec = _spec(ls, args)
    label = spec.rsplit("::", 1)[-1] if "::" in spec else Path(spec).name
    root = find_workspace_root(doc.path)
    settings = ls.settings  # the engine in effect: LLM when a model is configured, else offline
    text_before = doc.text
    cancel = threading.Event()
    request = request_future(ls)  # before the first await: it reads the current message id
    _set_bugs(ls, service, uri, [])  # kept until the next generation for this file
    answer: dict[str, Any] = {"applied": False, "title": None, "testFile": None, "testsAdded": 0,
                              "coverageBefore": None, "coverageAfter": None, "probableBugs": []}
    try:
        async with job_progress(ls, JOB_KIND, f"Generating tests for {label}", str(root), cancel, uri=uri, request=request,
                                feature=PROGRESS_FEATURE, title=f"Generate tests for {label}",
                                percentage=0) as progress:
            request = GenerateTestsRequest(spec, Path(root), budget=settings.generate.budget, settings=settings)
            outcome = await asyncio.to_thread(generate_tests, request, Job(progress.report, cancel))
    except SandboxUnavailable as exc:
        return _fail(ls, answer, f"sandbox unavailable: {exc}", types.MessageType.Error)
    except Exception as exc:  # noqa: BLE001 - GenerationError, ModelFailure, MergeError: one clear line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return _fail(ls, answer, first, types.MessageType.Error)

    result = outcome.result
    answer.update(coverageBefore=result.coverage_before, coverageAfter=result.coverage_after,
                  testFile=path_to_uri(result.test_file) if result.test_file else None,
                  probableBugs=[{"function": b.function, "line": b.line, "message": b.message}
                                for b in result.probable_bugs])
    if cancel.is_set():
        answer["reason"] = "cancelled"
        ls.show(f"codeloop: Generate tests for {label}: cancelled; nothing was applied", types.MessageType.Info)
        return answer
    current = ls.documents.get(uri)
    if current is not None and (current.text != text_before or (version is not None and current.version != version)):
        return _fail(ls, answer, STALE_SOURCE, types.MessageType.Warning)
    return await _apply(ls, service, uri, outcome, answer)


async def _apply(ls: CodeloopServer, service: GenerateService, uri: str, outcome: Any,
                 answer: dict[str, Any]) -> dict[str, Any]:
    """Show the probable bugs; apply the passing tests as one edit labelled with the evidence."""
    result = passing_only(outcome.result)
    _record_bugs(ls, service, uri, result)
    if not result.tests or not result.merged_text or result.test_file is None:
        why = "; ".join(result.errors[:2]) or (
            f"no passing test; {len(result.probable_bugs)} probable bug(s) shown at the function"
            if result.probable_bugs else "no test could be generated")
        return _fail(ls, answer, f"nothing generated ({why})", types.MessageType.Warning)

    title = evidence_title(result)
    answer["title"] = title
    answer["testsAdded"] = len(result.tests)
    edit, reason = _file_edit(ls, result.test_file, result.existing_text, result.merged_text)
    if edit is None:
        return _fail(ls, answer, reason or STALE_TEST_FILE, types.MessageType.Warning)
    applied, reason = await ls.apply_edit(edit, title)
    answer["applied"] = applied
    if reason:
        answer["reason"] = reason
    note = " (the model gave no usable tests; these come from the offline search)" if outcome.handed_over else ""
    ls.show(f"codeloop: {title}{note}" + ("" if applied else f" (not applied: {reason})"),
            types.MessageType.Info if applied else types.MessageType.Warning)
    return answer


def _fail(ls: CodeloopServer, answer: dict[str, Any], reason: str, kind: types.MessageType) -> dict[str, Any]:
    answer["reason"] = reason
    ls.show(f"codeloop: Generate tests: {reason}", kind)
    return answer


def _file_edit(ls: CodeloopServer, path: Path, existing: str | None, new_text: str
               ) -> tuple[types.WorkspaceEdit | None, str | None]:
    """A WorkspaceEdit turning the test file from ``existing`` into ``new_text`` (or why not)."""
    uri = path_to_uri(path)
    open_doc = ls.documents.get(uri)
    if existing is None and not path.exists() and open_doc is None:
        return convert.whole_file_edit(uri, None, "", new_text, create=True, overwrite=False), None
    if open_doc is not None:
        if open_doc.text != (existing or ""):
            return None, NOT_SAVED
        return convert.whole_file_edit(uri, open_doc.version, open_doc.text, new_text), None
    try:
        disk = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError):
        disk = "\0"
    if disk != existing:
        return None, STALE_TEST_FILE
    return convert.whole_file_edit(uri, None, disk or "", new_text), None


# --- probable bugs -----------------------------------------------------------------------

def _record_bugs(ls: CodeloopServer, service: GenerateService, uri: str, result: Any) -> None:
    if result.test_file is None:
        return
    test_uri = path_to_uri(result.test_file)
    # The edits apply on top of the file as it will be once the generated tests are in.
    base = result.merged_text if result.tests and result.merged_text else result.existing_text
    entries: list[BugEntry] = []
    doc = ls.documents.get(uri)
    source = doc.text if doc is not None else None
    for bug in result.probable_bugs:
        line = definition_line(source, bug.function, bug.line)
        message = bug.message if bug.message.startswith("probable bug") else f"probable bug: {bug.message}"
        diag = convert.diagnostic(convert.line_range(line), message, "warning", BUG_CODE)
        entry = BugEntry(diag, bug.function, test_uri, result.test_file, base, result.module,
                         bug.test, bug.test_as_is)
        entry.edits = _bug_edits(entry, base)
        entries.append(entry)
    _set_bugs(ls, service, uri, entries)


def _set_bugs(ls: CodeloopServer, service: GenerateService, uri: str, entries: list[BugEntry]) -> None:
    with service.lock:
        if entries:
            service.bugs[uri] = entries
        else:
            service.bugs.pop(uri, None)
    ls.diagnostics.set(uri, BUG_SOURCE, [e.diagnostic for e in entries])


def _bug_edits(entry: BugEntry, base: str | None) -> dict[str, types.WorkspaceEdit]:
    """The quick fixes' edits: the test file (created when ``base`` is None) with the bug's test added."""
    variants = bug_test_variants(base, entry.xfail_code, entry.as_is_code, entry.module)
    return {f"Add failing test for {entry.function} {how}":
            convert.whole_file_edit(entry.test_uri, None, base or "", new_text, create=base is None)
            for how, new_text in variants.items()}


def _current_test_text(ls: CodeloopServer, entry: BugEntry) -> str | None:
    doc = ls.documents.get(entry.test_uri)
    if doc is not None:
        return doc.text
    try:
        return entry.test_path.read_text(encoding="utf-8") if entry.test_path.exists() else None
    except (OSError, UnicodeDecodeError):
        return "\0"


def bug_actions(ls: CodeloopServer, service: GenerateService, params: types.CodeActionParams) -> list[types.CodeAction]:
    only = params.context.only
    if only and not any(str(k) == "quickfix" or str(k).startswith("quickfix") for k in only):
        return []
    uri = params.text_document.uri
    with service.lock:
        entries = list(service.bugs.get(uri, []))
    first, last = params.range.start.line, params.range.end.line
    actions: list[types.CodeAction] = []
    for entry in entries:
        line = entry.diagnostic.range.start.line
        if not (first <= line <= last or any(d.code == BUG_CODE and d.range.start.line == line
                                             for d in params.context.diagnostics)):
            continue
        current = _current_test_text(ls, entry)
        if current != entry.base_text:  # the test file changed: recompute against it
            entry.base_text = current
            entry.edits = _bug_edits(entry, current) if current != "\0" else {}
        doc = ls.documents.get(entry.test_uri)
        for title, edit in entry.edits.items():
            if doc is not None and edit.document_changes:
                last_change = edit.document_changes[-1]
                if isinstance(last_change, types.TextDocumentEdit):
                    last_change.text_document.version = doc.version
            actions.append(convert.code_action(title, convert.QUICK_FIX, diagnostics=[entry.diagnostic], edit=edit))
    return actions


__all__ = ["GenerateService", "evidence_title", "register", "run_generate"]
