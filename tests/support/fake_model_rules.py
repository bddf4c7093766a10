"""The fake OpenAI-compatible server answering by what a request asks (for editor end-to-end tests).

:class:`RuledFake` is :class:`support.fake_openai.FakeOpenAI` plus *rules*: a request whose text
matches a rule's regular expression gets the rule's answer, every time (an editor asks in an
order a test does not control: an inline completion, an implement request and the chat may
interleave). The text a rule searches is, for ``/v1/chat/completions``, the contents of the
messages joined by blank lines and, for ``/v1/completions``, the prompt (the text before the
cursor, so ``$`` is the cursor). Queued replies and the ``--script`` conversation come first,
unmatched requests get the default reply. Every chat and completion request is appended to the
record file as one JSON line ``{"kind", "model", "rule"}`` (``rule``: the index of the rule that
answered, or null), so a test can see which model name the server asked for.

Standalone::

    python tests/support/fake_model_rules.py --port 0 --rules RULES.json --record REQUESTS.jsonl \\
        [--reply TEXT] [--chunk-delay S] [--script FILE]

prints the port as the first line of stdout, then serves until killed. ``RULES.json`` is a list of
``{"kind": "chat" | "completions", "match": REGEX, "texts": [TEXT, ...]}``; ``texts`` are the
choices of the answer (a request with ``n`` gets the first ``n``; a streamed one the first).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `support` importable

from support.fake_openai import CHAT, COMPLETIONS, FakeOpenAI, Reply, serve  # noqa: E402


@dataclass(frozen=True)
class Rule:
    kind: str
    match: re.Pattern[str]
    texts: tuple[str, ...]

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Rule:
        kind = item.get("kind", CHAT)
        if kind not in (CHAT, COMPLETIONS):
            raise ValueError(f"rule kind must be {CHAT!r} or {COMPLETIONS!r}, not {kind!r}")
        texts = item.get("texts")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"rule {item.get('match')!r}: texts must be a non-empty list of strings")
        return cls(kind, re.compile(item["match"], re.MULTILINE), tuple(texts))


def request_text(kind: str, body: dict[str, Any]) -> str:
    """What a rule searches: the chat messages' contents, or the completion's prompt."""
    if kind == COMPLETIONS:
        prompt = body.get("prompt")
        return "\n".join(map(str, prompt)) if isinstance(prompt, list) else str(prompt or "")
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts
            content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        if content:
            parts.append(str(content))
    return "\n\n".join(parts)


class RuledFake(FakeOpenAI):
    def __init__(self, *args: Any, rules: list[Rule] | None = None, record: str | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.rules = list(rules or [])
        self.record = record
        self._record_lock = threading.Lock()

    def _next(self, kind: str, body: dict[str, Any] | None = None) -> Reply:
        body = body or {}
        index: int | None = None
        reply = None
        if not self._scripted(kind, body):
            text = request_text(kind, body)
            for i, rule in enumerate(self.rules):
                if rule.kind == kind and rule.match.search(text):
                    index, reply = i, Reply(texts=list(rule.texts), chunk_delay=self.default_chunk_delay)
                    break
        if reply is None:
            reply = super()._next(kind, body)
        self._write_record({"kind": kind, "model": body.get("model"), "rule": index})
        return reply

    def _scripted(self, kind: str, body: dict[str, Any]) -> bool:
        """Does a queued reply or the scripted conversation answer this request (before any rule)?"""
        with self.lock:
            if self._queues[kind]:
                return True
            if self.trigger is None or kind != CHAT:
                return False
            tools = [(t.get("function") or {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
            asked = [str(m.get("content") or "") for m in body.get("messages") or []
                     if isinstance(m, dict) and m.get("role") == "user"]
            return tools == ["ping"] or bool(self.scripted) and any(self.trigger in text for text in asked)

    def _write_record(self, entry: dict[str, Any]) -> None:
        if not self.record:
            return
        with self._record_lock, open(self.record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


def load_rules(path: str) -> list[Rule]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of rules")
    return [Rule.from_json(item) for item in data]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible server that answers by rules.")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one; printed first)")
    parser.add_argument("--reply", default="Hello from the fake model.", help="the answer when no rule matches")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--model", action="append", help="model ids listed by /v1/models")
    parser.add_argument("--script", help="JSON file: a scripted agent conversation (see support/fake_openai.py)")
    parser.add_argument("--rules", help="JSON file: the rules (see the module doc)")
    parser.add_argument("--record", help="file: one JSON line per chat or completion request")
    args = parser.parse_args(argv)
    try:
        rules = load_rules(args.rules) if args.rules else []
    except (OSError, ValueError, KeyError, re.error) as exc:
        print(f"fake_model_rules: {exc}", file=sys.stderr)
        return 2
    return serve(RuledFake(port=args.port, default_text=args.reply, models=args.model, rules=rules,
                           record=args.record), args)


if __name__ == "__main__":
    raise SystemExit(main())
