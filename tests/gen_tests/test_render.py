"""Rendering observed calls as pytest code."""

from __future__ import annotations

import ast
import re

from codeloop.generate.offline.render import Renderer, case_name, func_slug, match_pattern


def cand(expr, setup=(), func="clamp", **extra):
    return {"id": f"{func}#1", "func": func, "setup": list(setup), "expr": expr, "imports": [], **extra}


def obs(kind, **kw):
    return {"kind": kind, "needs": ["from pkg.mod import clamp"], "stdout": "", **kw}


def test_literal_none_bool_and_float_assertions():
    r = Renderer()
    t = r.render(cand("clamp(5, 0, 3)"), obs("literal", src="3"))
    assert t.name == "test_clamp_returns_3"
    assert "assert clamp(5, 0, 3) == 3" in t.code
    assert t.imports == ["from pkg.mod import clamp"]
    assert "is None" in r.render(cand("clamp(1, 1, 1)"), obs("none")).code
    assert "assert clamp(0, 0, 0) is True" in r.render(cand("clamp(0, 0, 0)"), obs("literal", src="True")).code
    f = r.render(cand("clamp(1.5, 0, 3)"), obs("float", src="1.5"))
    assert "== pytest.approx(1.5)" in f.code and "import pytest" in f.imports
    n = r.render(cand("clamp(2, 0, 3)"), obs("nan"))
    assert "math.isnan(" in n.code and "import math" in n.imports


def test_exception_with_escaped_message():
    source = 'def clamp(v, lo, hi):\n    raise ValueError("bad value (1.5)?")\n'
    t = Renderer(source=source).render(cand("clamp(1, 2, 1)"), obs("raise", type="ValueError", type_name="ValueError",
                                                                      msg="bad value (1.5)?", step=0, deliberate=True))
    assert t.name == "test_clamp_raises_value_error"
    assert 'with pytest.raises(ValueError, match=r"bad value \\(1\\.5\\)\\?"):' in t.code
    pattern = ast.literal_eval(re.search(r"match=(r\".*?\")\)", t.code).group(1))
    assert re.search(pattern, "bad value (1.5)?")


def test_match_pattern_quotes_and_empty_messages():
    assert match_pattern("") is None
    assert match_pattern('say "hi"') == "r'say \"hi\"'"
    long = "x" * 200
    assert len(match_pattern(long)) < 100


def test_exception_in_setup_goes_in_the_raises_block():
    c = cand("cart.total()", setup=["cart = Cart(0)", "cart.add('a')"], func="Cart.total")
    t = Renderer().render(c, obs("raise", type="OverflowError", type_name="OverflowError", msg="full", step=1))
    assert t.name == "test_cart_add_raises_overflow_error"
    body = t.code.splitlines()
    assert body[1] == "    cart = Cart(0)"
    assert body[3] == "        cart.add('a')"
    assert "total" not in t.code


def test_exception_while_iterating_wraps_in_list():
    t = Renderer().render(cand("chunks([], 0)", func="chunks"),
                          obs("raise", type="ValueError", type_name="ValueError", msg="n", step=0, iterating=True))
    assert "        list(chunks([], 0))" in t.code


def test_iterators_objects_and_long_literals():
    r = Renderer()
    it = r.render(cand("gen(3)", func="gen"), obs("iter", src="[0, 1, 2]", complete=True))
    assert "assert list(gen(3)) == [0, 1, 2]" in it.code
    part = r.render(cand("count()", func="count"), obs("iter", src="[0]", complete=False))
    assert "itertools.islice(count(), 20)" in part.code and "import itertools" in part.imports
    ob = r.render(cand("Cart()", func="Cart"), obs("object", type="Cart", imports=["from pkg.mod import Cart"],
                                                     attrs={"lines": "[]", "limit": "3"}))
    assert "assert isinstance(result, Cart)" in ob.code and "assert result.limit == 3" in ob.code
    long = repr(list(range(60)))
    code = r.render(cand("rng(60)", func="rng"), obs("literal", src=long)).code
    assert all(len(line) <= 100 for line in code.splitlines())
    ast.parse(code)


def test_names_are_deduplicated_and_readable():
    r = Renderer(taken={"test_clamp_returns_3"})
    a = r.render(cand("clamp(5, 0, 3)"), obs("literal", src="3"))
    b = r.render(cand("clamp(9, 0, 3)"), obs("literal", src="3"))
    assert (a.name, b.name) == ("test_clamp_returns_3_2", "test_clamp_returns_3_3")
    assert case_name(obs("literal", src="''")) == "returns_empty_string"
    assert case_name(obs("literal", src="-4")) == "returns_minus_4"
    assert case_name(obs("literal", src="'Hello World'")) == "returns_hello_world"
    assert func_slug("Point.__eq__") == "point_eq"
    assert func_slug("HTTPClient.get_json") == "http_client_get_json"


def test_probable_bug_tests_are_strict_xfail():
    r = Renderer()
    c = cand("clamp(4, 0, 3)", example={"line": 12, "expected": "3"})
    t = r.render_bug(c, obs("literal", src="4"), "example", "returned 4", "3", 12)
    assert t.kind == "xfail" and t.line == 12
    assert "strict=True" in t.code and "assert clamp(4, 0, 3) == 3" in t.code
    assert t.message == "probable bug: clamp(4, 0, 3) returned 4, docstring says 3"
    h = r.render_bug(cand("ratio(1, 0)", func="ratio"), obs("raise", type="ZeroDivisionError",
                     type_name="ZeroDivisionError", msg="division by zero"), "hints",
                     "raised ZeroDivisionError: division by zero", None, 3)
    assert "raises=ZeroDivisionError" in h.code
    ast.parse(t.code)
    ast.parse(h.code)


def test_comparison_expressions_are_parenthesised():
    # `a == b is True` would chain: (a == b) and (b is True)
    t = Renderer().render(cand("gunzip(x) == b''", func="gunzip"), obs("literal", src="True"))
    assert "assert (gunzip(x) == b'') is True" in t.code
    t = Renderer().render(cand("point < other", func="Point.__lt__"), obs("literal", src="False"))
    assert "assert (point < other) is False" in t.code
