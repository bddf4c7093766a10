"""One file's facts: definitions, imports and references as tree-sitter reads them."""

from __future__ import annotations

from codeloop.index.extract import extract
from codeloop.workspace.document import new_parser

SOURCE = b'''"""The module."""
import os
import a.b as ab
from . import sibling
from ..up import thing as th

CONST = 3


@register("x")
@staticmethod
class Shape(Base):
    """A shape.

    With a longer text.
    """

    def area(self, scale: float = 1.0, *rest, **options) -> float:
        local = scale * 2
        self.grow(local)
        os.path.join(ab.make(), th)
        return helper(CONST, len(rest))


def helper(a,
           b):
    def inner():
        return a
    return sibling.tool(a) + Shape.area


def test_helper():
    assert helper(1, 2)
'''


def facts(is_test: bool = False):
    return extract(SOURCE, "pkg.sub.mod", is_test_file=is_test, parser=new_parser())


def test_definitions_with_signatures_docstrings_decorators_and_ranges() -> None:
    defs = {d.qualname: d for d in facts().defs}
    assert list(defs) == ["pkg.sub.mod", "pkg.sub.mod.Shape", "pkg.sub.mod.Shape.area", "pkg.sub.mod.helper",
                          "pkg.sub.mod.helper.inner", "pkg.sub.mod.test_helper"]
    module, shape, area, helper = (defs[q] for q in list(defs)[:4])
    assert (module.kind, module.doc) == ("module", "The module.")
    assert (shape.kind, shape.signature, shape.doc) == ("class", "(Base)", "A shape.\n\nWith a longer text.")
    assert shape.decorators == 'register("x")\nstaticmethod'
    assert (shape.start_line, shape.line, shape.end_line) == (10, 12, 22)
    assert (area.kind, area.signature) == ("method", "(self, scale: float = 1.0, *rest, **options) -> float")
    assert (helper.kind, helper.signature, helper.line, helper.col) == ("function", "(a, b)", 25, 4)
    assert defs["pkg.sub.mod.helper.inner"].kind == "function"


def test_imports_resolve_relative_names() -> None:
    assert facts().imports == [("os", "os", 2), ("ab", "a.b", 3), ("sibling", "pkg.sub.sibling", 4),
                               ("th", "pkg.up.thing", 5)]


def test_references_carry_their_definition_and_target() -> None:
    f = facts()
    refs = {(f.defs[scope].name, name, target, kind) for scope, name, target, kind, _line, _col in f.refs}
    assert ("area", "grow", "pkg.sub.mod.Shape.grow", "call") in refs  # self.grow() in a method of Shape
    assert ("area", "join", "os.path.join", "call") in refs
    assert ("area", "make", "a.b.make", "call") in refs  # through the alias
    assert ("area", "th", "pkg.up.thing", "name") in refs
    assert ("area", "helper", "pkg.sub.mod.helper", "call") in refs
    assert ("area", "CONST", "pkg.sub.mod.CONST", "name") in refs
    assert ("helper", "tool", "pkg.sub.sibling.tool", "call") in refs
    assert ("helper", "area", "pkg.sub.mod.Shape.area", "attr") in refs
    assert ("mod", "sibling", "pkg.sub.sibling", "import") in refs
    assert ("mod", "register", None, "call") in refs  # a decorator belongs to the scope around
    names = {name for _s, name, *_ in f.refs}
    # parameters, locals, self and builtins the module does not rebind are not references
    assert not names & {"scale", "local", "rest", "self", "len", "a"} - {"a"}
    assert ("inner", "a") not in {(f.defs[s].name, n) for s, n, *_ in f.refs}  # a closure's variable


def test_test_functions_are_marked_in_test_files_only() -> None:
    assert [d.name for d in facts(is_test=True).defs if d.is_test] == ["test_helper"]
    assert not any(d.is_test for d in facts(is_test=False).defs)


def test_a_file_that_does_not_parse_still_gives_what_it_can() -> None:
    f = extract(b"def ok(x):\n    return x\n\ndef broken(:\n", "m", parser=new_parser())
    assert "m.ok" in [d.qualname for d in f.defs]


def test_non_utf8_bytes_are_replaced_not_fatal() -> None:
    f = extract(b'# -*- coding: latin-1 -*-\ndef caf\xe9():\n    """Cr\xe8me."""\n', "m", parser=new_parser())
    assert f.defs[0].kind == "module"


def test_an_attributes_target_follows_its_dotted_object_only() -> None:
    src = (b"import os\nimport pkg\n\n"
           b"def f(p):\n"
           b"    os.path.join(p)\n"  # a chain of names: resolved through the import
           b"    pkg .mod\n"  # spaces around the "." as the tree allows
           b"    os.getcwd().strip()\n"  # the object is a call: no dotted name to resolve
           b"    os.environ['X'].lower\n"  # a subscript: none either
           b"    os.getcwd().name.upper()\n"  # nor a chain behind a call (no "os.getcwd().name.upper")
           b"    (\n        os\n        .sep\n    )\n")
    f = extract(src, "m", parser=new_parser())
    refs = {(name, target, kind) for _s, name, target, kind, _l, _c in f.refs}
    assert {("path", "os.path", "attr"), ("join", "os.path.join", "call"), ("mod", "pkg.mod", "attr"),
            ("getcwd", "os.getcwd", "call"), ("strip", None, "call"), ("lower", None, "attr"),
            ("sep", "os.sep", "attr"), ("upper", None, "call")} <= refs


def test_a_long_file_queried_in_stretches_gives_the_facts_of_one_query() -> None:
    """Over CHUNK_BYTES the query runs a stretch of top-level statements at a time (the event
    loop gets the interpreter lock in between): the facts must be those of one whole query."""
    from codeloop.index import extract as extraction
    from codeloop.workspace.document import new_parser

    parts = []
    for i in range(400):
        parts.append(
            f"# section {i}\n@decorate({i})\ndef f{i}(a, b=len('x')):\n    \"\"\"Doc {i}.\"\"\"\n"
            f"    total = helper(a) + os.path.join(b)\n    return total\n\n\n"
            f"class C{i}(Base):\n    def m(self, x):\n        return self.f{i}(x).y\n\n"
            f"import os\nfrom pkg import thing{i} as t{i}\nVALUE_{i} = t{i}()\n"
        )
        if i % 97 == 0:
            parts.append("def broken(:\n    pass\n")  # error recovery at the top level
    source = "".join(parts).encode()
    assert len(source) > 3 * extraction.CHUNK_BYTES
    parser = new_parser()
    stretches = extraction.extract(source, "pkg.big", parser=parser, stretches=True)
    whole = extraction.extract(source, "pkg.big", parser=parser)
    assert stretches == whole
    assert len(whole.defs) > 1200 and len(whole.refs) > 4000


def test_a_parse_in_pieces_is_the_parse_of_the_whole_source() -> None:
    """The index thread and documents parse through a read callback (the interpreter lock is
    free between pieces); pieces end inside tokens and multi-byte characters."""
    from codeloop.workspace.document import PIECE_BYTES, new_parser, parse_in_pieces

    source = ("# café 😀\n" + "".join(f"def f{i}(x='ü' * {i}):\n    return x  # ünïcode\n\n" for i in range(900))).encode()
    assert len(source) > 5 * PIECE_BYTES
    parser = new_parser()
    assert str(parse_in_pieces(parser, source).root_node) == str(parser.parse(source).root_node)


def test_attributes_and_calls_are_told_by_the_source_around_the_name() -> None:
    """No capture says what a name is used as: a "." before it (blanks on the same line
    allowed) makes an attribute, a "(" after it on the same line a call."""
    src = (b"import os\n\n"
           b"def f(p):\n"
           b"    os. sep\n"  # blanks after the "."
           b"    os\t.\tgetcwd \t(p)\n"  # and before the call's "("
           b"    helper (p)\n"
           b"    helper\n"  # a plain use: what follows the name is a line break
           b"x = 1.\n"  # a number ends with "." on the line before a name: no attribute
           b"helper2\n"
           b"helper3")  # the file ends right after a name
    f = extract(src, "m", parser=new_parser())
    refs = {(name, target, kind, line) for _s, name, target, kind, line, _c in f.refs}
    assert {("sep", "os.sep", "attr", 4), ("getcwd", "os.getcwd", "call", 5), ("helper", None, "call", 6),
            ("helper", None, "name", 7)} <= refs
    assert {("helper2", None, "name", 9), ("helper3", None, "name", 10)} <= refs
