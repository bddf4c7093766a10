"""What the search calls: the module's functions, methods, properties, operators and constructors."""

from __future__ import annotations

import enum
import inspect
import os
import typing

from .observe import Subject


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
