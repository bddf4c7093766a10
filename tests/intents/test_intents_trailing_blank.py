"""Intents at the blank last line of a stub's body (where a user deletes ``...`` to get an inline
completion): asking tree-sitter for the first top-level node after a byte that only the file's
trailing whitespace covers used to crash the server with SIGSEGV (found by the VS Code end-to-end
test). Run in a child process: a regression kills that process, not the test session."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SOURCE = '''def square_area(side: int) -> int:
    """Area of a square.

    >>> square_area(3)
    9
    """
    \n'''

CHILD = textwrap.dedent('''
    import faulthandler, json, sys
    faulthandler.enable()
    from codeloop.workspace.document import Document
    from codeloop.workspace.intents import find_intents
    source = sys.stdin.read()
    doc = Document("file:///tmp/ws/squares.py", source, 1)
    out = {}
    for line in range(doc.line_count):
        out[line] = sorted((i.kind, i.name) for i in find_intents(doc, frozenset(), lines=(line, line)))
    print(json.dumps(out))
''')


def test_every_line_of_a_file_ending_in_a_blank_body_line_has_its_intents():
    done = subprocess.run([sys.executable, "-c", CHILD], input=SOURCE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    found = json.loads(done.stdout)
    assert found["0"] == [["generate_tests", "square_area"], ["implement", "square_area"]]
    assert found["6"] == []  # the whitespace-only line after the docstring: nothing there, no crash
    assert found["7"] == []
