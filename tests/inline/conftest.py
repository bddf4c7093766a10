"""Fixtures for tests/inline (helpers live in inline_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from inline_helpers import lsp, lsp_no_model  # noqa: E402,F401
