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
# the substring checks cost ~40 us. Needles of the (?i) patterns are lowercase and are
# looked up in the lowercased text (see :func:`_present`).
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


# The non-ASCII characters a (?i) regex matches with an ASCII letter (dotted and dotless i,
# long s, Kelvin sign) and that ``str.lower`` does not turn into that letter alone.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
_CASED_NEEDLES = tuple(dict.fromkeys(n for p, _r, ns in _PATTERNS if not p.flags & re.IGNORECASE for n in ns))
_FOLDED_NEEDLES = tuple(dict.fromkeys(n for p, _r, ns in _PATTERNS if p.flags & re.IGNORECASE for n in ns))


def _present(text: str) -> set[str] | None:
    """The needles in ``text`` (each looked up once: ~2.5 us per 4 kB), or None when the
    (?i) needles cannot be looked up in ``text.lower()`` (it holds one of
    :data:`_FOLDS_TO_ASCII`): then every (?i) pattern runs."""
    found = {n for n in _CASED_NEEDLES if n in text}
    if not text.isascii() and any(c in text for c in _FOLDS_TO_ASCII):
        return None
    folded = text.lower()
    found.update(n for n in _FOLDED_NEEDLES if n in folded)
    return found


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
    present = _present(text)
    for pattern, replacement, needles in _PATTERNS:
        if present is None:
            if not pattern.flags & re.IGNORECASE and not any(n in text for n in needles):
                continue
        elif not any(n in present for n in needles):
            continue
        # The needles were looked up before any replacement: "[redacted]" holds no needle and
        # no needle contains "[" or "]", so a replacement never makes one appear.
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
