"""The queries over a small project: lookup, search, definition, references, tests,
callers and callees, the repo map, and the CLI's command forms and JSON shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codeloop.index import queries as q
from codeloop.index.repomap import estimate_tokens, repo_map

PROJECT = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "shop/__init__.py": "from shop.pricing import total_price\n",
    "shop/pricing.py": (
        '"""Prices and discounts."""\n\n'
        "from shop.tax import add_vat\n\n\n"
        "class PriceCalculator:\n"
        '    """Computes order prices with discounts."""\n\n'
        "    def apply_discount(self, amount: float, percent: float) -> float:\n"
        '        """Reduce an amount by a percentage."""\n'
        "        return amount * (1 - percent / 100)\n\n\n"
        "def total_price(items: list[float], percent: float = 0) -> float:\n"
        '    """The sum of the items after the discount, VAT included."""\n'
        "    calc = PriceCalculator()\n"
        "    return add_vat(calc.apply_discount(sum(items), percent))\n"
    ),
    "shop/tax.py": (
        "VAT = 0.2\n\n\n"
        "def add_vat(amount):\n"
        '    """Add value added tax to a net amount."""\n'
        "    return amount * (1 + VAT)\n\n\n"
        "def _round_cents(x):\n"
        "    return round(x, 2)\n"
    ),
    "shop/http_client.py": (
        "def parseHTTPResponse(raw: bytes) -> dict:\n"
        '    """Read the status line and headers of a response."""\n'
        "    return {}\n"
    ),
    "tests/test_pricing.py": (
        "from shop import total_price\n"
        "from shop.tax import add_vat\n\n\n"
        "def test_total_price_applies_vat():\n"
        "    assert total_price([10.0]) == add_vat(10.0)\n\n\n"
        "def test_nothing_else():\n"
        "    assert True\n"
    ),
}


@pytest.fixture
def shop(tmp_path: Path, write_tree, make_index):
    root = write_tree(tmp_path / "proj", PROJECT)
    ix = make_index(root)
    ix.sync()
    return root, ix


def one(conn, name: str) -> q.Symbol:
    found = q.lookup(conn, name)
    assert len(found) == 1, found
    return found[0]


def test_lookup_by_name_and_qualified_name(shop) -> None:
    _root, ix = shop
    s = one(ix.conn, "apply_discount")
    assert (s.path, s.line, s.kind, s.qualified_name) == ("shop/pricing.py", 9, "method",
                                                          "shop.pricing.PriceCalculator.apply_discount")
    assert s.signature == "(self, amount: float, percent: float) -> float"
    assert [x.id for x in q.lookup(ix.conn, "PriceCalculator.apply_discount")] == [s.id]
    assert [x.id for x in q.lookup(ix.conn, "shop.pricing.PriceCalculator.apply_discount")] == [s.id]
    assert q.lookup(ix.conn, "apply_discount", kind="function") == []


@pytest.mark.parametrize("query, expected", [
    ("add vat", "shop.tax.add_vat"),
    ("value added tax", "shop.tax.add_vat"),
    ("discount percentage", "shop.pricing.PriceCalculator.apply_discount"),
    ("http response", "shop.http_client.parseHTTPResponse"),
    ("parse_http_response", "shop.http_client.parseHTTPResponse"),
    ("PriceCalculator", "shop.pricing.PriceCalculator"),
])
def test_search_puts_the_expected_definition_first(shop, query: str, expected: str) -> None:
    _root, ix = shop
    assert q.search(ix.conn, query)[0].qualified_name == expected


def test_search_by_kind_and_nothing_found(shop) -> None:
    _root, ix = shop
    assert {s.kind for s in q.search(ix.conn, "price", kind="class")} == {"class"}
    assert q.search(ix.conn, "zebra giraffe") == []
    assert q.search(ix.conn, "  !!  ") == []


def test_references_follow_imports_and_re_exports(shop) -> None:
    _root, ix = shop
    refs = q.references(ix.conn, one(ix.conn, "total_price"))
    assert [(r.path, r.line, r.kind) for r in refs] == [
        ("shop/__init__.py", 1, "import"), ("tests/test_pricing.py", 1, "import"), ("tests/test_pricing.py", 6, "call")]
    assert refs[-1].context == "tests.test_pricing.test_total_price_applies_vat"


def test_definition_at_a_use_and_at_a_definition(shop) -> None:
    _root, ix = shop
    # tests/test_pricing.py line 6: "    assert total_price([10.0]) == add_vat(10.0)"
    assert [s.qualified_name for s in q.definition_at(ix.conn, "tests/test_pricing.py", 6, 12)] == [
        "shop.pricing.total_price"]  # through shop/__init__.py's re-export
    assert [s.qualified_name for s in q.definition_at(ix.conn, "tests/test_pricing.py", 6, 35)] == ["shop.tax.add_vat"]
    assert [s.qualified_name for s in q.definition_at(ix.conn, "shop/tax.py", 4, 5)] == ["shop.tax.add_vat"]
    assert q.definition_at(ix.conn, "tests/test_pricing.py", 6, 5) == []  # "assert"


def test_tests_callers_and_callees(shop) -> None:
    _root, ix = shop
    add_vat = one(ix.conn, "add_vat")
    assert [t.qualified_name for t in q.tests_for(ix.conn, add_vat)] == [
        "tests.test_pricing.test_total_price_applies_vat"]
    assert [c.qualified_name for c in q.callers(ix.conn, add_vat)] == [
        "shop.pricing.total_price", "tests.test_pricing.test_total_price_applies_vat"]
    assert [c.qualified_name for c in q.callees(ix.conn, one(ix.conn, "total_price"))] == [
        "shop.pricing.PriceCalculator", "shop.pricing.PriceCalculator.apply_discount", "shop.tax.add_vat"]


def test_workspace_symbols_prefix_then_substring(shop) -> None:
    _root, ix = shop
    names = [s.name for s in q.workspace_symbols(ix.conn, "add")]
    assert names[0] == "add_vat"
    assert "total_price" in [s.name for s in q.workspace_symbols(ix.conn, "price")]


def test_repo_map_ranks_what_the_focus_uses_and_fits_the_budget(shop) -> None:
    _root, ix = shop
    m = repo_map(ix.conn, ["tests/test_pricing.py"], tokens=80)
    assert m.tokens <= 80 and estimate_tokens(m.text) == m.tokens
    assert "def add_vat(amount)" in m.text and "def total_price(" in m.text
    assert "_round_cents" not in m.text  # private, used by nothing
    small = repo_map(ix.conn, [], ["apply_discount"], tokens=40)
    assert small.shown[0][1] == "shop.pricing.PriceCalculator.apply_discount"
    assert "class PriceCalculator:" in small.text  # a method comes with its class line
    assert repo_map(ix.conn, [], tokens=1).text == ""


def cli(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "codeloop", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_index_search_and_map(tmp_path: Path, write_tree) -> None:
    root = write_tree(tmp_path / "proj", PROJECT)
    cache = tmp_path / "cache"
    out = cli("index", "--json", cwd=root, cache=cache)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"files", "changed", "definitions", "seconds", "db_bytes"} <= set(data)
    assert (data["files"], data["changed"], data["definitions"]) == (5, 5, 8)
    again = json.loads(cli("index", str(root), "--json", cwd=tmp_path, cache=cache).stdout)
    assert again["changed"] == 0

    found = cli("search", "value added tax", "--project", str(root), "--json", "--limit", "2", cwd=tmp_path,
                cache=cache)
    rows = json.loads(found.stdout)
    assert rows[0] == {"path": "shop/tax.py", "line": 4, "name": "add_vat", "qualified_name": "shop.tax.add_vat",
                       "kind": "function", "signature": "(amount)", "score": rows[0]["score"]}
    assert len(rows) <= 2 and isinstance(rows[0]["score"], float)
    text = cli("search", "discount", "--kind", "method", cwd=root, cache=cache)
    assert text.stdout.splitlines()[0] == ("shop/pricing.py:9: method shop.pricing.PriceCalculator.apply_discount"
                                           "(self, amount: float, percent: float) -> float")
    assert cli("search", "zebra", cwd=root, cache=cache).returncode == 1

    shown = cli("map", "tests/test_pricing.py", "--tokens", "200", cwd=root, cache=cache)
    assert shown.returncode == 0 and "shop/tax.py:\n  def add_vat(amount)\n" in shown.stdout

    bad = cli("search", "x", "--project", str(tmp_path / "missing"), cwd=root, cache=cache)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("missing: not a folder")
    assert cli("map", "nope.py", cwd=root, cache=cache).stderr.strip() == "codeloop: error: nope.py: no such file"
    reset = json.loads(cli("index", "--reset", "--json", cwd=root, cache=cache).stdout)
    assert reset["changed"] == 5


def _common_word_project() -> dict[str, str]:
    """Forty modules whose code all says ``name`` and ``value`` (common words), a few that
    name them, and one rare word (``invoice``) in a docstring and a name."""
    files = {"pyproject.toml": "[project]\nname = 'big'\n"}
    for i in range(40):
        files[f"big/mod{i}.py"] = (
            f"def helper_{i}(name, value):\n    return name, value\n\n\n"
            f"def other_{i}(name):\n    value = name\n    return value\n")
    files["big/naming.py"] = ("def name_value(x):\n    return x\n\n\n"
                              "def get_name(obj):\n    name = obj\n    return name\n")
    files["big/billing.py"] = ('def send_invoice(name):\n    """Mail the invoice."""\n    return name\n\n\n'
                               'def total(value):\n    """Sum an invoice\'s lines."""\n    return value\n')
    return files


@pytest.mark.parametrize("query, kind", [("invoice name value", None), ("name value", None),
                                         ("invoice name", "function")])
def test_bounded_text_scores_agree_with_the_exhaustive_ones(tmp_path: Path, write_tree, make_index,
                                                            query: str, kind: str | None) -> None:
    ix = make_index(write_tree(tmp_path / "big", _common_word_project()))
    ix.sync()
    terms = q.query_terms(query)
    everything = dict(q.text_scores(ix.conn, terms, kind, 1000, exhaustive=True))
    bounded = q.text_scores(ix.conn, terms, kind, 1000, selective_rows=5)
    # fewer rows scored: those that say nothing but the common words in their code are left out
    assert 0 < len(bounded) < len(everything)
    names = dict(ix.conn.execute("SELECT id, name FROM defs"))
    assert not any(names[i].startswith(("helper_", "other_")) for i, _ in bounded)
    # every row kept has its exact score, and the best ones are all there
    for i, score in bounded:
        assert score == pytest.approx(everything[i], abs=1e-9)
    if "invoice" in query:  # with a rare word, the best rows match it: the same top
        assert [i for i, _ in bounded[:3]] == sorted(everything, key=lambda i: everything[i])[:3]
    assert {"name_value", "get_name"} <= {names[i] for i, _ in bounded}
    assert q.search(ix.conn, query, kind)[0].name in {"send_invoice", "name_value"}
