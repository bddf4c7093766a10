"""``Record``: a light stand-in for ``@dataclass`` for this package's types.

``import dataclasses`` costs ~10 ms (it imports ``inspect``) and each decorated class about
1 ms more (generated code): every `codeloop sandbox run` paid that before its first bwrap.
A Record subclass gets, from its annotations and class attributes, ``__init__`` (fields in
annotation order, base classes' first; a class attribute is the default, ``field(...)``
gives a factory or leaves a field out of the hash), ``__repr__``, ``__eq__``, and with
``frozen=True`` immutability and ``__hash__``; ``__post_init__`` runs as in a dataclass.

``dataclasses.replace``, ``asdict``, ``fields`` and ``is_dataclass`` keep working on
Records: they look up ``__dataclass_fields__``, a table made on first use from a shadow
dataclass (the one place that imports ``dataclasses``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, dataclass_transform
else:

    def dataclass_transform(**_kwargs):
        return lambda cls: cls


MISSING: Any = type("MISSING", (), {"__repr__": lambda self: "MISSING"})()


class _Field:
    """One field: its name, default or factory, and whether it counts in ``__hash__``."""

    __slots__ = ("name", "default", "factory", "hash")

    def __init__(self, default: Any = MISSING, factory: Callable[[], Any] | None = None,
                 hash: bool = True) -> None:  # noqa: A002 - the dataclasses.field keyword
        self.name = ""
        self.default = default
        self.factory = factory
        self.hash = hash


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | None = None, hash: bool = True) -> Any:  # noqa: A002
    """A field with a factory default, or left out of ``__hash__`` (``dataclasses.field``'s keywords)."""
    return _Field(default, default_factory, hash)


class _DataclassFields:
    """``__dataclass_fields__`` of a Record: what ``dataclasses`` functions read, made on first use."""

    def __get__(self, obj: object, cls: type[Record]) -> dict[str, Any]:
        table = cls.__dict__.get("_dataclass_table")
        if table is None:
            import dataclasses

            spec = []
            for f in cls._record_fields:
                if f.factory is not None:
                    spec.append((f.name, "Any", dataclasses.field(default_factory=f.factory)))
                elif f.default is not MISSING:
                    spec.append((f.name, "Any", dataclasses.field(default=f.default)))
                else:
                    spec.append((f.name, "Any"))
            table = dataclasses.make_dataclass(cls.__name__, spec).__dataclass_fields__
            type.__setattr__(cls, "_dataclass_table", table)
        return table


@dataclass_transform(field_specifiers=(field,))
class Record:
    """Base class of the package's data types (see the module docstring)."""

    _record_fields: tuple[_Field, ...] = ()
    _record_frozen: bool = False
    __dataclass_fields__ = _DataclassFields()

    def __init_subclass__(cls, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, _Field] = {f.name: f for f in cls._record_fields}
        own = cls.__dict__.get("__annotations__")
        if own is None and "__annotate__" in cls.__dict__:  # Python 3.14+: made on first access
            own = cls.__annotations__
        for name, annotation in (own or {}).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, MISSING)
            f = value if isinstance(value, _Field) else _Field(value)
            f.name = name
            fields[name] = f
            if f.factory is not None:
                delattr(cls, name)  # as a dataclass does: no shared mutable default on the class
            elif isinstance(value, _Field) and f.default is not MISSING:
                setattr(cls, name, f.default)
            elif isinstance(value, _Field):
                delattr(cls, name)
        cls._record_fields = tuple(fields.values())
        cls._record_frozen = frozen
        if not frozen:
            cls.__hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as a dataclass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._record_fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments, {len(args)} given")
        put = object.__setattr__
        for f, value in zip(fields, args, strict=False):
            if f.name in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for {f.name!r}")
            put(self, f.name, value)
        for f in fields[len(args):]:
            if f.name in kwargs:
                value = kwargs.pop(f.name)
            elif f.factory is not None:
                value = f.factory()
            elif f.default is not MISSING:
                value = f.default
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {f.name!r}")
            put(self, f.name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {', '.join(map(repr, kwargs))}")
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in self._record_fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self._record_fields)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in self._record_fields if f.hash))

    def __setattr__(self, name: str, value: Any) -> None:
        if self._record_frozen:
            _frozen(self, name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._record_frozen:
            _frozen(self, name)
        object.__delattr__(self, name)


def _frozen(record: Record, name: str) -> None:
    from dataclasses import FrozenInstanceError  # the exception callers of a frozen dataclass expect

    raise FrozenInstanceError(f"cannot assign to field {name!r} of {type(record).__name__}")


def as_dict(value: Any) -> Any:
    """``dataclasses.asdict`` for Records (and the lists, tuples and dicts around them)."""
    if isinstance(value, Record):
        return {f.name: as_dict(getattr(value, f.name)) for f in value._record_fields}
    if isinstance(value, (list, tuple)):
        return type(value)(as_dict(v) for v in value)
    if isinstance(value, dict):
        return {k: as_dict(v) for k, v in value.items()}
    return value
