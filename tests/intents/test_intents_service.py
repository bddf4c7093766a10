"""The intents service without LSP or CLI: files, one document, syntax findings, bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codeloop.job import Job
from codeloop.services.intents import IntentsInputError, IntentsRequest, find_intents
from codeloop.workspace.document import Document

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"


def test_paths_give_intents_with_the_workspace_tests():
    geometry = str(DEMO / "shapes" / "geometry.py")
    outcome = find_intents(IntentsRequest(paths=[geometry]), Job())
    assert [f.path for f in outcome.files] == [geometry]
    found = {(it.kind, it.name): it for _, it in outcome.intents}
    assert ("implement", "circle_area") in found
    assert found[("generate_tests", "clamp")].untested  # no test in examples/demo/tests names it
    assert not found[("generate_tests", "rectangle_area")].untested
    assert outcome.files[0].syntax == []  # not asked for


def test_a_directory_expands_to_its_python_files(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("def f(x):\n    pass\n")
    (tmp_path / "pkg" / "b.py").write_text("# TODO: write b\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "c.py").write_text("def g():\n    ...\n")
    outcome = find_intents(IntentsRequest(paths=[str(tmp_path)]), Job())
    assert [Path(f.path).name for f in outcome.files] == ["a.py", "b.py"]
    assert [(it.kind, it.name) for _, it in outcome.intents] == [
        ("implement", "f"), ("generate_tests", "f"), ("todo", "TODO")]


def test_syntax_findings_are_errors_with_the_given_path(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    return 1\n")
    outcome = find_intents(IntentsRequest(paths=[str(bad)], syntax=True), Job())
    syntax = outcome.files[0].syntax
    assert syntax and all(f.severity == "error" and f.path == str(bad) for f in syntax)
    assert syntax[0].format().startswith(f"{bad}:1:")
    assert "syntax error" in syntax[0].message


def test_one_document_with_a_line_range_and_given_names():
    src = textwrap.dedent(
        """\
        def done(x):
            return x


        def todo_later(y):
            ...
        """
    )
    doc = Document("file:///nowhere/mod.py", src)
    request = IntentsRequest(document=doc, lines=(4, 5), tested_names=frozenset({"done"}))
    outcome = find_intents(request, Job())
    assert [(it.kind, it.name, it.untested) for _, it in outcome.intents] == [
        ("implement", "todo_later", False), ("generate_tests", "todo_later", True)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: str(p / "missing.py"), "no such file or directory"),
        (lambda p: str(p), "no Python files in directory"),
    ],
)
def test_bad_input_is_an_intents_input_error(tmp_path, make, message):
    with pytest.raises(IntentsInputError, match=message):
        find_intents(IntentsRequest(paths=[make(tmp_path)]), Job())


def test_progress_and_cancellation(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("def f():\n    pass\n")
    seen: list[tuple[str, float]] = []
    outcome = find_intents(IntentsRequest(paths=[str(tmp_path)]), Job(lambda m, f: seen.append((m, f))))
    assert [Path(m).name for m, _ in seen] == ["a.py", "b.py"] and seen[0][1] == 0.0
    assert not outcome.cancelled
    job = Job()
    job.stop()
    stopped = find_intents(IntentsRequest(paths=[str(tmp_path)]), job)
    assert stopped.cancelled and stopped.files == []
