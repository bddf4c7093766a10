"""LSP errors the handlers raise; pygls turns them into JSON-RPC error responses.

Handlers raise these for expected failures (bad input, unknown documents, no model
configured). Each message is one line a user can act on.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcException


class CodeloopRequestError(JsonRpcException):
    """An expected failure answered to the client (the server keeps running)."""

    CODE = types.LSPErrorCodes.RequestFailed.value
    expected = True  # logged as one line, not as a crash (see codeloop.logs)


def request_failed(message: str) -> CodeloopRequestError:
    """``RequestFailed`` (-32803): the request was valid but could not be served."""
    return CodeloopRequestError(message, code=types.LSPErrorCodes.RequestFailed.value)


def invalid_params(message: str) -> CodeloopRequestError:
    """``InvalidParams`` (-32602): the request's arguments are wrong."""
    return CodeloopRequestError(message, code=types.ErrorCodes.InvalidParams.value)


def content_modified(message: str) -> CodeloopRequestError:
    """``ContentModified`` (-32801): the document changed since the request was made."""
    return CodeloopRequestError(message, code=types.LSPErrorCodes.ContentModified.value)
