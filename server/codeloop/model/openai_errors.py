"""Reading a model endpoint's failures: Retry-After, unknown-model bodies, connection causes."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def is_unknown_model(status: int, body: object) -> bool:
    """Whether an error answer (``body``: its JSON, or the ``error`` object in it) says the
    model is unknown."""
    err = body.get("error", body) if isinstance(body, Mapping) else body
    code = str(err.get("code") or "") if isinstance(err, Mapping) else ""
    message = str(err.get("message") or "") if isinstance(err, Mapping) else str(err or "")
    if code == "model_not_found":
        return True
    return bool(status in (400, 404) and re.search(r"model", message, re.I) and re.search(
        r"not (be )?found|does not exist|unknown|no such|not available|try pulling", message, re.I))


RESET = "connection reset"


def connection_reason(exc: BaseException) -> str:
    """``connection refused``, ``unknown host``, :data:`RESET` (the endpoint accepted the
    connection and closed it without an answer: worth a retry) or ``connection failed``."""
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cur, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return RESET
        text = str(cur).lower()
        if "refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "unknown host"
        if "reset by peer" in text or "disconnected without sending" in text or "connection aborted" in text:
            return RESET
        cur = cur.__cause__ or cur.__context__
    return "connection failed"

