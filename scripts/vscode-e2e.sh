#!/usr/bin/env bash
# The VS Code extension end to end, in a real VS Code: installs code-server + Chromium once
# (scripts/install-code-server.sh, into ~/.cache/code-server-e2e), builds the .vsix, installs it
# with --install-extension and drives the workbench in headless Chromium (vscode-client/test/e2e/).
# Screenshots: vscode-client/test/e2e/artifacts/; after a run where every scenario passed, the ones the
# docs show (DOC_IMAGES below) are copied to docs/images/, so the README's pictures are the ones this run made.
#
#   scripts/vscode-e2e.sh
# Environment: CODE_SERVER_PREFIX (install dir), CODELOOP_PYTHON (Python with codeloop; default .venv/bin/python),
# CODELOOP_E2E_SERVER_LOG (a path: the server logs there at debug level, for debugging a scenario),
# CODELOOP_E2E_DOC_IMAGES=0 (leave docs/images alone).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
start=$(date +%s)
eval "$(bash scripts/install-code-server.sh "${CODE_SERVER_PREFIX:-$HOME/.cache/code-server-e2e}")"
export CODE_SERVER CODE_SERVER_NODE_BIN
export CODELOOP_PYTHON=${CODELOOP_PYTHON:-$ROOT/.venv/bin/python}
echo "vscode-e2e: code-server ready ($(( $(date +%s) - start )) s)" >&2
cd vscode-client
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent package >/dev/null
export CODELOOP_VSIX=$PWD/codeloop.vsix
rm -rf test/e2e/artifacts
node --test --test-concurrency=1 --test-reporter=spec test/e2e/
DOC_IMAGES="code-action generate-tests chat agent implement implement-choices inline-completion inline-unverified problems run-tests-cancel settings"
if [ "${CODELOOP_E2E_DOC_IMAGES:-1}" != 0 ]; then
  for name in $DOC_IMAGES; do
    if [ -f "test/e2e/artifacts/$name.png" ]; then cp "test/e2e/artifacts/$name.png" "$ROOT/docs/images/$name.png"; fi
  done
  echo "vscode-e2e: docs/images updated from this run's screenshots" >&2
fi
echo "vscode-e2e: done ($(( $(date +%s) - start )) s)" >&2
