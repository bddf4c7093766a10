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
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter

from tree_sitter import Node, Parser, Query, QueryCursor

from codeloop.workspace.document import PY_LANGUAGE

_PATTERNS = """
(function_definition name: (identifier) @def.name) @def
(class_definition name: (identifier) @def.name) @def
(import_statement) @import
(import_from_statement) @import
(call function: (identifier) @call)
(call function: (attribute attribute: (identifier) @call))
(attribute attribute: (identifier) @attr)
(keyword_argument name: (identifier) @skip)
(dotted_name (identifier) @skip)
(aliased_import alias: (identifier) @skip)
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
def _query() -> Query:
    """The one query of the extraction, compiled on first use (a search that parses nothing
    does not pay for it)."""
    return Query(PY_LANGUAGE, _PATTERNS)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


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
    if not lines:
        return ""
    indents = [len(ln) - len(ln.lstrip()) for ln in lines[1:] if ln.strip()]
    cut = min(indents) if indents else 0
    lines = [lines[0].strip()] + [ln[cut:].rstrip() for ln in lines[1:]]
    return "\n".join(lines).strip()[:MAX_DOC]


def _docstring(body: Node | None) -> str:
    if body is None:
        return ""
    for child in body.named_children:
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_child_count == 1:
            first = child.named_children[0]
            if first.type == "string":
                return _cleandoc(_text(first))
        return ""
    return ""


def _signature(node: Node) -> str:
    if node.type == "class_definition":
        return _squash(_text(node.child_by_field_name("superclasses")))
    sig = _text(node.child_by_field_name("parameters"))
    ret = node.child_by_field_name("return_type")
    if ret is not None:
        sig += " -> " + _text(ret)
    return _squash(sig)


def _package_of(module: str, is_init: bool) -> list[str]:
    parts = module.split(".") if module else []
    return parts if is_init else parts[:-1]


def _imports(node: Node, package: list[str]) -> list[tuple[str, str, Node]]:
    """(bound name, dotted target, the name's node) of one import statement."""
    out: list[tuple[str, str, Node]] = []
    if node.type == "import_statement":
        for item in node.named_children:
            if item.type == "dotted_name":
                first = item.named_children[0]
                out.append((_text(first), _text(first), first))
            elif item.type == "aliased_import":
                name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name is not None and alias is not None:
                    out.append((_text(alias), _text(name), alias))
        return out
    module_node = node.child_by_field_name("module_name")
    base = _text(module_node)
    if module_node is not None and module_node.type == "relative_import":
        dots = len(base) - len(base.lstrip("."))
        rest = base[dots:]
        anchor = package[: len(package) - (dots - 1)] if dots - 1 <= len(package) else []
        base = ".".join([*anchor, rest] if rest else anchor)
    for item in node.named_children:
        if module_node is not None and item.start_byte == module_node.start_byte:
            continue
        if item.type == "dotted_name":
            name = _text(item)
            out.append((name.split(".")[-1], f"{base}.{name}" if base else name, item.named_children[-1]))
        elif item.type == "aliased_import":
            name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
            if name is not None and alias is not None:
                out.append((_text(alias), f"{base}.{_text(name)}" if base else _text(name), alias))
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
            parser: Parser) -> FileFacts:
    """The facts of one file (``module``: its dotted name from the workspace root)."""
    tree = parser.parse(source)
    root = tree.root_node
    caps = QueryCursor(_query()).captures(root)
    facts = FileFacts(module)
    # An ASCII file (most are) is sliced as str: cheaper than each node's bytes decoded.
    plain = source.decode("ascii") if source.isascii() else None

    def text_of(node: Node) -> str:
        return plain[node.start_byte:node.end_byte] if plain is not None else _text(node)
    last_line = root.end_point[0] + 1
    mod_name = module.rpartition(".")[2] if module else ""
    facts.defs.append(Definition("module", mod_name, module, -1, 1, 0, 1, last_line, doc=_docstring(root)))

    # Definitions, in document order, each with its parent.
    nodes = sorted(caps.get("def", []), key=lambda n: n.start_byte)
    starts, ends, parents = [root.start_byte], [root.end_byte], [-1]
    for node in nodes:
        starts.append(node.start_byte)
        ends.append(node.end_byte)
        parents.append(-1)
    scopes = _Scopes(starts, ends, parents)
    for i, node in enumerate(nodes, start=1):
        p = i - 1  # the previous definition, or one around it, or the module
        while p > 0 and not (starts[p] <= node.start_byte < ends[p]):
            p = parents[p]
        parents[i] = p
        parent = facts.defs[p]
        name_node = node.child_by_field_name("name")
        name = _text(name_node)
        is_class = node.type == "class_definition"
        kind = "class" if is_class else ("method" if parent.kind == "class" else "function")
        outer = node.parent if node.parent is not None and node.parent.type == "decorated_definition" else None
        decorators = [_text(d)[1:].strip() for d in outer.named_children if d.type == "decorator"] if outer else []
        qual = f"{parent.qualname}.{name}" if parent.qualname else name
        test = is_test_file and not is_class and name.startswith("test") and (
            parent.kind == "module" or (parent.kind == "class" and parent.name.startswith("Test")))
        facts.defs.append(Definition(
            kind, name, qual, p, node.start_point[0] + 1, name_node.start_point[1] if name_node else 0,
            (outer or node).start_point[0] + 1, node.end_point[0] + 1, _signature(node),
            _docstring(node.child_by_field_name("body")), "\n".join(decorators), test))

    def_names = {n.start_byte for n in caps.get("def.name", [])}
    skip = {n.start_byte for n in caps.get("skip", [])} | def_names
    calls = {n.start_byte for n in caps.get("call", [])}
    attrs = {n.start_byte for n in caps.get("attr", [])}

    # What each scope binds: a function's parameters and assignments are its locals.
    bound: list[set[str]] = [set() for _ in facts.defs]
    for node in caps.get("local", []):
        b = node.start_byte
        bound[scopes.at(b)].add(plain[b:node.end_byte] if plain is not None else _text(node))
        skip.add(b)  # a binding, not a use
    declared_global: list[set[str]] = [set() for _ in facts.defs]
    for node in caps.get("global", []):
        declared_global[scopes.at(node.start_byte)].add(text_of(node))
        skip.add(node.start_byte)

    package = _package_of(module, is_init)
    aliases: dict[str, str] = {}
    for node in sorted(caps.get("import", []), key=lambda n: n.start_byte):
        line = node.start_point[0] + 1
        where = scopes.at(node.start_byte)
        for alias, target, name_node in _imports(node, package):
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
    module_bound = bound[0] | set(aliases) | set(top_level)

    def class_of(scope: int) -> Definition | None:
        while scope > 0:
            d = facts.defs[scope]
            if d.kind == "class":
                return d
            scope = d.parent
        return None

    def dotted(first: str, rest: str) -> str | None:
        if first in aliases:
            base = aliases[first]
        elif first in top_level:
            base = top_level[first]
        else:
            return None
        return f"{base}.{rest}" if rest else base

    words: list[dict[str, None]] = [{} for _ in facts.defs]
    local = _visible_locals(facts.defs, bound, declared_global)
    # The scope of each name by a sweep over the definitions (both in document order).
    names = caps.get("name", [])
    names.sort(key=_START)
    refs = facts.refs
    stack, nxt, count = [0], 1, len(starts)
    for node in names:
        b = node.start_byte
        if b in skip:
            continue
        while nxt < count and starts[nxt] <= b:
            while ends[stack[-1]] <= starts[nxt]:
                stack.pop()
            stack.append(nxt)
            nxt += 1
        while ends[stack[-1]] <= b:
            stack.pop()
        scope = stack[-1]
        name = plain[b:node.end_byte] if plain is not None else _text(node)
        if b in attrs:
            kind = "call" if b in calls else "attr"
            target = None
            obj = node.prev_named_sibling
            if obj is not None and obj.type in ("identifier", "attribute"):
                chain = text_of(obj)
                first, _, rest = chain.partition(".")
                if first in ("self", "cls") and not rest:
                    owner = class_of(scope)
                    target = f"{owner.qualname}.{name}" if owner is not None else None
                elif first not in local[scope]:
                    target = dotted(first, f"{rest}.{name}" if rest else name)
        else:
            if name in local[scope]:
                continue
            kind = "call" if b in calls else "name"
            target = dotted(name, "")
            if target is None and name in _BUILTINS and name not in module_bound:
                continue
        line, col = node.start_point
        refs.append((scope, name, target, kind, line + 1, col))
        w = words[scope]
        if len(w) < MAX_WORDS:
            w[name] = None
    for d, w in zip(facts.defs, words, strict=True):
        d.words = " ".join(w)
    return facts


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


__all__ = ["Definition", "FileFacts", "Reference", "extract"]
