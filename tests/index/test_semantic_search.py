"""Optional semantic search (issue 13 item 7) through the fake server's /v1/embeddings and
the real openai SDK: vectors find what bm25 cannot, nothing changes without embeddings, a
failing endpoint gives one warning and bm25, and only changed definitions are embedded again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeloop.config import IndexSettings, ModelSettings, Settings
from codeloop.index import queries as q
from codeloop.index.vectors import fuse, has_vectors
from codeloop.services.embeddings import Embedder, embedder_for
from codeloop.services.index import IndexRequest, SearchRequest, index_workspace, search_workspace

PROJECT = {
    "pyproject.toml": "[project]\nname = 'store'\n",
    "store/__init__.py": "",
    "store/cache.py": (
        '"""A small in-memory cache."""\n\n\n'
        "def purge_stale_entries(table, now):\n"
        '    """Drop the expired ones."""\n'
        "    for key in [k for k, (t, _) in table.items() if t < now]:\n"
        "        del table[key]\n\n\n"
        "def lookup_key(table, key):\n"
        '    """The value stored under a key, or None."""\n'
        "    return table.get(key, (0, None))[1]\n"
    ),
    "store/billing.py": (
        "def invoice_total(lines):\n"
        '    """Sum the lines of an invoice."""\n'
        "    return sum(lines)\n\n\n"
        "def format_header(title):\n"
        '    """A title line for a report."""\n'
        "    return title.upper()\n"
    ),
}
QUERY = "remove old records"  # none of these words is in the project


def settings_for(base_url: str | None, embeddings: str = "auto") -> Settings:
    model = ModelSettings(base_url=base_url, name="fake-embed" if base_url else None, max_retries=0, timeout=10.0)
    return Settings(model=model, index=IndexSettings(embeddings=embeddings))


@pytest.fixture
def project(tmp_path: Path, write_tree) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


def embedding_inputs(fake) -> list[str]:
    return [text for r in fake.requests_to("/embeddings") for text in r.body["input"]]


def test_a_query_in_other_words_finds_the_definition_by_vector(project: Path, tmp_path: Path, fake_openai) -> None:
    db = tmp_path / "db.sqlite3"
    embedder = embedder_for(settings_for(fake_openai.base_url))
    assert isinstance(embedder, Embedder)
    out = index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    assert out.warnings == [] and out.embedded == 7  # 4 functions and 3 modules
    plain = search_workspace(SearchRequest(str(project), QUERY, db_path=db)).results
    assert "purge_stale_entries" not in [s.name for s in plain]  # bm25 alone cannot
    found = search_workspace(SearchRequest(str(project), QUERY, db_path=db, embedder=embedder)).results
    assert found[0].qualified_name == "store.cache.purge_stale_entries"
    # A query bm25 answers keeps its best result on top after the fusion.
    both = search_workspace(SearchRequest(str(project), "invoice total", db_path=db, embedder=embedder)).results
    assert both[0].name == "invoice_total"
    assert [s.name for s in search_workspace(SearchRequest(str(project), "report title", kind="function",
                                                           db_path=db, embedder=embedder)).results][0] == \
        "format_header"


def test_without_embeddings_nothing_changes_and_nothing_is_asked(project: Path, tmp_path: Path,
                                                                 fake_openai) -> None:
    assert embedder_for(Settings()) is None  # the default: off
    assert embedder_for(settings_for(None)) is None  # auto, but no model configured
    assert embedder_for(settings_for(fake_openai.base_url, "off")) is None
    db = tmp_path / "db.sqlite3"
    index_workspace(IndexRequest(str(project), db_path=db))
    import sqlite3

    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "embeddings" not in tables and not has_vectors(conn)
    for query in ("invoice", "table key", QUERY, "cache"):
        assert search_workspace(SearchRequest(str(project), query, db_path=db)).results == q.search(conn, query)
        # An embedder over an index without vectors answers exactly as bm25 (and asks nothing).
        with_embedder = Embedder(None, "unused")
        assert with_embedder.search(conn, query) == q.search(conn, query)
    conn.close()
    assert fake_openai.requests_to("/embeddings") == []


def test_a_failing_endpoint_gives_one_warning_and_bm25(project: Path, tmp_path: Path, fake_openai) -> None:
    fake_openai.embeddings_status = 500
    db = tmp_path / "db.sqlite3"
    embedder = embedder_for(settings_for(fake_openai.base_url))
    out = index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    assert len(out.warnings) == 1 and "embeddings unavailable" in out.warnings[0] and "500" in out.warnings[0]
    assert out.embedded == 0
    searched = search_workspace(SearchRequest(str(project), "invoice", db_path=db, embedder=embedder))
    bm25 = search_workspace(SearchRequest(str(project), "invoice", db_path=db))
    assert searched.results == bm25.results and searched.results
    assert len(searched.warnings) == 1
    assert len(fake_openai.requests_to("/embeddings")) == 1  # off after the first failure


def test_a_failure_at_query_time_falls_back_to_bm25(project: Path, tmp_path: Path, fake_openai) -> None:
    db = tmp_path / "db.sqlite3"
    embedder = embedder_for(settings_for(fake_openai.base_url))
    index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    fake_openai.embeddings_status = 503
    searched = search_workspace(SearchRequest(str(project), "invoice", db_path=db, embedder=embedder))
    assert searched.results == search_workspace(SearchRequest(str(project), "invoice", db_path=db)).results
    assert len(searched.warnings) == 1 and "503" in searched.warnings[0]


def test_only_changed_definitions_are_embedded_again(project: Path, tmp_path: Path, fake_openai) -> None:
    db = tmp_path / "db.sqlite3"
    embedder = embedder_for(settings_for(fake_openai.base_url))
    index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    first = embedding_inputs(fake_openai)
    assert len(first) == 7
    again = index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    assert again.embedded == 0 and len(embedding_inputs(fake_openai)) == 7  # nothing changed: no request
    billing = project / "store" / "billing.py"
    billing.write_text(billing.read_text().replace('"""Sum the lines of an invoice."""',
                                                   '"""Add up what the customer owes."""'))
    out = index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    new = embedding_inputs(fake_openai)[7:]
    assert out.embedded == 1 and len(new) == 1 and new[0].startswith("function store.billing.invoice_total(lines)")
    # A new file's definitions (and the module) are embedded; removed ones leave no vector behind.
    (project / "store" / "mail.py").write_text("def send_letter(to):\n    return to\n")
    (project / "store" / "cache.py").unlink()
    out = index_workspace(IndexRequest(str(project), db_path=db, embedder=embedder))
    assert out.embedded == 2
    import sqlite3

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM defs").fetchone()[0] == 6  # 3 functions, 3 modules
    conn.close()
    found = search_workspace(SearchRequest(str(project), "dispatch", "function", db_path=db,
                                                 embedder=embedder)).results
    assert found[0].name == "send_letter"


def test_reciprocal_rank_fusion() -> None:
    assert fuse([[1, 2, 3], [3, 4]]) == [(3, pytest.approx(1 / 63 + 1 / 61)), (1, pytest.approx(1 / 61)),
                                          (2, pytest.approx(1 / 62)), (4, pytest.approx(1 / 62))]
    assert fuse([[5, 6], []]) == [(5, pytest.approx(1 / 61)), (6, pytest.approx(1 / 62))]


def test_cli_index_and_search_with_embeddings(project: Path, tmp_path: Path, fake_openai) -> None:
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'store'\n\n[tool.codeloop.model]\n"
        f"base_url = '{fake_openai.base_url}'\nname = 'fake-embed'\n\n[tool.codeloop.index]\nembeddings = 'auto'\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "codeloop", *args], cwd=project, env=env, capture_output=True,
                              text=True, timeout=120)

    built = cli("index", "--json")
    assert built.returncode == 0, built.stderr
    assert len(embedding_inputs(fake_openai)) == 7
    found = cli("search", QUERY, "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["qualified_name"] == "store.cache.purge_stale_entries"


def test_the_live_index_embeds_in_the_background(project: Path, tmp_path: Path, fake_openai) -> None:
    from codeloop.services.live_index import LiveIndex

    embedder = embedder_for(settings_for(fake_openai.base_url))
    live = LiveIndex(project, tmp_path / "live.sqlite3", embedder=embedder)
    try:
        live.scan().result(timeout=60)
        assert live.embedded().result(timeout=60) == 0 and len(embedding_inputs(fake_openai)) == 7
        found = live.search(QUERY).result(timeout=30)
        assert found[0].qualified_name == "store.cache.purge_stale_entries"
        asked = len(embedding_inputs(fake_openai))  # + the query
        cache = project / "store" / "cache.py"
        live.change(str(cache), cache.read_bytes().replace(b"Drop the expired ones.", b"Discard outdated rows.")
                    ).result(timeout=30)
        live.embedded().result(timeout=60)
        new = embedding_inputs(fake_openai)[asked:]
        assert len(new) == 1 and new[0].startswith("function store.cache.purge_stale_entries(table, now)")
        assert "outdated" in new[0]
    finally:
        live.close()


def test_the_live_index_without_embeddings_asks_nothing(project: Path, tmp_path: Path, fake_openai) -> None:
    from codeloop.services.live_index import LiveIndex

    live = LiveIndex(project, tmp_path / "live.sqlite3", embedder=embedder_for(settings_for(fake_openai.base_url,
                                                                                             "off")))
    try:
        live.scan().result(timeout=60)
        assert live.embedded().result(timeout=10) == 0
        assert [s.id for s in live.search("invoice").result(timeout=30)] == \
            [s.id for s in live.read(lambda conn: q.search(conn, "invoice"), []).result(timeout=30)]
    finally:
        live.close()
    assert fake_openai.requests == []


def test_embedding_runs_in_bounded_passes_and_stops_when_cancelled(project: Path, tmp_path: Path, fake_openai,
                                                                    make_index) -> None:
    import threading

    ix = make_index(project)
    ix.sync()
    embedder = embedder_for(settings_for(fake_openai.base_url))
    cancel = threading.Event()
    cancel.set()
    assert embedder.update(ix.conn, cancel) == 0 and fake_openai.requests_to("/embeddings") == []
    assert embedder.update(ix.conn, limit=3) == 7
    assert [len(r.body["input"]) for r in fake_openai.requests_to("/embeddings")] == [3, 3, 1]
    assert embedder.update(ix.conn, limit=3) == 0


async def test_the_language_server_embeds_the_index_and_follows_edits(project: Path, tmp_path: Path,
                                                                      fake_openai) -> None:
    from support.lsp_client import (
        change_document,
        fake_model_env,
        initialize,
        open_document,
        start_server,
        stop_server,
        wait_for,
    )

    env = {**fake_model_env(fake_openai, tmp_path, model="fake-embed"), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    client = await start_server(env)
    try:
        await initialize(client, project, {"index": {"embeddings": "auto"}})
        await wait_for(lambda: len(embedding_inputs(fake_openai)) >= 7, timeout=120, what="the first embedding")
        first = embedding_inputs(fake_openai)
        assert len(first) == 7 and all(r.body["model"] == "fake-embed" for r in fake_openai.requests_to("/embeddings"))
        billing = project / "store" / "billing.py"
        text = billing.read_text()
        uri = open_document(client, billing, text)
        change_document(client, uri, 2, [(None, text.replace("Sum the lines", "Add up the lines"))])
        await wait_for(lambda: len(embedding_inputs(fake_openai)) > 7, timeout=60, what="the edit's embedding")
        new = embedding_inputs(fake_openai)[7:]
        assert len(new) == 1 and "Add up the lines" in new[0]
    finally:
        await stop_server(client)


def test_a_definition_id_used_again_gets_the_vector_of_its_new_text(project: Path, fake_openai, make_index) -> None:
    ix = make_index(project)
    ix.sync()
    embedder = embedder_for(settings_for(fake_openai.base_url))
    embedder.update(ix.conn)
    last_id, path = ix.conn.execute("SELECT d.id, f.path FROM defs d JOIN files f ON f.id = d.file_id "
                                    "ORDER BY d.id DESC LIMIT 1").fetchone()
    (project / path).unlink()  # the newest ids go, and the next file gets them again
    ix.sync()
    (project / "store" / "mail.py").write_text('def notify(who):\n    """Email the customer."""\n')
    ix.sync()
    assert ix.conn.execute("SELECT max(id) FROM defs").fetchone()[0] <= last_id
    asked = len(embedding_inputs(fake_openai))
    assert embedder.update(ix.conn) == 2  # the module and its function
    assert any("Email the customer." in text for text in embedding_inputs(fake_openai)[asked:])
    assert ix.conn.execute("SELECT count(*) FROM defs d JOIN def_vectors m ON m.def_id = d.id").fetchone()[0] == \
        ix.conn.execute("SELECT count(*) FROM defs").fetchone()[0]
    assert embedder.update(ix.conn) == 0
    assert embedder.search(ix.conn, "send mail", "function")[0].name == "notify"
