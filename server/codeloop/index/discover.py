"""Which files of a workspace the index reads: ``*.py`` files, minus what ``.gitignore`` /
``.codeloopignore`` exclude, tool and environment folders (``.git``, ``.venv``, folders with
a ``pyvenv.cfg``, ``__pycache__``, ``build``, ...) and files over the size limit.

Symbolic links to folders are followed once: a folder reached again (a link loop, or two
links to one place) is not entered twice. Files that cannot be stat'ed (a dangling link)
are left out. Binary and generated files are recognised when read (:mod:`codeloop.index.sync`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codeloop.index.ignore import IGNORE_FILES, Rule, is_ignored, parse_rules
from codeloop.workspace.testindex import is_skipped_dir

MAX_FILE_BYTES = 1_000_000
MAX_FILES = 100_000


@dataclass(frozen=True)
class Candidate:
    rel: str  # "/"-separated, relative to the root
    path: str  # absolute
    mtime_ns: int
    size: int


@dataclass
class Discovery:
    files: list[Candidate] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    packages: set[str] = field(default_factory=set)  # folders with an __init__.py ("a/b")


def _rules_in(folder: str, rel: str) -> list[Rule]:
    rules: list[Rule] = []
    for name in IGNORE_FILES:
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as fh:
                rules += parse_rules(fh.read(), rel)
        except OSError:
            continue
    return rules


def discover(root: Path, max_bytes: int = MAX_FILE_BYTES, max_files: int = MAX_FILES) -> Discovery:
    """The Python files under ``root`` the index should hold."""
    found = Discovery()
    top = os.fspath(root)
    try:
        st = os.stat(top)
    except OSError:
        return found
    seen = {(st.st_dev, st.st_ino)}
    stack: list[tuple[str, str, list[Rule]]] = [(top, "", _rules_in(top, ""))]
    while stack:
        folder, rel, rules = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            found.skipped["unreadable folder"] += 1
            continue
        subfolders: list[tuple[str, str, list[Rule]]] = []
        for entry in entries:
            name = entry.name
            child_rel = rel + name
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if name.startswith(".") or is_skipped_dir(name) or is_ignored(rules, child_rel, True):
                    continue
                try:
                    dst = entry.stat()
                except OSError:
                    continue
                key = (dst.st_dev, dst.st_ino)
                if key in seen or os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                    continue
                seen.add(key)
                subfolders.append((entry.path, child_rel + "/", rules + _rules_in(entry.path, child_rel + "/")))
            elif name.endswith(".py"):
                if name == "__init__.py" and rel:
                    found.packages.add(rel.rstrip("/"))
                if is_ignored(rules, child_rel, False):
                    continue
                try:
                    fst = entry.stat()
                except OSError:
                    found.skipped["unreadable"] += 1
                    continue
                if fst.st_size > max_bytes:
                    found.skipped["oversized"] += 1
                    continue
                if len(found.files) >= max_files:
                    found.skipped["over the file limit"] += 1
                    continue
                found.files.append(Candidate(child_rel, entry.path, fst.st_mtime_ns, fst.st_size))
        stack.extend(reversed(subfolders))
    return found


def module_of(rel: str, packages: set[str]) -> str:
    """The dotted name of ``rel`` as Python imports it. In a package (a folder with an
    ``__init__.py``, listed in ``packages`` as "a/b"), the path from the outermost package
    of the chain (``server/codeloop/fileio.py`` -> ``codeloop.fileio`` when ``server`` is
    not a package); elsewhere the path from the root (``scripts/tool.py`` ->
    ``scripts.tool``), a leading ``src/`` left out."""
    return module_namer(packages)(rel)


def module_namer(packages: set[str]) -> Callable[[str], str]:
    """:func:`module_of` for the many files of one scan: each folder's part of the name is
    worked out once."""
    prefixes: dict[str, list[str]] = {}

    def prefix(folder: str) -> list[str]:
        parts = folder.split("/") if folder else []
        if parts and folder in packages:
            top = len(parts)
            while top > 0 and "/".join(parts[:top]) in packages:
                top -= 1
            return parts[top:]
        return parts[1:] if parts and parts[0] == "src" else parts

    def name(rel: str) -> str:
        folder, _, base = rel.rpartition("/")
        parts = prefixes.get(folder)
        if parts is None:
            parts = prefixes[folder] = prefix(folder)
        stem = base[:-3] if base.endswith(".py") else base
        if stem == "__init__":
            return ".".join(parts)
        return ".".join([*parts, stem]) if parts else stem

    return name


def packages_of(root: Path, rels: list[str]) -> set[str]:
    """The folders ("a/b") among the parents of ``rels`` that hold an ``__init__.py``."""
    found: set[str] = set()
    for rel in rels:
        folders = rel.split("/")[:-1]
        for i in range(len(folders), 0, -1):
            folder = "/".join(folders[:i])
            if folder in found:
                continue
            if os.path.exists(os.path.join(root, folder, "__init__.py")):
                found.add(folder)
    return found


__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "Candidate", "Discovery", "discover", "module_namer", "module_of", "packages_of"]
