"""The result types of an audit: findings and the report that groups them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Finding:
    """One thing the audit found in a candidate.

    ``check`` names what found it: a bandit test id (``B602``), ``import`` for the
    import policy, or ``policy:<category>`` for codeloop's own checks. ``line`` is
    1-based in the audited code. A ``blocking`` finding rejects the candidate.
    """

    check: str
    severity: str  # "low" | "medium" | "high"
    line: int
    message: str
    blocking: bool = False

    def describe(self) -> str:
        kind = "rejected" if self.blocking else self.severity
        return f"{self.check} line {self.line} ({kind}): {self.message}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class AuditReport:
    """All findings for one candidate, blocking ones first."""

    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        """False when any finding rejects the candidate."""
        return not self.rejections

    @property
    def rejections(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def notes(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.blocking)

    def summary(self) -> str:
        """One line: ``audit clean``, ``audit: 2 notes`` or the first rejection."""
        if self.rejections:
            first = self.rejections[0]
            more = f" (+{len(self.rejections) - 1} more)" if len(self.rejections) > 1 else ""
            return f"audit rejected: {first.message} (line {first.line}){more}"
        if self.notes:
            n = len(self.notes)
            return f"audit: {n} note{'s' if n != 1 else ''}"
        return "audit clean"

    def to_list(self) -> list[dict[str, object]]:
        return [f.to_dict() for f in self.findings]
