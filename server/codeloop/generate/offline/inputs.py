"""Input pools: candidate argument values as Python source, from type hints and literals.

This module is shipped next to the in-sandbox driver and must stay self-contained:
standard library only, never ``import codeloop``. It runs where the code under test is
imported (inside the sandbox) because runtime hints (``typing.get_type_hints``) are far
more precise than annotations read as text. Values are produced as *source expressions*
(``"[1, 2]"``, ``"Color.RED"``, ``"Point(x=0, y=1)"``) so that a kept call renders
directly into a readable test. Everything is deterministic for a given seed.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import dataclasses
import enum
import inspect
import io
import random
import typing

Value = tuple[str, frozenset[str]]  # (source, import lines it needs)

NO_IMPORTS: frozenset = frozenset()

INTS = ["1", "0", "-1", "2", "3", "10", "100", "-7", "999", "1000", "1001", "12345", "999999", "1000000",
        "999999999", "2**31", "-(10**6)", "10**15"]
FLOATS = ["1.5", "0.0", "-1.5", "float('inf')", "float('nan')", "-float('inf')", "0.5", "3.14159", "100.25",
          "0.999", "999.95", "1e-06", "1e20", "-0.001", "2.0", "1234567.891", "999999.9"]
# Values of the wrong type: validation branches ("must be an int, not str") need them.
OFF_TYPE = {"int": ["'1'", "None", "1.5", "True"], "float": ["'1.5'", "None"], "str": ["1", "None", "b'abc'"],
            "bytes": ["'abc'", "None"], "bool": ["None", "'yes'"], "list": ["None", "1"], "dict": ["None", "[]"],
            "any": ["None", "object()"]}
STRS = [
    "'abc'", "''", "'a'", "'Hello World'", "'hello_world'", "'HelloWorld'", "'hello-world'",
    "' padded '", "'123'", "'1.5'", "'ünïcødé'", "'a\\nb'", "'A'", "'x y z'", "'CamelCaseString'",
    "'ABC'", "'-'", "'_'", "'the quick brown fox jumps over the lazy dog'", "'0'",
    # Non-ASCII beyond Latin-1 accents: transliteration, casing and width code paths.
    "'Café Ünïcödé'", "'Привет мир'", "'北京'", "'Straße'",
]
BYTES = ["b'abc'", "b''", "b'\\x00\\xff'", "b'hello world'"]
# Values of other common types, tried in place of an argument whose wrong-type value reached
# code no well-typed call had (a date where an int was passed, a sequence where a class was).
_DT = frozenset({"import datetime"})
OTHER_TYPES: list[Value] = [
    ("'abc'", NO_IMPORTS), ("[1, 2, 3]", NO_IMPORTS), ("1.5", NO_IMPORTS), ("(1, 2)", NO_IMPORTS),
    ("{'a': 1}", NO_IMPORTS), ("datetime.date(2024, 2, 29)", _DT), ("datetime.datetime(2024, 2, 29, 12, 30)", _DT),
    ("datetime.timedelta(days=1, hours=2)", _DT), ("decimal.Decimal('1.5')", frozenset({"import decimal"})),
]
CALLABLES = ["str", "len", "(lambda x: x)", "bool", "(lambda *args: args)", "(lambda x, y: x + y)", "abs", "str.upper"]
CALLABLE_ARITY = {
    1: ["str", "len", "(lambda x: x)", "bool", "abs", "str.upper", "(lambda x: x % 2 == 0)", "(lambda x: -x)"],
    2: ["(lambda x, y: x + y)", "(lambda x, y: x)", "max", "min", "(lambda x, y: x < y)"],
}
GENERIC = ["1", "'abc'", "[1, 2, 3]", "0", "None", "2.5", "''", "True", "-1", "{'a': 1}", "[]", "(1, 2)"]


def _none_type():
    return type(None)


def _lit(value: object) -> str:
    return repr(value)


class Namer:
    """Spells classes and functions as source, recording the imports they need."""

    def __init__(self, module_name: str, module: object) -> None:
        self.module_name = module_name
        self.module = module

    def spell(self, obj: object) -> Value | None:
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        mod = getattr(obj, "__module__", None)
        if not name or not mod or "<" in name:
            return None
        if mod == "builtins":
            return name, NO_IMPORTS
        head = name.split(".")[0]
        if getattr(self.module, head, None) is not None and self._resolves(self.module, name, obj):
            return name, frozenset({f"from {self.module_name} import {head}"})
        import sys

        owner = sys.modules.get(mod)
        if owner is not None and self._resolves(owner, name, obj):
            top = mod.split(".")[0]
            return f"{mod}.{name}", frozenset({f"import {mod}" if mod == top else f"import {mod}"})
        return None

    @staticmethod
    def _resolves(owner: object, dotted: str, obj: object) -> bool:
        cur = owner
        for part in dotted.split("."):
            cur = getattr(cur, part, None)
            if cur is None:
                return False
        return cur is obj


@dataclasses.dataclass
class Literals:
    ints: list = dataclasses.field(default_factory=list)
    floats: list = dataclasses.field(default_factory=list)
    strs: list = dataclasses.field(default_factory=list)
    bytes_: list = dataclasses.field(default_factory=list)
    regexes: list = dataclasses.field(default_factory=list)
    seqs: list = dataclasses.field(default_factory=list)  # two-mark texts (analysis.mark_sequences)

    @classmethod
    def from_json(cls, *dicts: dict) -> Literals:
        out = cls()
        for d in dicts:
            for v in d.get("int", []):
                if v not in out.ints:
                    out.ints.append(v)
            for v in d.get("float", []):
                if v not in out.floats:
                    out.floats.append(v)
            for v in d.get("str", []):
                if v not in out.strs:
                    out.strs.append(v)
            for v in d.get("regex", []):
                if v not in out.regexes:
                    out.regexes.append(v)
            for v in d.get("seq", []):
                if v not in out.seqs:
                    out.seqs.append(v)
            for v in d.get("bytes", []):
                if isinstance(v, str):
                    v = v.encode("latin-1")
                if v not in out.bytes_:
                    out.bytes_.append(v)
        return out


def _dedup(values: typing.Iterable[Value]) -> list[Value]:
    seen: set[str] = set()
    out: list[Value] = []
    for src, imps in values:
        if src not in seen:
            seen.add(src)
            out.append((src, imps))
    return out


def _plain(srcs: typing.Iterable[str]) -> list[Value]:
    return [(s, NO_IMPORTS) for s in srcs]


def int_pool(lits: Literals) -> list[Value]:
    derived: list[str] = []
    for v in lits.ints[:20]:
        derived += [_lit(v), _lit(v - 1), _lit(v + 1)]
    for v in lits.floats[:6]:
        if float(v).is_integer():
            derived.append(_lit(int(v)))
    return _dedup(_plain(INTS[:3] + derived + INTS[3:]))


def float_pool(lits: Literals) -> list[Value]:
    derived: list[str] = []
    for v in lits.floats[:12]:
        derived += [_lit(float(v)), _lit(float(v) + 0.5), _lit(float(v) - 0.5)]
    for v in lits.ints[:12]:
        derived += [_lit(float(v)), _lit(v + 0.5), _lit(v - 0.5)]
    return _dedup(_plain(FLOATS[:3] + derived[:6] + FLOATS[3:6] + derived[6:] + FLOATS[6:]))


def number_pool(lits: Literals) -> list[Value]:
    ints, floats = int_pool(lits), float_pool(lits)
    out: list[Value] = []
    for i in range(max(len(ints), len(floats))):
        if i < len(ints):
            out.append(ints[i])
        if i < len(floats) and i % 2 == 0:
            out.append(floats[i])
    return _dedup(out)


def _tweaks(s: str) -> list[str]:
    out = [s, s.upper(), s.lower(), s.title(), s + "x", "x" + s, s * 2, s[:-1], s + " ", " " + s, s + s[-1:] * 3]
    if len(s) > 1:
        out.append(s[1:])
    return out


def regex_samples(pattern: str, limit: int = 2, optionals: int = 0) -> list[str]:
    """Strings that match a simple regular expression (first and second alternatives), then
    up to ``optionals`` with one optional part each (``(?P<days>..D)?`` alone, with the
    leading optional part in its second form: ``-P1D`` besides ``+P1Y1M1W1D...``): code that
    branches on which groups matched needs them apart."""
    try:
        try:
            import re._parser as sre  # Python 3.11+
        except ImportError:  # pragma: no cover - older Pythons
            import sre_parse as sre  # type: ignore[no-redef]
        parsed = sre.parse(pattern)
    except Exception:
        return []
    out = []
    for variant in range(limit):
        try:
            text = _gen(parsed, variant, 0)
        except Exception:
            continue
        if text is not None and len(text) <= 60 and text not in out:
            out.append(text)
    extra = 0
    if optionals:  # the shortest: no optional part at all
        try:
            text = _gen(parsed, 0, 0, {"n": 0, "keep": set()})
        except Exception:
            text = None
        if text is not None and len(text) <= 60 and text not in out:
            out.append(text)
            extra += 1
    for k in range(12):
        if extra >= optionals:
            break
        for first in (False, True):
            state = {"n": 0, "keep": {k, 0} if first else {k}}
            try:
                text = _gen(parsed, 1 if first else 0, 0, state)
            except Exception:
                continue
            if state["n"] <= k:
                extra = optionals  # fewer optional parts than k: done
                break
            if text is not None and len(text) <= 60 and text not in out:
                out.append(text)
                extra += 1
    return out


def _gen(items, variant: int, depth: int, state: dict | None = None) -> str | None:
    if depth > 8:
        return ""
    parts = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            parts.append(chr(arg))
        elif name == "NOT_LITERAL":
            parts.append("x" if chr(arg) != "x" else "y")
        elif name == "ANY":
            parts.append("x")
        elif name == "IN":
            parts.append(_gen_in(arg, variant))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            n = max(lo, 1 if variant == 0 else min(2, hi))
            n = min(n, hi, 3) if hi else 0
            if state is not None and lo == 0 and hi == 1:  # an optional part: only the kept ones
                n = 1 if state["n"] in state["keep"] else 0
                state["n"] += 1
            for _ in range(n):
                piece = _gen(sub, variant, depth + 1, state)
                if piece is None:
                    return None
                parts.append(piece)
        elif name == "SUBPATTERN":
            piece = _gen(arg[-1], variant, depth + 1, state)
            if piece is None:
                return None
            parts.append(piece)
        elif name == "ATOMIC_GROUP":
            parts.append(_gen(arg, variant, depth + 1, state) or "")
        elif name == "BRANCH":
            options = arg[1]
            piece = _gen(options[min(variant, len(options) - 1)], variant, depth + 1, state)
            if piece is None:
                return None
            parts.append(piece)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        elif name == "CATEGORY":
            parts.append(_category(str(arg)))
        else:
            return None
    return "".join(parts)


def _gen_in(options, variant: int) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in options)
    if negate:
        def allowed(c: str) -> bool:
            for op, arg in options:
                name = str(op)
                if name == "LITERAL" and c == chr(arg):
                    return False
                if name == "RANGE" and arg[0] <= ord(c) <= arg[1]:
                    return False
                if name == "CATEGORY" and _category(str(arg)) == c:
                    return False
            return True

        return next((c for c in "x1 -_!#@." if allowed(c)), "~")
    for op, arg in options[variant % max(1, len(options)):] + options:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return _category(str(arg))
    return "a"


def _category(name: str) -> str:
    return {"CATEGORY_DIGIT": "1", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a",
            "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": "-"}.get(name, "a")


def str_pool(lits: Literals) -> list[Value]:
    derived: list[str] = []
    for s in lits.strs[:25]:
        derived += [_lit(t) for t in _tweaks(s)[:4]]
    rest: list[str] = []
    for s in lits.strs[:25]:
        rest += [_lit(t) for t in _tweaks(s)[4:]]
    samples: list[str] = []
    for pattern in lits.regexes[:20]:
        samples += [_lit(t) for t in regex_samples(pattern)]
    parts: list[str] = []  # one optional part at a time (capped: a module may have many patterns)
    for pattern in lits.regexes[:20]:
        parts += [_lit(t) for t in regex_samples(pattern, 0, 12)]
    samples += parts[:30]
    shaped = [_lit(t) for t in shaped_texts(lits)]
    seqs = [_lit(t) for t in lits.seqs[:MAX_SEQS] if isinstance(t, str)]  # '[]', '<=': the code's own
    return _dedup(_plain(STRS[:3] + seqs + samples[:6] + derived[:12] + STRS[3:8] + samples[6:] + shaped[:6] + derived[12:]
                         + STRS[8:] + shaped[6:] + rest))


def shaped_texts(lits: Literals, limit: int = 12) -> list[str]:
    """Texts shaped by the code's one- and two-character marks (quotes, comment signs,
    delimiters, operators it compares characters against): each mark leading a word, around
    a word, between two words, and after a word with a space. A lexer or line parser branches
    on what comes first or next; generic text seldom starts with ``#`` or a quote."""
    marks = [t for t in lits.strs if isinstance(t, str) and 0 < len(t) <= 2 and not t.isalnum() and t.strip()]
    out: list[str] = []
    for m in marks[:8]:
        for t in (m + "a", m + "a" + m, "a" + m + "b", "a" + m + " " + m + "b"):
            if t not in out:
                out.append(t)
    # two-mark texts a lexer tells apart ('[]', '<='), then leading marks (what the first
    # character decides), then the rest
    seqs = [t for t in lits.seqs if isinstance(t, str)][:MAX_SEQS]
    return seqs + ([t for t in out if not t[0].isalnum() and t not in seqs]
                   + [t for t in out if t[0].isalnum() and t not in seqs])[:limit]


MAX_SEQS = 12


def unpacked_tuples(n: int, nums: list[Value], strs: list[Value]) -> list[Value]:
    """Tuples for a parameter the code unpacks into ``n`` names (``lat, lon = point``): a plain
    one, then each position in turn through the number pool (where the code's comparison
    constants and their neighbours are), text, and one of the wrong length."""
    base = [str(i + 1) for i in range(n)]
    out = ["(" + ", ".join(base) + ")"]
    for src, _ in nums[:14]:
        for i in range(n):
            vals = list(base)
            vals[i] = src
            out.append("(" + ", ".join(vals) + ")")
    out.append("(" + ", ".join(s for s, _ in (strs[:n] * n)[:n]) + ")")
    out.append("(" + base[0] + ",)")
    return _dedup(_plain(out))


def table_rows(n: int, nums: list[Value], strs: list[Value]) -> list[Value]:
    """Tables for a parameter the code reads by column (``a[:, 0]``, after ``numpy.array(a)``):
    lists of ``n``-tuples: one row, two rows, then one row per tuple of :func:`unpacked_tuples`
    (each column in turn through the number pool: where the code's range checks are)."""
    rows = [src for src, _ in unpacked_tuples(n, nums, strs)]
    second = "(" + ", ".join(str(n + i + 1) for i in range(n)) + ")"
    out = [f"[{rows[0]}]", f"[{rows[0]}, {second}]"] + [f"[{r}]" for r in rows[1:]]
    return _dedup(_plain(out))


SIMILAR_SEEDS = ["abcdef", "123456"]


def similar_pairs(seeds: list[str]) -> list[tuple[str, str]]:
    """Pairs of texts that differ a little, for code that compares the items of two sequences
    (edit distances, similarity scores): two adjacent characters swapped, one dropped, one
    replaced, one added; literal sources."""
    out: list[tuple[str, str]] = []
    for s in seeds:
        if len(s) < 4:
            continue
        k = len(s) // 2
        for t in (s[:k - 1] + s[k] + s[k - 1] + s[k + 1:], s[:k] + s[k + 1:], s[:k] + "x" + s[k + 1:], s + s[-1]):
            if (repr(s), repr(t)) not in out and t != s:
                out.append((repr(s), repr(t)))
    return out


def bytes_pool(lits: Literals) -> list[Value]:
    return _dedup(_plain(BYTES[:2] + [_lit(b) for b in lits.bytes_] + BYTES[2:] + [_lit(s.encode()) for s in lits.strs[:5]]))


def _small(pool: list[Value], n: int) -> list[Value]:
    return pool[:n] if pool else [("None", NO_IMPORTS)]


def _join(vals: list[Value], fmt: str) -> Value:
    imps: set[str] = set()
    for _, i in vals:
        imps |= i
    return fmt.format(", ".join(s for s, _ in vals)), frozenset(imps)


def seq_values(elem: list[Value], open_: str, close: str, empty: str) -> list[Value]:
    """Small containers over an element pool: empty, one, two, three (with a repeat)."""
    e = _small(elem, 4)
    out: list[Value] = [(empty, NO_IMPORTS)]
    out.append(_join(e[:1], open_ + "{}" + (", " if open_ == "(" else "") + close))
    if len(e) > 1:
        out.append(_join(e[:2], open_ + "{}" + close))
    if len(e) > 2:
        out.append(_join([e[2], e[0], e[1], e[0]], open_ + "{}" + close))
    if len(e) > 3:
        out.append(_join([e[3], e[1]], open_ + "{}" + close))
    return out


def dict_values(keys: list[Value], vals: list[Value]) -> list[Value]:
    k, v = _small(keys, 3), _small(vals, 3)
    out: list[Value] = [("{}", NO_IMPORTS)]
    pairs = [(k[i % len(k)], v[i % len(v)]) for i in range(min(3, len(k)))]
    for n in (1, 2, 3):
        if n <= len(pairs):
            imps: set[str] = set()
            parts = []
            for (ks, ki), (vs, vi) in pairs[:n]:
                parts.append(f"{ks}: {vs}")
                imps |= ki | vi
            out.append(("{" + ", ".join(parts) + "}", frozenset(imps)))
    if len(v) > 1:  # the first key with another value (a key looked up, a value of another type)
        out.append(("{" + f"{k[0][0]}: {v[1][0]}" + "}", k[0][1] | v[1][1]))
    return _dedup(out)


class PoolBuilder:
    """Builds value pools for parameters from runtime type hints, usage and literals."""

    def __init__(self, namer: Namer, lits: Literals, max_depth: int = 2) -> None:
        self.namer = namer
        self.lits = lits
        self.max_depth = max_depth
        self._class_cache: dict[object, list[Value]] = {}

    # -- by kind -----------------------------------------------------------------
    def by_kind(self, kind: str, depth: int = 0) -> list[Value]:
        if kind == "int":
            return int_pool(self.lits)
        if kind == "float":
            return float_pool(self.lits)
        if kind == "number":
            return number_pool(self.lits)
        if kind == "str":
            return str_pool(self.lits)
        if kind == "bytes":
            return bytes_pool(self.lits)
        if kind == "bool":
            return _plain(["True", "False"])
        if kind == "list":
            elems = _dedup(int_pool(self.lits)[:3] + str_pool(self.lits)[:3])
            return _dedup(seq_values(int_pool(self.lits), "[", "]", "[]") + seq_values(str_pool(self.lits), "[", "]", "[]")
                          + [("[[1, 2], [3]]", NO_IMPORTS), ("(1, 2, 3)", NO_IMPORTS), ("'abc'", NO_IMPORTS),
                             ("[1, 'a', None]", NO_IMPORTS), ("range(5)", NO_IMPORTS),
                             # a one-shot iterator (code that checks `iter(x) is x`) and pairs
                             ("iter([1, 2, 1])", NO_IMPORTS), ("iter([3, 1, 2])", NO_IMPORTS),
                             ("[('a', 1), ('b', 2)]", NO_IMPORTS)]
                          + seq_values(elems, "[", "]", "[]"))
        if kind == "pairs":
            one, two = pair_lists(_small(str_pool(self.lits), 4))
            i = _small(int_pool(self.lits), 2)
            return _dedup([one, two, ("[]", NO_IMPORTS), _join([_join([i[0], i[-1]], "({})")], "[{}]")])
        if kind == "dict":
            # and mappings of keys to collections of keys (graphs: dependencies, adjacency)
            return dict_values(str_pool(self.lits), int_pool(self.lits)) + _plain(
                ["{1: 'a', 2: 'b'}", "{1: {2}, 2: {3}}", "{'a': ['b'], 'b': []}", "{1: {2}, 2: {1}}",
                 "{'a': {'b': 1}}"])
        if kind == "callable":
            return _plain(CALLABLES)
        if kind == "none":
            return [("None", NO_IMPORTS)]
        if kind.startswith("tuple:") and kind[6:].isdigit():
            return unpacked_tuples(int(kind[6:]), number_pool(self.lits), str_pool(self.lits))
        if kind.startswith("rows:") and kind[5:].isdigit():
            return table_rows(int(kind[5:]), number_pool(self.lits), str_pool(self.lits))
        return _plain(GENERIC)

    def untyped(self, kinds: list[str]) -> list[Value]:
        """Pool for a parameter without a hint: what its usage suggests, then a generic mix."""
        useful = [k for k in kinds if k not in ("any", "object", "stored", "parallel")
                  and not k.startswith(("type:", "made:", "attr:", "value:", "similar:"))]
        if "parallel" in kinds and not any(k.startswith("rows:") for k in useful):
            # its length is compared with another's: lists first, one item first, so that the
            # first calls (one item each, a table of one row) get past the check
            useful = ["list"] + [k for k in useful if k != "list"]
        pools = [self.by_kind(k) for k in useful[:3]]
        if "parallel" in kinds and useful[0] == "list":
            pools[0] = sorted(pools[0], key=lambda v: not _one_item(v[0]))
        if not useful:
            # nothing known: generic values, and text built from the code's own literals
            pools.append(_plain(GENERIC))
            pools.append(str_pool(self.lits)[3:15])
        else:
            pools.append(_plain(GENERIC[:6]))
        return _interleave(pools)

    def open_values(self, checked: list[str], resolve) -> list[Value]:
        """Values for a parameter that takes anything (a schema, a node, a spec): the shapes
        the module tells values apart by (``checked``: names from its isinstance/type checks,
        ``resolve(name)`` finds the module's classes), nested one level: containers of types,
        objects of its classes, those classes with types as their positional arguments and
        a dict keyed by one of their objects."""
        pools: list[list[Value]] = []
        objects: list[Value] = []
        for name in checked:
            if name in OPEN_SHAPES:
                pools.append(_plain(OPEN_SHAPES[name]))
                continue
            cls = resolve(name)
            mod = getattr(self.namer.module, "__name__", None)
            if not isinstance(cls, type) or issubclass(cls, BaseException) or cls.__module__ != mod:
                continue
            made = [v for v in self._class_values(cls, 1)[:2] if v[0] != "None"]
            spelled = self.namer.spell(cls)
            try:
                star = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(cls).parameters.values())
            except (TypeError, ValueError):
                star = False
            if spelled is not None and star:  # `And(int, len)`: a class that combines what it is given
                made = [(f"{spelled[0]}(int, (lambda x: x))", spelled[1]), (f"{spelled[0]}(str, int)", spelled[1])] + made
            objects += made[:1]
            pools.append(made)
        out = _interleave(pools)
        for src, imps in objects[:3]:
            out.append(("{" + src + ": int, 'b': str}", imps))
        return _dedup(out)[:24]

    # -- by type -----------------------------------------------------------------
    def for_type(self, tp: object, depth: int = 0) -> list[Value]:
        try:
            return self._for_type(tp, depth)
        except Exception:  # an exotic hint must never stop the search
            return _plain(GENERIC)

    def _for_type(self, tp: object, depth: int) -> list[Value]:
        if tp is inspect.Parameter.empty or tp is typing.Any or tp is object:
            return _plain(GENERIC)
        if tp is None or tp is _none_type():
            return [("None", NO_IMPORTS)]
        if isinstance(tp, str):
            return _plain(GENERIC)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Union or type(tp).__name__ == "UnionType":
            non_none = [a for a in args if a is not _none_type()]
            pools = [self.for_type(a, depth) for a in non_none]
            out = _interleave(pools)
            if len(non_none) < len(args):
                out.insert(1, ("None", NO_IMPORTS))
            return _dedup(out)
        if origin is typing.Literal:
            return _plain([repr(a) for a in args])
        if getattr(typing, "Annotated", None) is not None and origin is typing.Annotated:
            return self.for_type(args[0], depth)
        if isinstance(tp, typing.TypeVar):
            if tp.__constraints__:
                return _interleave([self.for_type(c, depth) for c in tp.__constraints__])
            if tp.__bound__ is not None:
                return self.for_type(tp.__bound__, depth)
            return _plain(GENERIC)
        if type(tp).__name__ == "NewType" or hasattr(tp, "__supertype__"):
            return self.for_type(tp.__supertype__, depth)
        if tp in TEXT_STREAMS or origin is typing.IO and args == (str,):
            return self._streams(str_pool(self.lits), "io.StringIO",
                                 TEXT_SAMPLES + [_lit(t) for t in shaped_texts(self.lits, 8)])
        if tp in BINARY_STREAMS or origin is typing.IO:
            return self._streams(bytes_pool(self.lits), "io.BytesIO", [repr(ast.literal_eval(t).encode()) for t in TEXT_SAMPLES[:2]])
        if origin is not None:
            return self._generic(origin, args, depth)
        if tp is bool:
            return _plain(["True", "False"])
        if tp in (typing.SupportsInt, typing.SupportsIndex):
            return int_pool(self.lits)
        if tp in (typing.SupportsFloat, typing.SupportsAbs, typing.SupportsRound):
            return number_pool(self.lits)
        if tp is int:
            return int_pool(self.lits)
        if tp is float:
            return number_pool(self.lits) if depth == 0 else float_pool(self.lits)
        if tp is complex:
            return _plain(["1j", "(1+2j)", "0j"])
        if tp is str:
            return str_pool(self.lits)
        if tp in (bytes, bytearray):
            return bytes_pool(self.lits) if tp is bytes else [(f"bytearray({s})", i) for s, i in bytes_pool(self.lits)]
        if tp in ABSTRACT:
            # an abstract collection class (a hint, or a class the code checks with isinstance):
            # the concrete kinds code tells apart (a set, a keys view, an iterator, a generator)
            out = self._generic(tp, (), depth) if tp in (cabc.Iterable, cabc.Sequence, cabc.Mapping) else []
            return _dedup(out[:2] + [(s, frozenset({i}) if i else NO_IMPORTS) for s, i in ABSTRACT[tp]] + out[2:])
        if tp is cabc.Hashable:
            return _interleave([int_pool(self.lits)[:3], str_pool(self.lits)[:3]])
        if tp in (list, tuple, set, frozenset, dict) or tp in (cabc.Iterable, cabc.Sequence, cabc.Mapping):
            return self._generic(tp, (), depth)
        if isinstance(tp, type):
            return self._class_values(tp, depth)
        if callable(tp):
            return _plain(CALLABLES)
        return _plain(GENERIC)

    @staticmethod
    def _streams(pool: list[Value], ctor: str, samples: list[str]) -> list[Value]:
        """File-like objects over a few texts: line-shaped ones first, then the pool's."""
        texts = _plain(samples) + pool[:4]
        return _dedup([(f"{ctor}({src})", imps | {"import io"}) for src, imps in texts])

    def _generic(self, origin: object, args: tuple, depth: int) -> list[Value]:
        elem_tp = args[0] if args else None
        elem = self.for_type(elem_tp, depth + 1) if elem_tp is not None else _dedup(
            int_pool(self.lits)[:3] + str_pool(self.lits)[:2])
        if depth >= self.max_depth:
            elem = elem[:2]
        if origin in (list, cabc.MutableSequence, cabc.Sequence, cabc.Iterable, cabc.Collection,
                      cabc.Iterator, cabc.Generator, cabc.Reversible, cabc.Container):
            out = seq_values(elem, "[", "]", "[]")
            inner = typing.get_origin(elem_tp) if elem_tp is not None else None
            if inner in _SEQ_ORIGINS and not (inner is tuple and typing.get_args(elem_tp)
                                               and typing.get_args(elem_tp)[-1] is not Ellipsis):
                # An iterable of iterables is often one of pairs (`for old, new in rules`).
                atom_args = [a for a in typing.get_args(elem_tp) if a is not Ellipsis]
                one, two = pair_lists(_small(self.for_type(atom_args[0], depth + 2) if atom_args
                                             else int_pool(self.lits), 4))
                out = _dedup(out[:1] + [one] + out[1:3] + [two] + out[3:])
            if origin in (cabc.Iterable, cabc.Collection, cabc.Iterator, cabc.Container) and len(out) > 2:
                # other kinds of iterables code tells apart: a tuple, a set, an iterator, a generator
                src, imps = out[2]
                inner = src[1:-1]
                more = [(f"({inner},)" if "," not in inner else f"({inner})", imps)]
                if _hashable_items(src):
                    more.append(("{" + inner + "}", imps))
                out = _dedup(out + more + [(f"iter({src})", imps), (f"(x for x in {src})", imps)])
            return out
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return seq_values(elem, "(", ")", "()")
            if args and args != ((),):
                pools = [_small(self.for_type(a, depth + 1), 3) for a in args]
                out = []
                for i in range(3):
                    vals = [p[min(i, len(p) - 1)] for p in pools]
                    out.append(_join(vals, "({}" + ("," if len(vals) == 1 else "") + ")"))
                return _dedup(out)
            return seq_values(elem, "(", ")", "()")
        if origin in (set, cabc.Set, cabc.MutableSet):
            vals = seq_values(elem, "{", "}", "set()")
            return vals
        if origin is frozenset:
            return [(f"frozenset({s})" if s != "set()" else "frozenset()", i) for s, i in seq_values(elem, "{", "}", "set()")]
        if origin in (dict, cabc.Mapping, cabc.MutableMapping):
            keys = self.for_type(args[0], depth + 1) if args else str_pool(self.lits)
            # values of several types when the hint does not say (documents, options)
            vals = self.for_type(args[1], depth + 1) if len(args) > 1 else _interleave(
                [str_pool(self.lits)[:2], int_pool(self.lits)[:2]])
            out = dict_values(keys, vals)
            if origin is not dict and len(out) > 1:  # a mapping that is not a dict
                out.append((f"types.MappingProxyType({out[1][0]})", out[1][1] | {"import types"}))
            return out
        if origin is type:
            return _plain(["int", "str"])
        if origin is cabc.Callable:
            n = len(args[0]) if args and isinstance(args[0], list) else 1
            return _plain(CALLABLE_ARITY.get(n, CALLABLES))
        return _plain(GENERIC)

    def _class_values(self, cls: type, depth: int) -> list[Value]:
        if cls in self._class_cache:
            return self._class_cache[cls]
        self._class_cache[cls] = [("None", NO_IMPORTS)]  # recursion guard
        spelled = self.namer.spell(cls)
        out: list[Value] = []
        if spelled is not None and isinstance(cls, type) and issubclass(cls, enum.Enum):
            name, imps = spelled
            out = [(f"{name}.{m.name}", imps) for m in list(cls)[:8]]
        elif spelled is not None:
            out = self._construct(cls, spelled, depth)
            # the module's subclasses too: a base class may refuse to be built, and code that
            # takes a base class meets its subclasses
            for sub in self._subclasses(cls)[:3]:
                sub_spelled = self.namer.spell(sub)
                if sub_spelled is not None:
                    made = self._construct(sub, sub_spelled, depth)
                    out = _dedup(out[:1] + made[:2] + out[1:] + made[2:])
        special = _SPECIAL.get(f"{cls.__module__}.{cls.__qualname__}")
        if special:
            mod = cls.__module__
            imps = NO_IMPORTS if mod == "builtins" else frozenset({f"import {mod}"})
            out = [(s, imps) for s in special] + out
        self._class_cache[cls] = out or [("None", NO_IMPORTS)]
        return self._class_cache[cls]

    def _nested(self, hint: object, depth: int) -> list[Value]:
        """Values for a constructor parameter of a value being built: by its hint, or (none)
        generic values mixed with text from the code's literals."""
        if hint is inspect.Parameter.empty:
            return _interleave([_plain(GENERIC), str_pool(self.lits)])
        return self.for_type(hint, depth)

    def _subclasses(self, cls: type) -> list[type]:
        mod = getattr(self.namer.module, "__name__", None)
        if cls.__module__ != mod:
            return []
        return [k for k in vars(self.namer.module).values()
                if inspect.isclass(k) and k is not cls and k.__module__ == mod and issubclass(k, cls)
                and not issubclass(k, BaseException)]

    def _construct(self, cls: type, spelled: Value, depth: int) -> list[Value]:
        if depth > self.max_depth or inspect.isabstract(cls):
            return []
        name, imps = spelled
        try:
            sig = inspect.signature(cls)
        except (TypeError, ValueError):
            return []
        try:
            hints = typing.get_type_hints(cls.__init__) if not dataclasses.is_dataclass(cls) else typing.get_type_hints(cls)
        except Exception:
            hints = {}
        params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        required = [p for p in params if p.default is p.empty]
        pools = []
        for p in required:
            pool = _literal_led(self._nested(hints.get(p.name, p.annotation), depth + 1))
            pools.append(pool[:3] or [("None", NO_IMPORTS)])
        out: list[Value] = []
        # one required parameter: more of its values (a reader over several texts); else three
        variants = 8 if len(required) == 1 else 3
        if len(required) == 1:
            pools[0] = self.for_type(hints.get(required[0].name, required[0].annotation), depth + 1)[:variants] or pools[0]
        for i in range(min(variants, max((len(p) for p in pools), default=1))):
            parts, all_imps = [], set(imps)
            for p, pool in zip(required, pools, strict=False):
                src, pimps = pool[min(i, len(pool) - 1)]
                all_imps |= pimps
                parts.append(src if p.kind == p.POSITIONAL_ONLY else f"{p.name}={src}")
            out.append((f"{name}({', '.join(parts)})", frozenset(all_imps)))
        if not required:
            # every parameter has a default: each one set in turn to a value led by the code's
            # literals (`Option(long='--a')`), so the object is not always the bare default
            for p in params[:4]:
                if p.kind == p.POSITIONAL_ONLY:
                    continue
                dflt = repr(p.default) if p.default is not p.empty else None
                led = _literal_led(self._nested(hints.get(p.name, p.annotation), depth + 1))
                for src, pimps in led[1:3] + led[:1]:
                    if src not in ("None", dflt):
                        out.append((f"{name}({p.name}={src})", frozenset(imps | pimps)))
                        break
        return _dedup(out)


# Shapes of values the code tells apart by type, as values of a parameter that takes anything.
OPEN_SHAPES = {
    "dict": ["{'a': int}", "{'a': str, 'b': int}"], "list": ["[int, str]", "[1, 'a']"], "tuple": ["(int, str)"],
    "set": ["{int, str}"], "frozenset": ["frozenset({int})"], "type": ["int", "str", "float", "bool"], "str": ["str"],
    "int": ["int"], "float": ["float"], "callable": ["(lambda x: x)", "len"],
}
# Streams: texts shaped like the lines config files, CSV and logs are made of.
TEXT_SAMPLES = ["'a=1\\n'", "\"export KEY='two words' # note\\nB=2\\n\"", "'x y\\n\\nz'", "''"]
TEXT_STREAMS = (typing.TextIO, io.TextIOBase, io.StringIO)
BINARY_STREAMS = (typing.BinaryIO, io.BufferedIOBase, io.BytesIO, io.RawIOBase)
_MP = "import types"
_ITERS = [("iter([1, 2, 1])", ""), ("(c for c in 'aab')", ""), ("range(3)", ""), ("(1, 2, 1)", ""), ("'aab'", "")]
_SETS = [("{1, 2}", ""), ("frozenset({1})", ""), ("{'a': 1}.keys()", "")]
_MAPS = [("{'a': 2, 'b': 1}", ""), ("types.MappingProxyType({'a': 2})", _MP), ("{'a': 0, 'b': -1}", "")]
ABSTRACT = {
    cabc.Iterable: _ITERS + _SETS[:1] + _MAPS[:1], cabc.Iterator: _ITERS[:2], cabc.Collection: _SETS + _ITERS[2:],
    cabc.Sized: _SETS + [("[1, 2]", ""), ("{'a': 1}", "")], cabc.Container: _SETS + [("[1, 2]", ""), ("'ab'", "")],
    cabc.Set: _SETS, cabc.MutableSet: _SETS[:1], cabc.Mapping: _MAPS, cabc.MutableMapping: _MAPS[:1] + _MAPS[2:],
    cabc.Sequence: [("(1, 2)", ""), ("'ab'", ""), ("range(3)", ""), ("[1, 2]", "")],
}


_SPECIAL = {
    "datetime.date": ["datetime.date(2020, 1, 31)", "datetime.date(1999, 12, 31)", "datetime.date(2024, 2, 29)"],
    "datetime.datetime": ["datetime.datetime(2020, 1, 31, 12, 30)", "datetime.datetime(1999, 12, 31, 23, 59, 59)"],
    "datetime.timedelta": ["datetime.timedelta(seconds=90)", "datetime.timedelta(0)", "datetime.timedelta(days=400)",
                           "datetime.timedelta(microseconds=1500)", "datetime.timedelta(days=-1)"],
    "datetime.time": ["datetime.time(12, 30)", "datetime.time(0, 0)"],
    "decimal.Decimal": ["decimal.Decimal('1.5')", "decimal.Decimal('0')", "decimal.Decimal('-12.345')"],
    "fractions.Fraction": ["fractions.Fraction(1, 3)", "fractions.Fraction(0)"],
    "pathlib.Path": ["pathlib.Path('a/b.txt')", "pathlib.Path('x')"],
    "pathlib.PurePath": ["pathlib.PurePath('a/b.txt')"],
    "re.Pattern": ["re.compile('a+')", "re.compile('')"],
    "builtins.slice": ["slice(None)", "slice(1, 3)", "slice(None, None, -1)"],
}


def _one_item(src: str) -> bool:
    """Whether ``src`` is a list or tuple display of exactly one item."""
    try:
        node = ast.parse(src, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) == 1


def _hashable_items(src: str) -> bool:
    """Whether the literal list ``src`` holds only hashable items (so a set of them can be made)."""
    try:
        items = ast.literal_eval(src)
        return all(isinstance(x, (int, float, str, bytes, bool, type(None))) for x in items)
    except Exception:
        return False


def pair_lists(atoms: list[Value]) -> tuple[Value, Value]:
    """Two lists of pairs from (up to) four atoms: ``[(a0, a2)]`` and ``[(a2, a0), (a1, a3)]``
    (the values of an iterable of pairs, as in ``for old, new in rules``)."""
    a = [atoms[min(k, len(atoms) - 1)] for k in range(4)]
    return (_join([_join([a[0], a[2]], "({})")], "[{}]"),
            _join([_join([a[2], a[0]], "({})"), _join([a[1], a[3]], "({})")], "[{}]"))


_SEQ_ORIGINS = (list, tuple, cabc.Iterable, cabc.Sequence, cabc.Collection, cabc.MutableSequence)


_STOCK = set(STRS) | set(INTS) | set(FLOATS) | set(GENERIC)


def _literal_led(pool: list[Value]) -> list[Value]:
    """A pool with its first value, then the values derived from the code's literals (not the
    stock ones every pool starts with), then the rest: for values built inside other values,
    where only the first few are used."""
    if len(pool) < 3:
        return pool
    derived = [v for v in pool[1:] if v[0] not in _STOCK]
    return _dedup(pool[:1] + derived[:2] + pool[1:])


def _interleave(pools: list[list[Value]]) -> list[Value]:
    out: list[Value] = []
    for i in range(max((len(p) for p in pools), default=0)):
        for p in pools:
            if i < len(p):
                out.append(p[i])
    return _dedup(out)


def random_primitive(rng: random.Random, kind: str, lits: Literals) -> str | None:
    """A fresh random value of a primitive kind (for the random phase of the search)."""
    if kind == "int":
        choice = rng.random()
        if lits.ints and choice < 0.4:
            return repr(rng.choice(lits.ints) + rng.randint(-3, 3))
        return repr(rng.choice([rng.randint(-10, 10), rng.randint(-10, 10), rng.randint(-1000, 1000), rng.randint(0, 10**9)]))
    if kind in ("float", "number"):
        if rng.random() < 0.5 and kind == "number":
            return random_primitive(rng, "int", lits)
        return repr(round(rng.uniform(-1000, 1000) * rng.choice([1e-3, 1, 1e3]), 3))
    if kind == "str":
        alphabet = rng.choice(["abcxyz", "ABCabc", "abc_- ", "0123456789", "aé😀 ", "ab.,:;/\\", "AbCdEf_12"])
        n = rng.choice([1, 2, 3, 5, 8, 13])
        s = "".join(rng.choice(alphabet) for _ in range(n))
        short = [t for t in lits.strs[:60] if isinstance(t, str) and 0 < len(t) <= 16]
        if short and rng.random() < 0.3:
            # text made of the strings the code compares against (tokens, keywords,
            # delimiters): what lexers and parsers branch on
            parts = [rng.choice(short) if rng.random() < 0.7 else rng.choice(["a", "x1", "42", "foo"])
                     for _ in range(rng.choice([2, 3, 4, 6]))]
            return repr(rng.choice(["", "", " ", "\n"]).join(parts))
        if lits.strs and rng.random() < 0.5:
            lit = rng.choice(lits.strs)
            s = rng.choice([lit + s, s + lit, lit, s[: n // 2] + lit + s[n // 2 :]])
        return repr(s)
    if kind == "bool":
        return rng.choice(["True", "False"])
    return None


def off_type_values(tp: object) -> list[Value]:
    """A few values of the wrong type for a hinted parameter."""
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return _plain(["'not-an-option'", "None"])
    if tp in (list, tuple, set, dict) or origin in (list, tuple, set, dict, cabc.Iterable, cabc.Sequence):
        return _plain(OFF_TYPE["list"])
    kind = kind_of_type(tp)
    if kind == "number":
        kind = "float"
    return _plain(OFF_TYPE.get(kind or "any", OFF_TYPE["any"]))


def kind_of_type(tp: object) -> str | None:
    """Primitive kind of a hint, for random generation (None when not primitive)."""
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "number"
    if tp is str:
        return "str"
    origin = typing.get_origin(tp)
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        for a in typing.get_args(tp):
            k = kind_of_type(a)
            if k:
                return k
    return None
