"""The driver runs in the sandbox as a script beside copies of its parts: what it imports there
must be what it imports in-process, and the parts may import nothing the sandbox lacks."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from codeloop.verify.input_search import DRIVER_DIR, WORK_DIR, driver_files

SEARCH = DRIVER_DIR / "search"


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_every_part_of_the_search_is_shipped_as_the_package_codeloop_search():
    files = driver_files({"module": "m"})
    parts = sorted(p.name for p in SEARCH.glob("*.py"))
    assert "__init__.py" in parts and "candidates.py" in parts
    for name in parts:
        assert files[f"{WORK_DIR}/_codeloop_search/{name}"] == (SEARCH / name).read_text(encoding="utf-8")
    assert files[f"{WORK_DIR}/driver.py"] == (DRIVER_DIR / "driver.py").read_text(encoding="utf-8")


def test_the_parts_import_only_each_other_and_the_standard_library():
    for path in sorted(SEARCH.glob("*.py")):
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name}: {ast.unparse(node)}"  # a sibling, never the engine
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names, f"{path.name}: {ast.unparse(node)}"


def test_the_driver_imports_the_same_parts_in_the_sandbox_as_in_process():
    tree = ast.parse((DRIVER_DIR / "driver.py").read_text(encoding="utf-8"))
    branch = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "__package__")

    def spelled(stmts: list[ast.stmt], prefix: str) -> list[tuple[str, list[str]]]:
        out = []
        for node in stmts:
            assert isinstance(node, ast.ImportFrom), ast.unparse(node)
            module = ("." * node.level) + (node.module or "")
            assert module.startswith(prefix), module
            out.append((module[len(prefix):], [a.name for a in node.names]))
        return out

    in_process = spelled(branch.body, ".search")
    in_sandbox = spelled(branch.orelse, "_codeloop_search")
    assert in_process == in_sandbox and len(in_process) > 5
    modules = {m.lstrip(".") for m, _ in in_process if m} | {n for m, names in in_process if not m for n in names}
    assert modules <= {p.stem for p in SEARCH.glob("*.py")}
    # the driver itself imports nothing of codeloop at run time (only its shipped parts)
    assert not [n for n in _imports(tree) if "codeloop." in ast.unparse(n) or ast.unparse(n).startswith("import codeloop")]


def test_shipped_helper_is_found_one_folder_up_from_the_parts():
    # observe._portable loads portable.py (in-process) or _codeloop_portable.py (sandbox) from the
    # driver's folder: the parts sit one folder below it in both places
    from codeloop.generate.offline.search import observe

    assert Path(observe.__file__).parent.parent == DRIVER_DIR
    assert observe._portable().__file__ == str(DRIVER_DIR / "portable.py")
