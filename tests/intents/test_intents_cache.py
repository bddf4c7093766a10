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


SOURCE = '''import math


def area(r):
    """Area.

    >>> area(1)
    3.14
    """


# double(2) -> 4
# a describing comment block


class Shape:
    # the name, e.g. name() == 'shape'
    def name(self):
        ...

    @property
    def sides(self):
        return 0


def perimeter(r):
    return 2 * math.pi * r  # TODO: check
'''

EDITS = [
    ((4, 4, 4, 4), "x"),  # type inside a docstring line
    ((10, 0, 10, 0), "\n"),  # a new line: everything below moves
    ((0, 0, 0, 6), 's = """'),  # open a string at the top: the rest of the file is inside it,
    ((0, 0, 0, 7), "import"),  # same bytes and lines below (only the parse differs); and back
    ((15, 0, 15, 0), "# describe the shape\n"),  # a comment above the class
    ((19, 4, 19, 4), "@staticmethod\n    "),  # a decorator on a method
    ((27, 0, 27, 0), "def stub(x):\n    pass\n\n"),
]


def chunked_by(doc: Document, size: int) -> list:
    out = []
    for first in range(0, doc.line_count, size):
        out.append(find_intents(doc, frozenset({"area"}), lines=(first, min(first + size, doc.line_count) - 1)))
    return out


def test_the_chunk_cache_gives_what_a_fresh_analysis_gives_after_each_edit():
    doc = Document("file:///tmp/ws/shapes.py", SOURCE, 1)
    chunked_by(doc, 5)
    for version, ((sl, sc, el, ec), text) in enumerate(EDITS, start=2):
        doc.apply_changes([(Span(sl, sc, el, ec), text)], version)
        fresh = Document("file:///tmp/ws/shapes.py", doc.text, version)
        for size in (5, 200):
            assert chunked_by(doc, size) == chunked_by(fresh, size), (version, size)
    assert doc.cache["intents.ranges"]  # the cache was in use
