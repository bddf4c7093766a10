"""One scrubber: a text with every kind of secret comes out the same from the log filter,
the reward log and the prompt sent to the model."""

from __future__ import annotations

import logging
import re

from codeloop import logs, secrets
from codeloop.learn import Outcome, RewardLog
from codeloop.model.openai_client import OpenAIClient
from codeloop.model.settings import ModelConfig

REGISTERED = "registered-0f3a9c-secret-value"
SECRETS = [
    REGISTERED,
    "sk-proj-ABCDEFGH12345678",
    "rk-live-ABCDEFGH12345678",
    "ghp_" + "a" * 36,
    "xoxb-1234567890ab",
    "AKIAABCDEFGHIJKLMNOP",
    "AIza" + "b" * 35,
    "tok12345678",
    "hunter2hunter2",
    "abcdefghij1234567890xyz",
    "abc123xyz",
    "plainvalue",
    "MIIEsecretbody",
]
TEXT = (
    f"editor key {REGISTERED}; sk-proj-ABCDEFGH12345678 rk-live-ABCDEFGH12345678 ghp_{'a' * 36}\n"
    f"xoxb-1234567890ab AKIAABCDEFGHIJKLMNOP AIza{'b' * 35}\n"
    "Authorization: Bearer tok12345678\npassword = 'hunter2hunter2'\nTOKEN=abcdefghij1234567890xyz\n"
    '{"apiKey": "abc123xyz"} api_key=plainvalue\n'
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretbody\n-----END RSA PRIVATE KEY-----\n"
    "token = tokens[0]\n"
)


def scrubbed_by_log_filter(text: str) -> str:
    record = logging.LogRecord("codeloop.test", logging.INFO, __file__, 1, "%s", (text,), None)
    logs.RedactionFilter().filter(record)
    return record.getMessage()


def scrubbed_by_reward_log(text: str, tmp_path) -> str:
    with RewardLog(tmp_path / "rewards.sqlite3") as log:
        log.record(Outcome(workspace="/w", intent_kind="implement", prompt=[{"role": "user", "content": text}],
                           model="m", candidate=text, verified=True, checks={}, coverage=None, audit=[],
                           strategy="sample"))
        (row,) = list(log.rows())
    assert row.prompt[0]["content"] == row.candidate
    return row.candidate


def scrubbed_in_the_prompt(text: str, fake) -> str:
    fake.add_chat("ok")
    client = OpenAIClient(ModelConfig(base_url=fake.base_url, name="m", max_retries=0), api_key="sk-unrelated-key-123")
    client.chat([{"role": "user", "content": text}], n=1)
    return fake.requests_to("/chat/completions")[0].body["messages"][0]["content"]


def test_every_kind_of_secret_is_scrubbed_the_same_everywhere(tmp_path, fake_openai):
    secrets.add_secret(REGISTERED)
    expected = secrets.scrub(TEXT)
    for secret in SECRETS:
        assert secret not in expected, secret
    assert "token = tokens[0]" in expected  # code is left alone
    assert scrubbed_by_log_filter(TEXT) == expected
    assert scrubbed_by_reward_log(TEXT, tmp_path) == expected
    assert scrubbed_in_the_prompt(TEXT, fake_openai) == expected


def test_scrub_data_and_extra_values():
    data = {"a": ["x my-extra-secret y", 3], "b": ("sk-abcdefghijklmnop",)}
    assert secrets.scrub_data(data, ["my-extra-secret"]) == {"a": ["x [redacted] y", 3], "b": ["[redacted]"]}


def scrub_every_pattern(text: str) -> str:
    """The scrubber without its needle pre-checks: every pattern runs on every text."""
    for secret in sorted(secrets._registered, key=len, reverse=True):  # registered by the test above
        text = text.replace(secret, secrets.REDACTED)
    for pattern, replacement, _needles in secrets._PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def test_the_needle_pre_checks_never_change_the_result():
    kelvin, long_s, dotless_i = "\u212a", "\u017f", "\u0131"
    samples = [
        TEXT, TEXT.lower(), TEXT.upper(), TEXT + "größe", "def f(values):\n    return sum(values)\n",
        f"api{kelvin}ey = 'abcdefgh12'", f"{long_s}ecret: \"zzzzzzzz99\"", f"AP{dotless_i}_KEY=sk", "größe token='x'",
        f"BEARER\n  abcdefgh1234 {long_s}k-notakey", "Token =\n 'multi-line-value-1'", "API-KEY: value, x",
        "apikey=[redacted] gh ghp_short xox AKIA AIza -----BEGIN X", "PASSWD=abcdefghij1234567890xyz ünïcode",
        f"passwörd = 'abcdefgh12'\nAuth{kelvin}: 'zzzzzzzz99' bear{long_s}r = 'q'",
    ]
    samples += [s.replace("\n", "\r\n") for s in samples]
    for text in samples:
        assert secrets.scrub(text) == scrub_every_pattern(text), text


def test_the_characters_that_fold_to_ascii_letters_are_all_known():
    """The (?i) needles are looked up in ``text.lower()`` unless the text holds one of these."""
    every = "".join(chr(c) for c in range(0x80, 0x110000))
    folding = set(re.findall(r"(?i)[a-z]", every))
    assert folding == set(secrets._FOLDS_TO_ASCII)
