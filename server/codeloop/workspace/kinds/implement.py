"""``implement``: a function or method whose body is only a docstring and/or ``...``,
``pass`` or ``raise NotImplementedError(...)``."""

from __future__ import annotations

from tree_sitter import Node

from codeloop.workspace.kinds.base import FunctionSite, Kind, Notice, Offer, Scan
from codeloop.workspace.model import Intent
from codeloop.workspace.nodes import docstring_node, node_text, statements


def _is_not_implemented(stmt: Node) -> bool:
    if stmt.type != "raise_statement":
        return False
    kids = stmt.named_children
    if not kids:
        return False
    target = kids[0]
    if target.type == "call":
        target = target.child_by_field_name("function")
    name = node_text(target)
    return name == "NotImplementedError" or name.endswith(".NotImplementedError")


def is_stub_body(block: Node) -> bool:
    stmts = statements(block)
    if not stmts or block.has_error:
        return False
    doc = docstring_node(block)
    rest = stmts[1:] if doc is not None else stmts
    for stmt in rest:
        if stmt.type == "pass_statement":
            continue
        if stmt.type == "expression_statement" and [c.type for c in stmt.named_children] == ["ellipsis"]:
            continue
        if _is_not_implemented(stmt):
            continue
        return False
    return True


def detect(scan: Scan, site: FunctionSite) -> list[Intent]:
    body, node = site.body, site.fn.node
    if body is None or scan.is_stub_file or site.skip_decorated or not is_stub_body(body):
        return []
    what = []
    if site.docstring:
        what.append("docstring")
    if site.examples:
        n = len(site.examples)
        what.append(f"{n} example{'s' if n != 1 else ''}")
    if site.comment:
        what.append("comment")
    summary = "stub to implement" + (f" ({', '.join(what)})" if what else "")
    return [
        Intent(
            kind=KIND.name,
            name=site.fn.qualname,
            summary=summary,
            span=site.span,
            body_span=scan.doc.node_span(body),
            extra={"indent": " " * body.start_point.column} if body.start_point.row > node.start_point.row else {},
            **site.common,
        )
    ]


KIND = Kind(
    name="implement",
    description="a stub to implement",
    per_function=detect,
    writes="body",
    offer=Offer("Implement {name}", "codeloop.implement", "refactor.rewrite.codeloop"),
    notice=Notice("codeloop.implement", "information", "{name} is a stub: codeloop can implement it"),
)
