"""The document model: bytes + tree-sitter tree per document, edited incrementally.

LSP speaks in (0-based line, UTF-16 column) positions; tree-sitter speaks in UTF-8
byte offsets and (row, byte column) points. A :class:`Document` keeps the UTF-8
bytes, a table of line-start byte offsets and the tree, converts every LSP change
to byte offsets, calls ``tree.edit()`` and re-parses with the old tree so that
tree-sitter only re-does the part that changed.

Line ends follow LSP: ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line. A column
past the end of a line is clamped to the line end (the LSP rule); a column inside a
surrogate pair (the middle of an emoji) rounds down to the start of the character.
A line past the end of the document, negative numbers or a range whose start comes
after its end raise :class:`DocumentEditError`, and a batch of changes is applied
all-or-nothing.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import tree_sitter_python as _tspython
from tree_sitter import Language, Parser, Tree

from codeloop.workspace.model import Span
from codeloop.workspace.stretches import Pending, after_edit, check, parse_alone, statements_over

PY_LANGUAGE = Language(_tspython.language())

_EOL = re.compile(rb"\r\n|\r|\n")
_FULL = object()  # a pending re-parse from scratch (the text was replaced)
# Parsers are shared by the documents of a store; a lazy re-parse may run on any thread.
_PARSE_LOCK = threading.Lock()
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class DocumentEditError(ValueError):
    """An LSP change that cannot be applied (bad range, unknown document)."""


class DocumentLoadError(Exception):
    """A file that cannot be read as a Python source document; the message is one line."""


def new_parser() -> Parser:
    """A tree-sitter parser for Python (parsers are cheap; one per thread or store)."""
    return Parser(PY_LANGUAGE)


PIECE_BYTES = 8192


def parse_in_pieces(parser: Parser, source: bytes) -> Tree:
    """``parser.parse(source)``, the source read through a callback a piece at a time. A plain
    parse holds the interpreter lock until it returns (~40 ms for a 10,000-line file); the
    callback runs Python between pieces, where a thread waiting for the lock (the server's
    event loop) gets it. Same tree, same cost (bench/lsp, session 10)."""

    def piece(offset: int, _point: object) -> bytes:
        return source[offset:offset + PIECE_BYTES]

    return parser.parse(piece)


_REGION = threading.local()


def _region_parser() -> Parser:
    """This thread's parser for :meth:`Document.region` (whose included ranges it sets)."""
    parser = getattr(_REGION, "parser", None)
    if parser is None:
        parser = _REGION.parser = new_parser()
    return parser


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (astral characters count twice)."""
    if text.isascii():
        return len(text)
    return len(text) + len(_ASTRAL.findall(text))


def _line_starts(source: bytes, start: int = 0, end: int | None = None) -> list[int]:
    """Byte offsets just after each line terminator in ``source[start:end]``."""
    return [m.end() for m in _EOL.finditer(source, start, len(source) if end is None else end)]


@dataclass(frozen=True)
class _Edit:
    """One change resolved to byte offsets and tree-sitter points."""

    start: int
    old_end: int
    new_end: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


class _Buffer:
    """Bytes plus line-start offsets; the mutable core of a document.

    Kept separate from :class:`Document` so a batch of changes can be computed on
    a scratch copy and committed only when every change in it is valid.

    Line starts are stored with a lazily applied shift: entries from index
    ``pend_index`` on are ``pend_delta`` bytes short of their true value. An edit
    then costs time proportional to the distance from the previous edit, not to
    the number of lines after it (typing stays cheap at the top of a long file).
    """

    __slots__ = ("source", "starts", "has_cr", "pend_index", "pend_delta")

    def __init__(
        self,
        source: bytes,
        starts: list[int] | None = None,
        has_cr: bool | None = None,
        pend_index: int | None = None,
        pend_delta: int = 0,
    ):
        self.source = source
        self.starts = starts if starts is not None else [0, *_line_starts(source)]
        self.has_cr = (b"\r" in source) if has_cr is None else has_cr
        self.pend_index = len(self.starts) if pend_index is None else pend_index
        self.pend_delta = pend_delta

    def copy(self) -> _Buffer:
        return _Buffer(self.source, self.starts.copy(), self.has_cr, self.pend_index, self.pend_delta)

    def start_of(self, line: int) -> int:
        value = self.starts[line]
        return value + self.pend_delta if line >= self.pend_index else value

    def _bisect_left(self, offset: int) -> int:
        s, k = self.starts, self.pend_index
        if k >= len(s) or offset <= s[k] + self.pend_delta:
            return bisect_left(s, offset, 0, k)
        return bisect_left(s, offset - self.pend_delta, k, len(s))

    def _bisect_right(self, offset: int) -> int:
        s, k = self.starts, self.pend_index
        if k >= len(s) or offset < s[k] + self.pend_delta:
            return bisect_right(s, offset, 0, k)
        return bisect_right(s, offset - self.pend_delta, k, len(s))

    # -- LSP position <-> byte offset -------------------------------------------------

    def line_end(self, line: int) -> int:
        """Byte offset of the end of ``line``'s content (before its terminator)."""
        if line + 1 < len(self.starts):
            end = self.start_of(line + 1)
            src = self.source
            if end >= 1 and src[end - 1] == 0x0A:
                end -= 1
                if end >= 1 and src[end - 1] == 0x0D:
                    end -= 1
            elif end >= 1 and src[end - 1] == 0x0D:
                end -= 1
            return end
        return len(self.source)

    def offset_at(self, line: int, col: int) -> int:
        if line < 0 or col < 0:
            raise DocumentEditError(f"negative position ({line}, {col})")
        nlines = len(self.starts)
        if line >= nlines:
            if line == nlines:  # one past the last line: the end of the document
                return len(self.source)
            raise DocumentEditError(
                f"line {line} is past the end of the document ({nlines} lines)"
            )
        start = self.start_of(line)
        end = self.line_end(line)
        if col == 0:
            return start
        raw = self.source[start:end]
        if raw.isascii():
            return start + min(col, len(raw))
        text = raw.decode("utf-8", "surrogatepass")
        units = 0
        for index, ch in enumerate(text):
            width = 2 if ord(ch) > 0xFFFF else 1
            if units + width > col:  # col is inside this character: round down
                return start + len(text[:index].encode("utf-8", "surrogatepass"))
            units += width
            if units == col:
                return start + len(text[: index + 1].encode("utf-8", "surrogatepass"))
        return end  # past the line end: clamp

    def position_at(self, offset: int) -> tuple[int, int]:
        if offset < 0 or offset > len(self.source):
            raise DocumentEditError(f"byte offset {offset} is outside the document")
        line = self._bisect_right(offset) - 1
        start = self.start_of(line)
        offset = min(offset, self.line_end(line)) if offset > start else offset
        raw = self.source[start:offset]
        if raw.isascii():
            return line, len(raw)
        return line, utf16_len(raw.decode("utf-8", "ignore"))

    def point_at(self, offset: int) -> tuple[int, int]:
        """tree-sitter point (row counted by ``\\n`` only, column in bytes)."""
        if not self.has_cr:
            line = self._bisect_right(offset) - 1
            return line, offset - self.start_of(line)
        src = self.source
        return src.count(b"\n", 0, offset), offset - (src.rfind(b"\n", 0, offset) + 1)

    # -- editing ----------------------------------------------------------------------

    def replace(self, start: int, old_end: int, new: bytes) -> _Edit:
        """Replace ``source[start:old_end]`` with ``new``; returns the tree-sitter edit."""
        start_point = self.point_at(start)
        old_end_point = self.point_at(old_end)
        old_src = self.source
        src = old_src[:start] + new + old_src[old_end:]
        new_end = start + len(new)
        delta = new_end - old_end
        # Line starts before `start` keep their status; those in [start, new_end] are
        # recomputed (a line start at p depends on bytes p-1 and p); later ones shift.
        i = self._bisect_left(start)
        j = self._bisect_right(old_end)
        scan_from = self.start_of(i - 1) if i > 0 else 0
        middle = [p for p in _line_starts(src, scan_from, min(new_end + 1, len(src))) if start <= p <= new_end]
        if start == 0 and (not middle or middle[0] != 0):
            middle.insert(0, 0)
        starts, k, d = self.starts, self.pend_index, self.pend_delta
        n = len(starts)
        if k < n and d:
            # bring the stored entries to the form "everything from j on is d short"
            if k < i:
                starts[k:i] = [v + d for v in starts[k:i]]
            elif k > j:
                starts[j:k] = [v - d for v in starts[j:k]]
        elif k >= n:
            d = 0
        starts[i:j] = middle
        self.pend_index = i + len(middle)
        self.pend_delta = d + delta if self.pend_index < len(starts) else 0
        self.source = src
        self.has_cr = self.has_cr or b"\r" in new
        if self.has_cr and b"\r" not in src:
            self.has_cr = False
        return _Edit(start, old_end, new_end, start_point, old_end_point, self.point_at(new_end))


class Document:
    """One Python document: text, UTF-8 bytes and an incrementally updated tree.

    ``text`` is decoded from ``source`` lazily and cached; ``source`` is the truth.
    ``tree`` is re-parsed lazily too: an edit only records itself on (a copy of) the old
    tree, and the first read of ``tree`` re-parses once for all the edits since. On a
    10k-line file an incremental parse costs ~4 ms; typing there no longer pays it per
    keystroke on the event loop, only when something needs the tree.
    """

    def __init__(
        self, uri: str, text: str, version: int | None = None, *, parser: Parser | None = None
    ) -> None:
        self.uri = uri
        self.path: str | None = uri_to_path(uri)
        self.version = version
        self._parser = parser or new_parser()
        self._buf = _Buffer(text.encode("utf-8", "surrogatepass"))
        self._text: str | None = text
        self._tree: Tree = parse_in_pieces(self._parser, self._buf.source)
        self._stale: object = None  # None, _FULL, or the old tree with the edits applied
        self._pending: list[Pending] | None = []  # what edits wrote since the parse (None: untracked)
        # Derived data other modules may keep per document (keyed by content, so it
        # stays valid across edits; e.g. the intents of unchanged functions).
        self.cache: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"Document({self.uri!r}, version={self.version!r}, {len(self._buf.source)} bytes)"

    @property
    def tree(self) -> Tree:
        """The tree of the current bytes (re-parsed here when edits are pending)."""
        if self._stale is not None:
            with _PARSE_LOCK:
                stale, self._stale, self._pending = self._stale, None, []
                if stale is _FULL:
                    self._tree = parse_in_pieces(self._parser, self._buf.source)
                elif stale is not None:
                    self._tree = self._parser.parse(self._buf.source, stale)
        return self._tree

    def snapshot(self) -> Document:
        """A read-only view of the document as it is now, safe to read from a worker thread.

        A change never mutates the buffer or the parsed tree in place: it builds a new buffer
        and records its edits on a private copy of the tree. So once pending edits are parsed
        (the read of ``tree`` below, by the caller's thread), a shallow copy keeps reading the
        version it was taken at while further changes apply to this document.
        """
        self.tree  # noqa: B018 - parse pending edits now: the copy must not share an edited tree
        return copy.copy(self)

    @property
    def source(self) -> bytes:
        return self._buf.source

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._buf.source.decode("utf-8", "surrogatepass")
        return self._text

    @property
    def line_count(self) -> int:
        return len(self._buf.starts)

    def line_text(self, line: int) -> str:
        """The text of ``line`` without its terminator ('' past the end)."""
        if not 0 <= line < len(self._buf.starts):
            return ""
        return self._buf.source[self._buf.start_of(line) : self._buf.line_end(line)].decode(
            "utf-8", "surrogatepass"
        )

    def is_comment_row(self, line: int) -> bool:
        """Whether ``line`` holds a comment and nothing else (after its indentation)."""
        return self.line_text(line).lstrip().startswith("#")

    def lines_text(self, first: int, last: int) -> str:
        """Lines ``first..last - 1`` joined by ``\\n`` (as ``line_text`` of each would give),
        decoded at once: a completion's 250 lines of context cost one slice, not 250."""
        first, last = max(first, 0), min(last, len(self._buf.starts))
        if first >= last:
            return ""
        if self._buf.has_cr:  # \r\n or \r terminators: normalise line by line
            return "\n".join(self.line_text(i) for i in range(first, last))
        return self._buf.source[self._buf.start_of(first) : self._buf.line_end(last - 1)].decode(
            "utf-8", "surrogatepass"
        )

    def offset_at(self, line: int, utf16_col: int) -> int:
        """Byte offset of an LSP position (column clamped to the line end)."""
        return self._buf.offset_at(line, utf16_col)

    def position_at(self, byte_offset: int) -> tuple[int, int]:
        """LSP position (line, UTF-16 column) of a byte offset."""
        return self._buf.position_at(byte_offset)

    def span_of(self, start_byte: int, end_byte: int) -> Span:
        """LSP span of a byte range (e.g. a tree-sitter node's bytes)."""
        sl, sc = self._buf.position_at(start_byte)
        el, ec = self._buf.position_at(end_byte)
        return Span(sl, sc, el, ec)

    def node_span(self, node) -> Span:
        return self.span_of(node.start_byte, node.end_byte)

    def apply_changes(
        self, changes: Sequence[tuple[Span | None, str]], version: int | None = None
    ) -> None:
        """Apply LSP content changes in order, atomically, and re-parse incrementally.

        Each change is ``(range, text)``; ``range`` None replaces the whole document.
        On any invalid change nothing is modified and :class:`DocumentEditError` is raised.
        """
        buf = self._buf.copy()
        edits: list[_Edit] = []
        full = False
        for rng, new_text in changes:
            if not isinstance(new_text, str):
                raise DocumentEditError(f"change text must be a string, not {type(new_text).__name__}")
            new = new_text.encode("utf-8", "surrogatepass")
            if rng is None:
                buf = _Buffer(new)
                edits.clear()
                full = True
                continue
            start = buf.offset_at(rng.start_line, rng.start_col)
            end = buf.offset_at(rng.end_line, rng.end_col)
            if (rng.start_line, rng.start_col) > (rng.end_line, rng.end_col) or start > end:
                raise DocumentEditError(
                    f"range start {rng.start_line}:{rng.start_col} is after its end "
                    f"{rng.end_line}:{rng.end_col}"
                )
            edits.append(buf.replace(start, end, new))
        # Every change is valid: commit (the re-parse waits for the next read of ``tree``).
        with _PARSE_LOCK:
            if full:
                # A full replacement (possibly followed by more edits): parse from scratch.
                self._stale, self._pending = _FULL, None
            elif edits and self._stale is not _FULL:
                # earlier holders of the tree keep a valid old tree: edit a private copy
                tree = self._stale if self._stale is not None else self._tree.copy()
                for e in edits:
                    self._pending = after_edit(self._pending, e.start, e.old_end, e.new_end)
                    tree.edit(
                        start_byte=e.start,
                        old_end_byte=e.old_end,
                        new_end_byte=e.new_end,
                        start_point=e.start_point,
                        old_end_point=e.old_end_point,
                        new_end_point=e.new_end_point,
                    )
                self._stale = tree
            self._buf = buf
        self._text = None
        if version is not None:
            self.version = version

    def region(self, first_row: int, last_row: int) -> Document:
        """This document for an analysis that reads only the top-level statements touching
        rows ``first_row..last_row`` (and the comment lines right above the first): while
        edits are pending, a copy whose tree is a parse of those statements alone, exact
        there and empty elsewhere, when :mod:`codeloop.workspace.stretches` can tell it
        agrees with a parse of the file; otherwise this document (the whole file re-parsed
        when its tree is read)."""
        with _PARSE_LOCK:
            stale, pending = self._stale, self._pending
            if not isinstance(stale, Tree) or pending is None:
                return self
            root = stale.root_node
            if root.has_error:
                return self
            rows = len(self._buf.starts)
            start = self._buf.offset_at(min(max(first_row, 0), rows), 0)
            end = max(self._buf.offset_at(min(max(last_row + 1, 0), rows), 0), start + 1)
            over = statements_over(root, start, end)
            if over is None:
                return self
            row = over[0].start_point.row
            while row > 0 and self.is_comment_row(row - 1):
                row -= 1  # the comment lines above are read too (the statement before may hold them)
            first, last = statements_over(root, self._buf.offset_at(row, 0), end) or over
            parser, source = _region_parser(), self._buf.source
            for p in pending:
                if p.end <= first.start_byte or p.start >= last.end_byte:
                    if not check(parser, source, root, p):
                        return self
                elif not first.start_byte < p.start <= p.end < last.end_byte:
                    return self  # an edit across the stretch's edge
            tree = parse_alone(parser, source, first, last)
        if tree is None:
            return self
        view = copy.copy(self)
        view._tree, view._stale, view._pending = tree, None, []
        return view

    def reparse_full(self) -> Tree:
        """A fresh parse of the current bytes (for tests and benchmarks)."""
        return self._parser.parse(self._buf.source)


# -- URIs and paths ---------------------------------------------------------------------


def uri_to_path(uri: str) -> str | None:
    """Filesystem path of a ``file:`` URI (percent-decoded), None for other schemes.

    A plain path (no scheme) is returned unchanged.
    """
    if "://" not in uri and not uri.startswith("file:"):
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) and not re.match(r"^[A-Za-z]:[\\/]", uri):
            return None  # another scheme, e.g. untitled:Untitled-1
        return uri
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"  # UNC share
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", path):
        path = path[1:]
    return path


def path_to_uri(path: str | os.PathLike[str]) -> str:
    """``file:`` URI of a path (made absolute, percent-encoded)."""
    p = os.path.abspath(os.fspath(path))
    if os.name == "nt":
        return Path(p).as_uri()
    return "file://" + quote(p, safe="/")


# -- the store --------------------------------------------------------------------------


def read_source_file(path: str | os.PathLike[str]) -> str:
    """Read a Python source file as text; :class:`DocumentLoadError` with one line otherwise."""
    name = os.fspath(path)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise DocumentLoadError(f"no such file: {name}") from None
    except PermissionError:
        raise DocumentLoadError(f"permission denied: {name}") from None
    except OSError as exc:
        raise DocumentLoadError(f"cannot read {name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DocumentLoadError(f"is a directory, not a file: {name}")
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except PermissionError:
        raise DocumentLoadError(f"permission denied: {name}") from None
    except OSError as exc:
        raise DocumentLoadError(f"cannot read {name}: {exc.strerror or exc}") from None
    if b"\x00" in data:
        nul = data.index(b"\x00")
        raise DocumentLoadError(f"{name} looks like a binary file (NUL byte at offset {nul})")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentLoadError(
            f"cannot decode {name} as UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


class DocumentStore:
    """Open documents by URI, plus files read from disk on demand.

    Documents the client has open are the truth; other files are loaded from disk
    and cached until their mtime or size changes.
    """

    def __init__(self) -> None:
        self._open: dict[str, Document] = {}
        self._by_path: dict[str, str] = {}  # normalised path -> uri of an open document
        self._disk: dict[str, tuple[int, int, Document]] = {}
        self._parser = new_parser()

    def __contains__(self, uri: str) -> bool:
        return uri in self._open

    def __iter__(self):
        return iter(list(self._open.values()))

    def open(self, uri: str, text: str, version: int | None = None) -> Document:
        doc = Document(uri, text, version, parser=self._parser)
        self._open[uri] = doc
        if doc.path is not None:
            self._by_path[_norm(doc.path)] = uri
        return doc

    def change(
        self, uri: str, changes: Sequence[tuple[Span | None, str]], version: int | None = None
    ) -> Document:
        doc = self._open.get(uri)
        if doc is None:
            raise DocumentEditError(f"document not open: {uri}")
        doc.apply_changes(changes, version)
        return doc

    def close(self, uri: str) -> None:
        doc = self._open.pop(uri, None)
        if doc is not None and doc.path is not None:
            self._by_path.pop(_norm(doc.path), None)

    def get(self, uri: str) -> Document | None:
        return self._open.get(uri)

    def get_or_load(self, uri_or_path: str | os.PathLike[str]) -> Document:
        """The open document for a URI/path, else the file read from disk."""
        if isinstance(uri_or_path, str) and uri_or_path in self._open:
            return self._open[uri_or_path]
        if isinstance(uri_or_path, str):
            path = uri_to_path(uri_or_path)
            if path is None:
                raise DocumentLoadError(f"document not open and not a file: {uri_or_path}")
        else:
            path = os.fspath(uri_or_path)
        key = _norm(path)
        uri = self._by_path.get(key)
        if uri is not None and uri in self._open:
            return self._open[uri]
        try:
            st = os.stat(path)
        except OSError:
            st = None
        cached = self._disk.get(key)
        if st is not None and cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        text = read_source_file(path)
        doc = Document(path_to_uri(path), text, None, parser=self._parser)
        if st is not None:
            self._disk[key] = (st.st_mtime_ns, st.st_size, doc)
        return doc

    def forget(self, uri_or_path: str) -> None:
        """Drop a cached disk copy (e.g. on a file-watch event)."""
        path = uri_to_path(uri_or_path) or uri_or_path
        self._disk.pop(_norm(path), None)


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))
