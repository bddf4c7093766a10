"""The search that uses its budget (issue 15, items 2 and 4): objects built from what calls
returned, subclass-aware receivers, inputs for abstract collections and checked classes,
rounds, and the mutation run (mutants.py, mutation_summary)."""

from __future__ import annotations

import collections.abc as cabc
import textwrap
import types
import typing

from codeloop.generate.offline import inputs, mutants, objects
from codeloop.generate.offline.analysis import analyze_module
from codeloop.generate.offline.engine import mutation_summary
from codeloop.generate.tests_model import GeneratedTest
from support.gen_tests import generate, require_level_a, run_generated


def _module(name: str, source: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__file__ = f"/virtual/{name}.py"
    exec(compile(textwrap.dedent(source), mod.__file__, "exec"), vars(mod))  # noqa: S102 - trusted test source
    return mod


SHAPES = """
class Base:
    def __init__(self, n: int = 1):
        if type(self) is Base:
            raise TypeError("use a subclass")
        self.n = n

    def __call__(self, doc: dict) -> bool:
        return bool(doc)

    def __repr__(self):
        return f"{type(self).__name__}({self.n})"

class Square(Base):
    pass

class relativedelta:
    pass
"""


def test_inline_substitutes_assigned_names_and_parenthesises_operators():
    assert objects.inline(["q = Query()", "q = q['a']"], "q == 1") == "(Query()['a'] == 1)"
    assert objects.inline(["q = Query()"], "q.field('x')") == "Query().field('x')"
    # a mutating call cannot be said as one expression
    assert objects.inline(["t = Token()", "t.push(1)"], "t") is None


def test_accepts_base_classes_unions_and_callables():
    mod = _module("shapes", SHAPES)
    assert objects.accepts(mod.Base, mod.Square)
    assert objects.accepts(mod.Base | None, mod.Square)
    assert objects.accepts(typing.Union[int, mod.Base], mod.Square)  # noqa: UP007 - the typing form too
    assert objects.accepts(typing.Callable[[dict], bool], mod.Square)  # it has __call__
    assert not objects.accepts(int, mod.Square)
    assert not objects.accepts(mod.Square, mod.Base)


def test_variable_names_never_shadow_a_name_of_the_module():
    mod = _module("shapes", SHAPES)
    assert objects.var_name("Square", vars(mod)) == "square"
    assert objects.var_name("relativedelta", vars(mod)) == "relativedelta_obj"  # not `relativedelta = relativedelta()`


def test_the_pool_keeps_returned_objects_as_receivers_and_arguments():
    mod = _module("shapes", SHAPES)
    pool = objects.ObjectPool(mod)
    assert pool.offer(mod.Square(2), ["square = Square()"], "square.grow(2)", ["from shapes import Square"], "Square.grow")
    assert not pool.offer(3, [], "len('abc')", [], "f")  # not an object of the module
    # methods defined on the base class get the subclass's objects
    (setup, var, imps), = pool.receivers(mod.Base)
    assert setup == ["square = Square()", "square = square.grow(2)"] and var == "square"
    assert pool.values(mod.Base) == [("Square().grow(2)", frozenset({"from shapes import Square"}))]
    assert pool.values(int) == []


def test_the_pool_caps_objects_per_producing_callable():
    mod = _module("shapes", SHAPES)
    pool = objects.ObjectPool(mod)
    made = [pool.offer(mod.Square(n), [], f"Square({n})", [], "Square", fresh=False) for n in range(5)]
    assert made.count(True) == objects.PER_PRODUCER[1]
    # the same state twice is one object
    assert pool.offer(mod.Square(7), [], "Square(7)", [], "other")
    assert not pool.offer(mod.Square(7), [], "Square(3 + 4)", [], "third")


def test_returned_literals_feed_parameters_of_their_type():
    mod = _module("shapes", SHAPES)
    pool = objects.ObjectPool(mod)
    assert pool.offer_literal({"type": "p", "children": []}, "{'type': 'p', 'children': []}", [], "Token.as_dict")
    assert pool.literal_values(typing.MutableMapping[str, typing.Any], []) == [("{'type': 'p', 'children': []}", frozenset())]
    assert pool.literal_values(str, []) == []
    # untyped: by what the code does with the parameter
    assert pool.literal_values(objects.inspect.Parameter.empty, ["dict"])
    assert not pool.literal_values(objects.inspect.Parameter.empty, ["str"])


def _builder(mod=None):
    mod = mod or types.ModuleType("m")
    return inputs.PoolBuilder(inputs.Namer(mod.__name__, mod), inputs.Literals())


def test_abstract_collections_get_the_concrete_kinds_code_tells_apart():
    b = _builder()
    iterables = [s for s, _ in b.for_type(typing.Iterable[int])]
    assert any(s.startswith("iter(") for s in iterables) and any(" for x in " in s for s in iterables)
    assert any(s.startswith("(") for s in iterables) and any(s.startswith("{") for s in iterables)
    assert any("MappingProxyType" in s for s, _ in b.for_type(typing.Mapping[str, int]))
    assert "{'a': 1}.keys()" in [s for s, _ in b.for_type(cabc.Set)]  # a Set that is not a set


def test_a_base_class_hint_also_builds_the_modules_subclasses():
    mod = _module("shapes", SHAPES)
    values = [s for s, _ in _builder(mod).for_type(mod.Base)]
    assert any(s.startswith("Square(") for s in values)


def test_untyped_dicts_include_graphs_of_their_keys():
    values = [s for s, _ in _builder().by_kind("dict")]
    assert "{1: {2}, 2: {1}}" in values  # a cycle, for dependency resolvers


def test_classes_the_code_checks_with_isinstance_are_usage():
    info = analyze_module(textwrap.dedent("""
        import datetime
        def since(when, other):
            if isinstance(when, (datetime.date, int)) and isinstance(other, Base):
                return 1
    """))
    usage = info.callables["since"].usage
    assert "type:datetime.date" in usage["when"] and "int" in usage["when"]
    assert "type:Base" in usage["other"]


MUTATED = """
class Box:
    def __init__(self, n):
        self.n = n

    def big(self, limit):
        return self.n > limit and not self.empty()

    def empty(self):
        return self.n == 0

    @property
    def half(self):
        return self.n // 2

class Tall(Box):
    def big(self, limit):
        return super().big(limit + 1)

def clamp(v, lo, hi):
    if v < lo:
        return lo
    return min(v, hi)
"""


def test_mutants_are_a_seeded_sample_of_changes_inside_functions():
    first, total = mutants.find(MUTATED, seed=3, limit=5)
    again, _ = mutants.find(MUTATED, seed=3, limit=5)
    assert len(first) == 5 and total > 5
    assert [(m.qualname, m.line, m.change) for m in first] == [(m.qualname, m.line, m.change) for m in again]
    everything, n = mutants.find(MUTATED, seed=1, limit=1000)
    assert len(everything) == n == total
    assert {m.change for m in everything} >= {"cmp", "bool", "not", "return", "bin", "num"}


def test_a_mutant_is_swapped_into_the_live_function_and_back():
    mod = _module("boxes", MUTATED)
    swapper = mutants.Swapper(textwrap.dedent(MUTATED), mod.__file__, mod)
    found, _ = mutants.find(MUTATED, seed=1, limit=1000)

    def behaviour():
        return mod.clamp(-1, 0, 3), mod.Box(5).big(4), mod.Tall(5).big(4), mod.Box(5).half

    before = behaviour()
    changed, skipped = 0, []
    for m in found:
        swapped = swapper.apply(m)
        if swapped is None:  # its code would need other closure cells (`return None` drops super())
            skipped.append(m.describe())
            continue
        changed += behaviour() != before
        swapper.restore(swapped)
        assert behaviour() == before
    assert skipped == ["Tall.big line 18: return"]
    assert changed >= len(found) // 2
    # methods that call super() and properties swap too
    assert {m.qualname for m in found if m.describe() not in skipped} >= {"Tall.big", "Box.half", "Box.big"}
    cmp = next(m for m in found if m.qualname == "clamp" and m.change == "cmp")
    swapped = swapper.apply(cmp)
    assert cmp.describe() == "clamp line 21: < -> <="
    assert mod.clamp(0, 0, 3) == 0 and mod.clamp(-1, 0, 3) == 0
    swapper.restore(swapped)


def test_the_mutation_score_counts_only_killers_held_by_written_tests():
    run = {"tried": 4, "mutants": 10, "killers": [["f#1"], ["f#2", "g#3"], ["h#9"]], "survivors": ["f line 3: + -> -"]}
    case = GeneratedTest("test_g_1", "", [], "g", source="g#3")
    tests = [GeneratedTest("test_f", "", [], "f", source="f#1"),
             GeneratedTest("test_g", "", [], "g", parts=[case])]
    summary = mutation_summary(run, tests)
    assert summary == {"killed": 2, "tried": 4, "mutants": 10, "survivors": ["f line 3: + -> -"]}
    assert mutation_summary(None, tests) is None


QUERIES = '''
class Query:
    """A path into nested dicts."""

    def __init__(self):
        self._path = ()

    def field(self, name: str) -> "Query":
        q = Query()
        q._path = self._path + (name,)
        return q

    def matches(self, doc: dict) -> bool:
        if not self._path:
            raise ValueError("empty query")
        value = doc
        for part in self._path:
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        return True


class Shape:
    def __init__(self, size: int):
        if type(self) is Shape:
            raise TypeError("Shape is abstract")
        self.size = size

    def scaled(self, k: int) -> int:
        if k > 1:
            return self.size * k
        return self.size


class Square(Shape):
    pass
'''


def test_methods_get_objects_other_calls_returned_and_subclass_receivers(tmp_path):
    require_level_a()
    _, text, data = generate(tmp_path, "queries", QUERIES, "--budget", "8", "--seed", "1", "--json")
    # matches() past the empty-path check needs a query field() returned
    assert ".field(" in text and "matches(" in text
    # Shape's methods run on a Square (Shape() itself refuses to be built)
    assert "Square(" in text and "scaled(" in text
    assert data["coverage_after"] == 100.0, text
    assert data["mutation"]["tried"] > 0 and data["mutation_score"] is not None
    assert run_generated(tmp_path, "tests/test_queries.py").passed


def test_the_mutation_score_is_reported_beside_coverage(capsys):
    from codeloop.cli.gen_tests import _print_summary
    from codeloop.generate.tests_model import GenerationResult
    from codeloop.lsp.generate_tests import evidence_title

    result = GenerationResult(target="m", module="m", tests=[GeneratedTest("test_a", "", [], "f")],
                              coverage_before=0.0, coverage_after=80.0,
                              mutation={"killed": 3, "tried": 4, "mutants": 9, "survivors": []})
    assert result.mutation_score == 75.0
    assert evidence_title(result) == "Add 1 test: branch coverage 0% -> 80%, all pass, kill 75% of mutants"
    assert result.to_json()["mutation_score"] == 75.0 and result.to_json()["mutation"]["tried"] == 4
    _print_summary(result, wrote=True)
    assert "mutation score of the new tests: 75% (3 of 4 sampled mutants killed)\n" in capsys.readouterr().out
    result.mutation = None
    assert result.mutation_score is None and "mutants" not in evidence_title(result)
