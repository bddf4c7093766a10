"""The smallest suite that keeps the coverage and the mutation score of the kept calls.

The search keeps a call when it reaches new arcs at that moment, or for a reason of its own
(a new kind of result, a table entry, a mutant only it kills). Later calls often reach the
arcs of earlier ones too, so the kept set is larger than it needs to be. Each call here
stands for what it holds: its arcs (traced on their own after the search, plus the new arcs
it was kept for) that the user's tests do not reach, and the sampled mutants it kills that
the user's tests do not kill, and the mutants outside the sample that a call found by varying
another (the driver's variant hunt) kills: those mutants no other kept call kills. A table entry (a row of one parametrized test) stands for
itself, and so does a call kept for its result when the mutation run did not finish its sample. A greedy cover over those, then a pass that drops every chosen
call whose items the others hold, gives the suite; a call that holds nothing is left out.

Pure functions over the search's JSON (host side, no sandbox).
"""

from __future__ import annotations

from collections.abc import Iterable

from codeloop.verify.test_runs import adds_coverage

Item = tuple


def _arcs(cand: dict, obs: dict, cover: dict[str, list]) -> set[tuple[int, int]]:
    own = cover.get(cand.get("id") or "") or []
    return {(int(a), int(b)) for a, b in list(own) + list(obs.get("arcs") or [])}


def call_items(kept: list[tuple[dict, dict]], cover: dict[str, list], killers: list[list[str]],
               entry: dict | None = None, user_killed: Iterable[int] = (),
               hunted: list[list[str]] = ()) -> list[set[Item]]:
    """Per kept call, what it holds that nothing outside the generated suite does:
    ``("arc", from, to)`` for arcs the user's tests (coverage ``entry``) do not reach,
    ``("mutant", i)`` for the i-th killed mutant when the user's tests do not kill it,
    ``("hunted", j)`` for the j-th unsampled mutant the variant hunt killed."""
    by_user = set(user_killed)
    kills: dict[str, set[int]] = {}
    for i, ids in enumerate(killers):
        if i in by_user:
            continue
        for cid in ids:
            kills.setdefault(cid, set()).add(i)
    extra: dict[str, set[int]] = {}
    for j, ids in enumerate(hunted):
        for cid in ids:
            extra.setdefault(cid, set()).add(j)
    fresh: dict[tuple[int, int], bool] = {}
    out: list[set[Item]] = []
    for cand, obs in kept:
        items: set[Item] = set()
        for arc in _arcs(cand, obs, cover):
            if arc not in fresh:
                fresh[arc] = adds_coverage([list(arc)], entry)
            if fresh[arc]:
                items.add(("arc", *arc))
        items |= {("mutant", i) for i in kills.get(cand.get("id") or "", ())}
        items |= {("hunted", j) for j in extra.get(cand.get("id") or "", ())}
        out.append(items)
    return out


def smallest_cover(items: list[set[Item]]) -> list[int]:
    """Indices of a small subset whose union equals the union of all ``items`` (greedy: the
    set holding most of what is still missing first, the earlier one on a tie; then each
    chosen set whose items the other chosen sets hold is dropped, the latest pick first).
    Sets that hold nothing are never chosen. The result is in the original order."""
    missing = set().union(*items) if items else set()
    chosen: list[int] = []
    while missing:
        best = max(range(len(items)), key=lambda i: (len(items[i] & missing), -i))
        gain = items[best] & missing
        if not gain:
            break
        chosen.append(best)
        missing -= gain
    for i in reversed(list(chosen)):
        others = set().union(*(items[j] for j in chosen if j != i))
        if items[i] <= others:
            chosen.remove(i)
    return sorted(chosen)


def minimal_suite(kept: list[tuple[dict, dict]], cover: dict[str, list], mutation: dict | None,
                  entry: dict | None = None) -> list[tuple[dict, dict]]:
    """The kept calls a suite needs to reach their arcs and kill their mutants (see the
    module docstring). ``mutation`` is the search's mutation run (``killers`` per killed
    mutant, ``user_killed``: the positions of those the user's tests kill too, ``hunted``:
    the killers of unsampled mutants)."""
    mutation = mutation or {}
    items = call_items(kept, cover, list(mutation.get("killers") or []), entry, mutation.get("user_killed") or (),
                       list(mutation.get("hunted") or []))
    tried = int(mutation.get("tried") or 0)
    evidence = tried > 0 and tried >= int(mutation.get("sampled") or 0)
    for i, (cand, obs) in enumerate(kept):
        if entry or obs.get("arcs"):
            continue  # (with the user's tests, only what they miss counts, as everywhere)
        if cand.get("origin") == "table":
            # a row of a table test: one parametrized test holds them all, and they kill the
            # mutants of table-driven code that the sample rarely holds
            items[i].add(("kept", cand.get("id")))
        elif not evidence:
            # no complete mutation run (a small budget): whether a call kept for its result
            # kills anything is unknown, so it stays
            items[i].add(("kept", cand.get("id")))
    return [kept[i] for i in smallest_cover(items)]
