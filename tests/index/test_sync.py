"""The incremental update: a random sequence of edits, renames and deletes leaves the same
index as a fresh build; files that must not be indexed are skipped, and nothing breaks it."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeloop.index.workspace_index import WorkspaceIndex

SNIPPETS = [
    "def helper(a, b):\n    return a + b\n",
    "from pkg.core import helper\n\n\ndef use(x):\n    return helper(x, 1)\n",
    "class Shape:\n    \"\"\"A shape.\"\"\"\n\n    def area(self):\n        return self.side()\n",
    "from . import core\n\n\ndef test_core():\n    assert core.helper(1, 2) == 3\n",
    "import os\n\nVALUE = os.sep\n",
    "def broken(:\n",
    "",
]
NAMES = ["pkg/__init__.py", "pkg/core.py", "pkg/util.py", "pkg/sub/mod.py", "tests/test_core.py", "top.py",
         "ignored/x.py"]

ops = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.sampled_from(range(len(SNIPPETS)))),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just(0)),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(range(len(NAMES)))),
    st.tuples(st.just("ignore"), st.sampled_from(["ignored/\n", "", "*.py\n!pkg/\n!pkg/*.py\n"]), st.just(0)),
    st.tuples(st.just("sync"), st.just(""), st.just(0)),
)


def apply(root: Path, op: tuple[str, str, int]) -> None:
    kind, name, arg = op
    path = root / name
    if kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SNIPPETS[arg])
    elif kind == "delete":
        path.unlink(missing_ok=True)
    elif kind == "rename" and path.exists():
        dest = root / NAMES[arg]
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
    elif kind == "ignore":
        (root / ".gitignore").write_text(name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ops, min_size=1, max_size=12))
def test_any_sequence_of_changes_gives_the_index_a_fresh_build_gives(tmp_path_factory, dump, ops_list) -> None:
    base = tmp_path_factory.mktemp("case")
    root = base / "ws"
    root.mkdir()
    with WorkspaceIndex(root, base / "incremental.sqlite3") as live:
        live.sync(workers=0)
        for op in ops_list:
            if op[0] == "sync":
                live.sync(workers=0)
            elif op[0] in ("write", "delete") and op[1] != "pkg/__init__.py" and op[2] % 2:
                apply(root, op)
                live.update({str(root / op[1]): None})  # the editor's path: one file at a time
            else:
                apply(root, op)
        live.sync(workers=0)
        with WorkspaceIndex(root, base / "fresh.sqlite3") as fresh:
            fresh.sync(workers=0)
            assert dump(live.conn) == dump(fresh.conn)


def test_a_deleted_function_leaves_the_name_list_though_a_module_has_its_name(tmp_path: Path, make_index) -> None:
    # Found by the test above: module definitions are not in the name list, so a module
    # called "test_core" must not keep the name of a deleted function test_core.
    root = tmp_path / "ws"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_core.py").write_text(SNIPPETS[0])
    (root / "pkg").mkdir()
    (root / "pkg" / "core.py").write_text(SNIPPETS[3])
    ix = make_index(root)
    ix.sync(workers=0)
    assert ("test_core",) in ix.conn.execute("SELECT name FROM names").fetchall()
    (root / "pkg" / "core.py").unlink()
    ix.sync(workers=0)
    assert ix.conn.execute("SELECT name FROM names").fetchall() == [("helper",)]


def test_workers_give_the_same_index_as_one_process(tmp_path: Path, make_index, dump) -> None:
    for i in range(60):
        (tmp_path / "ws" / f"p{i % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "ws" / f"p{i % 3}" / f"m{i}.py").write_text(SNIPPETS[i % 4] + f"\ndef f{i}():\n    return {i}\n")
    one, two = make_index(tmp_path / "ws", "one"), make_index(tmp_path / "ws", "two")
    assert one.sync(workers=0).changed == 60
    assert two.sync(workers=2).changed == 60
    assert dump(one.conn) == dump(two.conn)
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"
    assert two.conn.execute(indexes).fetchall() == one.conn.execute(indexes).fetchall()


def test_more_workers_than_batches_started_clean_give_the_same_index(tmp_path: Path, make_index, dump) -> None:
    """A threaded process starts its workers clean (spawn), and each worker keeps the files it
    parsed while another wrote until the final flush: with more workers asked for than there
    are batches, none is left waiting for a flush partner and nothing is lost."""
    (tmp_path / "ws").mkdir()
    for i in range(60):
        (tmp_path / "ws" / f"m{i}.py").write_text(SNIPPETS[i % 4] + f"\ndef f{i}():\n    return {i}\n")
    one, many = make_index(tmp_path / "ws", "one"), make_index(tmp_path / "ws", "many")
    assert one.sync(workers=0).changed == 60
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert many.sync(workers=6).changed == 60  # 60 files: 4 batches of 16 or less
    finally:
        stop.set()
        thread.join()
    assert dump(one.conn) == dump(many.conn)


def test_unchanged_files_are_not_read_again(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text(SNIPPETS[0])
    os.utime(root / "a.py", ns=(10**18, 10**18))  # an mtime long before the scan
    ix = make_index(root)
    assert ix.sync().changed == 1
    # Other bytes of the same size under the same mtime: were the file read again, the
    # index would change (chmod 0 would not show it: root reads any file).
    original = (root / "a.py").read_text()
    (root / "a.py").write_text("z" * (len(original) - 1) + "\n")
    os.utime(root / "a.py", ns=(10**18, 10**18))
    stats = ix.sync()
    assert (stats.changed, stats.files, dict(stats.skipped)) == (0, 1, {})
    assert ix.conn.execute("SELECT count(*) FROM defs WHERE kind != 'module'").fetchone()[0] >= 1


def test_same_content_with_a_new_mtime_is_not_parsed_again(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text(SNIPPETS[0])
    ix = make_index(root)
    ix.sync()
    (root / "a.py").write_text(SNIPPETS[0])
    assert ix.sync().changed == 0


def test_skips_binary_generated_oversized_ignored_and_tool_folders(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    files = {
        "ok.py": "def ok():\n    pass\n",
        "binary.py": "x = 1\n\0\0\0",
        "gen_pb2.py": "def g():\n    pass\n",
        "made.py": "# @generated by a tool\ndef g():\n    pass\n",
        "huge.py": "x = 1\n" * 400_000,
        "skipme/a.py": "def a():\n    pass\n",
        "notes.py~": "",
        "local.py": "def local():\n    pass\n",
        ".venv/lib/x.py": "def x():\n    pass\n",
        "env2/pyvenv.cfg": "home = /usr\n",
        "env2/lib/y.py": "def y():\n    pass\n",
        "__pycache__/c.py": "",
        ".hidden/h.py": "",
        ".gitignore": "skipme/\n",
        ".codeloopignore": "local.py\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    ix = make_index(root)
    stats = ix.sync()
    assert [p for (p,) in ix.conn.execute("SELECT path FROM files")] == ["ok.py"]
    assert stats.skipped == {"binary": 1, "generated": 2, "oversized": 1}


def test_a_generated_file_is_not_read_again_until_it_changes(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    made, old = root / "made.py", 10**18  # an mtime long before the scan (not "racily clean")
    made.write_text("# @generated by a tool\ndef g():\n    pass\n")
    os.utime(made, ns=(old, old))
    ix = make_index(root)
    assert ix.sync().skipped == {"generated": 1}
    # Same size and mtime, other bytes: were it read again, its function would be indexed.
    made.write_text("# hand written, really\ndef g():\n    pass\n")
    os.utime(made, ns=(old, old))
    stats = ix.sync()
    assert (stats.changed, dict(stats.skipped), stats.files) == (0, {"generated": 1}, 0)
    os.utime(made, ns=(old + 10**9, old + 10**9))  # touched: read again, and now indexed
    stats = ix.sync()
    assert (stats.changed, dict(stats.skipped), stats.files) == (1, {}, 1)
    assert ix.conn.execute("SELECT count(*) FROM skipped").fetchone()[0] == 0
    made.write_text("# @generated by a tool\n")
    os.utime(made, ns=(old, old))
    assert ix.sync().skipped == {"generated": 1}
    made.unlink()  # gone: nothing is remembered of it
    assert (ix.sync().skipped, ix.conn.execute("SELECT count(*) FROM skipped").fetchone()[0]) == ({}, 0)


def test_a_huge_file_is_skipped_and_one_that_grows_past_the_limit_leaves(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "big.py").write_text("def f():\n    pass\n")
    ix = make_index(root, max_bytes=10_000)
    assert ix.sync().files == 1
    (root / "big.py").write_text("def f():\n    pass\n" + "x = 1\n" * 5000)
    stats = ix.sync()
    assert (stats.files, stats.skipped["oversized"]) == (0, 1)


def test_unreadable_and_non_utf8_files(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n\ndef plain():\n"
                                    b"    pass\n")
    (root / "dangling.py").symlink_to(root / "missing.py")
    (root / "fine.py").write_text("def fine():\n    pass\n")
    locked = root / "locked.py"
    locked.write_text("def locked():\n    pass\n")
    locked.chmod(0)
    ix = make_index(root)
    try:
        stats = ix.sync()
    finally:
        locked.chmod(0o644)
    names = {n for (n,) in ix.conn.execute("SELECT name FROM defs")}
    assert {"plain", "fine"} <= names
    assert "caf\xe9" in names  # read by its coding declaration
    assert stats.skipped["unreadable"] == 1  # the dangling link
    if os.geteuid() != 0:  # root reads a mode-000 file anyway
        assert "locked" not in names and any(k.startswith("unreadable (") for k in stats.skipped)


def test_symlink_loops_end_and_linked_folders_are_read_once(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text("def m():\n    pass\n")
    (root / "pkg" / "loop").symlink_to(root)
    (root / "pkg" / "self").symlink_to(root / "pkg")
    (root / "alias").symlink_to(root / "pkg")
    ix = make_index(root)
    stats = ix.sync()
    assert stats.files == 1


def test_renaming_a_file_moves_its_definitions(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "old.py").write_text(SNIPPETS[0])
    ix = make_index(root)
    ix.sync()
    os.replace(root / "pkg" / "old.py", root / "pkg" / "new.py")
    stats = ix.sync()
    assert stats.removed == 1
    assert [q for (q,) in ix.conn.execute("SELECT qualname FROM defs WHERE name = 'helper'")] == ["pkg.new.helper"]


def test_adding_an_init_renames_the_modules_of_its_folder(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "lib" / "m.py").write_text(SNIPPETS[0])
    ix = make_index(root)
    ix.sync()
    assert ix.conn.execute("SELECT module FROM files").fetchone()[0] == "lib.m"
    (root / "src" / "lib" / "__init__.py").write_text("")
    ix.update({str(root / "src" / "lib" / "__init__.py"): None})
    assert sorted(m for (m,) in ix.conn.execute("SELECT module FROM files")) == ["lib", "lib.m"]


def test_the_editor_text_is_indexed_before_it_is_saved(tmp_path: Path, make_index) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text(SNIPPETS[0])
    ix = make_index(root)
    ix.sync()
    ix.update({str(root / "a.py"): b"def renamed(a):\n    return a\n"})
    assert {n for (n,) in ix.conn.execute("SELECT name FROM defs")} == {"a", "renamed"}
    ix.sync()  # the disk has the old text: a scan brings it back
    assert {n for (n,) in ix.conn.execute("SELECT name FROM defs")} == {"a", "helper"}


@pytest.mark.skipif(sys.platform != "linux", reason="cancel timing is checked on Linux")
def test_a_cancelled_first_build_keeps_what_it_wrote_and_the_next_scan_completes(tmp_path: Path, make_index) -> None:
    import threading

    root = tmp_path / "ws"
    root.mkdir()
    for i in range(600):
        (root / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    ix = make_index(root)
    cancel = threading.Event()
    cancel.set()
    first = ix.sync(workers=0, cancel=cancel)
    assert first.cancelled and 0 < first.files < 600
    assert ix.sync(workers=0).files == 600
    shutil.rmtree(root)
    assert ix.sync(workers=0).files == 0


def test_the_editor_parse_gives_the_facts_a_fresh_parse_gives(tmp_path: Path, make_index, dump) -> None:
    """The server hands its own (incrementally re-parsed) tree along with the unsaved text, so
    that the index does not parse the file again; what is stored must not depend on it."""
    from codeloop.workspace.document import Document
    from codeloop.workspace.model import Span

    indexes = {}
    for name in ("given", "parsed"):
        root = tmp_path / name
        root.mkdir()
        (root / "a.py").write_text(SNIPPETS[2] + SNIPPETS[1])
        indexes[name] = make_index(root, name)
        indexes[name].sync()
    doc = Document("file:///a.py", SNIPPETS[2] + SNIPPETS[1], 1)
    doc.tree  # noqa: B018 - parsed once, so that the edits below re-parse incrementally
    doc.apply_changes([(Span(3, 8, 3, 12), "perimeter"), (Span(0, 6, 0, 6), "Big")], 2)
    doc.apply_changes([(Span(9, 0, 9, 0), "def more(y):\n    return use(y) + Shape().area()\n\n\n")], 3)
    for name, ix in indexes.items():
        path = str(tmp_path / name / "a.py")
        ix.update({path: doc.source}, {path: (doc.source, doc.tree)} if name == "given" else None)
    given, parsed = (dump(indexes[name].conn) for name in ("given", "parsed"))
    assert given == parsed
    doc.apply_changes([(Span(0, 0, 0, 0), "import sys\n")], 4)
    for name, ix in indexes.items():  # saved: read from disk, the same bytes as the editor's copy
        path = tmp_path / name / "a.py"
        path.write_bytes(doc.source)
        ix.update({str(path): None}, {str(path): (doc.source, doc.tree)} if name == "given" else None)
    assert dump(indexes["given"].conn) == dump(indexes["parsed"].conn)
    assert {n for (n,) in indexes["given"].conn.execute("SELECT name FROM defs")} >= {"BigShape", "perimeter", "more"}


def test_an_editor_tree_of_text_that_is_not_utf8_is_not_used(tmp_path: Path, make_index) -> None:
    from codeloop.workspace.document import Document

    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text(SNIPPETS[0])
    ix = make_index(root)
    ix.sync()
    doc = Document("file:///a.py", "S = '\udc80'\n\n\ndef after(x):\n    return x\n", 1)  # a lone surrogate
    path = str(root / "a.py")
    ix.update({path: doc.source}, {path: (doc.source, doc.tree)})  # not UTF-8: read as Latin-1, parsed again
    rows = ix.conn.execute("SELECT name, line FROM defs WHERE kind = 'function'").fetchall()
    assert rows == [("after", 4)]
