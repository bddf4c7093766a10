"""The static audit: bandit findings, hallucinated imports, forbidden calls."""

from __future__ import annotations

import ast
import sys
import textwrap

import pytest

from codeloop.audit import AuditPolicy, ModuleIndex, audit_code, interpreter_modules, project_modules
from codeloop.audit.imports import imported_modules
from codeloop.audit.policy import policy_findings

INDEX = ModuleIndex(
    stdlib=frozenset(sys.stdlib_module_names),
    installed=frozenset({"yaml", "numpy"}),
    project=frozenset({"mypkg"}),
)


def audit(code: str, **kw):
    return audit_code(textwrap.dedent(code), INDEX, **kw)


def test_clean_code_is_clean():
    report = audit(
        """\
        import math
        from collections import Counter

        def f(xs: list[int]) -> int:
            assert xs
            return math.prod(Counter(xs))
        """
    )
    assert report.ok and report.findings == ()
    assert report.summary() == "audit clean"


def test_hallucinated_import_rejected_with_its_line():
    report = audit(
        """\
        import os
        import dateutil_magic.parser

        def f():
            return dateutil_magic.parser.parse("x")
        """
    )
    assert not report.ok
    (f,) = report.rejections
    assert f.check == "import" and f.line == 2
    assert f.message == "imports unknown module 'dateutil_magic' (not stdlib, not installed, not in the project)"
    assert report.summary().startswith("audit rejected: imports unknown module 'dateutil_magic'")


@pytest.mark.parametrize(
    "stmt",
    ["import yaml", "from numpy import array", "import mypkg.sub", "from __future__ import annotations", "import os.path"],
)
def test_known_modules_are_accepted(stmt):
    assert audit(stmt + "\n").ok


def test_import_inside_function_and_dynamic_import_checked():
    report = audit(
        """\
        import importlib

        def f():
            from fancy_lib import thing
            mod = importlib.import_module("other_fake")
            return __import__("json")
        """
    )
    bad = sorted(f.message.split("'")[1] for f in report.rejections)
    assert bad == ["fancy_lib", "other_fake"]


def test_guarded_import_is_only_a_note():
    report = audit(
        """\
        try:
            import ujson_nonexistent as json
        except ImportError:
            import json
        """
    )
    assert report.ok
    assert [f.check for f in report.notes] == ["import"]


def test_relative_imports_are_project_local():
    assert imported_modules(ast.parse("from . import x\nfrom ..y import z\n")) == []


def test_bandit_high_rejects_and_reports_test_id_line_text():
    report = audit(
        """\
        import hashlib

        def digest(data: bytes) -> str:
            return hashlib.md5(data).hexdigest()
        """
    )
    assert not report.ok
    (f,) = [f for f in report.rejections if f.check == "B324"]
    assert f.line == 4 and f.severity == "high" and "MD5" in f.message


def test_bandit_medium_and_low_are_notes():
    report = audit(
        """\
        import random
        import pickle

        def pick(xs, blob):
            return random.choice(xs), pickle.loads(blob)
        """
    )
    assert report.ok
    checks = {f.check for f in report.notes}
    assert {"B311", "B301"} <= checks or {"B311", "B403"} <= checks
    assert report.summary().startswith("audit: ")


def test_nosec_comments_do_not_silence_the_audit():
    report = audit(
        """\
        import subprocess

        def run(cmd):
            return subprocess.call(cmd, shell=True)  # nosec
        """
    )
    assert not report.ok
    assert {"B602", "policy:shell"} <= {f.check for f in report.rejections}


def test_asserts_are_not_reported():
    assert audit("def f(x):\n    assert x > 0\n    return x\n").findings == ()


@pytest.mark.parametrize(
    "code, category",
    [
        ("import os\ndef f(c):\n    os.system(c)\n", "shell"),
        ("from os import system as s\ndef f(c):\n    s(c)\n", "shell"),
        ("import subprocess as sp\ndef f(c):\n    sp.run(c, shell=True)\n", "shell"),
        ("def f(s):\n    return eval(s)\n", "dynamic-code"),
        ("def f(s):\n    exec(s)\n", "dynamic-code"),
        ("import os\ndef f(p):\n    os.remove(p)\n", "delete-files"),
        ("import shutil\ndef f(p):\n    shutil.rmtree(p)\n", "delete-files"),
        ("from pathlib import Path\ndef f(p):\n    Path(p).unlink()\n", "delete-files"),
        ("import socket\ndef f():\n    return socket.create_connection(('example.org', 80))\n", "network"),
        ("from urllib.request import urlopen\ndef f(u):\n    return urlopen(u).read()\n", "network"),
        ("import os\ndef f():\n    return os.environ['OPENAI_API_KEY']\n", "secrets"),
        ("import os\ndef f():\n    return os.getenv('GITHUB_TOKEN')\n", "secrets"),
    ],
)
def test_forbidden_calls_reject(code, category):
    report = audit_code(code, INDEX)
    assert not report.ok
    assert f"policy:{category}" in {f.check for f in report.rejections}


def test_literal_eval_and_harmless_calls_pass_policy():
    tree = ast.parse("import os\ndef f():\n    os.path.join('a', 'b')\n    eval('1 + 2')\n    return os.environ.get('HOME')\n")
    assert policy_findings(tree) == []


def test_processes_are_notes_by_default_and_can_be_forbidden():
    code = "import subprocess\ndef status():\n    return subprocess.run(['git', 'status'], capture_output=True)\n"
    report = audit_code(code, INDEX, AuditPolicy(bandit=False))
    assert report.ok and {f.check for f in report.notes} == {"policy:processes"}
    strict = AuditPolicy(forbidden=AuditPolicy().forbidden | {"processes"}, bandit=False)
    assert not audit_code(code, INDEX, strict).ok


def test_forking_a_daemon_is_rejected():
    code = "import os\ndef daemon():\n    if os.fork() == 0:\n        os.setsid()\n"
    report = audit_code(code, INDEX, AuditPolicy(bandit=False))
    assert not report.ok and {f.check for f in report.rejections} == {"policy:fork"}


def test_allowing_a_category():
    code = "import os\ndef clean(p):\n    os.remove(p)\n"
    assert audit_code(code, INDEX, AuditPolicy(bandit=False).allowing("delete-files")).ok


def test_unparsable_code_rejected():
    report = audit_code("def f(:\n", INDEX)
    assert not report.ok and report.rejections[0].check == "syntax"


def test_findings_serialise():
    report = audit("import os\ndef f(c):\n    os.system(c)\n")
    data = report.to_list()
    assert all(set(d) == {"check", "severity", "line", "message", "blocking"} for d in data)
    assert data[0]["blocking"] is True


def test_project_modules_scans_root_and_src(tmp_path):
    (tmp_path / "tool.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "inner").mkdir(parents=True)
    (tmp_path / "src" / "inner" / "mod.py").write_text("")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("")
    assert project_modules(tmp_path) == {"tool", "pkg", "inner"}


def test_for_workspace_combines_interpreter_and_project(tmp_path):
    (tmp_path / "helpers.py").write_text("")
    index = ModuleIndex.for_workspace(tmp_path)
    assert index.where("helpers") == "project"
    assert index.where("json") == "stdlib"
    assert index.where("pytest") == "installed"
    assert index.where("surely_not_a_real_module_xyz") is None


def test_other_interpreter_is_asked_once(tmp_path):
    interpreter_modules.cache_clear()
    index = interpreter_modules(sys.executable)
    assert "json" in index.stdlib


def test_other_interpreter_path_probe():
    # A different path to a Python interpreter (the real binary) is probed in a subprocess.
    import os

    real = os.path.realpath(sys.executable)
    base = getattr(sys, "_base_executable", real)
    index = interpreter_modules(base)
    assert "json" in index.stdlib and "os" in index.stdlib
