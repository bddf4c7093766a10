"""Which files are tests: the one rule every part of codeloop uses.

pytest's discovery rule: a ``.py`` file whose name matches one of the ``python_files``
patterns (``test_*.py`` / ``*_test.py`` unless the project's pytest configuration says
otherwise; :class:`codeloop.workspace.testindex.TestIndex` passes the configured ones).
*Test support* is wider: test files, ``conftest.py`` and any file under a ``tests``,
``test`` or ``testing`` directory (helpers); a failure's frame in test support is not
"the code under test".
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")
TEST_DIR_NAMES = ("tests", "test", "testing")


def is_test_file(path: str | os.PathLike[str] | None, patterns: Sequence[str] = DEFAULT_PYTHON_FILES) -> bool:
    """Would pytest collect ``path`` as a test module (by its name)?"""
    if not path:
        return False
    base = os.path.basename(os.fspath(path))
    return base.endswith(".py") and _matcher(tuple(patterns))(os.path.normcase(base)) is not None


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """``fnmatch`` of any of ``patterns`` as one compiled regex (a scan asks for every file
    of the workspace: ~10x faster than fnmatch pattern by pattern)."""
    return re.compile("|".join(fnmatch.translate(os.path.normcase(p)) for p in patterns) or "(?!)").match


def is_conftest(path: str | os.PathLike[str] | None) -> bool:
    return bool(path) and os.path.basename(os.fspath(path)) == "conftest.py"


def is_test_support(path: str, root: str) -> bool:
    """A test file, a conftest, or any file under a ``tests``/``test``/``testing`` directory."""
    if is_test_file(path) or is_conftest(path):
        return True
    parts = os.path.relpath(path, root).split(os.sep)[:-1]
    return any(p in TEST_DIR_NAMES for p in parts)


__all__ = ["DEFAULT_PYTHON_FILES", "TEST_DIR_NAMES", "is_conftest", "is_test_file", "is_test_support"]
