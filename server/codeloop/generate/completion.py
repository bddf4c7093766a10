"""Inline completion core: when to complete, what to send, how to clean the answer, and a
small cache. No LSP here; :mod:`codeloop.lsp.inline_completion` translates.

Triggers (the cursor sits on a line that is blank up to the cursor):

* the nearest non-blank line above is a comment (``# parse the header and ...``);
* it is a ``def``/``async def`` header;
* it closes the docstring of a function whose body is only that docstring so far
  (an empty function body).

The model gets a bounded prefix (up to :data:`MAX_PREFIX_LINES` lines before the cursor)
and suffix (up to :data:`MAX_SUFFIX_LINES` after it). Its answer is post-processed: fences
stripped, leading blank lines dropped, cut at the first dedent out of the block, cut where
it starts repeating the suffix's next lines, trailing blank lines trimmed.
"""

from __future__ import annotations

import collections
import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from codeloop.model.client import ModelClient
from codeloop.model.workers import in_worker

MAX_PREFIX_LINES = 200
MAX_SUFFIX_LINES = 60
MAX_PREFIX_CHARS = 12_000
MAX_SUFFIX_CHARS = 4_000
MAX_TOKENS = 256
CACHE_SIZE = 256

_DEF = re.compile(r"^(\s*)(async\s+)?def\s+\w+.*:\s*(#.*)?$")
_FENCE = re.compile(r"^\s*```")
_STOP_AT_TOP = ("def ", "async def ", "class ", "@", "if __name__")


@dataclass(frozen=True)
class Trigger:
    """Why a completion is offered here: ``kind`` is ``comment``, ``def`` or ``body``;
    ``indent`` is the indentation of the line that triggered (a comment or the ``def``)."""

    kind: str
    indent: int
    line: int  # 0-based line of the triggering comment / def header


@dataclass(frozen=True)
class Context:
    prefix: str  # text before the cursor (bounded)
    suffix: str  # text after the cursor (bounded)
    line_prefix: str  # the cursor line up to the cursor (blank when triggered)
    trigger: Trigger | None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def find_trigger(lines_before: list[str], line_prefix: str) -> Trigger | None:
    """The trigger for a cursor after ``lines_before`` (the lines above the cursor line, the
    last one nearest) with ``line_prefix`` before it on its own line; None: no completion."""
    if line_prefix.strip():
        return None
    i = len(lines_before) - 1
    while i >= 0 and not lines_before[i].strip():
        i -= 1
    if i < 0:
        return None
    above = lines_before[i]
    stripped = above.strip()
    if stripped.startswith("#"):
        if stripped.startswith("#!") or stripped.startswith("# -*-"):
            return None
        return Trigger("comment", _indent(above), i)
    if _DEF.match(above):
        return Trigger("def", _indent(above), i)
    for quote in ('"""', "'''"):
        if stripped.endswith(quote):
            # one-line docstring, or the closing line of a longer one
            start = i
            if not (stripped.startswith(quote) and len(stripped) >= 6) and not (
                    stripped.lstrip("rbuRBU").startswith(quote) and len(stripped) >= 6):
                start = i - 1
                while start >= 0 and quote not in lines_before[start]:
                    start -= 1
                if start < 0:
                    return None
            j = start - 1
            while j >= 0 and not lines_before[j].strip():
                j -= 1
            if j >= 0 and _DEF.match(lines_before[j]) and _indent(lines_before[start]) > _indent(lines_before[j]):
                return Trigger("body", _indent(lines_before[j]), j)
            return None
    return None


def extract(text: str, line: int, col: int) -> Context:
    """Prefix/suffix around (``line``, ``col``) in ``text`` (``col`` in characters)."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    col = max(0, min(col, len(current)))
    first = max(0, line - MAX_PREFIX_LINES)
    before = lines[first:line]
    prefix = "\n".join(before + [current[:col]])
    last = min(len(lines), line + 1 + MAX_SUFFIX_LINES)
    suffix = "\n".join([current[col:]] + lines[line + 1:last])
    return bound(prefix, suffix, current[:col], find_trigger(before, current[:col]), line - len(before))


def bound(prefix: str, suffix: str, line_prefix: str, trigger: Trigger | None, _first: int = 0) -> Context:
    if len(prefix) > MAX_PREFIX_CHARS:
        cut = prefix[-MAX_PREFIX_CHARS:]
        nl = cut.find("\n")
        prefix = cut[nl + 1:] if 0 <= nl < len(cut) - len(line_prefix) - 1 else cut
    if len(suffix) > MAX_SUFFIX_CHARS:
        cut = suffix[:MAX_SUFFIX_CHARS]
        nl = cut.rfind("\n")
        suffix = cut[:nl] if nl > 0 else cut
    if trigger is not None and _first:
        trigger = Trigger(trigger.kind, trigger.indent, trigger.line + _first)
    return Context(prefix, suffix, line_prefix, trigger)


def strip_fences(text: str) -> str:
    """The code inside the first Markdown fence, or ``text`` when it has none."""
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if _FENCE.match(ln)]
    if not starts:
        return text
    first = starts[0]
    end = next((i for i in starts[1:]), len(lines))
    return "\n".join(lines[first + 1:end])


def postprocess(raw: str, ctx: Context) -> str:
    """The text to insert, as whole lines from the start of the cursor line (its blank
    prefix included), or "" when nothing useful is left."""
    text = strip_fences(raw.replace("\r\n", "\n")).rstrip()
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ""
    ws = ctx.line_prefix
    # FIM answers continue after the cursor; chat answers often repeat the indentation.
    if not (ws and _indent(lines[0]) >= len(ws)):
        lines[0] = ws + lines[0]
    trigger = ctx.trigger
    base = trigger.indent if trigger is not None else _indent(ws)
    kept: list[str] = []
    entered = trigger is not None and trigger.kind in ("def", "body")
    for ln in lines:
        if not ln.strip():
            kept.append("")
            continue
        ind = _indent(ln)
        if trigger is not None and trigger.kind in ("def", "body"):
            if ind <= base:  # dedent out of the function body
                break
        else:
            if ind < base:
                break
            # a second statement at the comment's level after a block: a new block
            if ind == base and entered and kept and (ln.lstrip().startswith(_STOP_AT_TOP) or kept[-1] == ""):
                break
            if ind > base:
                entered = True
        kept.append(ln.rstrip())
    kept = _drop_suffix_repeat(kept, ctx.suffix)
    while kept and not kept[-1].strip():
        kept.pop()
    if not kept or not "".join(kept).strip():
        return ""
    return "\n".join(kept)


def _drop_suffix_repeat(lines: list[str], suffix: str) -> list[str]:
    """Cut ``lines`` where they start repeating the first non-blank lines after the cursor."""
    nxt = [ln.strip() for ln in suffix.split("\n")[1:] if ln.strip()][:3]
    if not nxt:
        return lines
    for i, ln in enumerate(lines):
        if i == 0 or not ln.strip():
            continue
        if ln.strip() == nxt[0]:
            rest = [x.strip() for x in lines[i:] if x.strip()]
            if len(nxt) == 1 or rest[: len(nxt)] == nxt[: len(rest)]:
                return lines[:i]
    return lines


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def cache_key(uri: str, ctx: Context) -> tuple[str, str, str]:
    return (uri, digest(ctx.prefix), digest(ctx.suffix))


@dataclass
class Offer:
    """One cached completion and what verification found (None: not verified yet)."""

    text: str
    verified: str | None = None  # e.g. "verified 3/3 examples"
    verifying: bool = False
    failed: str | None = None  # verification ran and did not pass
    extra: dict[str, Any] = field(default_factory=dict)


class OfferCache:
    """LRU cache of offers by (uri, prefix hash, suffix hash). Thread-safe."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: collections.OrderedDict[tuple[str, str, str], Offer] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> Offer | None:
        with self._lock:
            offer = self._items.get(key)
            if offer is not None:
                self._items.move_to_end(key)
            return offer

    def put(self, key: tuple[str, str, str], offer: Offer) -> None:
        with self._lock:
            self._items[key] = offer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def discard(self, key: tuple[str, str, str], offer: Offer | None = None) -> None:
        """Drop ``key`` (only while it still holds ``offer``, when given)."""
        with self._lock:
            if key in self._items and (offer is None or self._items[key] is offer):
                del self._items[key]

    def forget(self, uri: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] == uri]:
                del self._items[key]

    def __len__(self) -> int:
        return len(self._items)


def complete(llm: ModelClient, ctx: Context, cancel: threading.Event | None = None, max_tokens: int = MAX_TOKENS) -> str:
    """Ask ``llm`` (a :class:`~codeloop.model.client.ModelClient`) to fill in at the cursor
    and post-process the answer. Raises ``ModelError``/``Cancelled`` as the client does."""
    candidate = llm.complete(ctx.prefix, ctx.suffix, max_tokens=max_tokens, stop=_stop(ctx), cancel=cancel)
    return postprocess(candidate.text, ctx)


async def acomplete(llm: ModelClient, ctx: Context, cancel: threading.Event | None = None,
                    max_tokens: int = MAX_TOKENS) -> str:
    """:func:`complete` from async code: through the client's own ``acomplete`` when it has
    one (the OpenAI client's first try runs on the loop), else in a worker thread."""
    on_loop = getattr(llm, "acomplete", None)
    if on_loop is None:
        return await in_worker(complete, llm, ctx, max_tokens=max_tokens, cancel=cancel)
    candidate = await on_loop(ctx.prefix, ctx.suffix, max_tokens=max_tokens, stop=_stop(ctx), cancel=cancel)
    return postprocess(candidate.text, ctx)


def _stop(ctx: Context) -> list[str] | None:
    """A comment at the top level asks for a block: three newlines end it."""
    return ["\n\n\n"] if ctx.trigger is not None and ctx.trigger.kind == "comment" and ctx.trigger.indent == 0 else None


# --- the cursor in an editor's document -----------------------------------------------------


class Lines(Protocol):
    """What :func:`cursor_context` reads of a document: its lines, without decoding it whole."""

    @property
    def line_count(self) -> int: ...

    def line_text(self, line: int) -> str: ...


def cursor_context(doc: Lines, line: int, col16: int) -> Context:
    """The completion context at (``line``, UTF-16 column ``col16``) of ``doc``."""
    line_text = doc.line_text(line) if line < doc.line_count else ""
    return document_context(doc, line, char_col(line_text, col16))


def char_col(line_text: str, col16: int) -> int:
    """A UTF-16 column as a Python character index."""
    if line_text.isascii():
        return min(col16, len(line_text))
    units = 0
    for i, ch in enumerate(line_text):
        if units >= col16:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text)


def document_context(doc: Lines, line: int, col: int) -> Context:
    """Bounded prefix/suffix without decoding the whole document."""
    first = max(0, line - MAX_PREFIX_LINES)
    last = min(doc.line_count, line + 1 + MAX_SUFFIX_LINES)
    joined = getattr(doc, "lines_text", None)  # a Document decodes the slice at once
    text = joined(first, last) if joined is not None else "\n".join(doc.line_text(i) for i in range(first, last))
    ctx = extract(text, line - first, col)
    if ctx.trigger is not None and first:
        ctx = Context(ctx.prefix, ctx.suffix, ctx.line_prefix,
                      Trigger(ctx.trigger.kind, ctx.trigger.indent, ctx.trigger.line + first))
    return ctx
