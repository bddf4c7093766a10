"""The ``codeloop.generateTests`` command: generate tests in the sandbox, apply them.

Arguments ``[{"uri", "line"?, "version"?, "target"?}]``: ``line`` selects the function,
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

import ast
import asyncio
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from codeloop.lsp import convert
from codeloop.lsp.errors import invalid_params
from codeloop.lsp.progress import job_progress, request_future
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import path_to_uri, utf16_len

log = logging.getLogger(__name__)

BUG_CODE = "probable-bug"
BUG_SOURCE = "probable-bugs"  # this feature's key on the diagnostics board
JOB_KIND = "generateTests"
PROGRESS_FEATURE = "generateTests"  # $/progress tokens read codeloop-generateTests-*
STALE_SOURCE = "the document changed while tests were generated; nothing was applied"
STALE_TEST_FILE = "the test file changed on disk while tests were generated; nothing was applied"


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
    service = GenerateService()
    server.codeloop_generate = service  # type: ignore[attr-defined]

    @server.command(convert.CMD_GENERATE_TESTS)
    async def generate_tests_command(ls: CodeloopServer, *args: Any) -> dict[str, Any]:
        return await run_generate(ls, service, args)

    server.code_action_providers.append(
        lambda ls, params, _doc: bug_actions(ls, service, params))


# --- the command -----------------------------------------------------------------------

def member_at(text: str, line: int) -> str | None:
    """The innermost top-level function, class or method (``Class.method``) at 0-based ``line``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lineno = line + 1

    def span(node: ast.AST) -> tuple[int, int]:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return first, node.end_lineno or node.lineno

    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first, last = span(node)
        if not first <= lineno <= last:
            continue
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    a, b = span(sub)
                    if a <= lineno <= b:
                        return f"{node.name}.{sub.name}"
        return node.name
    return None


def _parse(ls: CodeloopServer, args: tuple[Any, ...]) -> tuple[str, Any, int | None, str | None]:
    cmd = convert.CMD_GENERATE_TESTS
    if len(args) != 1 or not isinstance(args[0], dict):
        raise invalid_params(f'codeloop: {cmd} expects one argument {{"uri", "line"?, "version"?, "target"?}}')
    arg = args[0]
    uri, line, version, target = arg.get("uri"), arg.get("line"), arg.get("version"), arg.get("target")
    if not isinstance(uri, str) or not uri:
        raise invalid_params(f"codeloop: {cmd}: missing or invalid 'uri'")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 0):
        raise invalid_params(f"codeloop: {cmd}: 'line' must be an integer >= 0")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise invalid_params(f"codeloop: {cmd}: 'version' must be an integer or null")
    if target is not None and (not isinstance(target, str) or not target.strip()):
        raise invalid_params(f"codeloop: {cmd}: 'target' must be a non-empty string")
    doc = ls.document(uri)
    if doc.path is None:
        raise invalid_params(f"codeloop: {cmd}: only files on disk can have tests generated")
    if line is not None and line >= doc.line_count:
        raise invalid_params(f"codeloop: {cmd}: line {line} is past the end of {uri} ({doc.line_count} lines)")
    if version is not None and doc.version is not None and doc.version != version:
        from codeloop.lsp.errors import content_modified

        raise content_modified(f"codeloop: {uri} changed since this action was offered "
                               f"(version {version}, now {doc.version}); request the action again")
    spec = target
    if spec is None:
        spec = str(doc.path)
        if line is not None:
            member = member_at(doc.text, line)
            if member:
                spec += "::" + member
    return uri, doc, version, spec


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


def evidence_title(result: Any) -> str:
    n = len(result.tests)
    title = f"Add {n} test{'s' if n != 1 else ''}: branch coverage {_pct(result.coverage_before)} -> {_pct(result.coverage_after)}"
    passing = [t for t in result.tests if t.kind != "xfail"]
    title += ", all pass" if len(passing) == n else f", {len(passing)} pass, {n - len(passing)} xfail"
    return title


def passing_only(result: Any) -> Any:
    """``result`` without its probable-bug tests: in the editor each bug is a diagnostic whose
    quick fixes add its test (as xfail or as is), so the main edit must not add it already."""
    from dataclasses import replace

    from codeloop.generate.merge import merge_tests

    bug_tests = {id(b.test) for b in result.probable_bugs}
    if not bug_tests:
        return result
    tests = [t for t in result.tests if id(t) not in bug_tests]
    merged = merge_tests(result.existing_text, tests, module=result.module) if tests else None
    return replace(result, tests=tests, merged_text=merged)


async def run_generate(ls: CodeloopServer, service: GenerateService, args: tuple[Any, ...]) -> dict[str, Any]:
    from codeloop.job import Job
    from codeloop.services.gen_tests import GenerateTestsRequest, generate_tests
    from codeloop.workspace.testindex import find_workspace_root
    from codeloop_sandbox import SandboxUnavailable

    uri, doc, version, spec = _parse(ls, args)
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

    result = passing_only(result)
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


def _whole(text: str) -> types.Range:
    lines = text.split("\n")
    return types.Range(start=types.Position(line=0, character=0),
                       end=types.Position(line=len(lines) - 1, character=utf16_len(lines[-1])))


def _file_edit(ls: CodeloopServer, path: Path, existing: str | None, new_text: str
               ) -> tuple[types.WorkspaceEdit | None, str | None]:
    """A WorkspaceEdit turning the test file from ``existing`` into ``new_text`` (or why not)."""
    uri = path_to_uri(path)
    open_doc = ls.documents.get(uri)
    if existing is None and not path.exists() and open_doc is None:
        return types.WorkspaceEdit(document_changes=[
            types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)),
            types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                   edits=[types.TextEdit(range=_whole(""), new_text=new_text)]),
        ]), None
    if open_doc is not None:
        if open_doc.text != (existing or ""):
            return None, "the test file is open with changes not on disk; nothing was applied (save it and run again)"
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=open_doc.version),
            edits=[types.TextEdit(range=_whole(open_doc.text), new_text=new_text)])]), None
    try:
        disk = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError):
        disk = "\0"
    if disk != existing:
        return None, STALE_TEST_FILE
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
        edits=[types.TextEdit(range=_whole(disk or ""), new_text=new_text)])]), None


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
        line = _def_line(source, bug.function, bug.line)
        diag = types.Diagnostic(
            range=types.Range(start=types.Position(line=line, character=0),
                              end=types.Position(line=line + 1, character=0)),
            message=bug.message if bug.message.startswith("probable bug") else f"probable bug: {bug.message}", severity=types.DiagnosticSeverity.Warning,
            source=convert.SOURCE, code=BUG_CODE)
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


def _def_line(source: str | None, qualname: str, fallback: int) -> int:
    """0-based line of ``def <qualname>`` in ``source`` (the function's line), else ``fallback - 1``."""
    try:
        tree = ast.parse(source or "")
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    body, node = tree.body, None
    for part in qualname.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            break
        body = node.body
    if node is not None:
        return node.lineno - 1
    return max(0, fallback - 1)


def _bug_edits(entry: BugEntry, base: str | None) -> dict[str, types.WorkspaceEdit]:
    from dataclasses import replace

    from codeloop.generate.merge import merge_tests

    out: dict[str, types.WorkspaceEdit] = {}
    variants = [("as xfail", entry.xfail_code), ("as is", replace(entry.xfail_code, code=entry.as_is_code))]
    for how, test in variants:
        try:
            new_text = merge_tests(base, [test], module=entry.module)
        except Exception:  # noqa: BLE001 - an action we cannot build is omitted
            continue
        if base is None:
            changes: list[Any] = [types.CreateFile(uri=entry.test_uri, options=types.CreateFileOptions(ignore_if_exists=True))]
        else:
            changes = []
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=entry.test_uri, version=None),
            edits=[types.TextEdit(range=_whole(base or ""), new_text=new_text)]))
        out[f"Add failing test for {entry.function} {how}"] = types.WorkspaceEdit(document_changes=changes)
    return out


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
            actions.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix,
                                            diagnostics=[entry.diagnostic], edit=edit))
    return actions


__all__ = ["GenerateService", "evidence_title", "member_at", "register", "run_generate"]
