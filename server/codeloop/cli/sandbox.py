"""`codeloop sandbox run|status`: the codeloop_sandbox library from the command line.

``codeloop sandbox run [--workspace DIR] [--timeout S] [--memory MiB] [--max-output KiB]
[--scratch MiB] [--allow-env NAME]... [--allow-level L]... -- CMD [ARGS...]``
    runs CMD in the sandbox over a copy of DIR (default: the current directory), in the
    same relative working directory; stdout/stderr are streamed through. pytest's
    environment variables (PYTEST_DISABLE_PLUGIN_AUTOLOAD, PYTEST_ADDOPTS, PYTEST_PLUGINS)
    enter as the shell passes them to the same command; others only with --allow-env. Exit status:
    CMD's own, 124 when the timeout stopped it, 125 when another limit did (output cap,
    memory, CPU, file size, scratch space; one line names it), 126 when no sandbox is
    available at an allowed level (one line says why and how to fix it), 2 for bad input,
    130 when interrupted.
``codeloop sandbox status [--json]``
    the sandbox level, bubblewrap path and version, the seccomp filter, the scratch space
    and the keyring a run gets, what is missing with the command that fixes it, and the
    root / process-limit situation. Exit 0 at level A, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable

from codeloop.cli import CliError

EXIT_TIMEOUT = 124
EXIT_LIMIT = 125
EXIT_UNAVAILABLE = 126

def _positive(convert: Callable[[str], float], noun: str) -> Callable[[str], float]:
    """An argparse ``type``: the text converted by ``convert``, which must be > 0."""

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {noun}: {text}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0: {text}")
        return value

    return parse


_positive_float = _positive(float, "a number")
_positive_int = _positive(int, "an integer")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sandbox",
        help="run a command in the sandbox, or show the sandbox status",
        description="Run commands over a copy of a workspace under bubblewrap (no network, "
        "no access outside the copy, limits), or show which sandbox level this machine offers.",
    )
    sub = p.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")
    r = sub.add_parser(
        "run",
        help="run CMD in the sandbox over a copy of the workspace",
        description="Run CMD in the sandbox over a scratch copy of DIR, in the same relative "
        "working directory. Exit: CMD's status; 124 timeout; 125 other limit; 126 no sandbox.",
    )
    r.add_argument("--workspace", "-w", metavar="DIR", help="workspace to copy (default: current directory)")
    r.add_argument("--timeout", type=_positive_float, default=30.0, metavar="S", help="wall-clock seconds (default 30)")
    r.add_argument("--memory", type=_positive_int, default=2048, metavar="MiB", help="address space per process (default 2048)")
    r.add_argument("--max-output", type=_positive_int, default=1024, metavar="KiB", help="stdout+stderr cap (default 1024)")
    r.add_argument("--max-processes", type=_positive_int, default=128, metavar="N", help="process cap (default 128)")
    r.add_argument("--scratch", type=_positive_int, default=512, metavar="MiB",
                   help="cap on the workspace copy plus what CMD writes in it (default 512)")
    r.add_argument("--allow-env", action="append", default=[], metavar="NAME",
                   help="pass this environment variable in (never secret-looking names); repeatable. "
                   "pytest's own (PYTEST_DISABLE_PLUGIN_AUTOLOAD, PYTEST_ADDOPTS, PYTEST_PLUGINS) always enter")
    r.add_argument("--allow-level", action="append", default=[], metavar="LEVEL", choices=["A", "B", "C"],
                   help="also accept this sandbox level (B partial, C limits only: NO isolation); repeatable")
    r.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    r.set_defaults(handler=run_command, exit_now=True)  # no thread of ours outlives the run
    s = sub.add_parser("status", help="show the sandbox level and what is missing")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.set_defaults(handler=show_status)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_command(args: argparse.Namespace) -> int:
    import codeloop_sandbox as sb

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise CliError("missing command: codeloop sandbox run [OPTIONS] -- CMD [ARGS...]")
    workspace = os.path.abspath(args.workspace or os.getcwd())
    if not os.path.isdir(workspace):
        raise CliError(f"workspace is not a directory: {workspace}")
    here = os.path.abspath(os.getcwd())
    cwd = here if here == workspace or here.startswith(workspace.rstrip("/") + "/") else workspace
    levels = tuple(dict.fromkeys(["A", *args.allow_level]))
    try:
        policy = sb.Policy(
            timeout=args.timeout,
            memory_mib=args.memory,
            max_output_kib=args.max_output,
            max_processes=args.max_processes,
            scratch_mib=args.scratch,
            # pytest's variables enter as the user's shell passes them to the same command
            # (the other runs of the user's tests do the same: verify.sandbox_policy).
            allow_env=tuple(dict.fromkeys([*args.allow_env, *sb.PYTEST_ENV])),
            allow_levels=levels,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None

    def stream(name: str, text: str) -> None:
        out = sys.stdout if name == "stdout" else sys.stderr
        try:
            out.write(text)
            out.flush()
        except (BrokenPipeError, ValueError):
            pass

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: print(f"codeloop: warning: {message}", file=sys.stderr)
        try:
            res = sb.run(cmd, workspace, policy, cwd=cwd, on_output=stream)
        except sb.SandboxUnavailable as exc:
            print(f"codeloop: sandbox unavailable: {exc}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from None
    if res.limit == "timeout":
        print(f"codeloop: sandbox: timed out after {args.timeout:g} s", file=sys.stderr)
        return EXIT_TIMEOUT
    if res.limit is not None:
        why = f": {res.message}" if res.message else ""
        print(f"codeloop: sandbox: stopped by the {res.limit} limit{why}", file=sys.stderr)
        return EXIT_LIMIT
    return res.exit_code if res.exit_code is not None else EXIT_LIMIT


def show_status(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    import codeloop_sandbox as sb

    st = sb.probe(refresh=True)  # a diagnosis: probe now, not the cached answer (the cache is updated)
    if args.json:
        print(json.dumps(asdict(st), indent=2))
        return 0 if st.level == "A" else 1
    lines = [f"sandbox level: {st.describe()}"]
    if st.bwrap_path:
        lines.append(f"bubblewrap: {st.bwrap_path} (version {st.bwrap_version or 'unknown'})")
    else:
        lines.append("bubblewrap: not found")
    if st.is_root:
        how = {
            "pids-cgroup-v1": "a pids cgroup (v1) caps processes",
            "pids-cgroup-v2": "a pids cgroup (v2) caps processes",
        }.get(st.nproc_mechanism, "NOTHING caps processes (fork bombs are bounded only by the timeout)")
        lines.append(f"running as root: the kernel ignores RLIMIT_NPROC for root; {how}")
    else:
        lines.append(f"process limit: RLIMIT_NPROC inside the user namespace ({st.nproc_mechanism or 'none'})")
    lines.append(f"seccomp filter: {st.seccomp or 'NONE'}")
    if st.scratch:
        lines.append(f"scratch space: {st.scratch}")
    if st.keyring:
        lines.append(f"keyring: {st.keyring}")
    lines.append("missing: " + (", ".join(st.missing) if st.missing else "nothing"))
    if st.fix:
        lines.append(f"fix: {st.fix}")
    for w in st.warnings:
        lines.append(f"warning: {w}")
    if st.detail:
        lines.append(f"detail: {st.detail}")
    print("\n".join(lines))
    return 0 if st.level == "A" else 1
