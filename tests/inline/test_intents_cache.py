"""The per-function intents cache survives a chunked pass over a long file.

Diagnostics analyse a document 200 lines at a time (``find_intents(lines=...)``); on a
10k-line file the cache used to be cleared part-way through every pass, so each pass
re-analysed every function and kept the event loop busy (inline completions waited).
"""

from __future__ import annotations

from codeloop.workspace.document import Document
from codeloop.workspace.intents import find_intents
from codeloop.workspace.model import Span

CHUNK = 200


def long_document(functions: int) -> Document:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(functions))
    return Document("file:///tmp/ws/long.py", "# header\n\n" + body, 1)


def chunked(doc: Document) -> list:
    found = {}
    for first in range(0, doc.line_count, CHUNK):
        last = min(first + CHUNK, doc.line_count) - 1
        for it in find_intents(doc, frozenset(), lines=(first, last)):
            found.setdefault((it.kind, it.name, it.span), it)
    return list(found.values())


def test_a_chunked_pass_keeps_every_function_cached():
    doc = long_document(3000)
    first = chunked(doc)
    assert len(first) == 3000
    cache = doc.cache["intents.functions"]
    assert len(cache) >= 3000
    before = {id(v[0][0]) for v in cache.values()}
    doc.apply_changes([(Span(0, 0, 0, 8), "# edited")], 2)
    second = chunked(doc)
    assert [(i.name, i.span) for i in second] == [(i.name, i.span) for i in first]
    after = {id(v[0][0]) for v in doc.cache["intents.functions"].values()}
    assert after == before  # every function's intents came from the cache


def test_the_cache_stays_bounded_across_versions():
    doc = long_document(300)
    chunked(doc)
    for rev in range(20):  # every function changes: old entries must be dropped
        text = doc.text.replace(f"x + {rev}\n", f"x + {rev} + 1\n").replace("return x", "return  x")
        doc.apply_changes([(None, text)], rev + 2)
        chunked(doc)
    assert len(doc.cache["intents.functions"]) <= 2 * doc.line_count + 256
