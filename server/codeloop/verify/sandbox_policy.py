"""The sandbox limits the user's settings ask for, as a :class:`codeloop_sandbox.Policy`.

One place maps ``codeloop.sandbox.*`` (:class:`codeloop.config.SandboxSettings`) onto the
sandbox library, so every caller (runTests, implement, test generation, inline checks,
the CLI) runs under the same limits. Core code: no LSP.
"""

from __future__ import annotations

from typing import Any

from codeloop_sandbox import Policy


def sandbox_policy(sandbox: Any) -> Policy:
    """The policy of ``settings.sandbox`` (limits the settings do not name keep the
    library's defaults)."""
    return Policy(timeout=sandbox.timeout, memory_mib=sandbox.memory_mib, max_processes=sandbox.max_processes,
                  max_output_kib=sandbox.max_output_kib, allow_env=tuple(sandbox.allow_env),
                  allow_levels=tuple(sandbox.allow_levels))
