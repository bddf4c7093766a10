"""Personalised PageRank: the local walk (forward push, reading the graph where it goes)
gives what the whole-graph iteration gives, and never asks for the rest of the graph."""

from __future__ import annotations

import random

import pytest

from codeloop.index.rank import local_pagerank, pagerank


def _graph(seed: int, n: int = 60) -> dict[tuple[int, int], float]:
    rng = random.Random(seed)
    edges: dict[tuple[int, int], float] = {}
    for src in range(n):
        if src % 7 == 3:
            continue  # dangling: its mass goes back to the focus
        for dst in rng.sample(range(n), rng.randint(1, 5)):
            if dst != src:
                edges[(src, dst)] = rng.choice([0.1, 0.5, 1.0, 2.0])
    return edges


def _out(edges: dict[tuple[int, int], float], asked: list[int]):
    def out_edges(nodes):
        asked.extend(nodes)
        return {node: [(dst, w) for (src, dst), w in edges.items() if src == node] for node in nodes}
    return out_edges


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_local_walk_agrees_with_the_whole_graph_iteration(seed: int) -> None:
    edges = _graph(seed)
    personal = {0: 1.0, 5: 5.0, 11: 1.0}
    whole = pagerank(60, edges, personal, iterations=500, tolerance=1e-13)
    asked: list[int] = []
    local = local_pagerank(personal, _out(edges, asked), tolerance=1e-10, max_pushes=10 ** 6)
    for node in range(60):
        assert local.get(node, 0.0) == pytest.approx(whole[node], abs=1e-7)
    assert len(asked) == len(set(asked))  # each node's edges are read once
    # a coarser tolerance keeps the order of what matters
    coarse = local_pagerank(personal, _out(edges, []), tolerance=1e-4)
    top = sorted(range(60), key=lambda i: -whole[i])[:5]
    assert sorted(coarse, key=lambda i: -coarse[i])[:5] == top


def test_the_walk_never_reads_what_the_focus_does_not_reach() -> None:
    # two components: 0 -> 1 -> 2 -> 0, and 10 -> 11 (never reached from 0)
    edges = {(0, 1): 1.0, (1, 2): 1.0, (2, 0): 1.0, (10, 11): 1.0}
    asked: list[int] = []
    ranks = local_pagerank({0: 1.0}, _out(edges, asked), tolerance=1e-9)
    assert set(asked) == {0, 1, 2} and set(ranks) == {0, 1, 2}
    assert ranks[0] > ranks[1] > ranks[2] and sum(ranks.values()) == pytest.approx(1.0, abs=1e-6)


def test_the_work_cap_stops_the_walk_and_keeps_the_mass() -> None:
    chain = {(i, i + 1): 1.0 for i in range(1000)}
    asked: list[int] = []
    ranks = local_pagerank({0: 1.0}, _out(chain, asked), tolerance=1e-12, max_pushes=50)
    assert len(asked) <= 51
    assert ranks[0] == pytest.approx(0.15) and sum(ranks.values()) <= 1.0
