"""Document model: UTF-16 <-> byte conversion, LSP changes, incremental parsing."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeloop.workspace.document import (
    Document,
    DocumentEditError,
    DocumentLoadError,
    DocumentStore,
    path_to_uri,
    uri_to_path,
)
from codeloop.workspace.model import Span

URI = "file:///tmp/example.py"


def fresh(text: str) -> str:
    return str(Document(URI, text).tree.root_node)


def node_positions(tree) -> list[tuple]:
    """Every node with its bytes and points, to check the points given to tree.edit()."""
    out = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        out.append((node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point)))
        stack.extend(node.children)
    return out


def assert_consistent(doc: Document) -> None:
    assert doc.source == doc.text.encode("utf-8")
    assert str(doc.tree.root_node) == fresh(doc.text)
    assert doc.tree.root_node.end_byte == len(doc.source) or doc.source.strip() == b""


# -- a reference implementation on Python str ---------------------------------------------

_EOL = re.compile(r"\r\n|\r|\n")


def ref_line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _EOL.finditer(text))]


def ref_offset(text: str, line: int, col: int) -> int:
    """Character offset of an LSP position, with the same rules as Document."""
    starts = ref_line_starts(text)
    if line < 0 or col < 0:
        raise DocumentEditError("negative")
    if line == len(starts):
        return len(text)
    if line > len(starts):
        raise DocumentEditError("past end")
    start = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    content = text[start:end].rstrip("\r\n") if line + 1 < len(starts) else text[start:end]
    units = 0
    for i, ch in enumerate(content):
        width = 2 if ord(ch) > 0xFFFF else 1
        if units + width > col:
            return start + i
        units += width
    return start + len(content)


def ref_apply(text: str, changes) -> str:
    for rng, new in changes:
        if rng is None:
            text = new
            continue
        s = ref_offset(text, rng.start_line, rng.start_col)
        e = ref_offset(text, rng.end_line, rng.end_col)
        if (rng.start_line, rng.start_col) > (rng.end_line, rng.end_col) or s > e:
            raise DocumentEditError("start after end")
        text = text[:s] + new + text[e:]
    return text


# -- unit tests ---------------------------------------------------------------------------


def test_ascii_positions_and_edit():
    doc = Document(URI, "def f(x):\n    return x\n", 1)
    assert doc.offset_at(1, 4) == 14
    assert doc.position_at(14) == (1, 4)
    doc.apply_changes([(Span(1, 11, 1, 12), "x + 1")], 2)
    assert doc.text == "def f(x):\n    return x + 1\n"
    assert doc.version == 2
    assert_consistent(doc)


def test_non_ascii_columns_are_utf16():
    doc = Document(URI, 'name = "café"; x = 1\n')
    # 'é' is 1 UTF-16 unit and 2 UTF-8 bytes
    assert doc.offset_at(0, 13) == 14  # after the closing quote
    assert doc.position_at(14) == (0, 13)
    doc.apply_changes([(Span(0, 19, 0, 20), "2")], None)
    assert doc.text == 'name = "café"; x = 2\n'
    assert_consistent(doc)


def test_emoji_surrogate_pairs():
    text = 's = "😀😀"\nt = 1\n'
    doc = Document(URI, text)
    # each emoji: 2 UTF-16 units, 4 UTF-8 bytes
    assert doc.offset_at(0, 5) == 5
    assert doc.offset_at(0, 7) == 9
    assert doc.offset_at(0, 9) == 13
    assert doc.offset_at(0, 6) == 5  # inside a surrogate pair: rounds down
    assert doc.position_at(9) == (0, 7)
    assert doc.position_at(14) == (0, 10)
    doc.apply_changes([(Span(0, 7, 0, 9), "🎉x")], None)
    assert doc.text == 's = "😀🎉x"\nt = 1\n'
    assert_consistent(doc)


def test_column_past_line_end_is_clamped():
    doc = Document(URI, "ab\r\ncd\n")
    assert doc.offset_at(0, 99) == 2
    doc.apply_changes([(Span(0, 50, 0, 60), "!")], None)
    assert doc.text == "ab!\r\ncd\n"


def test_line_one_past_the_end_means_end_of_document():
    doc = Document(URI, "a = 1\n")
    doc.apply_changes([(Span(1, 0, 1, 0), "b = 2\n")], None)
    assert doc.text == "a = 1\nb = 2\n"
    assert_consistent(doc)


def test_multi_change_batch_applies_in_order():
    doc = Document(URI, "x = 1\ny = 2\n")
    doc.apply_changes(
        [
            (Span(0, 4, 0, 5), "10"),  # x = 10
            (Span(1, 0, 1, 0), "z = 3\n"),  # coordinates are those after the first change
            (Span(2, 4, 2, 5), "20"),
        ],
        7,
    )
    assert doc.text == "x = 10\nz = 3\ny = 20\n"
    assert doc.version == 7
    assert_consistent(doc)


def test_full_replacement_then_edit():
    doc = Document(URI, "old = 1\n")
    doc.apply_changes([(None, "def g():\n    pass\n"), (Span(1, 4, 1, 8), "return 1")], 3)
    assert doc.text == "def g():\n    return 1\n"
    assert_consistent(doc)


@pytest.mark.parametrize(
    "rng",
    [
        Span(5, 0, 5, 0),  # line beyond last line + 1
        Span(0, 3, 0, 1),  # start after end
        Span(1, 0, 0, 0),
        Span(-1, 0, 0, 0),
    ],
)
def test_invalid_range_leaves_document_unchanged(rng):
    doc = Document(URI, "a = 1\nb = 2\n", 1)
    tree_before = str(doc.tree.root_node)
    with pytest.raises(DocumentEditError):
        doc.apply_changes([(Span(0, 0, 0, 1), "A"), (rng, "zzz")], 2)
    assert doc.text == "a = 1\nb = 2\n"
    assert doc.version == 1
    assert str(doc.tree.root_node) == tree_before
    # and the document still edits fine afterwards
    doc.apply_changes([(Span(0, 0, 0, 1), "c")], 3)
    assert doc.text == "c = 1\nb = 2\n"
    assert_consistent(doc)


def test_old_tree_survives_edit():
    doc = Document(URI, "a = 1\n")
    old = doc.tree
    doc.apply_changes([(Span(0, 0, 0, 0), "# hi\n")], None)
    assert str(old.root_node) == fresh("a = 1\n")


def test_lone_cr_and_crlf_lines():
    doc = Document(URI, "a = 1\rb = 2\r\nc = 3\n")
    assert doc.line_count == 4
    assert doc.offset_at(1, 0) == 6
    assert doc.offset_at(2, 0) == 13
    doc.apply_changes([(Span(1, 4, 1, 5), "9")], None)
    assert doc.text == "a = 1\rb = 9\r\nc = 3\n"
    # splitting a \r\n pair and joining a \r with a \n
    doc.apply_changes([(Span(0, 5, 0, 5), "")], None)
    doc.apply_changes([(Span(1, 0, 1, 0), "\n")], None)
    assert doc.text == "a = 1\r\nb = 9\r\nc = 3\n"
    assert doc.line_count == 4
    assert_consistent(doc)


def test_store_open_change_close_and_errors(tmp_path):
    store = DocumentStore()
    f = tmp_path / "m ö.py"
    f.write_text("x = 1\n", encoding="utf-8")
    uri = path_to_uri(f)
    assert "%20" in uri and uri_to_path(uri) == str(f)
    assert store.get_or_load(f).text == "x = 1\n"  # from disk
    doc = store.open(uri, "x = 2\n", 1)
    assert store.get_or_load(str(f)) is doc  # open documents win, by path or by URI
    assert store.get_or_load(uri) is doc
    store.change(uri, [(Span(0, 4, 0, 5), "3")], 2)
    assert store.get(uri).text == "x = 3\n"
    store.close(uri)
    assert store.get(uri) is None
    with pytest.raises(DocumentEditError, match="document not open"):
        store.change(uri, [(None, "")], 3)
    assert store.get_or_load(uri).text == "x = 1\n"


def test_store_load_errors(tmp_path):
    store = DocumentStore()
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"x = 1\n\xff\n")
    with pytest.raises(DocumentLoadError, match=r"cannot decode .*bad.py as UTF-8 \(byte 0xff at offset 6\)"):
        store.get_or_load(bad)
    binary = tmp_path / "bin.py"
    binary.write_bytes(b"\x00\x01")
    with pytest.raises(DocumentLoadError, match="binary"):
        store.get_or_load(binary)
    with pytest.raises(DocumentLoadError, match="no such file"):
        store.get_or_load(tmp_path / "missing.py")
    with pytest.raises(DocumentLoadError, match="directory"):
        store.get_or_load(tmp_path)
    with pytest.raises(DocumentLoadError):
        store.get_or_load("untitled:Untitled-1")


def test_non_file_uri_has_no_path():
    assert Document("untitled:Untitled-1", "x").path is None


# -- property test ---------------------------------------------------------------------

_snippets = st.sampled_from(
    ["\n", "\r\n", "\r", "😀", "é", "中", "def ", "(", ")", ":", "    ", "'", '"""', "#", "x", "1", " "]
)
_texts = st.lists(st.one_of(_snippets, st.text(max_size=4)), max_size=6).map("".join)


@st.composite
def edit_batches(draw):
    n = draw(st.integers(1, 3))
    batch = []
    for _ in range(n):
        if draw(st.integers(0, 20)) == 0:
            batch.append((None, draw(_texts)))
            continue
        sl = draw(st.integers(0, 8))
        el = draw(st.integers(sl, sl + 2)) if draw(st.booleans()) else sl
        sc = draw(st.integers(0, 12))
        ec = draw(st.integers(0, 12)) if el != sl else draw(st.integers(sc, sc + 6))
        if draw(st.integers(0, 15)) == 0:
            sl, el, sc, ec = el, sl, ec, sc  # sometimes reversed
        batch.append((Span(sl, sc, el, ec), draw(_texts)))
    return batch


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    initial=st.lists(st.one_of(_snippets, st.text(max_size=6)), max_size=12).map("".join),
    batches=st.lists(edit_batches(), min_size=1, max_size=8),
)
def test_incremental_edits_match_fresh_parse_and_reference(initial, batches):
    doc = Document(URI, initial, 0)
    text = initial
    for version, batch in enumerate(batches, 1):
        try:
            expected = ref_apply(text, batch)
        except DocumentEditError:
            expected = None
        if expected is None:
            with pytest.raises(DocumentEditError):
                doc.apply_changes(batch, version)
            assert doc.text == text
        else:
            doc.apply_changes(batch, version)
            text = expected
        assert doc.text == text
        assert doc.source == text.encode("utf-8")
        assert str(doc.tree.root_node) == fresh(text)
        assert node_positions(doc.tree) == node_positions(Document(URI, text).tree)
        assert doc.line_count == len(ref_line_starts(text))
        assert [doc.offset_at(line, 0) for line in range(doc.line_count)] == [
            len(text[:start].encode("utf-8")) for start in ref_line_starts(text)
        ]
        # positions round-trip at every line start and end
        for line in range(doc.line_count):
            off = doc.offset_at(line, 10**6)
            assert doc.position_at(doc.offset_at(line, 0)) == (line, 0)
            assert doc.position_at(off)[0] == line


def test_disk_documents_are_reloaded_when_the_file_changes(tmp_path):
    import os

    store = DocumentStore()
    f = tmp_path / "m.py"
    f.write_text("x = 1\n", encoding="utf-8")
    first = store.get_or_load(f)
    assert store.get_or_load(f) is first  # cached while unchanged
    f.write_text("x = 22\n", encoding="utf-8")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert store.get_or_load(f).text == "x = 22\n"
