"""Composite values and shaped data (generate/offline/shapes.py, issue 15): the module's classes
combined with each other and their keyword options, data shaped like what a receiver was built
from, argument lists from a usage text, and doctest statements that open a multi-line string."""

from __future__ import annotations

import ast
import importlib.util
import textwrap
import types

from codeloop.generate.offline import inputs, shapes
from codeloop.workspace.examples import docstring_call_examples
from support.gen_tests import generate, require_level_a, run_generated

VALIDATORS = """
class Check:
    def __init__(self, spec, error=None, strict: bool = False, name=None, shared: bool = False):
        if shared and name is None:
            raise ValueError("a shared check needs a name")
        self.spec, self.error, self.strict, self.name = spec, error, strict, name

class Maybe(Check):
    def __init__(self, *args, **kwargs):
        self.default = kwargs.pop("default", None)
        super().__init__(*args, **kwargs)

class Both:
    def __init__(self, *parts, only_one: bool = False):
        self.parts, self.only_one = parts, only_one

class Pattern:
    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError("a pattern is text")
        self.text = text
"""


def _module(tmp_path, name: str, source: str) -> types.ModuleType:
    """The module imported from a real file (the popped keyword names are read from its source)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _specs(mod):
    namer = inputs.Namer(mod.__name__, mod)
    builder = inputs.PoolBuilder(namer, inputs.Literals())

    def builds(src: str) -> bool:
        try:
            eval(src, vars(mod))  # noqa: S307 - the combinations of the trusted module above
        except Exception:
            return False
        return True

    return shapes.module_specs(mod, ["Check", "Maybe", "Both", "Pattern", "dict"], namer, builder, builds), builds


def test_keyword_options_follow_kwargs_to_the_base_and_the_names_popped(tmp_path):
    mod = _module(tmp_path, "validators", VALIDATORS)
    names = [n for n, _d, _h in shapes.keyword_options(mod.Maybe)]
    assert names[0] == "default" and {"error", "strict", "name", "shared"} <= set(names)


def test_specs_keep_first_arguments_and_options_that_build(tmp_path):
    mod = _module(tmp_path, "validators", VALIDATORS)
    specs, _ = _specs(mod)
    by = {s.name: s for s in specs}
    assert by["Both"].firsts[0] == "int, str" and by["Both"].key_arg == "'b', 'c'"
    assert "only_one=True" in by["Both"].options
    # a subclass passing *args on takes one argument like its base
    assert by["Maybe"].firsts[0] == "int" and "default=1" in by["Maybe"].options
    # an option that fails alone is kept together with the one it needs
    assert "shared=True" not in by["Check"].options
    assert any(o.endswith("shared=True") and "name=" in o for o in by["Check"].options)
    # a class that refuses the plain shapes builds from a text only
    assert by["Pattern"].firsts == ["'a'"]


def test_combos_nest_classes_as_dict_keys_values_and_over_dicts(tmp_path):
    mod = _module(tmp_path, "validators", VALIDATORS)
    specs, builds = _specs(mod)
    out = [src for src, _ in shapes.combos(specs)]
    assert len(out) <= shapes.MAX_COMBOS
    assert all(builds(src) for src in out), [src for src in out if not builds(src)]
    assert "{'a': int, Maybe('b'): str}" in out  # an object of the module as a key
    assert any(s.startswith("{'a': int, Maybe('b', default=1)") for s in out)
    assert any(s.startswith("Check({") and "strict=True" in s for s in out)  # a class over a dict, with options
    assert "{'a': int, Both('b', 'c', only_one=True): str}" in out
    # every class gets its first values before any class its later ones
    firsts = [i for i, s in enumerate(out) if s.startswith("{'a': int, ") and s.endswith("('b'): str}")]
    assert firsts and max(firsts) < 40


def test_no_combinations_without_classes_of_the_module():
    assert shapes.combos([]) == []


def test_shaped_data_fits_then_breaks_one_thing_at_a_time():
    data = shapes.shaped_data("{'a': int, Maybe('b'): str, Both('c', 'd'): float}")
    values = [ast.literal_eval(d) for d in data]
    assert values[0] == {"a": 1, "b": "a", "c": 1.5}
    assert {"a": "a", "b": "a", "c": 1.5} in values  # a value of the wrong type
    assert {"b": "a", "c": 1.5} in values  # a key missing
    assert {"a": 1, "b": "a", "c": 1.5, "zz": 1} in values  # a key too many
    assert {"a": 1, "b": "a", "c": 1.5, "d": 1.5} in values  # both alternatives of a combining key
    assert values[-1] == [1]  # another kind altogether
    assert shapes.shaped_data("[int]") == ["[1]", "['a']", "[]", "1"]
    assert shapes.shaped_data("(lambda x: x)") == [] and shapes.shaped_data("'abc'") == []  # values, not descriptions
    assert shapes.shaped_data("foo(") == []


def test_construction_argument_reads_what_the_variable_was_built_from():
    assert shapes.construction_argument(["s = Check({'a': int}, strict=True)"], "s") == "{'a': int}"
    assert shapes.construction_argument(["b = Both(int, str)"], "b") == "Both(int, str)"
    assert shapes.construction_argument(["s = Check(1)", "s.reset()"], "s") == "1"
    assert shapes.construction_argument(["s = other.schema"], "s") is None


USAGE = """
Usage:
    prog add <name> [--force] [--depth=<n>]
    prog (-v | --version)

Options:
    -v, --version  Show the version.
"""


def test_word_lists_instantiate_usage_lines_and_each_option():
    lists = shapes.word_lists(USAGE)
    assert lists[0] == ["add", "1", "--force", "--depth=1"]  # every place filled
    assert ["add", "1"] in lists  # optional parts left out
    assert ["-v"] in lists and ["--version"] in lists  # each alternative
    assert ["--depth", "1"] in lists and ["--depth=1"] in lists and ["--depth"] in lists
    assert ["-v1"] in lists and ["--zz"] in lists and [] in lists
    # the options section's prose is not an argument list
    assert not any("Show" in words for words in lists)
    assert len(lists) <= shapes.MAX_WORD_LISTS
    assert shapes.word_lists("just some prose\nwithout places") == []


def test_text_variants_extend_the_first_line_with_places():
    out = shapes.text_variants(USAGE, ["options"])
    assert any("prog add <name> [--force] [--depth=<n>] <zz>..." in t for t in out)
    assert any("[--depth=<n>] [options]" in t for t in out)
    assert any("    -v <zz>, --version  Show" in t for t in out)  # an option taking a value
    assert any(t.count("-v, --version") == 2 and t.count("Usage:") == 1 for t in out)  # defined twice
    assert out[-1] == USAGE + "\n" + USAGE
    assert shapes.text_variants("no places here", ["options"]) == []


def test_assigned_literals_are_the_example_values_of_names():
    found = shapes.assigned_literals(["from m import f", "doc = '''\nA\n'''", "argv = ['a', '1']", "x = f(1)"])
    assert found == {"doc": "\nA\n", "argv": ["a", "1"]}


def test_a_doctest_statement_opening_a_multi_line_string_is_read_whole():
    doc = textwrap.dedent('''\
        Parse.

        >>> doc = """
        Usage:
            prog <x>

        Options:
            -h  Help.
        """
        >>> parse(doc)
        {'<x>': None}
        ''')
    (ex,) = docstring_call_examples(doc, 1, {"parse"})
    assert ex.setup == ('doc = """\nUsage:\n    prog <x>\n\nOptions:\n    -h  Help.\n"""',)


VALIDATE = '''
class Opt:
    def __init__(self, key, default=None):
        self.key = key
        self.default = default

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Opt) and other.key == self.key


class Check:
    def __init__(self, spec, strict: bool = False):
        self.spec = spec
        self.strict = strict

    def validate(self, data):
        if isinstance(self.spec, type):
            if not isinstance(data, self.spec):
                raise ValueError("wrong type")
            return data
        if isinstance(self.spec, dict):
            if not isinstance(data, dict):
                raise ValueError("not a dict")
            out = {}
            for k, v in self.spec.items():
                name = k.key if isinstance(k, Opt) else k
                if name not in data:
                    if isinstance(k, Opt):
                        if k.default is not None:
                            out[name] = k.default
                        continue
                    raise ValueError("missing key")
                out[name] = Check(v).validate(data[name])
            if self.strict and set(data) - set(out):
                raise ValueError("extra keys")
            return out
        return data
'''


def test_a_validator_is_called_on_data_shaped_like_its_schema(tmp_path):
    require_level_a()
    _, text, data = generate(tmp_path, "validate", VALIDATE, "--budget", "8", "--seed", "1", "--json")
    # the default of an optional key and the extra-key check need an Opt key with a default,
    # a strict receiver and data with a key missing / a key too many
    assert "Opt(" in text and "strict=True" in text
    assert data["coverage_after"] == 100.0, text
    assert run_generated(tmp_path, "tests/test_validate.py").passed


BAG = '''
class Bag:
    def __init__(self, items=()):
        self.items = list(items)

    def __getstate__(self):
        if not self.items:
            return (None,)
        return list(self.items)

    def __setstate__(self, state):
        self.items = [] if state == (None,) else list(state)

    def __eq__(self, other):
        return isinstance(other, Bag) and other.items == self.items

    def merged(self, *others):
        cls = Bag
        if isinstance(self, Bag):
            cls = type(self)
        out = list(self)
        for o in others:
            out += list(o)
        return cls(out)

    def __iter__(self):
        return iter(self.items)
'''


def test_self_type_checks_and_the_pickle_protocol():
    from codeloop.generate.offline.search import callables

    def plain(self, x):
        return x

    def checked(self, x):
        return isinstance(self, int)

    assert shapes.checks_self_type(checked) and not shapes.checks_self_type(plain)
    assert callables.OPERATORS["__getstate__"][0] == "pickle.loads(pickle.dumps({recv}))"


def test_pickled_state_and_methods_called_through_the_class(tmp_path):
    require_level_a()
    _, text, data = generate(tmp_path, "bag", BAG, "--budget", "6", "--seed", "1", "--json")
    # both halves of the pickle protocol, on an empty and a full bag; `merged` through the class
    assert "pickle.loads(pickle.dumps(" in text and "Bag.merged([" in text
    assert data["coverage_after"] == 100.0, text
    assert run_generated(tmp_path, "tests/test_bag.py").passed


def test_example_values_lead_pools_and_pair_text_variants_with_their_lists():
    found = {"doc": USAGE, "argv": ["add", "x"], "other": 3}
    heads, variants, pair = shapes.example_values(found, ["doc", "argv", "help"], ["options"])
    assert pair == ("doc", "argv") and variants[0] == USAGE and len(variants) > 1
    assert heads["doc"][0] == repr(USAGE) and heads["argv"][:2] == [repr(["add", "x"]), repr(["add", "1", "--force", "--depth=1"])]
    assert "help" not in heads and "other" not in heads
    pairs = shapes.paired_lists(variants, 8)
    # the repeated-argument variant is called with the list that repeats it
    assert any(t.count("<zz>...") and w[-2:] == ["1", "1"] for t, w in pairs)
    # the variant whose option takes a value, with that option alone
    assert any("-v <zz>," in t and w == ["-v"] for t, w in pairs)
    assert shapes.paired_lists([], 8) == []
