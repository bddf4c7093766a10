"""The settings a tool acts under: the context's, else the workspace's own."""

from __future__ import annotations

from typing import Any

from codeloop.tools.base import ToolContext
from codeloop.tools.paths import root_of


def settings_of(context: ToolContext) -> Any:
    if context.settings is not None:
        return context.settings
    from codeloop.config import settings_for_workspace

    return settings_for_workspace(root_of(context))[0]


__all__ = ["settings_of"]
