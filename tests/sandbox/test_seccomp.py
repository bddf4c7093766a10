"""The seccomp program, run through a small classic-BPF interpreter: the decision for each
architecture, including those this machine cannot execute (tests/sandbox/test_hardening.py
checks the real filter in the kernel)."""

from __future__ import annotations

import struct

import pytest

from codeloop_sandbox import _seccomp
from codeloop_sandbox._seccomp import RET_ALLOW, RET_EPERM, RET_KILL_PROCESS


def decide(prog: bytes, arch: int, nr: int) -> int:
    """Evaluate ``prog`` for seccomp_data {nr, arch} (only the opcodes the builder emits)."""
    insns = [struct.unpack("=HBBI", prog[i : i + 8]) for i in range(0, len(prog), 8)]
    data = {0: nr, 4: arch}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == 0x20:
            acc = data[k]
        elif code in (0x15, 0x35):
            hit = acc == k if code == 0x15 else acc >= k
            pc += jt if hit else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


@pytest.mark.parametrize("machine, arch, compat", [
    ("x86_64", 0xC000003E, 0x40000003),
    ("aarch64", 0xC00000B7, 0x40000028),
])
def test_blocked_allowed_and_foreign(machine, arch, compat):
    prog = _seccomp.program(machine)
    assert prog is not None and len(prog) % 8 == 0
    native, comp = _seccomp._ARCHES[_seccomp.native_arch(machine)][1], _seccomp._ARCHES[_seccomp._COMPAT[_seccomp.native_arch(machine)]][1]
    for name in _seccomp.BLOCKED:
        assert decide(prog, arch, native[name]) == RET_EPERM, name
        assert decide(prog, compat, comp[name]) == RET_EPERM, name
    for nr in (0, 1, 39, 57, 59, 60, 200, 424, 428, 435):
        if nr not in native.values():
            assert decide(prog, arch, nr) == RET_ALLOW, nr
    assert decide(prog, 0xC0000000 | 0x1234, 39) == RET_KILL_PROCESS  # an ABI with no rules
    if machine == "x86_64":
        assert decide(prog, arch, 0x40000000 | 39) == RET_EPERM  # x32


def test_unknown_machine_has_no_program():
    assert _seccomp.program("sparc64") is None and _seccomp.describe("sparc64") == ""
