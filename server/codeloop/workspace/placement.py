"""Where a piece of code without a place goes in a document (the chat's "apply" button).

One function or class the file already defines replaces that definition; anything else
is appended at the end of the file with PEP 8 spacing.
"""

from __future__ import annotations

from typing import Any

from codeloop.workspace.document import Document, new_parser, utf16_len
from codeloop.workspace.model import Span


def placement(doc: Document, text: str) -> tuple[Span, str]:
    """The span ``text`` replaces in ``doc`` (empty at the end: an insertion) and the text to put there."""
    name = _single_definition_name(text)
    if name is not None:
        for node in doc.tree.root_node.children:
            if _definition_name(node, doc.source) == name:
                return doc.node_span(node), text.strip("\n")
    last = max(doc.line_count - 1, 0)
    end = utf16_len(doc.line_text(last))
    source = doc.text
    if not source.strip():
        prefix = ""
    else:  # one blank line before a statement, two before a definition (PEP 8)
        trailing = len(source) - len(source.rstrip("\n"))
        prefix = "\n" * max(0, (3 if _needs_two(text) else 2) - trailing)
    body = text if text.endswith("\n") else text + "\n"
    return Span(last, end, last, end), prefix + body


def _needs_two(text: str) -> bool:
    return text.lstrip().startswith(("def ", "async def ", "class ", "@"))


def _single_definition_name(text: str) -> str | None:
    source = text.encode("utf-8", "surrogatepass")
    tree = new_parser().parse(source)
    if tree.root_node.has_error:
        return None
    defs = [n for n in tree.root_node.children if n.type != "comment"]
    if len(defs) != 1:
        return None
    return _definition_name(defs[0], source)


def _definition_name(node: Any, source: bytes) -> str | None:
    if node.type == "decorated_definition":
        node = node.child_by_field_name("definition")
        if node is None:
            return None
    if node.type not in ("function_definition", "class_definition"):
        return None
    name = node.child_by_field_name("name")
    return source[name.start_byte:name.end_byte].decode("utf-8", "surrogatepass") if name is not None else None
