#!/usr/bin/env bash
# Run the sandbox's hostile suite (tests/sandbox) as an unprivileged user, as CI does after
# the root run: the suite must pass both as root and as a normal user.
#   scripts/hostile-as-user.sh [pytest options, e.g. -x or -k NAME]     (as root)
# Creates the user codeloop-ci when missing, lets it read the checkout, the venv and the
# interpreter the venv points at (an ACL when setfacl exists, else the traverse bit on the
# directories above them that lack it), then runs pytest as that user with a clean
# environment. VENV picks the venv (default: .venv of the checkout); a PYTHONPATH in the
# environment is passed on (a worktree testing its own code over a shared venv).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOUT=$PWD
CI_USER=${CI_USER:-codeloop-ci}
VENV=$(cd "${VENV:-.venv}" && pwd)

if [ "$(id -u)" != 0 ]; then
  echo "hostile-as-user.sh: run as root (it creates the user $CI_USER); as a normal user run:" \
       "$VENV/bin/python -m pytest tests/sandbox -q" >&2
  exit 2
fi
if ! id -u "$CI_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh --comment "codeloop CI (unprivileged test runs)" "$CI_USER"
  echo "hostile-as-user.sh: created user $CI_USER" >&2
fi
CI_HOME=$(getent passwd "$CI_USER" | cut -d: -f6)

# What the user must read: the checkout, the venv, and the real interpreter behind it.
real_python=$(readlink -f "$VENV/bin/python")
interp_prefix=$("$real_python" -c 'import sys; print(sys.base_prefix)')
can() { runuser -u "$CI_USER" -- test "$@" 2>/dev/null; }
grant() {  # grant DIR: traverse every directory above it, then read the tree
  local dir=$1 up parents=()
  up=$(dirname "$dir")
  while [ "$up" != / ]; do parents=("$up" "${parents[@]}"); up=$(dirname "$up"); done
  for up in "${parents[@]}"; do   # outermost first
    can -x "$up" && continue
    if command -v setfacl >/dev/null; then
      setfacl -m "u:$CI_USER:x" "$up"
    else
      chmod o+x "$up"   # traverse only: the names inside stay unlistable
      echo "hostile-as-user.sh: added the traverse bit (o+x) to $up (no setfacl)" >&2
    fi
  done
  can -r "$dir" -a -x "$dir" && return 0
  if command -v setfacl >/dev/null; then
    setfacl -R -m "u:$CI_USER:rX" "$dir"
  else
    chmod -R o+rX "$dir"
    echo "hostile-as-user.sh: made $dir readable by others (no setfacl)" >&2
  fi
}
for dir in "$CHECKOUT" "$VENV" "$interp_prefix"; do
  grant "$dir"
done

env_args=(HOME="$CI_HOME" USER="$CI_USER" LOGNAME="$CI_USER" PATH=/usr/local/bin:/usr/bin:/bin
          LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 TMPDIR=/tmp)
if [ -n "${PYTHONPATH:-}" ]; then
  env_args+=(PYTHONPATH="$PYTHONPATH")
fi
echo "hostile-as-user.sh: tests/sandbox as $CI_USER (uid $(id -u "$CI_USER"))" >&2
cd "$CI_HOME"   # not the checkout: nothing may need to write there
exec runuser -u "$CI_USER" -- env -i "${env_args[@]}" \
  "$VENV/bin/python" -m pytest "$CHECKOUT/tests/sandbox" -q -p no:cacheprovider --rootdir "$CHECKOUT" "$@"
