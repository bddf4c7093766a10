"""`codeloop serve` with one experimental change, for bench_inline.py only: diagnostics whose
content did not change since the last publish for the URI are not converted and published
again (the change proposed for server/codeloop/lsp/documents.py, measured before it lands).

On a 10k-line file every edit re-publishes ~3,300 diagnostics: converting them to LSP
objects and serialising the notification run on the event loop in one go (~100 ms), and
an inline completion request that arrives meanwhile waits. An edit that moves nothing
(typing inside one line) yields the same intents, so nothing needs to be sent.

Run as the server command:
python bench/inline/serve_skip_identical.py [--switch-interval S] [--yield-gil S] serve --no-log-file
"""

from __future__ import annotations

import sys
import time
from typing import Any

from codeloop import cli
from codeloop.lsp import documents


def _key(doc: Any, intents: list[Any]) -> tuple:
    from codeloop.workspace.intents import syntax_issues

    return (tuple((i.kind, i.name, i.span, i.untested, i.summary) for i in intents),
            tuple((s.message, s.span) for s in syntax_issues(doc)))


def install() -> None:
    original = documents.publish_diagnostics
    published: dict[str, tuple] = {}

    async def publish_if_changed(ls: Any, uri: str) -> None:
        doc = ls.documents.get(uri)
        if doc is None:
            published.pop(uri, None)
            return await original(ls, uri)
        intents = await ls.intents_in_chunks(doc)
        if intents is None or ls.documents.get(uri) is not doc:
            return
        key = _key(doc, intents)
        if published.get(uri) == key:
            return  # the client already shows exactly these
        published[uri] = key
        await original(ls, uri)  # the intents of this version are cached: no second pass

    documents.publish_diagnostics = publish_if_changed


def yield_gil_between_chunks(seconds: float) -> None:
    """Third experiment: each chunk of the diagnostics pass first sleeps ``seconds`` (the
    GIL released), so the stdin reader and the model call's threads run between chunks;
    ``asyncio.sleep(0)`` alone returns to the loop but rarely hands them the GIL."""
    from codeloop.workspace import intents

    find = intents.find_intents

    def find_after_a_pause(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("lines") is not None:
            time.sleep(seconds)
        return find(*args, **kwargs)

    intents.find_intents = find_after_a_pause


if __name__ == "__main__":
    argv = sys.argv[1:]
    while argv[:1] in (["--switch-interval"], ["--yield-gil"]):
        if argv[0] == "--switch-interval":
            # second experiment: the model call's thread gets the GIL back sooner while the
            # event loop runs the chunked diagnostics pass (CPython's default is 5 ms)
            sys.setswitchinterval(float(argv[1]))
        else:
            yield_gil_between_chunks(float(argv[1]))
        argv = argv[2:]
    install()
    sys.exit(cli.main(argv))
