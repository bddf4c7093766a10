"""Syntax errors, as tree-sitter sees them: ERROR and MISSING nodes, and empty blocks.

Checked one top-level statement at a time with a cache by exact bytes, so after an edit
only the statements that changed are checked again (see :func:`syntax_issues`).
"""

from __future__ import annotations

from dataclasses import replace

from tree_sitter import Node, Query, QueryCursor

from codeloop.workspace.document import PY_LANGUAGE, Document
from codeloop.workspace.model import Span, SyntaxIssue
from codeloop.workspace.nodes import node_text, statements

_EMPTY_BLOCKS = Query(
    PY_LANGUAGE,
    """
    [(function_definition body: (block) @body)
     (class_definition body: (block) @body)
     (if_statement consequence: (block) @body)
     (for_statement body: (block) @body)
     (while_statement body: (block) @body)
     (with_statement body: (block) @body)]
    """,
)


def syntax_issues(doc: Document) -> list[SyntaxIssue]:
    """Syntax errors: one per ERROR node (outermost only) and per MISSING node.

    tree-sitter accepts a compound statement with an empty body (``def f():`` followed
    by a dedented line), which Python rejects; those are reported too.

    Checked one top-level statement at a time. One without errors is remembered by its
    type and exact bytes (from the start of its line), so after an edit only the statements
    that changed are checked again; one with errors is always checked again (the same bytes
    can recover from an error into different trees). The result equals a check of the
    whole tree.
    """
    root = doc.tree.root_node
    if root.is_error or root.is_missing:  # no statements to go by
        blocks, errors = _syntax_issues_in(doc, root)
        return sorted(blocks + errors, key=lambda s: (s.span.start_line, s.span.start_col))
    src = doc.source
    cache: dict = doc.cache.get("syntax.statements", {})  # type: ignore[assignment]
    fresh: dict = {}
    blocks: list[SyntaxIssue] = []
    errors: list[SyntaxIssue] = []
    for node in root.children:
        if node.has_error or node.is_missing:
            found = _syntax_issues_in(doc, node)
            blocks.extend(found[0])
            errors.extend(found[1])
            continue
        row, column = node.start_point
        key = (node.type, src[node.start_byte - column : node.end_byte])
        hit = cache.get(key)
        if hit is None:
            hit = tuple(_shift_issue(i, -row) for i in _syntax_issues_in(doc, node)[0])
        fresh[key] = hit
        if hit:
            blocks.extend(_shift_issue(i, row) for i in hit)
    doc.cache["syntax.statements"] = fresh  # keep only what this version uses
    out = blocks + errors  # the order of a whole-tree check (ties keep it through the sort)
    out.sort(key=lambda s: (s.span.start_line, s.span.start_col))
    return out


def _shift_issue(issue: SyntaxIssue, delta: int) -> SyntaxIssue:
    if not delta:
        return issue
    span = issue.span
    return replace(issue, span=Span(span.start_line + delta, span.start_col, span.end_line + delta, span.end_col))


def _syntax_issues_in(doc: Document, top: Node) -> tuple[list[SyntaxIssue], list[SyntaxIssue]]:
    """(empty blocks, ERROR and MISSING nodes) in ``top``'s subtree, each in tree order."""
    blocks: list[SyntaxIssue] = []
    for body in QueryCursor(_EMPTY_BLOCKS).captures(top).get("body", []):
        # cheap test first: most blocks start with a statement
        first = body.named_child(0) if body.named_child_count else None
        if first is None or first.type == "comment" and not statements(body):
            header = body.parent
            span = doc.span_of(header.start_byte, body.start_byte) if header is not None else doc.node_span(body)
            blocks.append(SyntaxIssue("syntax error: expected an indented block", span))
    errors: list[SyntaxIssue] = []
    if not (top.has_error or top.is_missing):
        return blocks, errors
    stack = [top]
    while stack:
        node = stack.pop()
        if node.is_missing:
            what = node.type if not node.is_named else node.type.replace("_", " ")
            label = f"'{what}'" if not node.is_named else what
            errors.append(SyntaxIssue(f"syntax error: missing {label}", doc.node_span(node)))
            continue
        if node.is_error:
            snippet = node_text(node).strip().splitlines()[0] if node_text(node).strip() else ""
            if len(snippet) > 40:
                snippet = snippet[:39] + "\u2026"
            msg = f"syntax error: unexpected '{snippet}'" if snippet else "syntax error"
            errors.append(SyntaxIssue(msg, doc.node_span(node)))
            continue
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return blocks, errors
