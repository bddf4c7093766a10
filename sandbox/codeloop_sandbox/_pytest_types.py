"""Public data types of pytest runs (``run_pytest``, the warm pool): loaded on first use."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._types import Result


@dataclass(frozen=True)
class Frame:
    """One frame of a failure's traceback, mapped back to the original workspace."""

    path: str  # original workspace path (absolute)
    line: int
    function: str


@dataclass
class TestOutcome:
    """One test's outcome in a pytest run."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str  # passed, failed, error, skipped, xfailed, xpassed
    duration: float = 0.0
    message: str = ""
    frames: list[Frame] = field(default_factory=list)
    # Location of the test function itself: (original path, 1-based line) when known.
    path: str | None = None
    line: int | None = None
    longrepr: str = ""


@dataclass
class PytestResult:
    """A pytest run: the run itself, each test's outcome, and coverage when asked for."""

    __test__ = False

    result: Result
    tests: list[TestOutcome] = field(default_factory=list)
    coverage: dict | None = None
    collected: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.result.limit is None
            and not self.errors
            and all(t.outcome in ("passed", "skipped", "xfailed") for t in self.tests)
            and self.result.exit_code in (0, 5)
        )
