"""The offline test-generation engine: search for inputs that raise branch coverage.

Pieces, in the order they run:

- :mod:`.analysis` (host, ``ast`` only): callables, literal constants, docstring examples.
- :mod:`.inputs` and :mod:`.driver` (inside the sandbox): type-driven input pools and the
  search loop that imports the target under coverage.py and keeps the calls that add arcs;
  the loop's parts (candidate streams, receivers, running and observing calls, the mutation
  run) are the package :mod:`.search`.
- :mod:`codeloop.verify.input_search` (host): runs the driver through ``codeloop_sandbox``,
  survives crashes (every sandbox run lives in :mod:`codeloop.verify`).
- :mod:`.render` (host): pytest code from the observations.
- :mod:`.engine` (host): the whole run: search, render, verify in the sandbox.
"""
