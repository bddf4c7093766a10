"""Evidence levels: what an implementation offer may claim (DESIGN.md "Evidence levels").

The checks the user wrote (the docstring's examples, existing tests of the function, the
stub's return annotation) are gates. The tests the model wrote are only votes: real
models write many wrong assertions. Candidates that pass every gate are grouped into
*behaviours* (the same outputs on the shared inputs, see :mod:`codeloop.verify.rank`),
and the level says how far the evidence goes:

* ``verified``: an example or an existing test exists, the candidate passes every gate,
  and its behaviour is the clear winner (:func:`clear_winner`) among the behaviours that
  pass them;
* ``ambiguous``: two or more behaviours pass every gate and none is a clear winner; the
  inputs they disagree on are listed with each behaviour's output and support;
* ``plausible``: nothing the user wrote can tell right from wrong (no example, no test);
  the winner by agreement and model tests;
* ``unverified``: no candidate passes the user's checks.

The clear-winner rule is deliberately conservative (a wrong ``verified`` costs more than
an ``ambiguous`` that asks the user): a behaviour is the clear winner when it is the only
one, or when it is the top of the ranking, has at least two candidates, at least twice
the support of the runner-up, more than half of all candidates that pass the gates, and
passes at least as many of the model's tests as the runner-up.

Pure: evidence in, a verdict out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from codeloop.verify.rank import CandidateEvidence, Cluster, clusters, rank

LEVELS = ("verified", "ambiguous", "plausible", "unverified")


@dataclass(frozen=True)
class Behaviour:
    """One group of candidates that pass the gates and agree on every shared input."""

    number: int  # 1-based, best first (what ``--pick N`` takes)
    ids: tuple[str, ...]  # the candidates in it, generation order
    representative: str  # the candidate offered for it
    model_tests_passed: int  # kept model tests passed by every member
    score: int  # support x model tests passed
    outputs: Mapping[str, str] = field(default_factory=dict)  # input label -> output, on the disagreeing inputs

    @property
    def support(self) -> int:
        return len(self.ids)

    def describe(self) -> str:
        """``['a', 'b'] (3 candidates)`` for the first disagreeing input, or the support alone."""
        n = f"{self.support} candidate{'s' if self.support != 1 else ''}"
        if self.outputs:
            return f"{next(iter(self.outputs.values()))} ({n})"
        return f"{n}, {self.model_tests_passed} model tests pass"


@dataclass(frozen=True)
class Disagreement:
    """One input on which the behaviours give different outputs."""

    input: str  # the call, ``split_words('a  b')``
    outputs: tuple[tuple[int, str, int], ...]  # (behaviour number, output, support), best first

    def line(self) -> str:
        """``split_words('a  b'): ['a', 'b'] (3 candidates) vs ['a', '', 'b'] (2)``."""
        parts = []
        for i, (_number, out, support) in enumerate(self.outputs):
            parts.append(f"{out} ({support} candidate{'s' if support != 1 else ''})" if i == 0 else f"{out} ({support})")
        return f"{self.input}: " + " vs ".join(parts)


@dataclass(frozen=True)
class Verdict:
    """The level of a set of candidates and what it rests on."""

    level: str
    best: str | None  # the candidate to offer (the winner, the top behaviour, or the best failing one)
    behaviours: tuple[Behaviour, ...] = ()  # every behaviour that passes the gates, best first
    disagreements: tuple[Disagreement, ...] = ()
    user_checks: bool = False  # an example or an existing test exists
    ran: int = 0  # candidates that ran (not rejected)
    model_tests: tuple[str, ...] = ()  # the model tests that count (votes)
    dropped: tuple[str, ...] = ()  # model tests dropped (no candidate passes / fail before the call)
    close: bool = False  # the top behaviours are close: more samples could settle it

    @property
    def eligible(self) -> int:
        """Candidates that pass every user-written check."""
        return sum(b.support for b in self.behaviours)

    @property
    def agree(self) -> int:
        """Candidates in the winning (top) behaviour."""
        return self.behaviours[0].support if self.behaviours else 0

    def summary(self) -> str:
        """``6/10 candidates agree, 9/12 model tests`` (the top behaviour's support)."""
        text = f"{self.agree}/{self.ran} candidates agree"
        if self.model_tests:
            passed = self.behaviours[0].model_tests_passed if self.behaviours else 0
            text += f", {passed}/{len(self.model_tests)} model tests"
        return text

    def lines(self, limit: int = 5) -> list[str]:
        """The disagreement as lines (or the behaviours' support when no input tells them apart)."""
        if self.disagreements:
            return [d.line() for d in self.disagreements[:limit]]
        return [f"behaviour {b.number}: {b.describe()}" for b in self.behaviours[:limit]]


def model_tests_to_drop(candidates: Sequence[CandidateEvidence], precall: Mapping[str, set[str]] | None = None) -> set[str]:
    """The model tests that are no evidence: those that failed before calling the function
    (``precall``: candidate id -> such tests: a placeholder NameError, an import error)
    for every candidate that ran them, and, with two or more candidates that ran, those
    no candidate passes."""
    ran = [c for c in candidates if not c.rejected]
    names = {n for c in ran for n in c.tests}
    precall = precall or {}
    drop = set()
    for name in names:
        results = [(c, c.tests[name]) for c in ran if name in c.tests]
        if any(ok for _c, ok in results):
            continue
        if all(name in precall.get(c.id, ()) for c, _ok in results) or len(ran) >= 2:
            drop.add(name)
    return drop


def without(candidates: Sequence[CandidateEvidence], drop: set[str]) -> list[CandidateEvidence]:
    if not drop:
        return list(candidates)
    from dataclasses import replace

    return [replace(c, tests={n: ok for n, ok in c.tests.items() if n not in drop}) for c in candidates]


def clear_winner(groups: Sequence[Cluster]) -> bool:
    """The module docstring's rule, for behaviours ranked best first."""
    if not groups:
        return False
    if len(groups) == 1:
        return True
    top, runner = groups[0], groups[1]
    total = sum(len(g.members) for g in groups)
    return (len(top.members) >= 2 and len(top.members) >= 2 * len(runner.members)
            and 2 * len(top.members) > total and top.passed >= runner.passed)


def judge(candidates: Sequence[CandidateEvidence], user_checks: bool, inputs: Mapping[str, str] | None = None,
          precall: Mapping[str, set[str]] | None = None) -> Verdict:
    """The level of ``candidates``.

    ``user_checks``: an example or an existing test exists (the return annotation alone
    does not count: it cannot tell a right value from a wrong one of the right type).
    ``inputs`` maps a shared input id to its call text (for the disagreement lines);
    ``precall`` the model tests each candidate failed before the function was called."""
    inputs = inputs or {}
    drop = model_tests_to_drop(candidates, precall)
    kept = without(candidates, drop)
    ran = sum(1 for c in kept if not c.rejected)
    model_tests = tuple(sorted({n for c in kept if not c.rejected for n in c.tests}))
    groups = clusters(kept)
    order = rank(kept)
    base = dict(user_checks=user_checks, ran=ran, model_tests=model_tests, dropped=tuple(sorted(drop)))
    if not groups:
        return Verdict("unverified", order[0].id if order else None, **base)
    behaviours, disagreements = _describe(groups, inputs)
    clear = clear_winner(groups)
    best = groups[0].members[0].id
    if not user_checks:
        return Verdict("plausible", best, behaviours, disagreements, close=not clear, **base)
    if clear:
        return Verdict("verified", best, behaviours, disagreements, **base)
    return Verdict("ambiguous", best, behaviours, disagreements, close=True, **base)


def _describe(groups: Sequence[Cluster], inputs: Mapping[str, str]) -> tuple[tuple[Behaviour, ...], tuple[Disagreement, ...]]:
    """The behaviours and the shared inputs on which they differ."""
    heads = [g.members[0] for g in groups]
    keys = sorted({k for h in heads for k in h.outputs}, key=_input_order)
    differing = [k for k in keys if len({h.outputs.get(k) for h in heads}) > 1]
    behaviours = tuple(
        Behaviour(i + 1, tuple(m.id for m in g.members), g.members[0].id, g.passed, g.score,
                  {inputs.get(k, k): heads[i].outputs.get(k, "?") for k in differing})
        for i, g in enumerate(groups)
    )
    disagreements = tuple(
        Disagreement(inputs.get(k, k), tuple((b.number, heads[b.number - 1].outputs.get(k, "?"), b.support)
                                             for b in behaviours))
        for k in differing
    )
    return behaviours, disagreements


def _input_order(key: str) -> tuple:
    tail = key.rsplit("_", 1)[-1]
    return (0, int(tail), key) if tail.isdigit() else (1, 0, key)


__all__ = ["LEVELS", "Behaviour", "Disagreement", "Verdict", "clear_winner", "judge", "model_tests_to_drop"]
