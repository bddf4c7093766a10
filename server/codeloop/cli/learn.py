"""`codeloop export` and `codeloop stats`: the reward log from the command line.

``codeloop export --format sft|preference [--out FILE] [--since DATE] [--db PATH]``
    JSON Lines for fine-tuning (see :mod:`codeloop.learn.export`), to FILE
    (atomically) or stdout; the record count goes to stderr.
``codeloop stats [--workspace DIR] [--by model|strategy] [--json] [--db PATH]``
    verified-pass rates per model (or strategy) and intent kind; with ``--by strategy
    --workspace DIR``, also the budget implement's next run there would use (learn.plan).

Bad input (unknown format, bad date, unwritable output, a file that is not a
reward log) is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone

from codeloop.cli import CliError
from codeloop.learn.export import FORMATS, records, write_jsonl, write_jsonl_atomic
from codeloop.learn.log import LearnError, RewardLog, default_log_path
from codeloop.learn.ranking import pass_rates


def register(subparsers: argparse._SubParsersAction) -> None:
    exp = subparsers.add_parser(
        "export",
        help="write the reward log as fine-tuning data (JSON Lines)",
        description="Write verified outcomes as SFT chat records or chosen/rejected preference pairs.",
    )
    exp.add_argument("--format", required=True, metavar="sft|preference", help="sft or preference")
    exp.add_argument("--out", metavar="FILE", help="output file (written atomically); default: stdout")
    exp.add_argument("--since", metavar="DATE", help="only outcomes from this ISO date or date-time on (UTC)")
    exp.add_argument("--db", metavar="PATH", help=f"reward log file (default: {default_log_path()})")
    exp.set_defaults(handler=run_export)

    st = subparsers.add_parser(
        "stats",
        help="print verified-pass rates per model and intent kind",
        description="Pass rates from the reward log: per request (prompt) and per candidate.",
    )
    st.add_argument("--workspace", metavar="DIR", help="only outcomes of this workspace")
    st.add_argument("--by", choices=("model", "strategy"), default="model", help="group by model (default) or strategy")
    st.add_argument("--since", metavar="DATE", help="only outcomes from this ISO date or date-time on (UTC)")
    st.add_argument("--json", action="store_true", help="print JSON instead of a table")
    st.add_argument("--db", metavar="PATH", help=f"reward log file (default: {default_log_path()})")
    st.set_defaults(handler=run_stats)


def parse_since(text: str | None) -> str | None:
    """An ISO date (``2026-11-01``) or date-time -> the log's UTC timestamp format."""
    if text is None:
        return None
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"bad --since {text!r}: expected an ISO date such as 2026-11-01 or 2026-11-01T12:00") from None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _open(db: str | None) -> RewardLog | None:
    """The log read-only, or None when it does not exist yet."""
    path = db or os.fspath(default_log_path())
    if not os.path.exists(path):
        return None
    if os.path.isdir(path):
        raise CliError(f"--db {path} is a directory, not a reward log file")
    try:
        return RewardLog(path, readonly=True)
    except LearnError as exc:
        raise CliError(str(exc)) from None


def run_export(args: argparse.Namespace) -> int:
    fmt = args.format.strip().lower()
    if fmt not in FORMATS:
        raise CliError(f"unknown --format {args.format!r}: use sft or preference")
    since = parse_since(args.since)
    if args.out and args.out != "-":
        parent = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(parent):
            raise CliError(f"cannot write {args.out}: directory {parent} does not exist")
        if os.path.isdir(args.out):
            raise CliError(f"cannot write {args.out}: it is a directory")
        if not os.access(parent, os.W_OK):
            raise CliError(f"cannot write {args.out}: permission denied")
    log = _open(args.db)
    try:
        rows = list(log.rows(since=since)) if log is not None else []
    finally:
        if log is not None:
            log.close()
    items = records(rows, fmt)
    try:
        if args.out and args.out != "-":
            n = write_jsonl_atomic(items, args.out)
        else:
            n = write_jsonl(items, sys.stdout)
            sys.stdout.flush()
    except OSError as exc:
        raise CliError(f"cannot write {args.out or 'stdout'}: {exc.strerror or exc}") from None
    where = args.out if args.out and args.out != "-" else "stdout"
    print(f"codeloop: exported {n} {fmt} record{'s' if n != 1 else ''} to {where}", file=sys.stderr)
    return 0


def run_stats(args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    log = _open(args.db)
    try:
        every = list(log.rows(since=since)) if log is not None else []
    finally:
        if log is not None:
            log.close()
    workspace = os.path.abspath(args.workspace) if args.workspace else None
    rows = [r for r in every if workspace is None or r.workspace == workspace]
    rates = pass_rates(rows, by_strategy=args.by == "strategy")
    if args.json:
        data = [
            {
                args.by: r.model,
                "intent_kind": r.intent_kind,
                "requests": r.requests,
                "requests_verified": r.requests_verified,
                "pass_rate": round(r.rate, 4),
                "candidates": r.candidates,
                "candidates_verified": r.candidates_verified,
                "accepted": r.accepted,
                "rejected_by_user": r.rejected_by_user,
            }
            for r in rates
        ]
        print(json.dumps(data, indent=2))
        return 0
    if not rates:
        print("no outcomes recorded yet")
        return 0
    header = (args.by, "intent", "requests", "verified", "pass rate", "candidates", "cand. verified", "accepted")
    table = [header] + [
        (r.model, r.intent_kind, str(r.requests), str(r.requests_verified), f"{100 * r.rate:.0f} %",
         str(r.candidates), str(r.candidates_verified), str(r.accepted))
        for r in rates
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip())
    if args.by == "strategy" and workspace is not None:
        _print_plans(every, workspace)
    return 0


def _print_plans(rows: list, workspace: str) -> None:
    """What implement's next run in ``workspace`` would spend, per intent kind (see learn.plan)."""
    from codeloop.config import settings_for_workspace
    from codeloop.learn.plan import choose_plan
    from codeloop.workspace.kinds import implementable

    settings, _warnings = settings_for_workspace(workspace)
    print()
    for kind in sorted({r.intent_kind for r in rows if implementable(r.intent_kind)}):
        print(f"next {kind} run: {choose_plan(rows, workspace, kind, settings).describe()}")
