#!/usr/bin/env bash
# Installs a real VS Code (code-server, the web build of VS Code) plus headless Chromium on this
# kind of machine, for end-to-end tests of the VS Code client. Idempotent; ~10 minutes the first time.
#
#   scripts/install-code-server.sh [PREFIX]      (default PREFIX: ~/.cache/code-server-e2e)
# (The project's copy of the team tool shared/tools/install-code-server.sh, so that CI on a fresh
# clone has it; scripts/vscode-e2e.sh runs it.)
#
# Prints two lines at the end, ready for `eval`:
#   export CODE_SERVER=PREFIX/cs/node_modules/.bin/code-server
#   export CODE_SERVER_NODE_BIN=PREFIX/node24/node_modules/node/bin   (put first on PATH when running it)
# Chromium is at /usr/bin/chromium. Launch it with:
#   --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
#   --disable-component-update --disable-sync --user-data-dir=<fresh temp dir>
# Why the steps: code-server 4.139 requires node 24 (the machine has 20; the npm package `node@24`
# carries the binary), and its postinstall compiles native modules (kerberos needs libkrb5-dev).
set -euo pipefail
PREFIX=${1:-$HOME/.cache/code-server-e2e}
CS_VERSION=4.139.1
mkdir -p "$PREFIX"
if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev >/dev/null
fi
if [ ! -x "$PREFIX/node24/node_modules/node/bin/node" ]; then
  mkdir -p "$PREFIX/node24" && cd "$PREFIX/node24"
  [ -f package.json ] || echo '{"name":"node24","private":true}' > package.json
  npm install node@24 --no-audit --no-fund >/dev/null 2>&1
fi
NODE_BIN="$PREFIX/node24/node_modules/node/bin"
if [ ! -x "$PREFIX/cs/node_modules/.bin/code-server" ]; then
  mkdir -p "$PREFIX/cs" && cd "$PREFIX/cs"
  [ -f package.json ] || echo '{"name":"cs","private":true}' > package.json
  PATH="$NODE_BIN:$PATH" npm install "code-server@$CS_VERSION" --no-audit --no-fund --foreground-scripts > install.log 2>&1 \
    || { tail -30 install.log >&2; exit 1; }
fi
echo "export CODE_SERVER=$PREFIX/cs/node_modules/.bin/code-server"
echo "export CODE_SERVER_NODE_BIN=$NODE_BIN"
