"""WarmPool: same results as cold runs, fresh copy per run, recycling, kill on limits."""

from __future__ import annotations

import os
import threading
import time

import pytest

from codeloop_sandbox import Policy, WarmPool, run_pytest

pytestmark = pytest.mark.usefixtures("needs_bwrap")
P = Policy(timeout=60, allow_levels=("A", "B"), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

TESTS = '''import os, pytest
from pkg.calc import div

def test_ok(tmp_path):
    (tmp_path / "f").write_text("x")
    assert div(4, 2) == 2

def test_fail():
    assert div(1, 1) == 2, "one over one"

def test_err():
    div(1, 0)
'''


@pytest.fixture
def project(tmp_path, write_tree):
    return write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/calc.py": "def div(a, b):\n    if b == 0:\n        raise ZeroDivisionError('b is zero')\n    return a / b\n",
        "tests/test_calc.py": TESTS,
    })


def summary(res):
    return sorted((t.nodeid, t.outcome, t.message, tuple((f.path, f.line) for f in t.frames)) for t in res.tests)


def test_warm_matches_cold_and_coverage(project):
    cold = run_pytest(project, policy=P, coverage=True)
    with WarmPool(project, P) as pool:
        warm1 = run_pytest(project, policy=P, coverage=True, pool=pool)
        warm2 = run_pytest(project, policy=P, pool=pool)
        assert pool.last_error is None and pool.restarts == 0 and pool.runs == 2
    assert summary(warm1) == summary(cold) == summary(warm2)
    assert warm1.result.exit_code == cold.result.exit_code == 1
    calc = str(project / "pkg" / "calc.py")
    assert warm1.coverage["files"][calc]["executed_lines"] == cold.coverage["files"][calc]["executed_lines"]
    assert warm2.coverage is None


def test_fresh_copy_per_run_and_no_leftovers(project):
    leak = (
        "import os, time\n"
        "def test_leave_things():\n"
        "    open('left_behind.txt', 'w').write('x')\n"
        "    open('/tmp/planted.txt', 'w').write('x')\n"
        "    open(os.path.expanduser('~/.planted'), 'w').write('x')\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
    )
    check = (
        "import os\n"
        "def test_clean():\n"
        "    assert not os.path.exists('left_behind.txt')\n"
        "    assert not os.path.exists('tests/test_leak.py')\n"
        "    assert not os.path.exists('/tmp/planted.txt')\n"
        "    assert not os.path.exists(os.path.expanduser('~/.planted'))\n"
        "    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "    assert len(pids) <= 3, pids  # bwrap init, the worker, this run\n"
    )
    with WarmPool(project, P) as pool:
        r1 = run_pytest(project, ["tests/test_leak.py"], P, extra_files={"tests/test_leak.py": leak}, pool=pool)
        assert [t.outcome for t in r1.tests] == ["passed"], r1.result.stdout
        r2 = run_pytest(project, ["tests/test_check.py"], P, extra_files={"tests/test_check.py": check}, pool=pool)
        assert [t.outcome for t in r2.tests] == ["passed"], r2.result.stdout
    assert not (project / "left_behind.txt").exists()
    assert sorted(os.listdir(project)) == ["pkg", "tests"]


def test_recycle_after_max_runs_and_dependency_change(project):
    with WarmPool(project, P, max_runs=2) as pool:
        for _ in range(3):
            assert run_pytest(project, ["tests/test_calc.py::test_ok"], P, pool=pool).result.exit_code == 0
        assert pool.restarts == 1 and pool.runs == 1
        (project / "pyproject.toml").write_text("[project]\nname='x'\n")
        assert run_pytest(project, ["tests/test_calc.py::test_ok"], P, pool=pool).result.exit_code == 0
        assert pool.restarts == 2


def test_timeout_and_cancel_kill_and_recycle(project):
    slow = "import time\ndef test_slow():\n    time.sleep(60)\n"
    with WarmPool(project, Policy(timeout=3, allow_levels=("A", "B"), env=P.env)) as pool:
        assert run_pytest(project, ["tests/test_calc.py::test_ok"], pool=pool).result.exit_code == 0
        res = run_pytest(project, ["tests/test_slow.py"], extra_files={"tests/test_slow.py": slow}, pool=pool)
        assert res.result.timed_out and not pool.alive
        cancel = threading.Event()
        threading.Timer(0.5, cancel.set).start()
        t0 = time.monotonic()
        res = run_pytest(project, ["tests/test_slow.py"], extra_files={"tests/test_slow.py": slow}, pool=pool, cancel=cancel)
        assert res.result.cancelled and time.monotonic() - t0 < 10
        res = run_pytest(project, ["tests/test_calc.py::test_ok"], pool=pool)
        # 2 restarts when the cancel hit the running test; 1 when it arrived while the
        # recycled worker was still starting (then nothing needs killing).
        assert res.result.exit_code == 0 and pool.restarts in (1, 2)


def test_run_cannot_poison_the_worker(project):
    attack = (
        "import ctypes, os, signal\n"
        "def test_attack():\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    worker = os.getppid()\n"
        "    assert libc.ptrace(16, worker, 0, 0) != 0  # PTRACE_ATTACH to the worker fails\n"
        "    os.kill(-1, signal.SIGKILL)  # kills the worker and this run\n"
    )
    with WarmPool(project, P) as pool:
        res = run_pytest(project, ["tests/test_attack.py"], extra_files={"tests/test_attack.py": attack}, pool=pool)
        assert res.result.limit == "crashed" and not pool.alive
        ok = run_pytest(project, ["tests/test_calc.py::test_ok"], pool=pool)
        assert ok.result.exit_code == 0 and pool.restarts == 1


def test_worker_survives_the_thread_that_started_it(project):
    """--die-with-parent is per *thread* (PDEATHSIG): workers must not die with a request thread."""
    box = {}

    def create():
        pool = WarmPool(project, P)
        box["pool"] = pool
        box["first"] = run_pytest(project, ["tests/test_calc.py::test_ok"], pool=pool)

    t = threading.Thread(target=create)
    t.start()
    t.join()
    pool = box["pool"]
    try:
        assert box["first"].result.exit_code == 0
        time.sleep(0.3)
        assert pool.alive
        again = run_pytest(project, ["tests/test_calc.py::test_ok"], pool=pool)
        assert again.result.exit_code == 0 and pool.restarts == 0
    finally:
        pool.close()
