"""One Python file's facts, read from its tree-sitter tree: definitions (the module, classes,
functions, methods) with signatures, docstrings, decorators and line ranges; imports and the
dotted names they bind; references (calls, attribute uses, name uses) with the definition
they occur in and, when the file itself tells, the dotted name they refer to.

The facts of a file depend only on its module name and its bytes, so an index updated file
by file equals one built from scratch. One query walks the tree once in C; Python only
looks at the captured nodes. Local variables and parameters of a function, ``self``, and
builtins the module does not rebind are not references worth keeping and are dropped.
"""

from __future__ import annotations

import builtins
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from operator import attrgetter

from tree_sitter import Node, Parser, Query, QueryCursor, Tree

from codeloop.workspace.document import PY_LANGUAGE

_PATTERNS = """
(function_definition) @def
(class_definition) @def
(import_statement) @import
(import_from_statement) @import
(keyword_argument name: (identifier) @skip)
(dotted_name (identifier) @skip)
(aliased_import alias: (identifier) @skip)
; the bindings, one pattern of alternatives (tried once a node, not 17 times: -4 % of the query)
[
    (parameters (identifier) @local)
    (default_parameter name: (identifier) @local)
    (typed_parameter (identifier) @local)
    (typed_default_parameter name: (identifier) @local)
    (list_splat_pattern (identifier) @local)
    (dictionary_splat_pattern (identifier) @local)
    (lambda_parameters (identifier) @local)
    (assignment left: (identifier) @local)
    (assignment left: (pattern_list (identifier) @local))
    (assignment left: (tuple_pattern (identifier) @local))
    (augmented_assignment left: (identifier) @local)
    (for_statement left: (identifier) @local)
    (for_statement left: (pattern_list (identifier) @local))
    (for_in_clause left: (identifier) @local)
    (for_in_clause left: (pattern_list (identifier) @local))
    (as_pattern_target (identifier) @local)
    (named_expression name: (identifier) @local)
]
(global_statement (identifier) @global)
(nonlocal_statement (identifier) @global)
(identifier) @name
"""
_BUILTINS = frozenset(dir(builtins))
_QUOTES = re.compile(r"""^[rRbBuUfF]{0,2}("{3}|'{3}|"|')""")
MAX_DOC = 2000
_START = attrgetter("start_byte")
MAX_SIGNATURE = 300
MAX_WORDS = 200
_END = 1 << 62  # past any byte offset
_SPACE = frozenset(" \t\r\n\f\\")  # what may stand between an object and its "."
# An attribute's name is read from the source, not captured by the query (its captures cost
# more): a name right after a "." is one, as is a name after a "." and blanks on one line.
_SPACED_DOT = re.compile(r"\.[ \t\f]+(?=[A-Za-z_])")


@dataclass
class Definition:
    """A module, class, function or method. Lines are 1-based; ``col`` is the byte column
    of the name; ``parent`` is the index of the enclosing definition (-1 for the module)."""

    kind: str  # module | class | function | method
    name: str
    qualname: str
    parent: int
    line: int
    col: int
    start_line: int  # decorators included
    end_line: int
    signature: str = ""
    doc: str = ""
    decorators: str = ""  # one per line, without the "@"
    is_test: bool = False
    words: str = ""  # the names used directly inside (searched as "code")


# A reference: (definition index, name, dotted target or None, kind, line, byte column);
# kind is "call", "attr", "name" or "import".
Reference = tuple[int, str, "str | None", str, int, int]


@dataclass
class FileFacts:
    module: str
    defs: list[Definition] = field(default_factory=list)
    imports: list[tuple[str, str, int]] = field(default_factory=list)  # (bound name, dotted target, line)
    refs: list[Reference] = field(default_factory=list)


@cache
def load_query() -> Query:
    """The one query of the extraction, compiled on first use (a search that parses nothing
    does not pay for it)."""
    return Query(PY_LANGUAGE, _PATTERNS)


Text = Callable[[Node], str]  # a node's text (read from the file's decoded source)

# A query call holds the interpreter lock until it returns (~40 ms over a 10,000-line file),
# so on a thread that shares the lock (the server's index thread) a long file is queried a
# stretch of top-level statements at a time: the event loop gets the lock in between.
CHUNK_BYTES = 32_768


def _captures(root: Node, stretches: bool) -> dict[str, list[Node]]:
    """The query's captures over ``root``; with ``stretches``, over a long file, merged from
    stretches of whole top-level statements (only whitespace lies between them, so no
    captured node is in two). Worker processes query in one call (~5 % less work)."""
    cursor = QueryCursor(load_query())
    if not stretches or root.end_byte - root.start_byte <= CHUNK_BYTES:
        return cursor.captures(root)
    merged: dict[str, list[Node]] = {}
    children = root.children
    first = 0
    while first < len(children):
        last = first
        limit = children[first].start_byte + CHUNK_BYTES
        while last + 1 < len(children) and children[last + 1].end_byte <= limit:
            last += 1
        cursor.set_byte_range(children[first].start_byte, children[last].end_byte)
        for name, nodes in cursor.captures(root).items():
            merged.setdefault(name, []).extend(nodes)
        first = last + 1
    return merged


def _squash(text: str, limit: int = MAX_SIGNATURE) -> str:
    text = " ".join(text.split())
    text = text.replace("( ", "(").replace(" )", ")").replace(", )", ")").replace(",)", ")")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cleandoc(raw: str) -> str:
    """A docstring's text: quotes and the common indentation removed."""
    m = _QUOTES.match(raw)
    if not m:
        return ""
    quote = m.group(1)
    body = raw[m.end():]
    if body.endswith(quote):
        body = body[: -len(quote)]
    lines = body.expandtabs().splitlines()
    if len(lines) <= 1:
        return lines[0].strip()[:MAX_DOC] if lines else ""
    cut = _END
    for ln in lines[1:]:
        rest = ln.lstrip()
        if rest and len(ln) - len(rest) < cut:
            cut = len(ln) - len(rest)
    if cut == _END:
        cut = 0
    lines = [lines[0].strip()] + [ln[cut:].rstrip() for ln in lines[1:]]
    return "\n".join(lines).strip()[:MAX_DOC]


def _docstring(body: Node | None, text: Text) -> str:
    if body is None:
        return ""
    for i in range(body.named_child_count):  # not named_children: a body can be long
        child = body.named_child(i)
        if child is None or child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_child_count == 1:
            first = child.named_children[0]
            if first.type == "string":
                return _cleandoc(text(first))
        return ""
    return ""


def _signature(node: Node, is_class: bool, text: Text) -> str:
    if is_class:
        supers = node.child_by_field_name("superclasses")
        return _squash(text(supers)) if supers is not None else ""
    params = node.child_by_field_name("parameters")
    sig = text(params) if params is not None else ""
    ret = node.child_by_field_name("return_type")
    if ret is not None:
        sig += " -> " + text(ret)
    return _squash(sig)


def _package_of(module: str, is_init: bool) -> list[str]:
    parts = module.split(".") if module else []
    return parts if is_init else parts[:-1]


def _imports(node: Node, package: list[str], text: Text) -> list[tuple[str, str, Node]]:
    """(bound name, dotted target, the name's node) of one import statement."""
    out: list[tuple[str, str, Node]] = []
    if node.type == "import_statement":
        for item in node.named_children:
            if item.type == "dotted_name":
                first = item.named_children[0]
                out.append((text(first), text(first), first))
            elif item.type == "aliased_import":
                name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name is not None and alias is not None:
                    out.append((text(alias), text(name), alias))
        return out
    module_node = node.child_by_field_name("module_name")
    base = text(module_node) if module_node is not None else ""
    if module_node is not None and module_node.type == "relative_import":
        dots = len(base) - len(base.lstrip("."))
        rest = base[dots:]
        anchor = package[: len(package) - (dots - 1)] if dots - 1 <= len(package) else []
        base = ".".join([*anchor, rest] if rest else anchor)
    for item in node.named_children:
        if module_node is not None and item.start_byte == module_node.start_byte:
            continue
        if item.type == "dotted_name":
            name = text(item)
            out.append((name.split(".")[-1], f"{base}.{name}" if base else name, item.named_children[-1]))
        elif item.type == "aliased_import":
            name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
            if name is not None and alias is not None:
                out.append((text(alias), f"{base}.{text(name)}" if base else text(name), alias))
        elif item.type == "wildcard_import":
            out.append(("*", base, item))
    return out


class _Scopes:
    """The innermost definition around a byte offset (definitions nest properly)."""

    def __init__(self, starts: list[int], ends: list[int], parents: list[int]) -> None:
        self.starts, self.ends, self.parents = starts, ends, parents

    def at(self, offset: int) -> int:
        i = bisect_right(self.starts, offset) - 1
        while i > 0 and not (self.starts[i] <= offset < self.ends[i]):
            i = self.parents[i]
        return max(i, 0)


def extract(source: bytes, module: str, *, is_init: bool = False, is_test_file: bool = False,
            parser: Parser, tree: Tree | None = None, stretches: bool = False) -> FileFacts:
    """The facts of one file (``module``: its dotted name from the workspace root); ``tree``
    is ``source`` already parsed (the editor's), else it is parsed here. ``stretches``: a
    long file is queried by stretches (on a thread that shares the interpreter lock)."""
    if tree is None:
        tree = parser.parse(source)
    root = tree.root_node
    caps = _captures(root, stretches)
    facts = FileFacts(module)
    # Names are sliced from the source decoded as Latin-1, where a character is a byte (so
    # byte offsets index it): cheaper than decoding each node's bytes. In a file that is not
    # ASCII, a slice with other bytes is decoded again as what it is, UTF-8.
    plain = source.decode("latin-1")
    wide = not source.isascii()

    def text_of(node: Node) -> str:
        text = plain[node.start_byte:node.end_byte]
        return _utf8(text) if wide and not text.isascii() else text
    last_line = root.end_point[0] + 1
    mod_name = module.rpartition(".")[2] if module else ""
    facts.defs.append(Definition("module", mod_name, module, -1, 1, 0, 1, last_line, doc=_docstring(root, text_of)))

    # Definitions, in document order, each with its parent.
    nodes = sorted(caps.get("def", []), key=_START)
    starts, ends, parents = [root.start_byte], [root.end_byte], [-1]
    for node in nodes:
        starts.append(node.start_byte)
        ends.append(node.end_byte)
        parents.append(-1)
    scopes = _Scopes(starts, ends, parents)
    skip = {n.start_byte for n in caps.get("skip", [])}
    for i, node in enumerate(nodes, start=1):
        p = i - 1  # the previous definition, or one around it, or the module
        while p > 0 and not (starts[p] <= node.start_byte < ends[p]):
            p = parents[p]
        parents[i] = p
        parent = facts.defs[p]
        name_node = node.child_by_field_name("name")
        name = ""
        if name_node is not None:
            name = text_of(name_node)
            skip.add(name_node.start_byte)  # a definition's name is not a use
        is_class = node.type == "class_definition"
        kind = "class" if is_class else ("method" if parent.kind == "class" else "function")
        up = node.parent
        outer = up if up is not None and up.type == "decorated_definition" else None
        decorators = [text_of(d)[1:].strip() for d in outer.named_children if d.type == "decorator"] if outer else []
        qual = f"{parent.qualname}.{name}" if parent.qualname else name
        test = is_test_file and not is_class and name.startswith("test") and (
            parent.kind == "module" or (parent.kind == "class" and parent.name.startswith("Test")))
        facts.defs.append(Definition(
            kind, name, qual, p, node.start_point[0] + 1, name_node.start_point[1] if name_node else 0,
            (outer or node).start_point[0] + 1, node.end_point[0] + 1, _signature(node, is_class, text_of),
            _docstring(node.child_by_field_name("body"), text_of), "\n".join(decorators), test))

    # What each scope binds: a function's parameters and assignments are its locals.
    bound: list[set[str]] = [set() for _ in facts.defs]
    for node in caps.get("local", []):  # about 70 a file: scopes.at and text_of inlined
        b = node.start_byte
        i = bisect_right(starts, b) - 1
        while i > 0 and not (starts[i] <= b < ends[i]):
            i = parents[i]
        text = plain[b:node.end_byte]
        bound[i if i > 0 else 0].add(_utf8(text) if wide and not text.isascii() else text)
        skip.add(b)  # a binding, not a use
    declared_global: list[set[str]] = [set() for _ in facts.defs]
    for node in caps.get("global", []):
        declared_global[scopes.at(node.start_byte)].add(text_of(node))
        skip.add(node.start_byte)

    package = _package_of(module, is_init)
    aliases: dict[str, str] = {}
    for node in sorted(caps.get("import", []), key=_START):
        line = node.start_point[0] + 1
        where = scopes.at(node.start_byte)
        for alias, target, name_node in _imports(node, package, text_of):
            if where == 0:
                aliases[alias] = target
                facts.imports.append((alias, target, line))
            else:
                bound[where].add(alias)
            if alias != "*":
                pos = name_node.start_point
                facts.refs.append((where, alias.rpartition(".")[2], target, "import", pos[0] + 1, pos[1]))
    top_level = {name: f"{module}.{name}" if module else name for name in bound[0]}
    top_level.update({d.name: d.qualname for d in facts.defs[1:] if d.parent == 0})

    words: list[dict[str, None]] = [{} for _ in facts.defs]
    local = _visible_locals(facts.defs, bound, declared_global)
    names = caps.get("name", [])
    names.sort(key=_START)  # the captures are grouped by match, not in document order
    spaced = {m.end() for m in _SPACED_DOT.finditer(plain)}  # "obj. name": rare
    _references(names, plain, wide, skip, spaced, starts, ends, local, words, facts, aliases, top_level)
    for d, w in zip(facts.defs, words, strict=True):
        d.words = " ".join(islice(w, MAX_WORDS))  # the first distinct names
    return facts


def _utf8(latin: str) -> str:
    """A slice of the Latin-1 reading of UTF-8 bytes, read as UTF-8."""
    return latin.encode("latin-1").decode("utf-8", "replace")


def _references(names: list[Node], plain: str, wide: bool, skip: set[int], spaced: set[int],
                starts: list[int], ends: list[int], local: list[frozenset[str] | set[str]],
                words: list[dict[str, None]], facts: FileFacts, aliases: dict[str, str],
                top_level: dict[str, str]) -> None:
    """The name, call and attribute references among ``names`` (every identifier, in document
    order), appended to ``facts.refs``; each definition's ``words`` collects the names used.
    ``spaced``: where the names after a "." and blanks start.

    Whether a name is an attribute or a call is read from the source around it: after a "."
    (the query's captures of attributes and calls cost more than these checks); a call's
    name is followed by "(" on the same line (Python allows a line break there only inside
    brackets, as it does between a "." and the name: those rare forms count as plain uses).

    This loop runs once per identifier of the workspace (about 400 per file), so it keeps
    per-identifier work to a few set and dict lookups: the enclosing definition is only
    recomputed when an identifier crosses a definition's start or end (a sweep: both lists
    are in document order)."""
    defs = facts.defs
    refs = facts.refs
    resolve = {**top_level, **aliases}  # an import rebinds a top-level name: aliases win
    owners: dict[int, str | None] = {}  # scope -> the qualified name of its class (self.x, cls.x)
    stack, nxt, count = [0], 1, len(starts)
    next_start = starts[1] if count > 1 else _END
    scope, boundary = 0, min(next_start, ends[0])
    loc, w = local[0], words[0]
    chain, prev_end = -1, -1  # where the dotted chain before the next "." starts; the last name's end
    for node in names:
        b = node.start_byte
        if b in skip:
            continue
        if b >= boundary:  # entering or leaving definitions: the sweep over them
            while nxt < count and starts[nxt] <= b:
                while ends[stack[-1]] <= starts[nxt]:
                    stack.pop()
                stack.append(nxt)
                nxt += 1
            while ends[stack[-1]] <= b:
                stack.pop()
            scope = stack[-1]
            next_start = starts[nxt] if nxt < count else _END
            boundary = min(next_start, ends[scope])
            loc, w = local[scope], words[scope]
        e = node.end_byte
        name = plain[b:e]
        if wide and not name.isascii():
            name = _utf8(name)
        if (b and plain[b - 1] == ".") or b in spaced:
            kind = "attr"
            target = None
            # The object is a name or a dotted chain of names when the last name seen ends
            # where the object does (just before the "."): a call, a subscript, a literal
            # end otherwise. Read from the source: asking the tree costs ~1 us per node.
            dot = b - 1 if plain[b - 1] == "." else plain.rindex(".", 0, b)
            end = dot
            while plain[end - 1] in _SPACE:
                end -= 1
            if end != prev_end:
                chain = -1
            prev_end = e
            if chain >= 0:
                obj = plain[chain:end]
                if wide and not obj.isascii():
                    obj = _utf8(obj)
                first, _, rest = obj.partition(".")
                if first in ("self", "cls") and not rest:
                    if scope in owners:
                        owner = owners[scope]
                    else:
                        owner = owners[scope] = _class_of(defs, scope)
                    target = f"{owner}.{name}" if owner is not None else None
                elif first not in loc:
                    base = resolve.get(first)
                    if base is not None:
                        target = f"{base}.{rest}.{name}" if rest else f"{base}.{name}"
        else:
            chain, prev_end = b, e
            if name in loc:
                continue
            target = resolve.get(name)
            if target is None and name in _BUILTINS:  # a builtin the module does not rebind
                continue
            kind = "name"
        after = plain[e:e + 1]  # "" at the end of the file
        if after == "(" or (after in " \t" and plain[e:e + 80].lstrip(" \t\f")[:1] == "("):
            kind = "call"
        line, col = node.start_point
        refs.append((scope, name, target, kind, line + 1, col))
        w[name] = None  # cut to MAX_WORDS at the end (a dict keeps the first-seen order)


def _class_of(defs: list[Definition], scope: int) -> str | None:
    """The qualified name of the class around ``scope`` (None outside a class)."""
    while scope > 0:
        d = defs[scope]
        if d.kind == "class":
            return d.qualname
        scope = d.parent
    return None


def _visible_locals(defs: list[Definition], bound: list[set[str]],
                    declared_global: list[set[str]]) -> list[frozenset[str] | set[str]]:
    """For each definition, the names that are parameters or local variables there: its own
    (a function's) and those of the functions around it (closures), minus what it declares
    global or nonlocal. Definitions come after their parents, so one pass does."""
    out: list[frozenset[str] | set[str]] = [frozenset()]
    for i in range(1, len(defs)):
        d = defs[i]
        outer = out[d.parent] if d.parent >= 0 else frozenset()
        if d.kind in ("function", "method"):
            mine = bound[i] | outer if outer else bound[i]
            out.append(mine - declared_global[i] if declared_global[i] else mine)
        else:
            out.append(outer)
    return out


__all__ = ["Definition", "FileFacts", "Reference", "extract", "load_query"]
