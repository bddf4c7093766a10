"""Safe merge of generated tests into existing test files, and the atomic write."""

from __future__ import annotations

import ast
import os

import pytest

from codeloop.generate.merge import MergeError, fingerprint, format_imports, merge_tests, write_merged
from codeloop.generate.tests_model import GeneratedTest


def gt(name, body="assert True", imports=("from shop.pricing import clamp",)):
    return GeneratedTest(name=name, code=f"def {name}():\n    {body}\n", imports=list(imports), target="clamp")


EXISTING = '''"""My tests."""

import os

from shop.pricing import label


def test_label():
    assert label("") == "anonymous"


def test_clamp_returns_3():
    assert os.sep
'''


def test_new_file_has_header_tidy_imports_and_tests():
    text = merge_tests(None, [gt("test_a", imports=["import pytest", "from shop.pricing import clamp"]),
                              gt("test_b", imports=["from shop.pricing import Cart", "import math"])],
                       module="shop.pricing")
    ast.parse(text)
    head = text.split("\n\n\ndef ")[0]
    assert head.splitlines()[0].startswith('"""Tests for shop.pricing')
    assert "import math\n\nimport pytest\n\nfrom shop.pricing import Cart, clamp" in head


def test_existing_file_kept_intact_with_imports_after_existing_ones_and_clash_renamed():
    text = merge_tests(EXISTING, [gt("test_clamp_returns_3", "assert clamp(5, 0, 3) == 3"), gt("test_label")],
                       module="shop.pricing")
    assert text.startswith('"""My tests."""\n\nimport os\n\nfrom shop.pricing import label\n')
    assert EXISTING.split("from shop.pricing import label\n")[1] in text  # user's tests unchanged
    tree = ast.parse(text)
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert names == ["test_label", "test_clamp_returns_3", "test_clamp_returns_3_2", "test_label_2"]
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imports == ["import os", "from shop.pricing import label", "from shop.pricing import clamp"]


def test_imports_already_present_are_not_repeated():
    existing = "from shop.pricing import clamp\n\n\ndef test_x():\n    assert clamp(1, 1, 1) == 1\n"
    text = merge_tests(existing, [gt("test_y")])
    assert text.count("import clamp") == 1


def test_unparseable_existing_file_is_an_error():
    with pytest.raises(MergeError, match="does not parse"):
        merge_tests("def broken(:\n", [gt("test_a")])


def test_format_imports_groups_stdlib_third_party_and_local():
    lines = format_imports(["from shop.pricing import b", "import pytest", "import os", "from shop.pricing import a"],
                           ["shop.pricing"])
    assert lines == ["import os", "", "import pytest", "", "from shop.pricing import a, b"]


def test_atomic_write_and_changed_file_abort(tmp_path):
    path = tmp_path / "tests" / "test_x.py"
    write_merged(path, "x = 1\n", fingerprint(path))
    assert path.read_text() == "x = 1\n"
    seen = fingerprint(path)
    path.write_text("x = 2  # edited by the user meanwhile\n")
    with pytest.raises(MergeError, match="changed"):
        write_merged(path, "x = 3\n", seen)
    assert path.read_text() == "x = 2  # edited by the user meanwhile\n"
    assert os.listdir(path.parent) == ["test_x.py"]  # no temporary file left behind
    write_merged(path, "x = 4\n", fingerprint(path))
    assert path.read_text() == "x = 4\n"


def test_new_file_refused_when_it_appeared_meanwhile(tmp_path):
    path = tmp_path / "test_new.py"
    expected = fingerprint(path)  # None: did not exist
    path.write_text("user = 1\n")
    with pytest.raises(MergeError):
        write_merged(path, "x = 1\n", expected)
    assert path.read_text() == "user = 1\n"
