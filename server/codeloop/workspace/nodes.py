"""Reading a tree-sitter tree of Python: the node helpers every intent kind shares.

Functions with their scope, decorators, signature and docstring; comments with their
position; short expressions parsed on their own (examples in comments and docstrings).
Structure comes from tree-sitter queries; regular expressions only read comment text.
"""

from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass

from tree_sitter import Node, Parser, Point, Query, QueryCursor

from codeloop.workspace.document import PY_LANGUAGE, Document, new_parser
from codeloop.workspace.model import Param, Span

FUNCTIONS = Query(
    PY_LANGUAGE,
    """
    (function_definition
      name: (identifier) @name
      parameters: (parameters) @params
      body: (block) @body) @def
    """,
)
COMMENTS = Query(PY_LANGUAGE, "(comment) @comment")
CALLS = Query(PY_LANGUAGE, "(call function: (_) @fn) @call")

# TODO/FIXME markers (a todo intent; a comment block that is a TODO is not a description).
TODO = re.compile(r"\b(TODO|FIXME)\b\s*(?:\([^)]*\))?\s*[:\-]?\s*(.*)")
PRAGMA = re.compile(
    r"^(type:|noqa\b|pylint:|mypy:|fmt:|pragma:|isort:|ruff:|pyright:|nosec\b|-\*-|coding[:=]|vim:)",
    re.IGNORECASE,
)

# Definitions that are declarations, not code to write or test.
SKIP_DECORATORS = re.compile(r"^@(?:[\w.]+\.)?(?:overload|abstractmethod|abstractproperty)\b")


def node_text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


@dataclass
class Scope:
    """Where a definition lives: the enclosing classes, or inside a function."""

    classes: tuple[str, ...]
    in_function: bool


def scope_of(node: Node) -> Scope:
    classes: list[str] = []
    in_function = False
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            in_function = True
        elif parent.type == "class_definition":
            classes.append(node_text(parent.child_by_field_name("name")))
        parent = parent.parent
    return Scope(tuple(reversed(classes)), in_function)


def outer_node(defn: Node) -> Node:
    """The decorated_definition around a definition, or the definition itself."""
    parent = defn.parent
    return parent if parent is not None and parent.type == "decorated_definition" else defn


def decorators(defn: Node) -> tuple[str, ...]:
    wrapper = outer_node(defn)
    if wrapper is defn:
        return ()
    return tuple(node_text(c) for c in wrapper.children if c.type == "decorator")


def statements(block: Node) -> list[Node]:
    return [c for c in block.named_children if c.type != "comment"]


def docstring_node(block: Node) -> Node | None:
    stmts = statements(block)
    if stmts and stmts[0].type == "expression_statement":
        kids = stmts[0].named_children
        if len(kids) == 1 and kids[0].type in ("string", "concatenated_string"):
            return kids[0]
    return None


_SIMPLE_STRING = re.compile(r"""^[rRuU]?(\"\"\"|'''|"|')(.*)\1$""", re.DOTALL)


def string_value(node: Node) -> str:
    raw = node_text(node)
    if node.type == "string" and "\\" not in raw:
        m = _SIMPLE_STRING.match(raw)
        if m is not None:
            return m.group(2)  # no escapes: the text between the quotes
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if isinstance(value, str):
        return value
    return "".join(node_text(c) for c in node.named_children if c.type == "string_content")


def params_of(params: Node) -> tuple[Param, ...]:
    out: list[Param] = []
    keyword_only = False
    for p in params.named_children:
        t = p.type
        if t == "identifier":
            out.append(Param(node_text(p), kind="keyword_only" if keyword_only else "positional"))
        elif t in ("typed_parameter", "default_parameter", "typed_default_parameter"):
            name_node = p.child_by_field_name("name") or (p.named_children[0] if p.named_children else None)
            ann = node_text(p.child_by_field_name("type")) or None
            default = node_text(p.child_by_field_name("value")) or None
            kind = "keyword_only" if keyword_only else "positional"
            if name_node is not None and name_node.type == "list_splat_pattern":
                kind, keyword_only = "var_positional", True
            elif name_node is not None and name_node.type == "dictionary_splat_pattern":
                kind = "var_keyword"
            name = node_text(name_node).lstrip("*")
            out.append(Param(name, ann, default, kind))
        elif t == "list_splat_pattern":
            out.append(Param(node_text(p).lstrip("*"), kind="var_positional"))
            keyword_only = True
        elif t == "dictionary_splat_pattern":
            out.append(Param(node_text(p).lstrip("*"), kind="var_keyword"))
        elif t == "keyword_separator":
            keyword_only = True
    return tuple(out)


def one_line(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


_per_thread = threading.local()  # a tree-sitter Parser is not safe to share between threads


def expression_parser() -> Parser:
    """The calling thread's parser for short snippets (examples, commented-out code), made on
    first use: intents are found on worker threads as well as on the event loop's."""
    parser = getattr(_per_thread, "parser", None)
    if parser is None:
        parser = _per_thread.parser = new_parser()
    return parser


def parse_expression(text: str) -> Node | None:
    """The single expression ``text`` consists of, or None (tree-sitter, no errors)."""
    tree = expression_parser().parse(text.encode("utf-8"))
    root = tree.root_node
    if root.has_error or len(root.named_children) != 1:
        return None
    stmt = root.named_children[0]
    if stmt.type != "expression_statement" or len(stmt.named_children) != 1:
        return None
    return stmt.named_children[0]


def first_call(expr: Node) -> Node | None:
    for _, match in QueryCursor(CALLS).matches(expr):
        call = match["call"][0]
        return call
    return None


@dataclass
class Comment:
    node: Node
    row: int
    col: int  # byte column of '#'
    text: str  # without the leading '#' and one space
    standalone: bool  # nothing but whitespace before it on its line


def query_cursor(query: Query, rows: tuple[int, int] | None) -> QueryCursor:
    """A query cursor, limited to lines ``rows[0]..rows[1]`` when given."""
    found = QueryCursor(query)
    if rows is not None:
        found.set_point_range(Point(max(rows[0], 0), 0), Point(rows[1] + 1, 0))
    return found


def make_comment(node: Node, src: bytes) -> Comment:
    row, col = node.start_point
    line_start = node.start_byte - col
    standalone = src[line_start : node.start_byte].strip() == b""
    body = node_text(node)[1:]
    if body.startswith(" "):
        body = body[1:]
    return Comment(node, row, col, body, standalone)


def comments_in(doc: Document, rows: tuple[int, int] | None = None) -> list[Comment]:
    src = doc.source
    nodes = query_cursor(COMMENTS, rows).captures(doc.tree.root_node).get("comment", [])
    out = [make_comment(node, src) for node in nodes]
    out.sort(key=lambda c: c.node.start_byte)
    return out


def comment_line(doc: Document, row: int) -> Comment | None:
    """The comment that is alone on line ``row`` (after indentation), if any."""
    line = doc.line_text(row)
    stripped = line.lstrip()
    if not stripped.startswith("#"):
        return None
    col = len(line[: len(line) - len(stripped)].encode("utf-8"))
    node = doc.tree.root_node.descendant_for_point_range(Point(row, col), Point(row, col + 1))
    if node is None or node.type != "comment" or node.start_point != (row, col):
        return None
    return make_comment(node, doc.source)


def is_pragma_or_header(c: Comment, first_code_row: int) -> bool:
    t = c.text.strip()
    if c.row <= 1 and (node_text(c.node).startswith("#!") or re.search(r"coding[:=]", t)):
        return True
    return bool(PRAGMA.match(t))


@dataclass
class Function:
    node: Node
    outer: Node
    name: str
    qualname: str
    scope: Scope
    decorators: tuple[str, ...]


def functions_in(doc: Document, rows: tuple[int, int] | None = None) -> list[Function]:
    out = []
    for _, match in query_cursor(FUNCTIONS, rows).matches(doc.tree.root_node):
        node = match["def"][0]
        scope = scope_of(node)
        name = node_text(match["name"][0])
        qual = ".".join((*scope.classes, name))
        out.append(Function(node, outer_node(node), name, qual, scope, decorators(node)))
    out.sort(key=lambda f: f.node.start_byte)
    return out


def signature(doc: Document, fn: Node) -> str:
    body = fn.child_by_field_name("body")
    end = body.start_byte if body is not None else fn.end_byte
    sig = doc.source[fn.start_byte : end].decode("utf-8", "replace").rstrip()
    if sig.endswith(":"):
        sig = sig[:-1].rstrip()
    return sig


def comment_above(doc: Document, outer: Node) -> tuple[str | None, Span | None]:
    """The comment lines right above a definition (and its decorators), if any."""
    row = outer.start_point.row - 1
    found: list[Comment] = []
    while row >= 0:
        c = comment_line(doc, row)
        if c is None or is_pragma_or_header(c, 0):
            break
        found.append(c)
        row -= 1
    if not found:
        return None, None
    found.reverse()
    text = "\n".join(c.text for c in found)
    return text, doc.span_of(found[0].node.start_byte, found[-1].node.end_byte)
