"""The reward log: an append-only SQLite record of every verification outcome.

One file in the user data directory (``platformdirs.user_data_dir("codeloop")``),
shared by every workspace; the path can be given explicitly (tests, ``--db``). Each
row is one candidate that was checked: when, in which workspace, for which kind of
intent, the prompt (as chat messages, secrets scrubbed) and its hash, the model, the
candidate code, the checks run and their results (JSON), coverage, audit findings,
whether it verified, and later whether the user accepted it.

Append-only is enforced by the database itself: triggers refuse deletes and any
update other than setting ``accepted``.

The key is never stored: every text goes through :func:`codeloop.secrets.scrub`
with the known secrets (the API key in use) before it is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from codeloop.secrets import scrub, scrub_data

LOG_FILE = "rewards.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    workspace TEXT NOT NULL,
    intent_kind TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    prompt TEXT NOT NULL,
    model TEXT NOT NULL,
    strategy TEXT NOT NULL,
    candidate TEXT NOT NULL,
    checks TEXT NOT NULL,
    coverage REAL,
    audit TEXT NOT NULL,
    verified INTEGER NOT NULL,
    accepted INTEGER
);
CREATE INDEX IF NOT EXISTS outcomes_by_scope ON outcomes (workspace, intent_kind, model);
CREATE INDEX IF NOT EXISTS outcomes_by_prompt ON outcomes (prompt_hash);
CREATE INDEX IF NOT EXISTS outcomes_by_time ON outcomes (time);
CREATE TRIGGER IF NOT EXISTS outcomes_no_delete BEFORE DELETE ON outcomes
BEGIN
    SELECT RAISE(ABORT, 'the reward log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS outcomes_only_accepted BEFORE UPDATE ON outcomes
WHEN NEW.id IS NOT OLD.id OR NEW.time IS NOT OLD.time OR NEW.workspace IS NOT OLD.workspace
  OR NEW.intent_kind IS NOT OLD.intent_kind OR NEW.prompt_hash IS NOT OLD.prompt_hash
  OR NEW.prompt IS NOT OLD.prompt OR NEW.model IS NOT OLD.model OR NEW.strategy IS NOT OLD.strategy
  OR NEW.candidate IS NOT OLD.candidate OR NEW.checks IS NOT OLD.checks
  OR NEW.coverage IS NOT OLD.coverage OR NEW.audit IS NOT OLD.audit OR NEW.verified IS NOT OLD.verified
BEGIN
    SELECT RAISE(ABORT, 'the reward log is append-only: only "accepted" may change');
END;
"""


BUSY_TIMEOUT = 2.0  # seconds to wait for another process's lock (codeloop's own writes take milliseconds)


class LearnError(Exception):
    """The reward log cannot be opened or read (the message says which file and why)."""


def _locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def problem(exc: sqlite3.Error) -> str:
    """What went wrong with the file and what to do, in words."""
    text = str(exc)
    if _locked(exc):
        return "locked by another process (it is recorded again once that process lets go)"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"the file is damaged ({text}); move it away and a new log is started"
    if "disk is full" in text or "disk I/O" in text:
        return f"{text}; free some space"
    return text


def default_log_path() -> Path:
    """``<user data dir>/codeloop/rewards.sqlite3``."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("codeloop", appauthor=False)) / LOG_FILE


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def prompt_hash(messages: Sequence[Mapping[str, str]]) -> str:
    """A stable hash of chat messages (role and content only)."""
    canonical = json.dumps([{"role": m.get("role", ""), "content": m.get("content", "")} for m in messages],
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Outcome:
    """One checked candidate, as handed to :meth:`RewardLog.record`.

    ``prompt`` is the chat messages that produced the candidate; ``checks`` is
    JSON-able data describing what ran and how it ended (for example
    ``{"examples": {"passed": 3, "total": 3}, "tests": [...]}``); ``audit`` is the
    list of findings (:meth:`codeloop.audit.AuditReport.to_list`). ``strategy`` says
    how the candidate was obtained (``sample``, ``repair-1``...).
    """

    workspace: str
    intent_kind: str
    prompt: Sequence[Mapping[str, str]]
    model: str
    candidate: str
    verified: bool
    checks: Any = field(default_factory=dict)
    coverage: float | None = None
    audit: Sequence[Mapping[str, Any]] = ()
    strategy: str = "sample"
    time: str | None = None


@dataclass(frozen=True)
class Row:
    """One stored outcome (texts already scrubbed; JSON fields decoded)."""

    id: int
    time: str
    workspace: str
    intent_kind: str
    prompt_hash: str
    prompt: list[dict[str, str]]
    model: str
    strategy: str
    candidate: str
    checks: Any
    coverage: float | None
    audit: list[dict[str, Any]]
    verified: bool
    accepted: bool | None


@dataclass(frozen=True)
class Brief:
    """The columns that rates and model choice need (no prompt or code: cheap to read)."""

    workspace: str
    intent_kind: str
    prompt_hash: str
    model: str
    strategy: str
    verified: bool
    accepted: bool | None


class RewardLog:
    """The append-only outcome log (thread-safe; one connection guarded by a lock).

    ``secrets`` are values (the API key) that must never be written; they are
    redacted from every text along with anything that looks like a credential.
    ``readonly`` opens an existing file without creating or changing it.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, secrets: Iterable[str] = (), readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_log_path()
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        self.readonly = readonly
        self._stale = False  # a write failed on a damaged file: reconnect before the next one
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = None
        try:
            if self.readonly:
                if not self.path.is_file():
                    raise LearnError(f"no reward log at {self.path} (nothing has been recorded yet)")
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                     timeout=BUSY_TIMEOUT)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT)
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                db.commit()
            db.execute("SELECT count(*) FROM outcomes").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            raise LearnError(f"cannot open the reward log {self.path}: {problem(exc)}") from None
        except OSError as exc:
            raise LearnError(f"cannot create the reward log {self.path}: {exc.strerror or exc}") from None

    def _reconnect_if_stale(self) -> None:
        if self._stale:
            self._db.close()
            self._db = self._connect()
            self._stale = False

    def _write(self, sql: str, args: Sequence[Any]) -> int:
        """One statement and its commit; a clear :class:`LearnError` when the file is locked
        by another process or damaged (then the next write reconnects: the file may have
        been moved away or restored in the meantime)."""
        with self._lock:
            try:
                self._reconnect_if_stale()
                cur = self._db.execute(sql, args)
                self._db.commit()
                return int(cur.lastrowid or 0)
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.rollback()
                self._stale = not _locked(exc)
                raise LearnError(f"cannot write to the reward log {self.path}: {problem(exc)}") from None

    @property
    def enabled(self) -> bool:
        return True

    # -------------------------------------------------------------- writing

    def record(self, outcome: Outcome) -> int:
        """Append one outcome; returns its row id (for :meth:`mark_accepted`)."""
        if self.readonly:
            raise LearnError("the reward log was opened read-only")
        messages = scrub_data([dict(m) for m in outcome.prompt], self._secrets)
        row = (
            outcome.time or utc_now(),
            str(outcome.workspace),
            outcome.intent_kind,
            prompt_hash(messages),
            json.dumps(messages, ensure_ascii=False),
            scrub(outcome.model, self._secrets),
            outcome.strategy,
            scrub(outcome.candidate, self._secrets),
            json.dumps(scrub_data(outcome.checks, self._secrets), ensure_ascii=False, default=str),
            None if outcome.coverage is None else float(outcome.coverage),
            json.dumps(scrub_data(list(outcome.audit), self._secrets), ensure_ascii=False, default=str),
            1 if outcome.verified else 0,
        )
        return self._write(
            "INSERT INTO outcomes (time, workspace, intent_kind, prompt_hash, prompt, model, strategy,"
            " candidate, checks, coverage, audit, verified) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            row,
        )

    def mark_accepted(self, row_id: int, accepted: bool) -> None:
        """Record whether the user accepted (applied) the candidate of ``row_id``."""
        self._write("UPDATE outcomes SET accepted=? WHERE id=?", (1 if accepted else 0, int(row_id)))

    # -------------------------------------------------------------- reading

    def rows(self, since: str | None = None, workspace: str | None = None) -> Iterator[Row]:
        """Outcomes in insertion order, optionally from ``since`` (ISO date/time) on."""
        query = "SELECT id, time, workspace, intent_kind, prompt_hash, prompt, model, strategy, candidate," \
                " checks, coverage, audit, verified, accepted FROM outcomes"
        where, args = [], []
        if since:
            where.append("time >= ?")
            args.append(since)
        if workspace is not None:
            where.append("workspace = ?")
            args.append(str(workspace))
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY id"
        fetched = self._read(query, args)
        for r in fetched:
            yield Row(
                id=r[0], time=r[1], workspace=r[2], intent_kind=r[3], prompt_hash=r[4],
                prompt=_json(r[5], []), model=r[6], strategy=r[7], candidate=r[8], checks=_json(r[9], {}),
                coverage=r[10], audit=_json(r[11], []), verified=bool(r[12]),
                accepted=None if r[13] is None else bool(r[13]),
            )

    def briefs(self, intent_kind: str | None = None) -> list[Brief]:
        """Every outcome's :class:`Brief`, optionally for one intent kind only."""
        query = "SELECT workspace, intent_kind, prompt_hash, model, strategy, verified, accepted FROM outcomes"
        args: list[Any] = []
        if intent_kind is not None:
            query += " WHERE intent_kind = ?"
            args.append(intent_kind)
        fetched = self._read(query + " ORDER BY id", args)
        return [Brief(r[0], r[1], r[2], r[3], r[4], bool(r[5]), None if r[6] is None else bool(r[6])) for r in fetched]

    def count(self) -> int:
        return int(self._read("SELECT count(*) FROM outcomes", ())[0][0])

    def _read(self, sql: str, args: Sequence[Any]) -> list[Any]:
        with self._lock:
            try:
                self._reconnect_if_stale()
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                self._stale = not _locked(exc)
                raise LearnError(f"cannot read the reward log {self.path}: {problem(exc)}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RewardLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DisabledLog:
    """The log when ``settings.learn.enabled`` is false: records nothing, knows nothing."""

    path = None
    readonly = False

    @property
    def enabled(self) -> bool:
        return False

    def record(self, outcome: Outcome) -> int:
        return 0

    def mark_accepted(self, row_id: int, accepted: bool) -> None:
        return None

    def rows(self, since: str | None = None, workspace: str | None = None) -> Iterator[Row]:
        return iter(())

    def briefs(self, intent_kind: str | None = None) -> list[Brief]:
        return []

    def count(self) -> int:
        return 0

    def close(self) -> None:
        return None


def open_log(settings: Any = None, path: str | os.PathLike[str] | None = None, secrets: Iterable[str] = ()) -> RewardLog | DisabledLog:
    """The reward log for ``settings`` (a :class:`codeloop.config.Settings`): a
    :class:`DisabledLog` when ``settings.learn.enabled`` is false."""
    learn = getattr(settings, "learn", None)
    if learn is not None and not getattr(learn, "enabled", True):
        return DisabledLog()
    return RewardLog(path, secrets=secrets)


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default
