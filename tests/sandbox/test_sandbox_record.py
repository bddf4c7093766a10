"""codeloop_sandbox's public types behave as the dataclasses they replaced (``_record``)."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys

import pytest

from codeloop_sandbox import Policy, Result, SandboxStatus
from codeloop_sandbox._workspace import CopyPlan


def test_policy_defaults_validation_and_hash() -> None:
    p = Policy(timeout=5, allow_env=["A"], env={"X": "1"})
    assert p.allow_env == ("A",) and p.env == {"X": "1"} and p.memory_mib == 2048
    assert p == Policy(timeout=5, allow_env=("A",), env={"X": "1"})
    assert hash(p) == hash(Policy(timeout=5, allow_env=("A",), env={"X": "2"}))  # env is not hashed
    assert p != Policy(timeout=6, allow_env=("A",), env={"X": "1"})
    with pytest.raises(ValueError, match="timeout"):
        Policy(timeout=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.timeout = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected"):
        Policy(timout=3)  # type: ignore[call-arg]


def test_dataclasses_functions_work() -> None:
    p = Policy(timeout=5, allow_env=("A",))
    q = dataclasses.replace(p, env={"Y": "2"})
    assert isinstance(q, Policy) and q.timeout == 5 and q.env == {"Y": "2"} and q.allow_env == ("A",)
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(Result)][:3] == ["exit_code", "stdout", "stderr"]
    st = SandboxStatus(level="B", missing=["x"])
    assert dataclasses.asdict(st)["missing"] == ["x"] and dataclasses.asdict(st)["level"] == "B"


def test_mutable_records_have_fresh_defaults_and_no_hash() -> None:
    a, b = SandboxStatus(level="A"), SandboxStatus(level="A")
    a.warnings.append("w")
    assert b.warnings == [] and a != b
    with pytest.raises(TypeError):
        hash(a)
    r = Result(0, "out", "")
    r.limit = "output"
    assert r.limit == "output" and not r.ok and "stdout='out'" in repr(r)
    assert pickle.loads(pickle.dumps(r)) == r
    assert CopyPlan(mode=0o700).files == [] and CopyPlan(0o700) == CopyPlan(mode=0o700)


def test_sandbox_run_path_does_not_import_dataclasses() -> None:
    code = "import sys, codeloop_sandbox; print('dataclasses' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
