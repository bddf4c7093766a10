"""TestIndex: pytest discovery rules, referenced names, caching, invalidation."""

from __future__ import annotations

import os

from codeloop.workspace.testindex import (
    TestIndex,
    find_workspace_root,
    forget_workspace_roots,
    read_pytest_config,
    workspace_root_of,
)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_discovery_and_names(tmp_path):
    write(tmp_path / "pkg" / "mod.py", "def area(): pass\ndef perimeter(): pass\n")
    write(
        tmp_path / "tests" / "test_mod.py",
        "from pkg.mod import area\nimport pkg\n\ndef test_a(monkeypatch):\n"
        "    monkeypatch.setattr('pkg.mod.helper', None)\n    assert pkg.mod.volume() == area()\n",
    )
    write(tmp_path / "tests" / "shape_test.py", "def test_b():\n    assert größe(1)\n")
    write(tmp_path / "tests" / "helpers.py", "perimeter = 1\n")  # not a test file
    write(tmp_path / ".venv" / "lib" / "test_hidden.py", "perimeter = 1\n")
    write(tmp_path / "node_modules" / "test_x.py", "perimeter = 1\n")
    index = TestIndex(tmp_path)
    names = index.tested_names()
    assert {"area", "pkg", "mod", "helper", "volume", "größe", "test_a"} <= names
    assert "perimeter" not in names
    assert sorted(os.path.basename(f) for f in index.test_files()) == ["shape_test.py", "test_mod.py"]


def test_pyproject_testpaths_and_python_files(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.pytest.ini_options]\ntestpaths = ["checks"]\npython_files = ["check_*.py"]\n',
    )
    write(tmp_path / "checks" / "check_shapes.py", "def test_x():\n    circle()\n")
    write(tmp_path / "checks" / "test_ignored.py", "def test_y():\n    square()\n")
    write(tmp_path / "other" / "check_elsewhere.py", "def test_z():\n    triangle()\n")
    index = TestIndex(tmp_path)
    names = index.tested_names()
    assert "circle" in names
    assert "square" not in names and "triangle" not in names
    assert read_pytest_config(tmp_path).testpaths == ("checks",)


def test_ini_style_configs(tmp_path):
    write(tmp_path / "setup.cfg", "[tool:pytest]\npython_files = spec_*.py\n")
    assert read_pytest_config(tmp_path).python_files == ("spec_*.py",)
    write(tmp_path / "tox.ini", "[pytest]\ntestpaths = t1 t2\n")
    assert read_pytest_config(tmp_path).testpaths == ("t1", "t2")
    write(tmp_path / "pytest.ini", "[pytest]\n")
    cfg = read_pytest_config(tmp_path)
    assert cfg.testpaths == () and cfg.python_files == ("test_*.py", "*_test.py")


def test_cache_and_invalidate(tmp_path):
    test_file = write(tmp_path / "test_a.py", "def test_a():\n    alpha()\n")
    index = TestIndex(tmp_path)
    first = index.tested_names()
    assert "alpha" in first
    assert index.tested_names() is first  # nothing changed: the same object
    # an edit with a new mtime is seen without invalidate()
    test_file.write_text("def test_a():\n    beta()\n", encoding="utf-8")
    st = test_file.stat()
    os.utime(test_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert "beta" in index.tested_names() and "alpha" not in index.tested_names()
    # a new test file in a known directory (directory mtime changes)
    write(tmp_path / "test_b.py", "def test_b():\n    gamma()\n")
    dir_st = tmp_path.stat()
    os.utime(tmp_path, ns=(dir_st.st_atime_ns, dir_st.st_mtime_ns + 10**9))
    assert "gamma" in index.tested_names()
    # invalidate() forces a re-read
    index.invalidate(tmp_path / "test_b.py")
    assert "gamma" in index.tested_names()
    index.invalidate()
    assert "gamma" in index.tested_names()


def test_unreadable_test_file_is_skipped(tmp_path):
    write(tmp_path / "test_bin.py", "")
    (tmp_path / "test_bin.py").write_bytes(b"\xff\xfe\x00garbage")
    write(tmp_path / "test_ok.py", "def test():\n    fine()\n")
    assert "fine" in TestIndex(tmp_path).tested_names()


def test_find_workspace_root(tmp_path):
    write(tmp_path / "proj" / "pyproject.toml", "")
    mod = write(tmp_path / "proj" / "src" / "pkg" / "mod.py", "")
    assert find_workspace_root(mod) == tmp_path / "proj"
    assert find_workspace_root(tmp_path / "proj" / "src") == tmp_path / "proj"
    lone = write(tmp_path / "lone" / "x.py", "")
    # no marker up to / (tmp dirs have none): the file's directory
    if not any((p / m).exists() for p in lone.parents for m in ("pyproject.toml", "setup.cfg", "setup.py", ".git")):
        assert find_workspace_root(lone) == tmp_path / "lone"


def test_demo_workspace_index():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "demo")
    names = TestIndex(root).tested_names()
    assert {"rectangle_area", "perimeter", "contains"} <= names
    assert "clamp" not in names and "scale" not in names


def test_workspace_root_of_is_remembered_until_forgotten(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'outer'\n")
    mod = tmp_path / "pkg" / "mod.py"
    mod.parent.mkdir()
    mod.write_text("x = 1\n")
    assert workspace_root_of(mod) == tmp_path
    (tmp_path / "pkg" / "setup.cfg").write_text("[metadata]\n")  # a nearer project appears
    assert workspace_root_of(mod) == tmp_path  # remembered: no walk up the tree per request
    forget_workspace_roots()
    assert workspace_root_of(mod) == tmp_path / "pkg"
