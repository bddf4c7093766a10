"""Byte columns (what the index stores) to UTF-16 columns (what LSP speaks), and back.

The index keeps tree-sitter's byte columns; an editor counts UTF-16 code units. Converting
needs the line's text: an open document's text when the caller has one (it is what the
editor shows), else the file on disk, read once per :class:`LineSource`; a definition's
name needs none (only ASCII precedes it on its line).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from codeloop.workspace.document import utf16_len


def utf16_column(line: bytes, byte_col: int) -> int:
    """The UTF-16 column of byte ``byte_col`` of ``line`` (past the end: the line's length)."""
    head = line[:byte_col]
    if head.isascii():
        return len(head)
    return utf16_len(head.decode("utf-8", "replace"))


def byte_column(line: str, utf16_col: int) -> int:
    """The byte column of UTF-16 column ``utf16_col`` of ``line`` (clamped to its end)."""
    if line.isascii():
        return min(utf16_col, len(line))
    units = 0
    for i, ch in enumerate(line):
        if units >= utf16_col:
            return len(line[:i].encode("utf-8", "surrogatepass"))
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line.encode("utf-8", "surrogatepass"))


class LineSource:
    """Lines of workspace files by (relative path, 1-based line), for one request.

    ``open_text(absolute path)`` gives an open document's UTF-8 text (None: read the file)."""

    def __init__(self, root: Path, open_text: Callable[[str], bytes | None] | None = None) -> None:
        self.root = root
        self.open_text = open_text or (lambda _path: None)
        self._lines: dict[str, list[bytes]] = {}

    def path(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    def line(self, rel: str, line: int) -> bytes:
        lines = self._lines.get(rel)
        if lines is None:
            lines = self._lines[rel] = self._read(rel)
        return lines[line - 1] if 0 < line <= len(lines) else b""

    def _read(self, rel: str) -> list[bytes]:
        path = self.path(rel)
        data = self.open_text(path)
        if data is None:
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                return []
        return data.split(b"\n")  # tree-sitter's rows end at LF only

    def span(self, rel: str, line: int, byte_col: int, name: str) -> tuple[int, int, int]:
        """(0-based line, UTF-16 start, UTF-16 end) of ``name`` at byte ``byte_col`` of ``line``."""
        text = self.line(rel, line)
        start = utf16_column(text, byte_col)
        return line - 1, start, start + utf16_len(name)

    def definition_span(self, rel: str, line: int, byte_col: int, name: str) -> tuple[int, int, int]:
        """:meth:`span` of a definition's name (a class, function or method) without reading
        its file: what precedes the name on its line is indentation and ``def``, ``async
        def`` or ``class`` (ASCII: a byte is a UTF-16 unit). Line 1 is read (a BOM)."""
        if line <= 1:
            return self.span(rel, line, byte_col, name)
        return line - 1, byte_col, byte_col + utf16_len(name)


__all__ = ["LineSource", "byte_column", "utf16_column"]
