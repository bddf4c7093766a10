"""run(): behaviour over a scratch copy (needs a working bubblewrap)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from codeloop_sandbox import Policy, SandboxUnavailable, probe, run

pytestmark = pytest.mark.usefixtures("needs_bwrap")
P = Policy(timeout=20, allow_levels=("A", "B"))


def test_python_means_policy_python_and_original_paths(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("import os, sys\nprint(os.getcwd())\nprint(__file__)\nprint(sys.executable)\n")
    res = run(["python", "m.py"], tmp_path, P, cwd=tmp_path / "pkg")
    assert res.exit_code == 0, res.stderr
    cwd, file, exe, *_ = res.stdout.splitlines()
    assert cwd == str(tmp_path / "pkg")
    assert file.endswith(str(tmp_path / "pkg" / "m.py"))
    import sys

    assert exe == sys.executable
    assert res.level in ("A", "B") and res.limit is None and not res.truncated


def test_extra_files_only_in_copy_and_workspace_untouched(tmp_path):
    (tmp_path / "a.txt").write_text("orig")
    res = run(
        ["python", "driver.py"],
        tmp_path,
        P,
        extra_files={"driver.py": "open('a.txt','w').write('changed'); open('new.txt','w').write('x'); print(open('sub/d.txt').read())", "sub/d.txt": b"data"},
    )
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == "data"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "orig"


def test_extra_files_never_written_through_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "tests").symlink_to(outside)
    with pytest.raises(ValueError):
        run(["true"], ws, P, extra_files={"tests/test_gen.py": "x"})
    (ws / "t.py").symlink_to(outside / "target.py")
    res = run(["cat", "t.py"], ws, P, extra_files={"t.py": "replaced"})
    assert res.stdout == "replaced"
    assert not (outside / "target.py").exists()


def test_streaming_output(tmp_path):
    seen = []
    res = run(["python", "-c", "import sys,time\nfor i in range(3):\n print(i, flush=True); time.sleep(0.05)\nprint('e', file=sys.stderr)"],
              tmp_path, P, on_output=lambda s, t: seen.append((s, t)))
    assert res.exit_code == 0, res
    assert "".join(t for s, t in seen if s == "stdout") == "0\n1\n2\n", seen
    assert "".join(t for s, t in seen if s == "stderr") == "e\n", seen
    assert res.stdout == "0\n1\n2\n" and res.stderr == "e\n"


def test_exit_code_timeout_output_cancel(tmp_path):
    assert run(["sh", "-c", "exit 7"], tmp_path, P).exit_code == 7
    res = run(["sleep", "60"], tmp_path, Policy(timeout=1, allow_levels=("A", "B")))
    assert res.timed_out and res.limit == "timeout" and res.exit_code is None
    assert res.duration < 10
    res = run(["yes"], tmp_path, Policy(timeout=10, max_output_kib=64, allow_levels=("A", "B")))
    assert res.limit == "output" and res.truncated and len(res.stdout) == 64 * 1024
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    t0 = time.monotonic()
    res = run(["sleep", "60"], tmp_path, P, cancel=cancel)
    assert res.cancelled and res.limit == "cancelled"
    assert time.monotonic() - t0 < 5  # precise latency is measured in bench/sandbox


def test_level_refused_when_not_allowed(tmp_path):
    st = probe()
    with pytest.raises(SandboxUnavailable):
        run(["true"], tmp_path, Policy(allow_levels=tuple(l for l in "ABCD" if l != st.level and l != "C")))
