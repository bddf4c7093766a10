"""From a reference to the definitions it may mean.

A reference carries the dotted name its own file tells (``from pkg.mod import f`` makes a
later ``f()`` mean ``pkg.mod.f``) or none (``obj.method()``). A dotted name is looked up as a
definition's qualified name, then through re-exports (``pkg/__init__.py`` importing ``f``
from ``pkg.impl``, ``from x import *``). A name that points outside the workspace (``os.path.join``)
means no definition here; a name with no target means every definition of that name, each
a candidate (the repo map weighs them by how many there are).
"""

from __future__ import annotations

import sqlite3
from functools import cached_property

MAX_HOPS = 6


class Resolver:
    """Lookups over one connection, cached for the life of one query (make a new one per query)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._targets: dict[str, list[int]] = {}
        self._names: dict[str, list[int]] = {}

    @cached_property
    def files(self) -> dict[str, list[int]]:
        """The file ids of each module (files.module has no index: read once)."""
        out: dict[str, list[int]] = {}
        for file_id, module in self.conn.execute("SELECT id, module FROM files"):
            out.setdefault(module, []).append(file_id)
        return out

    @property
    def modules(self) -> set[str]:
        return set(self.files)

    @cached_property
    def top_names(self) -> set[str]:
        return {m.split(".")[0] for m in self.files}

    def by_qualname(self, qualname: str) -> list[int]:
        return [i for (i,) in self.conn.execute("SELECT id FROM defs WHERE qualname = ?", (qualname,))]

    def by_name(self, name: str) -> list[int]:
        if name not in self._names:
            self._names[name] = [i for (i,) in self.conn.execute(
                "SELECT id FROM defs WHERE name = ? AND kind != 'module'", (name,))]
        return self._names[name]

    def in_workspace(self, target: str) -> bool:
        return target.split(".")[0] in self.top_names

    def resolve(self, target: str) -> list[int]:
        """The definitions a dotted name means (empty when none is known)."""
        if target not in self._targets:
            self._targets[target] = self._resolve(target, MAX_HOPS)
        return self._targets[target]

    def _resolve(self, target: str, hops: int) -> list[int]:
        found = self.by_qualname(target)
        if found or hops == 0:
            return found
        parts = target.split(".")
        for cut in range(len(parts) - 1, 0, -1):  # the longest module prefix
            module = ".".join(parts[:cut])
            file_ids = self.files.get(module)
            if file_ids is None:
                continue
            first, rest = parts[cut], parts[cut + 1:]
            rows = self.conn.execute(
                f"SELECT alias, target FROM imports WHERE file_id IN ({','.join('?' * len(file_ids))}) "
                "AND alias IN (?, '*')", (*file_ids, first)).fetchall()
            for alias, via in rows:
                nxt = ".".join([via, *rest]) if alias == first else ".".join([via, first, *rest])
                if nxt != target and (hit := self._resolve(nxt, hops - 1)):
                    return hit
            return []
        return []

    def candidates(self, name: str, target: str | None) -> tuple[list[int], bool]:
        """(definition ids, exact): what a reference may mean; ``exact`` when its target resolved."""
        if target is not None:
            found = self.resolve(target)
            if found:
                return found, True
            if not self.in_workspace(target) and target.split(".")[0] not in ("self", "cls"):
                return [], True
        return self.by_name(name), False

    def means(self, name: str, target: str | None, def_id: int, qualname: str) -> bool:
        """May a reference (``name``, ``target``) mean definition ``def_id``?"""
        if target == qualname:
            return True
        ids, _ = self.candidates(name, target)
        return def_id in ids


__all__ = ["Resolver"]
