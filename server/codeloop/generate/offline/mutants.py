"""Mutants of the module under test, swapped into the live functions one at a time.

Shipped next to the in-sandbox driver as ``_codeloop_mutants.py`` (standard library only,
never ``import codeloop``). A mutant changes one operator or constant inside one function
or method (``<`` -> ``<=``, ``+`` -> ``-``, ``and`` -> ``or``, ``not x`` -> ``x``, ``n`` ->
``n + 1``, ``return x`` -> ``return None``, ...). Only that function is recompiled and its
``__code__`` replaced, so the module is never re-imported (its top level may have side
effects) and the original comes back by assigning the old code object.
"""

from __future__ import annotations

import ast
import copy
import inspect
import random
import types

CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
       ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
       ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
       ast.LShift: ast.RShift, ast.RShift: ast.LShift}
SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
          ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
          ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|",
          ast.LShift: "<<", ast.RShift: ">>", ast.And: "and", ast.Or: "or"}


class Mutant:
    """One change: the function it is in (``Class.method`` or ``function``), where, what."""

    def __init__(self, owner: str | None, func: str, line: int, path: list, what: str) -> None:
        self.owner = owner  # class name, None for a module-level function
        self.func = func
        self.line = line
        self.path = path  # index of the changed node in the function's ast.walk order
        self.change = what  # the kind of change (_changes)
        self.what = what  # what it does, once applied (`< -> <=`)

    @property
    def qualname(self) -> str:
        return f"{self.owner}.{self.func}" if self.owner else self.func

    def describe(self) -> str:
        return f"{self.qualname} line {self.line}: {self.what}"


def _changes(node: ast.AST) -> list[str]:
    """The mutations of one node, as names ``apply`` understands."""
    out = []
    if isinstance(node, ast.Compare) and type(node.ops[0]) in CMP:
        out.append("cmp")
    elif isinstance(node, ast.BinOp) and type(node.op) in BIN:
        out.append("bin")
    elif isinstance(node, ast.AugAssign) and type(node.op) in BIN:
        out.append("aug")
    elif isinstance(node, ast.BoolOp):
        out.append("bool")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append("not")
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
        out.append("num")
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append("bool_const")
    elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        out.append("return")
    elif isinstance(node, ast.Break):
        out.append("break")
    elif isinstance(node, ast.Continue):
        out.append("continue")
    return out


def _apply(node: ast.AST, change: str) -> str:
    """Mutate ``node`` in place; a short description of the change."""
    if change == "cmp":
        old = type(node.ops[0])
        node.ops[0] = CMP[old]()
        return f"{SYMBOL[old]} -> {SYMBOL[CMP[old]]}"
    if change in ("bin", "aug"):
        old = type(node.op)
        node.op = BIN[old]()
        return f"{SYMBOL[old]} -> {SYMBOL[BIN[old]]}"
    if change == "bool":
        old = type(node.op)
        node.op = ast.Or() if old is ast.And else ast.And()
        return f"{SYMBOL[old]} -> {'or' if old is ast.And else 'and'}"
    if change == "num":
        old = node.value
        node.value = old + 1
        return f"{old!r} -> {node.value!r}"
    if change == "bool_const":
        node.value = not node.value
        return f"{not node.value} -> {node.value}"
    raise ValueError(change)


def _function_nodes(tree: ast.Module):
    """(class name or None, function node) for module functions and methods."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield None, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node.name, item


def _skip(node: ast.AST, parents: dict) -> bool:
    """Docstrings, annotations and default values are not the function's behaviour."""
    cur = node
    while cur in parents:
        parent = parents[cur]
        if isinstance(parent, ast.arguments) or (isinstance(parent, (ast.arg, ast.AnnAssign)) and cur is parent.annotation):
            return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and cur is parent.returns:
            return True
        cur = parent
    return False


def find(source: str, seed: int, limit: int, only: set[str] | None = None) -> tuple[list[Mutant], int]:
    """A seeded sample of up to ``limit`` mutants (and how many there were in all)."""
    tree = ast.parse(source)
    found: list[Mutant] = []
    for owner, fn in _function_nodes(tree):
        qual = f"{owner}.{fn.name}" if owner else fn.name
        if only is not None and qual not in only:
            continue
        parents = {child: parent for parent in ast.walk(fn) for child in ast.iter_child_nodes(parent)}
        for i, node in enumerate(ast.walk(fn)):
            if i == 0 or _skip(node, parents):
                continue
            for change in _changes(node):
                found.append(Mutant(owner, fn.name, getattr(node, "lineno", fn.lineno), [i], change))
    rng = random.Random(seed)
    sample = found if len(found) <= limit else rng.sample(found, limit)
    sample.sort(key=lambda m: (m.line, m.path))
    return sample, len(found)


class Swapper:
    """Puts a mutant's code into the live function and takes it out again."""

    def __init__(self, source: str, filename: str, module: types.ModuleType) -> None:
        self.tree = ast.parse(source)
        self.filename = filename
        self.module = module
        self.nodes = {(owner, fn.name, fn.lineno): fn for owner, fn in _function_nodes(self.tree)}
        # a mutant's compiled code, once made: the variant hunt swaps each mutant in many times
        self._made: dict = {}

    def _live(self, owner: str | None, name: str, first_lines: set[int]):
        """The live function object whose code starts where the node does."""
        holder = vars(self.module) if owner is None else vars(vars(self.module).get(owner, object))
        raw = holder.get(name) if isinstance(holder, (dict, types.MappingProxyType)) else None
        funcs = []
        if isinstance(raw, property):
            funcs = [f for f in (raw.fget, raw.fset, raw.fdel) if f is not None]
        elif isinstance(raw, (staticmethod, classmethod)):
            funcs = [raw.__func__]
        elif raw is not None:
            funcs = [raw]
        for f in funcs:
            inner = inspect.unwrap(f) if callable(f) else f
            code = getattr(inner, "__code__", None)
            if code is not None and code.co_name == name and code.co_firstlineno in first_lines:
                return inner
        return None

    def apply(self, m: Mutant):
        """Swap the mutant in: returns (function, original code) or None."""
        key = (m.owner, m.func, m.line, tuple(m.path), m.change)
        if key in self._made:
            made = self._made[key]
            if made is None:
                return None
            live, new, desc = made
            old = live.__code__
            live.__code__ = new
            m.what = desc
            return live, old
        swapped = self._apply(m)
        self._made[key] = (swapped[0], swapped[0].__code__, m.what) if swapped is not None else None
        return swapped

    def _apply(self, m: Mutant):
        candidates = [k for k in self.nodes if k[0] == m.owner and k[1] == m.func]
        fn_node = None
        for k in candidates:  # the definition that holds the line (properties: getter and setter)
            node = self.nodes[k]
            if node.lineno <= m.line <= (node.end_lineno or node.lineno):
                fn_node = node
        if fn_node is None:
            return None
        mutated = copy.deepcopy(fn_node)
        target = list(ast.walk(mutated))[m.path[0]]
        if m.change == "return":
            target.value = ast.Constant(value=None)
            desc = "return ... -> return None"
        elif m.change == "not":
            return self._replace(fn_node, mutated, m, target, "operand")
        elif m.change in ("break", "continue"):
            desc = f"{m.change} -> {'continue' if m.change == 'break' else 'break'}"
            return self._swap_stmt(fn_node, mutated, m, target, ast.Continue() if m.change == "break" else ast.Break(), desc)
        else:
            desc = _apply(target, m.change)
        return self._install(fn_node, mutated, m, desc)

    def _replace(self, fn_node, mutated, m: Mutant, target, field: str):
        if not replace_node(mutated, target, getattr(target, field)):
            return None
        return self._install(fn_node, mutated, m, "not x -> x")

    def _swap_stmt(self, fn_node, mutated, m: Mutant, target, new, desc: str):
        ast.copy_location(new, target)
        parents = {child: parent for parent in ast.walk(mutated) for child in ast.iter_child_nodes(parent)}
        parent = parents.get(target)
        for _name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is target:
                        value[i] = new
        return self._install(fn_node, mutated, m, desc)

    def _install(self, fn_node, mutated, m: Mutant, desc: str):
        live = self._live(m.owner, fn_node.name, {fn_node.lineno, _first_line(fn_node)})
        if live is None:
            return None
        body: list = [mutated]
        if m.owner is not None:  # inside its class, so that super() and __class__ compile the same
            cls = ast.ClassDef(name=m.owner, bases=[], keywords=[], body=[mutated], decorator_list=[])
            if "type_params" in ast.ClassDef._fields:
                cls.type_params = []
            body = [cls]
        module = ast.Module(body=body, type_ignores=[])
        ast.fix_missing_locations(module)
        try:
            code = compile(module, self.filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, TypeError):
            return None
        new = _find_code(code, fn_node.name, live.__code__.co_firstlineno)
        if new is None or new.co_freevars != live.__code__.co_freevars:
            return None
        old = live.__code__
        try:
            live.__code__ = new
        except (ValueError, TypeError):
            return None
        m.what = desc
        return live, old

    @staticmethod
    def restore(swapped) -> None:
        live, old = swapped
        live.__code__ = old


def replace_node(tree: ast.AST, target: ast.AST, new: ast.AST) -> bool:
    """Put ``new`` where ``target`` is in ``tree``; False when ``target`` has no parent there."""
    parent = next((p for p in ast.walk(tree) if any(c is target for c in ast.iter_child_nodes(p))), None)
    if parent is None:
        return False
    for name, value in ast.iter_fields(parent):
        if value is target:
            setattr(parent, name, new)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if item is target:
                    value[i] = new
    return True


def _first_line(fn_node) -> int:
    return min([fn_node.lineno] + [d.lineno for d in fn_node.decorator_list])


def _find_code(code: types.CodeType, name: str, first_line: int):
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_name == name and const.co_firstlineno == first_line:
                return const
            inner = _find_code(const, name, first_line)
            if inner is not None:
                return inner
    return None



class _Outcomes:
    """A pytest plugin that collects the node ids of the tests that passed."""

    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed = 0
        self.root = None

    def pytest_configure(self, config) -> None:
        self.root = config.rootpath

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" and report.passed:
            self.passed.append(report.nodeid)
        elif report.failed:
            self.failed += 1


def _pytest_run(pytest_main, args: list[str], timeout: float) -> _Outcomes | None:
    """pytest over ``args`` in this process (quiet); None when it ran past ``timeout`` seconds
    or broke down (an internal or usage error)."""
    import contextlib
    import io
    import signal

    fired = []

    def on_alarm(signum, frame):  # noqa: ARG001
        fired.append(True)
        raise _UserTestsTimeout()

    outcomes = _Outcomes()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.05, timeout))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = int(pytest_main(["-q", "-p", "no:cacheprovider", "--no-header", *args], plugins=[outcomes]))
    except BaseException:  # the time ran out, or a test run broke the harness: it says nothing
        code = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return None if fired or code not in (0, 1) else outcomes


class _UserTestsTimeout(BaseException):
    pass


def user_kills(swapper: Swapper, mutants: list[Mutant], files: list[str], end: float) -> set[int]:
    """Positions in ``mutants`` of those the user's tests (``files``, run with pytest in this
    process, the mutant swapped in) kill: one of the tests that pass on the original code
    fails. A mutant that makes them hang, or that the time (``end``, a monotonic time) does
    not reach, counts as not killed."""
    import os
    import time

    if not files or not mutants:
        return set()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        import pytest
    except ImportError:
        return set()
    started = time.monotonic()
    base = _pytest_run(pytest.main, list(files), end - started)
    if base is None or not base.passed or base.root is None:
        return set()
    here = os.getcwd()
    passing = []
    for nodeid in base.passed:
        path, _, rest = nodeid.partition("::")
        passing.append(os.path.relpath(os.path.join(str(base.root), path), here) + ("::" + rest if rest else ""))
    # a mutant may slow the tests down a little; one that makes them much slower hangs them
    per_run = max(0.5, 3 * (time.monotonic() - started))
    killed: set[int] = set()
    for pos, m in enumerate(mutants):
        left = end - time.monotonic()
        if left < 0.05:
            break
        swapped = swapper.apply(m)
        if swapped is None:
            continue
        try:
            got = _pytest_run(pytest.main, ["-x", *passing], min(left, per_run))
        finally:
            swapper.restore(swapped)
        if got is not None and got.failed:
            killed.add(pos)
    return killed


# --------------------------------------------------------------------------- variant hunt
# A mutant no kept call kills often sits in arithmetic or a condition that the kept inputs
# pass through in a way that hides it: `easter(1)` takes every branch of the Gregorian method
# but y // 100 == 0 there, so changing 100 to 101 changes nothing. Other values of the same
# arguments usually show it. The hunt below re-runs the function's own calls with one literal
# changed (to a neighbour, a value near one of the function's constants, or a random value of
# the same kind and scale) and keeps a call that kills a mutant still alive. The kept calls
# differ from their seed only in values, so they render as rows of one parametrized test.

def _literal_nodes(tree: ast.AST) -> list[ast.AST]:
    """Number and text literals a call can be varied in (a negative number as one node)."""
    out: list[ast.AST] = []
    inside_neg: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) in (int, float):
            out.append(node)
            inside_neg.add(id(node.operand))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in inside_neg and type(node.value) in (int, float, str):
            out.append(node)
    return out


def _literal_value(node: ast.AST):
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value
    return node.value


def function_constants(source: str, qualname: str) -> list:
    """The number and text constants inside one function or method (its body only)."""
    owner, _, name = qualname.rpartition(".")
    consts: list = []
    for own, fn in _function_nodes(ast.parse(source)):
        if (own or "") != owner or fn.name != name:
            continue
        for node in _literal_nodes(ast.Module(body=fn.body, type_ignores=[])):
            v = _literal_value(node)
            if v not in consts and not (isinstance(v, str) and len(v) > 40):
                consts.append(v)
    return consts


def new_value(old, consts: list, rng: random.Random):
    """Another value of the same kind as ``old``: a neighbour, a value near one of the
    function's constants, or a random one on the scale of both (None: nothing to offer)."""
    nums = [c for c in consts if type(c) in (int, float)]
    if type(old) is int:
        scale = max([10, 2 * abs(old)] + [2 * abs(int(c)) for c in nums if abs(c) < 10**9])
        pick = rng.random()
        if pick < 0.5:
            lo = 0 if old >= 0 else -scale
            return rng.randint(lo, scale)
        if pick < 0.8 and nums:
            return int(rng.choice(nums)) + rng.choice((-1, 0, 1))
        return rng.choice((old + 1, old - 1, 2 * old + 1, -old))
    if type(old) is float:
        scale = max([1.0, 2 * abs(old)] + [2 * abs(float(c)) for c in nums if abs(c) < 1e9])
        pick = rng.random()
        if pick < 0.6:
            return round(rng.uniform(-scale if old < 0 else 0.0, scale), 3)
        if nums and pick < 0.8:
            return float(rng.choice(nums)) + rng.choice((-0.5, 0.0, 0.5))
        return round(old * rng.choice((0.5, 1.5, -1.0)) + rng.choice((0.0, 0.25)), 3)
    if type(old) is str:
        texts = [c for c in consts if type(c) is str and c != old]
        pick = rng.random()
        if texts and pick < 0.4:
            return rng.choice(texts)
        if texts and pick < 0.7 and old:
            at = rng.randrange(len(old) + 1)
            return old[:at] + rng.choice(texts) + old[at:]
        if not old:
            return rng.choice(texts) if texts else "a"
        edits = [old[1:], old[:-1], old + old[-1], old.upper() if old != old.upper() else old.lower(), old[::-1]]
        return rng.choice([e for e in edits if e != old] or [old + "x"])
    return None


def variant(cand: dict, consts: list, rng: random.Random) -> dict | None:
    """A copy of a call (``setup`` statements and ``expr``) with one literal changed
    (None: it has no literal, or the change gave back the same text)."""
    texts = list(cand.get("setup") or []) + [cand.get("expr") or ""]
    places = []
    trees = []
    for i, text in enumerate(texts):
        try:
            tree = ast.parse(text, mode="eval" if i == len(texts) - 1 else "exec")
        except SyntaxError:
            return None
        trees.append(tree)
        places += [(i, n) for n in _literal_nodes(tree)]
    if not places:
        return None
    i, node = rng.choice(places)
    value = new_value(_literal_value(node), consts, rng)
    if value is None or value == _literal_value(node):
        return None
    tree = copy.deepcopy(trees[i])
    pos = [n for n in _literal_nodes(trees[i])].index(node)
    target = _literal_nodes(tree)[pos]
    new = ast.Constant(value=value)
    if not replace_node(tree, target, new):  # the whole expression is the literal
        tree.body = new
    texts[i] = ast.unparse(tree)
    out = dict(cand)
    out["setup"], out["expr"] = texts[:-1], texts[-1]
    return out


def hunt_variants(live: dict, seeds: dict, consts: dict, swapper: Swapper, observe, confirm, end: float,
                  rng: random.Random, tries: int, keeps: int, patience: int = 0, batch: int = 8,
                  cheap: int = 0, clock=None) -> list:
    """Calls that kill mutants no kept call kills, made by varying the function's own calls.

    ``live``: qualname -> list of (label, Mutant) still alive; ``seeds``: qualname -> calls of
    that function to vary (best first); ``consts``: qualname -> function_constants;
    ``observe(cand)``: what a test would assert about the call (None: nothing usable);
    ``confirm(cand, key)``: the full observation of a call about to be kept, or None when it
    is unfit for a test (unstable, a wrong-type error, its result differs from ``key``).

    Per function: variants are tried until ``batch`` of them kill something (or the tries run
    out); the one that kills the most of what is still alive is kept (greedy, the earlier on a
    tie), and so on. Each function gets an equal share of the time left (``end``, on
    ``clock``), at most ``tries`` variants and ``keeps`` kept calls (past the first ``cheap``
    ones (0: all), a call is kept only when it kills two or more), and stops after
    ``patience`` variants in a row that kill nothing (0: no such stop; what is left alive is
    often equivalent code). Returns (call, observation, killed labels) per kept call; the
    labels are removed from ``live``."""
    import time

    clock = clock or time.monotonic
    found: list = []
    order = [q for q in sorted(live) if live[q] and seeds.get(q)]
    for n_left, qual in zip(range(len(order), 0, -1), order, strict=True):
        stop = clock() + max(0.0, end - clock()) / n_left
        tried = kept = idle = 0
        made: set = {(tuple(c.get("setup") or []), c.get("expr")) for c in seeds[qual]}
        pool = seeds[qual]
        killers: list = []  # (call, its result, labels it kills) not kept yet
        while live[qual] and tried < tries and kept < keeps and clock() < stop and not (patience and idle >= patience):
            base = pool[tried % len(pool)]
            tried += 1
            idle += 1
            cand = variant(base, consts.get(qual, []), rng)
            if cand is None or (tuple(cand["setup"]), cand["expr"]) in made:
                continue
            made.add((tuple(cand["setup"]), cand["expr"]))
            original = observe(cand)
            if original is None or original == ("timeout",):
                continue
            labels = set()
            for label, m in list(live[qual]):
                swapped = swapper.apply(m)
                if swapped is None:
                    live[qual].remove((label, m))
                    continue
                try:
                    got = observe(cand)
                finally:
                    swapper.restore(swapped)
                if got is not None and got != original:  # (None: nothing to compare)
                    labels.add(label)
                if clock() >= end:
                    break
            if labels:
                idle = 0
                killers.append((cand, original, labels))
                need = 2 if cheap and kept >= cheap else 1
                if len(killers) >= batch and _keep_best(killers, live, qual, confirm, found, need):
                    kept += 1
        while kept < keeps and live[qual] and _keep_best(killers, live, qual, confirm, found,
                                                         2 if cheap and kept >= cheap else 1):
            kept += 1
    return found


def _keep_best(killers: list, live: dict, qual: str, confirm, found: list, need: int = 1) -> bool:
    """Keep the pending call (``killers``: call, result, labels) that kills the most of what
    is alive in ``live[qual]`` (the earlier on a tie) and passes ``confirm``; append it to
    ``found``. False: none kills ``need`` or more of what is still alive."""
    while killers:
        alive = {label for label, _m in live[qual]}
        best = max(range(len(killers)), key=lambda i: (len(killers[i][2] & alive), -i))
        cand, original, labels = killers.pop(best)
        hit = labels & alive
        if len(hit) < need:
            return False
        obs = confirm(cand, original)
        if obs is None:
            continue
        live[qual] = [(label, m) for label, m in live[qual] if label not in hit]
        found.append((cand, obs, sorted(hit, key=repr)))
        return True
    return False
