"""Loaded into a server process by bench/lsp/run.py (this folder first on its PYTHONPATH,
``CODELOOP_BENCH_PROBE=1``): where the event loop's time goes per request. Not part of
codeloop; it patches pygls the same way for every tree the bench runs (the baseline too)."""

import os

if os.environ.get("CODELOOP_BENCH_PROBE") == "1":
    import loop_probe

    loop_probe.install()
