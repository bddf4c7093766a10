"""The per-server state the features share, in one typed place: ``server.services``.

One model client cache for every feature (chat, inline completion), so they share one
client and its warm connections; the features' own state is set by their ``register``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codeloop.model.cache import ClientCache
from codeloop.services.chat import ChatSessions

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.inline_completion import InlineService


@dataclass
class ServerServices:
    models: ClientCache = field(default_factory=ClientCache)
    chat: ChatSessions = field(default_factory=ChatSessions)
    inline: InlineService | None = None  # set by codeloop.lsp.inline_completion.register
