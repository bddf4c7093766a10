"""Remove secrets from text before it is stored or exported.

Known secret values (the API key in use) are replaced exactly; anything that looks
like a credential (``sk-...`` keys, ``Bearer`` tokens, ``api_key = "..."``
assignments, GitHub/AWS/Slack tokens, private key blocks) is replaced by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    re.compile(r"(?i)\b(Bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*"),
    # NAME = "value" / NAME: 'value', where NAME mentions a key, token, secret or password
    # (quoted literals only: code like ``token = tokens[0]`` must survive).
    re.compile(
        r"(?i)\b([A-Za-z_]*(?:api[_-]?key|secret|token|passw(?:or)?d|auth)[A-Za-z_]*)(\s*[:=]\s*)"
        r"(['\"])([^\s'\"]{8,})\3"
    ),
    # NAME=value unquoted (env files, prose): only long values that contain a digit.
    re.compile(
        r"(?i)\b([A-Za-z_]*(?:api[_-]?key|secret|token|passw(?:or)?d)[A-Za-z_]*)(\s*[:=]\s*)()"
        r"((?=[A-Za-z0-9_\-./+]*\d)[A-Za-z0-9_\-./+]{20,})"
    ),
]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with known ``secrets`` and credential-looking strings redacted."""
    if not text:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups >= 4:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{REDACTED}{m.group(3)}", text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def scrub_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """:func:`scrub` applied to every string inside JSON-like data."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v, secrets) for v in value]
    return value
