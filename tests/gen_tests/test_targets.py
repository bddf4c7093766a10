"""Static resolution of TARGET (nothing is imported)."""

from __future__ import annotations

import pytest

from codeloop.generate.targets import TargetError, resolve_target


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def f(x):\n    return x\n\n\nclass C:\n    def m(self):\n        pass\n")
    (tmp_path / "pkg" / "broken.py").write_text("def f(:\n")
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "__init__.py").write_text("")
    (tmp_path / "src" / "lib" / "util.py").write_text("X = 1\n")
    (tmp_path / "both").mkdir()
    (tmp_path / "both" / "__init__.py").write_text("")
    (tmp_path / "both.py").write_text("")
    return tmp_path


def test_dotted_module_and_members(project):
    t = resolve_target("pkg.mod", project)
    assert (t.module, t.file, t.import_root, t.member) == ("pkg.mod", project / "pkg" / "mod.py", project, None)
    assert resolve_target("pkg.mod::f", project).member == "f"
    assert resolve_target("pkg.mod::C.m", project).member == "C.m"
    assert t.short_name == "mod"


def test_file_path_and_src_layout(project):
    t = resolve_target("pkg/mod.py::C", project, cwd=project)
    assert (t.module, t.member) == ("pkg.mod", "C")
    s = resolve_target("lib.util", project)
    assert s.import_root == project / "src" and s.module == "lib.util"


def test_package_wins_over_module_file(project):
    assert resolve_target("both", project).file == project / "both" / "__init__.py"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope.missing", "no module named 'nope.missing'"),
        ("pkg/none.py", "no such file"),
        ("pkg.broken", "syntax error"),
        ("pkg.mod::g", "no function or class named 'g'"),
        ("pkg.mod::C.x", "has no method 'x'"),
        ("pkg.mod::f.x", "is not a class"),
        ("pkg.mod::", "after '::'"),
        ("not a module", "expected a dotted module name"),
    ],
)
def test_bad_targets_are_one_line_errors(project, spec, message):
    with pytest.raises(TargetError, match=message) as exc:
        resolve_target(spec, project, cwd=project)
    assert "\n" not in str(exc.value)
