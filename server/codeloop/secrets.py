"""The one secret scrubber: log records, prompts, the reward log and exports all go
through :func:`scrub`, so a key hidden in one place is hidden in all of them.

Removed: the registered secret values (:func:`add_secret`: the key the editor sent),
the ``extra`` values a caller passes (the key a client uses), and anything that looks
like a credential: ``sk-``/``rk-``/``pk-`` keys, GitHub/AWS/Slack/Google tokens, private
key blocks, ``Bearer`` tokens, ``api_key``/``apiKey`` values, and quoted (or long,
digit-bearing unquoted) values of names that mention a key, token, secret or password.
Plain code such as ``token = tokens[0]`` is left alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "[redacted]"

_KEEP_NAME = r"\g<1>" + REDACTED  # keep what precedes the value: "Bearer ", "api_key="

# (pattern, replacement, needles); applied in order after the known values. A pattern runs
# only when one of its needles (literals every match contains) is in the text: most text
# holds no credential, and ten regex scans of a 12 kB completion prompt cost ~1.5 ms where
# the substring checks cost ~20 us. Needles of the (?i) patterns are lowercase and are
# looked up in the lowercased text (ASCII text only: see :func:`_folded`).
_Replacement = str | Callable[[re.Match[str]], str]
_NAME_WORDS = ("api", "secret", "token", "passw", "auth")
_PATTERNS: tuple[tuple[re.Pattern[str], _Replacement, tuple[str, ...]], ...] = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), REDACTED,
     ("-----BEGIN ",)),
    # OpenAI-style keys (sk-..., sk-proj-...) and the rk-/pk- keys of other APIs.
    (re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{8,}"), REDACTED, ("sk-", "rk-", "pk-")),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"), REDACTED, ("gh",)),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED, ("xox",)),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED, ("AKIA",)),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), REDACTED, ("AIza",)),
    # Authorization: Bearer <token>
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-=]{8,}"), _KEEP_NAME, ("bearer",)),
    # NAME = "value" / NAME: 'value', where NAME mentions a key, token, secret or password.
    (re.compile(r"(?i)\b([A-Za-z_]*(?:api[_-]?key|secret|token|passw(?:or)?d|auth)[A-Za-z_]*\s*[:=]\s*(['\"]))"
                r"[^\s'\"]{8,}\2"),
     lambda m: m.group(1) + REDACTED + m.group(2), _NAME_WORDS),
    # NAME=value unquoted (env files, prose): only long values that contain a digit.
    (re.compile(r"(?i)\b([A-Za-z_]*(?:api[_-]?key|secret|token|passw(?:or)?d)[A-Za-z_]*\s*[:=]\s*)"
                r"(?=[A-Za-z0-9_\-./+]*\d)[A-Za-z0-9_\-./+]{20,}"), _KEEP_NAME, _NAME_WORDS),
    # "apiKey": "...", api_key='...', api-key=... in JSON, reprs and URLs (not a call or an index:
    # ``api_key = os.environ["KEY"]`` is code, not a key).
    (re.compile(r"""(?i)(api[_\-]?key['"]?\s*[:=]\s*['"]?)(?![A-Za-z_][\w.]*[(\[])(?!\[redacted\])"""
                r"""[^'"\s,;}&)(\[]+"""), _KEEP_NAME, ("api",)),
)


# Every match of a (?i) pattern contains one of these (a superset of _NAME_WORDS and "bearer",
# with the same (?i) semantics): the exact pre-check for text that is not ASCII.
_ANY_NAME_WORD = re.compile(r"(?i)[apstb](?:pi|uth|ecret|oken|assw|earer)")


def _folded(text: str) -> str | None:
    """Where the needles of the (?i) patterns are looked up: ``text`` lowercased when it is
    ASCII; else None (run them all) when a name word may be in it, "" (run none) when not. A
    (?i) regex matches e.g. the Kelvin sign for ``k`` and the long s for ``s``, which
    ``str.lower`` does not turn into the ASCII letter, so non-ASCII text is checked with one
    (?i) regex scan (~0.1 ms for 5 kB) instead."""
    if text.isascii():
        return text.lower()
    return None if _ANY_NAME_WORD.search(text) else ""


_registered: set[str] = set()
_lock = threading.Lock()


def add_secret(value: str | None) -> None:
    """Remember a secret value: every later :func:`scrub` removes it."""
    if value and len(value) >= 4:
        with _lock:
            _registered.add(value)


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """``text`` with the registered secrets, ``extra`` and credential-looking strings
    replaced by :data:`REDACTED`."""
    if not text:
        return text
    with _lock:
        known = set(_registered)
    known.update(s for s in extra if s and len(s) >= 4)
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    folded = _folded(text)
    for pattern, replacement, needles in _PATTERNS:
        if pattern.flags & re.IGNORECASE:
            if folded is not None and not any(n in folded for n in needles):
                continue
        elif not any(n in text for n in needles):
            continue
        # (no refolding after a replacement: "[redacted]" holds no needle and no needle
        # contains "[" or "]", so a replacement never makes one appear; it may only remove one)
        text = pattern.sub(replacement, text)
    return text


def scrub_data(value: Any, extra: Iterable[str | None] = ()) -> Any:
    """:func:`scrub` applied to every string inside JSON-like data."""
    extra = tuple(extra)
    if isinstance(value, str):
        return scrub(value, extra)
    if isinstance(value, dict):
        return {k: scrub_data(v, extra) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v, extra) for v in value]
    return value
