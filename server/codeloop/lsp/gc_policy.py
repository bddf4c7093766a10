"""Garbage collection for the long-running server: keep full collections off the hot path.

CPython's full collection walks every tracked object while holding the GIL, whichever thread
triggers it. Right after start the server holds ~58k of them (lsprotocol, pygls, cattrs), a
full collection costs ~50 ms of CPU on the bench machine, and during the diagnostics pass of a
10,000-line file bench/lsp measured one of 136-203 ms: the event loop waits for all of it.
Nearly all of those objects live as long as the server (modules, the open documents' analysis
caches), so :meth:`GcPolicy.settle` moves everything alive into CPython's permanent generation
(``gc.freeze``, O(1)), which collections skip: after start, and after each diagnostics pass
(the large allocation episode). CPython's thresholds are unchanged.

What it costs: a reference cycle among frozen objects that becomes garbage later is not
collected while frozen. Every ``unfreeze_every``-th settle hands the permanent generation back
(``gc.unfreeze``), so the next full collection reclaims such cycles, once.

Collections are also moved between messages (:meth:`at_rest`, called after each write to
the editor): CPython starts one on whatever allocation crosses its threshold, which is
usually in the middle of answering a request.

Off unless :meth:`enable`\\ d (``codeloop serve`` does): a test process that creates servers
keeps CPython's normal behaviour.
"""

from __future__ import annotations

import gc

UNFREEZE_EVERY = 200  # settles between two hand-backs of the permanent generation


class GcPolicy:
    def __init__(self, unfreeze_every: int = UNFREEZE_EVERY) -> None:
        self.enabled = False
        self.unfreeze_every = unfreeze_every
        self.settles = 0

    def enable(self) -> None:
        """Turn the policy on and settle what the start created."""
        self.enabled = True
        self.settle()

    def at_rest(self) -> None:
        """Right after a message went out to the editor: run the collection that CPython would
        otherwise start on the allocation crossing its threshold, whatever request is being
        answered then. Young collections from half the threshold on (one request allocates far
        fewer objects than that), and the older generations when their turn has come, as
        CPython's own schedule has it."""
        if not self.enabled:
            return
        count, threshold = gc.get_count(), gc.get_threshold()
        if count[0] < threshold[0] // 2:
            return
        generation = 0
        while generation < 2 and count[generation + 1] + 1 > threshold[generation + 1]:
            generation += 1
        gc.collect(generation)

    def settle(self) -> None:
        """After a burst of long-lived allocations: stop walking what is alive now."""
        if not self.enabled:
            return
        self.settles += 1
        if self.settles % self.unfreeze_every == 0:
            gc.unfreeze()  # the next full collection walks everything once, reclaiming frozen cycles
        else:
            gc.freeze()
