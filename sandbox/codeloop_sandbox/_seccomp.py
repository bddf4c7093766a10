"""The seccomp filter every sandboxed run gets: a classic-BPF program bwrap loads (``--seccomp FD``).

It refuses the kernel keyring calls (a run must not read or add keys in any keyring it
could reach) and io_uring (a large kernel attack surface container runtimes block by
default) with EPERM, and everything from an ABI we did not write rules for: the x32 ABI
on x86_64 (its own syscall numbers, bit 30) gets EPERM, a foreign architecture (e.g.
``int 0x80`` i386 calls) kills the process. No library: the program is a dozen
``struct sock_filter`` entries.
"""

from __future__ import annotations

import errno
import os
import struct

BLOCKED = ("keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register")

# AUDIT_ARCH_* values (linux/audit.h) and syscall numbers per architecture.
_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {"add_key": 248, "request_key": 249, "keyctl": 250,
                            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427}),
    "i386": (0x40000003, {"add_key": 286, "request_key": 287, "keyctl": 288,
                          "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427}),
    "aarch64": (0xC00000B7, {"add_key": 217, "request_key": 218, "keyctl": 219,
                             "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427}),
    "arm": (0x40000028, {"add_key": 309, "request_key": 310, "keyctl": 311,
                         "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427}),
}
# The 32-bit ABI a 64-bit kernel also accepts from the same process.
_COMPAT = {"x86_64": "i386", "aarch64": "arm"}
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
X32_BIT = 0x40000000

# BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_OFF_NR, _OFF_ARCH = 0, 4  # struct seccomp_data
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_EPERM = 0x00050000 | errno.EPERM


def native_arch(machine: str | None = None) -> str | None:
    """Our name for this machine's architecture, or None when we have no rules for it."""
    return _MACHINES.get((machine or os.uname().machine).lower())


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _block_list(arch: str, allow_label: str) -> list[tuple]:
    """Instructions (symbolic jumps) that return EPERM for the blocked calls of ``arch``."""
    out: list[tuple] = [("ld", _OFF_NR)]
    if arch == "x86_64":
        out.append(("jge", X32_BIT, "eperm", None))
    for name in BLOCKED:
        out.append(("jeq", _ARCHES[arch][1][name], "eperm", None))
    out.append(("jmp", allow_label))
    return out


def program(machine: str | None = None) -> bytes | None:
    """The compiled filter for this machine, or None when its architecture is unknown."""
    arch = native_arch(machine)
    if arch is None:
        return None
    compat = _COMPAT.get(arch)
    # Symbolic program: labels resolved to forward offsets below.
    sym: list[tuple] = [("ld", _OFF_ARCH), ("jeq", _ARCHES[arch][0], "native", None)]
    if compat:
        sym.append(("jeq", _ARCHES[compat][0], "compat", None))
    sym.append(("ret", RET_KILL_PROCESS))
    sym.append(("label", "native"))
    sym += _block_list(arch, "allow")
    if compat:
        sym.append(("label", "compat"))
        sym += _block_list(compat, "allow")
    sym += [("label", "allow"), ("ret", RET_ALLOW), ("label", "eperm"), ("ret", RET_EPERM)]
    # Resolve labels to instruction indexes.
    labels: dict[str, int] = {}
    n = 0
    for ins in sym:
        if ins[0] == "label":
            labels[ins[1]] = n
        else:
            n += 1
    code: list[bytes] = []
    pc = 0

    def off(label: str | None) -> int:
        if label is None:
            return 0
        delta = labels[label] - pc - 1
        if not 0 <= delta <= 255:
            raise ValueError("seccomp program jump out of range")
        return delta

    for ins in sym:
        op = ins[0]
        if op == "label":
            continue
        if op == "ld":
            code.append(_insn(_LD_W_ABS, ins[1]))
        elif op in ("jeq", "jge"):
            code.append(_insn(_JEQ_K if op == "jeq" else _JGE_K, ins[1], off(ins[2]), off(ins[3])))
        elif op == "jmp":  # unconditional: a JEQ that is true and false to the same place
            d = off(ins[1])
            code.append(_insn(_JEQ_K, 0, d, d))
        elif op == "ret":
            code.append(_insn(_RET_K, ins[1]))
        pc += 1
    return b"".join(code)


def program_fd(prog: bytes) -> int:
    """A readable fd holding ``prog`` (bwrap reads it to EOF); the caller passes and closes it."""
    r, w = os.pipe()
    try:
        os.write(w, prog)  # a few hundred bytes: fits the pipe buffer
    finally:
        os.close(w)
    return r


def describe(machine: str | None = None) -> str:
    arch = native_arch(machine)
    if arch is None:
        return ""
    abis = arch + (f" and {_COMPAT[arch]}" if arch in _COMPAT else "")
    extra = "; x32 calls refused" if arch == "x86_64" else ""
    return f"blocks {', '.join(BLOCKED)} ({abis}{extra}; other ABIs killed)"
