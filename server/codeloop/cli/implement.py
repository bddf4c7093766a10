"""`codeloop implement FILE:LINE`: the implement pipeline from the command line.

Finds the stub (a function whose body is ``...``/``pass``/``raise
NotImplementedError``) or the describing comment at FILE:LINE, runs
:func:`codeloop.generate.implement.implement`, and writes the verified function into
FILE atomically (only if FILE did not change meanwhile).

Exit codes: 0 a verified implementation was written (or would be, with
``--dry-run``); 3 only unverified candidates exist (FILE unchanged unless
``--accept-unverified``); 1 a model error (or no model configured), or FILE changed
during the run; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

from codeloop.cli import CliError
from codeloop.fileio import atomic_write

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
    p.add_argument("--accept-unverified", action="store_true", help="write the best candidate even if it did not verify")
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


def _progress(message: str, fraction: float) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K{message}")
        if fraction >= 1.0:
            sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def run_implement(args: argparse.Namespace) -> int:
    from codeloop.config import settings_for_workspace
    from codeloop.generate.implement import ImplementError, implement
    from codeloop.learn.log import DisabledLog, LearnError, open_log
    from codeloop.model.errors import NOT_CONFIGURED
    from codeloop.model.openai_client import OpenAIClient as LLMClient
    from codeloop.verify.sandbox_policy import sandbox_policy
    from codeloop.workspace.document import Document
    from codeloop.workspace.intents import find_intents
    from codeloop.workspace.testindex import find_workspace_root

    path, line = parse_location(args.location)
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
    settings = dataclasses.replace(settings, model=model, generate=generate)

    doc = Document(Path(path).as_uri(), text)
    found = [i for i in find_intents(doc, lines=(line - 1, line - 1))
             if i.kind in ("implement", "from_comment") and i.span.contains_line(line - 1)]
    if not found:
        raise CliError(f"{args.location}: no stub or describing comment to implement here")
    intent = min(found, key=lambda i: i.span.end_line - i.span.start_line)
    if not model.configured:
        print(f"codeloop: error: {NOT_CONFIGURED}", file=sys.stderr)
        return EXIT_MODEL

    policy = sandbox_policy(settings.sandbox)
    llm = LLMClient(model)
    try:
        log = DisabledLog() if args.no_learn else open_log(settings, secrets=[k for k in [model.resolve_api_key()] if k])
    except LearnError as exc:
        print(f"codeloop: warning: {exc}; not recording outcomes", file=sys.stderr)
        log = DisabledLog()
    cancel = threading.Event()
    started = time.monotonic()
    try:
        result = implement(intent, text, root, llm, policy, settings, progress=_progress, cancel=cancel,
                           path=path, log=log, models=args.model)
    except ImplementError as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        cancel.set()
        raise
    except BaseException:
        log.close()
        raise
    finally:
        llm.close()
    elapsed = time.monotonic() - started

    written = False
    write = result.new_text is not None and (result.verified or args.accept_unverified)
    try:
        if write and not args.dry_run:
            try:
                write_atomic(path, result.new_text, text)
            except OSError as exc:
                raise CliError(f"cannot write {path}: {exc.strerror or exc}", code=EXIT_MODEL) from None
            written = True
        if result.best is not None and result.best.log_id and not args.dry_run:
            log.mark_accepted(result.best.log_id, written)  # the reward signal: the user took it (or not)
    finally:
        log.close()

    if result.error_kind == "cancelled":
        code = 130
    elif result.error and result.best is None:
        code = EXIT_MODEL
    elif result.verified:
        code = EXIT_VERIFIED
    else:
        code = EXIT_UNVERIFIED

    if args.json:
        print(json.dumps(_json_result(result, written, path, elapsed), indent=2))
    else:
        if args.dry_run and result.new_text is not None:
            rel = os.path.relpath(path)
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), result.new_text.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"))
        _summary(result, written, path, args)
    return code


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
    out.write(f"{'verified' if result.verified else 'UNVERIFIED'}: {result.title}\n")
    if not result.verified:
        for f in result.failed[:8]:
            out.write(f"  - {f.splitlines()[0]}\n")
    if written:
        out.write(f"wrote {result.name} to {path}\n")
    elif not result.verified and not args.accept_unverified and not args.dry_run:
        out.write(f"{path} unchanged (--accept-unverified writes the best candidate anyway)\n")


def _json_result(result, written: bool, path: str, elapsed: float) -> dict:
    return {
        "file": path,
        "name": result.name,
        "verified": result.verified,
        "title": result.title,
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
