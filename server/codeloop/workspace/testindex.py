"""The workspace's test files and what they refer to: the one test-reference index.

Two questions, one module: which names the tests refer to (:class:`TestIndex`, so
untested functions can be flagged) and which tests a module's change affects
(:func:`affected_tests`, through imports; :func:`select_tests` for a test run).

Test files are found with pytest's discovery rules: ``test_*.py`` / ``*_test.py``
by default, or the ``python_files`` patterns and ``testpaths`` of the workspace's
pytest configuration (``[tool.pytest.ini_options]`` in pyproject.toml, or
pytest.ini / tox.ini ``[pytest]``, or setup.cfg ``[tool:pytest]``).

A test "refers to" a name when the name appears in it as an identifier, an
attribute name or a part of a dotted string (``"pkg.mod.func"``). Each file's
names are cached by (mtime, size); the list of test files is cached by the
mtimes of the directories walked.

A test "is affected by" a module when it imports the module, or imports a module that
imports it, up to a few levels (relative imports resolved).
"""

from __future__ import annotations

import ast
import glob
import os
import re
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from codeloop.workspace.testfiles import DEFAULT_PYTHON_FILES, is_test_file

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".env",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        "site-packages",
    }
)
MAX_IMPORT_FILES = 5000  # the import graph of the affected-test search reads at most this many files


@cache
def _names_query():  # tree-sitter is loaded on first use: the index's scan reads only the config
    from tree_sitter import Query

    from codeloop.workspace.document import PY_LANGUAGE

    return Query(PY_LANGUAGE, "(identifier) @id (string_content) @str")


_DOTTED = re.compile(r"^[A-Za-z_][\w]*(?:[.:][A-Za-z_]\w*)*$")


def find_workspace_root(path: str | os.PathLike[str]) -> Path:
    """The nearest directory (the path itself or an ancestor) with a project marker.

    Markers: pyproject.toml, setup.cfg, setup.py, .git. Without one, the path's
    directory (the path itself when it is a directory).
    """
    p = Path(os.path.abspath(os.fspath(path)))
    start = p if p.is_dir() else p.parent
    for d in (start, *start.parents):
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return start


_ROOTS: dict[str, tuple[float, Path]] = {}  # path -> (when it was looked up, its root)
ROOT_CACHE_SECONDS = 5.0


def workspace_root_of(path: str | os.PathLike[str]) -> Path:
    """:func:`find_workspace_root`, remembered for :data:`ROOT_CACHE_SECONDS` and until
    :func:`forget_workspace_roots`: the language server asks on every request, and walking
    up a deep path is a dozen ``stat`` calls each time (a marker file appearing is rare)."""
    key = os.fspath(path)
    now = time.monotonic()
    known = _ROOTS.get(key)
    if known is not None and now - known[0] < ROOT_CACHE_SECONDS:
        return known[1]
    root = find_workspace_root(key)
    if len(_ROOTS) >= 4096:  # many files over a long session: start afresh
        _ROOTS.clear()
    _ROOTS[key] = (now, root)
    return root


def forget_workspace_roots() -> None:
    """Look every root up again (a project file was added or removed)."""
    _ROOTS.clear()


def is_skipped_dir(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info")


@dataclass
class PytestConfig:
    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = DEFAULT_PYTHON_FILES
    source: str | None = None  # the file it came from


def read_pytest_config(root: Path) -> PytestConfig:
    """pytest's ``testpaths`` and ``python_files`` from the first config file that has them."""

    def split(value) -> tuple[str, ...]:
        if isinstance(value, str):
            return tuple(value.split())
        if isinstance(value, (list, tuple)):
            return tuple(str(v) for v in value)
        return ()

    def from_ini(path: Path, section: str) -> PytestConfig | None:
        import configparser  # here: a project without these files does not load the parsers

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            return None
        if not parser.has_section(section):
            return None
        sec = parser[section]
        return PytestConfig(
            testpaths=split(sec.get("testpaths", "")),
            python_files=split(sec.get("python_files", "")) or DEFAULT_PYTHON_FILES,
            source=str(path),
        )

    # pytest's order: pytest.ini, pyproject.toml, tox.ini, setup.cfg
    ini = root / "pytest.ini"
    if ini.is_file():
        cfg = from_ini(ini, "pytest")
        if cfg is not None:
            return cfg
        return PytestConfig(source=str(ini))  # pytest.ini always wins, even when empty
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            data = {}
        opts = data.get("tool", {}).get("pytest", {}).get("ini_options")
        if isinstance(opts, dict):
            return PytestConfig(
                testpaths=split(opts.get("testpaths", ())),
                python_files=split(opts.get("python_files", ())) or DEFAULT_PYTHON_FILES,
                source=str(pyproject),
            )
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if path.is_file():
            cfg = from_ini(path, section)
            if cfg is not None:
                return cfg
    return PytestConfig()


def names_in_source(source: bytes) -> frozenset[str]:
    """Identifiers, attribute names and dotted-string parts referenced in Python source."""
    from tree_sitter import QueryCursor

    from codeloop.workspace.document import new_parser

    tree = new_parser().parse(source)
    names: set[str] = set()
    caps = QueryCursor(_names_query()).captures(tree.root_node)
    for node in caps.get("id", []):
        names.add(node.text.decode("utf-8", "replace"))
    for node in caps.get("str", []):
        text = node.text.decode("utf-8", "replace").strip()
        if len(text) < 200 and _DOTTED.match(text):
            names.update(part for part in re.split(r"[.:]", text) if part)
    return frozenset(names)


@dataclass
class _FileEntry:
    mtime_ns: int
    size: int
    names: frozenset[str]


@dataclass
class TestIndex:
    """Names referenced by the test files under ``root`` (cached, cheap to re-ask)."""

    __test__ = False  # not a pytest test class, despite the name

    root: Path
    max_dirs: int = 20000  # stop walking after this many directories
    _files: dict[str, _FileEntry] = field(default_factory=dict, init=False, repr=False)
    _listing: list[str] | None = field(default=None, init=False, repr=False)
    _dir_mtimes: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _config: PytestConfig | None = field(default=None, init=False, repr=False)
    _union: frozenset[str] | None = field(default=None, init=False, repr=False)
    _union_key: tuple | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(os.path.abspath(os.fspath(self.root)))

    @property
    def config(self) -> PytestConfig:
        if self._config is None:
            self._config = read_pytest_config(self.root)
        return self._config

    def is_test_file(self, path: str | os.PathLike[str]) -> bool:
        return is_test_file(path, self.config.python_files)

    def _search_dirs(self) -> list[str]:
        if not self.config.testpaths:
            return [str(self.root)]
        dirs: list[str] = []
        for tp in self.config.testpaths:
            pattern = os.path.join(str(self.root), tp)
            matches = glob.glob(pattern) if glob.has_magic(pattern) else [pattern]
            dirs.extend(m for m in matches if os.path.exists(m))
        return dirs or [str(self.root)]

    def _listing_is_fresh(self) -> bool:
        if self._listing is None:
            return False
        for d, mtime in self._dir_mtimes.items():
            try:
                if os.stat(d).st_mtime_ns != mtime:
                    return False
            except OSError:
                return False
        return True

    def test_files(self) -> list[str]:
        """Paths of the workspace's test files (pytest's discovery rules)."""
        if self._listing_is_fresh():
            return list(self._listing or [])
        files: list[str] = []
        dir_mtimes: dict[str, int] = {}
        for top in self._search_dirs():
            if os.path.isfile(top):
                if top.endswith(".py"):
                    files.append(top)
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                if len(dir_mtimes) >= self.max_dirs:
                    break  # a root without a project marker (e.g. /tmp): do not walk forever
                try:
                    dir_mtimes[dirpath] = os.stat(dirpath).st_mtime_ns
                except OSError:
                    continue
                dirnames[:] = sorted(d for d in dirnames if not is_skipped_dir(d) and not d.startswith("."))
                files.extend(os.path.join(dirpath, f) for f in sorted(filenames) if self.is_test_file(f))
        self._listing = files
        self._dir_mtimes = dir_mtimes
        return list(files)

    def names_in(self, path: str) -> frozenset[str]:
        """Names referenced by one file (cached by mtime and size; empty if unreadable)."""
        try:
            st = os.stat(path)
        except OSError:
            self._files.pop(path, None)
            return frozenset()
        entry = self._files.get(path)
        if entry is not None and (entry.mtime_ns, entry.size) == (st.st_mtime_ns, st.st_size):
            return entry.names
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return frozenset()
        names = names_in_source(data)
        self._files[path] = _FileEntry(st.st_mtime_ns, st.st_size, names)
        return names

    def tested_names(self) -> frozenset[str]:
        """Every name any test file refers to."""
        files = self.test_files()
        key_parts = []
        for f in files:
            try:
                st = os.stat(f)
                key_parts.append((f, st.st_mtime_ns, st.st_size))
            except OSError:
                key_parts.append((f, -1, -1))
        key = tuple(key_parts)
        if self._union is not None and key == self._union_key:
            return self._union
        union: set[str] = set()
        for f in files:
            union |= self.names_in(f)
        self._union = frozenset(union)
        self._union_key = key
        # forget files that are gone
        for stale in set(self._files) - set(files):
            del self._files[stale]
        return self._union

    def invalidate(self, path: str | os.PathLike[str] | None = None) -> None:
        """Forget cached data for ``path`` (or everything); call on file-watch events."""
        if path is None:
            self._files.clear()
            self._listing = None
            self._config = None
            self._union = None
            return
        p = os.path.abspath(os.fspath(path))
        self._files.pop(p, None)
        self._union = None
        base = os.path.basename(p)
        if base in ("pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg"):
            self._config = None
            self._listing = None
        elif p not in (self._listing or []):
            self._listing = None  # maybe a new test file


# -- tests affected by a module (through imports) -------------------------------------------


def _python_files(root: str) -> list[str]:
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not is_skipped_dir(d) and not d.startswith(".")
                             and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg")))
        files.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
        if len(files) >= MAX_IMPORT_FILES:
            break
    return files


def module_names(root: str, path: str) -> set[str]:
    """Dotted names a module at ``path`` may be imported as (every dotted suffix)."""
    rel = os.path.relpath(os.path.abspath(path), root)
    parts = rel[:-3].split(os.sep) if rel.endswith(".py") else rel.split(os.sep)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts)) if parts[i:]}


def imported_names(path: str, root: str) -> set[str]:
    """Modules (and module.attr candidates) a file imports; relative imports resolved."""
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return set()
    own = sorted(module_names(root, path), key=len, reverse=True)
    package = own[0].rsplit(".", 1)[0] if own and "." in own[0] else ""
    if os.path.basename(path) == "__init__.py" and own:
        package = own[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg_parts = package.split(".") if package else []
                up = pkg_parts[: len(pkg_parts) - (node.level - 1)] if node.level - 1 <= len(pkg_parts) else []
                base = ".".join([*up, base] if base else up)
            if base:
                names.add(base)
            for a in node.names:
                names.add(f"{base}.{a.name}" if base else a.name)
    return names


def _imports_any(imported: set[str], targets: set[str]) -> bool:
    return any(name == t or name.startswith(t + ".") for name in imported for t in targets)


def affected_tests(root: str, path: str, depth: int = 3) -> list[str]:
    """Test files that import ``path``'s module directly or through other modules."""
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    if is_test_file(path):
        return [path]
    files = _python_files(root)
    imports = {f: imported_names(f, root) for f in files}
    found: set[str] = set()
    frontier = {path}
    seen = {path}
    for _ in range(depth):
        names = set().union(*(module_names(root, f) for f in frontier))
        nxt = set()
        for f in files:
            if f in seen:
                continue
            if _imports_any(imports[f], names):
                if is_test_file(f):
                    found.add(f)
                else:
                    nxt.add(f)
                seen.add(f)
        frontier = nxt
        if not frontier:
            break
    return sorted(found)


def select_tests(root: str, target: str | None = None, current_file: str | None = None) -> list[str]:
    """pytest arguments (paths relative to ``root`` or node ids): ``target`` (a test id, a
    test file or directory) as given, else the tests affected by ``current_file``."""
    root = os.path.abspath(root)
    if target:
        if "::" in target:
            path, rest = target.split("::", 1)
            p = os.path.abspath(os.path.join(root, path))
            return [os.path.relpath(p, root) + "::" + rest]
        return [os.path.relpath(os.path.abspath(os.path.join(root, target)), root)]
    if current_file:
        return [os.path.relpath(p, root) for p in affected_tests(root, current_file)]
    return []
