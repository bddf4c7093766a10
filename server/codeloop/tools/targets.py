"""Targets as the tools accept them: ``pkg.mod.func``, ``pkg.mod.Class.method``, a bare
``func`` when one definition has that name, or ``path/to/mod.py::func`` (also
``::Class`` and ``::Class.method``). Resolved through the workspace index."""

from __future__ import annotations

from dataclasses import dataclass

from codeloop.index.queries import Symbol, lookup
from codeloop.services.index import IndexInputError, synced_index
from codeloop.tools.base import ToolContext, ToolError
from codeloop.tools.paths import WorkspacePath, root_of, workspace_file


@dataclass(frozen=True)
class Resolved:
    symbol: Symbol
    where: WorkspacePath
    member: str | None  # "func", "Class.method"; None for a module

    @property
    def spec(self) -> str:
        """The target as ``codeloop gen-tests`` takes it: ``path::member``."""
        return f"{self.where.rel}::{self.member}" if self.member else self.where.rel


def _member_of(symbol: Symbol, module: str | None) -> str | None:
    if symbol.kind == "module":
        return None
    qual = symbol.qualified_name
    if module and qual.startswith(module + "."):
        return qual[len(module) + 1:]
    return qual.rpartition(".")[2] if symbol.kind != "method" else ".".join(qual.split(".")[-2:])


def _module_name(conn, path: str) -> str | None:
    row = conn.execute("SELECT d.qualname FROM defs d JOIN files f ON f.id = d.file_id "
                       "WHERE f.path = ? AND d.kind = 'module' LIMIT 1", (path,)).fetchone()
    return row[0] if row else None


def resolve(context: ToolContext, target: str, tool: str, *, allow_module: bool = False) -> Resolved:
    """The one definition ``target`` names; ToolError (with the candidates) otherwise."""
    text = target.strip()
    if not text:
        raise ToolError(f"{tool}: the target is empty")
    try:
        with synced_index(str(root_of(context)), context.job, context.index_db) as index:
            conn = index.conn
            if "::" in text:
                path, _, member = text.partition("::")
                where = workspace_file(context, path, tool)
                if not member.strip():
                    found = [s for s in lookup(conn, _module_name(conn, where.rel) or "", "module")
                             if s.path == where.rel]
                else:
                    member = member.strip()
                    found = [s for s in lookup(conn, member.rpartition(".")[2], limit=500)
                             if s.path == where.rel and (s.qualified_name == member
                                                         or s.qualified_name.endswith("." + member))]
            else:
                found = lookup(conn, text, limit=500)
                exact = [s for s in found if s.qualified_name == text]
                found = exact or found
            if not allow_module:
                found = [s for s in found if s.kind != "module"]
            if not found:
                what = "function, class or method" if not allow_module else "module, function, class or method"
                raise ToolError(f"{tool}: no {what} named {text!r} in the workspace index "
                                "(give pkg.mod.func or path/to/mod.py::func; search_code finds names)")
            if len(found) > 1:
                listed = ", ".join(f"{s.qualified_name} ({s.path}:{s.line})" for s in found[:8])
                raise ToolError(f"{tool}: {text!r} is ambiguous: {listed}; give the qualified name or path::name")
            symbol = found[0]
            module = _module_name(conn, symbol.path)
    except IndexInputError as exc:
        raise ToolError(f"{tool}: the workspace index is unavailable: {exc}") from None
    where = workspace_file(context, symbol.path, tool)
    return Resolved(symbol, where, _member_of(symbol, module))


__all__ = ["Resolved", "resolve"]
