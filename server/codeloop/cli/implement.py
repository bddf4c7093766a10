"""`codeloop implement FILE:LINE`: the implement pipeline from the command line.

Finds the stub (a function whose body is ``...``/``pass``/``raise
NotImplementedError``) or the describing comment at FILE:LINE, runs
:func:`codeloop.services.implement.implement`, and writes the verified function into
FILE atomically (only if FILE did not change meanwhile). The line on stderr starts with
the evidence level: ``verified:``, ``AMBIGUOUS:`` (followed by the inputs the behaviours
disagree on, each behaviour's output and support), ``plausible:`` or ``UNVERIFIED:``.

``--pick N`` takes behaviour N of an ambiguous outcome: it is written, and its outputs on
the disagreeing inputs are added as a test to the function's test file (the user's
choice becomes a regression test). ``--accept-unverified`` writes a plausible or
unverified best candidate.

Exit codes: 0 a verified implementation (or a picked behaviour) was written (or would
be, with ``--dry-run``); 3 ambiguous, plausible or unverified (FILE unchanged unless
``--pick``/``--accept-unverified``); 1 a model error (or no model configured), or FILE
changed during the run; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from codeloop.cli import CliError
from codeloop.cli.progress import CliProgress
from codeloop.fileio import atomic_write
from codeloop.job import Job

EXIT_VERIFIED, EXIT_MODEL, EXIT_BAD_INPUT, EXIT_UNVERIFIED = 0, 1, 2, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "implement",
        help="implement the stub or comment at FILE:LINE with verified code",
        description="Ask the model for candidates, verify them in the sandbox against the examples, "
        "existing tests and generated tests, and write the best verified one into FILE.",
    )
    p.add_argument("location", metavar="FILE:LINE", help="the stub or comment to implement (1-based line)")
    p.add_argument("--n", type=int, metavar="N", help="candidates to ask for (default: setting model.candidates)")
    p.add_argument("--model", metavar="M", action="append",
                   help="model to use; repeat to escalate: cheapest first (default: setting model.name)")
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint (default: setting or $OPENAI_BASE_URL)")
    p.add_argument("--repair-rounds", type=int, metavar="R", help="repair rounds (default: setting generate.repair_rounds)")
    p.add_argument("--dry-run", action="store_true", help="print the diff instead of writing FILE")
    p.add_argument("--accept-unverified", action="store_true",
                   help="write the best candidate even if it is only plausible or unverified")
    p.add_argument("--pick", type=int, metavar="N",
                   help="take behaviour N of an ambiguous result: write it and add its outputs as a test")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-learn", action="store_true", help="do not record the outcome in the reward log")
    p.set_defaults(handler=run_implement)


def parse_location(text: str) -> tuple[str, int]:
    m = re.fullmatch(r"(.+):(\d+)", text.strip())
    if not m:
        raise CliError(f"expected FILE:LINE, got {text!r}")
    path, line = m.group(1), int(m.group(2))
    if line < 1:
        raise CliError(f"line numbers start at 1, got {line}")
    if not os.path.exists(path):
        raise CliError(f"no such file: {path}")
    if os.path.isdir(path):
        raise CliError(f"{path} is a directory, not a Python file")
    return path, line


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_atomic(path: str, text: str, expected_before: str) -> None:
    """Replace ``path`` with ``text`` unless it no longer holds ``expected_before``."""
    if _read(path) != expected_before:
        raise CliError(f"{path} changed while the implementation was generated; nothing written", code=EXIT_MODEL)
    atomic_write(path, text)


def run_implement(args: argparse.Namespace) -> int:
    from codeloop.services.implement import (
        ImplementError,
        ImplementRequest,
        NoIntentError,
        implement,
    )

    path, line, text, settings, root = _request_parts(args)
    request = ImplementRequest(path=path, document_text=text, workspace=root, settings=settings, line=line - 1,
                               models=args.model, learn=not args.no_learn)
    progress = CliProgress("implement", quiet=args.json)
    job = Job(progress)
    started = time.monotonic()
    try:
        with progress:
            result = implement(request, job)
    except NoIntentError:
        raise CliError(f"{args.location}: no stub or describing comment to implement here") from None
    except ImplementError as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        job.stop()
        raise
    elapsed = time.monotonic() - started
    if result.error_kind == "not_configured":
        print(f"codeloop: error: {result.error}", file=sys.stderr)
        return EXIT_MODEL
    if result.log_warning:
        print(f"codeloop: warning: {result.log_warning}; not recording outcomes", file=sys.stderr)

    try:
        written, test_note = _write(result, path, text, args)
    finally:
        result.close()
    if args.json:
        data = _json_result(result, written, path, elapsed)
        data["test_added"] = test_note
        print(json.dumps(data, indent=2))
    else:
        if args.dry_run and result.new_text is not None:
            rel = os.path.relpath(path)
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), result.new_text.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"))
        _summary(result, written, path, args)
        if test_note:
            sys.stderr.write(test_note + "\n")
    return _exit_code(result, args, written)


def _picked(result: Any, args: argparse.Namespace) -> Any:
    """The candidate of ``--pick N`` (a CliError when the outcome is not ambiguous or N is not a behaviour)."""
    if result.level != "ambiguous":
        raise CliError(f"--pick: the result is {result.level}, not ambiguous: there is nothing to pick", code=EXIT_UNVERIFIED)
    try:
        return result.pick(args.pick)
    except ValueError as exc:
        raise CliError(f"--pick: {exc}", code=EXIT_UNVERIFIED) from None


def _write(result: Any, path: str, text: str, args: argparse.Namespace) -> tuple[bool, str | None]:
    """Write the result into FILE when it verified (a picked behaviour of an ambiguous one,
    or with ``--accept-unverified`` a plausible/unverified one), not for ``--dry-run``;
    record in the reward log whether it went in. (written, a line about the added test)."""
    from codeloop.services.implement import record_acceptance

    new_text, note = result.new_text, None
    if args.pick is not None and result.best is not None:
        chosen = _picked(result, args)
        result.best, result.new_text = chosen, chosen.new_text
        new_text = chosen.new_text
    if args.dry_run:
        return False, None
    written = False
    wanted = result.verified or (args.pick is not None and result.level == "ambiguous") or (
        args.accept_unverified and result.level in ("plausible", "unverified"))
    if new_text is not None and wanted:
        try:
            write_atomic(path, new_text, text)
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}", code=EXIT_MODEL) from None
        written = True
        if args.pick is not None:
            note = _add_pick_test(result, args.pick)
    problem = record_acceptance(result, written)  # the reward signal: the user took it (or not)
    if problem:
        print(f"codeloop: warning: {problem}", file=sys.stderr)
    return written, note


def _add_pick_test(result: Any, number: int) -> str:
    """Add the picked behaviour's input/output pairs as a test; what was done, in one line."""
    from codeloop.generate.merge import MergeError, write_merged
    from codeloop.services.implement import pick_test

    try:
        picked = pick_test(result, number)
        if picked is None:
            return "no test added: the chosen outputs cannot be written as assertions"
        write_merged(Path(picked.path), picked.text, picked.before)
    except (MergeError, OSError) as exc:
        return f"no test added: {exc}"
    return f"added {picked.name} to {picked.path} ({'; '.join(f'{c} == {o}' for c, o in picked.cases)})"


def _request_parts(args: argparse.Namespace) -> tuple[str, int, str, Any, str]:
    """(absolute FILE, 1-based LINE, its text, the settings with the options applied,
    workspace root), checked."""
    from codeloop.config import settings_for_workspace
    from codeloop.workspace.testindex import find_workspace_root

    path, line = parse_location(args.location)
    if args.pick is not None and args.pick < 1:
        raise CliError("--pick must be 1 or more (the behaviour's number)")
    if args.n is not None and args.n < 1:
        raise CliError("--n must be at least 1")
    if args.repair_rounds is not None and args.repair_rounds < 0:
        raise CliError("--repair-rounds must be 0 or more")
    if args.base_url is not None and not re.match(r"^https?://[^\s/]+", args.base_url):
        raise CliError(f"--base-url {args.base_url!r} is not an http(s) URL")
    path = os.path.abspath(path)
    text = _read(path)
    lines = text.split("\n")
    if line > len(lines):
        raise CliError(f"{args.location}: the file has only {len(lines)} lines")
    root = find_workspace_root(path)
    settings, warnings = settings_for_workspace(root)
    for w in warnings:
        print(f"codeloop: warning: {w}", file=sys.stderr)
    model = settings.model
    if args.model:
        model = dataclasses.replace(model, name=args.model[0], completion_model=args.model[0], chat_model=args.model[0])
    if args.base_url:
        model = dataclasses.replace(model, base_url=args.base_url)
    if args.n is not None:
        model = dataclasses.replace(model, candidates=args.n)
    generate = settings.generate
    if args.repair_rounds is not None:
        generate = dataclasses.replace(generate, repair_rounds=args.repair_rounds)
    return path, line, text, dataclasses.replace(settings, model=model, generate=generate), root


def _exit_code(result: Any, args: argparse.Namespace, written: bool) -> int:
    if result.error_kind == "cancelled":
        return 130
    if result.error and result.best is None:
        return EXIT_MODEL
    if args.pick is not None and result.level == "ambiguous" and (written or args.dry_run):
        return EXIT_VERIFIED  # the user settled it
    return EXIT_VERIFIED if result.verified else EXIT_UNVERIFIED


def _summary(result, written: bool, path: str, args: argparse.Namespace) -> None:
    out = sys.stderr
    if result.error and result.best is None:
        out.write(f"codeloop: error: {result.error}\n")
        return
    if result.best is None:
        out.write(f"codeloop: no usable candidate for {result.name}\n")
        for f in result.failed[:5]:
            out.write(f"  - {f.splitlines()[0]}\n")
        return
    if result.error:
        out.write(f"codeloop: warning: {result.error}\n")
    level = {"verified": "verified", "ambiguous": "AMBIGUOUS", "plausible": "plausible"}.get(result.level, "UNVERIFIED")
    out.write(f"{level}: {result.title}\n")
    if result.level == "ambiguous":
        for line in result.disagreement_lines():
            out.write(f"  {line}\n")
        for b in result.behaviours:
            out.write(f"  --pick {b.number}: {result.behaviour_title(b.number)}\n")
    elif not result.verified:
        for f in result.failed[:8]:
            out.write(f"  - {f.splitlines()[0]}\n")
    if written:
        out.write(f"wrote {result.name} to {path}" + (f" (behaviour {args.pick})" if args.pick else "") + "\n")
    elif result.level == "ambiguous" and not args.dry_run:
        out.write(f"{path} unchanged (--pick N writes behaviour N and adds its outputs as a test)\n")
    elif not result.verified and not args.accept_unverified and not args.dry_run:
        out.write(f"{path} unchanged (--accept-unverified writes the best candidate anyway)\n")


def _json_result(result, written: bool, path: str, elapsed: float) -> dict:
    return {
        "file": path,
        "name": result.name,
        "verified": result.verified,
        "level": result.level,
        "title": result.title,
        "disagreements": [d.line() for d in result.disagreements],
        "behaviours": [
            {"number": b.number, "candidates": list(b.ids), "representative": b.representative,
             "support": b.support, "model_tests_passed": b.model_tests_passed, "outputs": dict(b.outputs),
             "title": result.behaviour_title(b.number)}
            for b in result.behaviours
        ],
        "evidence": result.evidence,
        "failed": result.failed,
        "written": written,
        "error": result.error,
        "error_kind": result.error_kind,
        "models": result.models_tried,
        "seconds": round(elapsed, 2),
        "notes": result.notes,
        "candidates": [
            {
                "id": c.id,
                "origin": c.origin,
                "model": c.model,
                "verified": c.verified,
                "rejected": c.rejected,
                "evidence": c.evidence(),
                "failures": [f.splitlines()[0] for f in c.failures[:5]],
            }
            for c in result.candidates
        ],
        "function": result.best.function if result.best else None,
    }
