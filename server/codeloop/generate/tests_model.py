"""Data shared by the test-generation engines, the services and the adapters; their errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class GenerationError(Exception):
    """Bad input found while generating (bad target, cannot be imported, ...): exit 2."""


class ModelFailure(GenerationError):
    """The model could not give usable tests (endpoint error, empty or garbage answers): exit 1."""


@dataclass
class GeneratedTest:
    """One generated pytest function.

    ``code`` is the function's source (decorators included, imports excluded);
    ``imports`` the import lines it needs; ``kind`` is ``"pass"`` for a test that passes
    on the current code, ``"xfail"`` for a probable-bug test marked
    ``@pytest.mark.xfail(strict=True)``.
    """

    name: str
    code: str
    imports: list[str]
    target: str  # qualname of the function/method it exercises
    kind: str = "pass"
    line: int | None = None  # line in the module under test (examples, probable bugs)
    message: str | None = None
    # A parametrized test made of these (the verification splits it back when a case fails).
    parts: list[GeneratedTest] | None = None
    source: str | None = None  # the search's id of the call it was rendered from (offline engine)
    # A method of this class (``"TestX(unittest.TestCase)"``) when the user's tests are TestCase
    # classes: ``code`` is then the method, unindented (the merge writes the class around it).
    cls: str | None = None

    def sources(self) -> set[str]:
        """Ids of the calls this test holds (a parametrized test: those of its cases)."""
        own = {self.source} if self.source else set()
        return own.union(*(p.sources() for p in self.parts or []))


@dataclass
class ProbableBug:
    """The code contradicts its docstring, its examples or its type hints."""

    function: str
    line: int  # 1-based line in the module under test
    message: str  # "clamp(5, 0, 3) returned 4, docstring says 3"
    test: GeneratedTest  # xfail version; ``test_as_is`` asserts the documented behaviour plainly
    file: str = ""

    @property
    def test_as_is(self) -> str:
        lines = self.test.code.splitlines()
        return "\n".join(line for line in lines if not line.startswith("@pytest.mark.xfail")) + "\n"


@dataclass
class GenerationResult:
    """What one test-generation run produced (the CLI prints it, the LSP offers it)."""

    target: str
    module: str
    tests: list[GeneratedTest] = field(default_factory=list)
    test_file: Path | None = None
    merged_text: str | None = None
    existing_text: str | None = None  # the test file's content when it was read (None: new file)
    coverage_before: float | None = None
    coverage_after: float | None = None
    probable_bugs: list[ProbableBug] = field(default_factory=list)
    duration: float = 0.0
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    dropped: int = 0  # tests removed because they failed or were flaky on re-run
    sandbox_level: str | None = None
    engine: str = "offline"
    dropped_details: list[str] = field(default_factory=list)  # "name: outcome: message" of dropped tests
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase: search, verify
    # Every call the search kept was already covered by the user's tests: their count (no test written).
    already_covered: int | None = None
    # Sampled mutants of the target the written tests kill: {"killed", "tried", "mutants" (all
    # there were), "survivors": [descriptions]}; None when no mutation run was made.
    mutation: dict | None = None
    # The user's test style the tests follow ("import ... as m, unittest.TestCase"); None: the default.
    style: str | None = None
    # How many calls the search kept and how many the smallest suite needed (offline engine).
    calls_kept: int | None = None
    calls_needed: int | None = None

    @property
    def mutation_score(self) -> float | None:
        m = self.mutation
        return round(100.0 * m["killed"] / m["tried"], 1) if m and m.get("tried") else None

    @property
    def passing(self) -> list[GeneratedTest]:
        return [t for t in self.tests if t.kind == "pass"]

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "module": self.module,
            "engine": self.engine,
            "test_file": str(self.test_file) if self.test_file else None,
            "tests": [{"name": t.name, "target": t.target, "kind": t.kind} for t in self.tests],
            "tests_written": len(self.tests),
            "passing": len(self.passing),
            "coverage_before": self.coverage_before,
            "coverage_after": self.coverage_after,
            "probable_bugs": [
                {"function": b.function, "file": b.file, "line": b.line, "message": b.message, "test": b.test.name}
                for b in self.probable_bugs
            ],
            "calls": self.calls,
            "dropped": self.dropped,
            "dropped_details": self.dropped_details,
            "duration": round(self.duration, 2),
            "errors": self.errors,
            "sandbox_level": self.sandbox_level,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "already_covered": self.already_covered,
            "mutation_score": self.mutation_score,
            "mutation": self.mutation,
            "style": self.style,
            "calls_kept": self.calls_kept,
            "calls_needed": self.calls_needed,
        }
