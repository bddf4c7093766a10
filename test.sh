#!/usr/bin/env bash
# The one test command: the Python suite (unit, LSP end to end, sandbox hostile corpus).
set -euo pipefail
cd "$(dirname "$0")"
.venv/bin/python -m pytest "$@"
