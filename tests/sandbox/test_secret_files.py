"""The workspace copy leaves the user's secret files out (environment files, credential
stores) and keeps their templates: code under test cannot read what it was never given."""

from __future__ import annotations

from codeloop_sandbox import Policy, run
from support.files import tree

SECRET = [".env", ".env.local", ".env.production", "deploy.env", ".envrc", ".netrc", ".pgpass", ".git-credentials",
          "config/.env"]
KEPT = [".env.example", ".env.sample", ".env.template", "environment.py", "envs.txt", "config/settings.py"]


def test_secret_files_stay_out_of_the_copy(tmp_path, needs_bwrap):
    ws = tmp_path / "ws"
    for rel in SECRET + KEPT:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(f"TOKEN=value-of-{rel}\n")
    before = tree(ws)
    res = run(["python", "-c", "import os\nfor d, _, fs in os.walk('.'):\n    for f in fs: print(os.path.join(d, f)[2:])"],
              ws, Policy(timeout=30, allow_levels=("A", "B")))
    assert res.exit_code == 0, res
    assert sorted(res.stdout.split()) == sorted(KEPT)
    assert tree(ws) == before
