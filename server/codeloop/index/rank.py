"""Personalised PageRank over a weighted directed graph: a random walk that follows edges
and, with probability 1 - damping, jumps back to the focus.

:func:`pagerank` iterates over a whole graph given up front. :func:`local_pagerank` reads
the graph only where the walk goes (forward push): it settles the probability mass of the
focus node by node and stops when what is left anywhere is below ``tolerance``, so its work
depends on the focus's neighbourhood, not on the size of the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

DAMPING = 0.85


def pagerank(n: int, edges: dict[tuple[int, int], float], personal: dict[int, float] | None = None,
             damping: float = DAMPING, iterations: int = 40, tolerance: float = 1e-7) -> list[float]:
    """The stationary probability of each node (0..n-1); ``personal`` (node -> weight) is where the
    walk restarts (everywhere alike when None or empty). Nodes without out-edges give
    their mass back to the restart distribution."""
    if n == 0:
        return []
    if personal:
        total = sum(personal.values())
        restart = [0.0] * n
        for node, weight in personal.items():
            restart[node] += weight / total
    else:
        restart = [1.0 / n] * n
    out_weight = [0.0] * n
    for (src, _dst), w in edges.items():
        out_weight[src] += w
    links = [(src, dst, w / out_weight[src]) for (src, dst), w in edges.items() if out_weight[src] > 0]
    rank = restart[:]
    for _ in range(iterations):
        nxt = [0.0] * n
        for src, dst, share in links:
            nxt[dst] += rank[src] * share
        dangling = sum(rank[i] for i in range(n) if out_weight[i] == 0)
        jump = 1.0 - damping + damping * dangling
        nxt = [damping * v + jump * r for v, r in zip(nxt, restart, strict=True)]
        delta = sum(abs(a - b) for a, b in zip(nxt, rank, strict=True))
        rank = nxt
        if delta < tolerance:
            break
    return rank


OutEdges = dict[int, list[tuple[int, float]]]


def local_pagerank(personal: dict[int, float], out_edges: Callable[[Iterable[int]], OutEdges],
                   damping: float = DAMPING, tolerance: float = 1e-4, max_pushes: int = 20_000) -> dict[int, float]:
    """The same probabilities as :func:`pagerank` (within ``tolerance`` per node) for the nodes
    the walk from ``personal`` reaches, by forward push. ``out_edges(nodes)`` gives each of
    ``nodes``' out-edges (node, weight), asked once per node, for a batch at a time.
    ``max_pushes`` caps the work: past it the mass still unsettled settles where it is."""
    total = sum(personal.values())
    if total <= 0:
        return {}
    restart = [(node, weight / total) for node, weight in personal.items() if weight > 0]
    settled: dict[int, float] = {}
    left = {node: share for node, share in restart}  # the residual: mass not passed on yet
    shares: dict[int, list[tuple[int, float]]] = {}  # out-edges as shares of the node's weight
    active = [node for node, mass in left.items() if mass > tolerance]
    pushes = 0
    while active and pushes < max_pushes:
        unknown = [node for node in active if node not in shares]
        for node, out in out_edges(unknown).items() if unknown else ():
            weight = sum(w for _, w in out)
            shares[node] = [(dst, w / weight) for dst, w in out] if weight > 0 else []
        back = 0.0  # mass of nodes without out-edges: back to the focus, as pagerank() does
        nxt: list[int] = []
        for node in active:
            mass = left.pop(node, 0.0)
            if mass <= tolerance:
                continue
            settled[node] = settled.get(node, 0.0) + (1.0 - damping) * mass
            onward = damping * mass
            out = shares.get(node)
            if not out:
                back += onward
                continue
            for dst, share in out:
                before = left.get(dst, 0.0)
                left[dst] = before + onward * share
                if before <= tolerance < left[dst]:
                    nxt.append(dst)
        pushes += len(active)
        if back > 0:
            for node, share in restart:
                before = left.get(node, 0.0)
                left[node] = before + back * share
                if before <= tolerance < left[node]:
                    nxt.append(node)
        active = nxt
    for node, mass in left.items():  # what is left settles where it is (under tolerance each)
        settled[node] = settled.get(node, 0.0) + (1.0 - damping) * mass
    return settled


__all__ = ["DAMPING", "local_pagerank", "pagerank"]
