#!/usr/bin/env bash
# Run one command inside a bubblewrap sandbox (benchmark-only helper; the product's sandbox is
# the codeloop_sandbox library). Used to run Pynguin, which executes the code under test.
#
#   sandboxed.sh [--ro PATH]... [--rw PATH]... [--chdir DIR] [--setenv NAME VALUE]... -- CMD [ARG]...
#
#   --ro PATH    bind PATH read-only at the same path. When PATH is a venv (has pyvenv.cfg), the
#                base interpreter's prefix it points to (`home = .../bin`) is bound read-only too.
#   --rw PATH    bind PATH read-write at the same path (only the run's output folder should be).
#   --chdir DIR  working directory inside the sandbox (default: /tmp).
#   --setenv N V set one environment variable inside (the environment is otherwise empty apart
#                from PATH, HOME, TMPDIR, LANG, PYTHONNOUSERSITE).
#
# What the sandbox is (see shared/research/sandbox-anchors.md §2 and §3.4):
#   * bwrap is exec'd with an EMPTY environment (env -i), so nothing of the caller's environment
#     is visible, not even through /proc/1/environ; only the --setenv values exist inside;
#   * --unshare-all (user, pid, net, ipc, uts, cgroup): no network, own pid namespace;
#     --disable-userns, --cap-drop ALL, --new-session (no TIOCSTI), --die-with-parent;
#   * filesystem: /usr and a few /etc files read-only, /proc with /proc/sys re-bound read-only
#     (we run as root here, where bwrap leaves it writable), a minimal /dev, a size-capped tmpfs
#     on /tmp, the --ro/--rw binds, then `--remount-ro /` so the root tmpfs is not writable;
#   * rlimits (set before bwrap, inherited): address space SANDBOX_AS_BYTES (default 8 GiB),
#     file size 1 GiB, 4096 open files, no core dumps. RLIMIT_NPROC is not set: as root the
#     kernel ignores it (anchors §3.4.2), and the caller's wall-clock timeout kills the whole
#     pid namespace through --die-with-parent.
set -euo pipefail

BWRAP=${BWRAP:-/usr/bin/bwrap}
AS=${SANDBOX_AS_BYTES:-8589934592}
TMP_SIZE=${SANDBOX_TMP_BYTES:-536870912}

binds=()
setenv=()
chdir=/tmp
path_dirs=()

add_ro() {
  local p
  p=$(realpath -e -- "$1")
  binds+=(--ro-bind "$p" "$p")
  if [ "$p" != "$1" ]; then binds+=(--ro-bind "$p" "$1"); fi
  if [ -f "$p/pyvenv.cfg" ]; then
    local home
    home=$(sed -n 's/^home *= *//p' "$p/pyvenv.cfg" | head -n1)
    if [ -n "$home" ] && [ -d "$home" ]; then
      local prefix
      prefix=$(realpath -e -- "$home/..")
      case "$prefix" in
        /usr|/usr/*) ;;                       # already bound with /usr
        *) binds+=(--ro-bind "$prefix" "$prefix") ;;
      esac
    fi
    path_dirs+=("$1/bin")
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --ro) add_ro "$2"; shift 2 ;;
    --rw) p=$(realpath -e -- "$2"); binds+=(--bind "$p" "$p"); shift 2 ;;
    --chdir) chdir=$2; shift 2 ;;
    --setenv) setenv+=(--setenv "$2" "$3"); shift 3 ;;
    --) shift; break ;;
    *) echo "sandboxed.sh: unknown option $1 (the command goes after --)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "sandboxed.sh: no command given" >&2; exit 2; }

PATH_IN=$(IFS=:; echo "${path_dirs[*]:+${path_dirs[*]}:}/usr/local/bin:/usr/bin:/bin")

etc=()
for f in ld.so.cache ld.so.conf ld.so.conf.d nsswitch.conf passwd group localtime hosts; do
  [ -e "/etc/$f" ] && etc+=(--ro-bind "/etc/$f" "/etc/$f")
done

exec env -i /usr/bin/prlimit --as="$AS" --fsize=1073741824 --nofile=4096 --core=0 -- \
  "$BWRAP" \
  --unshare-all --unshare-user --disable-userns --die-with-parent --new-session \
  --cap-drop ALL --hostname sandbox \
  --ro-bind /usr /usr \
  --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
  "${etc[@]}" \
  --proc /proc --ro-bind /proc/sys /proc/sys --dev /dev \
  --size "$TMP_SIZE" --tmpfs /tmp --dir /tmp/home \
  "${binds[@]}" \
  --remount-ro / \
  --clearenv \
  --setenv PATH "$PATH_IN" --setenv HOME /tmp/home --setenv TMPDIR /tmp \
  --setenv LANG C.UTF-8 --setenv PYTHONNOUSERSITE 1 \
  "${setenv[@]}" \
  --chdir "$chdir" \
  -- "$@"
