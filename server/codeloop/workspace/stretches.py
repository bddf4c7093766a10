"""Parsing a stretch of whole top-level statements alone, in place of the whole file.

After a keystroke, re-parsing a long file (even incrementally) costs time in proportion to
the file: ~1 ms for 10,000 lines, paid by the code action that follows every edit. The
statements an analysis reads are usually one function. tree-sitter parses a byte range of
the source on its own (``included_ranges``), keeping the file's offsets and points, so such
a parse can stand in for the file's when it is known to agree with it there.

It agrees when the old parse had no syntax error, and every stretch of top-level statements
that holds an edit since then parses alone, without error, into the same statements at the
same offsets as the old tree (edited with ``tree.edit``) says: the text outside those
stretches is the old parse's, and nothing inside them reaches out of them.

Pending edits are kept as byte intervals of the current text, each marked once its stretch
has been checked (a check stays valid: later edits elsewhere only move it).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Parser, Range, Tree

MAX_PENDING = 256  # edit intervals tracked between two full parses; past it, parse the file


@dataclass
class Pending:
    """Bytes written by edits not parsed yet (offsets of the current text)."""

    start: int
    end: int
    checked: bool = False


def after_edit(pending: list[Pending] | None, start: int, old_end: int, new_end: int) -> list[Pending] | None:
    """``pending`` moved past one edit, with the edit's own interval added (intervals it
    touches merge with it and lose their check). None when there are too many to track."""
    if pending is None:
        return None
    delta = new_end - old_end
    merged = Pending(start, new_end)
    out: list[Pending] = []
    for p in pending:
        if p.end < start:
            out.append(p)
        elif p.start > old_end:
            out.append(Pending(p.start + delta, p.end + delta, p.checked))
        else:
            merged.start = min(merged.start, p.start)
            merged.end = max(merged.end, p.end + delta if p.end >= old_end else new_end)
    out.append(merged)
    return out if len(out) <= MAX_PENDING else None


def statements_over(root: Node, lo: int, hi: int) -> tuple[Node, Node] | None:
    """The first and last top-level nodes that overlap bytes ``lo..hi`` (at least the one
    that holds ``lo``), or None when no node ends after ``lo``."""
    count = root.child_count
    last_child = root.child(count - 1) if count else None
    # first_child_for_byte hands back a broken node when no child ends after the byte
    if last_child is None or last_child.end_byte <= lo:
        return None
    first = root.first_child_for_byte(lo)
    if first is None:
        return None
    last = first
    while (after := last.next_sibling) is not None and after.start_byte < hi:
        last = after
    return first, last


def parse_alone(parser: Parser, source: bytes, first: Node, last: Node) -> Tree | None:
    """A parse of the top-level statements ``first..last`` of ``source`` on their own (with
    ``parser``, whose included ranges it sets); None unless it has no error and finds the
    same statements at the same offsets. A stretch must start a line (the scanner's
    indentation starts there)."""
    if first.start_point.column != 0:
        return None
    parser.included_ranges = [Range(first.start_point, last.end_point, first.start_byte, last.end_byte)]
    tree = parser.parse(source)
    root = tree.root_node
    if root.has_error:
        return None
    expected: list[tuple[str, int, int]] = []
    node: Node | None = first
    while node is not None:
        expected.append((node.type, node.start_byte, node.end_byte))
        if node == last:
            break
        node = node.next_sibling
    found = [(n.type, n.start_byte, n.end_byte) for n in root.children]
    return tree if found == expected else None


def check(parser: Parser, source: bytes, root: Node, p: Pending) -> bool:
    """Whether the statements holding ``p`` (strictly inside them) parse alone as in ``root``."""
    if not p.checked:
        over = statements_over(root, p.start, max(p.end, p.start + 1))
        p.checked = (over is not None and over[0].start_byte < p.start and p.end < over[1].end_byte
                     and parse_alone(parser, source, *over) is not None)
    return p.checked


__all__ = ["MAX_PENDING", "Pending", "after_edit", "check", "parse_alone", "statements_over"]
