"""The server's collector policy: collections moved to the moment after a message is written."""

from __future__ import annotations

import gc

from codeloop.lsp.gc_policy import GcPolicy


def test_at_rest_runs_the_young_collection_due_soon():
    policy = GcPolicy()
    policy.enabled = True  # without enable(): this test process's objects stay unfrozen
    gc.collect()
    threshold = gc.get_threshold()[0]
    kept = [[] for _ in range(threshold // 2 + 10)]  # tracked containers, alive
    assert gc.get_count()[0] >= threshold // 2
    policy.at_rest()
    assert gc.get_count()[0] < threshold // 2
    assert kept


def test_at_rest_leaves_a_young_generation_with_room_alone():
    policy = GcPolicy()
    policy.enabled = True
    gc.collect()
    before = gc.get_stats()[0]["collections"]
    kept = [[] for _ in range(10)]
    policy.at_rest()
    assert gc.get_stats()[0]["collections"] == before and kept


def test_disabled_does_nothing():
    gc.collect()
    threshold = gc.get_threshold()[0]
    kept = [[] for _ in range(threshold // 2 + 10)]
    before = gc.get_stats()[0]["collections"]
    GcPolicy().at_rest()
    assert gc.get_stats()[0]["collections"] == before and kept
