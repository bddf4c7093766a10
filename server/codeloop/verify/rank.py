"""Rank candidates by agreement (CodeT-style dual agreement).

Every candidate ran against the developer's examples, the generated tests, and a set
of shared inputs whose outputs were recorded. Candidates that give the same outputs
on the shared inputs form a group (without shared inputs: the same set of passed
tests). A group's score is ``len(group) * tests passed by the group``: a solution that
several independent samples agree on *and* that passes many tests is more likely to
be right than one that passes a few tests alone.

The checks the user wrote are a hard filter: a candidate that fails an example or one
of ``checks`` (existing tests, return-type checks) or was rejected by the extraction or
the audit never outranks one that passes them all. The model-written ``tests`` are only
votes (:mod:`codeloop.verify.evidence` drops the ones that are no evidence first). Ties are broken
deterministically: bigger group, more tests passed, earlier candidate, smaller id.

Pure: evidence in, ordering out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CandidateEvidence:
    """What one candidate did.

    ``tests`` maps each model-written test to passed/failed (votes); ``checks`` each
    user-written check besides the examples (existing tests, return-type checks: gates); ``outputs``
    maps a shared input id to a fingerprint of the output (``repr`` of the value or
    ``raises ValueError``). ``order`` is the generation order (for tie-breaking).
    """

    id: str
    examples_passed: int = 0
    examples_total: int = 0
    tests: Mapping[str, bool] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    rejected: bool = False
    order: int = 0
    checks: Mapping[str, bool] = field(default_factory=dict)

    @property
    def passes_examples(self) -> bool:
        """Passes every user-written check (the examples and ``checks``) and was not rejected."""
        return not self.rejected and self.examples_passed == self.examples_total and all(self.checks.values())

    @property
    def tests_passed(self) -> int:
        return sum(1 for ok in self.tests.values() if ok)


@dataclass(frozen=True)
class Ranked:
    """One candidate's place in the ranking (best first)."""

    id: str
    eligible: bool  # passed every user-written check and was not rejected
    score: int  # group size x tests passed by the group (0 when not eligible)
    group: tuple[str, ...]  # ids of the candidates that agree with it (itself included)
    tests_passed: int
    tests_total: int
    examples_passed: int
    examples_total: int

    @property
    def passes_everything(self) -> bool:
        return self.eligible and self.tests_passed == self.tests_total


def _group_key(c: CandidateEvidence) -> tuple:
    if c.outputs:
        # Which exception an input outside the domain raises is no difference in behaviour
        # (samples that agree everywhere else differ there often); raising or not is.
        return ("outputs", tuple(sorted((k, "raises" if v.startswith("raises ") else v) for k, v in c.outputs.items())))
    return ("tests", tuple(sorted(name for name, ok in c.tests.items() if ok)))


@dataclass(frozen=True)
class Cluster:
    """Eligible candidates with the same behaviour; the first member represents it (the
    largest set of members that agree on the model tests, then most model tests passed,
    then generation order)."""

    members: tuple[CandidateEvidence, ...]
    passed: int  # model tests passed by every member
    score: int  # len(members) x passed


def _passed_set(c: CandidateEvidence) -> frozenset[str]:
    return frozenset(n for n, ok in c.tests.items() if ok)


def _by_agreement(members: Sequence[CandidateEvidence]) -> list[CandidateEvidence]:
    """Inside one behaviour: first the members whose model-test results most of the others
    share, then more model tests passed, then generation order. Members agree on the shared
    inputs but may differ elsewhere; one that alone passes an extra model test (a wrong
    assertion, often) must not represent nine that agree with each other."""
    counts = Counter(_passed_set(m) for m in members)
    return sorted(members, key=lambda c: (-counts[_passed_set(c)], -c.tests_passed, c.order, c.id))


def _defined(c: CandidateEvidence) -> dict[str, str]:
    """The shared inputs on which ``c`` returned (or hung): where it raised, it is undefined."""
    return {k: v for k, v in c.outputs.items() if not v.startswith("raises")}


def _joins(anchor: dict[str, str], other: dict[str, str]) -> bool:
    """``other`` is the anchor's behaviour where it is defined: the same output wherever both
    return, on enough common inputs that raising elsewhere is the exception (a sample that
    guards ``if not xs: return 0`` where another raises on ``[]`` does the same thing)."""
    both = [k for k in anchor if k in other]
    one_sided = len(anchor) + len(other) - 2 * len(both)
    return bool(both) and all(anchor[k] == other[k] for k in both) and len(both) >= 2 * one_sided


def clusters(candidates: Sequence[CandidateEvidence]) -> list[Cluster]:
    """The eligible candidates grouped by behaviour, best group first.

    Candidates with the same outputs form a group; a group that agrees with a more defined
    one wherever both return joins it (raising is "undefined", not a different answer), so
    that samples differing only in how they treat inputs outside the domain support one
    behaviour. The most defined group anchors: it represents the behaviour and its model
    tests count."""
    groups: dict[tuple, list[CandidateEvidence]] = {}
    for c in candidates:
        if c.passes_examples:
            groups.setdefault(_group_key(c), []).append(c)
    ordered = sorted(groups.values(), key=lambda ms: (-len(_defined(ms[0])), -len(ms),
                                                      min((m.order, m.id) for m in ms)))
    merged: list[list[list[CandidateEvidence]]] = []
    for ms in ordered:
        home = next((parts for parts in merged if ms[0].outputs and parts[0][0].outputs
                     and _joins(_defined(parts[0][0]), _defined(ms[0]))), None)
        if home is None:
            merged.append([ms])
        else:
            home.append(ms)
    out = []
    for parts in merged:
        anchor = _by_agreement(parts[0])
        members = anchor + [m for ms in parts[1:] for m in _by_agreement(ms)]
        # Tests passed by the whole anchor group (members agree on outputs, rarely on every test).
        names = set.intersection(*(set(n for n, ok in m.tests.items() if ok) for m in anchor))
        out.append(Cluster(tuple(members), len(names), len(members) * len(names)))
    out.sort(key=lambda g: (-g.score, -len(g.members), -g.passed, min((m.order, m.id) for m in g.members)))
    return out


def rank(candidates: Sequence[CandidateEvidence]) -> list[Ranked]:
    """All candidates, best first (see the module docstring for the rule)."""
    out: list[Ranked] = []
    for g in clusters(candidates):
        ids = tuple(m.id for m in sorted(g.members, key=lambda c: (c.order, c.id)))
        for m in g.members:
            out.append(
                Ranked(m.id, True, g.score, ids, m.tests_passed, len(m.tests), m.examples_passed, m.examples_total)
            )

    rest = [c for c in candidates if not c.passes_examples]
    rest.sort(key=lambda c: (c.rejected, -c.examples_passed, -sum(c.checks.values()), -c.tests_passed, c.order, c.id))
    out.extend(
        Ranked(c.id, False, 0, (c.id,), c.tests_passed, len(c.tests), c.examples_passed, c.examples_total) for c in rest
    )
    return out


def best(candidates: Sequence[CandidateEvidence]) -> Ranked | None:
    """The top of :func:`rank`, or None without candidates."""
    ranking = rank(candidates)
    return ranking[0] if ranking else None
