"""Following the user's test style: generate/offline/style.py, one rule at a time."""

import ast
import textwrap

from codeloop.generate.merge import merge_tests
from codeloop.generate.offline.style import TestStyle, apply_style, detect, import_form, read_style
from codeloop.generate.tests_model import GeneratedTest

MOD = "shop.pricing"


def test_(code: str, imports=("from shop.pricing import label",), **kw) -> GeneratedTest:
    code = textwrap.dedent(code).lstrip("\n")
    name = code.split("def ", 1)[1].split("(", 1)[0]
    return GeneratedTest(name=name, code=code, imports=list(imports), target="label", **kw)


test_.__test__ = False


def form(text: str, is_module=lambda _: False):
    return import_form(ast.parse(text), MOD, is_module)


# -- import form ------------------------------------------------------------------------------


def test_the_import_form_of_the_module_is_read():
    assert form("from shop.pricing import label, total\n") == ("names", None)
    assert form("import shop.pricing as pr\n") == ("alias", "pr")
    assert form("from shop import pricing\n") == ("from", "pricing")
    assert form("import shop.pricing\n") == ("dotted", None)
    assert form("import os\n") is None


def test_a_sibling_modules_import_form_is_followed_when_the_module_has_no_tests():
    assert form("import shop.cart as cart\n") == ("alias", "pricing")
    assert form("from shop import cart\n", is_module=lambda dotted: dotted == "shop.cart") == ("from", "pricing")
    assert form("from shop import Cart\n") is None  # a class, not a module


def test_calls_are_qualified_in_the_alias_form():
    t = test_('''
        def test_label_empty_returns_anonymous():
            assert label('') == 'anonymous'
            with pytest.raises(TypeError):
                label(None, key=label)
        ''', imports=("from shop.pricing import label", "import pytest"))
    apply_style([t], TestStyle(import_form="alias", alias="pr"), MOD, set())
    assert "assert pr.label('') == 'anonymous'" in t.code
    assert "pr.label(None, key=pr.label)" in t.code
    assert t.imports == ["import pytest", "import shop.pricing as pr"]


def test_the_from_and_dotted_forms_write_their_import_line():
    t = test_("def test_a():\n    assert label('x') == 'x'\n")
    apply_style([t], TestStyle(import_form="from", alias="pricing"), MOD, set())
    assert t.imports == ["from shop import pricing"] and "pricing.label('x')" in t.code
    t = test_("def test_a():\n    assert label('x') == 'x'\n")
    apply_style([t], TestStyle(import_form="dotted"), MOD, set())
    assert t.imports == ["import shop.pricing"] and "shop.pricing.label('x')" in t.code


def test_a_local_variable_with_the_functions_name_is_left_alone():
    t = test_("def test_a():\n    label = 3\n    assert label == 3\n")
    apply_style([t], TestStyle(import_form="alias", alias="pr"), MOD, set())
    assert "pr." not in t.code


# -- unittest.TestCase --------------------------------------------------------------------------

UNITTEST_FILE = '''
import unittest

from shop.pricing import label


class TestLabel(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(label(""), "anonymous")
'''


def test_testcase_files_are_recognised_with_their_base_spelling():
    style = detect([("t.py", UNITTEST_FILE)], MOD)
    assert style.unittest and style.base == "unittest.TestCase" and style.base_import == "import unittest"
    other = detect([("t.py", "from unittest import TestCase\n\nclass T(TestCase):\n    def test_a(self): pass\n")], MOD)
    assert other.base == "TestCase" and other.base_import == "from unittest import TestCase"
    assert not detect([("t.py", "def test_a():\n    assert 1\n")], MOD).unittest


def test_assertions_become_testcase_methods():
    t = test_('''
        def test_label_cases():
            assert label('') == 'anonymous'
            assert label('x') is None
            assert label('y') is True
            assert isinstance(label('z'), str)
            assert label('f') == pytest.approx(0.5)
            with pytest.raises(ValueError, match=r"bad name"):
                label('!')
        ''', imports=("from shop.pricing import label", "import pytest"))
    apply_style([t], TestStyle(unittest=True), MOD, {"TestPricingGenerated"})
    assert t.cls == "TestPricingGenerated2(unittest.TestCase)"
    assert t.code == textwrap.dedent('''\
        def test_label_cases(self):
            self.assertEqual(label(''), 'anonymous')
            self.assertIsNone(label('x'))
            self.assertIs(label('y'), True)
            self.assertIsInstance(label('z'), str)
            self.assertAlmostEqual(label('f'), 0.5)
            with self.assertRaisesRegex(ValueError, r"bad name"):
                label('!')
        ''')
    assert t.imports == ["from shop.pricing import label", "import unittest"]


def test_a_table_test_becomes_a_subtest_loop():
    t = test_('''
        @pytest.mark.parametrize(
            ('name', 'expected'),
            [
                pytest.param('', 'anonymous', id='empty'),
                pytest.param('BOB', 'Bob', id='upper'),
            ],
        )
        def test_label_returns_expected(name, expected):
            assert label(name) == expected
        ''', imports=("from shop.pricing import label", "import pytest"))
    apply_style([t], TestStyle(unittest=True), MOD, set())
    namespace: dict = {}
    exec("import unittest\nclass T(unittest.TestCase):\n" + textwrap.indent(t.code, "    "),  # noqa: S102
         {"label": lambda n: n.title() or "anonymous"}, namespace)
    assert "with self.subTest(case):" in t.code and "('upper', 'BOB', 'Bob')," in t.code
    result = unittest_run(namespace["T"])
    assert result.testsRun == 1 and result.wasSuccessful()


def unittest_run(cls):
    import unittest

    return unittest.TextTestRunner(stream=open("/dev/null", "w")).run(  # noqa: SIM115
        unittest.defaultTestLoader.loadTestsFromTestCase(cls))


def test_tests_needing_a_fixture_or_an_xfail_marker_stay_functions():
    capsys = test_("def test_a(capsys):\n    label('x')\n    assert capsys.readouterr().out == 'x'\n")
    bug = test_("@pytest.mark.xfail(strict=True)\ndef test_b():\n    assert label('') == ''\n", kind="xfail")
    apply_style([capsys, bug], TestStyle(unittest=True), MOD, set())
    assert capsys.cls is None and bug.cls is None


def test_the_merge_writes_the_class_after_the_users_tests():
    t = test_("def test_a():\n    assert label('x') == 'X'\n")
    u = test_("def test_b():\n    assert label('y') == 'Y'\n")
    apply_style([t, u], detect([("t.py", UNITTEST_FILE)], MOD), MOD, {"TestLabel"})
    text = merge_tests(UNITTEST_FILE.lstrip(), [t, u], module=MOD)
    assert text.startswith(UNITTEST_FILE.lstrip())
    assert text.endswith(
        "\n\nclass TestPricingGenerated(unittest.TestCase):\n"
        "    def test_a(self):\n        self.assertEqual(label('x'), 'X')\n\n"
        "    def test_b(self):\n        self.assertEqual(label('y'), 'Y')\n")
    ast.parse(text)


# -- fixtures -----------------------------------------------------------------------------------

CONFTEST = '''
import pytest

from shop.cart import Cart


@pytest.fixture
def cart():
    return Cart(currency="EUR")


@pytest.fixture(scope="module")
def shared():
    return Cart()


@pytest.fixture
def filled():
    c = Cart()
    c.add("tea")
    return c
'''


def test_only_function_scoped_fixtures_that_just_build_an_object_are_read():
    style = detect([], MOD, [CONFTEST])
    assert [f.name for f in style.fixtures] == ["cart"]


def test_fixtures_of_another_test_file_are_not_visible():
    own = "import pytest\n\n\n@pytest.fixture\ndef stack():\n    s = Stack()\n    yield s\n"
    assert [f.name for f in detect([("other.py", own)], MOD).fixtures] == []
    assert [f.name for f in detect([("t.py", own)], MOD, own=own).fixtures] == ["stack"]


def test_a_test_that_builds_what_a_fixture_builds_takes_the_fixture():
    t = test_('''
        def test_cart_total_empty_returns_0():
            c = shop.cart.Cart(currency='EUR')
            c.add('tea')
            assert c.total() == 0
        ''', imports=("import shop.cart",))
    other = test_('''
        def test_cart_total_usd():
            c = Cart(currency='USD')
            assert c.total() == 0
        ''', imports=("from shop.cart import Cart",))
    apply_style([t, other], detect([], MOD, [CONFTEST]), MOD, set())
    assert t.code == ("def test_cart_total_empty_returns_0(cart):\n"
                      "    cart.add('tea')\n    assert cart.total() == 0\n")
    assert "Cart(currency='USD')" in other.code and "(cart)" not in other.code


def test_a_fixture_joins_the_parameters_of_a_table_test_and_unused_imports_go():
    t = test_('''
        @pytest.mark.parametrize('item', ['tea', 'jam'])
        def test_cart_add(item):
            cart = Cart(currency='EUR')
            assert cart.add(item) is None
        ''', imports=("from shop.cart import Cart", "import pytest"))
    apply_style([t], detect([], MOD, [CONFTEST]), MOD, set())
    assert "def test_cart_add(item, cart):\n    assert cart.add(item) is None\n" in t.code
    assert t.imports == ["import pytest"]


def test_read_style_prefers_the_file_appended_to_and_sees_conftests_above_it(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "pricing.py").write_text("def label(n): return n\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "tests" / "test_other.py").write_text("from shop import pricing\n\ndef test_x():\n    pass\n")
    target_file = tmp_path / "tests" / "test_pricing.py"
    style = read_style(tmp_path, tmp_path, MOD, target_file, None, ["tests/test_other.py"])
    assert (style.import_form, style.alias, style.unittest) == ("from", "pricing", False)
    assert [f.name for f in style.fixtures] == ["cart"]
    style = read_style(tmp_path, tmp_path, MOD, target_file, UNITTEST_FILE, ["tests/test_other.py"])
    assert (style.import_form, style.unittest) == ("names", True)
    # no test imports the module: the folder's other test files say how modules are imported
    style = read_style(tmp_path, tmp_path, MOD, target_file, None, [])
    assert (style.import_form, style.alias) == ("from", "pricing")
