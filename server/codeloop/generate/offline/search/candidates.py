"""The candidate calls of one callable: :class:`Generator`, a deterministic stream per seed and round.

Phases: docstring examples, the base call per receiver, shaped data, one parameter at a time
over its pool, wrong types, keyword names, table entries, then seeded random combinations;
plus repairs of wrong-type calls that reached new arcs.
"""

from __future__ import annotations

import ast
import collections
import inspect
import random
import re
import sys
import typing
import zlib

from . import context
from .callables import OPERATOR_IMPORTS, OPERATORS, Callee
from .observe import discrete_result, is_literal, names_in, obs_key, raw_key, resolve_dotted

MAX_REPAIRS = 240  # per callable: re-typed copies of wrong-type calls that reached new arcs
ORPHAN_CHECKS = 400  # per callable: other calls traced while such arcs are held by no test
RECEIVER_DOCS = 64  # receivers of a __call__ given documents shaped like their set-up (phase R)
RECEIVER_VARIANTS = 16  # constructor calls per class used as receivers (base, then one option each)
RESERVOIR = 24  # calls per callable that reached nothing new, sampled for the mutant hunt
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
SHAPED_RECEIVERS = 96  # receivers whose shaped data a method gets in its deterministic phase
SHAPED_SHARE = 0.3  # random calls on a receiver that take data shaped like it
SHAPED_CACHE = 4096
PAIRED_LISTS = 8  # word lists per variant of an example text (the text's own: in the words' pool)
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


_shaped_cache: dict = {}  # receiver set-up -> data shaped like what it was built from


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
        if context.shapes_mod is None:
            return
        found: dict = {}
        for ex in self.c.info.get("examples", []):
            for k, v in context.shapes_mod.assigned_literals(list(ex.get("setup", []))).items():
                found.setdefault(k, v)
        params = [p for p in self.c.params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        heads, self.text_variants, pair = context.shapes_mod.example_values(found, [p.name for p in params], context.module_words)
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
        for text, words in context.shapes_mod.paired_lists(self.text_variants, PAIRED_LISTS):
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
                cls = resolve_dotted(self.c.subject.module, k[5:]) or resolve_dotted(__import__("builtins"), k[5:])
                if isinstance(cls, type) and not issubclass(cls, BaseException):
                    out.append(self._crossing_values(cls, usage) + self.builder.for_type(cls)[:4])
            elif k.startswith("items:"):  # a list of the objects whose attributes the items use
                cls = resolve_dotted(self.c.subject.module, k[6:])
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
                if resolve_dotted(self.c.subject.module, func) is cls:
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
                and context.open_shapes):
            # takes anything and keeps it for its methods: the shapes the module tells apart
            # (a schema, a spec); a parameter passed straight on to a helper gets its own pool
            opened = self.builder.open_values(context.open_shapes, lambda n: resolve_dotted(self.c.subject.module, n))
            pool = self.inputs._dedup(list(pool[:1]) + opened[:8] + context.combos + opened[8:] + list(pool[1:]))
            context.open_params.add((self.c.qualname, p.name))
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
            g = context.generators.get(m.qualname)
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
        if c.attr == "__call__" and params and params[0].kind != params[0].VAR_POSITIONAL and context.objects_mod is not None:
            for rec in receivers[:RECEIVER_DOCS]:
                for setup, doc in (context.objects_mod.documents(rec[0]) if rec is not None else []):
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
        if c.kind == "method" and context.shapes_mod is not None and context.shapes_mod.checks_self_type(c.obj):
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
            arg = context.shapes_mod.construction_argument(receiver[0], receiver[1]) if context.shapes_mod is not None else None
            if len(_shaped_cache) >= SHAPED_CACHE:  # set-ups with random pre-calls: many, each once
                return context.shapes_mod.shaped_data(arg) if arg else []
            _shaped_cache[key] = context.shapes_mod.shaped_data(arg) if arg else []
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
            owner_ctor = context.generators.get(self.c.owner.__name__)
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
    other = context.generators.get(f"{g.c.owner.__name__}.{call.func.attr}")
    if other is None:
        return None
    return other, (list(setup[:step]), call.func.value.id, list(cand.get("imports", [])))
