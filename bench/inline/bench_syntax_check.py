"""How long the event loop waits while the syntax check runs in a worker thread, as the
diagnostics pass runs it (lsp/documents.py): 10k-line file (the document of
bench_inline.py), a one-line edit, then the check on a snapshot in ``asyncio.to_thread``
while the loop ticks every 0.5 ms and records how late each tick is. A request arriving
meanwhile waits about as long as a tick.

* whole tree: ``_syntax_issues_in`` on the root, what ``syntax_issues`` did before it
  remembered statements (one tree-sitter query call over the file, holding the GIL);
* statements remembered: ``syntax_issues`` as it is.

Run: flock /tmp/codeloop-bench.lock .venv/bin/python bench/inline/bench_syntax_check.py
"""
import asyncio
import os
import time

from codeloop.workspace.document import Document
from codeloop.workspace.model import Span
from codeloop.workspace.syntax import _syntax_issues_in, syntax_issues

filler = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(10000 // 3))
text = f"import math\n\n{filler}# rev 0\n\n\ndef area(r):\n    \n\nprint(area(2))\n"
edited = text.split("\n").index("# rev 0")


def whole(doc: Document) -> list:
    b, e = _syntax_issues_in(doc, doc.tree.root_node)
    return sorted(b + e, key=lambda s: (s.span.start_line, s.span.start_col))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


async def run(check, n: int = 60) -> tuple[list[float], list[float]]:
    doc = Document("file:///tmp/geo.py", text)
    syntax_issues(doc)  # remember the statements
    late, spent = [], []
    for rev in range(1, n + 1):
        doc.apply_changes([(Span(edited, 0, edited, len(f"# rev {rev-1}")), f"# rev {rev}")])
        doc.tree  # noqa: B018 - the edit's parse, not part of the check
        view = doc.snapshot()

        def work(view=view):
            t = time.perf_counter()
            check(view)
            spent.append((time.perf_counter() - t) * 1000)

        job = asyncio.create_task(asyncio.to_thread(work))
        while not job.done():  # the loop ticks every 0.5 ms and records how late each tick is
            t = time.perf_counter()
            await asyncio.sleep(0.0005)
            late.append((time.perf_counter() - t) * 1000 - 0.5)
        await job
    return spent, late


if __name__ == "__main__":
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| check | its time p50 | loop tick lateness p50 / p95 / max |")
    print("|---|---|---|")
    for name, check in (("whole tree (before)", whole), ("statements remembered", syntax_issues)) * 2:
        spent, late = asyncio.run(run(check))
        print(f"| {name} | {pct(spent, 50):.2f} ms | {pct(late, 50):.2f} / {pct(late, 95):.2f} / {max(late):.2f} ms "
              f"({len(late)} ticks) |")
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
