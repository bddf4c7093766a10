"""Portable spellings of what a call gave back, for the in-sandbox driver.

Shipped into the sandbox next to the driver (as ``_codeloop_portable.py``): standard library
only, and it imports no array library either; values are recognised by their shape.

- An array (numpy's, or anything with ``tolist()``, ``shape`` and ``dtype``) has no literal
  ``repr`` a test can compare against; its ``tolist()`` has one, so the test asserts on
  ``result.tolist()`` (floats then compared with ``pytest.approx`` like any list of floats).
  A tuple or list of a few arrays (``lat, lon = f(...)``) is asserted item by item the same way.
- An array library's scalar (``numpy.float64``, ``numpy.int64``, ``numpy.bool_``) is observed
  as the Python number it holds (``item()``): ``result == 3`` and ``pytest.approx`` accept it,
  and its ``repr`` (``np.float64(0.5)``) names a module the test does not import.
- An exception whose class lives in a private module or has a private name
  (``numpy._core._exceptions._UFuncNoLoopError``) is checked by its nearest public base class
  (``TypeError``): the private class moves between versions of the library.
"""

from __future__ import annotations

import sys
import types
import warnings

MAX_ARRAYS = 4  # arrays in a tuple/list result asserted item by item
MAX_SIZE = 200  # items of an array turned into a list (a bigger one has no readable literal)
TOLIST = "{}.tolist()"
EACH_TOLIST = "[item.tolist() for item in {}]"


def is_array(value: object) -> bool:
    """An n-dimensional array of an array library (duck-typed: no import of the library)."""
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset, type)):
        return False
    try:
        return callable(getattr(value, "tolist", None)) and hasattr(value, "shape") and hasattr(value, "dtype") \
            and getattr(value, "shape", None) != ()
    except Exception:
        return False


def is_array_scalar(value: object) -> bool:
    """A zero-dimensional value of an array library (``numpy.float64(0.5)``)."""
    if isinstance(value, (str, bytes, type)) or type(value) in (bool, int, float, complex):
        return False
    try:
        return callable(getattr(value, "item", None)) and hasattr(value, "dtype") and getattr(value, "shape", None) == ()
    except Exception:
        return False


def plain_scalar(value: object) -> object:
    """The Python number an array scalar holds; ``value`` itself otherwise."""
    if not is_array_scalar(value):
        return value
    try:
        item = value.item()  # type: ignore[attr-defined]
    except Exception:
        return value
    return item if isinstance(item, (bool, int, float, complex, str, bytes)) else value


def as_lists(value: object) -> tuple[object, str] | None:
    """``(plain value, how a test gets it from the result)`` for an array, or a short tuple or
    list of arrays; None for anything else (or when ``tolist()`` fails)."""
    try:
        if is_array(value) and _small(value):
            return value.tolist(), TOLIST  # type: ignore[attr-defined]
        if (isinstance(value, (tuple, list)) and 0 < len(value) <= MAX_ARRAYS
                and all(is_array(v) and _small(v) for v in value)):
            return [v.tolist() for v in value], EACH_TOLIST
    except Exception:
        return None
    return None


def _small(array: object) -> bool:
    """At most MAX_SIZE items (``size``, or the product of ``shape``)."""
    size = getattr(array, "size", None)
    if not isinstance(size, int):
        size = 1
        for dim in getattr(array, "shape", ()) or ():
            if not isinstance(dim, int):
                return False
            size *= dim
    return size <= MAX_SIZE


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
               for part in dotted.split("."))


def public_exception(tp: type, spell, subject: types.ModuleType) -> tuple[type, tuple[str, list[str]] | None]:
    """The class a test should expect for an exception of type ``tp``, and its spelling.

    ``spell(cls)`` gives ``(text, imports)`` or None (the driver's ``Subject.spell_type``).
    The classes of the package under test are kept as they are (the test imports that package
    anyway, private modules included); another library's class is replaced by the first class
    of its MRO that has a public spelling: its own (``json.JSONDecodeError``), or the same class
    exported by a public module the code under test imports (``pickle.UnpicklingError`` for
    ``_pickle.UnpicklingError``) or by its own top-level package (``pkg.Error`` for
    ``pkg._impl.Error``)."""
    own = subject.__name__.split(".")[0]
    for cls in tp.__mro__:
        if cls is object:
            break
        mod = getattr(cls, "__module__", "") or ""
        spelled = spell(cls)
        if mod.split(".")[0] == own:
            return cls, spelled
        if spelled is not None and not _private(spelled[0]) and not _private(mod):
            return cls, spelled
        if not _private(cls.__name__):
            for owner in _exporters(subject, mod):
                if _exported(owner, cls):
                    return cls, (f"{owner.__name__}.{cls.__name__}", [f"import {owner.__name__}"])
    return tp, spell(tp)


def _exported(owner: types.ModuleType, cls: type) -> bool:
    """Whether ``owner.<name>`` is ``cls`` (a module ``__getattr__`` may warn or raise)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(owner, cls.__name__, None) is cls
    except Exception:
        return False


def _exporters(subject: types.ModuleType, mod: str) -> list[types.ModuleType]:
    """Public modules that may re-export a class of module ``mod``: the modules the code under
    test imports, then ``mod``'s top-level package."""
    out = [v for v in vars(subject).values() if isinstance(v, types.ModuleType) and not _private(v.__name__)]
    top = sys.modules.get(mod.split(".")[0])
    if top is not None and not _private(top.__name__) and top.__name__ != "builtins":
        out.append(top)
    return out
