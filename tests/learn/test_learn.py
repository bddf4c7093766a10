"""The reward log, model choice, export and stats."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from codeloop.cli import main
from codeloop.config import LearnSettings, Settings
from codeloop.learn import DisabledLog, Outcome, RewardLog, choose_models, open_log, pass_rates, prompt_hash
from codeloop.learn.export import preference_records, sft_records, write_jsonl_atomic
from codeloop.secrets import scrub

KEY = "sk-test-0123456789abcdefghijklmnop"
WS = "/home/dev/project"


def prompt(name: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You implement Python functions."},
        {"role": "user", "content": f"Implement {name}.\nAuthorization: Bearer {KEY}"},
    ]


def outcome(name="add", model="small", verified=True, candidate=None, kind="implement", ws=WS, time=None, strategy="sample"):
    return Outcome(
        workspace=ws,
        intent_kind=kind,
        prompt=prompt(name),
        model=model,
        candidate=candidate or f"def {name}(a, b):\n    return a + b\n",
        verified=verified,
        checks={"examples": {"passed": 2 if verified else 1, "total": 2}, "key_seen": KEY},
        coverage=0.9,
        audit=[{"check": "B311", "severity": "low", "line": 1, "message": "random", "blocking": False}],
        strategy=strategy,
        time=time,
    )


@pytest.fixture
def log(tmp_path):
    with RewardLog(tmp_path / "rewards.sqlite3", secrets=[KEY]) as log:
        yield log


def test_record_and_read_back(log):
    row_id = log.record(outcome())
    (row,) = list(log.rows())
    assert row.id == row_id and row.verified and row.accepted is None
    assert row.workspace == WS and row.intent_kind == "implement" and row.model == "small"
    assert row.checks["examples"] == {"passed": 2, "total": 2}
    assert row.coverage == 0.9 and row.audit[0]["check"] == "B311"
    assert row.prompt[0]["role"] == "system"
    assert row.time.endswith("Z")


def test_the_key_is_never_stored(log, tmp_path):
    log.record(outcome(candidate=f"API = '{KEY}'\ndef add(a, b):\n    return a + b\n"))
    raw = (tmp_path / "rewards.sqlite3").read_bytes()
    assert KEY.encode() not in raw
    (row,) = list(log.rows())
    assert KEY not in json.dumps(row.prompt) and KEY not in row.candidate and KEY not in json.dumps(row.checks)
    assert "[redacted]" in row.prompt[1]["content"]


def test_key_like_strings_scrubbed_without_being_told():
    text = "use sk-abcdefghijklmnopqrstuvwx and ghp_" + "a" * 36 + " and password='hunter2hunter2'"
    out = scrub(text)
    assert "sk-abc" not in out and "ghp_" not in out and "hunter2" not in out
    assert scrub("token = tokens[0]") == "token = tokens[0]"  # code is left alone


def test_append_only(log):
    row_id = log.record(outcome())
    db = sqlite3.connect(log.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM outcomes")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE outcomes SET verified=0 WHERE id=?", (row_id,))
    db.close()
    log.mark_accepted(row_id, True)
    assert next(log.rows()).accepted is True
    log.mark_accepted(row_id, False)
    assert next(log.rows()).accepted is False


def test_prompt_hash_is_stable_and_scrubbed_first(log):
    log.record(outcome())
    log.record(outcome(verified=False, candidate="def add(a, b):\n    return a - b\n"))
    hashes = {r.prompt_hash for r in log.rows()}
    assert len(hashes) == 1
    assert prompt_hash(prompt("add")) != hashes.pop()  # hashed after the key was redacted


def test_since_and_workspace_filters(log):
    log.record(outcome(time="2026-01-01T00:00:00.000000Z"))
    log.record(outcome(time="2026-06-01T00:00:00.000000Z", ws="/other"))
    assert len(list(log.rows(since="2026-03-01T00:00:00.000000Z"))) == 1
    assert len(list(log.rows(workspace="/other"))) == 1


def test_concurrent_records(log):
    threads = [threading.Thread(target=lambda: [log.record(outcome()) for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 40


def test_disabled_by_settings(tmp_path):
    settings = Settings(learn=LearnSettings(enabled=False))
    log = open_log(settings, tmp_path / "x.sqlite3")
    assert isinstance(log, DisabledLog) and not log.enabled
    assert log.record(outcome()) == 0 and list(log.rows()) == []
    assert not (tmp_path / "x.sqlite3").exists()
    enabled = open_log(Settings(), tmp_path / "y.sqlite3")
    assert enabled.enabled and (tmp_path / "y.sqlite3").exists()
    enabled.close()


def test_pass_rates_count_requests_not_samples(log):
    # Prompt A: 3 failing samples then one verified -> 1 request, verified.
    for i in range(3):
        log.record(outcome("a", verified=False, candidate=f"def a():\n    return {i}\n"))
    log.record(outcome("a"))
    log.record(outcome("b", verified=False))
    (rate,) = pass_rates(log.rows())
    assert (rate.requests, rate.requests_verified, rate.candidates, rate.candidates_verified) == (2, 1, 5, 1)
    assert rate.rate == 0.5


def test_choose_models_demotes_a_failing_cheap_model(log):
    assert choose_models(log, WS, "implement", ["small", "big"]) == ["small", "big"]  # no evidence: config order
    for i in range(4):
        log.record(outcome(f"f{i}", model="small", verified=False))
        log.record(outcome(f"f{i}", model="big", verified=True))
    assert choose_models(log, WS, "implement", ["small", "big"]) == ["big", "small"]
    # Other intent kinds and unknown models are unaffected.
    assert choose_models(log, WS, "from_comment", ["small", "big"]) == ["small", "big"]
    assert choose_models(log, WS, "implement", ["small", "tiny", "big"]) == ["tiny", "big", "small"]


def test_choose_models_prefers_local_evidence(log):
    for i in range(4):
        log.record(outcome(f"g{i}", model="small", verified=False, ws="/elsewhere"))
        log.record(outcome(f"h{i}", model="small", verified=True))
    assert choose_models(log, WS, "implement", ["small", "big"]) == ["small", "big"]
    assert choose_models(log, "/elsewhere", "implement", ["small", "big"]) == ["big", "small"]


def test_choose_models_single_or_disabled():
    assert choose_models(DisabledLog(), WS, "implement", ["m", "m"]) == ["m"]
    assert choose_models([], WS, "implement", []) == []


# ----------------------------------------------------------------- export


def fill(log):
    log.record(outcome("add", verified=False, candidate="def add(a, b):\n    return a - b\n"))
    log.record(outcome("add", verified=True))
    log.record(outcome("add", verified=True))  # duplicate answer: exported once
    log.record(outcome("mul", verified=False, candidate="def mul(a, b):\n    return a + b\n"))  # no chosen
    log.record(outcome("neg", verified=True, candidate="def neg(a):\n    return -a\n"))


def test_sft_records_only_verified(log):
    fill(log)
    recs = list(sft_records(log.rows()))
    assert len(recs) == 2
    for rec in recs:
        roles = [m["role"] for m in rec["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert rec["messages"][-1]["content"].startswith("```python\n")
    assert "a - b" not in json.dumps(recs)


def test_preference_pairs(log):
    fill(log)
    (rec,) = list(preference_records(log.rows()))
    assert set(rec) == {"prompt", "chosen", "rejected"}
    assert "a + b" in rec["chosen"][0]["content"] and "a - b" in rec["rejected"][0]["content"]
    assert [m["role"] for m in rec["prompt"]] == ["system", "user"]


def validate_jsonl(text: str, fmt: str) -> list[dict]:
    recs = [json.loads(line) for line in text.splitlines()]
    for rec in recs:
        if fmt == "sft":
            assert set(rec) == {"messages"}
            assert all(set(m) == {"role", "content"} and isinstance(m["content"], str) for m in rec["messages"])
            assert rec["messages"][-1]["role"] == "assistant"
        else:
            assert set(rec) == {"prompt", "chosen", "rejected"}
            assert rec["chosen"] != rec["rejected"]
        assert KEY not in json.dumps(rec)
    return recs


@pytest.mark.parametrize("fmt, count", [("sft", 2), ("preference", 1)])
def test_cli_export_to_file(log, tmp_path, capsys, fmt, count):
    fill(log)
    out = tmp_path / f"{fmt}.jsonl"
    assert main(["export", "--format", fmt, "--out", str(out), "--db", str(log.path)]) == 0
    assert len(validate_jsonl(out.read_text(), fmt)) == count
    assert f"exported {count} {fmt} record" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".codeloop-export-")] == []


def test_cli_export_to_stdout_and_since(log, capsys):
    log.record(outcome("old", time="2025-01-01T00:00:00.000000Z"))
    log.record(outcome("new", time="2026-06-01T00:00:00.000000Z"))
    assert main(["export", "--format", "sft", "--since", "2026-01-01", "--db", str(log.path)]) == 0
    recs = validate_jsonl(capsys.readouterr().out, "sft")
    assert len(recs) == 1 and "new" in recs[0]["messages"][1]["content"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["export", "--format", "csv"], "unknown --format 'csv'"),
        (["export", "--format", "sft", "--since", "yesterday"], "bad --since 'yesterday'"),
        (["export", "--format", "sft", "--out", "/nonexistent-dir/x.jsonl"], "does not exist"),
    ],
)
def test_cli_export_bad_input(log, capsys, argv, message):
    assert main(argv + ["--db", str(log.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_cli_export_not_a_log(tmp_path, capsys):
    bad = tmp_path / "bad.sqlite3"
    bad.write_text("not a database")
    assert main(["export", "--format", "sft", "--db", str(bad)]) == 2
    assert "cannot open the reward log" in capsys.readouterr().err


def test_cli_export_failure_keeps_old_file(tmp_path):
    out = tmp_path / "data.jsonl"
    out.write_text("old\n")

    def boom():
        yield {"a": 1}
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_jsonl_atomic(boom(), out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.jsonl"]


def test_cli_export_without_a_log(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert main(["export", "--format", "sft", "--out", str(out), "--db", str(tmp_path / "none.sqlite3")]) == 0
    assert out.read_text() == ""
    assert not (tmp_path / "none.sqlite3").exists()


def test_cli_stats(log, capsys):
    fill(log)
    log.record(outcome("x", model="big", kind="from_comment"))
    assert main(["stats", "--db", str(log.path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["model", "intent"]
    small = next(line for line in out if line.startswith("small"))
    assert "implement" in small and "67 %" in small  # add and neg verified, mul not
    assert main(["stats", "--json", "--db", str(log.path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {(d["model"], d["intent_kind"]) for d in data} == {("small", "implement"), ("big", "from_comment")}


def test_cli_stats_empty(tmp_path, capsys):
    assert main(["stats", "--db", str(tmp_path / "none.sqlite3")]) == 0
    assert capsys.readouterr().out.strip() == "no outcomes recorded yet"
