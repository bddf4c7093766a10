"""Input pools from type hints, literals and usage (inputs.py runs in the sandbox; here it
is exercised on trusted types defined in this file)."""

from __future__ import annotations

import ast
import enum
import random
import types
import typing
from dataclasses import dataclass

from codeloop.generate.offline import inputs


class Color(enum.Enum):
    RED = 1
    BLUE = 2


@dataclass
class Point:
    x: int
    y: int


def _builder(lits: dict | None = None) -> inputs.PoolBuilder:
    mod = types.ModuleType("subject_mod")
    mod.Color = Color
    mod.Point = Point
    Color.__module__ = Point.__module__ = "subject_mod"
    return inputs.PoolBuilder(inputs.Namer("subject_mod", mod), inputs.Literals.from_json(lits or {}))


def srcs(pool) -> list[str]:
    return [s for s, _ in pool]


def test_int_pool_has_boundaries_and_literals_plus_minus_one():
    pool = srcs(_builder({"int": [10]}).for_type(int))
    assert {"0", "1", "-1"} <= set(pool)
    assert {"9", "10", "11"} <= set(pool)
    assert all(isinstance(ast.literal_eval(s), int) for s in pool if "**" not in s and "(" not in s)


def test_str_pool_has_empty_unicode_whitespace_and_tweaked_literals():
    pool = srcs(_builder({"str": ["abc_"]}).for_type(str))
    values = [ast.literal_eval(s) for s in pool]
    assert "" in values and "abc_" in values and "ABC_" in values
    assert any(not v.isascii() for v in values)
    assert any(v != v.strip() for v in values)


def test_optional_literal_enum_and_bool():
    b = _builder()
    assert "None" in srcs(b.for_type(typing.Optional[int]))  # noqa: UP045 - the old spelling is the input
    assert srcs(b.for_type(typing.Literal["a", "b"])) == ["'a'", "'b'"]
    pool = b.for_type(Color)
    assert srcs(pool) == ["Color.RED", "Color.BLUE"]
    assert pool[0][1] == frozenset({"from subject_mod import Color"})
    assert srcs(b.for_type(bool)) == ["True", "False"]


def test_containers_are_small_and_typed():
    b = _builder()
    lists = srcs(b.for_type(list[int]))
    assert lists[0] == "[]"
    assert all(isinstance(ast.literal_eval(s), list) for s in lists)
    dicts = srcs(b.for_type(dict[str, int]))
    assert dicts[0] == "{}" and all(isinstance(ast.literal_eval(s), dict) for s in dicts)
    tuples = srcs(b.for_type(tuple[int, str]))
    assert all(isinstance(ast.literal_eval(s), tuple) for s in tuples)
    assert srcs(b.for_type(set[int]))[0] == "set()"


def test_dataclass_built_from_its_constructor_hints():
    pool = _builder().for_type(Point)
    assert pool[0][0].startswith("Point(x=")
    assert "from subject_mod import Point" in pool[0][1]


def test_untyped_parameter_pool_follows_usage():
    b = _builder()
    assert srcs(b.untyped(["callable"]))[0] == inputs.CALLABLES[0]
    first = ast.literal_eval(srcs(b.untyped(["str"]))[0])
    assert isinstance(first, str)


def test_random_primitives_are_deterministic_for_a_seed():
    lits = inputs.Literals.from_json({"str": ["key"], "int": [7]})
    a = [inputs.random_primitive(random.Random(3), k, lits) for k in ("int", "str", "float", "bool")]
    b = [inputs.random_primitive(random.Random(3), k, lits) for k in ("int", "str", "float", "bool")]
    assert a == b
    assert isinstance(ast.literal_eval(a[1]), str)


def test_exotic_hints_never_raise():
    b = _builder()
    T = typing.TypeVar("T", int, str)
    assert b.for_type(T)
    assert b.for_type(typing.Callable[[int], int])
    assert b.for_type("NotResolvable")
    assert inputs.kind_of_type(typing.Optional[str]) == "str"  # noqa: UP045 - the old spelling is the input


def test_regex_samples_take_optional_parts_one_at_a_time():
    from codeloop.generate.offline.inputs import regex_samples

    pattern = r"^(?P<sign>[+-])?P(?P<years>[0-9]+Y)?(?P<days>[0-9]+D)?$"
    samples = regex_samples(pattern, 0, 6)
    # the shortest, each optional part alone, and with the leading one in its second form
    assert samples[0] == "P" and "P0D" in samples and "-P00D" in samples
    assert regex_samples(r"(a|b)c?d", 2, 4) == ["acd", "bcd", "ad"]


def test_shaped_texts_lead_with_the_code_marks():
    from codeloop.generate.offline.inputs import Literals, shaped_texts

    texts = shaped_texts(Literals(strs=["#", "'", "=", "export", "abc"]))
    assert texts[:2] == ["#a", "#a#"] and "'a'" in texts and "a=b" in texts
    assert all("export" not in t for t in texts)  # words are not marks


def test_unpacked_tuples_walk_each_position_through_the_numbers():
    from codeloop.generate.offline.inputs import unpacked_tuples

    nums = [("90", frozenset()), ("91", frozenset())]
    out = [s for s, _ in unpacked_tuples(2, nums, [("'a'", frozenset())])]
    assert out[0] == "(1, 2)" and "(91, 2)" in out and "(1, 91)" in out
    assert "('a', 'a')" in out and out[-1] == "(1,)"  # text, and the wrong length


def test_open_values_are_the_shapes_the_module_tells_apart():
    import types as _types

    from codeloop.generate.offline.inputs import Literals, Namer, PoolBuilder

    mod = _types.ModuleType("shapes_mod")

    class Combine:
        def __init__(self, *args):
            self.args = args

    Combine.__module__, Combine.__qualname__ = "shapes_mod", "Combine"
    mod.Combine = Combine
    builder = PoolBuilder(Namer("shapes_mod", mod), Literals())
    out = [s for s, _ in builder.open_values(["dict", "type", "Combine", "callable", "nothing"],
                                             lambda n: getattr(mod, n, None))]
    assert "{'a': int}" in out and "int" in out and "(lambda x: x)" in out
    assert "Combine(int, (lambda x: x))" in out  # a class given types as its arguments
    assert any(s.startswith("{Combine(") for s in out)  # a dict keyed by one of its objects


def test_built_values_use_the_code_literals_early():
    import types as _types

    from codeloop.generate.offline.inputs import Literals, Namer, PoolBuilder

    mod = _types.ModuleType("opts_mod")

    class Stream:
        def __init__(self, source, error):
            self.source, self.error = source, error

    class Opt:
        def __init__(self, short=None, long=None):
            self.short, self.long = short, long

    for cls in (Stream, Opt):
        cls.__module__, cls.__qualname__ = "opts_mod", cls.__name__
        setattr(mod, cls.__name__, cls)
    builder = PoolBuilder(Namer("opts_mod", mod), Literals(strs=["--"]))
    streams = [s for s, _ in builder.for_type(Stream)]
    assert any("source='--'" in s for s in streams[:3])  # untyped: the code's text among the first
    opts = [s for s, _ in builder.for_type(Opt)]
    assert opts[0] == "Opt()" and "Opt(long='--')" in opts  # every parameter has a default: each set
