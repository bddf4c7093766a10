"""Search ranking, workspace symbols and the tests a change affects, on small trees."""

from __future__ import annotations

from pathlib import Path

from codeloop.index import queries as q
from codeloop.index.positions import LineSource, byte_column, utf16_column
from codeloop.index.ranking import is_vendored, stem

MARKERS = (
    "class Marker:\n"
    "    def evaluate(self, environment=None):\n"
    '        """Evaluate a marker against an environment."""\n'
    "        return True\n"
)


def test_vendored_copies_and_duplicates_follow_the_original(tmp_path: Path, write_tree, make_index):
    root = write_tree(tmp_path / "p", {
        "packaging/__init__.py": "", "packaging/markers.py": MARKERS,
        "pip/__init__.py": "", "pip/_vendor/__init__.py": "", "pip/_vendor/packaging/__init__.py": "",
        "pip/_vendor/packaging/markers.py": MARKERS + "\n\ndef evaluate_marker(text):\n    return text\n",
        "tools/__init__.py": "",
        "tools/misc.py": "def count_words(text):\n    '''Count the words of a text about markers.'''\n",
    })
    ix = make_index(root)
    ix.sync(workers=0)
    names = [s.qualified_name for s in q.search(ix.conn, "evaluate environment marker", limit=5)]
    assert names[0] == "packaging.markers.Marker.evaluate"
    assert names.index("pip._vendor.packaging.markers.Marker.evaluate") > 0


def test_workspace_symbols_tiers(tmp_path: Path, write_tree, make_index):
    root = write_tree(tmp_path / "p", {"m.py": (
        "class PriceCalculator:\n    pass\n\n\n"
        "def price():\n    pass\n\n\n"
        "def unit_price_of(x):\n    pass\n\n\n"
        "def parse_http_response(raw):\n    pass\n"
    )})
    ix = make_index(root)
    ix.sync(workers=0)

    def names(query: str) -> list[str]:
        return [s.name for s in q.workspace_symbols(ix.conn, query)]

    assert names("PRICE") == ["price", "PriceCalculator", "unit_price_of"]  # prefix, then substring
    assert names("pri") == ["price", "PriceCalculator", "unit_price_of"]
    assert names("PriCal") == ["PriceCalculator"]
    assert names("parHttRes") == ["parse_http_response"]
    assert names("zzz") == [] and names("  ") == []
    # Renaming a function drops its old name from the name list (no stale candidates).
    (root / "m.py").write_text((root / "m.py").read_text().replace("unit_price_of", "unit_cost_of"))
    ix.update({str(root / "m.py"): None})
    assert names("price") == ["price", "PriceCalculator"]
    assert ix.conn.execute("SELECT count(*) FROM names WHERE name = 'unit_price_of'").fetchone()[0] == 0


def test_affected_tests_through_callers_and_whole_files(tmp_path: Path, write_tree, make_index):
    root = write_tree(tmp_path / "p", {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "app/__init__.py": "",
        "app/core.py": "def base(x):\n    return x\n",
        "app/api.py": "from app.core import base\n\n\ndef endpoint(x):\n    return base(x)\n",
        "tests/test_api.py": (
            "from app.api import endpoint\n\n\ndef test_endpoint():\n    assert endpoint(1) == 1\n\n\n"
            "def test_unrelated():\n    assert True\n"),
        "tests/test_core.py": (
            "from app.core import base\n\n\nclass TestBase:\n    def test_base(self):\n        assert base(2) == 2\n"),
        "tests/test_imports_only.py": "import app.core\n\n\ndef test_module():\n    assert app.core\n",
    })
    ix = make_index(root)
    ix.sync(workers=0)
    assert q.affected_tests(ix.conn, "app/core.py") == ["tests/test_api.py::test_endpoint", "tests/test_core.py"]
    assert q.affected_tests(ix.conn, "app/core.py", depth=1) == ["tests/test_core.py"]
    assert q.affected_tests(ix.conn, "app/api.py") == ["tests/test_api.py::test_endpoint"]
    test = q.lookup(ix.conn, "test_base")[0]
    assert q.test_id(ix.conn, test) == "tests/test_core.py::TestBase::test_base"


def test_columns_between_bytes_and_utf16(tmp_path: Path):
    line = 'x = "é😀"; call()'
    raw = line.encode()
    at = raw.index(b"call")
    assert utf16_column(raw, at) == line.index("call") + 1  # the emoji is two UTF-16 units
    assert byte_column(line, utf16_column(raw, at)) == at
    assert byte_column("abc", 10) == 3 and utf16_column(b"abc", 10) == 3
    (tmp_path / "f.py").write_text("def f():\n    " + line + "\n")
    source = LineSource(tmp_path)
    assert source.span("f.py", 2, at + 4, "call") == (1, utf16_column(raw, at) + 4, utf16_column(raw, at) + 8)
    edited = LineSource(tmp_path, lambda path: b"call()\n" if path.endswith("f.py") else None)
    assert edited.span("f.py", 1, 0, "call") == (0, 0, 4)  # the open document's text wins
    assert source.span("gone.py", 3, 2, "x") == (2, 0, 1)
    # a definition's name: only ASCII before it, so no file is read (past line 1)
    (tmp_path / "g.py").write_text('"""é😀"""\nclass Café:\n    async def naïve_😀(self): ...\n')
    reads: list[str] = []
    counted = LineSource(tmp_path, lambda path: reads.append(path))  # type: ignore[func-returns-value]
    for line, name in ((2, "Café"), (3, "naïve_😀")):
        text = (tmp_path / "g.py").read_bytes().split(b"\n")[line - 1]
        col = text.index(name.encode())
        assert counted.definition_span("g.py", line, col, name) == source.span("g.py", line, col, name)
    assert reads == []
    assert counted.definition_span("g.py", 1, 0, "g") == (0, 0, 1) and len(reads) == 1  # line 1 is read (a BOM)


def test_word_rules():
    assert stem("specifiers") == "specifier" and stem("class") == "class" and stem("entries") == "entry"
    assert is_vendored("pip/_vendor/x.py") and is_vendored("lib/third_party/y.py") and not is_vendored("vendors.py")
