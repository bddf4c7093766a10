"""Array results, array-library scalars and library-private exception types (portable.py),
tables read by column and values the code converts itself (analysis/inputs), flags and
incidental exceptions in simplified calls (the rules of search/simplify.py).

numpy is not a dependency of codeloop, so the arrays here are a small class with numpy's
interface (``tolist``, ``shape``, ``dtype``, ``a[:, k]``): portable.py recognises arrays by
that shape, never by importing a library."""

from __future__ import annotations

import ast
import inspect
import pickle
import textwrap
import types

from codeloop.generate.offline import inputs, portable
from codeloop.generate.offline.analysis import analyze_module
from codeloop.generate.offline.render import Renderer, case_name
from codeloop.generate.offline.search import callables, candidates, observe, simplify
from support.gen_tests import generate, require_level_a, run_generated


class Grid:
    """Rows of numbers with numpy's array interface (what portable.py looks for)."""

    dtype = "float64"

    def __init__(self, rows) -> None:
        self.rows = [tuple(r) for r in rows]
        self.shape = (len(self.rows), len(self.rows[0]) if self.rows else 0)

    def __getitem__(self, key):
        return [row[key[1]] for row in self.rows]

    def tolist(self) -> list:
        return [list(r) for r in self.rows]


class Scalar:
    """A zero-dimensional value of an array library (``numpy.float64``'s interface)."""

    dtype = "float64"
    shape = ()

    def __init__(self, value: float) -> None:
        self.value = value

    def item(self) -> float:
        return self.value


def _subject(source: str = "", name: str = "subj") -> observe.Subject:
    mod = types.ModuleType(name)
    mod.__file__ = f"/virtual/{name}.py"
    exec(compile(textwrap.dedent(source), mod.__file__, "exec"), vars(mod))  # noqa: S102 - trusted test source
    return observe.Subject(name, mod, mod.__file__)


def test_an_array_result_is_asserted_through_tolist():
    subject = _subject()
    obs = observe.observe_value(Grid([(1, 2.5)]), subject, dict(subject.base_ns))
    assert obs == {"kind": "literal", "src": "[[1, 2.5]]", "via": portable.TOLIST}
    pair = observe.observe_value((Grid([(1, 2)]), Grid([(3, 4)])), subject, dict(subject.base_ns))
    assert pair["src"] == "[[[1, 2]], [[3, 4]]]" and pair["via"] == portable.EACH_TOLIST
    # not arrays: lists, strings, a class
    assert portable.as_lists([1, 2]) is None and portable.as_lists("ab") is None and portable.as_lists(Grid) is None


def test_an_array_scalar_is_observed_as_the_number_it_holds():
    subject = _subject()
    assert observe.observe_value(Scalar(0.5), subject, {}) == {"kind": "float", "src": "0.5"}
    assert portable.plain_scalar(3) == 3 and portable.plain_scalar("x") == "x"


def test_array_assertions_compare_floats_approximately_and_name_the_array():
    renderer = Renderer(source="def shift(rows):\n    return rows\n")
    flat = {"kind": "literal", "src": "[0.0, 1.5]", "via": portable.TOLIST}
    test = renderer.render({"func": "shift", "expr": "shift([(1, 2)])", "setup": []}, flat)
    assert "assert shift([(1, 2)]).tolist() == pytest.approx([0.0, 1.5])" in test.code
    assert test.name == "test_shift_returns_array"
    nested = {"kind": "literal", "src": "[[0.5], [1.5]]", "via": portable.TOLIST}
    code = renderer.render({"func": "shift", "expr": "shift(t)", "setup": []}, nested).code
    # pytest.approx takes no nested lists: the rows are compared one by one
    assert "result = shift(t).tolist()" in code and "assert result[1] == pytest.approx([1.5])" in code
    assert case_name({"kind": "literal", "src": "[[1]]", "via": portable.EACH_TOLIST}) == "returns_arrays"


def test_a_library_private_exception_is_expected_as_its_public_class():
    subject = _subject("import pickle\n")
    try:
        pickle.loads(b"abc")
    except pickle.UnpicklingError as exc:
        obs = observe.observe_exception(exc, subject)
    assert pickle.UnpicklingError.__module__ == "_pickle"  # what makes the case: a private home
    # _pickle.UnpicklingError is exported by the pickle module the code imports
    assert (obs["type"], obs["imports"]) == ("pickle.UnpicklingError", ["import pickle"])

    private = types.ModuleType("lib._impl")
    exec("class _NoLoop(TypeError):\n    pass\n", vars(private))  # noqa: S102 - trusted test source
    private._NoLoop.__module__ = "lib._impl"
    cls, spelled = portable.public_exception(private._NoLoop, _subject().spell_type, _subject().module)
    assert cls is TypeError and spelled == ("TypeError", [])


def test_the_package_under_tests_own_exceptions_are_kept():
    subject = _subject("class _Oops(ValueError):\n    pass\n", name="pkg._mod")
    cls, spelled = portable.public_exception(subject.module._Oops, subject.spell_type, subject.module)
    assert cls is subject.module._Oops and spelled == ("_Oops", ["from pkg._mod import _Oops"])


TABLE = '''
def spans(points, normalize=False):
    if not isinstance(points, Grid):
        points = Grid(points)
    xs, ys = points[:, 0], points[:, 1]
    return xs, ys
'''


def test_a_parameter_read_by_column_gets_tables_of_rows():
    usage = analyze_module(TABLE).callables["spans"].usage["points"]
    assert usage[0] == "rows:2"  # the most telling kind first
    assert "made:Grid=Grid" in usage  # the code makes its own Grid from other values
    rows = [s for s, _ in inputs.table_rows(2, inputs.number_pool(inputs.Literals.from_json({"int": [90]})), [])]
    assert rows[:2] == ["[(1, 2)]", "[(1, 2), (3, 4)]"]
    assert "[(91, 2)]" in rows and "[(1, 91)]" in rows  # each column through the range checks' neighbours
    assert all(isinstance(ast.parse(r, mode="eval").body, ast.List) for r in rows)


def test_a_converted_class_is_made_the_way_the_code_makes_it():
    subject = _subject("class Grid:\n    def __init__(self, rows):\n        self.rows = rows\n" + TABLE)
    info = analyze_module(TABLE).callables["spans"].to_json()
    lits = inputs.Literals.from_json({})
    callee = callables.Callee("spans", "function", subject.module.spans, info, subject)
    g = candidates.Generator(callee, inputs.PoolBuilder(inputs.Namer("subj", subject.module), lits), inputs, lits, 1, {}, {})
    pool = [s for s, _ in g._pool(inspect.signature(subject.module.spans).parameters["points"])]
    assert "Grid([(1, 2)])" in pool and not any(s.startswith("Grid(rows=") for s in pool)


def test_a_flag_given_a_truthy_value_becomes_true():
    p = inspect.Parameter("normalize", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)
    assert simplify._as_flag(("'abc'", frozenset()), p) == "True"
    assert simplify._as_flag(("[]", frozenset()), p) == "False"
    assert simplify._as_flag(("True", frozenset()), p) is None  # already a bool
    assert simplify._as_flag(("Unit.KM", frozenset()), p) is None  # not a literal
    unit = inspect.Parameter("unit", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="km")
    assert simplify._as_flag(("'m'", frozenset()), unit) is None  # not a flag


GRIDS = '''
"""Points in a small array type with numpy's interface."""
import pickle

SCALE = {"km": 1.0, "m": 1000.0}


class Grid:
    dtype = "float64"

    def __init__(self, rows):
        self.rows = [tuple(r) for r in rows]
        self.shape = (len(self.rows), 2)

    def __getitem__(self, key):
        return [row[key[1]] for row in self.rows]

    def tolist(self):
        return [list(r) for r in self.rows]


def shifted(points, unit="km", wrap=False):
    if not isinstance(points, Grid):
        points = Grid(points)
    xs, ys = points[:, 0], points[:, 1]
    if wrap:
        xs = [x % 360 for x in xs]
    elif max(abs(x) for x in xs) > 90:
        raise ValueError("x out of range")
    k = SCALE[unit]
    return Grid([(x * k, y * k + 0.5) for x, y in zip(xs, ys)])


def load(data: bytes):
    return pickle.loads(data)
'''


def test_tables_arrays_and_public_exceptions_end_to_end(tmp_path):
    require_level_a()
    _, text, data = generate(tmp_path, "grids", GRIDS, "--budget", "6", "--seed", "1", "--json")
    assert "shifted([(" in text and ").tolist()" in text, text  # tables of rows in, lists out
    assert "pytest.raises(pickle.UnpicklingError" in text and "_pickle" not in text, text
    assert "ValueError, match=r'x out of range'" in text or 'match=r"x out of range"' in text, text
    assert data["coverage_after"] == 100.0, text
    assert run_generated(tmp_path, "tests/test_grids.py").passed


def test_a_callable_built_from_a_path_is_called_on_documents_of_that_shape():
    from codeloop.generate.offline.objects import documents

    setup = ["query = Query()", "query = query['a']", "query_instance = query.b == 2.5"]
    docs = [d for s, d in documents(setup) if s == setup]
    # it holds, it does not (another value), the path is missing (whole or in part)
    assert docs == ["{'a': {'b': 2.5}}", "{'a': {'b': 3.5}}", "{}", "{'a': {}}"]
    # a class spelled through its module is no part of the path; a list argument gives its item
    assert [d for _, d in documents(["qi = pkg.mod.Query().x.one_of(['u', 'v'])"])][:2] == [
        "{'x': 'u'}", "{'x': ['u', 'v']}"]
    # built with an empty mapping: built again with one entry, which the documents then hold
    (setup1, doc1), (setup2, doc2) = documents(["query = Query()", "query_instance = query.fragment({})"])
    assert setup1 == setup2 == ["query = Query()", "query_instance = query.fragment({'a': 1})"]
    assert (doc1, doc2) == ("{'a': 1}", "{'a': 2}")
    # not built from a path and a test
    assert documents(["query_instance = QueryInstance(len, ())"]) == []
    assert documents([]) == []


PARALLEL = '''
def move(points, distance, direction):
    if points.shape[0] != len(distance) or len(distance) != len(direction):
        raise IndexError("Arrays must be of same size.")
    return points
'''


def test_sequences_whose_lengths_are_compared_start_with_one_item():
    usage = analyze_module(PARALLEL).callables["move"].usage
    assert all("parallel" in usage[p] for p in ("points", "distance", "direction"))
    pool = [s for s, _ in inputs.PoolBuilder(None, inputs.Literals.from_json({})).untyped(usage["distance"])]
    assert pool[0] == "[1]" and "[]" in pool  # one item first (the base call gets past the check)


LEXER = '''
def tokenize(text):
    i = 0
    while i < len(text):
        c = text[i]
        if c == '[':
            if text[i + 1:i + 2] == ']':
                yield 'flatten'
                i += 2
                continue
            yield 'lbracket'
        elif c == '<':
            yield match_or_else(text, i, '=', 'lte', 'lt')
        i += 1


def match_or_else(text, i, expected, yes, no):
    return yes if text[i + 1:i + 2] == expected else no
'''


def test_a_lexer_gets_the_two_mark_texts_its_nested_tests_tell_apart():
    lits = analyze_module(LEXER).callables["tokenize"].literals
    assert lits["seq"] == ["[]", "<="]
    pool = [s for s, _ in inputs.str_pool(inputs.Literals.from_json(lits))]
    assert pool.index("'[]'") < 8 and pool.index("'<='") < 8  # early: they are the code's own
    assert "'[a'" in pool  # and the single marks' shaped texts as before


def test_docstring_format_templates_become_sample_texts():
    from codeloop.generate.offline.textshapes import doc_templates

    doc = """Parses durations.

      -PnnW                  duration in weeks
      -PYYYY-MM-DDThh:mm:ss  extended alternative format
      PYYYYDDD               ordinal date
    The '-' is optional."""
    # placeholders become the digits of a date that exists; an optional sign: without it first
    assert doc_templates(doc) == ["P12W", "-P12W", "P2001-02-03T04:05:06", "-P2001-02-03T04:05:06", "P2001034"]
    assert doc_templates("Returns the hh of the mm.") == []  # words, no template


THRESHOLDS = '''
def sign(d):
    if isinstance(d, Span) and (d.years < 0 or d.days <= -2):
        return "-"
    if isinstance(d, Span) and d < Span(0):
        return "-"
    return ""


class Span:
    def __init__(self, days=0, years=0):
        self.days, self.years = days, years

    def __lt__(self, other):
        return (self.years, self.days) < (other.years, other.days)
'''


def test_a_checked_class_is_made_across_the_thresholds_the_code_compares_it_with():
    usage = analyze_module(THRESHOLDS).callables["sign"].usage["d"]
    assert {"attr:years=-1", "attr:days=-2", "value:Span(-1)"} <= set(usage)
    subject = _subject(THRESHOLDS)
    info = analyze_module(THRESHOLDS).callables["sign"].to_json()
    lits = inputs.Literals.from_json({})
    callee = callables.Callee("sign", "function", subject.module.sign, info, subject)
    g = candidates.Generator(callee, inputs.PoolBuilder(inputs.Namer("subj", subject.module), lits), inputs, lits, 1, {}, {})
    pool = [s for s, _ in g._pool(inspect.signature(subject.module.sign).parameters["d"])]
    assert {"Span(years=-1)", "Span(days=-2)", "Span(-1)"} <= set(pool)


SIMILARITY = '''
def transpositions(s1, s2):
    count = 0
    for i in range(min(len(s1), len(s2))):
        if s1[i] != s2[i]:
            count += 1
    return count // 2
'''


def test_two_sequences_whose_items_are_compared_get_texts_that_differ_a_little():
    assert "similar:s2" in analyze_module(SIMILARITY).callables["transpositions"].usage["s1"]
    pairs = inputs.similar_pairs(["abcdef", "ab"])  # too short to tweak: skipped
    # a swap, a drop, a change, an addition
    assert pairs == [("'abcdef'", "'abdcef'"), ("'abcdef'", "'abcef'"), ("'abcdef'", "'abcxef'"),
                     ("'abcdef'", "'abcdeff'")]


def test_a_big_array_is_no_literal():
    assert portable.as_lists(Grid([(i, i) for i in range(portable.MAX_SIZE)])) is None
    assert portable.as_lists(Grid([(i, i) for i in range(portable.MAX_SIZE // 2)])) is not None
