"""Composite values and data shaped like them, for code that interprets what it is given.

Shipped next to the in-sandbox driver as ``_codeloop_shapes.py`` (standard library only,
never ``import codeloop``). Validators, patterns and specs take anything and decide by its
shape what to do: a dict whose keys are objects of the module's own classes, one such
object wrapping another, each built with its keyword options (``ignore_extra_keys``,
``only_one``, ``default``). Two rules:

- :func:`combos`: values for such a parameter, the module's classes combined with each
  other, with the plain shapes (types, a literal, a callable) and with their keyword
  options, nested two levels (a dict of wrapped keys, a class over such a dict);
- :func:`shaped_data`: arguments for a method called on an object, derived from the
  expression the object was built from (a validator called on data shaped like its schema):
  a value that fits it, the same with one part of the wrong type, a key missing, a key too
  many, and a value of another kind altogether.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass, field

# A sample value of each builtin type (what data "of type T" is), and one of another type.
SAMPLES = {"int": "1", "str": "'a'", "float": "1.5", "bool": "True", "list": "[1]", "dict": "{'a': 1}",
           "tuple": "(1,)", "set": "{1}", "frozenset": "frozenset({1})", "bytes": "b'a'", "object": "1",
           "complex": "1j", "type": "int"}
OTHER = {"int": "'a'", "str": "1", "float": "'a'", "bool": "'a'", "list": "1", "dict": "[1]", "tuple": "1",
         "set": "1", "frozenset": "1", "bytes": "'a'", "complex": "'a'"}
MAX_COMBOS = 64
BLAND = {"None", "''", "0", "[]", "{}", "()", "False", "b''"}
MAX_DATA = 10
POPPED = re.compile(r"\bkwargs\.(?:pop|get)\(\s*['\"]([A-Za-z_]\w*)['\"]")


@dataclass
class Spec:
    """How one class of the module is built: its spelled name, first arguments it accepts
    (a plain shape; a text, for a dict key) and its keyword options with a telling value each
    (``name='abc', as_reference=True`` when one option needs another)."""

    name: str
    imports: frozenset
    firsts: list[str]
    key_arg: str | None
    options: list[str] = field(default_factory=list)


def keyword_options(cls: type) -> list[tuple[str, object, object]]:
    """(name, default, hint) of the keyword options a class's constructor takes: its own, and
    when it passes ``**kwargs`` on, its bases' and the names it pops from them."""
    out: list[tuple[str, object, object]] = []
    seen: set[str] = set()
    for k in cls.__mro__:
        init = vars(k).get("__init__")
        if init is None or k is object:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            break
        for p in list(sig.parameters.values())[1:]:
            if p.default is not p.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in seen:
                seen.add(p.name)
                out.append((p.name, p.default, p.annotation))
        try:
            src = inspect.getsource(init)
        except (OSError, TypeError):
            src = ""
        for name in POPPED.findall(src):
            if name not in seen:
                seen.add(name)
                out.append((name, inspect.Parameter.empty, inspect.Parameter.empty))
        if not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            break
    return out


def _takes_many(cls: type) -> bool:
    """Whether ``cls`` combines any number of positional arguments (``And(int, len)``); a
    subclass that only passes ``*args, **kwargs`` on takes what its base takes."""
    for k in cls.__mro__:
        init = vars(k).get("__init__")
        if init is None or k is object:
            continue
        try:
            params = list(inspect.signature(init).parameters.values())[1:]
        except (TypeError, ValueError):
            return False
        named = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if named or not any(p.kind == p.VAR_POSITIONAL for p in params):
            return False
        if any(p.kind == p.KEYWORD_ONLY for p in params):
            return True
    return True


def class_spec(cls: type, spelled: tuple[str, frozenset], option_value, builds) -> Spec | None:
    """The :class:`Spec` of ``cls``: ``option_value(default, hint)`` gives a telling value
    (source) for a keyword option or None; ``builds(src)`` says whether an expression
    evaluates in the module's namespace without an exception."""
    name = spelled[0]
    many = _takes_many(cls)
    tries = (["int, str", "'a', 'b'", "int, None", "'a'", "None, 'a'"] if many
             else ["int", "'a'", "(lambda x: x)", "{'a': int}", "None"])
    firsts = [a for a in tries if builds(f"{name}({a})")]
    if not firsts or firsts == ["None"]:
        return None  # takes no shape (a value class: `relativedelta(None)` only)
    key_arg = next((a for a in (["'b', 'c'"] if many else ["'b'"]) if builds(f"{name}({a})")), None)
    first = firsts[0]
    spec = Spec(name, spelled[1], firsts, key_arg)
    failed = []
    for opt, default, hint in keyword_options(cls):
        src = option_value(default, hint)
        if src is None:
            continue
        if builds(f"{name}({first}, {opt}={src})") or (key_arg and builds(f"{name}({key_arg}, {opt}={src})")):
            spec.options.append(f"{opt}={src}")
        else:
            failed.append(f"{opt}={src}")
    for text in failed:  # an option that needs another one set (a reference needs a name)
        for other in spec.options:
            both = f"{other}, {text}"
            if builds(f"{name}({first}, {both})"):
                spec.options.append(both)
                break
    return spec


def option_value(builder, default: object, hint: object) -> str | None:
    """A telling value for a keyword option: the other truth value of a flag, else the first
    value of its hint's pool (``builder``: the inputs module's PoolBuilder) that is neither
    empty nor its default; ``1`` for a name only popped from ``**kwargs``."""
    if isinstance(default, bool):
        return repr(not default)
    if hint is inspect.Parameter.empty:
        return "1" if default is inspect.Parameter.empty or default is None else None
    try:
        dflt = repr(default)
    except Exception:
        dflt = None
    for src, imps in builder.for_type(hint)[:8]:
        if not imps and src not in BLAND and src != dflt:
            return src
    return None


def module_specs(module, names: list[str], namer, builder, builds) -> list[Spec]:
    """Specs of the module's own classes among ``names`` (the types its code checks)."""
    out = []
    for name in names:
        cls = getattr(module, name, None)
        if not isinstance(cls, type) or issubclass(cls, BaseException) or cls.__module__ != module.__name__:
            continue
        spelled = namer.spell(cls)
        if spelled is None or inspect.isabstract(cls):
            continue
        spec = class_spec(cls, spelled, lambda d, h: option_value(builder, d, h), builds)
        if spec is not None:
            out.append(spec)
    return out


def _interleave(groups: list[list[str]]) -> list[str]:
    out: list[str] = []
    for i in range(max((len(g) for g in groups), default=0)):
        for g in groups:
            if i < len(g) and g[i] not in out:
                out.append(g[i])
    return out


def combos(specs: list[Spec], limit: int = MAX_COMBOS) -> list[tuple[str, frozenset]]:
    """Values built from the module's classes combined: each class over a plain shape and with
    each keyword option, dicts keyed by objects of the classes (over a text key), dicts of
    such values, and each class over such a dict; every class gets its first values before
    any class its later ones."""
    if not specs:
        return []  # nothing of the module's own to combine (the plain shapes are open values already)
    imps = frozenset().union(*(s.imports for s in specs))
    wrapped, keys, outer = [], [], []
    for s in specs:
        wrapped.append([f"{s.name}({a})" for a in s.firsts[:2]] + [f"{s.name}({s.firsts[0]}, {o})" for o in s.options]
                       + [f"{s.name}({a})" for a in s.firsts[2:]])
        if s.key_arg is not None:
            keys.append([f"{s.name}({s.key_arg})"] + [f"{s.name}({s.key_arg}, {o})" for o in s.options])
    flat_keys = _interleave(keys)
    dicts = ["{'a': int, " + k + ": str}" for k in flat_keys]
    dicts += ["{'a': " + w + "}" for w in _interleave(wrapped)[:12]]
    # plain shapes: a type as a key, nesting, every builtin type once, one part twice
    dicts[2:2] = ["{str: int}", "{'a': {'b': int}}", "{'a': [int]}", "{'a': int, 'b': {'c': str}}",
                  "{'a': int, 'b': float, 'c': bool, 'd': list, 'e': dict, 'f': str}",
                  "{'a': {'b': int}, 'c': {'b': int}}"]
    bases = dicts[:1] + dicts[6:] or ["{'a': int}"]
    for n, s in enumerate(specs):
        if "{'a': int}" not in s.firsts:
            continue
        mine = [f"{s.name}({bases[(n + i) % len(bases)]}{', ' + o if o else ''})" for i, o in enumerate([""] + s.options)]
        if s.options:  # a nested object with its options as a value in a dict, twice
            inner = f"{s.name}({{'b': int}}, {s.options[-1]})"
            mine.append("{'a': " + inner + ", 'c': " + inner + "}")
        outer.append(mine)
    return [(src, imps) for src in _interleave([_interleave(outer), dicts, _interleave(wrapped)])[:limit]]


# --------------------------------------------------------------------------- shaped data

def _sample(node: ast.expr, depth: int = 0) -> str | None:
    """Source of a value that fits ``node`` read as a description of data; None when no
    value can be told (the description is opaque)."""
    if depth > 4:
        return None
    if isinstance(node, ast.Name):
        return SAMPLES.get(node.id, "1" if node.id in ("None",) else None)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.Lambda):
        return "1"
    if isinstance(node, ast.Call):
        if node.args and not isinstance(node.args[0], ast.Starred):
            return _sample(node.args[0], depth + 1)
        return None
    if isinstance(node, ast.Dict):
        parts = []
        for k, v in zip(node.keys, node.values, strict=False):
            if k is None:
                return None
            ks, vs = _sample(k, depth + 1), _sample(v, depth + 1)
            if ks is None or vs is None:
                continue
            parts.append(f"{ks}: {vs}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [s for s in (_sample(e, depth + 1) for e in node.elts[:2]) if s is not None]
        return "[" + ", ".join(items) + "]"
    return None


def _other(node: ast.expr) -> str:
    """A value that does not fit ``node``: of another type than its sample."""
    if isinstance(node, ast.Name) and node.id in OTHER:
        return OTHER[node.id]
    if isinstance(node, ast.Constant):
        return "None" if node.value is not None else "1"
    if isinstance(node, ast.Call) and node.args and not isinstance(node.args[0], ast.Starred):
        return _other(node.args[0])
    if isinstance(node, ast.Dict):
        return "[1]"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return "1"
    return "None"


def describes_data(node: ast.expr) -> bool:
    """Whether an expression reads as a description of data: it names a builtin type
    (``{'a': int}``, ``Or(str, None)``, ``[float]``); plain values (``relativedelta(days=1)``,
    ``'abc'``) do not."""
    return any(isinstance(n, ast.Name) and n.id in SAMPLES and n.id != "object" for n in ast.walk(node))


def shaped_data(description: str) -> list[str]:
    """Data shaped like ``description`` (the source of what an object was built from, when it
    describes data: see :func:`describes_data`): one value that fits, then variants that each
    break one thing (for a dict: each value of the wrong type, each key missing, an extra key;
    for a collection: an item of the wrong type, an empty one), then a value of another kind
    altogether."""
    try:
        node = ast.parse(description, mode="eval").body
    except SyntaxError:
        return []
    if not describes_data(node):
        return []
    fit = _sample(node)
    if fit is None:
        return []
    out = [fit]
    if isinstance(node, ast.Call) and node.args and len(node.args) > 1:
        out += [s for s in (_sample(a) for a in node.args[1:3]) if s is not None]
    if isinstance(node, ast.Dict) and None not in node.keys:
        pairs = [(_sample(k), _sample(v), v) for k, v in zip(node.keys, node.values, strict=False)]
        pairs = [(k, v, n) for k, v, n in pairs if k is not None and v is not None]
        for i, (k, _v, n) in enumerate(pairs[:3]):
            rest = [f"{a}: {b}" for j, (a, b, _) in enumerate(pairs) if j != i]
            out.append("{" + ", ".join(rest[:i] + [f"{k}: {_other(n)}"] + rest[i:]) + "}")
            out.append("{" + ", ".join(rest) + "}")
        out.append("{" + ", ".join([f"{a}: {b}" for a, b, _ in pairs] + ["'zz': 1"]) + "}")
        # each alternative of a key that combines several (all of them present at once)
        for k, v in zip(node.keys, node.values, strict=False):
            if isinstance(k, ast.Call) and len(k.args) > 1 and _sample(v) is not None:
                alts = [a for a in (_sample(x) for x in k.args) if a is not None]
                out.append("{" + ", ".join([f"{a}: {b}" for a, b, _ in pairs] + [f"{a}: {_sample(v)}" for a in alts[1:]]) + "}")
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts:
        out += ["[" + _other(node.elts[0]) + "]", "[]"]
    out.append(_other(node))
    seen: list[str] = []
    for s in out:
        if s not in seen:
            seen.append(s)
    return seen[:MAX_DATA]


def construction_argument(setup: list[str], var: str) -> str | None:
    """The source of the first argument of the call that built ``var`` (``s = Schema({...})``
    gives ``{...}``); None when ``var`` was not built by a call with one."""
    for stmt in reversed(setup):
        try:
            node = ast.parse(stmt).body[0]
        except (SyntaxError, IndexError):
            return None
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == var):
            continue
        call = node.value
        if isinstance(call, ast.Call) and call.args and not isinstance(call.args[0], ast.Starred):
            if len(call.args) > 1:  # a combining class: all its arguments describe the data
                return ast.unparse(call)
            return ast.unparse(call.args[0])
        return None
    return None


# --------------------------------------------------------------------------- words from a text

def assigned_literals(setup: list[str]) -> dict[str, object]:
    """``name = <literal>`` statements of an example's set-up, as values (``doc = '''...'''``,
    ``argv = ['tcp', '80']``): what the documentation passes for parameters of that name."""
    out: dict[str, object] = {}
    for stmt in setup:
        try:
            node = ast.parse(stmt).body[0]
        except (SyntaxError, IndexError):
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
    return out


GROUPING = re.compile(r"([\[\]()|]|\.\.\.)")
OPTION = re.compile(r"^--?[A-Za-z][\w-]*")
MAX_WORD_LISTS = 28


def _parse_group(tokens: list[str], i: int, close: str | None) -> tuple[list[list], int]:
    """Alternatives (split at ``|``) of items up to ``close``; an item is a word or a
    (kind, alternatives) group, kind ``[`` (optional) or ``(`` (required)."""
    alts: list[list] = [[]]
    while i < len(tokens):
        t = tokens[i]
        if t == close:
            return alts, i + 1
        if t in ("[", "("):
            sub, i = _parse_group(tokens, i + 1, "]" if t == "[" else ")")
            alts[-1].append((t, sub))
            continue
        if t == "|":
            alts.append([])
        elif t not in ("]", ")"):
            alts[-1].append(t)
        i += 1
    return alts, i


def _word(t: str) -> str:
    if t.startswith("<") and t.endswith(">") or (t.isupper() and t.isalpha() and len(t) > 1):
        return "1"  # an argument's place: a value
    if OPTION.match(t) and "=" in t:
        return t.split("=", 1)[0] + "=1"
    return t


def _instantiate(alts: list[list], pick: int, optional: bool) -> list[str]:
    out: list[str] = []
    for item in alts[min(pick, len(alts) - 1)]:
        if isinstance(item, tuple):
            kind, sub = item
            if kind == "[" and not optional:
                continue
            out += _instantiate(sub, pick, optional)
        elif item == "...":
            if out:
                out.append(out[-1])
        else:
            out.append(_word(item))
    return out


def word_lists(text: str) -> list[list[str]]:
    """Argument lists built from a text that describes them (a usage text): each line with
    option or argument places instantiated (first or last alternative, optional parts in or
    out, ``<x>`` and ``X`` as a value, repetitions twice), then each option alone, with a
    value (``--o=1``, ``--o 1``), single-letter options stacked, an unknown option, and
    nothing. Empty when the text names no option or argument place."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    options: list[str] = []
    out: list[list[str]] = []
    for line in lines:
        tokens = GROUPING.sub(r" \1 ", line.replace(",", " ")).split()
        for t in tokens:
            m = OPTION.match(t)
            if m and m.group(0) not in options:
                options.append(m.group(0))
        places = [t for t in tokens[1:] if OPTION.match(t) or t in ("[", "(", "|") or t.startswith("<")]
        if len(tokens) < 2 or not places or OPTION.match(tokens[0]) or tokens[0].endswith(":") and len(tokens) < 3:
            continue
        alts, _ = _parse_group(tokens[1:], 0, None)
        for pick, optional in ((0, True), (0, False), (1, True), (9, False)):
            words = _instantiate(alts, pick, optional)
            if words and words not in out:
                out.append(words)
    if not options and not out:
        return []
    for o in options:
        out += [[o], [o, "1"], [f"{o}=1"]] if o.startswith("--") else [[o], [o, "1"], [o + "1"]]
    shorts = [o[1] for o in options if len(o) == 2]
    if len(shorts) > 1:
        out.append(["-" + "".join(shorts[:3])])
    out += [["--zz"], ["-z"], ["--"], []]
    seen: list[list[str]] = []
    for words in out:
        if words not in seen:
            seen.append(words)
    return seen[:MAX_WORD_LISTS]


def text_variants(text: str, words: list[str]) -> list[str]:
    """Variants of a text that describes argument lists (see :func:`word_lists`): its first
    line with places extended by a repeated argument (``<zz>...``), by a short option taking
    a value, and by each of ``words`` (the code's own keywords) as an optional part; and the
    text twice (a section written two times)."""
    lines = text.split("\n")
    at = next((i for i, ln in enumerate(lines) if ln.strip() and not OPTION.match(ln.strip())
               and len(ln.split()) > 1 and ("<" in ln or "[" in ln or " -" in ln)), None)
    if at is None:
        return []
    out = []
    for extra in [" <zz>...", " -q ZZ", " (<yy> | <zz>)...", *(f" [{w}]" for w in words[:3]), " )"]:
        out.append("\n".join(lines[:at] + [lines[at] + extra] + lines[at + 1:]))
    # a line that defines options: its first option taking a value, and the line written twice
    defs = [i for i, ln in enumerate(lines) if OPTION.match(ln.strip())]
    if defs:
        i = defs[0]
        head, _, rest = lines[i].strip().partition(" ")
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        out.append("\n".join(lines[:i] + [f"{indent}{head.rstrip(',')} <zz>{',' if head.endswith(',') else ''} {rest}"]
                             + lines[i + 1:]))
        out.append("\n".join(lines[:i] + [lines[j] for j in defs] + lines[i:]))
    out.append(text + "\n" + text)
    return out


def example_values(found: dict[str, object], names: list[str], keywords: list[str]) -> tuple[dict[str, list[str]], list[str], tuple | None]:
    """Pool heads from the values examples assign (``found``: name -> value) for parameters
    ``names``: the value itself; for a list of words, the word lists the examples' multi-line
    texts describe; for such a text, its variants (``keywords``: the code's own). Also the
    text and its variants, and (text parameter, words parameter) when a call takes both."""
    texts = [v for v in found.values() if isinstance(v, str) and "\n" in v]
    heads: dict[str, list[str]] = {}
    variants: list[str] = []
    text_name = words_name = None
    for name in names:
        if name not in found:
            continue
        v = found[name]
        vals = [repr(v)]
        if isinstance(v, list) and v and all(isinstance(w, str) for w in v):
            vals += [repr(w) for t in texts for w in word_lists(t)]
            words_name = name
        if v in texts:
            more = text_variants(v, keywords)
            vals += [repr(t) for t in more]
            text_name, variants = name, [v, *more]
        heads[name] = vals
    pair = (text_name, words_name) if text_name is not None and words_name is not None else None
    return heads, variants, pair


def paired_lists(variants: list[str], per_variant: int) -> list[tuple[str, list[str]]]:
    """Each variant of a text (after the first, the text itself) with the word lists it adds,
    then its options alone: what makes the variant matter."""
    if not variants:
        return []
    first = word_lists(variants[0])
    out = []
    for text in variants[1:]:
        lists = word_lists(text)
        new = [w for w in lists if w not in first]
        ordered = new + [w for w in lists if w not in new and w and w[0].startswith("-")]
        out += [(text, words) for words in ordered[:per_variant]]
    return out


SELF_CHECK = re.compile(r"isinstance\(\s*self\s*,")


def checks_self_type(func) -> bool:
    """Whether a method's code asks if ``self`` is an instance of a class (it is meant to be
    called through the class on other values too)."""
    try:
        return bool(SELF_CHECK.search(inspect.getsource(func)))
    except (OSError, TypeError):
        return False
