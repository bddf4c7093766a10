"""Hostile tests for the hardening beyond the mounts: the seccomp filter (keyring calls,
io_uring, other ABIs), the fresh session keyring, the size-capped scratch space, and the
status that reports them. Each attack is run inside and checked from the host."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import uuid
import warnings

import pytest

from codeloop_sandbox import Policy, WarmPool, probe, run, run_pytest
from support.files import tree

pytestmark = pytest.mark.usefixtures("needs_bwrap")

NR = {  # (keyctl, add_key, request_key) per machine; io_uring is 425-427 everywhere
    "x86_64": (250, 248, 249),
    "aarch64": (219, 217, 218),
}.get(platform.machine())
needs_nr = pytest.mark.skipif(NR is None, reason=f"no syscall numbers for {platform.machine()} in this test")

POLICY = Policy(timeout=30, allow_levels=("A", "B"))

SYSCALLS = """
import ctypes, errno, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
KEYCTL, ADD_KEY, REQUEST_KEY = {nr}
def call(nr, *args):
    r = libc.syscall(nr, *args)
    return [r, errno.errorcode.get(ctypes.get_errno(), "?") if r < 0 else None]
"""


def _syscalls() -> str:
    return SYSCALLS.format(nr=NR)


def quiet_run(argv, ws, policy=POLICY, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(argv, ws, policy, **kw)


# -- keyring ----------------------------------------------------------------------------

# The caller: joins a session keyring holding a canary key (as a login session's
# pam_keyinit would), then runs the hostile program in the sandbox.
CALLER = """
import json, subprocess, sys, warnings
{syscalls}
import codeloop_sandbox as sb
from codeloop_sandbox._spawn import spawner
ws, canary, inside, plain = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4]
call(KEYCTL, 1, None)                                   # KEYCTL_JOIN_SESSION_KEYRING (anonymous)
key = call(ADD_KEY, b"user", b"codeloop-canary", canary, len(canary), ctypes.c_long(-3))[0]
out = {{"key": key}}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    res = sb.run(["python", "-c", inside, str(key)], ws, sb.Policy(timeout=30, allow_levels=("A", "B")))
out["run"] = [res.exit_code, res.limit, res.stdout, res.stderr[-2000:]]
# The fresh keyring alone (no seccomp): a plain process started by the spawner thread,
# and for comparison one started from this thread.
out["spawner"] = spawner.popen([sys.executable, "-c", plain, str(key)], stdout=subprocess.PIPE, text=True).communicate()[0]
out["direct"] = subprocess.run([sys.executable, "-c", plain, str(key)], capture_output=True, text=True).stdout
# The caller's own keyring afterwards: the canary still readable, nothing added.
buf = ctypes.create_string_buffer(4096)
out["after_read"] = call(KEYCTL, 11, ctypes.c_long(key), buf, 4096)[0]
out["after_payload"] = buf.raw[:len(canary)].decode()
out["after_count"] = call(KEYCTL, 11, ctypes.c_long(-3), buf, 4096)[0] // 4
print(json.dumps(out))
"""

INSIDE_KEYS = """
{syscalls}
key = int(sys.argv[1])
buf = ctypes.create_string_buffer(4096)
out = {{
    "session": call(KEYCTL, 0, ctypes.c_long(-3), 0),
    "search": call(KEYCTL, 10, ctypes.c_long(-3), b"user", b"codeloop-canary", 0),
    "read": call(KEYCTL, 11, ctypes.c_long(key), buf, 4096),
    "join": call(KEYCTL, 1, b"_ses"),
    "add": call(ADD_KEY, b"user", b"planted", b"x", 1, ctypes.c_long(-3)),
    "request": call(REQUEST_KEY, b"user", b"codeloop-canary", None, 0),
    "payload": buf.raw[:64].decode("latin-1"),
}}
for path in ("/proc/keys", "/proc/key-users"):
    try:
        out[path] = open(path).read()
    except OSError as e:
        out[path] = "blocked " + e.strerror
print(json.dumps(out))
"""

PLAIN_SEARCH = """
{syscalls}
buf = ctypes.create_string_buffer(4096)
found = call(KEYCTL, 10, ctypes.c_long(-3), b"user", b"codeloop-canary", 0)
read = call(KEYCTL, 11, ctypes.c_long(found[0]), buf, 4096) if found[0] > 0 else found
print(json.dumps({{"found": found, "payload": buf.raw[:64].decode("latin-1") if read[0] > 0 else ""}}))
"""


@needs_nr
def test_keyring_of_the_caller_is_unreachable_and_keyctl_refused(tmp_path):
    canary = "keyring-canary-" + uuid.uuid4().hex
    ws = tmp_path / "ws"
    ws.mkdir()
    caller = CALLER.format(syscalls=_syscalls())
    inside = INSIDE_KEYS.format(syscalls=_syscalls())
    plain = PLAIN_SEARCH.format(syscalls=_syscalls())
    proc = subprocess.run([sys.executable, "-c", caller, str(ws), canary, inside, plain],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["key"] < 0:
        pytest.skip(f"the kernel keyring is not available to this test process: {out['key']}")
    code, limit, stdout, stderr = out["run"]
    assert code == 0 and limit is None, stderr
    assert canary not in stdout and canary not in stderr
    seen = json.loads(stdout.strip().splitlines()[-1])
    for name in ("session", "search", "read", "join", "add", "request"):
        assert seen[name] == [-1, "EPERM"], (name, seen[name])
    for path in ("/proc/keys", "/proc/key-users"):
        assert "codeloop-canary" not in seen[path], seen[path]
    # Without the sandbox, from the caller's thread, the canary IS reachable (the test can
    # fail); from the spawner thread it is not (a fresh session keyring per spawn).
    assert canary in json.loads(out["direct"])["payload"]
    spawned = json.loads(out["spawner"])
    assert spawned["found"][0] < 0 and canary not in spawned["payload"], spawned
    # The caller's keyring is intact: the canary readable, no key planted.
    assert out["after_read"] > 0 and out["after_payload"] == canary
    assert out["after_count"] == 1


# -- io_uring and other ABIs -------------------------------------------------------------

INSIDE_URING = """
{syscalls}
params = ctypes.create_string_buffer(120)
print(json.dumps({{
    "setup": call(425, 4, params),
    "enter": call(426, -1, 0, 0, 0, None, 0),
    "register": call(427, -1, 0, None, 0),
    "getpid": call(39 if KEYCTL == 250 else 172),
}}))
"""


@needs_nr
def test_io_uring_refused(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    res = quiet_run(["python", "-c", INSIDE_URING.format(syscalls=_syscalls())], ws)
    assert res.exit_code == 0, res.stderr
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    # Without the filter enter/register on fd -1 fail with EBADF and setup succeeds.
    assert seen["setup"] == [-1, "EPERM"] and seen["enter"] == [-1, "EPERM"] and seen["register"] == [-1, "EPERM"]
    assert seen["getpid"][0] > 0  # an ordinary call still works


INT80 = """
import ctypes, json, mmap, os
def int80(nr, a=0, b=0, c=0):
    le = lambda v: int(v).to_bytes(4, "little", signed=True)
    code = b"\\x53\\xb8" + le(nr) + b"\\xbb" + le(a) + b"\\xb9" + le(b) + b"\\xba" + le(c) + b"\\xcd\\x80\\x5b\\xc3"
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    fn = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
    return fn()
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
x32 = libc.syscall(0x40000000 | 39)
print(json.dumps({"getpid32": int80(20), "keyctl32": int80(288, 0, -3, 0), "x32_getpid": [x32, ctypes.get_errno()]}))
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="i386 and x32 ABIs exist on x86_64 only")
def test_other_abis_cannot_bypass_the_filter(tmp_path):
    host = subprocess.run([sys.executable, "-c", INT80], capture_output=True, text=True, timeout=30)
    if host.returncode != 0 or json.loads(host.stdout)["getpid32"] <= 0:
        pytest.skip(f"no i386 emulation in this kernel: {host.stdout or host.stderr[-200:]}")
    ws = tmp_path / "ws"
    ws.mkdir()
    res = quiet_run(["python", "-c", INT80], ws)
    assert res.exit_code == 0, res.stderr
    seen = json.loads(res.stdout)
    assert seen["getpid32"] > 0  # the i386 ABI works for ordinary calls ...
    assert seen["keyctl32"] == -1  # ... but its keyctl is refused with EPERM
    assert seen["x32_getpid"] == [-1, 1]  # x32 calls are refused (EPERM)


# -- the scratch space ---------------------------------------------------------------------

FILL = """
import os, time
total = 0
try:
    for n in range(1000):
        with open("fill%d.bin" % n, "wb") as fh:      # 8 MiB files, each under the file-size limit
            for _ in range(8):
                fh.write(b"x" * (1 << 20))
                total += 1 << 20
        if total >= 1 << 30:
            print("ESCAPED: wrote 1 GiB into the scratch copy", flush=True)
            break
except OSError as e:
    print("stopped after", total >> 20, "MiB:", e.strerror, flush=True)
time.sleep(60)   # the host must stop the run at the cap, not the timeout
"""


@pytest.fixture
def host_tmp(tmp_path, monkeypatch):
    """A private TMPDIR: anything the sandbox put on the host disk would show up here."""
    d = tmp_path / "hosttmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_scratch_cap_stops_the_run(tmp_path, host_tmp):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "keep.txt").write_text("user file\n")
    before = tree(ws)
    res = quiet_run(["python", "fill.py"], ws, Policy(timeout=20, scratch_mib=64, max_file_mib=16,
                                                     allow_levels=("A", "B")), extra_files={"fill.py": FILL})
    assert "ESCAPED" not in res.stdout
    assert res.limit == "scratch", (res, res.stdout, res.stderr)
    assert res.exit_code is None and "64 MiB" in res.message and "\n" not in res.message
    assert tree(ws) == before
    assert os.listdir(host_tmp) == []


def test_scratch_cap_through_the_cli_exit_125(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "fill.py").write_text(FILL)
    before = tree(ws)
    r = subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "run", "--scratch", "48", "--timeout", "20",
                        "--allow-level", "B", "--", "python", "fill.py"],
                       cwd=ws, capture_output=True, text=True, timeout=120)
    assert r.returncode == 125, (r.stdout, r.stderr)
    last = r.stderr.strip().splitlines()[-1]
    assert "scratch limit" in last and "48 MiB" in last, r.stderr
    assert "stopped after" in r.stdout and "ESCAPED" not in r.stdout
    assert tree(ws) == before


def test_workspace_larger_than_the_cap_is_refused_before_running(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "big.bin").write_bytes(b"\0" * (3 << 20))
    res = quiet_run(["python", "-c", "print('ran')"], ws, Policy(timeout=20, scratch_mib=2, allow_levels=("A", "B")))
    assert res.limit == "scratch" and res.exit_code is None and res.stdout == ""
    assert "needs 3 MiB" in res.message and "2 MiB" in res.message


def test_scratch_cap_in_the_warm_pool_then_the_next_run_works(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    fill_test = "def test_fill():\n" + textwrap.indent(FILL, "    ")
    policy = Policy(timeout=30, scratch_mib=48, max_file_mib=16, allow_levels=("A", "B"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with WarmPool(ws, policy) as pool:
            full = run_pytest(ws, ["test_fill.py"], pool=pool, extra_files={"test_fill.py": fill_test})
            assert full.result.limit == "scratch", full.result
            ok = run_pytest(ws, ["test_ok.py"], pool=pool)
            assert ok.passed and [t.outcome for t in ok.tests] == ["passed"], ok.result
    assert not (ws / "test_fill.py").exists()


# -- status ------------------------------------------------------------------------------

def test_status_lists_the_seccomp_filter_scratch_and_keyring():
    r = subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "status"], capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    seccomp = [ln for ln in lines if ln.startswith("seccomp filter:")]
    assert seccomp and "keyctl" in seccomp[0] and "io_uring_setup" in seccomp[0], r.stdout
    assert any(ln.startswith("scratch space:") and "size-capped" in ln for ln in lines), r.stdout
    assert any(ln.startswith("keyring:") and "fresh" in ln for ln in lines), r.stdout
    js = json.loads(subprocess.run([sys.executable, "-m", "codeloop", "sandbox", "status", "--json"],
                                   capture_output=True, text=True, timeout=60).stdout)
    assert "keyctl" in js["seccomp"] and js["scratch"] and js["keyring"]
    assert probe().seccomp == js["seccomp"]


# -- the documented degradation (an old bubblewrap) ---------------------------------------

def test_missing_flags_lower_the_level_to_b_with_the_reason():
    from codeloop_sandbox._hardening import assess
    from codeloop_sandbox._types import SandboxStatus

    st = SandboxStatus(level="A")
    assess(st, frozenset({"--info-fd"}))
    assert st.level == "B" and "a size-capped scratch space" in st.missing
    assert any("--info-fd" in w and "without a size cap" in w for w in st.warnings)
    assert "NOT size-capped" in st.scratch and "keyctl" in st.seccomp
    st = SandboxStatus(level="A")
    assess(st, frozenset({"--seccomp"}))
    assert st.level == "B" and st.seccomp == "" and any("no seccomp filter" in w for w in st.warnings)
    st = SandboxStatus(level="A")
    assess(st, frozenset())
    assert st.level == "A" and not st.warnings and st.fix is None


def test_without_the_scratch_flags_runs_still_work_on_a_host_copy(tmp_path, monkeypatch):
    """The fallback path (bubblewrap older than 0.5): the copy on the host, bound writable."""
    from codeloop_sandbox import _hardening

    monkeypatch.setattr(_hardening, "scratch_boxed", lambda unsupported: False)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "data.txt").write_text("hello\n")
    res = quiet_run(["python", "-c", "print(open('data.txt').read().strip()); open('new.txt', 'w').write('x')"], ws)
    assert res.exit_code == 0 and res.stdout == "hello\n", res
    pres = run_pytest(ws, [], POLICY, extra_files={"test_a.py": "def test_a():\n    assert True\n"})
    assert pres.passed and [t.outcome for t in pres.tests] == ["passed"]
    assert sorted(os.listdir(ws)) == ["data.txt"]
