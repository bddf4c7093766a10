"""The per-server state the features share, in one typed place: ``server.services``.

One model client cache for every feature (chat, inline completion, implement), so they
share one client and its warm connections; each feature's own state is set by its
``register`` (None until then: a server built without that feature).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codeloop.model.cache import ClientCache
from codeloop.model.tool_calls import ToolSupport
from codeloop.services.chat import ChatSessions

if TYPE_CHECKING:  # pragma: no cover
    from codeloop.lsp.generate_tests import GenerateService
    from codeloop.lsp.implement import ImplementService
    from codeloop.lsp.index import IndexFeature
    from codeloop.lsp.inline_completion import InlineService
    from codeloop.lsp.run_tests import TestRuns


@dataclass
class ServerServices:
    models: ClientCache = field(default_factory=ClientCache)
    chat: ChatSessions = field(default_factory=ChatSessions)
    inline: InlineService | None = None  # set by codeloop.lsp.inline_completion.register
    implement: ImplementService | None = None  # set by codeloop.lsp.implement.register
    generate: GenerateService | None = None  # set by codeloop.lsp.generate_tests.register
    tests: TestRuns | None = None  # set by codeloop.lsp.run_tests.register
    index: IndexFeature | None = None  # set by codeloop.lsp.index.register
    tool_support: ToolSupport = field(default_factory=ToolSupport.persistent)  # which models call tools (chat agent)
    proposals: dict[str, Any] = field(default_factory=dict)  # the chat agent's proposals by id, until applied
