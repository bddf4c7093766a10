"""Semantic search (issue 13 item 7) on the bench tree: top-5 quality of the labelled query
sets with and without vectors, the cost of embedding every definition, and the latency of
the fused search, all in one run.

The embeddings come from the fake server of the tests (tests/support/fake_openai.py: a
hashed bag of words with a few synonym groups, 64 dimensions) through the real openai SDK.
Its vectors know nothing a real model knows, so the quality numbers only show that the
fusion does not break what bm25 finds; they say nothing of a real embeddings model. The
costs are those of this code (requests, storage, brute-force cosine in Python) at 64
dimensions; a real model's 768-1536 dimensions multiply the cosine part by 12-24.

Usage: python bench/index/bench_semantic.py [--files 2000] [--out bench/index/results_semantic.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path[:0] = [str(HERE), str(REPO / "server"), str(REPO / "sandbox"), str(REPO / "tests")]

from bench_index import HOLDOUT_PACKAGES, PACKAGES, build_tree, lat  # noqa: E402


def quality(conn, labelled, search) -> tuple[dict[str, object], list[float]]:
    from codeloop.index import queries as q

    hits, misses, absent, wall = 0, [], [], []
    for item in labelled:
        if not q.lookup(conn, item["expected"]):
            absent.append(item["expected"])
            continue
        started = time.perf_counter()
        found = search(conn, item["query"])
        wall.append((time.perf_counter() - started) * 1000)
        names = [s.qualified_name for s in found]
        if item["expected"] in names:
            hits += 1
        else:
            misses.append({"query": item["query"], "expected": item["expected"], "got": names})
    judged = len(labelled) - len(absent)
    return {"queries": judged, "top5": hits, "share": round(hits / max(judged, 1), 3), "misses": misses}, wall


def measure(root: Path, labelled: list[dict[str, str]], base_url: str) -> dict[str, object]:
    from codeloop.config import IndexSettings, ModelSettings, Settings
    from codeloop.index import queries as q
    from codeloop.index.workspace_index import WorkspaceIndex
    from codeloop.services.embeddings import embedder_for

    out: dict[str, object] = {}
    settings = Settings(model=ModelSettings(base_url=base_url, name="fake-embed", max_retries=0),
                        index=IndexSettings(embeddings="auto"))
    embedder = embedder_for(settings)
    assert embedder is not None
    with WorkspaceIndex(root, root.parent / f"{root.name}.sqlite3") as ix:
        ix.sync()
        out["definitions"] = ix.conn.execute("SELECT count(*) FROM defs").fetchone()[0]
        bm25, bm25_ms = quality(ix.conn, labelled, lambda c, text: q.search(c, text, limit=5))
        started, cpu = time.perf_counter(), time.process_time()
        out["embedded"] = embedder.update(ix.conn)
        out["embed_all_s"] = {"wall": round(time.perf_counter() - started, 2),
                              "cpu_this_process": round(time.process_time() - cpu, 2)}
        assert not embedder.warnings, embedder.warnings
        fused, fused_ms = quality(ix.conn, labelled, lambda c, text: embedder.search(c, text, limit=5))
        started = time.perf_counter()
        again = embedder.update(ix.conn)
        out["nothing_changed_pass"] = {"embedded": again, "wall_s": round(time.perf_counter() - started, 2)}
        out["top5_bm25"], out["top5_fused"] = bm25, fused
        out["search_ms_bm25"], out["search_ms_fused"] = lat(bm25_ms), lat(fused_ms)
        out["db_bytes"] = ix.db_bytes()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--out", default=str(HERE / "results_semantic.json"))
    args = parser.parse_args()
    from support.fake_openai import FakeOpenAI

    results: dict[str, object] = {"load_avg_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        work = Path(tmp)
        for name, packages, limit, queries in (("main", PACKAGES, args.files, "queries.json"),
                                               ("holdout", HOLDOUT_PACKAGES, 10_000, "queries_holdout.json")):
            root = work / name
            root.mkdir()
            (root / "pyproject.toml").write_text(f"[project]\nname = '{name}'\n")
            files = build_tree(root, limit, packages)
            labelled = json.loads((HERE / queries).read_text())
            results[name] = {"python_files": files, **measure(root, labelled, fake.base_url)}
        results["embedding_requests"] = len(fake.requests_to("/embeddings"))
    results["load_avg_end"] = os.getloadavg()[0]
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
