"""Personalised PageRank over a weighted directed graph (nodes 0..n-1): a random walk that
follows references and, with probability 1 - damping, jumps back to the focus."""

from __future__ import annotations


def pagerank(n: int, edges: dict[tuple[int, int], float], personal: dict[int, float] | None = None,
             damping: float = 0.85, iterations: int = 40, tolerance: float = 1e-7) -> list[float]:
    """The stationary probability of each node; ``personal`` (node -> weight) is where the
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


__all__ = ["pagerank"]
