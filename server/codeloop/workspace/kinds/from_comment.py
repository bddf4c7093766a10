"""``from_comment``: a block of ``#`` lines at module or class level followed by a blank
line or the end of the file, describing code to write."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from tree_sitter import Node

from codeloop.workspace.examples import comment_examples, example_name
from codeloop.workspace.kinds.base import Kind, Notice, Offer, Scan
from codeloop.workspace.model import Intent
from codeloop.workspace.nodes import (
    TODO,
    Comment,
    expression_parser,
    is_pragma_or_header,
    node_text,
    one_line,
    scope_of,
    statements,
)

_CALL_NAME = re.compile(r"`?\b([A-Za-z_][\w.]*)\(")
_WORD = re.compile(r"[^\W\d_]{2,}")

_CODE_NODE_TYPES = frozenset(
    {
        "assignment",
        "augmented_assignment",
        "call",
        "import_statement",
        "import_from_statement",
        "function_definition",
        "class_definition",
        "return_statement",
        "if_statement",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "raise_statement",
        "pass_statement",
        "subscript",
        "attribute",
    }
)


def _comment_level(comment: Node) -> tuple[str, tuple[str, ...]]:
    """'module', 'class' (with the class chain), or 'other' (in a function or a compound statement).

    tree-sitter can attach a dedented comment to the block before it; a comment
    left of a block's statements is treated as belonging to the enclosing level.
    """
    col = comment.start_point.column
    node = comment.parent
    while node is not None:
        if node.type == "module":
            return "module", ()
        if node.type == "block":
            stmts = statements(node)
            if stmts and col < stmts[0].start_point.column:
                node = node.parent
                continue
            owner = node.parent
            if owner is not None and owner.type == "class_definition":
                return "class", scope_of(owner).classes + (node_text(owner.child_by_field_name("name")),)
            return "other", ()
        if node.type in ("ERROR",):
            node = node.parent
            continue
        if node.type == "class_definition":
            # a comment between `class X:` and the first statement of its body
            return "class", scope_of(node).classes + (node_text(node.child_by_field_name("name")),)
        if node.type in ("function_definition", "decorated_definition"):
            return "other", ()
        node = node.parent
    return "module", ()


def _looks_like_code(text_lines: Sequence[str]) -> bool:
    """True when the comment block is commented-out Python code, not prose."""
    body = textwrap.dedent("\n".join(text_lines)).strip()
    if not body:
        return False
    tree = expression_parser().parse(body.encode("utf-8"))
    if tree.root_node.has_error:
        return False
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in _CODE_NODE_TYPES:
            return True
        stack.extend(node.named_children)
    return False


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "comment"
    m = _CALL_NAME.search(first)
    if m:
        return m.group(1)
    sentence = re.split(r"(?<=[.!?:])\s", first, maxsplit=1)[0].rstrip(".:")
    words = sentence.split()
    title = " ".join(words[:6])
    return title if len(words) <= 6 else title + "\u2026"


def detect(scan: Scan) -> list[Intent]:
    doc = scan.doc
    blocks: list[list[Comment]] = []
    for c in scan.comments:
        if not c.standalone:
            continue
        if blocks and blocks[-1][-1].row == c.row - 1 and blocks[-1][-1].col == c.col:
            blocks[-1].append(c)
        else:
            blocks.append([c])
    out = []
    for block in blocks:
        last = block[-1]
        next_row = last.row + 1
        if next_row < doc.line_count and doc.line_text(next_row).strip():
            continue  # attached to the code below
        block = [c for c in block if not is_pragma_or_header(c, 0)]
        if not block:
            continue
        level, classes = _comment_level(block[0].node)
        if level == "other":
            continue
        texts = [c.text for c in block]
        if TODO.match(texts[0].strip()):
            continue  # a TODO block: reported as a todo
        joined = "\n".join(texts)
        lowered = joined.lower()
        if block[0].row <= 3 and ("copyright" in lowered or "spdx-license" in lowered or "license" in lowered):
            continue
        examples = comment_examples([(c.row, c.text) for c in block])
        if not examples:
            if len(_WORD.findall(joined)) < 3:
                continue  # a section header or decoration, not a description
            if _looks_like_code(texts):
                continue  # commented-out code
        name = example_name(examples) or _title(joined)
        first_line = next((t.strip() for t in texts if t.strip()), "")
        summary = one_line(first_line, 80)
        if examples:
            summary += f" ({len(examples)} example{'s' if len(examples) != 1 else ''})"
        out.append(
            Intent(
                kind=KIND.name,
                name=name,
                summary=summary,
                span=doc.span_of(block[0].node.start_byte, last.node.end_byte),
                path=doc.path,
                comment=joined,
                examples=examples,
                is_method=level == "class",
                class_name=".".join(classes) or None,
                extra={"indent": " " * block[0].col},
            )
        )
    return out


KIND = Kind(
    name="from_comment",
    description="a comment that describes code to write",
    per_document=detect,
    writes="below",
    offer=Offer("Write code for this comment", "codeloop.implement", "refactor.rewrite.codeloop"),
    notice=Notice("codeloop.fromComment", "information", "This comment describes code to write: {summary}"),
)
