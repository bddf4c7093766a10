"""A seeded protocol fuzzer for `codeloop serve` over stdio (issue 16 item 8).

:class:`RawServer` speaks JSON-RPC over the server's pipes byte by byte (so it can send what
no LSP library would: broken JSON, bodies that are not objects, wrong types, messages out of
order). :class:`Fuzzer` mixes, from one seed, random valid edits of a few documents (ranges in
UTF-16 columns over text with accents, emoji and CRLF, batches, whole replacements, columns
past the line end), edits the server must refuse (lines past the end, inverted or negative
ranges, wrong types), malformed and out-of-order messages, and oversized ones. It keeps the
client's copy of every document with its own small LSP edit model and, every few steps,
asks the server for its copy (``codeloop.documentState``: version and text hash) and for
ordinary answers (code actions, symbols). Used by tests/server/test_protocol_fuzz.py (bounded)
and bench/fuzz/run.py (larger).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EOL = re.compile(r"\r\n|\r|\n")
PIECES = ["x", "def f(a):\n    return a\n", "é", "😀", "中文", " ", "\n", "\r\n", "    ", "pass", "# TODO: ",
          "'''doc'''", "(", ")", ":", "\t", "λ = 1\n", "𝔘", "class C:\n    ...\n", "import os\n", "\n\n"]


# -- the client's copy: LSP edits on a str, in UTF-16 columns -------------------------------

def _starts(text: str) -> list[int]:
    return [0] + [m.end() for m in EOL.finditer(text)]


def _line_end(text: str, starts: list[int], line: int) -> int:
    if line + 1 < len(starts):
        nxt = starts[line + 1]
        return nxt - (2 if text[nxt - 2:nxt] == "\r\n" else 1)
    return len(text)


def offset(text: str, line: int, col: int) -> int | None:
    """The str index of an LSP position (None: the server must refuse it). Columns past a
    line's end clamp to it; one line past the last is the end of the text."""
    starts = _starts(text)
    if line < 0 or col < 0 or line > len(starts):
        return None
    if line == len(starts):
        return len(text)
    i, end, units = starts[line], _line_end(text, starts, line), 0
    while i < end:
        width = 2 if ord(text[i]) > 0xFFFF else 1
        if units + width > col:
            break
        units += width
        i += 1
    return i


def apply_changes(text: str, changes: list[tuple[tuple[int, int, int, int] | None, str]]) -> str | None:
    """The text after a didChange batch, or None when the batch must be refused (all or nothing)."""
    for rng, new in changes:
        if rng is None:
            text = new
            continue
        sl, sc, el, ec = rng
        if (sl, sc) > (el, ec):
            return None
        start, end = offset(text, sl, sc), offset(text, el, ec)
        if start is None or end is None or start > end:
            return None
        text = text[:start] + new + text[end:]
    return text


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the wire ---------------------------------------------------------------------------

class RawServer:
    """`codeloop serve` on pipes: frames out, a reader thread that files responses by id and
    answers what the server asks of an editor."""

    def __init__(self, command: list[str], env: dict[str, str], stderr_path: Path) -> None:
        self._stderr = open(stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env)
        self.responses: dict[Any, dict] = {}
        self.notifications: Counter[str] = Counter()
        self.server_requests: Counter[str] = Counter()
        self._cond = threading.Condition()
        self._wlock = threading.Lock()
        self._ids = 0
        self.bytes_sent = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert length is not None, "the server sent a frame without Content-Length"
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:
                self.server_requests[message["method"]] += 1
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message)})
            elif "method" in message:
                self.notifications[message["method"]] += 1
            else:
                with self._cond:
                    self.responses[message.get("id")] = message
                    self._cond.notify_all()

    @staticmethod
    def _answer(message: dict) -> Any:
        if message["method"] == "workspace/configuration":
            return [None] * len(message.get("params", {}).get("items", []))
        if message["method"] == "workspace/applyEdit":
            return {"applied": False, "failureReason": "the fuzzer applies nothing"}
        return None

    def send_bytes(self, data: bytes) -> None:
        with self._wlock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            self.bytes_sent += len(data)

    def send(self, message: Any) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def next_id(self) -> str:
        self._ids += 1
        return f"fz-{self._ids}"

    def request(self, method: str, params: Any, msg_id: Any = None) -> Any:
        msg_id = self.next_id() if msg_id is None else msg_id
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id

    def wait(self, msg_id: Any, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no answer to {msg_id} (server {'exited' if self.proc.poll() is not None else 'alive'})")
                self._cond.wait(min(left, 0.5))
            return self.responses.pop(msg_id)

    def call(self, method: str, params: Any, timeout: float = 30) -> dict:
        return self.wait(self.request(method, params), timeout)

    def close(self) -> int | None:
        try:
            if self.proc.poll() is None:
                self.wait(self.request("shutdown", None), 10)
                self.notify("exit", None)
                self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._stderr.close()
        return self.proc.returncode


# -- the fuzzer ---------------------------------------------------------------------------

@dataclass
class Doc:
    uri: str
    text: str = ""
    version: int = 0
    open: bool = False


@dataclass
class Stats:
    steps: int = 0
    sent: Counter[str] = field(default_factory=Counter)  # by action
    requests: int = 0  # requests that expected an answer (all answered, or the run fails)
    checks: int = 0  # document state comparisons
    refused_edits: int = 0


class Fuzzer:
    def __init__(self, server: RawServer, root: Path, seed: int, documents: int = 3, big_mib: float = 1.0) -> None:
        self.server, self.root, self.rng = server, root, random.Random(seed)
        self.docs = [Doc((root / f"fuzz_{i}.py").as_uri()) for i in range(documents)]
        self.big = int(big_mib * (1 << 20))
        self.stats = Stats()
        self.pending: list[str] = []  # request ids whose answers are collected at the next check
        self.actions = [
            (self.valid_edit, 40), (self.open_doc, 4), (self.close_doc, 2), (self.refused_edit, 10),
            (self.bad_types, 6), (self.garbage, 6), (self.out_of_order, 6), (self.requests, 10),
            (self.oversized, 1), (self.full_replace, 3),
        ]

    # -- helpers ------------------------------------------------------------------------
    def _text(self, n: int | None = None) -> str:
        n = self.rng.randint(0, 6) if n is None else n
        return "".join(self.rng.choice(PIECES) for _ in range(n))

    def _position(self, text: str) -> tuple[int, int]:
        """A position the server must accept: a line in range, a column at a character
        boundary, sometimes past the line end or one line past the last."""
        starts = _starts(text)
        r = self.rng.random()
        if r < 0.03:
            return len(starts), self.rng.randint(0, 3)
        line = self.rng.randrange(len(starts))
        chars = text[starts[line]:_line_end(text, starts, line)]
        if r < 0.1:
            return line, utf16(chars) + self.rng.randint(0, 5)
        return line, utf16(chars[: self.rng.randint(0, len(chars))])

    def _change(self, doc: Doc, version: int, changes: list[tuple[tuple[int, int, int, int] | None, str]]) -> None:
        events = [{"text": t} if r is None else
                  {"range": {"start": {"line": r[0], "character": r[1]}, "end": {"line": r[2], "character": r[3]}},
                   "text": t} for r, t in changes]
        self.server.notify("textDocument/didChange",
                           {"textDocument": {"uri": doc.uri, "version": version}, "contentChanges": events})

    def _open_docs(self) -> list[Doc]:
        return [d for d in self.docs if d.open]

    # -- actions ------------------------------------------------------------------------
    def open_doc(self) -> None:
        doc = self.rng.choice(self.docs)
        doc.text, doc.version, doc.open = self._text(self.rng.randint(0, 20)), self.rng.randint(0, 5), True
        self.server.notify("textDocument/didOpen", {"textDocument": {
            "uri": doc.uri, "languageId": "python", "version": doc.version, "text": doc.text}})

    def close_doc(self) -> None:
        doc = self.rng.choice(self.docs)
        doc.open = False
        self.server.notify("textDocument/didClose", {"textDocument": {"uri": doc.uri}})

    def valid_edit(self) -> None:
        docs = self._open_docs()
        if not docs:
            return self.open_doc()
        doc = self.rng.choice(docs)
        text, changes = doc.text, []
        for _ in range(self.rng.choice([1, 1, 1, 2, 3])):
            a, b = sorted([self._position(text), self._position(text)])
            rng, new = (*a, *b), self._text()
            changes.append((rng, new))
            after = apply_changes(text, [(rng, new)])
            if after is None:  # (a, b) sorted but clamped past-the-end columns can still invert
                changes.pop()
                continue
            text = after
        version = doc.version + self.rng.choice([1, 1, 1, 2, -1, 0])  # out-of-order versions are the client's call
        doc.text, doc.version = text, version
        self._change(doc, version, changes)

    def full_replace(self) -> None:
        docs = self._open_docs()
        if not docs:
            return
        doc = self.rng.choice(docs)
        doc.text, doc.version = self._text(self.rng.randint(0, 30)), doc.version + 1
        self._change(doc, doc.version, [(None, doc.text)])

    def refused_edit(self) -> None:
        """Edits the server must refuse whole, leaving its copy as it was."""
        docs = self._open_docs()
        if not docs:
            return
        doc = self.rng.choice(docs)
        n = len(_starts(doc.text))
        bad = self.rng.choice([
            (n + 1 + self.rng.randint(0, 100), 0, n + 2 + self.rng.randint(0, 100), 0),  # past the end
            (0, 5, 0, 2) if doc.text else (1, 0, 0, 0),  # inverted
            (max(n - 1, 0), 0, 0, 0) if n > 1 else (1, 0, 0, 0),
        ])
        changes: list[tuple[tuple[int, int, int, int] | None, str]] = [(bad, "refused")]
        if self.rng.random() < 0.5:  # a valid change first: all or nothing
            a = self._position(doc.text)
            changes.insert(0, ((*a, *a), "ok"))
        assert apply_changes(doc.text, changes) is None, (doc.text, changes)
        self.stats.refused_edits += 1
        self._change(doc, doc.version + 1, changes)

    def bad_types(self) -> None:
        """Well-formed JSON-RPC whose params do not fit the method: nothing may change; a
        request must still be answered (with an error)."""
        doc = self.rng.choice(self.docs)
        kind = self.rng.randrange(6)
        if kind == 0:
            self.server.notify("textDocument/didChange", {"textDocument": {"uri": doc.uri, "version": "seven"},
                                                          "contentChanges": [{"text": "lost"}]})
        elif kind == 1:
            self.server.notify("textDocument/didChange", {"textDocument": {"uri": doc.uri, "version": 1},
                                                          "contentChanges": [{"range": {"start": {"line": -1}}, "text": 5}]})
        elif kind == 2:
            self.server.notify("textDocument/didOpen", {"textDocument": {"uri": 42}})
        elif kind == 3:
            self.pending.append(self.server.request("textDocument/codeAction", {"textDocument": doc.uri}))
        elif kind == 4:
            self.pending.append(self.server.request("workspace/executeCommand",
                                                    {"command": "codeloop.documentState", "arguments": [{"uri": 7}]}))
        else:
            self.pending.append(self.server.request("textDocument/hover", [1, 2, 3]))

    def garbage(self) -> None:
        """Frames whose body is not a JSON-RPC message at all (framing itself stays honest:
        a lying Content-Length cannot be told from a slow client)."""
        body = self.rng.choice([
            b"{not json", b"[]", b"42", b'"a string"', b"null", b"{}", b'{"jsonrpc": "2.0"}',
            b'{"jsonrpc": "1.0", "method": "textDocument/didOpen"}', b"\xff\xfe\x00garbage",
            json.dumps({"jsonrpc": "2.0", "method": "$/unknownNotification", "params": {"x": 1}}).encode(),
            json.dumps({"jsonrpc": "2.0", "id": None, "result": 1}).encode(),
            json.dumps({"jsonrpc": "2.0", "id": "never-sent", "result": {"x": 1}}).encode(),
            json.dumps({"jsonrpc": "2.0", "id": "never-sent", "error": {"code": -1, "message": "?"}}).encode(),
        ])
        extra = self.rng.choice([b"", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"])
        self.server.send_bytes(b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body)

    def out_of_order(self) -> None:
        doc = self.rng.choice(self.docs)
        kind = self.rng.randrange(5)
        if kind == 0 and not doc.open:  # a change to a document that is not open: refused
            self._change(doc, 1, [(None, "never opened")])
        elif kind == 1:
            self.server.notify("$/cancelRequest", {"id": self.rng.choice(["fz-1", 999999, "nope"])})
        elif kind == 2:  # a request for a method the server does not have
            self.pending.append(self.server.request("codeloop/noSuchMethod", {"uri": doc.uri}))
        elif kind == 3:  # initialize again, mid-session
            self.pending.append(self.server.request("initialize", {"processId": None, "rootUri": None,
                                                                   "capabilities": {}}))
        else:  # a request for a closed (or never opened) document
            self.pending.append(self.server.request("textDocument/codeAction", {
                "textDocument": {"uri": (self.root / "missing_file.py").as_uri()},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": []}}))

    def oversized(self) -> None:
        docs = self._open_docs()
        if not docs:
            return
        doc = self.rng.choice(docs)
        if len(doc.text) > 2 * self.big:  # keep documents bounded: start this one over
            return self.full_replace()
        line = "value_" + "x" * 70 + " = 'é😀'\n"
        big = line * max(1, self.big // len(line.encode()))
        if self.rng.random() < 0.5:  # a huge insertion
            pos = self._position(doc.text)
            doc.text, doc.version = apply_changes(doc.text, [((*pos, *pos), big)]), doc.version + 1  # type: ignore[assignment]
            self._change(doc, doc.version, [((*pos, *pos), big)])
        else:  # a huge request parameter
            self.pending.append(self.server.request("workspace/symbol", {"query": "q" * self.big}))

    def requests(self) -> None:
        docs = self._open_docs()
        doc = self.rng.choice(docs or self.docs)
        line = self.rng.randint(0, max(0, len(_starts(doc.text)) - 1))
        method, params = self.rng.choice([
            ("textDocument/codeAction", {"textDocument": {"uri": doc.uri},
                                         "range": {"start": {"line": line, "character": 0},
                                                   "end": {"line": line, "character": 0}},
                                         "context": {"diagnostics": []}}),
            ("workspace/symbol", {"query": self.rng.choice(["f", "C", "value", "zz"])}),
            ("textDocument/documentSymbol", {"textDocument": {"uri": doc.uri}}),
            ("workspace/executeCommand", {"command": "codeloop.documentState", "arguments": [{"uri": doc.uri}]}),
        ])
        self.pending.append(self.server.request(method, params))

    # -- running and checking ----------------------------------------------------------
    def step(self) -> None:
        funcs, weights = zip(*self.actions, strict=True)
        action = self.rng.choices(funcs, weights)[0]
        self.stats.sent[action.__name__] += 1
        action()
        self.stats.steps += 1

    def check(self, timeout: float = 60) -> None:
        """Every request sent so far is answered; the server's copy of each document equals ours."""
        for msg_id in self.pending:
            response = self.server.wait(msg_id, timeout)
            assert "result" in response or "error" in response, response
            self.stats.requests += 1
        self.pending.clear()
        for doc in self.docs:
            response = self.server.call("workspace/executeCommand",
                                        {"command": "codeloop.documentState", "arguments": [{"uri": doc.uri}]}, timeout)
            assert "result" in response, response
            state = response["result"]
            expected = ({"open": True, "version": doc.version, "length": utf16(doc.text), "sha256": digest(doc.text)}
                        if doc.open else {"open": False})
            assert state == expected, (f"seed step {self.stats.steps}: the server's copy of {doc.uri} differs",
                                       state, expected, doc.text[:200])
            self.stats.checks += 1

    def run(self, steps: int, check_every: int = 50) -> Stats:
        for i in range(1, steps + 1):
            self.step()
            if i % check_every == 0:
                self.check()
        self.check()
        return self.stats


def start(root: Path, log_dir: Path, env: dict[str, str] | None = None) -> RawServer:
    """`codeloop serve` initialized on ``root`` (stderr to ``log_dir/stderr.txt``)."""
    import sys

    full_env = {**os.environ, "XDG_CACHE_HOME": str(log_dir / "cache"), "XDG_DATA_HOME": str(log_dir / "data"),
                **(env or {})}
    for name in ("CODELOOP_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        full_env.pop(name, None)
    server = RawServer([sys.executable, "-m", "codeloop", "serve", "--no-log-file"], full_env, log_dir / "stderr.txt")
    answer = server.call("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {},
                                        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}]}, 60)
    assert "result" in answer, answer
    server.notify("initialized", {})
    return server
