"""Where definitions are in Python source, by :mod:`ast`: the member at a line, the line of a member.

Used to turn an editor position into a test-generation target (``path.py::Class.method``)
and a target back into the line a diagnostic belongs on.
"""

from __future__ import annotations

import ast

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _lines(node: Definition) -> tuple[int, int]:
    """1-based first (decorators included) and last line of a definition."""
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return first, node.end_lineno or node.lineno


def member_at(text: str, line: int) -> str | None:
    """The innermost top-level function, class or method (``Class.method``) at 0-based ``line``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lineno = line + 1
    for node in tree.body:
        if not isinstance(node, _DEFS):
            continue
        first, last = _lines(node)
        if not first <= lineno <= last:
            continue
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    a, b = _lines(sub)
                    if a <= lineno <= b:
                        return f"{node.name}.{sub.name}"
        return node.name
    return None


def definition_line(source: str | None, qualname: str, fallback: int) -> int:
    """0-based line of ``def <qualname>`` (``Class.method`` too) in ``source``, else ``fallback - 1``
    (``fallback`` is 1-based, as test reports give it)."""
    try:
        tree = ast.parse(source or "")
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    body: list[ast.stmt] = tree.body
    node: Definition | None = None
    for part in qualname.split("."):
        node = next((n for n in body if isinstance(n, _DEFS) and n.name == part), None)
        if node is None:
            break
        body = node.body
    if node is not None:
        return node.lineno - 1
    return max(0, fallback - 1)
