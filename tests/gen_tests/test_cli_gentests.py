"""End to end: `codeloop gen-tests` on a small fixture project, through the real sandbox."""

from __future__ import annotations

import json

import pytest

from support.gen_tests import expanded_statements, gen_tests, require_level_a, run_generated


@pytest.fixture(scope="module")
def sandbox_ok():
    require_level_a()


def test_writes_passing_tests_raises_coverage_and_reports_the_planted_bug(shop):
    proc = gen_tests("shop.pricing", "--budget", "4", "--seed", "1", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    source = (shop / "shop" / "pricing.py").read_text().splitlines()
    bug_line = next(i for i, line in enumerate(source, 1) if ">>> clamp(4, 0, 3)" in line)
    assert f"pricing.py:{bug_line}: probable bug: clamp(4, 0, 3) returned 4, docstring says 3" in out
    assert "branch coverage of shop.pricing: 0% -> " in out
    after = int(out.split("branch coverage of shop.pricing: 0% -> ")[1].split("%")[0])
    assert after >= 80
    test_file = shop / "tests" / "test_pricing.py"
    text = test_file.read_text()
    assert "@pytest.mark.xfail(reason='probable bug: clamp(4, 0, 3) returned 4, docstring says 3', strict=True)" in text
    assert "from shop.pricing import" in text
    pres = run_generated(shop, "tests/test_pricing.py")
    outcomes = [t.outcome for t in pres.tests]
    assert pres.passed, [(t.nodeid, t.outcome, t.message) for t in pres.tests]
    assert outcomes.count("xfailed") == 1 and outcomes.count("passed") >= 10


def test_same_seed_same_tests(shop, tmp_path):
    # a budget the search ends well inside: a run cut by its clock keeps a different suite
    for name in ("a", "b"):
        proc = gen_tests("shop.pricing", "--budget", "10", "--seed", "7", "--out", str(tmp_path / name), cwd=shop)
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a" / "test_pricing.py").read_text() == (tmp_path / "b" / "test_pricing.py").read_text()
    assert not (shop / "tests").exists()  # --out was honoured


def test_merges_into_the_existing_test_file_without_touching_user_tests(shop):
    user = (
        '"""User tests."""\n\nfrom shop.pricing import label\n\n\n'
        'def test_label_returns_anonymous():\n    assert label("") == "anonymous"\n'
    )
    (shop / "tests").mkdir()
    (shop / "tests" / "test_pricing.py").write_text(user)
    proc = gen_tests("shop.pricing::label", "--budget", "4", "--json", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["coverage_before"] > 0
    assert data["coverage_after"] > data["coverage_before"]
    assert all(t["target"] == "label" for t in data["tests"])
    text = (shop / "tests" / "test_pricing.py").read_text()
    assert text.startswith('"""User tests."""\n\nfrom shop.pricing import label\n')
    assert 'def test_label_returns_anonymous():\n    assert label("") == "anonymous"\n' in text
    names = [line.split("(")[0][4:] for line in text.splitlines() if line.startswith("def ")]
    assert len(names) == len(set(names)) > 1
    assert run_generated(shop, "tests/test_pricing.py").passed


BAD_MODULES = {
    "import_error": ("import no_such_module_codeloop\n", "ModuleNotFoundError"),
    "exits": ("import sys\nsys.exit(3)\n", "sys.exit(3)"),
    "os_exit": ("import os\nos._exit(4)\n", "exit code"),
    "loops": ("while True:\n    pass\n", "did not finish"),
}


@pytest.mark.parametrize("name", sorted(BAD_MODULES))
def test_modules_that_cannot_be_imported_are_bad_input(tmp_path, sandbox_ok, name):
    source, expected = BAD_MODULES[name]
    (tmp_path / f"{name}.py").write_text(source)
    proc = gen_tests(name, "--budget", "3", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codeloop: error: ")
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "tests").exists()


@pytest.mark.parametrize(
    ("files", "target", "expected"),
    [
        ({}, "no_such_mod", "no module named 'no_such_mod'"),
        ({"broken.py": "def f(:\n"}, "broken", "syntax error"),
        ({"ok.py": "def f():\n    return 1\n"}, "ok::g", "no function or class named 'g'"),
        ({}, "missing/file.py", "no such file"),
    ],
)
def test_static_bad_input(tmp_path, files, target, expected):
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    proc = gen_tests(target, "--budget", "3", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def test_llm_engine_without_a_model_says_how_to_configure(tmp_path):
    (tmp_path / "ok.py").write_text("def f():\n    return 1\n")
    proc = gen_tests("ok", "--engine", "llm", cwd=tmp_path)
    assert proc.returncode == 2
    assert "CODELOOP_MODEL" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


HOSTILE_CALLS = '''
import os


def risky(x: int) -> int:
    """Kills its process for 3, spins for 2: the search must survive both."""
    if x == 3:
        os._exit(7)
    while x == 2:
        pass
    if x > 5:
        return 1
    return 0
'''


def test_a_function_the_user_tests_fully_writes_no_test(shop):
    user = (
        "from shop.pricing import label\n\n\n"
        "def test_label():\n"
        '    assert label("") == "anonymous"\n'
        '    assert label("BOB") == "Bob"\n'
        '    assert label(" bob ") == "bob"\n'
    )
    (shop / "tests").mkdir()
    (shop / "tests" / "test_pricing.py").write_text(user)
    proc = gen_tests("shop.pricing::label", "--budget", "4", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert "already covered by 1 test:" in proc.stdout
    assert (shop / "tests" / "test_pricing.py").read_text() == user


def test_calls_that_kill_or_hang_the_search_are_skipped(tmp_path, sandbox_ok):
    (tmp_path / "hostile.py").write_text(HOSTILE_CALLS)
    proc = gen_tests("hostile", "--budget", "6", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert any("ended the search process" in e for e in data["errors"])
    text = (tmp_path / "tests" / "test_hostile.py").read_text()
    assert "risky(3)" not in text and "risky(2)" not in text
    stmts = expanded_statements(text)
    assert any(s.endswith("== 1") for s in stmts) and any(s.endswith("== 0") for s in stmts), stmts
    assert run_generated(tmp_path, "tests/test_hostile.py").passed


STUCK_IN_C = '''def sign(x: int) -> int:
    if x > 0:
        return 1
    return 0


def total(n: int) -> int:
    """sum() over a range runs in C without looking at signals: the alarm waits for it."""
    if n < 1000:
        return 0
    return sum(range(n ** 3))
'''


def test_a_call_stuck_in_c_code_ends_the_search_process_itself(tmp_path, sandbox_ok):
    """The watchdog ends the process (exit code 1) soon after the search's end; before it,
    the host's time limit (sized for a slow import) stopped it many seconds later."""
    (tmp_path / "stuck.py").write_text(STUCK_IN_C)
    proc = gen_tests("stuck", "--budget", "6", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    stuck = [e for e in data["errors"] if "a call to total ended the search process" in e]
    assert stuck == ["a call to total ended the search process (exit code 1); skipped it"], data["errors"]
    assert run_generated(tmp_path, "tests/test_stuck.py").passed


def test_nothing_to_test_exits_1_and_writes_nothing(tmp_path, sandbox_ok):
    (tmp_path / "todo.py").write_text('def later(x: int) -> int:\n    """Not written yet."""\n    ...\n')
    proc = gen_tests("todo", "--budget", "3", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "no tests could be generated" in proc.stdout
    assert not (tmp_path / "tests").exists()


def test_a_docstring_example_the_user_already_tests_is_not_written_again(shop):
    """The user's test asserts the docstring's first example under another name: the
    generated file keeps the user's test and does not add a copy of it."""
    test_file = shop / "tests" / "test_pricing.py"
    test_file.parent.mkdir(exist_ok=True)
    users = "from shop.pricing import clamp\n\n\ndef test_low_values_are_raised():\n    assert clamp(-2, 0, 3) == 0\n"
    test_file.write_text(users)
    proc = gen_tests("shop.pricing", "--budget", "4", "--seed", "1", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    text = test_file.read_text()
    assert text.startswith("from shop.pricing import clamp\n") and users.split("\n\n\n")[1] in text
    assert text.count("assert clamp(-2, 0, 3) == 0") == 1
    assert "def test_clamp" in text  # other clamp tests are still written


def test_demo_tests_read_like_a_reviewers(tmp_path, sandbox_ok):
    """The README demo: no set-up call that asserts nothing, floats through pytest.approx,
    tables as parametrized tests, match= only on the module's own messages."""
    import ast
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    proc = gen_tests("shapes.geometry", "--project", str(demo), "--out", str(tmp_path), "--budget", "10",
                     "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "test_geometry.py").read_text()
    source = (demo / "shapes" / "geometry.py").read_text()
    for fn in ast.parse(text).body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        # a bare `obj.method(...)` before the asserted call is a set-up call that asserts nothing
        bare = [s for s in fn.body[:-1] if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)]
        assert not bare, ast.unparse(fn)
        for node in ast.walk(fn):
            if isinstance(node, ast.keyword) and node.arg == "match":
                assert ast.literal_eval(node.value).replace("\\", "") in source
    assert "pytest.approx(" in text and "@pytest.mark.parametrize(" in text
