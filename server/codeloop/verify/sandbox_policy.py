"""The sandbox limits the user's settings ask for, as a :class:`codeloop_sandbox.Policy`.

One place maps ``codeloop.sandbox.*`` (:class:`codeloop.config.SandboxSettings`) onto the
sandbox library, so every caller (runTests, implement, test generation, inline checks,
the CLI) runs under the same limits. Core code: no LSP.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from codeloop_sandbox import PYTEST_ENV, Policy


def sandbox_policy(sandbox: Any) -> Policy:
    """The policy of ``settings.sandbox`` (limits the settings do not name keep the
    library's defaults)."""
    return Policy(timeout=sandbox.timeout, memory_mib=sandbox.memory_mib, max_processes=sandbox.max_processes,
                  max_output_kib=sandbox.max_output_kib, allow_env=tuple(sandbox.allow_env),
                  allow_levels=tuple(sandbox.allow_levels))


__all__ = ["PYTEST_ENV", "sandbox_policy", "user_tests_policy"]  # PYTEST_ENV: codeloop_sandbox's list


def user_tests_policy(policy: Policy) -> Policy:
    """``policy`` for running the user's own tests: pytest's environment variables enter."""
    extra = tuple(name for name in PYTEST_ENV if name not in policy.allow_env)
    return dataclasses.replace(policy, allow_env=(*policy.allow_env, *extra)) if extra else policy
