"""`codeloop implement FILE:LINE` against the fake OpenAI server and the sandbox."""

from __future__ import annotations

import json

import pytest

from codeloop.cli import main
from codeloop_sandbox import probe
from support.fake_openai import Reply

STUB = '''def double(x: int) -> int:
    """Twice x.

    >>> double(2)
    4
    """
    ...
'''
RIGHT = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
WRONG = "```python\ndef double(x: int) -> int:\n    return x * 3\n```"  # fails the example
PLUS2 = "```python\ndef double(x: int) -> int:\n    return x + 2\n```"  # passes it: another behaviour
TESTS = "```python\nfrom calc import double\n\ndef test_zero():\n    assert double(0) == 0\n```"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    import codeloop.cli

    monkeypatch.setattr(codeloop.cli, "SUBCOMMAND_MODULES", ["codeloop.cli.implement"])
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test-0123456789abcdefgh")
    for name in ("OPENAI_BASE_URL", "CODELOOP_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(make_project):
    return make_project("proj", {"pyproject.toml": "[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\n", "calc.py": STUB})


def sandbox_or_skip():
    st = probe()
    if st.level not in ("A", "B"):
        pytest.skip(f"bubblewrap cannot run here: {st.detail}")


def cli(fake, project, *extra):
    return main(["implement", f"{project / 'calc.py'}:1", "--base-url", fake.base_url, "--model", "fake-model",
                 "--n", "2", *extra])


def test_verified_is_written(fake_openai, project, capsys):
    sandbox_or_skip()
    fake_openai.add_chat(Reply.text(WRONG, RIGHT), TESTS)
    assert cli(fake_openai, project) == 0
    assert "return 2 * x" in (project / "calc.py").read_text()
    err = capsys.readouterr().err
    assert "verified: Implement double (verified): 1/1 examples, 1/1 model tests, 7/7 return-type checks pass" in err
    from codeloop.learn import RewardLog

    with RewardLog(project.parent / "data" / "codeloop" / "rewards.sqlite3", readonly=True) as log:
        rows = list(log.rows())
    assert [(r.verified, r.accepted) for r in rows] == [(False, None), (True, True)]


def test_unverified_leaves_the_file_alone_unless_accepted(fake_openai, project, capsys):
    sandbox_or_skip()
    fake_openai.add_chat(Reply.text(WRONG, WRONG), TESTS)
    assert cli(fake_openai, project) == 3
    assert (project / "calc.py").read_text() == STUB
    assert "UNVERIFIED: Implement double (unverified)" in capsys.readouterr().err
    fake_openai.add_chat(Reply.text(WRONG, WRONG), TESTS)
    assert cli(fake_openai, project, "--accept-unverified") == 3
    assert "return x * 3" in (project / "calc.py").read_text()


def test_dry_run_prints_a_diff(fake_openai, project, capsys):
    sandbox_or_skip()
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS)
    assert cli(fake_openai, project, "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.startswith("--- a/") and "-    ...\n+    return 2 * x\n" in out
    assert (project / "calc.py").read_text() == STUB


def test_json(fake_openai, project, capsys):
    sandbox_or_skip()
    fake_openai.add_chat(Reply.text(WRONG, RIGHT), TESTS)
    assert cli(fake_openai, project, "--json", "--no-learn") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] and data["written"] and data["level"] == "verified"
    assert [b["candidates"] for b in data["behaviours"]] == [["c2"]] and data["disagreements"] == []
    assert [c["verified"] for c in data["candidates"]] == [False, True]
    assert data["function"].startswith("def double(x: int) -> int:")


def test_model_error_exits_1_and_writes_nothing(fake_openai, project, capsys):
    fake_openai.add_chat(Reply.unauthorized())
    assert cli(fake_openai, project) == 1
    assert (project / "calc.py").read_text() == STUB
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rejected the API key (HTTP 401)" in err[0]


def test_no_model_configured(project, capsys):
    assert main(["implement", f"{project / 'calc.py'}:1"]) == 1
    assert "no model configured" in capsys.readouterr().err


@pytest.mark.parametrize(
    "location, message",
    [
        ("nowhere.py:1", "no such file"),
        ("calc.py", "expected FILE:LINE"),
        ("calc.py:0", "line numbers start at 1"),
        ("calc.py:99", "the file has only"),
    ],
)
def test_bad_input(project, capsys, monkeypatch, location, message):
    monkeypatch.chdir(project)
    assert main(["implement", location]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_nothing_to_implement_there(project, capsys):
    (project / "done.py").write_text("def f():\n    return 1\n")
    assert main(["implement", f"{project / 'done.py'}:1", "--model", "m"]) == 2
    assert "no stub or describing comment to implement here" in capsys.readouterr().err


def test_write_is_version_checked(tmp_path):
    from codeloop.cli import CliError
    from codeloop.cli.implement import write_atomic

    f = tmp_path / "m.py"
    f.write_text("old\n")
    with pytest.raises(CliError, match="changed while the implementation was generated") as info:
        write_atomic(str(f), "new\n", "something else\n")
    assert info.value.code == 1 and f.read_text() == "old\n"
    write_atomic(str(f), "new\n", "old\n")
    assert f.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_ambiguous_exits_3_with_the_disagreement_and_pick_writes_it_with_a_test(fake_openai, project, capsys):
    sandbox_or_skip()
    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS)
    assert cli(fake_openai, project) == 3
    assert (project / "calc.py").read_text() == STUB
    err = capsys.readouterr().err
    assert "AMBIGUOUS: Implement double (ambiguous: 2 behaviours pass your checks; 1, 1 candidates)" in err
    assert "  double(3): 6 (1 candidate) vs 5 (1)\n" in err
    assert "  --pick 2: Implement double as behaviour 2: double(3) -> 5 (1 candidate)" in err

    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS)
    assert cli(fake_openai, project, "--pick", "3") == 3
    assert "--pick: there are 2 behaviours; 3 is not one of them" in capsys.readouterr().err
    assert (project / "calc.py").read_text() == STUB

    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS)
    assert cli(fake_openai, project, "--pick", "1", "--json", "--no-learn") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["level"] == "ambiguous" and data["written"]
    assert data["disagreements"][0] == "double(3): 6 (1 candidate) vs 5 (1)"
    assert [b["support"] for b in data["behaviours"]] == [1, 1]
    assert "return 2 * x" in (project / "calc.py").read_text()
    test_file = project / "tests" / "test_calc.py"
    assert data["test_added"].startswith(f"added test_double_chosen_behaviour to {test_file}")
    test_text = test_file.read_text()
    assert "from calc import double" in test_text and "    assert double(3) == 6\n" in test_text

    # The choice is a test now: the same two candidates no longer leave it open.
    (project / "calc.py").write_text(STUB)
    fake_openai.add_chat(Reply.text(PLUS2, RIGHT), TESTS)
    assert cli(fake_openai, project) == 0
    assert "verified: Implement double (verified): 1/1 examples, 1/1 existing tests" in capsys.readouterr().err


def test_plausible_is_written_only_when_accepted(fake_openai, make_project, capsys):
    sandbox_or_skip()
    project = make_project("plain", {"pyproject.toml": "[tool.codeloop.generate]\nrepair_rounds = 0\nextra_samples = 0\n",
                                     "calc.py": "def double(x: int) -> int:\n    \"\"\"Twice x.\"\"\"\n    ...\n"})
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS)
    assert cli(fake_openai, project) == 3
    err = capsys.readouterr().err
    assert ("plausible: Implement double (plausible: 2/2 candidates agree, 1/1 model tests; no examples to check)"
            in err)
    assert "return 2 * x" not in (project / "calc.py").read_text()
    fake_openai.add_chat(Reply.text(RIGHT, RIGHT), TESTS)
    assert cli(fake_openai, project, "--accept-unverified") == 3
    assert "return 2 * x" in (project / "calc.py").read_text()
