"""Objects the search has built: instances returned by calls, reused as receivers and arguments.

Shipped next to the in-sandbox driver as ``_codeloop_objects.py`` (standard library only,
never ``import codeloop``). A call that reached new code and returned an instance of one of
the module's classes (``Query().f1 == 42``, ``Token.from_dict({...})``, a constructor call
with rare options) leaves an object in a state the plain constructor calls do not reach.
The pool keeps how to build it again, as set-up statements (``query_instance = ...``) and,
when the statements are plain assignments, as one inline expression for use as an argument
(``Query().f1 == 42``), so that later calls can work on it: methods on it, or it passed to
methods that take that class (subclasses count), or an untyped parameter.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import contextlib
import inspect
import re
import typing

MAX_PER_CLASS = 64
# objects per class and producing callable: so that one prolific callable does not fill the
# pool (from calls that reached new code / from the others)
PER_PRODUCER = (2, 2)
MAX_SETUP = 3
MAX_INLINE = 120
MAX_LITERAL = 400
LITERAL_TYPES = {dict: "dict", list: "list", str: "str"}  # returned values reused, with the usage kind

Receiver = tuple  # (set-up statements, variable name, import lines)


def var_name(cls_name: str, taken=()) -> str:
    """The variable a test keeps an instance in: the class name in snake case, never a name
    the test also uses for something else (``relativedelta = relativedelta()`` would make the
    class a local variable of the test function)."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", cls_name).lower()
    if snake in ("self", "cls", "type", "object", "id", "list", "dict", "str") or not snake.isidentifier():
        snake = "obj"
    if snake == cls_name or snake in taken:
        snake += "_obj"
    return snake


def inline(setup: list[str], expr: str) -> str | None:
    """``expr`` with the variables its set-up assigned replaced by their expressions, when
    every set-up statement is a plain ``name = expression`` (a mutating call cannot be
    inlined). None when it cannot be said in one short expression."""
    known: dict[str, ast.expr] = {}

    class Sub(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if isinstance(node.ctx, ast.Load) and node.id in known:
                return known[node.id]
            return node

    try:
        for stmt in setup:
            node = ast.parse(stmt).body[0]
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                return None
            known[node.targets[0].id] = Sub().visit(node.value)
        tree = ast.parse(expr, mode="eval")
        body = Sub().visit(tree.body)
        text = ast.unparse(body)
    except (SyntaxError, IndexError, ValueError, RecursionError):
        return None
    if not isinstance(body, (ast.Call, ast.Name, ast.Attribute, ast.Subscript, ast.Constant)):
        text = f"({text})"  # it goes where an operator may bind tighter (`a & (q == 1)`)
    return text if len(text) <= MAX_INLINE else None


def module_classes(module) -> list[type]:
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and getattr(obj, "__module__", None) == module.__name__]


def subclasses_in(cls: type, module) -> list[type]:
    """The module's classes that derive from ``cls`` (not ``cls`` itself), in module order."""
    return [k for k in module_classes(module) if k is not cls and _is_sub(k, cls)]


def _is_sub(k: type, cls: type) -> bool:
    try:
        return issubclass(k, cls)
    except TypeError:
        return False


def accepts(hint, cls: type, depth: int = 0) -> bool:
    """Whether a parameter hinted ``hint`` takes an instance of ``cls`` (Optional/Union
    members, base classes, and callables for a ``Callable`` hint)."""
    if depth > 3 or hint is None:
        return False
    if isinstance(hint, type):
        return hint is not object and _is_sub(cls, hint)
    origin = typing.get_origin(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        return any(accepts(a, cls, depth + 1) for a in typing.get_args(hint))
    if origin is cabc.Callable:  # an instance of a class with __call__ is a callable
        return any("__call__" in vars(k) for k in cls.__mro__[:-1])
    if origin is not None and isinstance(origin, type):
        return _is_sub(cls, origin)
    return False


def _state_key(value: object) -> tuple | None:
    """What tells two objects of a class apart: their repr and attributes, when these show
    no address."""
    try:
        text = repr(value)
        with contextlib.suppress(TypeError):
            text += repr(sorted(vars(value).items(), key=lambda kv: str(kv[0])))
    except Exception:
        return None
    if len(text) > 600 or re.search(r"0x[0-9a-fA-F]{6,}", text):
        return None
    return (type(value).__qualname__, text)


class ObjectPool:
    """Per class of the module, how to build the objects calls returned (capped, first come)."""

    def __init__(self, module) -> None:
        self.module = module
        self.by_class: dict[type, list[dict]] = {}
        self._keys: set = set()
        self._producers: dict = {}
        self.literals: dict[type, list] = {}
        self.added = 0  # how many objects joined, for the search to know when a round adds some

    def offer(self, value: object, setup: list[str], expr: str, imports: list[str], producer: str,
              fresh: bool = True) -> bool:
        """An object a call of ``producer`` returned; ``fresh``: the call reached new code (an
        object from a call that did not may still be new: ``q.matches('x')`` returns a query
        that runs only when called)."""
        cls = type(value)
        if getattr(cls, "__module__", None) != self.module.__name__ or isinstance(value, BaseException):
            return False
        if self._producers.get((producer, cls), 0) >= PER_PRODUCER[0 if fresh else 1]:
            return False
        if len(setup) > MAX_SETUP or "\n" in expr:
            return False
        entries = self.by_class.setdefault(cls, [])
        key = _state_key(value) or (tuple(setup), expr)
        if len(entries) >= MAX_PER_CLASS or key in self._keys:
            return False
        self._keys.add(key)
        self._producers[(producer, cls)] = self._producers.get((producer, cls), 0) + 1
        var = var_name(cls.__name__, vars(self.module))
        entries.append({
            "receiver": (list(setup) + [f"{var} = {expr}"], var, sorted(set(imports))),
            "inline": inline(list(setup), expr),
            "imports": frozenset(imports),
        })
        self.added += 1
        return True

    def offer_state(self, value: object, setup: list[str], var: str, imports: list[str], producer: str) -> bool:
        """An object after a method call on it (``tok.attrPush(...)``): a receiver only."""
        cls = type(value)
        if getattr(cls, "__module__", None) != self.module.__name__ or len(setup) > MAX_SETUP + 1:
            return False
        if self._producers.get((producer, cls), 0) >= PER_PRODUCER[0]:
            return False
        entries = self.by_class.setdefault(cls, [])
        key = _state_key(value) or tuple(setup)
        if len(entries) >= MAX_PER_CLASS or key in self._keys:
            return False
        self._keys.add(key)
        self._producers[(producer, cls)] = self._producers.get((producer, cls), 0) + 1
        entries.append({"receiver": (list(setup), var, sorted(set(imports))), "inline": None,
                        "imports": frozenset(imports)})
        self.added += 1
        return True

    def offer_literal(self, value: object, src: str, imports: list[str], producer: str) -> bool:
        """A container or text a call returned, as a literal: an input for parameters of its type
        (``Token.from_dict`` gets what ``token.as_dict()`` returned)."""
        cls = type(value)
        if cls not in LITERAL_TYPES or len(src) > MAX_LITERAL or not value:
            return False
        entries = self.literals.setdefault(cls, [])
        if len(entries) >= MAX_PER_CLASS // 4 or self._producers.get((producer, cls), 0) >= PER_PRODUCER[0]:
            return False
        if any(e[0] == src for e in entries):
            return False
        self._producers[(producer, cls)] = self._producers.get((producer, cls), 0) + 1
        entries.append((src, frozenset(imports)))
        self.added += 1
        return True

    def literal_values(self, hint, usage: list[str]) -> list[tuple[str, frozenset]]:
        """Returned literals for a parameter: by its hint, or by its usage when it has none."""
        out = []
        for cls, entries in self.literals.items():
            if hint is inspect.Parameter.empty:
                if LITERAL_TYPES[cls] not in usage:
                    continue
            elif not accepts(hint, cls):
                continue
            out.extend(entries)
        return out

    def receivers(self, cls: type) -> list[Receiver]:
        """Receivers for methods defined on ``cls``: its objects, then its subclasses'."""
        out: list[Receiver] = []
        for k, entries in self.by_class.items():
            if _is_sub(k, cls):
                out.extend(e["receiver"] for e in entries)
        return out

    def values(self, hint) -> list[tuple[str, frozenset]]:
        """Inline objects for a parameter hinted ``hint`` (any object when it has no hint)."""
        untyped = hint is inspect.Parameter.empty
        out = []
        for k, entries in self.by_class.items():
            if not untyped and not accepts(hint, k):
                continue
            for e in entries[: 2 if untyped else MAX_PER_CLASS]:
                if e["inline"]:
                    out.append((e["inline"], e["imports"]))
        return out


MAX_DOCUMENT = 200


def documents(setup: list[str]) -> list[tuple[list[str], str]]:
    """Documents to call a callable object on, shaped like the way it was built: its set-up's
    last statement made it from a chain of item/attribute accesses and a test
    (``q = Query()['a']; qi = q.b == 1``): ``{'a': {'b': 1}}`` (it holds), the same with
    another value (it does not), ``{}`` and ``{'a': {}}`` (the path is missing). A test that
    takes a mapping (``q.fragment({'x': 1})``) is given that mapping at the path; one built
    with an empty mapping or list (``q.fragment({})``) is built again with one entry, so that
    the call has something to check. ``(set-up, document source)`` pairs; none when the object
    was not built that way."""
    if not setup:
        return []
    try:
        node = ast.parse(setup[-1]).body[0]
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            return []
        value = node.value
        if isinstance(value, ast.Compare) and len(value.ops) == 1:
            chain, args = value.left, value.comparators
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            chain, args = value.func.value, value.args
        else:
            return []
        literals = [(i, v) for i, v in ((i, _literal(a)) for i, a in enumerate(args)) if v is not _NO]
        leaf = literals[0][1] if literals else 1
        if literals and isinstance(leaf, (dict, list, tuple)) and not leaf:
            leaf = {"a": 1} if isinstance(leaf, dict) else type(leaf)([1])
            args[literals[0][0]] = ast.parse(repr(leaf), mode="eval").body
            setup = [*setup[:-1], ast.unparse(node)]
        text = inline(list(setup[:-1]), ast.unparse(chain))
        path = _path(ast.parse(text, mode="eval").body) if text else None
    except (SyntaxError, IndexError, ValueError, RecursionError):
        return []
    if path is None:
        return []
    leaves = [leaf[0], leaf] if isinstance(leaf, (list, tuple)) and leaf else [leaf]
    docs = [_nest(path, v) for v in leaves] + [_nest(path, _other(leaves[0]))]
    if path:
        docs += [{}] + ([_nest(path[:-1], {})] if len(path) > 1 else [])
    out: list[tuple[list[str], str]] = []
    for d in docs:
        src = repr(d)
        if len(src) <= MAX_DOCUMENT and all(src != o for _, o in out):
            out.append((list(setup), src))
    return out


_NO = object()


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return _NO


def _path(chain: ast.AST) -> list | None:
    """The keys of ``Query()['a'].b`` (``['a', 'b']``): item and attribute accesses after the
    object was made; method calls on the way (``.map(f)``) are passed over. None when the
    chain is no such access."""
    keys: list = []
    node = chain
    while True:
        if isinstance(node, ast.Subscript):
            key = _literal(node.slice)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                return None
            keys.append(key)
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
            if _dotted_name(node):  # `mod.Query()`: a class spelled through its module
                break
        elif isinstance(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        else:
            break
    return list(reversed(keys))


def _dotted_name(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _nest(path: list, value: object) -> object:
    for key in reversed(path):
        value = {key: value}
    return value


def _other(value: object) -> object:
    """A value of the same type that differs (the document the test should reject)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, dict) and value:
        key = next(iter(value))
        return {**value, key: _other(value[key])}
    return None if value is not None else 0
