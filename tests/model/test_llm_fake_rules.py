"""The rules fake (tests/support/fake_model_rules.py) standalone, as the VS Code end-to-end test runs
it: answers chosen by what a request asks, the default otherwise, every request's model recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig

SCRIPT = Path(__file__).resolve().parent.parent / "support" / "fake_model_rules.py"


def start(tmp_path: Path, rules: object) -> tuple[subprocess.Popen, int, Path]:
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    record = tmp_path / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--port", "0", "--reply", "default answer",
                             "--rules", str(tmp_path / "rules.json"), "--record", str(record)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline().strip()), record


def client(port: int, name: str) -> OpenAIClient:
    return OpenAIClient(ModelConfig(base_url=f"http://127.0.0.1:{port}/v1", name=name, timeout=10, max_retries=0),
                        environ={})


def test_rules_answer_by_content_and_every_model_name_is_recorded(tmp_path):
    proc, port, record = start(tmp_path, [
        {"kind": "chat", "match": "Implement the function `area`", "texts": ["one", "two", "three"]},
        {"kind": "completions", "match": r"def area\(.*\n\s*$", "texts": ["return 1\n"]},
    ])
    try:
        first, second = client(port, "model-a"), client(port, "model-b")
        asked = [{"role": "system", "content": "be careful"}, {"role": "user", "content": "Implement the function `area`"}]
        assert [c.text for c in first.chat(asked, n=2)] == ["one", "two"]
        assert [c.text for c in first.chat(asked, n=2)] == ["one", "two"]  # a rule answers every time
        assert list(second.stream_chat(asked)) == ["one"]
        assert [c.text for c in second.chat([{"role": "user", "content": "hello"}], n=1)] == ["default answer"]
        assert first.complete("def area(r):\n    ", "").text == "return 1\n"
        assert first.complete("x = ", "").text == "default answer"
        lines = [json.loads(line) for line in record.read_text().splitlines()]
        assert [(r["kind"], r["model"], r["rule"]) for r in lines] == [
            ("chat", "model-a", 0), ("chat", "model-a", 0), ("chat", "model-b", 0), ("chat", "model-b", None),
            ("completions", "model-a", 1), ("completions", "model-a", None)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_rules_are_one_clear_line_and_exit_2(tmp_path):
    (tmp_path / "rules.json").write_text(json.dumps([{"kind": "embeddings", "match": "x", "texts": ["y"]}]))
    done = subprocess.run([sys.executable, str(SCRIPT), "--rules", str(tmp_path / "rules.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == ["fake_model_rules: rule kind must be 'chat' or 'completions', not 'embeddings'"]
