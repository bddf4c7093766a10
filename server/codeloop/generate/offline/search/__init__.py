"""The in-sandbox search's parts, run by :mod:`..driver` (its entry point and main loop).

Shipped into the sandbox beside the driver as the package ``_codeloop_search`` (standard
library only; the parts import each other relatively, so the same files run in-process for
the host's tests):

- :mod:`.events`: the driver's output, one JSON event per line.
- :mod:`.observe`: what a call gave back, as something a test can assert; the target module.
- :mod:`.callables`: what the search calls (functions, methods, properties, operators).
- :mod:`.context`: what the whole search shares, set by the driver's main.
- :mod:`.candidates`: the candidate calls of one callable (``Generator``).
- :mod:`.receivers`: the objects methods are called on; kept calls' objects join the pool.
- :mod:`.runner`: running candidates under coverage with a time limit, tracing them.
- :mod:`.simplify`: making a kept random call readable.
- :mod:`.verdicts`: wrong-type calls and probable bugs.
- :mod:`.mutation_run`: the mutation run after the search.
"""
