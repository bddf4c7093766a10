"""What a call gave back, as something a test can assert: literals, iterators, objects, exceptions.

Also the target module as the search sees it (:class:`Subject`: its namespace and how to spell
its objects in test code) and the keys that tell two results apart (value novelty).
"""

from __future__ import annotations

import ast
import enum
import itertools
import json
import os
import re
import sys
import traceback
import types

ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
MAX_REPR = 600
MAX_ITEMS = 20


def is_literal(value: object, text: str) -> bool:
    try:
        back = ast.literal_eval(text)
    except Exception:
        return False
    try:
        return type(back) is type(value) and back == value
    except Exception:
        return False


def names_in(src: str) -> list[str]:
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return []
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    args = {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args + n.args.kwonlyargs}
    found = []
    for n in ast.walk(tree):
        if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in assigned
                and n.id not in args and n.id not in found):
            found.append(n.id)
    return found


class Subject:
    """The imported target module and how to spell its objects in test code."""

    def __init__(self, module_name: str, module: types.ModuleType, file: str) -> None:
        self.name = module_name
        self.module = module
        self.file = file
        self.base_ns = {"__builtins__": __builtins__}
        self.base_ns.update(vars(module))
        self._import_cache: dict[str, object] = {}

    def namespace(self, import_lines) -> dict:
        ns = dict(self.base_ns)
        for line in import_lines:
            code = self._import_cache.get(line)
            if code is None:
                code = compile(line, "<import>", "exec")
                self._import_cache[line] = code
            exec(code, ns)  # noqa: S102 - inside the sandbox, by design
        return ns

    def imports_for(self, sources, ns: dict, extra=()) -> list[str]:
        """Import lines a test needs for the names the given sources use."""
        out = set(extra)
        builtins_ = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
        for src in sources:
            for name in names_in(src):
                if name in builtins_ and name not in vars(self.module):
                    continue
                obj = ns.get(name)
                if obj is None and name not in ns:
                    continue
                if isinstance(obj, types.ModuleType):
                    out.add(f"import {obj.__name__}" if obj.__name__ == name else f"import {obj.__name__} as {name}")
                elif name in vars(self.module):
                    out.add(f"from {self.name} import {name}")
        return sorted(out)

    def spell_type(self, tp: type) -> tuple[str, list[str]] | None:
        mod, qual = tp.__module__, tp.__qualname__
        if "<" in qual:
            return None
        if mod == "builtins":
            # dict_items, dict_keys, ...: builtins by module, but no name a test can use
            return (qual, []) if getattr(__import__("builtins"), qual, None) is tp else None
        head = qual.split(".")[0]
        if vars(self.module).get(head) is not None and resolve_dotted(self.module, qual) is tp:
            return qual, [f"from {self.name} import {head}"]
        owner = sys.modules.get(mod)
        if owner is not None and resolve_dotted(owner, qual) is tp:
            return f"{mod}.{qual}", [f"import {mod}"]
        return None


def resolve_dotted(owner, dotted: str):
    cur = owner
    for part in dotted.split("."):
        cur = getattr(cur, part, None)
        if cur is None:
            return None
    return cur


class TextHashes:
    """Whether the code called ``hash()`` on text since the last reset. Text hashes change
    with each interpreter's hash seed, so an order the code derives from them (a mapping
    that buckets keys by ``hash(key)``) changes from run to run: such an order is asserted
    sorted. Builtin sets and dicts hash in C, unseen here; the verification's runs under
    other seeds catch their orders."""

    seen = False
    _real = None

    @classmethod
    def install(cls) -> None:
        import builtins

        if cls._real is None:
            cls._real = builtins.hash
            builtins.hash = cls._hash

    @staticmethod
    def _hash(obj: object) -> int:
        if isinstance(obj, (str, bytes)) or (type(obj) is tuple and any(isinstance(x, (str, bytes)) for x in obj)):
            TextHashes.seen = True
        return TextHashes._real(obj)


def observe_value(value: object, subject: Subject, ns: dict, unordered: bool = False) -> dict:
    """How to assert on a returned value: a readable literal when possible."""
    value = _portable().plain_scalar(value)  # numpy.float64(0.5) -> 0.5 (portable.py)
    if value is None:
        return {"kind": "none"}
    if isinstance(value, bool):
        return {"kind": "literal", "src": repr(value)}
    if isinstance(value, float):
        if value != value:
            return {"kind": "nan"}
        if value in (float("inf"), float("-inf")):
            return {"kind": "literal", "src": "float('inf')" if value > 0 else "-float('inf')"}
        return {"kind": "float", "src": repr(value)}
    if isinstance(value, Materialized) or is_iterator(value):
        items = list(itertools.islice(value, MAX_ITEMS + 1))
        if unordered and len(items) > 1:
            if len(items) > MAX_ITEMS:
                return {"kind": "object", "type": None, "attrs": {}}  # which items come first varies
            items.sort(key=repr)
        inner = _literal_obs(items, subject, ns)
        if inner is None:
            return {"kind": "object", "type": None, "attrs": {}}
        inner["kind"] = "iter"
        inner["complete"] = len(items) <= MAX_ITEMS
        if unordered and len(items) > 1:
            inner["unordered"] = True
        if not inner["complete"]:
            inner["src"] = _literal_obs(items[:MAX_ITEMS], subject, ns)["src"]
        return inner
    lit = _literal_obs(value, subject, ns)
    if lit is not None:
        return lit
    lists = _portable().as_lists(value)  # an array: asserted through its tolist()
    if lists is not None and (lit := _literal_obs(lists[0], subject, ns)) is not None and lit["kind"] == "literal":
        lit["via"] = lists[1]
        return lit
    attrs = {}
    try:
        for k, v in list(vars(value).items())[:12]:
            if k.startswith("_"):
                continue
            r = repr(v)
            if len(r) <= 200 and not ADDRESS.search(r) and is_literal(v, r):
                attrs[k] = r
            if len(attrs) >= 6:
                break
    except TypeError:
        pass
    spelled = subject.spell_type(type(value))
    out = {"kind": "object", "attrs": attrs}
    if spelled:
        out["type"], out["imports"] = spelled
    else:
        out["type"] = None
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        out["len"] = len(value)
    return out


def _literal_obs(value: object, subject: Subject, ns: dict) -> dict | None:
    try:
        text = repr(value)
    except Exception:
        return None
    if len(text) > MAX_REPR or ADDRESS.search(text):
        return None
    if is_literal(value, text):
        return {"kind": "literal", "src": text}
    try:
        back = eval(text, dict(ns))  # noqa: S307 - inside the sandbox
        if type(back) is type(value) and back == value:
            return {"kind": "literal", "src": text, "imports": subject.imports_for([text], ns)}
    except BaseException:
        pass
    return None


class Materialized(list):
    """The first items of an iterator the call returned (observed as ``list(...)``)."""


def is_iterator(value: object) -> bool | None:
    """Whether a result is an iterator (materialized under coverage); None when asking raised."""
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset, range)):
        return False
    try:  # a __getattr__ that raises: a broken object the call built (no raise of the call's)
        return isinstance(value, (types.GeneratorType, map, filter, zip, enumerate, reversed, itertools.chain)) or (
            hasattr(value, "__next__") and hasattr(value, "__iter__") and _safe_is(value)
        )
    except Exception:
        return None


def _safe_is(value) -> bool:
    try:
        return iter(value) is value
    except Exception:
        return False


def observe_exception(exc: BaseException, subject: Subject) -> dict:
    # another library's private exception class: its nearest public base (portable.py)
    cls, spelled = _portable().public_exception(type(exc), subject.spell_type, subject.module)
    msg = str(exc)
    if ADDRESS.search(msg):
        msg = ADDRESS.split(msg)[0]
        partial = True
    else:
        partial = False
    tb = traceback.extract_tb(exc.__traceback__)
    in_target = [fr for fr in tb if os.path.abspath(fr.filename) == subject.file]
    last = in_target[-1] if in_target else None
    deliberate = bool(last and (last.line or "").lstrip().startswith("raise")) and tb[-1] is last
    return {
        "kind": "raise",
        "type": spelled[0] if spelled else None,
        "type_name": cls.__name__,
        "imports": spelled[1] if spelled else [],
        "msg": msg[:300],
        "msg_partial": partial or len(msg) > 300,
        "line": last.lineno if last else None,
        "deliberate": deliberate,
        "from_target": tb[-1] is last if last else False,
    }


def obs_key(obs: dict) -> tuple | None:
    """What makes two observations of one callable the same behaviour (for value novelty)."""
    kind = obs.get("kind")
    if kind in ("literal", "float", "iter"):
        return (kind, obs.get("src"), obs.get("complete"))
    if kind in ("none", "nan"):
        return (kind,)
    if kind == "raise":
        return ("raise", obs.get("type_name"))
    if kind == "object":
        return ("object", obs.get("type"), json.dumps(obs.get("attrs"), sort_keys=True, default=repr), obs.get("len"))
    return None


TEXT_DUNDERS = ("__repr__", "__str__", "__format__")


def discrete_result(qualname: str, raw: dict) -> bool:
    """Whether a new result of a call is likely a new behaviour (for value novelty): an
    exception type, None, a bool, an enum member, a string (one from a table, not the text
    form of an object), a container; not a number, which is usually computed from the inputs
    so that every new input gives a new value without a new behaviour."""
    if raw.get("kind") == "raise_obj":
        return True
    if raw.get("kind") != "return":
        return False
    value = raw["value_obj"]
    if value is None or isinstance(value, (bool, enum.Enum)):
        return True
    if isinstance(value, (int, float, complex)):
        return False
    return not (isinstance(value, str) and qualname.rsplit(".", 1)[-1] in TEXT_DUNDERS)


def raw_key(raw: dict) -> tuple | None:
    """A cheap key of a raw result (before the observation is worked out), None when it
    would cost too much to say: a filter so that a repeated result is not observed again."""
    if raw.get("kind") == "raise_obj":
        return ("raise", type(raw["exc"]).__name__)
    if raw.get("kind") != "return":
        return None
    value = raw["value_obj"]
    try:
        if value is None or isinstance(value, (bool, int, float)):
            return ("v", type(value).__name__, repr(value))
        if isinstance(value, (str, bytes)):
            return ("v", type(value).__name__, value) if len(value) <= MAX_REPR else None
        if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) <= MAX_ITEMS + 1:
            text = repr(value)
            return ("v", type(value).__name__, text) if len(text) <= MAX_REPR else None
    except Exception:
        return None
    return None


_portable_mod = None  # portable.py: arrays, array scalars, public exception types (see _portable)


def _portable():
    """portable.py: shipped next to the driver as ``_codeloop_portable.py``; in-process (the
    search's functions used by the host's tests) the package's own file; both one folder up."""
    global _portable_mod
    if _portable_mod is None:
        import importlib.util

        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = os.path.join(here, "_codeloop_portable.py")
        spec = importlib.util.spec_from_file_location(
            "_codeloop_portable", path if os.path.exists(path) else os.path.join(here, "portable.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _portable_mod = mod
    return _portable_mod
