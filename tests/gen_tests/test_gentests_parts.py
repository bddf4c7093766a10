"""Pure parts of the orchestration and of the driver (no sandbox, trusted values only)."""

from __future__ import annotations

import enum
import types
import typing

from codeloop.generate.offline.search import callables, observe, runner, verdicts
from codeloop.generate.targets import resolve_target
from codeloop.generate.test_files import default_test_file, related_test_files
from codeloop.verify.test_runs import union_coverage


def make_project(tmp_path, with_tests=True):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def f(x):\n    return x\n")
    if with_tests:
        (tmp_path / "tests").mkdir()
        (tmp_path / "tests" / "test_uses.py").write_text("from pkg.mod import f\n")
        (tmp_path / "tests" / "test_other.py").write_text("import json\n")
        (tmp_path / "tests" / "test_parent.py").write_text("from pkg import mod\n")
    return resolve_target("pkg.mod", tmp_path)


def test_default_test_file_follows_the_project_layout(tmp_path):
    target = make_project(tmp_path)
    assert default_test_file(target) == tmp_path / "tests" / "test_mod.py"
    assert default_test_file(target, tmp_path / "out") == (tmp_path / "out" / "test_mod.py").resolve()


def test_default_test_file_without_tests_folder(tmp_path):
    target = make_project(tmp_path, with_tests=False)
    assert default_test_file(target) == tmp_path / "tests" / "test_mod.py"


def test_related_test_files_are_those_importing_the_module(tmp_path):
    target = make_project(tmp_path)
    names = sorted(p.name for p in related_test_files(target))
    assert names == ["test_parent.py", "test_uses.py"]


def test_union_coverage_combines_runs_of_the_same_file():
    a = {"executed_lines": [1, 2], "missing_lines": [3, 4], "executed_branches": [[2, 3]], "missing_branches": [[2, 4]]}
    b = {"executed_lines": [1, 3], "missing_lines": [2, 4], "executed_branches": [[2, 4]], "missing_branches": [[2, 3]]}
    assert union_coverage(a) == 50.0
    assert union_coverage(a, b) == round(100 * (3 + 2) / (4 + 2), 1)
    assert union_coverage(None, None) is None


class Mode(enum.Enum):
    A = 1


def test_exact_hints_are_the_ones_pools_cover_faithfully():
    assert callables.is_exact_hint(int)
    assert callables.is_exact_hint(typing.Optional[list[str]])  # noqa: UP045 - the old spelling is the input
    assert callables.is_exact_hint(typing.Literal["x"])
    assert callables.is_exact_hint(Mode)
    assert not callables.is_exact_hint(typing.Any)
    assert not callables.is_exact_hint(typing.Callable[[int], int])
    assert not callables.is_exact_hint(typing.SupportsInt)


def test_observations_prefer_readable_literals():
    mod = types.ModuleType("m")
    subject = observe.Subject("m", mod, "/nowhere/m.py")
    ns = subject.namespace([])
    assert observe.observe_value([1, "a"], subject, ns) == {"kind": "literal", "src": "[1, 'a']"}
    assert observe.observe_value(None, subject, ns) == {"kind": "none"}
    assert observe.observe_value(1.5, subject, ns) == {"kind": "float", "src": "1.5"}
    assert observe.observe_value(float("nan"), subject, ns) == {"kind": "nan"}
    it = observe.observe_value(iter(range(3)), subject, ns)
    assert it["kind"] == "iter" and it["src"] == "[0, 1, 2]" and it["complete"]
    obj = observe.observe_value(object(), subject, ns)  # repr has an address: never asserted on
    assert obj["kind"] == "object"


def test_exception_observation_knows_deliberate_raises():
    mod = types.ModuleType("m")
    subject = observe.Subject("m", mod, "/nowhere/m.py")
    try:
        raise ValueError("bad at 0x7fffdeadbeef")
    except ValueError as exc:
        obs = observe.observe_exception(exc, subject)
    assert obs["type"] == "ValueError" and obs["msg"] == "bad at " and obs["msg_partial"]


def test_hint_bugs_leave_out_preconditions_hints_cannot_state():
    def raised(type_name, msg):
        return {"kind": "raise", "type_name": type_name, "msg": msg}

    # a builtin's own argument check (a one-character string) is a narrower contract than `str`
    assert not verdicts.credible_hint_bug({"expr": "isPunctChar('abc')"},
                                        raised("TypeError", "category() argument must be a unicode character, not str"))
    assert verdicts.credible_hint_bug({"expr": "total(None)"},
                                    raised("TypeError", "unsupported operand type(s) for +: 'NoneType' and 'int'"))
    # an int argument out of a table's range is a precondition; an empty string indexed is not
    assert not verdicts.credible_hint_bug({"expr": "Regex('abc', flags=999)"}, raised("IndexError", "list index out of range"))
    assert verdicts.credible_hint_bug({"expr": "first_word('')"}, raised("IndexError", "string index out of range"))
    assert verdicts.credible_hint_bug({"expr": "ratio(1, 0)"}, raised("ZeroDivisionError", "division by zero"))


def test_views_of_builtins_are_not_spelled_as_names():
    import json

    subject = observe.Subject("json", json, json.__file__)
    assert subject.spell_type(dict) == ("dict", [])
    # `dict_items` is in module builtins but not a name a test can use (NameError)
    assert subject.spell_type(type({}.items())) is None


def test_an_object_whose_getattr_raises_is_no_iterator():
    class Broken:
        def __getattr__(self, name):
            raise TypeError("object of type 'int' has no len()")

    # the call that built it returned normally: asking whether it iterates must not raise
    assert observe.is_iterator(Broken()) is None
    assert observe.is_iterator(iter([1])) is True


def test_reading_the_command_line_is_noted():
    argv = runner.Argv(["mod"])
    runner.Argv.read = False
    assert argv[0] == "mod" and not runner.Argv.read  # the program name: argparse's default prog
    assert argv[1:] == [] and runner.Argv.read
    runner.Argv.read = False
    assert len(argv) == 1 and runner.Argv.read
