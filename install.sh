#!/usr/bin/env bash
# One install command for a fresh Linux (Debian/Ubuntu) machine. Idempotent.
#   ./install.sh            system packages (when root or with sudo) + .venv with codeloop[dev]
# Environment: CODELOOP_SKIP_APT=1 skips the system packages; PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
APT_PACKAGES=(bubblewrap neovim)

need_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ "${CODELOOP_SKIP_APT:-0}" != 1 ] && [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO=""; fi
  if [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; then
    echo "install.sh: installing system packages: ${need_apt[*]}" >&2
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "install.sh: warning: cannot install ${need_apt[*]} (not root, no sudo); the sandbox needs bubblewrap" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"

# --- VS Code extension (vscode-client/; owner: VS Code client). CODELOOP_SKIP_VSCODE=1 skips it. ---
if [ "${CODELOOP_SKIP_VSCODE:-0}" != 1 ]; then
  (cd vscode-client && npm ci --no-audit --no-fund --loglevel=error)
  scripts/install-code-server.sh >/dev/null   # code-server + Chromium for the e2e test (~4-10 min once)
fi
# --- end VS Code extension ---
echo "install.sh: done. Activate with: source .venv/bin/activate   (then: codeloop --version)" >&2
