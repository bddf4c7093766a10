"""The shared registries (diagnostics by source, jobs, hooks) and how implement offers
follow document changes, without a client: pure bookkeeping on a real CodeloopServer."""

from __future__ import annotations

import threading

from lsprotocol import types

from codeloop.lsp.implement import ImplementService, Offer
from codeloop.lsp.registry import DiagnosticsBoard, Hooks, JobRegistry
from codeloop.lsp.server import CodeloopServer
from codeloop.workspace.document import Document
from codeloop.workspace.model import Span


def diag(line: int, message: str) -> types.Diagnostic:
    return types.Diagnostic(range=types.Range(start=types.Position(line=line, character=0),
                                              end=types.Position(line=line, character=1)), message=message)


def test_board_publishes_the_composition_of_every_source():
    sent: list[tuple[str, list[str]]] = []
    board = DiagnosticsBoard(lambda uri, ds: sent.append((uri, [d.message for d in ds])))
    board.set("u", "intents", [diag(0, "stub")])
    board.set("u", "tests", [diag(3, "failed")])
    board.set("u", "intents", [diag(1, "stub moved")])  # one source republishes
    assert sent[-1] == ("u", ["stub moved", "failed"])
    board.set("u", "tests", [])
    assert sent[-1] == ("u", ["stub moved"])
    assert board.get("u", "tests") == [] and board.get("other") == []


def test_jobs_busy_label_cancel_and_change_callback():
    changes: list[str | None] = []
    jobs = JobRegistry()
    jobs = JobRegistry(on_change=lambda: changes.append(jobs.busy()))
    assert jobs.busy() is None
    a = jobs.start("implement", "Implement parse_date", "/ws/a")
    assert jobs.busy() == "Implement parse_date"
    b = jobs.start("runTests", "Running tests: all tests", "/ws/b", cancel=threading.Event())
    assert jobs.busy() == "2 jobs"
    assert jobs.cancel("/ws/a") == 1 and a.cancel.is_set() and not b.cancel.is_set()
    assert jobs.cancel(kind="generateTests") == 0
    jobs.finish(a)
    jobs.finish(a)  # twice is harmless and does not report a change
    jobs.finish(b)
    assert changes == ["Implement parse_date", "2 jobs", "Running tests: all tests", None]


def test_a_failing_hook_does_not_stop_the_others():
    seen: list[str] = []
    hooks = Hooks()
    hooks.on("save", lambda uri: 1 / 0)
    hooks.on("save", seen.append)
    hooks.emit("save", "file:///x.py")
    assert seen == ["file:///x.py"]


def test_offers_move_with_edits_above_and_go_with_edits_inside():
    server = CodeloopServer()
    published: list[list[int]] = []
    server.diagnostics = DiagnosticsBoard(lambda uri, ds: published.append([d.range.start.line for d in ds]))
    service = ImplementService()
    offer = Offer(version=1, name="f", first=3, last=5, verified=False, title="Implement f (unverified: x)",
                  edit=None, diagnostic=diag(3, "no verified implementation: ..."))
    service.keep(server, "u", offer)
    assert published[-1] == [3]
    service.document_changed(server, "u", [(Span(0, 0, 0, 0), "# one\n# two\n")])  # two lines above
    assert (offer.first, offer.last) == (5, 7) and published[-1] == [5]
    service.document_changed(server, "u", [(Span(9, 0, 9, 0), "x = 1\n")])  # below: nothing moves
    assert (offer.first, published[-1]) == (5, [5])
    service.document_changed(server, "u", [(Span(6, 4, 6, 7), "return 1")])  # inside: gone
    assert service.offers == {} and published[-1] == []


def test_a_whole_document_change_drops_every_offer():
    server = CodeloopServer()
    server.diagnostics = DiagnosticsBoard(lambda uri, ds: None)
    service = ImplementService()
    service.keep(server, "u", Offer(1, "f", 0, 1, True, "Implement f: 1/1 examples pass", edit=None))
    service.document_changed(server, "u", [(None, "def f():\n    return 1\n")])
    assert service.offers == {}


def test_board_knows_what_diagnostics_were_made_from():
    board = DiagnosticsBoard(lambda uri, ds: None)
    board.set("u", "intents", [diag(0, "stub")], fingerprint=("a",))
    assert board.unchanged("u", "intents", ("a",)) and not board.unchanged("u", "intents", ("b",))
    assert not board.unchanged("u", "tests", ("a",)) and not board.unchanged("u", "intents", None)
    board.set("u", "intents", [])  # e.g. the document was closed: the next set publishes again
    assert not board.unchanged("u", "intents", ("a",))


def test_intent_fingerprint_follows_what_the_diagnostics_show():
    from codeloop.lsp.documents import fingerprint
    from codeloop.workspace.intents import find_intents
    from codeloop.workspace.syntax import syntax_issues

    def print_of(text: str) -> tuple:
        doc = Document("file:///tmp/m.py", text, 1)
        return fingerprint(doc, syntax_issues(doc), find_intents(doc, frozenset()))

    base = print_of("def f(x):\n    ...\n\n\ndef g(x):\n    return x + 1\n")
    assert print_of("def f(x):\n    ...\n\n\ndef g(x):\n    return x + 2\n") == base  # inside a line
    assert print_of("def f(xs):\n    ...\n\n\ndef g(x):\n    return x + 1\n") != base  # the def line grew
    assert print_of("# more\ndef f(x):\n    ...\n\n\ndef g(x):\n    return x + 1\n") != base  # moved
    assert print_of("def f(x):\n    ...\n\n\ndef g(x):\n    return x +\n") != base  # a syntax error
