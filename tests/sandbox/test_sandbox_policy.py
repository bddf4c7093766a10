"""codeloop.verify.sandbox_policy: the workspace's sandbox settings become the Policy runs use."""

from __future__ import annotations

from codeloop.config import settings_for_workspace
from codeloop.verify.sandbox_policy import sandbox_policy
from codeloop_sandbox import Policy


def test_settings_become_the_policy(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.codeloop.sandbox]\ntimeout = 7\nmemory_mib = 512\nmax_processes = 16\nmax_output_kib = 64\n'
        'allow_env = ["LANG"]\nallow_levels = ["A", "B"]\n')
    settings, warnings = settings_for_workspace(tmp_path, environ={})
    assert warnings == []
    policy = sandbox_policy(settings.sandbox)
    assert (policy.timeout, policy.memory_mib, policy.max_processes, policy.max_output_kib) == (7, 512, 16, 64)
    assert (policy.allow_env, policy.allow_levels) == (("LANG",), ("A", "B"))
    # limits the settings do not name keep the library's defaults; the policy stays hashable
    assert (policy.max_file_mib, policy.tmp_mib) == (Policy().max_file_mib, Policy().tmp_mib)
    assert hash(policy) == hash(sandbox_policy(settings.sandbox))


def test_defaults(tmp_path):
    settings, _ = settings_for_workspace(tmp_path, environ={})
    policy = sandbox_policy(settings.sandbox)
    assert policy.allow_levels == ("A",) and policy.timeout == 30.0 and policy.allow_env == ()
