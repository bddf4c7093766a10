"""In-sandbox search driver: import the target under coverage and look for useful calls.

Run as ``python driver.py PLAN.json`` inside the sandbox, next to ``_codeloop_inputs.py``
(a copy of :mod:`codeloop.generate.offline.inputs`). Standard library + coverage.py only;
it never imports ``codeloop``. It prints one JSON event per line, each prefixed with
:data:`MARK` so that whatever the code under test prints cannot be mistaken for an event.

For every callable (function, method, property, constructor) it produces a deterministic
stream of candidate calls (docstring examples, a base call, one-parameter-at-a-time
variations over the input pools, then seeded random combinations) and executes each
with a per-call time limit. A candidate is kept when it covers arcs not seen before;
the observation (return value as a readable literal, exception type and message)
becomes the test's assertion. Examples whose result contradicts the docstring are
reported as probable bugs.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import enum
import faulthandler
import inspect
import io
import itertools
import json
import os
import random
import re
import signal
import sys
import time
import traceback
import types
import typing
import zlib

MARK = "@@codeloop-testgen@@ "
MAX_REPAIRS = 240  # per callable: re-typed copies of wrong-type calls that reached new arcs
ORPHAN_CHECKS = 400  # per callable: other calls traced while such arcs are held by no test
SUSPICIOUS_EXC = {"ZeroDivisionError", "IndexError", "KeyError", "AttributeError", "TypeError",
                  "UnboundLocalError", "RecursionError", "NameError"}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
MAX_REPR = 600
MAX_ITEMS = 20
PLATEAU = 80
RECEIVER_DOCS = 64  # receivers of a __call__ given documents shaped like their set-up (phase R)
RECEIVER_VARIANTS = 16  # constructor calls per class used as receivers (base, then one option each)
BLAND = {"None", "[]", "{}", "()", "''", "set()", "0", "False", "b''", "frozenset()"}
# Rounds: when every callable's search has gone stale and time remains, search again with the
# objects the calls built (receivers, arguments); stop after QUIET_ROUNDS rounds in a row that
# reached no new arc.
MAX_ROUNDS = 12
QUIET_ROUNDS = 4
# Mutation run (after the search, in the time the host set aside): a seeded sample of mutants,
# each checked against the kept calls; a surviving mutant is hunted with a sample of the calls
# that added no arc (RESERVOIR per callable), and a call that kills it is kept as a test
# (MUTANT_KEEPS per callable): a behaviour coverage cannot see.
MUTANT_LIMIT = 60
MUTANT_CALL_TIMEOUT = 0.2  # a mutant that makes a call this slow is killed (an endless loop)
HANG_GRACE = 3.0  # seconds past the search's end before a stuck process exits itself
KILLERS = 3  # kept calls recorded per killed mutant (the host counts those whose tests survive)
RESERVOIR = 24
MUTANT_KEEPS = 2
HUNT = 40
# Then, while time is left, the functions that hold survivors are hunted with variants of their
# own calls (one literal changed, mutants.hunt_variants): at most VARIANT_TRIES variants and
# VARIANT_KEEPS kept calls per function; the hunt also takes up to VARIANT_EXTRA mutants of
# those functions that the sample left out and no kept call kills.
VARIANT_TRIES = 400
VARIANT_KEEPS = 16
VARIANT_CHEAP = 4  # past this many kept calls per function, a variant must kill two mutants
VARIANT_EXTRA = 40
VARIANT_CALLERS = 24  # kept calls varied for a function that has none of its own
VARIANT_PATIENCE = 150  # a function's hunt ends after this many variants in a row that kill nothing
CAP_PER_CALLABLE = 3000
SLICE = 25
# Calls kept although they add no arc (per callable, so that suites stay readable): a result
# or exception type not seen before for that callable, when it is discrete (discrete_result:
# not a number nor repr/str text) (VALUE_CAP; deterministic phases only,
# docstring examples that agree with the docstring too), and one call per entry of a table
# the code looks things up in (TABLE_CAP): a dict lookup or a membership test has no branch
# per entry, so coverage alone never asks for `ordinal(12)` or `pluralize('person')`.
VALUE_CAP = 2
TABLE_CAP = 16
EXTRA_KINDS = ("literal", "float", "iter", "none", "nan", "raise")
NONFINITE = ["float('nan')", "float('inf')", "-float('inf')"]
NONFINITE_TEXT = ["'nan'", "'-inf'"]

_out_fd = None


def emit(event: dict) -> None:
    data = (MARK + json.dumps(event, default=repr) + "\n").encode("utf-8", "replace")
    os.write(_out_fd, data)


class CallTimeout(BaseException):
    """Raised by the interval timer when one call takes too long."""


def _alarm(signum, frame):  # noqa: ARG001
    raise CallTimeout()


# --------------------------------------------------------------------------- values

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
        if vars(self.module).get(head) is not None and _resolve(self.module, qual) is tp:
            return qual, [f"from {self.name} import {head}"]
        owner = sys.modules.get(mod)
        if owner is not None and _resolve(owner, qual) is tp:
            return f"{mod}.{qual}", [f"import {mod}"]
        return None


def _resolve(owner, dotted: str):
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
    if isinstance(value, _Materialized) or _is_iterator(value):
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


class _Materialized(list):
    """The first items of an iterator the call returned (observed as ``list(...)``)."""


def _is_iterator(value: object) -> bool | None:
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


# --------------------------------------------------------------------------- callables

class Callee:
    """One thing to call: a function, a method (with receivers), a property or an operator."""

    def __init__(self, qualname: str, kind: str, obj: object, info: dict, subject: Subject,
                 owner: type | None = None) -> None:
        self.qualname = qualname
        self.attr = qualname.rsplit(".", 1)[-1]  # the name it is reached by (decorators may rename obj)
        self.kind = kind  # function, method, static, property, ctor, operator
        self.obj = obj
        self.info = info or {}
        self.owner = owner
        self.subject = subject
        self.params: list[inspect.Parameter] = []
        self.hints: dict = {}
        self.is_async = inspect.iscoroutinefunction(obj)
        try:
            target = obj if kind != "ctor" else obj
            sig = inspect.signature(target)
            params = list(sig.parameters.values())
            if kind in ("method", "operator", "property") and params:
                params = params[1:]
            self.params = params
        except (TypeError, ValueError):
            self.params = []
        hint_src = obj.__init__ if kind == "ctor" and not _is_dataclass(obj) else obj
        self.hints = resolve_hints(hint_src, subject.module)
        self.exact = any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in self.params) and all(
            p.name in self.hints and is_exact_hint(self.hints[p.name]) for p in self.params
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def resolve_hints(obj, module) -> dict:
    """Type hints of ``obj``; when ``get_type_hints`` fails as a whole (names imported only
    under TYPE_CHECKING, ...), each annotation is evaluated on its own and failures dropped."""
    try:
        return typing.get_type_hints(obj)
    except Exception:
        pass
    target = inspect.unwrap(obj) if callable(obj) else obj
    raw = getattr(target, "__annotations__", None) or {}
    scope = dict(vars(typing))
    scope.update(getattr(target, "__globals__", None) or vars(module))
    out = {}
    for name, ann in raw.items():
        if isinstance(ann, str):
            try:
                ann = eval(ann, scope)  # noqa: S307 - annotation text, inside the sandbox
            except Exception:
                continue
        out[name] = ann
    return out


_EXACT_ATOMS = (int, float, str, bytes, bool, type(None))


def is_exact_hint(tp) -> bool:
    """True when every value the hint allows is one our pools produce faithfully
    (primitives, containers of them, Optional, Literal, enums): only then does a crash
    on such a value count as contradicting the hints."""
    if tp in _EXACT_ATOMS or tp is None:
        return True
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return True
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        return all(is_exact_hint(a) for a in typing.get_args(tp))
    if origin in (list, tuple, set, frozenset, dict):
        return all(is_exact_hint(a) for a in typing.get_args(tp) if a is not Ellipsis)
    return False


def _is_dataclass(obj) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(obj)


OPERATORS = {
    "__len__": ("len({recv})", 0), "__str__": ("str({recv})", 0), "__repr__": ("repr({recv})", 0),
    "__bool__": ("bool({recv})", 0), "__iter__": ("list({recv})", 0), "__eq__": ("{recv} == {0}", 1),
    "__ne__": ("{recv} != {0}", 1), "__lt__": ("{recv} < {0}", 1), "__le__": ("{recv} <= {0}", 1),
    "__gt__": ("{recv} > {0}", 1), "__ge__": ("{recv} >= {0}", 1), "__contains__": ("{0} in {recv}", 1),
    "__getitem__": ("{recv}[{0}]", 1), "__add__": ("{recv} + {0}", 1), "__sub__": ("{recv} - {0}", 1),
    "__mul__": ("{recv} * {0}", 1), "__call__": ("{recv}({args})", -1), "__int__": ("int({recv})", 0),
    "__float__": ("float({recv})", 0), "__format__": ("format({recv}, {0})", 1), "__and__": ("{recv} & {0}", 1),
    "__or__": ("{recv} | {0}", 1), "__neg__": ("-{recv}", 0), "__abs__": ("abs({recv})", 0),
    "__radd__": ("{0} + {recv}", 1), "__truediv__": ("{recv} / {0}", 1), "__hash__": None,
    "__xor__": ("{recv} ^ {0}", 1), "__rsub__": ("{0} - {recv}", 1), "__rmul__": ("{0} * {recv}", 1),
    "__ror__": ("{0} | {recv}", 1), "__rand__": ("{0} & {recv}", 1), "__rxor__": ("{0} ^ {recv}", 1),
    "__mod__": ("{recv} % {0}", 1), "__floordiv__": ("{recv} // {0}", 1), "__pow__": ("{recv} ** {0}", 1),
    "__rtruediv__": ("{0} / {recv}", 1), "__invert__": ("~{recv}", 0), "__pos__": ("+{recv}", 0),
    "__reversed__": ("list(reversed({recv}))", 0),
    # in-place operators: a statement on the receiver, then the receiver is the result
    "__iadd__": ("{recv} += {0}", "inplace"), "__isub__": ("{recv} -= {0}", "inplace"),
    "__imul__": ("{recv} *= {0}", "inplace"), "__ior__": ("{recv} |= {0}", "inplace"),
    "__iand__": ("{recv} &= {0}", "inplace"), "__ixor__": ("{recv} ^= {0}", "inplace"),
    "__itruediv__": ("{recv} /= {0}", "inplace"),
    # the pickle protocol: a round trip runs both halves (an empty object and a full one differ)
    "__getstate__": ("pickle.loads(pickle.dumps({recv}))", 0), "__reduce__": ("pickle.loads(pickle.dumps({recv}))", 0),
    "__setstate__": None, "__copy__": ("copy.copy({recv})", 0), "__deepcopy__": ("copy.deepcopy({recv})", 0),
}
OPERATOR_IMPORTS = {"__getstate__": "import pickle", "__reduce__": "import pickle", "__copy__": "import copy",
                    "__deepcopy__": "import copy"}


def discover(subject: Subject, plan: dict) -> tuple[list[Callee], dict[str, list[Callee]]]:
    """Callables of the module (definition order), and per class its method callees."""
    analysis = plan.get("analysis", {}).get("callables", {})
    member = plan.get("member")
    mod = subject.module
    callees: list[Callee] = []
    methods_by_class: dict[str, list[Callee]] = {}
    for name, obj in list(vars(mod).items()):
        if member and name != member.split(".")[0]:
            continue
        if name.startswith("_") and not member:
            continue
        if inspect.isclass(obj):
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            if ((issubclass(obj, BaseException) or issubclass(obj, enum.Enum) or inspect.isabstract(obj))
                    and not (member and member == name)):
                continue
            ctor = Callee(name, "ctor", obj, analysis.get(name, {}), subject, owner=obj)
            methods: list[Callee] = []
            for attr, raw in list(vars(obj).items()):
                qual = f"{name}.{attr}"
                if member and "." in member and member != qual:
                    continue
                info = analysis.get(qual, {})
                if isinstance(raw, property):
                    if raw.fget is not None and not attr.startswith("_"):
                        methods.append(Callee(qual, "property", raw.fget, info, subject, owner=obj))
                elif isinstance(raw, staticmethod):
                    if not attr.startswith("_"):
                        methods.append(Callee(qual, "static", raw.__func__, info, subject, owner=obj))
                elif isinstance(raw, classmethod):
                    if not attr.startswith("_"):
                        c = Callee(qual, "static", getattr(obj, attr), info, subject, owner=obj)
                        methods.append(c)
                elif inspect.isfunction(raw):
                    if attr in OPERATORS:
                        if OPERATORS[attr] is not None:
                            methods.append(Callee(qual, "operator", raw, info, subject, owner=obj))
                    elif not attr.startswith("_"):
                        methods.append(Callee(qual, "method", raw, info, subject, owner=obj))
            callees.append(ctor)
            callees.extend(methods)
            methods_by_class[name] = methods
        elif callable(obj) and not isinstance(obj, type):
            code_file = _code_file(obj)
            if getattr(obj, "__module__", None) != mod.__name__ and code_file != subject.file:
                continue
            if member and member != name:
                continue
            callees.append(Callee(name, "function", obj, analysis.get(name, {}), subject))
    return callees, methods_by_class


def _code_file(obj) -> str | None:
    inner = inspect.unwrap(obj) if callable(obj) else obj
    code = getattr(inner, "__code__", None) or getattr(getattr(inner, "func", None), "__code__", None)
    return os.path.abspath(code.co_filename) if code else None


# --------------------------------------------------------------------------- candidates

SIZE_NAME = re.compile(r"^(n|k|num|count|size|length|len|width|height|depth|times|repeat|maxlen|limit|steps?|chunk_?size|"
                       r"window|ndigits|precision|places|indent|padding|max_\w+|n_\w+|\w+_(count|size|len|length|width))$")


def _big_int(src: str) -> bool:
    try:
        value = ast.literal_eval(src)
    except Exception:
        return "**" in src
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1000


def _call_key(cand: dict) -> tuple:
    return (tuple(cand.get("setup", [])), cand.get("expr"))


def _literal_is(src: str, kind: type) -> bool:
    """Whether the value source ``src`` is a literal of type ``kind``."""
    try:
        return isinstance(ast.literal_eval(src), kind)
    except Exception:
        return False


def _hint_kinds(tp, depth: int = 0) -> set:
    if tp is str:
        return {"str"}
    if tp is int:
        return {"int"}
    if tp is float:
        return {"number"}
    if tp is typing.Any or tp is object:
        return {"str", "int", "number"}
    out: set = set()
    origin = typing.get_origin(tp)
    if depth < 3 and (origin is typing.Union or type(tp).__name__ == "UnionType"):
        for a in typing.get_args(tp):
            out |= _hint_kinds(a, depth + 1)
    return out


def _entry_fits(value, kinds: set) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return "str" in kinds
    if isinstance(value, int):
        return bool(kinds & {"int", "number"})
    if isinstance(value, float):
        return bool(kinds & {"number", "float"})
    return False


class Generator:
    """Deterministic stream of candidates for one callee."""

    def __init__(self, callee: Callee, builder, inputs_mod, lits, seed: int, ctors: dict, methods: dict) -> None:
        self.c = callee
        self.builder = builder
        self.inputs = inputs_mod
        self.lits = lits
        self.rng = random.Random(seed * 1_000_003 + zlib.crc32(callee.qualname.encode()))
        self.ctors = ctors  # class name -> list of (stmt, var, imports)
        self.methods = methods
        self.count = 0
        self.stale = 0
        self.kept = 0
        self.timeouts = 0
        self.pools = [self._pool(p) for p in callee.params if p.kind not in (p.VAR_KEYWORD,)]
        self.finished = False
        self.in_random = False
        self.corpus: list = []
        self.last_choice = None
        self._seen: set = set()
        self.seen_obs: set = set()  # obs_key of every kept call
        self.raw_seen: set = set()  # raw_key of results already looked at for novelty
        self.kept_calls: set = set()  # (setup, expr) of every kept call
        self.value_kept = 0
        self.table_kept = 0
        self.orphans: set = set()  # arcs only wrong-type calls (not written as tests) reached
        self.repairs: collections.deque = collections.deque()  # candidates tried before the stream's
        self.repairs_left = MAX_REPAIRS
        self.orphan_checks = ORPHAN_CHECKS
        self.objects = None  # the ObjectPool of objects calls returned (set by main)
        self.reservoir: list = []  # a sample of calls that reached nothing new (mutant hunting)
        self._seen_calls = 0
        self._res_rng = random.Random(seed * 7 + zlib.crc32(callee.qualname.encode()))
        self.mutant_kept = 0
        self.round = 1
        self.seed = seed
        self.paired = None  # (text parameter, words parameter) of the examples
        self.text_variants: list[str] = []
        self._example_values()
        self.base_pools = list(self.pools)
        self._it = self._stream()

    def _example_values(self) -> None:
        """Values the documentation's examples assign to names of parameters lead those
        parameters' pools (``doc = '''...'''``; argv lists from a usage text: shapes.example_values)."""
        if _shapes is None:
            return
        found: dict = {}
        for ex in self.c.info.get("examples", []):
            for k, v in _shapes.assigned_literals(list(ex.get("setup", []))).items():
                found.setdefault(k, v)
        params = [p for p in self.c.params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        heads, self.text_variants, pair = _shapes.example_values(found, [p.name for p in params], _module_words)
        names = [p.name for p in self.c.params if p.kind != p.VAR_KEYWORD]
        for name, vals in heads.items():
            i = names.index(name)
            if i < len(self.pools):
                self.pools[i] = self.inputs._dedup([(v, frozenset()) for v in vals] + list(self.pools[i]))
        if pair is not None:
            self.paired = (names.index(pair[0]), names.index(pair[1]))

    def _paired(self, base: list, receivers: list):
        """Each variant of the example text with the word lists that variant adds."""
        text_at, words_at = self.paired
        for text, words in _shapes.paired_lists(self.text_variants, PAIRED_LISTS):
            choice = list(base)
            choice[text_at], choice[words_at] = (repr(text), frozenset()), (repr(words), frozenset())
            made = self._make(choice, [], receivers[0], "pool")
            if made:
                yield made

    def sample(self, cand: dict) -> None:
        """Reservoir sampling of the calls that added nothing (its own random stream, so that
        the search's draws stay the same)."""
        self._seen_calls += 1
        if len(self.reservoir) < RESERVOIR:
            self.reservoir.append(cand)
        else:
            j = self._res_rng.randrange(self._seen_calls)
            if j < RESERVOIR:
                self.reservoir[j] = cand

    def new_round(self, round_no: int) -> None:
        """Search again with what the earlier rounds built: receivers and arguments from the
        object pool, a fresh random stream (deterministic per seed and round); calls already
        made are skipped."""
        self.round = round_no
        self.rng = random.Random(self.seed * 1_000_003 + zlib.crc32(self.c.qualname.encode()) + 7919 * round_no)
        self.count = self.stale = 0
        self.finished = self.in_random = False
        params = [p for p in self.c.params if p.kind != p.VAR_KEYWORD]
        pools = []
        for p, pool in zip(params, self.base_pools, strict=False):
            hint = self.c.hints.get(p.name, p.annotation)
            usage = (self.c.info.get("usage") or {}).get(p.name, [])
            made = (self.objects.values(hint) + self.objects.literal_values(hint, usage)) if self.objects is not None else []
            if made:
                at = 1 if p.name in self.c.hints or p.annotation is not p.empty else 3
                pool = self.inputs._dedup(list(pool[:at]) + made + list(pool[at:]))
            pools.append(pool)
        self.pools = pools
        self._it = self._stream()

    def _pool(self, p: inspect.Parameter):
        pool = self._pool_raw(p)
        if SIZE_NAME.match(p.name):
            # Sizes and counts: a huge value makes C code (tee, deque, "x" * n) run for ages
            # where the per-call timer cannot interrupt it.
            pool = [v for v in pool if not _big_int(v[0])]
        if self.c.info.get("nonfinite"):
            # The code tests for inf/nan: put them where the one-at-a-time phase reaches them
            # (as text too when the parameter takes strings: `float(value)` on 'nan').
            special = list(NONFINITE) if any(_literal_is(s, float) for s, _ in pool[:20]) else []
            if special and any(_literal_is(s, str) for s, _ in pool[:20]):
                special += NONFINITE_TEXT
            pool = pool[:3] + [(s, frozenset()) for s in special] + [v for v in pool[3:] if v[0] not in special]
        return pool

    def param_kinds(self, p: inspect.Parameter) -> set:
        """Primitive kinds a parameter takes (str, int, number), from its hint or usage."""
        hint = self.c.hints.get(p.name, p.annotation)
        if hint is inspect.Parameter.empty:
            usage = (self.c.info.get("usage") or {}).get(p.name, [])
            kinds = {k for k in usage if k in ("str", "int", "number", "float")}
            return kinds or ({"str", "int", "number"} if not [k for k in usage if k not in ("any", "object", "stored")] else set())
        return _hint_kinds(hint)

    def extra_reason(self, cand: dict, obs: dict) -> str | None:
        """Why a call that added no arc is still worth a test (None: it is not)."""
        if obs.get("kind") not in EXTRA_KINDS:
            return None
        if obs["kind"] == "raise" and obs.get("step", 0) < len(cand.get("setup", [])):
            return None  # the set-up failed (building the receiver): nothing about this callable
        key = obs_key(obs)
        origin = cand.get("origin")
        if origin == "table" and self.table_kept < TABLE_CAP:
            if (obs["kind"] == "raise" and key in self.seen_obs) or _call_key(cand) in self.kept_calls:
                return None
            return "table"
        if origin in ("pool", "offtype", "example") and self.value_kept < VALUE_CAP and key not in self.seen_obs:
            return "value"
        return None

    def wants_observation(self, cand: dict, raw: dict) -> bool:
        """Whether a call without new arcs might be kept (then its result is worked out)."""
        origin = cand.get("origin")
        if origin == "table" and self.table_kept < TABLE_CAP:
            if raw.get("kind") == "raise_obj":
                return raw_key(raw) not in self.raw_seen
            return raw.get("kind") == "return"
        if origin in ("pool", "offtype") and self.value_kept < VALUE_CAP:
            key = raw_key(raw)
            if key is None or key in self.raw_seen or not discrete_result(self.c.qualname, raw):
                return False
            self.raw_seen.add(key)
            return True
        return False

    def note_kept(self, cand: dict, obs: dict, why: str | None = None) -> None:
        self.kept_calls.add(_call_key(cand))
        key = obs_key(obs)
        if key is not None:
            self.seen_obs.add(key)
        if why == "table":
            self.table_kept += 1
        elif why == "value":
            self.value_kept += 1

    def _checked_types(self, usage: list[str], pool: list) -> list:
        """Values of the classes the code checks the parameter against (``isinstance(x, date)``);
        a class the code makes itself from other values (``made:``, analysis ``_converted``) is
        made the same way from the parameter's first values (``numpy.array([(1, 2)])``)."""
        out = []
        made = dict(k[5:].split("=", 1) for k in usage if k.startswith("made:") and "=" in k)
        for k in usage:
            if k.startswith("type:") and k[5:] in made:
                plain = [v for v in pool[:6] if v[0] not in ("None", "[]", "()", "''")][:3]
                out.append([(f"{made[k[5:]]}({src})", imps) for src, imps in plain])
            elif k.startswith("type:"):
                # the module's names, then builtins (`isinstance(index, slice)`)
                cls = _resolve(self.c.subject.module, k[5:]) or _resolve(__import__("builtins"), k[5:])
                if isinstance(cls, type) and not issubclass(cls, BaseException):
                    out.append(self._crossing_values(cls, usage) + self.builder.for_type(cls)[:4])
            elif k.startswith("items:"):  # a list of the objects whose attributes the items use
                cls = _resolve(self.c.subject.module, k[6:])
                if isinstance(cls, type) and not issubclass(cls, BaseException):
                    made = [v for v in self.builder.for_type(cls)[:3] if v[0] != "None"]
                    out.append([self.inputs._join(made[a:b], "[{}]") for a, b in ((0, 1), (0, 2), (1, 3)) if made[a:b]])
        return self.inputs._interleave(out) if out else []

    def _crossing_values(self, cls: type, usage: list[str]) -> list:
        """Instances of a checked class that cross the thresholds the code compares it with
        (analysis ``_crossing``): ``Duration(years=-1)`` for ``d.years < 0``, and
        ``timedelta(-1)`` for ``d < timedelta(0)`` when that names the class."""
        spelled = self.builder.namer.spell(cls)
        if spelled is None:
            return []
        try:
            names = set(inspect.signature(cls).parameters)
        except (TypeError, ValueError):
            names = set()
        out = []
        for k in usage:
            if k.startswith("attr:") and k[5:].split("=", 1)[0] in names:
                attr, value = k[5:].split("=", 1)
                out.append((f"{spelled[0]}({attr}={value})", spelled[1]))
            elif k.startswith("value:") and "(" in k:
                func, arg = k[6:].split("(", 1)
                if _resolve(self.c.subject.module, func) is cls:
                    out.append((f"{spelled[0]}({arg}", spelled[1]))
        return out

    def _pool_raw(self, p: inspect.Parameter):
        pool = self._pool_hinted(p)
        usage = (self.c.info.get("usage") or {}).get(p.name, [])
        checked = self._checked_types(usage, pool)
        if checked:
            pool = self.inputs._dedup(list(pool[:2]) + [v for v in checked if v[0] != "None"] + list(pool[2:]))
        hint = self.c.hints.get(p.name, p.annotation)
        if (hint in (inspect.Parameter.empty, typing.Any, object) and p.kind == p.POSITIONAL_OR_KEYWORD
                and "stored" in usage and not [k for k in usage if k not in ("any", "object", "stored")]
                and _open_shapes):
            # takes anything and keeps it for its methods: the shapes the module tells apart
            # (a schema, a spec); a parameter passed straight on to a helper gets its own pool
            opened = self.builder.open_values(_open_shapes, lambda n: _resolve(self.c.subject.module, n))
            pool = self.inputs._dedup(list(pool[:1]) + opened[:8] + _combos + opened[8:] + list(pool[1:]))
            _open_params.add((self.c.qualname, p.name))
        return pool

    def _pool_hinted(self, p: inspect.Parameter):
        hint = self.c.hints.get(p.name, p.annotation)
        usage = (self.c.info.get("usage") or {}).get(p.name, [])
        if p.kind == p.VAR_POSITIONAL:
            if hint is not inspect.Parameter.empty:
                return self.builder.for_type(hint)
            return self.builder.untyped(usage)
        if hint is inspect.Parameter.empty:
            pool = self.builder.untyped(usage)
            if p.default is not p.empty and p.default is not None:
                kind = {bool: "bool", int: "int", float: "number", str: "str", bytes: "bytes",
                        list: "list", tuple: "list", dict: "dict"}.get(type(p.default))
                if kind:
                    pool = self.inputs._interleave([self.builder.by_kind(kind), pool])
            return pool
        return self.builder.for_type(hint)

    def _default_src(self, p: inspect.Parameter) -> str | None:
        if p.default is p.empty:
            return None
        try:
            text = repr(p.default)
        except Exception:
            return "<nonliteral>"
        return text if is_literal(p.default, text) or p.default is None else "<nonliteral>"

    def queue_repairs(self) -> None:
        """A wrong-type call reached arcs no test holds: queue the same call with each argument
        replaced by well-typed values of its parameter and by values of other common types."""
        if self.last_choice is None or self.repairs_left <= 0:
            return
        choice, extras, receiver = self.last_choice
        params = [p for p in self.c.params if p.kind != p.VAR_KEYWORD]
        for i, (p, pool) in enumerate(zip(params, self.pools, strict=False)):
            if p.kind == p.VAR_POSITIONAL or i >= len(choice):
                continue
            for val in self.inputs._dedup(list(pool[:3]) + list(self.inputs.OTHER_TYPES)):
                if self.repairs_left <= 0 or val == choice[i]:
                    continue
                trial = list(choice)
                trial[i] = val
                self._repair(trial, extras, receiver)
        if receiver is not None:  # the wrong type may be in the receiver's construction
            for rec in self._receivers()[:8]:
                if rec[0] != receiver[0]:
                    self._repair(list(choice), extras, rec)
        self.last_choice = (choice, extras, receiver)

    def repair_from(self, receiver) -> None:
        """Repairs of this method called on ``receiver`` (a set-up call of another test failed
        with a wrong type): its base call with each parameter set to other values."""
        params = [p for p in self.c.params if p.kind != p.VAR_KEYWORD]
        base = [None if (p.kind == p.VAR_POSITIONAL or p.default is not p.empty) else (pool[0] if pool else ("None", frozenset()))
                for p, pool in zip(params, self.pools, strict=False)]
        self.last_choice = (base, [], receiver)
        self.queue_repairs()
        self._repair(base, [], receiver)

    def _repair(self, choice: list, extras: list, receiver) -> None:
        if self.repairs_left <= 0:
            return
        made = self._make(choice, list(extras), receiver, "repair")
        if made:
            self.repairs_left -= 1
            made["id"] = f"{self.c.qualname}#r{MAX_REPAIRS - self.repairs_left}"
            self.repairs.append((made, (list(choice), list(extras), receiver)))

    def next(self):
        """The next candidate; None for an unusable or repeated draw (counts as stale)."""
        cand = self._next()
        if cand is not None and self.round > 1 and "@" not in cand["id"]:
            cand["id"] = f"{cand['id']}@{self.round}"  # ids stay unique across rounds
        return cand

    def _next(self):
        if self.repairs:
            cand, self.last_choice = self.repairs.popleft()  # its own arguments, for repairs of it
            return cand
        try:
            cand = next(self._it)
        except StopIteration:
            self.finished = True
            return None
        if cand is not None:
            # A table entry is worth its own call even when an earlier phase made the same one
            # (then it added no arc and was not kept; as a table entry it may be).
            key = (tuple(cand["setup"]), cand["expr"], cand.get("origin") == "table")
            if key in self._seen:
                return None
            if len(self._seen) < 50000:
                self._seen.add(key)
        return cand

    # The call expression for chosen argument sources (None = leave the default).
    def _call_src(self, choice: list, extras: list) -> tuple[str, list[str]] | None:
        pos: list[str] = []
        kw: list[str] = []
        imps: list[str] = []
        positional = bool(extras)
        params = [p for p in self.c.params if p.kind != p.VAR_KEYWORD]
        for p, val in zip(params, choice, strict=False):
            if p.kind == p.VAR_POSITIONAL:
                continue
            if val is None:
                if p.default is p.empty:
                    return None
                if positional and p.kind != p.KEYWORD_ONLY:
                    d = self._default_src(p)
                    if d == "<nonliteral>":
                        return None
                    pos.append(d)
                continue
            src, vimps = val
            imps.extend(vimps)
            if p.kind == p.POSITIONAL_ONLY or (p.kind == p.POSITIONAL_OR_KEYWORD and (p.default is p.empty or positional)):
                pos.append(src)
            else:
                kw.append(f"{p.name}={src}")
        for src, vimps in extras:
            imps.extend(vimps)
            pos.append(src)
        return ", ".join(pos + kw), imps

    def _wrap(self, argstr: str, receiver) -> tuple[list[str], str, list[str]] | None:
        c = self.c
        setup: list[str] = []
        imps: list[str] = []
        if c.kind == "function" or c.kind == "ctor" or c.kind == "static":
            expr = f"{c.qualname}({argstr})"
        else:
            if receiver is None:
                return None
            rsetup, var, rimps = receiver
            setup.extend(rsetup)
            imps.extend(rimps)
            if c.kind == "property":
                expr = f"{var}.{c.attr}"
            elif c.kind == "operator":
                tmpl, n = OPERATORS[c.attr]
                if c.attr in OPERATOR_IMPORTS:
                    imps.append(OPERATOR_IMPORTS[c.attr])
                parts = [a.strip() for a in argstr.split(",")] if argstr else []
                if n == -1:
                    expr = tmpl.format(recv=var, args=argstr)
                elif n == "inplace":
                    if not argstr or len(self.c.params) < 1:
                        return None
                    setup.append(tmpl.format(argstr, recv=var))
                    expr = var
                elif n == 1:
                    if not argstr or len(self.c.params) < 1:
                        return None
                    expr = tmpl.format(argstr, recv=var)
                else:
                    expr = tmpl.format(recv=var)
                del parts
            else:
                expr = f"{var}.{c.attr}({argstr})"
        if c.is_async:
            expr = f"asyncio.run({expr})"
            imps.append("import asyncio")
        return setup, expr, imps

    def _example_imports(self, sources: list[str]) -> list[str]:
        """Examples are often written as ``pkg.func(...)``: import the modules they name."""
        ns = self.c.subject.base_ns
        builtins_ = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
        out = []
        top = self.c.subject.name.split(".")[0]
        for name in names_in("\n".join(sources)):
            if name in ns or name in builtins_:
                continue
            if name == top or name in sys.modules:
                out.append(f"import {name}")
        return out

    def _receivers(self):
        if self.c.owner is None:
            return []
        own = self.ctors.get(self.c.owner.__name__, [])
        made = self.objects.receivers(self.c.owner) if self.objects is not None else []
        return own + made if made else own

    def _pre_calls(self, var: str) -> tuple[list[str], list[str]]:
        owner = self.c.owner.__name__ if self.c.owner is not None else None
        options = [m for m in self.methods.get(owner, []) if m.kind == "method" and m is not self.c]
        if not options or self.rng.random() < 0.4:
            return [], []
        stmts, imps = [], []
        for _ in range(self.rng.choice([1, 1, 2, 3])):
            m = self.rng.choice(options)
            g = _gen_cache.get(m.qualname)
            if g is None:
                continue
            choice = g._random_choice()
            call = g._call_src(choice, [])
            if call is None:
                continue
            stmts.append(f"{var}.{m.attr}({call[0]})")
            imps.extend(call[1])
        return stmts, imps

    def _random_choice(self) -> list:
        choice = []
        params = [p for p in self.c.params if p.kind != p.VAR_KEYWORD]
        for p, pool in zip(params, self.pools, strict=False):
            if p.kind == p.VAR_POSITIONAL:
                choice.append(None)
                continue
            if p.default is not p.empty and self.rng.random() < 0.35:
                choice.append(None)
                continue
            hint = self.c.hints.get(p.name, p.annotation)
            kind = self.inputs.kind_of_type(hint) if hint is not inspect.Parameter.empty else None
            if kind is None and hint is inspect.Parameter.empty:
                usage = (self.c.info.get("usage") or {}).get(p.name, [])
                kind = next((k for k in usage if k in ("int", "str", "number", "bool")), None)
                if kind is None and not [k for k in usage if k not in ("any", "object", "stored")]:
                    kind = self.rng.choice(("str", "str", "int"))  # nothing known: text, sometimes a number
            if kind and self.rng.random() < 0.25:
                src = self.inputs.random_primitive(self.rng, kind, self.lits)
                if src is not None and SIZE_NAME.match(p.name) and _big_int(src):
                    src = repr(self.rng.randint(-2, 50))
                if src is not None:
                    choice.append((src, frozenset()))
                    continue
            if pool:
                idx = min(int(self.rng.expovariate(1 / max(3.0, len(pool) / 3))), len(pool) - 1)
                choice.append(pool[idx])
            else:
                choice.append(("None", frozenset()))
        return choice

    def _extras(self) -> list:
        var = [p for p in self.c.params if p.kind == p.VAR_POSITIONAL]
        if not var:
            return []
        pool = self.pools[[p.kind for p in self.c.params if p.kind != p.VAR_KEYWORD].index(inspect.Parameter.VAR_POSITIONAL)]
        n = self.rng.choice([0, 1, 2, 3])
        return [pool[min(int(self.rng.expovariate(0.3)), len(pool) - 1)] for _ in range(n)] if pool else []

    def _stream(self):
        c = self.c
        n = 0
        # A: examples from docstrings and comments.
        for ex in c.info.get("examples", []):
            n += 1
            setup = list(ex.get("setup", []))
            yield {"id": f"{c.qualname}#{n}", "func": c.qualname, "setup": setup,
                   "expr": ex["call"], "imports": self._example_imports(setup + [ex["call"]]),
                   "origin": "example", "example": ex}
        if c.kind in ("method", "property", "operator") and not self._receivers():
            return
        params = [p for p in c.params if p.kind != p.VAR_KEYWORD]
        base = []
        for p, pool in zip(params, self.pools, strict=False):
            if p.kind == p.VAR_POSITIONAL or p.default is not p.empty:
                base.append(None)
            else:
                base.append(pool[0] if pool else ("None", frozenset()))
        receivers = self._receivers() or [None]
        # B: the base call with each receiver.
        for rec in receivers[: max(1, len(receivers))]:
            made = self._make(base, [], rec, "pool")
            if made:
                n += 1
                made["id"] = f"{c.qualname}#{n}"
                yield made
        # R: a callable object called on documents shaped like the path it was built from
        # (objects.documents: `Query()['a'] == 1` on {'a': 1}, {'a': 2} and {}).
        if c.attr == "__call__" and params and params[0].kind != params[0].VAR_POSITIONAL and _objects is not None:
            for rec in receivers[:RECEIVER_DOCS]:
                for setup, doc in (_objects.documents(rec[0]) if rec is not None else []):
                    choice = list(base)
                    choice[0] = (doc, frozenset())
                    made = self._make(choice, [], (setup, rec[1], rec[2]), "pool")
                    if made:
                        n += 1
                        made["id"] = f"{c.qualname}#{n}"
                        yield made
        # S: two sequences whose items the code compares (`s1[i] != s2[j]`) get texts that
        # differ a little (a swap, a drop, a change, an addition: inputs.similar_pairs).
        usage = c.info.get("usage") or {}
        names = [p.name for p in params]
        for ia, p in enumerate(params):
            other = next((k[8:] for k in usage.get(p.name, []) if k.startswith("similar:")), None)
            if other not in names or p.kind == p.VAR_POSITIONAL:
                continue
            ib = names.index(other)
            if params[ib].kind == params[ib].VAR_POSITIONAL:
                continue
            seeds = [ast.literal_eval(v[0]) for v in self.pools[ia][:12] if _literal_is(v[0], str)]
            seeds = [t for t in seeds if len(t) >= 6][:1] + self.inputs.SIMILAR_SEEDS
            for first, second in self.inputs.similar_pairs(seeds):
                for rec in receivers[:RECEIVER_VARIANTS]:
                    choice = list(base)
                    choice[ia], choice[ib] = (first, frozenset()), (second, frozenset())
                    made = self._make(choice, [], rec, "pool")
                    if made:
                        n += 1
                        made["id"] = f"{c.qualname}#{n}"
                        yield made
            break
        # T: data shaped like what the receiver was built from (a validator on data like its
        # schema, a pattern on text like it), for the first parameter that takes anything.
        at = self._shape_param()
        if at is not None:
            for rec in receivers[:SHAPED_RECEIVERS]:
                for src in self._shaped(rec):
                    choice = list(base)
                    choice[at] = (src, frozenset())
                    made = self._make(choice, [], rec, "pool")
                    if made:
                        n += 1
                        made["id"] = f"{c.qualname}#{n}"
                        yield made
        # U: a method that asks whether `self` is an instance of its class, called through the
        # class on values that are not (``OrderedSet.union([1, 2], [3])``)
        if c.kind == "method" and _shapes is not None and _shapes.checks_self_type(c.obj):
            first = next((p for p in self.pools if p), [])
            for val in [v for v in first if v[0].startswith(("[", "("))][:2] or [("[1, 2]", frozenset())]:
                for extras in ([], list(first[:1])) if any(p.kind == p.VAR_POSITIONAL for p in params) else ([],):
                    call = self._call_src(base, extras)
                    if call is None:
                        continue
                    n += 1
                    args = ", ".join(x for x in (val[0], call[0]) if x)
                    yield {"id": f"{c.qualname}#{n}", "func": c.qualname, "setup": [], "expr": f"{c.qualname}({args})",
                           "imports": sorted(set(call[1]) | set(val[1])), "origin": "pool", "hinted": False}
        # P: an example text's variants, each with the argument lists it describes
        if self.paired is not None:
            for made in self._paired(base, receivers):
                n += 1
                made["id"] = f"{c.qualname}#{n}"
                yield made
        # C: one parameter at a time over its pool, round-robin so that every parameter
        # (the last keyword-only flag too) gets its first values early.
        for p, pool in zip(params, self.pools, strict=False):
            if p.kind == p.VAR_POSITIONAL:
                for k in (1, 2):
                    made = self._make(base, list(pool[:k]), receivers[0], "pool")
                    if made:
                        n += 1
                        made["id"] = f"{c.qualname}#{n}"
                        yield made
        for j in range(40):
            for i, (p, pool) in enumerate(zip(params, self.pools, strict=False)):
                if p.kind == p.VAR_POSITIONAL or j >= len(pool):
                    continue
                choice = list(base)
                choice[i] = pool[j]
                rec = receivers[j % len(receivers)] if (j < 3 or self.round > 1) else receivers[0]
                made = self._make(choice, [], rec, "pool")
                if made:
                    n += 1
                    made["id"] = f"{c.qualname}#{n}"
                    yield made
        # C': values of the wrong type for hinted parameters (validation branches), only where
        # the code checks types itself or documents a TypeError.
        for i, p in enumerate(params):
            hint = c.hints.get(p.name, inspect.Parameter.empty)
            if p.kind == p.VAR_POSITIONAL or hint is inspect.Parameter.empty or not c.info.get("checks_types"):
                continue
            for val in self.inputs.off_type_values(hint):
                choice = list(base)
                choice[i] = val
                made = self._make(choice, [], receivers[0], "offtype")
                if made:
                    n += 1
                    made["id"] = f"{c.qualname}#{n}"
                    yield made
        # K: `**kwargs` with one keyword at a time: names the code or the class uses, and one
        # it does not know (validation of unknown keywords).
        var_kw = [p for p in c.params if p.kind == p.VAR_KEYWORD]
        if var_kw:
            hint = c.hints.get(var_kw[0].name, inspect.Parameter.empty)
            values = (self.builder.for_type(hint) if hint is not inspect.Parameter.empty
                      else self.builder.untyped([]))[:2]
            for name in self._keyword_names()[:6]:
                for val in values:
                    call = self._call_src(base, [])
                    if call is None:
                        break
                    argstr = ", ".join(x for x in (call[0], f"{name}={val[0]}") if x)
                    wrapped = self._wrap(argstr, receivers[0])
                    if wrapped is None:
                        break
                    setup, expr, wimps = wrapped
                    n += 1
                    yield {"id": f"{c.qualname}#{n}", "func": c.qualname, "setup": setup, "expr": expr,
                           "imports": sorted(set(call[1]) | set(val[1]) | set(wimps)), "origin": "pool",
                           "hinted": False}
        # T: each entry of the tables the code looks things up in, for the parameters of a
        # matching type (the lookup key's parameters when the analysis saw them).
        tables = c.info.get("tables") or []
        if tables:
            for i, p in enumerate(params):
                if p.kind == p.VAR_POSITIONAL:
                    continue
                kinds = self.param_kinds(p)
                values: list = []
                for tab in tables:
                    if tab.get("params") and p.name not in tab["params"]:
                        continue
                    for v in tab.get("values", []):
                        if _entry_fits(v, kinds) and not any(type(v) is type(o) and v == o for o in values):
                            values.append(v)
                for v in values[: 2 * TABLE_CAP]:
                    choice = list(base)
                    choice[i] = (repr(v), frozenset())
                    made = self._make(choice, [], receivers[0], "table")
                    if made:
                        n += 1
                        made["id"] = f"{c.qualname}#{n}"
                        yield made
        # D: seeded random combinations, receivers and call sequences.
        self.in_random = True
        while True:
            receivers = self._receivers() or [None]
            rec = self.rng.choice(receivers)
            pre: list[str] = []
            pimps: list[str] = []
            if rec is not None:
                pre, pimps = self._pre_calls(rec[1])
                rec = (rec[0] + pre, rec[1], rec[2] + pimps)
            if self.corpus and self.rng.random() < 0.5:
                # Mutate a call that was kept: deep branches need several parameters set at once.
                choice, extras, _ = self.rng.choice(self.corpus)
                choice = list(choice)
                fresh = self._random_choice()
                for _ in range(self.rng.choice([1, 1, 2, 3])):
                    if choice:
                        i = self.rng.randrange(len(choice))
                        choice[i] = fresh[i]
                if choice and c.info.get("checks_types") and self.rng.random() < 0.15:
                    # A wrong-type value on top of a kept call: validation deep in a code path.
                    i = self.rng.randrange(len(choice))
                    hint = c.hints.get(params[i].name, inspect.Parameter.empty)
                    if hint is not inspect.Parameter.empty and params[i].kind != params[i].VAR_POSITIONAL:
                        choice[i] = self.rng.choice(self.inputs.off_type_values(hint))
                self._shape_choice(choice, rec)
                made = self._make(choice, list(extras), rec, "random")
            else:
                choice = self._random_choice()
                self._shape_choice(choice, rec)
                made = self._make(choice, self._extras(), rec, "random")
            if made:
                n += 1
                made["id"] = f"{c.qualname}#{n}"
                yield made
            else:
                n += 1  # keep ids stable even when a draw is unusable
                yield None

    def _shape_param(self) -> int | None:
        """Index of a method's first parameter that takes anything (no hint, Any, object)."""
        if self.c.kind != "method":
            return None
        for i, p in enumerate(x for x in self.c.params if x.kind != x.VAR_KEYWORD):
            if p.kind == p.VAR_POSITIONAL:
                return None
            hint = self.c.hints.get(p.name, p.annotation)
            return i if hint in (inspect.Parameter.empty, typing.Any, object) else None
        return None

    def _shaped(self, receiver) -> list[str]:
        """Data shaped like the first argument the receiver was built from (cached)."""
        key = tuple(receiver[0])
        if key not in _shaped_cache:
            arg = _shapes.construction_argument(receiver[0], receiver[1]) if _shapes is not None else None
            if len(_shaped_cache) >= SHAPED_CACHE:  # set-ups with random pre-calls: many, each once
                return _shapes.shaped_data(arg) if arg else []
            _shaped_cache[key] = _shapes.shaped_data(arg) if arg else []
        return _shaped_cache[key]

    def _shape_choice(self, choice: list, receiver) -> None:
        """Sometimes (seeded) put data shaped like the receiver in the parameter that takes anything."""
        at = self._shape_param() if receiver is not None else None
        shaped = self._shaped(receiver) if at is not None and at < len(choice) else []
        if shaped and self.rng.random() < SHAPED_SHARE:  # no draw otherwise: other streams stay the same
            choice[at] = (self.rng.choice(shaped), frozenset())

    def _keyword_names(self) -> list[str]:
        """Keyword names worth passing to ``**kwargs``: the class's constructor parameters,
        identifier-like strings the code uses, then one unknown name."""
        taken = {p.name for p in self.c.params}
        names: list[str] = []
        owner_ctor = None
        if self.c.owner is not None:
            owner_ctor = _gen_cache.get(self.c.owner.__name__)
        sources = [p.name for p in owner_ctor.c.params] if owner_ctor is not None else []
        sources += [s for s in self.lits.strs if isinstance(s, str)]
        for s in sources:
            if s.isidentifier() and not s.startswith("_") and s not in taken and s not in names:
                names.append(s)
        return names[:5] + ["unknown_option"]

    def remember(self) -> None:
        """The current candidate was kept: its arguments join the mutation corpus."""
        if self.last_choice is not None and len(self.corpus) < 200:
            self.corpus.append(self.last_choice)

    def _make(self, choice, extras, receiver, origin):
        self.last_choice = (list(choice), list(extras), receiver)
        call = self._call_src(choice, extras)
        if call is None:
            return None
        argstr, imps = call
        wrapped = self._wrap(argstr, receiver)
        if wrapped is None:
            return None
        setup, expr, wimps = wrapped
        hinted = self.c.exact and origin == "pool"
        return {"func": self.c.qualname, "setup": setup, "expr": expr, "imports": sorted(set(imps) | set(wimps)),
                "origin": origin, "hinted": hinted}


_gen_cache: dict[str, Generator] = {}
_open_shapes: list[str] = []  # the module's checked types (analysis "checked_types"), set in main
_open_params: set = set()  # (callable, parameter) that got open values: one receiver per shape
_combos: list = []  # the module's classes combined with each other and their options (shapes.combos)
_shaped_cache: dict = {}  # receiver set-up -> data shaped like what it was built from
SHAPED_RECEIVERS = 96  # receivers whose shaped data a method gets in its deterministic phase
SHAPED_SHARE = 0.3  # random calls on a receiver that take data shaped like it
SHAPED_CACHE = 4096
PAIRED_LISTS = 8  # word lists per variant of an example text (the text's own: in the words' pool)
_module_words: list[str] = []  # lower-case identifiers among the code's string literals (keywords)
_shapes = None  # the shipped shapes module (loaded in main)
OPEN_RECEIVERS = 16
_objects = None  # the shipped objects module (loaded in main)


def _open_with_options(c: Callee, g: Generator, base: list) -> list[list]:
    """Constructor choices with an open parameter set to a composite value (a dict) and one
    other parameter to its first value other than the default (``Check({...}, strict=True)``):
    the options matter on objects built from rich values, not on ``Check(1, strict=True)``."""
    params = [p for p in c.params if p.kind != p.VAR_KEYWORD]
    at = next((i for i, p in enumerate(params) if (c.qualname, p.name) in _open_params), None)
    if at is None or not _combos:  # only where the module's classes combine (a validator, a spec)
        return []
    rich = [v for v in g.pools[at] if v[0].startswith("{")][:2]
    out = []
    for i, (p, pool) in enumerate(zip(params, g.pools, strict=False)):
        if i == at or p.kind == p.VAR_POSITIONAL:
            continue
        dflt = g._default_src(p)
        other = next((v for v in pool if v[0] != dflt and v[0] not in BLAND), None)
        for value in rich if other is not None else []:
            ch = list(base)
            ch[at], ch[i] = value, other
            out.append(ch)
    return out


def build_receivers(callees: list[Callee], generators: dict[str, Generator]) -> dict:
    """Instance set-up statements per class, from its constructor's pool."""
    ctors: dict[str, list] = {}
    for c in callees:
        if c.kind != "ctor":
            continue
        g = generators[c.qualname]
        var = _objects.var_name(c.qualname, vars(c.subject.module))
        params = [p for p in c.params if p.kind != p.VAR_KEYWORD]
        base = [None if (p.kind == p.VAR_POSITIONAL or p.default is not p.empty) else (pool[0] if pool else ("None", frozenset()))
                for p, pool in zip(params, g.pools, strict=False)]
        options = []
        variants = [base]
        # every parameter's first telling value before any parameter's second; a constructor
        # of one or two parameters gets more of them (a reader over several texts)
        per_param = max(2, min(6, (RECEIVER_VARIANTS - 1) // max(1, len(params))))
        open_n = OPEN_RECEIVERS + len(_combos)  # the open shapes, then the combined ones
        for k in range(max(per_param, open_n)):
            for i, (_p, pool) in enumerate(zip(params, g.pools, strict=False)):
                if k >= (open_n if (c.qualname, _p.name) in _open_params else per_param):
                    continue
                # telling: not the base value, not None or empty (a default usually is); with a
                # default that is not bland itself, anything else (`restricted=False` when True is
                # the default)
                dflt = g._default_src(_p)
                telling = [v for v in pool[1:] if (v[0] not in BLAND or (dflt not in BLAND | {None, "<nonliteral>"}))
                           and v[0] != dflt and (base[i] is None or v != base[i])]
                if k < len(telling):
                    ch = list(base)
                    ch[i] = telling[k]
                    variants.append(ch)
        variants[1:1] = _open_with_options(c, g, base)
        is_open = any(c.qualname == q for q, _ in _open_params)
        for ch in variants[:RECEIVER_VARIANTS + open_n * is_open]:
            call = g._call_src(ch, [])
            if call is None:
                continue
            options.append(([f"{var} = {c.qualname}({call[0]})"], var, sorted(set(call[1]))))
        if is_open:  # the class itself combined with the others and its options
            options += [([f"{var} = {src}"], var, sorted(imps)) for src, imps in _combos if src.startswith(f"{c.qualname}(")]
        ctors[c.qualname] = options
    return ctors


def builds(subject: Subject, receiver, timeout: float) -> bool:
    """Whether a receiver's set-up runs without an exception (outside coverage)."""
    setup, _var, imps = receiver
    try:
        ns = subject.namespace(imps)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for stmt in setup:
                exec(_compiled(stmt, "exec"), ns)  # noqa: S102
        return True
    except BaseException:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def arrange_receivers(ctors: dict, subject: Subject, objects_mod, timeout: float) -> dict:
    """Receivers per class: those of its own constructor that build, then those of the
    module's subclasses of it (a base class whose constructor refuses to build, or whose
    methods behave differently on a subclass, is tested through its subclasses)."""
    works = {name: [r for r in opts if builds(subject, r, timeout)] for name, opts in ctors.items()}
    out = {}
    for name in ctors:
        cls = vars(subject.module).get(name)
        subs = [works.get(k.__name__, []) for k in objects_mod.subclasses_in(cls, subject.module)] if inspect.isclass(cls) else []
        others = [r for group in itertools.zip_longest(*subs) for r in group if r is not None]
        own = works[name]
        out[name] = own[:4] + others[:4] + own[4:] + others[4:] if own else others
    return out


# --------------------------------------------------------------------------- execution

class Argv(list):
    """``sys.argv`` while the code under test runs: its program name only, and a note when the
    code reads the arguments (``parse_args()``, ``len(sys.argv)``): what such a call returns
    depends on the command line of whatever runs it (the driver here, pytest later), so it
    makes no test."""

    read = False

    def _note(self) -> None:
        Argv.read = True

    def __getitem__(self, i):
        if i != 0:
            self._note()
        return super().__getitem__(i)

    def __len__(self) -> int:
        self._note()
        return super().__len__()

    def __iter__(self):
        self._note()
        return super().__iter__()


class Runner:
    def __init__(self, subject: Subject, cov, call_timeout: float) -> None:
        self.subject = subject
        self.cov = cov
        self.call_timeout = call_timeout
        self.known: set = set()
        self.file = subject.file
        self._live_size = -1
        self.last_value = None  # what the last executed call returned (objects join the pool)
        self.last_ns: dict = {}
        self.last_cpu = 0.0  # CPU seconds of the last call
        try:
            with open(self.file, "rb") as fh:
                self.nlines = fh.read().count(b"\n") + 1
        except OSError:
            self.nlines = 10**6

    def arcs(self) -> set:
        """Arcs covered so far in the target file (opaque, comparable items).

        Reads the collector's live set when coverage.py exposes it (a set per file that only
        grows), which is ~50x cheaper than ``get_data()``; falls back to the public API.
        """
        live = getattr(getattr(self.cov, "_collector", None), "data", None)
        if isinstance(live, dict):
            items = live.get(self.file)
            if items is None:
                return set(self.known)
            if isinstance(items, (set, dict)):
                if len(items) == self._live_size:
                    return self.known
                self._live_size = len(items)
                return set(items)
        data = self.cov.get_data()
        return set(data.arcs(self.file) or ())

    def execute(self, cand: dict, want=None) -> tuple[dict, set]:
        """Run a candidate; return (observation, new arcs).

        The observation (repr, literal check, imports) is only worked out when the call
        covered something new or ``want(obs_kind)`` asks for it: it costs more than the call.
        """
        subject = self.subject
        ns = subject.namespace(cand.get("imports", []))
        self.last_ns = ns
        out = io.StringIO()
        raw: dict
        step = -1
        iterating = False
        self.last_value = None
        Argv.read = False
        TextHashes.seen = False
        cpu = time.process_time()
        self.cov.start()
        signal.setitimer(signal.ITIMER_REAL, self.call_timeout)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                for step, stmt in enumerate(cand.get("setup", [])):  # noqa: B007 - read by the handler below
                    exec(_compiled(stmt, "exec"), ns)  # noqa: S102
                step = len(cand.get("setup", []))
                value = eval(_compiled(cand["expr"], "eval"), ns)  # noqa: S307
                is_iter = _is_iterator(value)
                if is_iter:
                    # Generators run their body only when iterated: do it under coverage.
                    iterating = True
                    value = _Materialized(itertools.islice(value, MAX_ITEMS + 1))
                    iterating = False
                raw = {"kind": "return", "value_obj": value}
                self.last_value = value if is_iter is not None else None  # a broken object builds nothing
        except CallTimeout:
            raw = {"kind": "timeout"}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt raised by the code are results too
            raw = {"kind": "raise_obj", "exc": exc}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.cov.stop()
        self.last_cpu = time.process_time() - cpu
        arcs = self.arcs()
        new = arcs - self.known if arcs is not self.known else set()
        if new:
            self.known |= new
        if raw["kind"] == "timeout":
            return {"kind": "timeout"}, new
        if Argv.read:
            return {"kind": "unobservable"}, new
        if not new and not (want and want(raw)):
            return {"kind": "skipped"}, new
        try:
            signal.setitimer(signal.ITIMER_REAL, self.call_timeout)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                if raw["kind"] == "return":
                    final = observe_value(raw.pop("value_obj"), subject, ns, unordered=TextHashes.seen)
                else:
                    final = observe_exception(raw.pop("exc"), subject)
                    final["step"] = step
                    final["iterating"] = iterating
                final["needs"] = subject.imports_for(list(cand.get("setup", [])) + [cand["expr"]], ns,
                                                     cand.get("imports", []))
        except BaseException:
            final = {"kind": "unobservable"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        final["stdout"] = out.getvalue()[:500]
        return final, new


_code_cache: dict = {}


def _compiled(src: str, mode: str):
    key = (src, mode)
    code = _code_cache.get(key)
    if code is None:
        if len(_code_cache) > 20000:
            _code_cache.clear()
        code = compile(src, "<setup>" if mode == "exec" else "<call>", mode)
        _code_cache[key] = code
    return code


def _same(a: dict, b: dict) -> bool:
    keys = ("kind", "src", "type", "msg", "attrs", "len", "iterating", "step", "stdout")
    return all(a.get(k) == b.get(k) for k in keys)


def run_quietly(ns: dict, cand: dict) -> object:
    """A candidate's set-up and expression run in ``ns`` with their output swallowed; an
    iterator result is drained (its first items) while the output is still swallowed. The
    caller arms the alarm and decides what coverage sees."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for stmt in cand.get("setup", []):
            exec(_compiled(stmt, "exec"), ns)  # noqa: S102
        value = eval(_compiled(cand["expr"], "eval"), ns)  # noqa: S307
        if _is_iterator(value):
            value = _Materialized(itertools.islice(value, MAX_ITEMS + 1))
    return value


def trace_arcs(runner: Runner, cand: dict) -> set | None:
    """Line arcs in the target file for one candidate, with a plain ``sys.settrace`` tracer
    (outside coverage.py, so the two never interfere). None when the call times out."""
    file = runner.file
    arcs: set = set()
    known_files: dict = {}

    def is_target(code) -> bool:
        name = code.co_filename
        hit = known_files.get(name)
        if hit is None:
            hit = known_files[name] = os.path.abspath(name) == file
        return hit

    def global_trace(frame, event, arg):  # noqa: ARG001
        if not is_target(frame.f_code):
            return None
        last = [-frame.f_code.co_firstlineno]

        def local(frame, event, arg):  # noqa: ARG001
            if event == "line":
                arcs.add((last[0], frame.f_lineno))
                last[0] = frame.f_lineno
            elif event == "return":
                arcs.add((last[0], -frame.f_code.co_firstlineno))
            return local

        return local

    ns = runner.subject.namespace(cand.get("imports", []))
    signal.setitimer(signal.ITIMER_REAL, runner.call_timeout)
    sys.settrace(global_trace)
    try:
        run_quietly(ns, cand)
    except CallTimeout:
        return None
    except BaseException:
        pass
    finally:
        sys.settrace(None)
        signal.setitimer(signal.ITIMER_REAL, 0)
    return arcs


def simplify(runner: Runner, g: Generator, cand: dict, obs: dict, new: set | None = None) -> tuple[dict, dict]:
    """Make a random call readable: put arguments back to their defaults and drop set-up
    calls one at a time, keeping each change only when the simpler call still covers the
    arcs that made it worth keeping (``new``; the rest were covered by earlier tests) and
    behaves the same way (same kind of result or exception). So a set-up call that asserts
    nothing goes when only the final call adds arcs."""
    if g.last_choice is None:
        return cand, obs
    choice, extras, receiver = g.last_choice
    full = trace_arcs(runner, cand)
    if not full:
        return cand, obs
    if new:
        pairs = {tuple(a) for a in arc_list(new, runner.nlines, limit=10**6)}
        needed = {a for a in full if a in pairs}
        full = needed or full
    params = [p for p in g.c.params if p.kind != p.VAR_KEYWORD]
    best, best_obs = cand, obs
    choice = list(choice)
    attempts = 0

    def try_variant(ch, rec):
        nonlocal best, best_obs, attempts
        attempts += 1
        saved = g.last_choice
        made = g._make(ch, extras, rec, "random")
        g.last_choice = saved
        if made is None:
            return False
        made["id"] = cand["id"]
        arcs = trace_arcs(runner, made)
        if arcs is None or not full <= arcs:
            return False
        new_obs, _ = runner.execute(made, want=lambda raw: True)
        same = new_obs.get("kind") == best_obs.get("kind") and new_obs.get("type") == best_obs.get("type")
        # an exception the needed arcs do not lead to (`unit=1` beside `normalize=True`) may go:
        # the simpler call that returns asserts what those arcs compute
        if not same and not (best_obs.get("kind") == "raise" and new_obs.get("kind") in RETURNED):
            return False
        if not _stable(runner, made, new_obs):
            return False
        best, best_obs = made, new_obs
        return True

    for i, p in enumerate(params):
        if attempts >= 24:
            break
        if i < len(choice) and choice[i] is not None and p.default is not p.empty:
            trial = list(choice)
            trial[i] = None
            if try_variant(trial, receiver):
                choice = trial
    for i, p in enumerate(params):  # a flag given a truthy non-bool (`normalize='abc'`): True
        flag = _as_flag(choice[i] if i < len(choice) else None, p)
        if flag is not None and attempts < 32:
            trial = list(choice)
            trial[i] = (flag, frozenset())
            if try_variant(trial, receiver):
                choice = trial
    if receiver is not None and len(receiver[0]) > 1:
        stmts = list(receiver[0])
        k = 1
        while k < len(stmts) and attempts < 32:
            trial_stmts = stmts[:k] + stmts[k + 1:]
            if try_variant(choice, (trial_stmts, receiver[1], receiver[2])):
                stmts = trial_stmts
                receiver = (stmts, receiver[1], receiver[2])
            else:
                k += 1
    promoted = _promote_setup_call(runner, g, best, full)
    return promoted or (best, best_obs)


RETURNED = ("literal", "float", "none", "nan", "iter", "object")


def _as_flag(val, p: inspect.Parameter) -> str | None:
    """``True``/``False`` for a non-bool literal given to a parameter whose default is a bool."""
    if val is None or not isinstance(p.default, bool) or val[0] in ("True", "False"):
        return None
    try:
        return repr(bool(ast.literal_eval(val[0])))
    except Exception:
        return None


def _promote_setup_call(runner: Runner, g: Generator, cand: dict, needed: set) -> tuple[dict, dict] | None:
    """When the arcs a test was kept for come from its last set-up call (``rect.diagonal()``
    before an ``area()`` assertion), test that call instead: its result is asserted and the
    final call, which added nothing, goes."""
    setup = list(cand.get("setup", []))
    if len(setup) < 2 or g.c.owner is None:
        return None
    try:
        node = ast.parse(setup[-1]).body[0]
    except (SyntaxError, IndexError):
        return None
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    made = {**cand, "setup": setup[:-1], "expr": setup[-1], "func": f"{g.c.owner.__name__}.{call.func.attr}",
            "origin": "random"}
    arcs = trace_arcs(runner, made)
    if arcs is None or not needed <= arcs:
        return None
    obs, _ = runner.execute(made, want=lambda raw: True)
    if obs.get("kind") in ("timeout", "unobservable", "skipped") or wrong_type(obs, g) or not _stable(runner, made, obs):
        return None
    return made, obs


# coverage.py's C tracer packs a (from, to) line pair into one int (tracer.c, CTracer_record_pair);
# the layout changed between versions: (bits per line, sign bit of `from`, sign bit of `to`).
_PACKINGS = ((28, 56, 57), (20, 40, 41))


def _unpack(packed: int, bits: int, neg1: int, neg2: int) -> tuple[int, int]:
    mask = (1 << bits) - 1
    l1, l2 = packed & mask, (packed >> bits) & mask
    return (-l1 if packed & (1 << neg1) else l1, -l2 if packed & (1 << neg2) else l2)


def arc_list(arcs: set, nlines: int, limit: int = 48) -> list[list[int]]:
    """The new arcs of a kept call as ``[from, to]`` line pairs (the host names the test by
    them and compares them with the user's tests' coverage); [] when they cannot be read."""
    pairs = [a for a in arcs if isinstance(a, tuple) and len(a) == 2]
    ints = [a for a in arcs if isinstance(a, int)]
    if ints:
        for layout in _PACKINGS:
            cand = [_unpack(a, *layout) for a in ints]
            if all(0 < abs(x) <= nlines + 1 for pair in cand for x in pair):
                pairs += cand
                break
        else:
            return []
    return sorted([int(a), int(b)] for a, b in pairs)[:limit]


def setup_call_owner(cand: dict, obs: dict, g: Generator) -> tuple[Generator, tuple] | None:
    """When a set-up call (``obj.method(...)`` before the tested call) raised: the generator of
    that method and the receiver it was called on (the set-up statements before it)."""
    setup = cand.get("setup", [])
    step = obs.get("step", len(setup))
    if not isinstance(step, int) or not 0 < step < len(setup) or g.c.owner is None:
        return None
    try:
        node = ast.parse(setup[step]).body[0]
    except (SyntaxError, IndexError):
        return None
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
        return None
    other = _gen_cache.get(f"{g.c.owner.__name__}.{call.func.attr}")
    if other is None:
        return None
    return other, (list(setup[:step]), call.func.value.id, list(cand.get("imports", [])))


def offer_objects(objects, runner: Runner, g: Generator, cand: dict, obs: dict) -> None:
    """A kept call's results join the object pool: the object it returned, and the receiver
    of a method call, whose state the call may have changed (a method sequence)."""
    if obs.get("kind") == "raise" or g.c.attr in OPERATOR_IMPORTS:  # a copy: no new state
        return
    imports = list(cand.get("imports", []))
    if obs.get("kind") == "literal" and g.c.attr not in TEXT_DUNDERS and obs.get("src"):
        objects.offer_literal(runner.last_value, obs["src"], list(obs.get("imports") or []), g.c.qualname)
    if runner.last_value is not None:
        objects.offer(runner.last_value, list(cand.get("setup", [])), cand["expr"], imports, g.c.qualname)
    elif g.c.kind == "method" and cand.get("setup") and obs.get("kind") == "none":  # a mutator
        try:
            call = ast.parse(cand["expr"], mode="eval").body
        except SyntaxError:
            return
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            var = call.func.value.id
            objects.offer_state(runner.last_ns.get(var), list(cand["setup"]) + [cand["expr"]], var, imports,
                                g.c.qualname)


def assert_key(obs: dict) -> tuple | None:
    """What a rendered test asserts about an observation (None: nothing comparable)."""
    kind = obs.get("kind")
    if kind in ("literal", "iter"):
        return (kind, obs.get("src"), obs.get("complete"))
    if kind == "float":
        try:
            return ("float", f"{float(obs['src']):.6g}")  # pytest.approx's tolerance, roughly
        except (TypeError, ValueError):
            return None
    if kind in ("none", "nan", "timeout"):
        return (kind,)
    if kind == "raise":
        return ("raise", obs.get("type_name"))
    if kind == "object":
        return ("object", obs.get("type"), json.dumps(obs.get("attrs"), sort_keys=True, default=repr))
    return None


def quiet_observe(runner: Runner, cand: dict, timeout: float) -> dict:
    """Run a candidate outside coverage and observe its result (the mutation run)."""
    subject = runner.subject
    ns = subject.namespace(cand.get("imports", []))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        raw = ("return", run_quietly(ns, cand))
    except CallTimeout:
        return {"kind": "timeout"}
    except BaseException as exc:
        raw = ("raise", exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return observe_value(raw[1], subject, ns) if raw[0] == "return" else observe_exception(raw[1], subject)
    except BaseException:
        return {"kind": "unobservable"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def emit_cover(runner: Runner, kept_log: list, end: float) -> None:
    """Every arc each kept call reaches on its own (traced one by one, until ``end``): the
    host keeps the smallest set of calls that holds them all (select.py)."""
    arcs: dict = {}
    for cand, _obs, _g in kept_log:
        if time.monotonic() >= end:
            break
        got = trace_arcs(runner, cand)
        if got is not None:
            arcs[cand["id"]] = sorted([a, b] for a, b in got)
    emit({"ev": "cover", "arcs": arcs})


def mutation_run(runner: Runner, mutants_mod, source: str, kept_log: list, generators: dict, seed: int,
                 end: float, timeout: float, user_tests: list | None = None) -> None:
    """Which sampled mutants the kept calls kill; calls that kill a survivor are kept too;
    which of the killed ones the user's tests kill as well (the last part of the time)."""
    subject = runner.subject
    started = time.monotonic()
    user_end = end
    if user_tests:
        end = time.monotonic() + 0.6 * max(0.0, end - time.monotonic())
    try:
        muts, total = mutants_mod.find(source, seed, MUTANT_LIMIT)
        swapper = mutants_mod.Swapper(source, subject.file, subject.module)
    except (SyntaxError, ValueError, RecursionError):
        return
    keys = [(cand, assert_key(obs), g) for cand, obs, g in kept_log]
    original: dict = {}  # candidate id -> assert key with the original code
    tried, killers, survivors, alive = 0, {}, [], []
    for idx, m in enumerate(muts):
        if time.monotonic() >= end:
            break
        swapped = swapper.apply(m)
        if swapped is None:
            continue
        tried += 1
        found: list = []
        try:
            # the mutated callable's own calls first
            order = sorted(keys, key=lambda k, q=m.qualname: k[2].c.qualname != q)
            for cand, key, _g in order:
                if key is None:
                    continue
                if time.monotonic() >= end:
                    break
                got = assert_key(quiet_observe(runner, cand, timeout))
                if got != key:
                    found.append(cand["id"])
                    if len(found) >= KILLERS or got == ("timeout",):
                        break
        finally:
            swapper.restore(swapped)
        if not found and time.monotonic() < end:
            killer = _hunt(runner, swapper, m, generators, original, end, timeout)
            if killer is not None:
                cand, obs, g = killer
                emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": 0, "why": "mutant"})
                keys.append((cand, assert_key(obs), g))
                found.append(cand["id"])
        if found:
            killers[idx] = found
        else:
            survivors.append(m.describe())
            alive.append((idx, m))
    hunted: list = []
    hunt_started = time.monotonic()
    if alive and time.monotonic() < end:
        for cand, labels in _variant_hunt(runner, mutants_mod, source, swapper, muts, alive, keys, seed, end, timeout,
                                          extras=not user_tests):
            for kind, pos in labels:
                if kind == "sampled":
                    killers[pos] = [cand["id"]]
                    survivors.remove(muts[pos].describe())
                else:
                    hunted.append([cand["id"]])
        killers = dict(sorted(killers.items()))
    user_killed: set = set()
    if user_tests and killers:
        user_killed = mutants_mod.user_kills(swapper, [muts[i] for i in killers], list(user_tests), user_end)
    emit({"ev": "mutation", "mutants": total, "sampled": len(muts), "tried": tried, "killed": len(killers),
          "killers": list(killers.values()), "survivors": survivors[:20], "user_killed": sorted(user_killed),
          "hunted": hunted, "t_main": round(hunt_started - started, 2),
          "t_variants": round(time.monotonic() - hunt_started, 2)})


def _variant_hunt(runner: Runner, mutants_mod, source: str, swapper, muts: list, alive: list, keys: list,
                  seed: int, end: float, timeout: float, extras: bool = True) -> list:
    """Survivors hunted with variants of their functions' calls (mutants.hunt_variants), with
    up to VARIANT_EXTRA unsampled mutants per function that the kept calls miss (``extras``;
    not with the user's tests, which are not run against those). Each kept
    variant is emitted as a kept call; returns (call, [("sampled", position in muts) or
    ("extra", n)]) per kept call."""
    quals = {m.qualname for _i, m in alive}
    seeds: dict = {}
    for cand, key, g in keys:  # the function's kept calls, those that return first
        if g.c.qualname in quals and key is not None:
            seeds.setdefault(g.c.qualname, []).append((key[0] == "raise", cand))
    seeds = {q: [c for _r, c in sorted(v, key=lambda x: x[0])] for q, v in seeds.items()}
    # a function no kept call calls directly (a private helper) is reached through the others
    callers = [c for _r, c in sorted(((key[0] == "raise", cand) for cand, key, _g in keys if key is not None),
                                     key=lambda x: x[0])][:VARIANT_CALLERS]
    for q in quals:
        if q not in seeds and callers:
            seeds[q] = callers
    live: dict = {}
    for i, m in alive:
        live.setdefault(m.qualname, []).append((("sampled", i), m))
    sampled = {(m.qualname, m.line, tuple(m.path), m.change) for m in muts}
    rng = random.Random(seed * 31 + 17)
    try:
        population, _ = mutants_mod.find(source, seed, 10**6, only=quals)
        consts = {q: mutants_mod.function_constants(source, q) for q in quals}
        for q in quals:  # through its callers: their constants too
            for func in dict.fromkeys(c["func"] for c in seeds.get(q, []) if c["func"] != q):
                consts[q] += [v for v in mutants_mod.function_constants(source, func) if v not in consts[q]]
    except (SyntaxError, ValueError, RecursionError):
        return []
    extra = [m for m in population if extras and (m.qualname, m.line, tuple(m.path), m.change) not in sampled]
    rng.shuffle(extra)
    originals = {c["id"]: assert_key(quiet_observe(runner, c, timeout)) for q in quals for c in seeds.get(q, [])}
    per_func: dict = {}
    for m in extra:  # those no kept call of the function kills
        q = m.qualname
        if per_func.get(q, 0) >= VARIANT_EXTRA or q not in seeds or time.monotonic() >= end:
            continue
        swapped = swapper.apply(m)
        if swapped is None:
            continue
        try:
            dead = any(assert_key(quiet_observe(runner, c, timeout)) != originals[c["id"]] for c in seeds[q])
        finally:
            swapper.restore(swapped)
        if not dead:
            per_func[q] = per_func.get(q, 0) + 1
            live.setdefault(q, []).append((("extra", sum(per_func.values())), m))

    def observe(cand: dict):
        return assert_key(quiet_observe(runner, cand, timeout))

    gens = {g.c.qualname: g for _c, _k, g in keys}

    def confirm(cand: dict, key):
        g = gens[cand["func"]]
        obs, _ = runner.execute(cand, want=lambda raw: True)
        if obs.get("kind") in ("timeout", "unobservable", "skipped") or wrong_type(obs, g) or not _stable(runner, cand, obs):
            return None
        return obs if assert_key(obs) == key else None

    out = []
    found = mutants_mod.hunt_variants(live, seeds, consts, swapper, observe, confirm, end, rng, VARIANT_TRIES,
                                      VARIANT_KEEPS, patience=VARIANT_PATIENCE,
                                      cheap=VARIANT_CHEAP)
    for n, (cand, obs, labels) in enumerate(found, 1):
        cand = {k: v for k, v in cand.items() if k not in ("example", "arcs")}
        cand.update(id=f"{cand['func']}#variant{n}", origin="variant")
        obs["arcs"] = []
        emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": 0, "why": "mutant"})
        out.append((cand, labels))
    return out


def _hunt(runner: Runner, swapper, m, generators: dict, original: dict, end: float, timeout: float):
    """A call from the reservoirs whose result changes under mutant ``m`` (None: none found)."""
    own = generators.get(m.qualname)
    pools = [own] if own is not None and own.reservoir else [g for g in generators.values() if g.reservoir]
    cands = [(c, g) for g in pools if g.mutant_kept < MUTANT_KEEPS for c in g.reservoir][:HUNT]
    todo = []
    for cand, g in cands:  # results with the original code first (cached)
        if time.monotonic() >= end:
            return None
        if cand["id"] not in original:
            original[cand["id"]] = assert_key(quiet_observe(runner, cand, timeout))
        if original[cand["id"]] not in (None, ("timeout",)):
            todo.append((cand, g))
    swapped = swapper.apply(m)
    if swapped is None:
        return None
    hit = None
    try:
        for cand, g in todo:
            if time.monotonic() >= end:
                break
            if assert_key(quiet_observe(runner, cand, timeout)) != original[cand["id"]]:
                hit = (cand, g)
                break
    finally:
        swapper.restore(swapped)
    if hit is None:
        return None
    cand, g = hit
    obs, _ = runner.execute(cand, want=lambda raw: True)
    if obs.get("kind") in ("timeout", "unobservable", "skipped") or wrong_type(obs, g) or not _stable(runner, cand, obs):
        return None
    if assert_key(obs) != original[cand["id"]]:
        return None
    g.mutant_kept += 1
    g.reservoir = [c for c in g.reservoir if c is not cand]
    obs["arcs"] = []
    return cand, obs, g


def wrong_type(obs: dict, g: Generator) -> bool:
    """A TypeError the interpreter raised (not a `raise` in the code) in a callable that does
    not check types itself: the input was of the wrong type and says nothing about the code."""
    return (obs.get("kind") == "raise" and obs.get("type_name") == "TypeError" and not obs.get("deliberate")
            and not g.c.info.get("checks_types"))


def credible_hint_bug(cand: dict, obs: dict) -> bool:
    """Whether an unexpected exception from well-typed arguments points at the code rather than
    at a precondition its hints cannot state. A TypeError counts only when None reached an
    operation (a builtin's own argument check, `category('abc')`, is a narrower contract than
    `str`); an IndexError or KeyError only when no int was passed (`NAMES[flags_bit]` with
    flags=999 is an out-of-range argument, not a bug)."""
    name = obs.get("type_name")
    if name == "TypeError":
        return "NoneType" in (obs.get("msg") or "")
    if name in ("IndexError", "KeyError"):
        try:
            trees = [ast.parse(s) for s in [*cand.get("setup", []), cand.get("expr", "")]]
        except SyntaxError:
            return False
        return not any(isinstance(n, ast.Constant) and type(n.value) is int
                       for t in trees for n in ast.walk(t))
    return True


def _stable(runner: Runner, cand: dict, obs: dict) -> bool:
    """Run a kept call once more in a fresh namespace: time, randomness and object ids
    usually show up as a different observation (hash-seed effects are caught later by
    the verification runs in fresh processes)."""
    again, _ = runner.execute(cand, want=lambda raw: True)
    return _same(obs, again)


def compare_example(cand: dict, obs: dict, subject: Subject) -> dict | None:
    """A probable bug when an example's observed result differs from the stated one."""
    ex = cand.get("example") or {}
    expected = ex.get("expected")
    if expected is None:
        return None
    if obs["kind"] == "raise":
        if not obs.get("line"):
            return {"drop": True}  # the example itself is broken (missing names, ...), not the code
        observed = f"raised {obs['type_name']}: {obs['msg']}" if obs["msg"] else f"raised {obs['type_name']}"
        return {"observed": observed, "expected": expected}
    if obs["kind"] in ("timeout", "unobservable"):
        return None
    ns = subject.namespace(cand.get("imports", []))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for stmt in cand.get("setup", []):
                exec(stmt, ns)  # noqa: S102
            value = eval(cand["expr"], ns)  # noqa: S307
            if _is_iterator(value):
                value = list(value)
            want = eval(expected, ns)  # noqa: S307
        same = value == want or repr(value) == expected.strip()
        if isinstance(value, float) and isinstance(want, (int, float)):
            same = same or abs(value - want) <= 1e-9 * max(1.0, abs(want))
    except BaseException:
        return None
    if same:
        return None
    try:
        observed = repr(value)
    except Exception:
        observed = "<unprintable>"
    if ADDRESS.search(observed):
        return None
    return {"observed": f"returned {observed[:200]}", "expected": expected}


# --------------------------------------------------------------------------- main

def load_inputs_module():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        import _codeloop_inputs as inputs_mod
        import _codeloop_mutants as mutants_mod
        import _codeloop_objects as objects_mod
        import _codeloop_pace as pace_mod
        import _codeloop_shapes as shapes_mod
    finally:
        sys.path.remove(here)
    global _pace_mod, _shapes
    _pace_mod = pace_mod
    _shapes = shapes_mod
    return inputs_mod, objects_mod, mutants_mod


_pace_mod = None  # the shipped pace module (loaded in main)
_portable_mod = None  # portable.py: arrays, array scalars, public exception types (see _portable)


def _portable():
    """portable.py: shipped next to the driver as ``_codeloop_portable.py``; in-process (the
    driver's functions used by the host's tests) the package's own file beside this one."""
    global _portable_mod
    if _portable_mod is None:
        import importlib.util

        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "_codeloop_portable.py")
        spec = importlib.util.spec_from_file_location(
            "_codeloop_portable", path if os.path.exists(path) else os.path.join(here, "portable.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _portable_mod = mod
    return _portable_mod


def main(argv: list[str]) -> int:
    global _out_fd
    _out_fd = os.dup(1)
    TextHashes.install()
    with open(argv[1], encoding="utf-8") as fh:
        plan = json.load(fh)
    global _objects
    inputs_mod, objects_mod, mutants_mod = load_inputs_module()
    _objects = objects_mod
    # The driver's own directory must not shadow the project's modules.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, plan["import_root"])
    if plan.get("project") and plan["project"] not in sys.path:
        sys.path.insert(1, plan["project"])
    signal.signal(signal.SIGALRM, _alarm)
    import coverage

    file = os.path.abspath(plan["file"])
    cov = coverage.Coverage(branch=True, data_file=None, include=[file], config_file=False)
    started = time.monotonic()
    sys.argv = Argv([plan["module"]])
    cov.start()
    signal.setitimer(signal.ITIMER_REAL, float(plan.get("import_timeout", 10)))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import importlib

            module = importlib.import_module(plan["module"])
    except CallTimeout:
        signal.setitimer(signal.ITIMER_REAL, 0)
        cov.stop()
        emit({"ev": "import_error", "kind": "timeout",
              "msg": f"importing {plan['module']} did not finish within {plan.get('import_timeout', 10)} s"})
        return 3
    except BaseException as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        cov.stop()
        line = ""
        tb = traceback.extract_tb(exc.__traceback__)
        if tb:
            line = f" ({os.path.basename(tb[-1].filename)}:{tb[-1].lineno})"
        if isinstance(exc, SystemExit):
            emit({"ev": "import_error", "kind": "exit", "type": "SystemExit",
                  "msg": f"importing {plan['module']} called sys.exit({exc.code!r}){line}"})
        else:
            emit({"ev": "import_error", "kind": "exception", "type": type(exc).__name__,
                  "msg": f"importing {plan['module']} raised {type(exc).__name__}: {exc}{line}"})
        return 3
    signal.setitimer(signal.ITIMER_REAL, 0)
    cov.stop()
    module_file = os.path.abspath(getattr(module, "__file__", "") or "")
    if module_file != file:
        emit({"ev": "import_error", "kind": "shadowed",
              "msg": f"{plan['module']} was imported from {module_file}, not {file}"})
        return 3
    subject = Subject(plan["module"], module, file)
    call_timeout = float(plan.get("call_timeout", 1.0))
    runner = Runner(subject, cov, call_timeout)
    runner.known = runner.arcs()
    emit({"ev": "imported", "arcs": len(runner.known), "seconds": round(time.monotonic() - started, 3)})

    callees, methods = discover(subject, plan)
    # Stubs (`...`, `pass`, `raise NotImplementedError`) are work to do, not behaviour to pin.
    callees = [c for c in callees if not c.info.get("is_stub")]
    methods = {k: [m for m in v if not m.info.get("is_stub")] for k, v in methods.items()}
    analysis = plan.get("analysis", {})
    mod_lits = analysis.get("module_literals", {})
    _open_shapes[:] = analysis.get("checked_types", [])
    generators: dict[str, Generator] = {}
    for c in callees:
        for w in (c.info.get("literals") or {}).get("str", []):
            if isinstance(w, str) and w.isidentifier() and w.islower() and w not in _module_words:
                _module_words.append(w)
    namer = inputs_mod.Namer(subject.name, module)
    if _open_shapes:
        shape_builder = inputs_mod.PoolBuilder(namer, inputs_mod.Literals.from_json(mod_lits))
        _combos[:] = _shapes.combos(_shapes.module_specs(
            module, _open_shapes, namer, shape_builder,
            lambda src: builds(subject, ([f"_ = {src}"], "_", []), call_timeout)))
    for c in callees:
        lits = inputs_mod.Literals.from_json(c.info.get("literals", {}), mod_lits)
        builder = inputs_mod.PoolBuilder(namer, lits)
        generators[c.qualname] = Generator(c, builder, inputs_mod, lits, int(plan.get("seed", 0)), {}, methods)
        _gen_cache[c.qualname] = generators[c.qualname]
    for g in generators.values():
        # How long a callable may go without new arcs: more for many parameters or few
        # callables. A count, not a time, so that the search is deterministic.
        g.plateau = min(600, max(PLATEAU, 25 * len(g.c.params), 400 // max(1, len(callees))))
    ctors = arrange_receivers(build_receivers(callees, generators), subject, objects_mod, call_timeout)
    objects = objects_mod.ObjectPool(module)
    for g in generators.values():
        g.ctors = ctors
        g.objects = objects
        first = next((p for p in g.c.params if p.kind != p.VAR_KEYWORD), None)
        hint = g.c.hints.get(first.name, first.annotation) if first is not None else None
        if (g.c.kind == "operator" and g.pools and g.c.owner is not None
                and (hint in (inspect.Parameter.empty, object, typing.Any) or objects_mod.accepts(hint, g.c.owner))):
            # an operator's other operand: often an object of the same class (unless its hint
            # says otherwise: `query['name']` takes a str)
            same = [(stmts[0].split(" = ", 1)[1], frozenset(imps)) for stmts, _, imps in ctors.get(g.c.owner.__name__, [])]
            g.pools[0] = inputs_mod._dedup(same[:3] + g.pools[0])
        g.base_pools = list(g.pools)
    emit({"ev": "callables", "names": [c.qualname for c in callees]})

    # Replay the calls kept by an earlier (crashed) run so the coverage state matches.
    for cand in plan.get("replay", []):
        runner.execute(cand)
    skip = set(plan.get("skip", []))
    resume = plan.get("resume", {})
    mutation_seconds = float(plan.get("mutation_seconds", 0))
    end = started + float(plan.get("search_seconds", 10))
    end = min(end, _pace_mod.host_time(plan, "end_at") or end)  # the sandbox's start is spent too
    pace = _pace_mod.Pace(time.monotonic(), end, _pace_mod.host_time(plan, "budget_end"))
    # A call stuck in C code (a huge repetition, a C-level loop) never sees the alarm: without
    # this watchdog (a C thread) the host's time limit, sized for a slow import, would end the
    # process many seconds after the budget. Exiting here keeps what was streamed so far.
    faulthandler.dump_traceback_later(max(0.0, end - time.monotonic()) + HANG_GRACE, exit=True)
    deadline = end - mutation_seconds
    kept_log: list = []  # (candidate, observation) of every kept call, for the mutation run
    active = [generators[c.qualname] for c in callees]
    for g in active:
        for _ in range(int(resume.get(g.c.qualname, 0))):
            if g.next() is None and g.finished:
                break
            g.count += 1
    total = 0
    last_progress = 0.0
    hint_bug_reported: set = set()
    round_no, quiet = 1, 0
    while True:
        arcs_before = len(runner.known)
        while active and time.monotonic() < deadline:
            for g in list(active):
                if time.monotonic() >= deadline:
                    break
                for _ in range(SLICE):
                    now = time.monotonic()
                    if now >= deadline:
                        break
                    runner.call_timeout = max(0.05, min(call_timeout, deadline - now))
                    cand = g.next()
                    if g.finished:
                        active.remove(g)
                        emit({"ev": "done", "func": g.c.qualname})
                        break
                    g.count += 1
                    if cand is None:
                        g.stale += 1 if g.in_random else 0
                    elif cand["id"] in skip:
                        continue
                    else:
                        emit({"ev": "s", "id": cand["id"], "n": g.count})
                        total += 1
                        is_example = cand.get("origin") == "example"
                        maybe_bug = bool(cand.get("hinted") and g.c.info.get("has_docstring")
                                         and not g.c.info.get("documents_raising") and g.c.qualname not in hint_bug_reported)
                        t_call = time.monotonic()
                        obs, new = runner.execute(cand, want=lambda raw, is_example=is_example, maybe_bug=maybe_bug, g=g, cand=cand: is_example or (
                            maybe_bug and raw["kind"] == "raise_obj" and type(raw["exc"]).__name__ in SUSPICIOUS_EXC)
                            or g.wants_observation(cand, raw))
                        spent = time.monotonic() - t_call
                        if spent > 0.25:
                            emit({"ev": "slow", "id": cand["id"], "expr": cand["expr"][:200], "t": round(spent, 3)})
                        if obs["kind"] == "timeout":
                            g.timeouts += 1
                        if not new and obs["kind"] == "skipped":
                            g.sample(cand)
                        if (not new and obs["kind"] == "skipped" and runner.last_value is not None
                                and g.c.attr not in OPERATOR_IMPORTS):
                            objects.offer(runner.last_value, list(cand.get("setup", [])), cand["expr"],
                                          list(cand.get("imports", [])), g.c.qualname, fresh=False)
                        if cand.get("origin") == "example":
                            bug = compare_example(cand, obs, subject)
                            if bug and bug.get("drop"):
                                continue
                            if obs["kind"] == "raise" and not obs.get("line"):
                                continue
                            if bug:
                                emit({"ev": "bug", "cand": cand, "obs": obs, "why": "example", **bug})
                                continue
                        elif (obs["kind"] == "raise" and cand.get("hinted") and obs["type_name"] in SUSPICIOUS_EXC
                              and not obs["deliberate"] and obs.get("from_target")
                              and g.c.info.get("has_docstring") and not g.c.info.get("documents_raising")
                              and g.c.qualname not in hint_bug_reported and credible_hint_bug(cand, obs)):
                            hint_bug_reported.add(g.c.qualname)
                            emit({"ev": "bug", "cand": cand, "obs": obs, "why": "hints",
                                  "observed": f"raised {obs['type_name']}: {obs['msg']}", "expected": None})
                            continue
                        if wrong_type(obs, g):
                            g.stale += 1 if g.in_random else 0
                            if new:
                                # Its arcs are in the live data now, but no test will hold them: try
                                # the same call with well-typed arguments (traced, see below).
                                arcs_now = {tuple(a) for a in arc_list(new, runner.nlines, limit=10**6)}
                                g.orphans |= arcs_now
                                owner = setup_call_owner(cand, obs, g)
                                if owner is not None:  # the wrong type was in a set-up call: repair that one
                                    owner[0].orphans |= arcs_now
                                    owner[0].repair_from(owner[1])
                                else:
                                    g.queue_repairs()
                            continue
                        if not new and g.orphans and obs["kind"] != "timeout" and (
                                cand.get("origin") == "repair" or g.orphan_checks > 0):
                            g.orphan_checks -= cand.get("origin") != "repair"
                            hit = (trace_arcs(runner, cand) or set()) & g.orphans
                            if hit:
                                again, _ = runner.execute(cand, want=lambda raw: True)
                                if not wrong_type(again, g) and again["kind"] not in ("timeout", "unobservable"):
                                    g.orphans -= hit
                                    obs, new = again, hit
                        if new and obs["kind"] not in ("timeout", "unobservable", "skipped") and not _stable(runner, cand, obs):
                            g.stale += 1 if g.in_random else 0
                        elif new and obs["kind"] not in ("timeout", "unobservable", "skipped"):
                            offer_objects(objects, runner, g, cand, obs)
                            g.remember()
                            g.kept += 1
                            g.stale = 0
                            g.note_kept(cand, obs)
                            if cand.get("origin") == "random":
                                cand, obs = simplify(runner, g, cand, obs, new)
                                g.note_kept(cand, obs)
                            obs["arcs"] = arc_list(new, runner.nlines)
                            pace.kept(runner.last_cpu)
                            emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": len(new)})
                            kept_log.append((cand, obs, g))
                        elif not new and (why := g.extra_reason(cand, obs)) and _stable(runner, cand, obs):
                            g.note_kept(cand, obs, why)
                            pace.kept(runner.last_cpu)
                            emit({"ev": "keep", "cand": cand, "obs": obs, "new_arcs": 0, "why": why})
                            kept_log.append((cand, obs, g))
                        elif cand.get("origin") == "random":
                            g.stale += 1
                    if g.timeouts >= 3 or g.stale >= g.plateau or g.count >= CAP_PER_CALLABLE:
                        g.finished = True
                        active.remove(g)
                        emit({"ev": "done", "func": g.c.qualname})
                        break
                now = time.monotonic()
                if now - last_progress > 0.5:
                    last_progress = now
                    # a busy machine slows the verification after the search: end earlier
                    end_now = pace.end()
                    if end_now < end:
                        mutation_seconds *= (end_now - started) / max(0.1, end - started)
                        end, deadline = end_now, end_now - mutation_seconds
                    emit({"ev": "progress", "t": round(now - started, 2), "func": g.c.qualname,
                          "calls": total, "arcs": len(runner.known)})
        if time.monotonic() >= deadline:
            break
        # objects a quiet round built get the next round to be used, not more
        quiet = quiet + 1 if len(runner.known) == arcs_before else 0
        if quiet >= QUIET_ROUNDS or round_no >= MAX_ROUNDS:
            break
        round_no += 1
        active = [generators[c.qualname] for c in callees if generators[c.qualname].timeouts < 3]
        for g in active:
            g.new_round(round_no)
        emit({"ev": "round", "n": round_no, "arcs": len(runner.known), "objects": objects.added,
              "t": round(time.monotonic() - started, 2)})
    emit({"ev": "objects", "by_class": {k.__name__: [e["receiver"][0][-1][:120] for e in v] for k, v in objects.by_class.items()}})
    emit_cover(runner, kept_log, end - 0.5 * mutation_seconds)
    if mutation_seconds > 0 and time.monotonic() < end:
        emit({"ev": "mutation_start"})
        with open(file, encoding="utf-8") as fh:
            source = fh.read()
        mutation_run(runner, mutants_mod, source, kept_log, generators, int(plan.get("seed", 0)), end,
                     min(call_timeout, MUTANT_CALL_TIMEOUT), plan.get("user_tests"))
    emit({"ev": "end", "calls": total, "arcs": len(runner.known), "complete": not active, "contention": round(pace.factor, 2),
          "verify_estimate": round(pace.verification(), 2), "ended_early": end < pace.planned,
          "t": round(time.monotonic() - started, 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
