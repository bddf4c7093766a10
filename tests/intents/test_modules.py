"""codeloop.workspace.modules.module_for: the one module-name rule of implement, the
inline completion check and test generation targets (which differ only for a file in
the root's parent folder: ``climb_from_outside``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeloop.workspace.modules import ModuleNameError, module_for


def tree(base: Path, *files: str) -> None:
    for rel in files:
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text("")


def test_plain_module_and_packages(tmp_path):
    ws = tmp_path / "ws"
    tree(ws, "calc.py", "pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py", "src/geo/__init__.py",
         "src/geo/shapes.py")
    for climb in (False, True):
        assert module_for(ws / "calc.py", ws, climb_from_outside=climb) == (ws, "calc")
        assert module_for(ws / "pkg/sub/mod.py", ws, climb_from_outside=climb) == (ws, "pkg.sub.mod")
        assert module_for(ws / "pkg/sub/__init__.py", ws, climb_from_outside=climb) == (ws, "pkg.sub")
        assert module_for(ws / "src/geo/shapes.py", ws, climb_from_outside=climb) == (ws / "src", "geo.shapes")


def test_a_workspace_that_is_a_package_stops_at_its_parent(tmp_path):
    outer = tmp_path / "outer"
    tree(outer, "__init__.py", "ws/__init__.py", "ws/mod.py")
    ws = outer / "ws"
    for climb in (False, True):
        assert module_for(ws / "mod.py", ws, climb_from_outside=climb) == (outer, "ws.mod")


def test_a_file_in_the_roots_parent_climbs_only_when_asked(tmp_path):
    outer = tmp_path / "outer"
    tree(outer, "__init__.py", "side.py", "ws/__init__.py")
    (tmp_path / "__init__.py").write_text("")
    ws = outer / "ws"
    assert module_for(outer / "side.py", ws) == (outer, "side")  # implement, completion check
    root, dotted = module_for(outer / "side.py", ws, climb_from_outside=True)  # test generation targets
    assert dotted.endswith("outer.side") and (root / Path(*dotted.split("."))).with_suffix(".py") == outer / "side.py"


def test_the_package_above_the_root_has_no_name(tmp_path):
    tree(tmp_path, "__init__.py", "ws/calc.py")
    with pytest.raises(ModuleNameError, match="cannot tell the module name"):
        module_for(tmp_path / "__init__.py", tmp_path / "ws")
