"""The layering rules of docs/architecture.md, checked on the source (imports inside
functions included): core never imports the adapters or pygls, not even for type hints,
and no module imports itself back through others at run time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
PACKAGE = SERVER / "codeloop"
ADAPTERS = ("codeloop.cli", "codeloop.lsp", "codeloop.tools")
ADAPTER_ONLY = ("pygls", "lsprotocol", *ADAPTERS)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SERVER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (never executed)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def imports_of(name: str, path: Path, known: set[str], runtime: bool = False) -> set[str]:
    """Every module ``name`` imports, resolved to the longest known module name;
    ``runtime``: only the imports that run (not those under ``if TYPE_CHECKING:``)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree) if runtime else set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rpartition(".")[0]
            found.add(target)
    return found


def is_adapter(name: str) -> bool:
    return name == "codeloop.__main__" or any(name == a or name.startswith(a + ".") for a in ADAPTERS)


GRAPH = {name: imports_of(name, path, set(modules())) for name, path in modules().items()}
# What runs: an import under ``if TYPE_CHECKING:`` cannot close a cycle at run time.
RUNTIME_GRAPH = {name: imports_of(name, path, set(modules()), runtime=True) for name, path in modules().items()}


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if not is_adapter(n)))
def test_core_module_imports_no_adapter(name: str) -> None:
    bad = sorted(t for t in GRAPH[name]
                 if any(t == a or t.startswith(a + ".") for a in ADAPTER_ONLY))
    assert not bad, f"{name} imports {bad}: only codeloop.cli, codeloop.lsp and codeloop.tools may"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the package's modules (a package's __init__ excluded as an edge
    target when its submodule is imported, since Python imports parents first anyway)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt not in graph or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    cycle = find_cycle(RUNTIME_GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# The knowledge base sits beside the other core packages: it may use the workspace layer and
# the foundation, never the generators, the sandbox runs, the model or the services.
INDEX_MAY_NOT = ("codeloop.generate", "codeloop.verify", "codeloop.model", "codeloop.audit", "codeloop.learn",
                 "codeloop.services", "codeloop_sandbox")


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n == "codeloop.index" or n.startswith("codeloop.index.")))
def test_index_uses_only_the_workspace_layer_and_the_foundation(name: str) -> None:
    bad = sorted(t for t in GRAPH[name] if any(t == p or t.startswith(p + ".") for p in INDEX_MAY_NOT))
    assert not bad, f"{name} imports {bad}"
