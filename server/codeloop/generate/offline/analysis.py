"""Static facts about a module that guide the input search (host side, ``ast`` only).

For each function, class and method this finds the literal constants the code
compares against or slices with, how untyped parameters are used (``p.lower()`` hints
at a string, ``p(...)`` at a callable), and the examples written in docstrings and
comments (doctest ``>>>`` pairs, ``f(2) == 4``, ``f(2) -> 4``). Everything returned is
plain JSON-able data so it can be shipped to the in-sandbox driver.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import asdict, dataclass, field

from codeloop.generate.offline.textshapes import MAX_SEQUENCES, doc_templates, mark_sequences
from codeloop.workspace.examples import comment_call_examples, docstring_call_examples
from codeloop.workspace.model import Example

MAX_LITERALS = 40
REGEX_FUNCS = {"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
MAX_STR_LITERAL = 40

STR_METHODS = {
    "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith",
    "replace", "join", "format", "encode", "isdigit", "isalpha", "isalnum", "isspace", "title",
    "capitalize", "casefold", "splitlines", "partition", "rpartition", "zfill", "center", "ljust",
    "rjust", "find", "rfind", "isupper", "islower", "swapcase", "expandtabs", "removeprefix", "removesuffix",
}
LIST_METHODS = {"append", "extend", "insert", "pop", "remove", "sort", "reverse", "copy", "clear"}
DICT_METHODS = {"items", "keys", "values", "get", "setdefault", "update", "popitem"}

NAME_HINTS: list[tuple[str, str]] = [
    (r"^(n|i|j|k|num|number|count|size|length|len|index|idx|width|height|depth|times|ndigits|precision|places|limit|start|stop|step|pos|offset|level)$", "int"),
    (r"^(n_|num_|max_|min_).*|.*_(count|size|len|index|num)$", "int"),
    (r"^(s|string|text|name|word|words|prefix|suffix|sep|separator|delimiter|delim|char|chars|fmt|format|pattern|title|line|label|msg|message|substring|sub|value_str)$", "str"),
    (r"^(seq|seqs|items|iterable|iterables|xs|ys|lst|list|coll|collection|values|elements|data|sequence|sequences|args|it|iter)$", "list"),
    (r"^(func|f|fn|g|key|pred|predicate|binop|callback|callable|op|transform|mapper)$", "callable"),
    (r"^(d|dct|dict|mapping|dicts|kwargs|options|opts|params|table|lookup)$", "dict"),
    (r"^(is_|has_|use_|allow_|should_|strict|flag|enabled|reverse|inplace|lazy|verbose).*", "bool"),
    (r"^(x|y|z|value|val|amount|num|a|b|lo|hi|low|high|minimum|maximum|ratio|rate|factor)$", "number"),
]


@dataclass
class CallableInfo:
    qualname: str  # "func", "Class", "Class.method"
    kind: str  # "function", "class", "method"
    line: int
    end_line: int
    params: list[str]
    literals: dict[str, list] = field(default_factory=dict)
    usage: dict[str, list[str]] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    doc_raises: list[str] = field(default_factory=list)  # exception names the docstring mentions
    documents_raising: bool = False
    has_docstring: bool = False
    annotated: bool = False  # every parameter (and the return) carries a hint
    is_stub: bool = False  # body is only `...`, `pass` or `raise NotImplementedError`: nothing to test yet
    # Entries of the tables the code looks things up in, one test each is worth having:
    # [{"params": [names the lookup key uses] (empty: any parameter of a matching type),
    #   "values": [str/int/float literals]}], the function's own tables first.
    tables: list[dict] = field(default_factory=list)
    nonfinite: bool = False  # tests for inf/nan (math.isfinite/isinf/isnan, float('inf'), math.inf)
    # The code checks its arguments' types itself (isinstance/issubclass/callable, `type(x) is`,
    # `raise TypeError`) or its docstring documents a TypeError: only then are values of the
    # wrong type worth a test (elsewhere they pin the interpreter's behaviour, not the code's).
    checks_types: bool = False

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ModuleInfo:
    callables: dict[str, CallableInfo]
    module_literals: dict[str, list]
    # What the module tells values apart by, anywhere (`isinstance(s, dict)`, `type(s) in (list,
    # tuple)`, `issubclass(type(s), type)`, `callable(s)`): dotted names, "callable" for the check.
    # Shapes worth passing where a parameter takes anything (a schema, a node, a spec).
    checked_types: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "callables": {k: v.to_json() for k, v in self.callables.items()},
            "module_literals": self.module_literals,
            "checked_types": self.checked_types,
        }


class _Literals:
    def __init__(self) -> None:
        self.values: dict[str, list] = {"int": [], "float": [], "str": [], "bytes": [], "regex": []}

    def add_regex(self, node: ast.AST | None) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) <= 600:
            bucket = self.values["regex"]
            if node.value not in bucket and len(bucket) < MAX_LITERALS:
                bucket.append(node.value)

    def add(self, value: object) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int):
            kind = "int"
            if abs(value) > 10**12:
                return
        elif isinstance(value, float):
            kind = "float"
        elif isinstance(value, str):
            kind = "str"
            if len(value) > MAX_STR_LITERAL or "\x00" in value:
                return
        elif isinstance(value, bytes):
            kind = "bytes"
            if len(value) > MAX_STR_LITERAL:
                return
        else:
            return
        bucket = self.values[kind]
        if value not in bucket and len(bucket) < MAX_LITERALS:
            bucket.append(value)

    def add_node(self, node: ast.AST | None) -> None:
        if isinstance(node, ast.Constant):
            self.add(node.value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            if isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
                self.add(-node.operand.value)
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            for elt in node.elts:
                self.add_node(elt)

    def as_dict(self) -> dict[str, list]:
        return {k: v for k, v in self.values.items() if v}


def _collect_literals(body: ast.AST, lits: _Literals) -> None:
    """Constants that decide branches: comparisons, membership, slicing, string tests."""
    for node in ast.walk(body):
        if isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                lits.add_node(part)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "re" and node.func.attr in REGEX_FUNCS and node.args):
            lits.add_regex(node.args[0])  # before the branch below, which takes every method call
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("startswith", "endswith", "split", "replace", "find", "index", "count",
                                  "get", "strip", "lstrip", "rstrip", "removeprefix", "removesuffix", "partition"):
                for arg in node.args:
                    lits.add_node(arg)
        elif isinstance(node, ast.Subscript):
            sl = node.slice
            if isinstance(sl, ast.Slice):
                for part in (sl.lower, sl.upper, sl.step):
                    lits.add_node(part)
            else:
                lits.add_node(sl)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                lits.add_node(key)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.FloorDiv, ast.Div, ast.Pow, ast.Mult)):
            lits.add_node(node.right)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("range", "round", "min", "max"):
            for arg in node.args:
                lits.add_node(arg)


MAX_TABLE_VALUES = 32
_REGEXY = re.compile(r"[\\()\[\]{}^$*+?|]")
_NONFINITE_FUNCS = {"isfinite", "isinf", "isnan"}
_CONTAINER_CALLS = {"set", "frozenset", "tuple", "list", "dict", "OrderedDict"}
_MUTATORS = {"add", "append", "extend", "update", "insert", "setdefault", "appendleft"}


def _table_entry(value: object) -> bool:
    """A literal worth passing as an argument on its own (a word, a number, not a regex)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return abs(value) <= 10**12
    if isinstance(value, float):
        return True
    if isinstance(value, str):
        return 0 < len(value) <= MAX_STR_LITERAL and value.isprintable() and not _REGEXY.search(value)
    return False


def _add_entries(out: list, values) -> None:
    for v in values:
        if _table_entry(v) and not any(type(v) is type(o) and v == o for o in out) and len(out) < MAX_TABLE_VALUES * 2:
            out.append(v)


def display_values(node: ast.AST | None) -> list | None:
    """Literal entries of a container display (dict keys and literal values), or None
    when ``node`` is not a display (``set([...])``/``frozenset({...})`` count as one)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CONTAINER_CALLS:
        if len(node.args) == 1 and not node.keywords:
            return display_values(node.args[0])
        return None
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return None
    out: list = []

    def walk(n: ast.AST) -> None:
        if isinstance(n, ast.Constant):
            _add_entries(out, [n.value])
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub) and isinstance(n.operand, ast.Constant):
            if isinstance(n.operand.value, (int, float)) and not isinstance(n.operand.value, bool):
                _add_entries(out, [-n.operand.value])
        elif isinstance(n, (ast.List, ast.Tuple, ast.Set)):
            for e in n.elts:
                walk(e)
        elif isinstance(n, ast.Dict):
            for k, v in zip(n.keys, n.values, strict=False):  # key, value, key, value: pairs stay together
                if k is not None:
                    walk(k)
                walk(v)

    walk(node)
    return out


def _call_values(call: ast.Call) -> list:
    out: list = []
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.Constant):
            _add_entries(out, [arg.value])
        else:
            _add_entries(out, display_values(arg) or [])
    return out


def module_tables(tree: ast.Module) -> dict[str, tuple[list, list]]:
    """Module-level names that hold lookup tables, with their literal entries.

    A table is a name assigned a container display at module level (``UNITS = {...}``), a
    name built from other tables (``BY_NAME = dict((v, k) for k, v in UNITS.items())``),
    or a name filled by module-level calls (``UNITS.add('x')``, or ``_rule('person',
    'people')`` where ``_rule`` is a module function that touches the name). Entries that
    go through code at import time (call arguments) come first: a change to that code only
    shows in a lookup of those entries. Returns name -> (entries from calls, entries from
    displays)."""
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    data: dict[str, list] = {}
    via_calls: dict[str, list] = {}

    def touched_by(func: ast.AST) -> list[str]:
        names: list[str] = []
        for n in ast.walk(func):
            if isinstance(n, ast.Name) and n.id in data and n.id not in names:
                names.append(n.id)
        return names

    for stmt in tree.body:
        targets: list[ast.AST] = []
        value = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        if value is not None:
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            values = display_values(value)
            if values is None:
                refs = [n.id for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in data]
                if refs:
                    values = []
                    for r in refs:
                        _add_entries(values, via_calls[r] + data[r])
            if values is not None:
                for name in names:
                    data[name] = list(values)
                    via_calls.setdefault(name, [])
            for t in targets:  # NAME[key] = value
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in data:
                    _add_entries(data[t.value.id], [n.value for n in (t.slice, value) if isinstance(n, ast.Constant)])
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            func = call.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in data \
                    and func.attr in _MUTATORS:
                _add_entries(via_calls[func.value.id], _call_values(call))
            elif isinstance(func, ast.Name) and func.id in defs:
                values = _call_values(call)
                for name in touched_by(defs[func.id]):
                    _add_entries(via_calls[name], values)
    return {name: (via_calls[name], vals) for name, vals in data.items()
            if (via_calls[name] or vals) and not (name.startswith("__") and name.endswith("__"))}


def _names_in(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def function_tables(func: ast.AST, params: list[str], tables: dict[str, tuple[list, list]]) -> list[dict]:
    """Tables one function looks its arguments up in, one entry per test is worth having.

    Its own: membership tests against literal containers (``n % 100 in (11, 12, 13)``) and
    dict displays it indexes (``{1: 'st'}.get(n % 10)``). The module's (see
    :func:`module_tables`): ``key in TABLE``, ``TABLE[key]``, ``TABLE.get(key)`` and loops over
    ``TABLE`` whose body uses an argument. The key must involve a parameter or a local variable
    (a lookup of a constant is not one of the argument); ``params`` lists the parameters in it
    (empty: only locals, so any parameter of a matching type)."""
    local = set(params)
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)

    def key_params(key: ast.AST) -> list[str] | None:
        names = [n for n in _names_in(key) if n in local]
        return [n for n in names if n in params] if names else None

    own: list[dict] = []
    looked_up: dict[str, list[str]] = {}  # module table -> key parameters

    def lookup(container: ast.AST, key: ast.AST) -> None:
        keys = key_params(key)
        if keys is None:
            return
        if isinstance(container, ast.Name) and container.id in tables and container.id not in local:
            looked_up.setdefault(container.id, [])
            for k in keys:
                if k not in looked_up[container.id]:
                    looked_up[container.id].append(k)
            return
        if isinstance(container, ast.Dict):
            container = ast.Tuple(elts=[k for k in container.keys if k is not None], ctx=ast.Load())
        values = display_values(container)
        if values:
            own.append({"params": keys, "values": values})

    for node in ast.walk(func):
        if isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=False):
                if isinstance(op, (ast.In, ast.NotIn)):
                    lookup(right, left)
                left = right
        elif isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Dict, ast.Name)):
            lookup(node.value, node.slice)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and isinstance(node.func.value, (ast.Dict, ast.Name)) and node.args):
            lookup(node.func.value, node.args[0])
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Name) and node.iter.id in tables:
            lookup(node.iter, ast.Module(body=node.body, type_ignores=[]))
    # A module table keyed by a parameter is tried on that parameter; one keyed by locals
    # only, on any parameter of a matching type. Entries that went through code at import
    # time first (see module_tables).
    out = own
    groups: dict[tuple, list] = {}
    for part in (0, 1):
        for name, keys in looked_up.items():
            _add_entries(groups.setdefault(tuple(keys), []), tables[name][part])
    for keys, merged in groups.items():
        if merged:
            out = out + [{"params": list(keys), "values": merged[:MAX_TABLE_VALUES]}]
    return out


TYPE_CHECKS = {"isinstance", "issubclass", "callable"}


def checks_types(func: ast.AST | None) -> bool:
    """Whether a function (or class body) checks the types of values itself."""
    if func is None:
        return False
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TYPE_CHECKS:
            return True
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Call) \
                and isinstance(node.left.func, ast.Name) and node.left.func.id == "type":
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "TypeError":
                return True
    return False


def _propagate_type_checks(tree: ast.Module, callables: dict[str, CallableInfo]) -> None:
    """A callable checks types when a function or method of the module it calls does
    (``slugify`` passing its arguments to ``_modern_slugify``, which checks them)."""
    nodes: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            nodes[node.name] = node
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        nodes[f"{node.name}.{sub.name}"] = sub
    checkers = {q for q, c in callables.items() if c.checks_types}
    by_short = {}
    for q in callables:
        by_short.setdefault(q.rsplit(".", 1)[-1], []).append(q)
    changed = True
    while changed:
        changed = False
        for q, info in callables.items():
            if info.checks_types or q not in nodes:
                continue
            called = {n.func.id if isinstance(n.func, ast.Name) else n.func.attr
                      for n in ast.walk(nodes[q]) if isinstance(n, ast.Call)
                      and isinstance(n.func, (ast.Name, ast.Attribute))}
            if any(t in checkers for name in called for t in by_short.get(name, [])):
                info.checks_types = True
                checkers.add(q)
                changed = True


def _function_nodes(tree: ast.Module, constructors: bool = False) -> dict[str, ast.AST]:
    """The module's functions and methods by qualified name (``Class.method``); with
    ``constructors``, each class's name also maps to its ``__init__``."""
    nodes: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nodes[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    nodes[f"{node.name}.{sub.name}"] = sub
                    if constructors and sub.name == "__init__":
                        nodes[node.name] = sub
    return nodes


def _borrow_callee_literals(tree: ast.Module, callables: dict[str, CallableInfo]) -> None:
    """A callable's literals include, after its own, those of the module's functions and
    methods it calls directly: ``haversine`` passes its points to ``_ensure_lat_lon``, which
    compares them with 90 and 180, so values around those reach the check through it."""
    nodes = _function_nodes(tree)
    own: dict[str, dict[str, list]] = {}
    for q, node in nodes.items():  # private helpers are no callables of their own, yet lend theirs
        lits = _Literals()
        _collect_literals(node, lits)
        own[q] = lits.as_dict()
    by_short: dict[str, list[str]] = {}
    for q in nodes:
        by_short.setdefault(q.rsplit(".", 1)[-1], []).append(q)
    for q, info in callables.items():
        node = nodes.get(q)
        if node is None:
            continue
        called = []
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)):
                name = n.func.id if isinstance(n.func, ast.Name) else n.func.attr
                for t in by_short.get(name, []):
                    if t != q and t not in called:
                        called.append(t)
        for t in called[:6]:
            for kind, values in own.get(t, {}).items():
                bucket = info.literals.setdefault(kind, [])
                for v in values:
                    if v not in bucket and len(bucket) < MAX_LITERALS:
                        bucket.append(v)


MAX_CHECKED = 24
MAX_DUCK = 3  # classes named per parameter by the attributes the code uses on it


def class_attributes(tree: ast.Module) -> dict[str, set[str]]:
    """Per class of the module: its methods and the attributes its methods assign on ``self``,
    with those of its base classes in the module."""
    own: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        attrs = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        attrs |= {t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        for n in ast.walk(node):
            if (isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                    and n.value.id == "self"):
                attrs.add(n.attr)
        own[node.name] = attrs
        bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
    out: dict[str, set[str]] = {}

    def full(name: str, seen: frozenset = frozenset()) -> set[str]:
        if name in out:
            return out[name]
        attrs = set(own.get(name, set()))
        for b in bases.get(name, []):
            if b in own and b not in seen:
                attrs |= full(b, seen | {name})
        out[name] = attrs
        return attrs

    for name in own:
        full(name)
    return out


def _duck_types(tree: ast.Module, callables: dict[str, CallableInfo]) -> None:
    """Name the module's classes a parameter's use asks for (duck typing): ``tokens.move()``
    and ``tokens.error`` on a parameter -> the classes that have both (``type:TokenStream``);
    ``o.long`` on the items of ``for o in options`` -> lists of such objects (``items:Option``)."""
    attrs_by_class = class_attributes(tree)
    if not attrs_by_class:
        return
    nodes = _function_nodes(tree, constructors=True)

    def classes_with(used: set[str]) -> list[str]:
        if not used:
            return []
        return [c for c, attrs in attrs_by_class.items() if used <= attrs][:MAX_DUCK]

    for q, info in callables.items():
        node = nodes.get(q)
        if node is None:
            continue
        params = set(info.params)
        on_param: dict[str, set[str]] = {}
        loop_of: dict[str, str] = {}  # loop variable -> the parameter it walks
        for n in ast.walk(node):
            if isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Name) and n.iter.id in params \
                    and isinstance(n.target, ast.Name):
                loop_of[n.target.id] = n.iter.id
        on_item: dict[str, set[str]] = {}
        for n in ast.walk(node):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and isinstance(n.ctx, ast.Load):
                name, attr = n.value.id, n.attr
                if attr in STR_METHODS | DICT_METHODS | LIST_METHODS or attr.startswith("__"):
                    continue
                if name in params:
                    on_param.setdefault(name, set()).add(attr)
                elif name in loop_of:
                    on_item.setdefault(loop_of[name], set()).add(attr)
        for p, used in on_param.items():
            for c in classes_with(used):
                kind = f"type:{c}"
                if kind not in info.usage.setdefault(p, []):
                    info.usage[p].append(kind)
        for p, used in on_item.items():
            for c in classes_with(used):
                kind = f"items:{c}"
                if kind not in info.usage.setdefault(p, []):
                    info.usage[p].insert(0, kind)


def checked_types(tree: ast.Module) -> list[str]:
    """The types the module's code tells values apart by (see :attr:`ModuleInfo.checked_types`)."""
    out: list[str] = []
    # names bound at module level (classes, imports, assignments) or builtins: not a local
    # variable holding a type (`isinstance(s, optional_type)`)
    bound = set(dir(builtins))
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    def add(node: ast.AST) -> None:
        for t in node.elts if isinstance(node, ast.Tuple) else [node]:
            name = _dotted(t)
            if name and name.split(".")[0] in bound and name not in out and len(out) < MAX_CHECKED:
                out.append(name)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("isinstance", "issubclass") and len(node.args) == 2:
                add(node.args[1])
            elif node.func.id == "callable" and "callable" not in out:
                out.append("callable")
        elif (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)
              and isinstance(node.left.func, ast.Name) and node.left.func.id == "type"):
            for right in node.comparators:
                add(right)
    return out


def uses_nonfinite(func: ast.AST) -> bool:
    """True when the code tests for inf/nan: ``math.isfinite(x)``, ``float('inf')``, ``math.nan``..."""
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute) and node.attr in _NONFINITE_FUNCS | {"inf", "nan"}:
            return True
        if isinstance(node, ast.Name) and node.id in _NONFINITE_FUNCS:
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and node.args[0].value.strip().lstrip("+-").lower() in ("inf", "nan", "infinity")):
            return True
    return False


BUILTIN_KINDS = {"int": "int", "float": "float", "str": "str", "bytes": "bytes", "list": "list", "tuple": "list",
                 "dict": "dict", "bool": "bool"}


def _dotted(node: ast.AST) -> str | None:
    """``a.b.C`` for a name or an attribute chain on a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _usage(func: ast.FunctionDef | ast.AsyncFunctionDef, params: list[str]) -> dict[str, list[str]]:
    """How each parameter is used in the body: a few kinds, most telling first."""
    found: dict[str, list[str]] = {p: [] for p in params}
    columns: dict[str, int] = {}  # parameter -> columns its `x[:, k]` indexing reads

    def note(name: str, kind: str) -> None:
        if name in found and kind not in found[name]:
            found[name].append(kind)

    def const_kind(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if isinstance(node.value, (int, float)):
                return "number"
            if isinstance(node.value, str):
                return "str"
            if isinstance(node.value, bytes):
                return "bytes"
        return None

    for node in ast.walk(func):
        if isinstance(node, ast.If) and (made := _converted(node)) is not None and made[0] in found:
            note(made[0], f"made:{made[1]}={made[2]}")
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in found:
                note(node.func.id, "callable")
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                name, attr = node.func.value.id, node.func.attr
                if attr in STR_METHODS:
                    note(name, "str")
                elif attr in DICT_METHODS:
                    note(name, "dict")
                elif attr in LIST_METHODS:
                    note(name, "list")
            if isinstance(node.func, ast.Name) and node.args and isinstance(node.args[0], ast.Name):
                fname, arg = node.func.id, node.args[0].id
                if fname in ("len", "sorted", "list", "tuple", "set", "iter", "enumerate", "reversed", "sum", "zip", "any", "all"):
                    note(arg, "list")
                elif fname in ("int", "float", "abs", "round", "math.floor"):
                    note(arg, "number")
                elif fname == "isinstance" and len(node.args) > 1:
                    types_ = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
                    for tname in types_:
                        if isinstance(tname, ast.Name) and tname.id in BUILTIN_KINDS:
                            note(arg, BUILTIN_KINDS[tname.id])
                        elif (dotted := _dotted(tname)) is not None:
                            # a class the code tells apart: its instances are inputs to try
                            note(arg, "any")
                            note(arg, f"type:{dotted}")
            if isinstance(node.func, ast.Attribute) and node.func.attr == "join":
                for arg in node.args:
                    if isinstance(arg, ast.Name):
                        note(arg.id, "list")
        elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Tuple) and 1 < len(node.targets[0].elts) <= 4):
            note(node.value.id, f"tuple:{len(node.targets[0].elts)}")  # `lat, lon = point`
        elif (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Name)
              and any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                      for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))):
            note(node.value.id, "stored")  # `self._schema = schema`: kept for the methods to use
        elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.iter, ast.Name):
            if isinstance(node.target, ast.Tuple) and len(node.target.elts) == 2:
                note(node.iter.id, "pairs")  # `for old, new in rules`: an iterable of pairs
            note(node.iter.id, "list")
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            sl = node.slice
            if isinstance(sl, ast.Constant) and isinstance(sl.value, str):
                note(node.value.id, "dict")
            else:
                if (col := _column(sl)) is not None and node.value.id in found:
                    columns[node.value.id] = max(columns.get(node.value.id, 0), col + 1)
                note(node.value.id, "list")
        elif isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            if (crossing := _crossing(node)) is not None and crossing[0] in found:
                note(crossing[0], crossing[1])
            indexed = sorted({n.value.id for part in parts for n in ast.walk(part)
                              if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
                              and n.value.id in found})
            if len(indexed) == 2:  # `s1[i] != s2[j]`: items of two sequences compared
                note(indexed[0], f"similar:{indexed[1]}")
            sized = [n for n in map(_sized_name, parts) if n is not None]
            if len(sized) > 1:  # `len(a) != len(b)`: sequences that go together, one item each first
                for name in sized:
                    note(name, "parallel")
            for a, b in zip(parts, parts[1:], strict=False):
                for x, y in ((a, b), (b, a)):
                    if isinstance(x, ast.Name):
                        kind = const_kind(y)
                        if kind:
                            note(x.id, kind)
            for op, right in zip(node.ops, node.comparators, strict=False):
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Name):
                    note(right.id, "list")
        elif isinstance(node, ast.BinOp):
            for x, y in ((node.left, node.right), (node.right, node.left)):
                if isinstance(x, ast.Name):
                    kind = const_kind(y)
                    if kind:
                        note(x.id, kind)
                    elif isinstance(node.op, (ast.Sub, ast.Div, ast.FloorDiv, ast.Pow)):
                        note(x.id, "number")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in found
              and node.attr not in STR_METHODS | DICT_METHODS | LIST_METHODS):
            note(node.value.id, "object")
    for name, width in columns.items():  # `a[:, 0]`: a table of rows, the most telling kind
        found[name].insert(0, f"rows:{width}")
    for name in params:
        for pattern, kind in NAME_HINTS:
            if re.match(pattern, name):
                note(name, kind)
                break
    return found


_CROSS = {ast.Lt: -1, ast.LtE: 0, ast.Gt: 1, ast.GtE: 0, ast.Eq: 0}


def _crossing(node: ast.Compare) -> tuple[str, str] | None:
    """``(param, kind)`` for a comparison of a parameter's attribute or of the parameter with a
    constant made object: ``d.years < 0`` -> ``attr:years=-1`` (an object whose ``years`` is
    -1 takes the branch), ``d < timedelta(0)`` -> ``value:timedelta(-1)``."""
    if len(node.ops) != 1 or type(node.ops[0]) not in _CROSS:
        return None
    step = _CROSS[type(node.ops[0])]
    left, right = node.left, node.comparators[0]
    if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and (num := _number(right)) is not None:
        return left.value.id, f"attr:{left.attr}={num + step!r}"
    if (isinstance(left, ast.Name) and isinstance(right, ast.Call) and len(right.args) == 1 and not right.keywords
            and (num := _number(right.args[0])) is not None and (func := _dotted(right.func)) is not None):
        return left.id, f"value:{func}({num + step!r})"
    return None


def _number(node: ast.AST) -> int | float | None:
    """The value of a numeric constant (``-2`` included)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return -inner if inner is not None else None
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _sized_name(node: ast.AST) -> str | None:
    """``a`` of ``len(a)`` or ``a.shape[0]`` (the length of a sequence or an array)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name)):
        return node.args[0].id
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
            and isinstance(node.value.value, ast.Name)):
        return node.value.value.id
    return None


def _converted(node: ast.If) -> tuple[str, str, str] | None:
    """``(param, T, f)`` for ``if not isinstance(param, T): param = f(param)``: the code makes
    its own T from other values, so a test's T is spelled ``f(value)`` (``numpy.array([...])``),
    not built through T's constructor."""
    test = node.test
    if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Call)
            and isinstance(test.operand.func, ast.Name) and test.operand.func.id == "isinstance"
            and len(test.operand.args) == 2 and isinstance(test.operand.args[0], ast.Name)):
        return None
    name, tp = test.operand.args[0].id, _dotted(test.operand.args[1])
    for stmt in node.body:
        if (tp and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == name and isinstance(stmt.value, ast.Call) and len(stmt.value.args) == 1
                and not stmt.value.keywords and isinstance(stmt.value.args[0], ast.Name)
                and stmt.value.args[0].id == name and (conv := _dotted(stmt.value.func)) is not None):
            return name, tp, conv
    return None


def _column(sl: ast.AST) -> int | None:
    """``k`` of a 2-D column index ``[:, k]`` (an array's column: the value is a table of rows)."""
    if (isinstance(sl, ast.Tuple) and len(sl.elts) == 2 and isinstance(sl.elts[0], ast.Slice)
            and sl.elts[0].lower is None and sl.elts[0].upper is None
            and isinstance(sl.elts[1], ast.Constant) and type(sl.elts[1].value) is int and 0 <= sl.elts[1].value < 8):
        return sl.elts[1].value
    return None


_RAISES = re.compile(r"\b(raises?|raised|throws?|:raises)\b", re.I)
_EXC_NAME = re.compile(r"\b([A-Z]\w*(?:Error|Exception|Warning)|StopIteration|KeyboardInterrupt|SystemExit)\b")


def _doc_line(node: ast.AST) -> int:
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[0].value.lineno
    return getattr(node, "lineno", 1)


def _params(func: ast.FunctionDef | ast.AsyncFunctionDef, drop_first: bool) -> tuple[list[str], bool]:
    a = func.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    if drop_first and every:
        every = every[1:]
    names = [p.arg for p in every]
    annotated = all(p.annotation is not None for p in every) and func.returns is not None
    return names, annotated


def _callable_info(node, qualname: str, kind: str, source: str, names: set[str], drop_first: bool,
                   preceding_comment_start: int, tables: dict[str, tuple[list, list]] | None = None) -> CallableInfo:
    if isinstance(node, ast.ClassDef):
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        params, annotated = _params(init, True) if init else ([], True)
        usage = _usage(init, params) if init else {}
        lit_src = init
    else:
        params, annotated = _params(node, drop_first)
        usage = _usage(node, params)
        lit_src = node
    lits = _Literals()
    if lit_src is not None:
        _collect_literals(lit_src, lits)
        for arg in [*lit_src.args.defaults, *lit_src.args.kw_defaults]:
            lits.add_node(arg)
        # texts the code spells out: two-mark sequences, its docstring's format templates
        lits.values["seq"] = (mark_sequences(lit_src) + doc_templates(ast.get_docstring(node) or ""))[:MAX_SEQUENCES]
    doc = ast.get_docstring(node, clean=False) or ""
    examples = []
    if doc:
        # ast.get_docstring(clean=False) keeps the original indentation; line numbers line up.
        examples = docstring_call_examples(doc, _doc_line(node), names)
    examples += comment_call_examples(source, preceding_comment_start, node.lineno - 1, names)
    if not isinstance(node, ast.ClassDef):
        examples += comment_call_examples(source, node.lineno, node.end_lineno or node.lineno, names)
    raises = sorted(set(_EXC_NAME.findall(doc)))
    stub = not isinstance(node, ast.ClassDef) and is_stub(node)
    return CallableInfo(
        tables=function_tables(lit_src, params, tables or {}) if lit_src is not None else [],
        nonfinite=lit_src is not None and uses_nonfinite(lit_src),
        checks_types=checks_types(node) or "TypeError" in raises,
        is_stub=stub,
        qualname=qualname,
        kind=kind,
        line=node.lineno,
        end_line=node.end_lineno or node.lineno,
        params=params,
        literals=lits.as_dict(),
        usage=usage,
        examples=examples,
        doc_raises=raises,
        documents_raising=bool(_RAISES.search(doc)) or bool(raises),
        has_docstring=bool(doc.strip()),
        annotated=annotated,
    )


def is_stub(func: ast.AST) -> bool:
    """A function whose body is only a docstring and ``...``/``pass``/``raise NotImplementedError``."""
    body = list(getattr(func, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return True
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
        return True
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _comment_block_start(lines: list[str], def_line: int) -> int:
    """First line of the comment block right above ``def_line`` (decorators skipped)."""
    i = def_line - 1
    while i >= 1 and lines[i - 1].strip().startswith("@"):
        i -= 1
    start = i + 1
    while i >= 1 and lines[i - 1].strip().startswith("#"):
        start = i
        i -= 1
    return start


def analyze_module(source: str, tree: ast.Module | None = None) -> ModuleInfo:
    """Collect :class:`CallableInfo` for every top-level function, class and method."""
    tree = tree or ast.parse(source)
    lines = source.splitlines()
    top_names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    callables: dict[str, CallableInfo] = {}
    tables = module_tables(tree)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = _comment_block_start(lines, node.lineno)
            callables[node.name] = _callable_info(node, node.name, "function", source, top_names, False, start, tables)
        elif isinstance(node, ast.ClassDef):
            start = _comment_block_start(lines, node.lineno)
            method_names = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            callables[node.name] = _callable_info(node, node.name, "class", source, top_names | method_names, True, start,
                                                tables)
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    is_static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in sub.decorator_list)
                    start = _comment_block_start(lines, sub.lineno)
                    info = _callable_info(sub, f"{node.name}.{sub.name}", "method", source,
                                          top_names | method_names, not is_static, start, tables)
                    callables[info.qualname] = info
    _propagate_type_checks(tree, callables)
    _borrow_callee_literals(tree, callables)
    _duck_types(tree, callables)
    mod_lits = _Literals()
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _collect_literals(node, mod_lits)
    mod_doc = ast.get_docstring(tree, clean=False)
    if mod_doc:
        for ex in docstring_call_examples(mod_doc, _doc_line(tree), top_names):
            head = ex.call.split("(", 1)[0].split(".")[0]
            if head in callables:
                callables[head].examples.append(ex)
    return ModuleInfo(callables, mod_lits.as_dict(), checked_types(tree))
