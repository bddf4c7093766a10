"""The errors of a model call: :class:`ModelError` (one line, with a ``kind``) and
:class:`Cancelled` (the caller stopped it)."""

from __future__ import annotations

KINDS = (
    "not_configured",
    "auth",
    "unknown_model",
    "connection_refused",  # also: unknown host (not retried: nothing is listening)
    "connection_reset",  # the endpoint closed the connection without an answer (retried)
    "timeout",
    "rate_limited",
    "server_error",
    "truncated_stream",
    "malformed",
    "empty",
    "bad_request",  # any other 4xx (context too long, bad parameter, wrong URL path)
)

NOT_CONFIGURED = (
    "no model configured: set codeloop.model.name and codeloop.model.baseUrl "
    "(or the environment variables CODELOOP_MODEL, OPENAI_BASE_URL and OPENAI_API_KEY); "
    "see docs/models.md"
)


class ModelError(Exception):
    """A model call failed. ``kind`` is one of :data:`KINDS`; ``message`` is one line."""

    def __init__(self, kind: str, message: str, *, status: int | None = None) -> None:
        message = " ".join(str(message).split())
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"ModelError({self.kind!r}, {self.message!r})"


class Cancelled(Exception):
    """The caller cancelled the call (not an error of the model)."""


