"""The LLM test-generation engine: ask a model for pytest tests, keep what the sandbox proves.

One round: build a prompt (the target's source, the signatures of what it calls, an
excerpt of the module's existing tests for style, the lines and branches still uncovered,
and last round's failures), ask the model through :class:`codeloop.model.client.ModelClient`,
split the answer into top-level test functions and compile each on its own (one broken
test costs only itself), then run the candidates together with the tests kept so far in
two sandboxed processes (hash seeds 1 and 2, one with coverage). A candidate is kept
when it passes in both and is new (its name is made unique, a body identical to an
existing or kept test is dropped). Rounds repeat until the target has no uncovered line
or branch left, the budget is spent, or :data:`MAX_ROUNDS`. The kept tests and probable
bugs are then verified once more like the offline engine's (a third process, hash seed 3),
which also measures coverage after. The code under test only ever runs in the sandbox.

Probable-bug rule: the prompt asks the model to put ``# documented: <quote>`` directly
above every test whose expected value comes from the docstring, a docstring example or a
type hint, quoting those words. A failing test is reported as a probable bug (written as
``@pytest.mark.xfail(strict=True)``, never as passing) only when all three hold:

1. it carries the marker and the quote (whitespace-normalised, at least 3 characters)
   occurs in the target's source (docstrings, comments and signatures are part of it);
2. it failed in both runs (deterministic);
3. the failure is the test's own check: an ``assert`` or ``pytest.raises`` that did not
   raise — not an error of the test itself (``NameError``, a wrong call, ...).

Every other failing test is dropped, and its failure is fed back to the model. The API
key never enters a prompt (prompts are scrubbed here and again by the client), a log or
the sandbox (the sandbox's environment is built from scratch; see :mod:`codeloop.verify.test_runs`).
"""

from __future__ import annotations

import ast
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from codeloop.config import Settings
from codeloop.generate.extract import find_code_blocks
from codeloop.generate.merge import MergeError, body_key, merge_tests, related_bodies
from codeloop.generate.prompts import file_context
from codeloop.generate.targets import Target, defined_names
from codeloop.generate.test_files import rel_path, rel_test_path, test_file_and_related, test_names
from codeloop.generate.tests_model import GeneratedTest, GenerationError, GenerationResult, ModelFailure, ProbableBug
from codeloop.job import Progress, no_progress
from codeloop.model.client import ModelClient
from codeloop.model.errors import Cancelled, ModelError
from codeloop.model.providers import create_client
from codeloop.secrets import scrub
from codeloop.verify import test_runs
from codeloop_sandbox import Policy, PytestResult

log = logging.getLogger("codeloop.llm_tests")

MAX_ROUNDS = 4
VERIFY_HASHSEEDS = (1, 2)  # the two processes of every round (see verify.test_runs.run_twice)
MAX_SOURCE_CHARS = 12000
MAX_STYLE_CHARS = 1500
MAX_UNCOVERED = 40
MAX_FEEDBACK = 12
DOC_MARK = re.compile(r"^\s*#\s*documented:\s*(?P<quote>.+?)\s*$", re.I)

SYSTEM = (
    "You write pytest unit tests for existing Python code. Each test checks one behaviour "
    "with concrete inputs and exact expected values (pytest.raises for exceptions). Tests must "
    "be deterministic: no dependence on time, randomness, set or dict order of hashed values, "
    "object ids, the network or the environment. Reply with one ```python block holding the "
    "import lines and top-level functions named test_*: no classes, no helper functions, no "
    "fixtures other than pytest's built-ins (tmp_path, monkeypatch, capsys). When a test's "
    "expected value comes from the docstring, a docstring example or a type hint, put a "
    "comment line `# documented: <the exact words you rely on>` directly above its def; "
    "assert what the documentation says even if the code seems to do otherwise."
)


@dataclass
class Candidate:
    """One test function from an answer, compiled on its own."""

    name: str
    code: str  # the function with its decorators and leading comments
    imports: list[str]
    target: str
    documented: str | None = None  # the quoted docstring/example/hint words
    body_key: str = ""  # ast dump of the body, to drop duplicates under another name


@dataclass
class Round:
    """What the sandbox said about one round's candidates."""

    kept: list[Candidate] = field(default_factory=list)
    bugs: list[tuple[Candidate, str]] = field(default_factory=list)  # (test, failure)
    feedback: list[str] = field(default_factory=list)


# --- reading the target -----------------------------------------------------------------


def target_scope(tree: ast.Module, member: str | None) -> tuple[ast.AST | None, range | None]:
    """The node of ``member`` (``func``, ``Class`` or ``Class.method``) and its lines."""
    if not member:
        return None, None
    node: ast.AST | None = None
    body = tree.body
    for part in member.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            return None, None
        body = getattr(node, "body", [])
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return node, range(first, (node.end_lineno or node.lineno) + 1)


def called_names(node: ast.AST) -> set[str]:
    """Names the code calls: ``f(...)`` gives ``f``, ``mod.f(...)`` gives ``mod`` and ``f``."""
    names: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name):
                names.add(f.id)
            elif isinstance(f, ast.Attribute):
                names.add(f.attr)
                if isinstance(f.value, ast.Name):
                    names.add(f.value.id)
    return names


def _symbol_name(symbol: str) -> str | None:
    m = re.match(r"\s*(?:async\s+def|def|class)\s+(\w+)", symbol)
    return m.group(1) if m else None


def called_signatures(tgt: Target, tree: ast.Module, source: str, scope_node: ast.AST | None) -> list[str]:
    """One-line signatures of the module's and the project's functions the target calls."""
    calls = called_names(scope_node or tree)
    own = file_context(source, exclude=tgt.member.split(".")[-1] if tgt.member else None)
    out = [s for s in own.symbols if _symbol_name(s) in calls]
    # Names imported from the project's own modules: read their signatures from disk.
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        wanted = {a.name for a in node.names if (a.asname or a.name) in calls}
        if not wanted:
            continue
        module = node.module
        if node.level:  # relative: from the target's package, up level - 1 packages
            package = tgt.module if tgt.file.name == "__init__.py" else tgt.module.rpartition(".")[0]
            base = package.split(".")[:len(package.split(".")) - (node.level - 1)] if package else []
            module = ".".join([*base, module])
        path = tgt.import_root.joinpath(*module.split("."))
        file = next((p for p in (path.with_suffix(".py"), path / "__init__.py") if p.is_file()), None)
        if file is None:
            continue
        try:
            ctx = file_context(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        out += [f"{s}  # from {module}" for s in ctx.symbols if _symbol_name(s) in wanted]
    return out[:40]


def style_excerpt(files: list[Path], project: Path) -> str:
    """The first lines of up to two existing test files of the module (the project's style)."""
    parts: list[str] = []
    used = 0
    for f in files[:2]:
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        room = MAX_STYLE_CHARS - used
        if room < 200:
            break
        excerpt = text[:room].rsplit("\n", 1)[0] if len(text) > room else text
        used += len(excerpt)
        rel = rel_path(f, project) or f.name
        parts.append(f"# {rel}\n{excerpt.rstrip()}")
    return "\n\n".join(parts)


def uncovered(entries: list[dict | None], scope: range | None) -> tuple[list[int], list[tuple[int, int]]]:
    """Lines and branches of the target no run executed (coverage.py JSON entries combined)."""
    run_lines, all_lines, run_br, all_br = test_runs.coverage_sets(entries)
    lines = sorted(n for n in all_lines - run_lines if scope is None or n in scope)
    branches = sorted(b for b in all_br - run_br if scope is None or b[0] in scope)
    return lines, branches


# --- the prompt -------------------------------------------------------------------------


@dataclass
class PromptParts:
    module: str
    rel_file: str
    import_hint: str
    code: str
    signatures: list[str]
    style: str
    source_lines: list[str]
    related: str = ""  # definitions elsewhere in the project, from the index (Target.context)


def build_messages(p: PromptParts, lines: list[int], branches: list[tuple[int, int]], kept: list[str],
                   feedback: list[str], secrets: tuple[str, ...]) -> list[dict[str, str]]:
    """The request for one round (a fresh two-message conversation, bounded in size)."""

    def src(n: int) -> str:
        return p.source_lines[n - 1].strip() if 0 < n <= len(p.source_lines) else ""

    parts = [f"Module `{p.module}` (file {p.rel_file}). Import what you test from it, e.g. `{p.import_hint}`.",
             f"Code under test:\n```python\n{p.code.rstrip()}\n```"]
    if p.signatures:
        parts.append("It calls (signatures):\n" + "\n".join(p.signatures))
    if p.related:
        parts.append(p.related)
    if p.style:
        parts.append(f"Existing tests of this module (follow their style; do not repeat them):\n```python\n{p.style}\n```")
    if lines or branches:
        text = "Not covered by any test yet; write tests that execute these:\n"
        text += "\n".join(f"line {n}: {src(n)}" for n in lines[:MAX_UNCOVERED])
        if branches:
            text += "\nbranches never taken:\n" + "\n".join(
                f"line {a} -> {'exit' if b < 0 else f'line {b}'} ({src(a)})" for a, b in branches[:MAX_UNCOVERED])
        parts.append(text)
    if kept:
        parts.append("These tests already pass and are kept; write other ones: " + ", ".join(kept))
    if feedback:
        parts.append("Feedback on your previous tests (they were dropped):\n" +
                     "\n".join(f"- {f}" for f in feedback[:MAX_FEEDBACK]))
    parts.append("Write 3 to 8 new pytest test functions. Reply with one ```python block.")
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": scrub("\n\n".join(parts), secrets)}]


# --- reading the answer -----------------------------------------------------------------

_TOP_START = re.compile(r"^(?:@|def |async def |class |import |from |if |[A-Za-z_][\w.]*\s*[=(:])")


def _chunks(block: str) -> list[str]:
    """Split a code block into top-level statements, comments and decorators included.

    A block that parses is split at its statements' exact lines; one that does not is split
    at column-0 statement starts (:func:`_chunks_by_column`), so one broken function costs
    only itself.
    """
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return _chunks_by_column(block)
    lines = block.splitlines()
    out: list[str] = []
    prev_end = 0
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        while start - 1 >= prev_end and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        end = node.end_lineno or node.lineno
        out.append("\n".join(lines[start:end]) + "\n")
        prev_end = end
    return out


def _chunks_by_column(block: str) -> list[str]:
    chunks: list[list[str]] = []
    current: list[str] = []
    prefix_only = True  # the current chunk so far holds only comments/decorators/blank lines
    for line in block.splitlines():
        starts = bool(_TOP_START.match(line)) or line.startswith("#")
        if starts and current and not prefix_only:
            chunks.append(current)
            current = []
            prefix_only = True
        current.append(line)
        if line.strip() and not line.startswith(("#", "@")):
            prefix_only = False
    if current:
        chunks.append(current)
    return ["\n".join(c).strip("\n") + "\n" for c in chunks if any(x.strip() for x in c)]


def _bound_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {a.asname or a.name for a in node.names}


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _target_of(fn: ast.AST, module_names: set[str], default: str) -> str:
    for n in ast.walk(fn):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in module_names:
                return f.id
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in module_names:
                return f"{f.value.id}.{f.attr}"
    return default


def top_level_names(tree: ast.Module) -> set[str]:
    """Every name a module binds at its top level (what ``from module import name`` can get)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= _bound_names(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _one_per_name(node: ast.Import | ast.ImportFrom) -> list[ast.Import | ast.ImportFrom]:
    """``from m import a, b`` as two statements: each test gets only what it uses."""
    if isinstance(node, ast.Import):
        return [ast.Import(names=[a]) for a in node.names]
    return [ast.ImportFrom(module=node.module, names=[a], level=node.level) for a in node.names]


def split_answer(answer: str, module: str, module_names: set[str], default_target: str,
                 module_bound: set[str] | None = None) -> tuple[list[Candidate], list[str]]:
    """Test functions of an answer (each compiled on its own) and one line per problem.

    ``module_names`` are the module's functions and classes (imported for a test that uses
    them without importing them); ``module_bound`` all its top-level names: a test that
    imports anything else from the module is dropped before it runs, since a failing import
    would stop pytest from collecting the whole file.
    """
    bound_in_module = module_names if module_bound is None else module_bound
    problems: list[str] = []
    imports: list[tuple[str, set[str], bool, str | None]] = []  # (line, names bound, star, missing name)
    tests: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, str | None]] = []
    for block in find_code_blocks(answer):
        for chunk in _chunks(block):
            try:
                tree = ast.parse(compile(chunk, "<generated test>", "exec", ast.PyCF_ONLY_AST))
            except (SyntaxError, ValueError) as exc:
                m = re.search(r"^\s*(?:async\s+)?def\s+(\w+)", chunk, re.M)
                what = f"{m.group(1)} does not compile" if m else "a statement does not compile"
                problems.append(f"{what}: {getattr(exc, 'msg', str(exc))}")
                continue
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    for one in _one_per_name(node):
                        name = one.names[0].name
                        unknown = name if (isinstance(one, ast.ImportFrom) and one.module == module and not one.level
                                           and name != "*" and name not in bound_in_module) else None
                        imports.append((ast.unparse(one), _bound_names(one), name == "*", unknown))
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    quote = None
                    for line in chunk.splitlines():
                        m = DOC_MARK.match(line)
                        if m:
                            quote = m.group("quote").strip().strip("`'\"")
                            break
                    tests.append((chunk, node, quote))
                elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
                    continue
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    problems.append(f"{node.name} was ignored: write only top-level test_* functions")
    out: list[Candidate] = []
    for chunk, fn, quote in tests:
        used = _used_names(fn)
        chosen = [(line, names, unknown) for line, names, star, unknown in imports if star or names & used]
        bad = sorted({unknown for _, _, unknown in chosen if unknown})
        if bad:
            problems.append(f"{fn.name} imports {', '.join(bad)} from {module}, which does not define it")
            continue
        needed = list(dict.fromkeys(line for line, _, _ in chosen))
        bound = set().union(*(names for _, names, _ in chosen))
        missing = sorted(n for n in used - bound if n in module_names)
        if missing:
            needed.append(f"from {module} import {', '.join(missing)}")
        if "pytest" in used and "pytest" not in bound:
            needed.append("import pytest")
        out.append(Candidate(fn.name, chunk, needed, _target_of(fn, module_names, default_target), quote,
                             body_key(fn)))
    return out, problems


# --- classifying the runs ---------------------------------------------------------------


def _gist(error: str) -> str:
    """The telling line of a collection error (``ModuleNotFoundError: No module named 'x'``)."""
    lines = [ln.strip().removeprefix("E").strip() for ln in error.splitlines() if ln.strip()]
    telling = [ln for ln in lines if re.match(r"^\w*(Error|Exception)\b", ln)]
    return ((telling or lines or [""])[-1])[:300]


def _normal(text: str) -> str:
    return " ".join(text.split())


def documented_in(quote: str | None, source: str) -> bool:
    """Rule 1: the model's quote really is in the target's source."""
    if not quote:
        return False
    q = _normal(quote.rstrip(".")).replace(">>> ", "")
    return len(q) >= 3 and q in _normal(source).replace(">>> ", "")


def is_own_check(message: str) -> bool:
    """Rule 3: the failure is the test's assertion (or a ``pytest.raises`` that got nothing)."""
    first = message.strip()
    return first.startswith(("assert", "AssertionError", "Failed: DID NOT RAISE"))


def classify(cands: list[Candidate], runs: list[PytestResult], rel_test: str, scope_source: str) -> Round:
    """Passing in every run: kept; failing in every run: dropped or a probable bug; else flaky."""
    outcomes, messages, _ = test_runs.outcomes_of(runs, rel_test)
    rnd = Round()
    for c in cands:
        got = outcomes.get(c.name, [])
        msg = " ".join(messages.get(c.name, "").split())[:300]
        if len(got) == len(runs) and all(o == "passed" for o in got):
            rnd.kept.append(c)
        elif not got:
            rnd.feedback.append(f"{c.name} was not collected by pytest")
        elif any(o == "passed" for o in got):
            rnd.feedback.append(f"{c.name} is flaky (passed in one run, failed in another: {msg}); "
                                "do not depend on time, randomness, set order, ids or the environment")
        elif documented_in(c.documented, scope_source) and is_own_check(messages.get(c.name, "")):
            rnd.bugs.append((c, msg))
        else:
            why = " (its `# documented:` quote is not in the source)" if c.documented and not \
                documented_in(c.documented, scope_source) else ""
            rnd.feedback.append(f"{c.name} failed{why}: {msg}")
    return rnd


def bug_test(c: Candidate, failure: str, source_lines: list[str], default_line: int) -> tuple[GeneratedTest, int, str]:
    """The strict-xfail version of a probable-bug test, the line it points at, the message."""
    short = failure.split(" + ")[0].strip()[:120]
    message = f"probable bug: {c.name} fails ({short}), docstring says: {c.documented}"
    line = default_line
    key = _normal(c.documented or "").replace(">>> ", "")[:40]
    for i, text in enumerate(source_lines, 1):
        if key and key in _normal(text).replace(">>> ", ""):
            line = i
            break
    lines = c.code.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith(("@", "def ", "async def ")))
    decorator = f"@pytest.mark.xfail(reason={message!r}, strict=True)"
    code = "\n".join([*lines[:at], decorator, *lines[at:]]) + "\n"
    imports = c.imports if "import pytest" in c.imports else [*c.imports, "import pytest"]
    test = GeneratedTest(c.name, code, imports, c.target, kind="xfail", line=line, message=message)
    return test, line, message


def _rename(c: Candidate, taken: set[str]) -> Candidate:
    name, n = c.name, 2
    while name in taken:
        name = f"{c.name}_{n}"
        n += 1
    if name != c.name:
        c.code = re.sub(rf"\b(def\s+){re.escape(c.name)}\(", rf"\g<1>{name}(", c.code, count=1)
        c.name = name
    return c


def _as_test(c: Candidate) -> GeneratedTest:
    return GeneratedTest(c.name, c.code, list(c.imports), c.target)


# --- the engine -------------------------------------------------------------------------


@dataclass
class _Session:
    """One generation's state, shared by its rounds."""

    tgt: Target
    existing: str | None
    rel_test: str
    policy: Policy
    budget: float
    cancel: threading.Event | None
    result: GenerationResult
    scope: range | None
    scope_source: str
    source_lines: list[str]
    module_names: set[str]
    default_line: int
    module_bound: set[str] = field(default_factory=set)  # every top-level name of the module
    started: float = field(default_factory=time.monotonic)
    taken: set[str] = field(default_factory=set)  # test names in use
    bodies: set[str] = field(default_factory=set)  # bodies of existing and generated tests
    kept: list[Candidate] = field(default_factory=list)
    bugs: list[ProbableBug] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    entries: list[dict | None] = field(default_factory=list)  # coverage of what is kept
    answers_with_tests: int = 0

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def timeout(self) -> float:
        return max(5.0, self.budget - (time.monotonic() - self.started)) + 20

    def take(self, answer: str) -> list[Candidate]:
        """The answer's new test functions; what was wrong with it goes to the feedback."""
        cands, problems = split_answer(answer, self.tgt.module, self.module_names, self.tgt.member or self.tgt.module,
                                       self.module_bound)
        self.feedback = list(problems)
        broken = [p for p in problems if "does not compile" in p or "which does not define it" in p]
        self.result.dropped += len(broken)
        self.result.dropped_details += broken
        if not cands:
            self.feedback.append("your answer held no test functions: reply with one ```python block of test_* functions")
            return []
        self.answers_with_tests += 1
        fresh: list[Candidate] = []
        for c in cands:
            if c.body_key in self.bodies:
                self.feedback.append(f"{c.name} repeats an existing test")
                continue
            self.bodies.add(c.body_key)
            fresh.append(_rename(c, self.taken))
            self.taken.add(c.name)
        return fresh

    def run(self, fresh: list[Candidate], last_round: bool, retry: bool = True) -> None:
        """Run the kept tests and ``fresh`` in the sandbox; keep, drop or report each.

        When pytest cannot even collect the file (an import of a missing package, say),
        the candidates with imports not seen before are dropped and the rest run once more.
        """
        result = self.result
        text = merge_tests(self.existing, [_as_test(c) for c in self.kept + fresh], module=self.tgt.module)
        runs = test_runs.run_twice(self.tgt, self.rel_test, text, self.policy, self.timeout(), self.cancel)
        result.sandbox_level = runs[0].result.level
        if any(r.result.cancelled for r in runs):
            return
        _, _, broken = test_runs.outcomes_of(runs, self.rel_test)
        if broken:
            proven = {"import pytest"} | {i for c in self.kept for i in c.imports}
            plain = [c for c in fresh
                     if all(i in proven or i.startswith(f"from {self.tgt.module} import ") for i in c.imports)]
            retrying = retry and 0 < len(plain) < len(fresh)
            suspects = [c for c in fresh if c not in plain] if retrying else fresh
            line = (f"{', '.join(c.name for c in suspects)} dropped: the test file could not run "
                    f"({_gist(broken)}); use only the standard library, pytest and the module under test")
            self.feedback.append(line)
            result.dropped_details.append(line)
            result.dropped += len(suspects)
            if retrying:
                self.run(plain, last_round, retry=False)
            return
        rnd = classify(self.kept + fresh, runs, self.rel_test, self.scope_source)
        self.feedback += rnd.feedback
        ran = len(self.kept) + len(fresh)
        result.dropped += ran - len(rnd.kept) - len(rnd.bugs)
        result.dropped_details += rnd.feedback
        self.kept = rnd.kept
        log.info("%s: %d candidate tests, %d kept in all, %d probable bugs, %d dropped",
                 self.tgt.module, len(fresh), len(self.kept), len(rnd.bugs), ran - len(rnd.kept) - len(rnd.bugs))
        if len(self.kept) == ran:
            self.entries.append(test_runs.file_entry(runs[0], self.tgt.file))
        elif self.kept and not last_round and time.monotonic() - self.started < self.budget:
            self.entries.append(self.rerun_kept())
        for c, failure in rnd.bugs:
            test, line, message = bug_test(c, failure, self.source_lines, self.default_line)
            self.bugs.append(ProbableBug(function=c.target, line=line, message=message, test=test,
                                         file=str(self.tgt.file)))

    def rerun_kept(self) -> dict | None:
        """Run the kept tests alone (hash seed 3, with coverage): what is still uncovered.

        The round's run also covered what the dropped tests reached, which would hide those
        lines from the next prompt. It is one more re-run of every kept test, too: one that
        fails now is flaky and dropped.
        """
        text = merge_tests(self.existing, [_as_test(c) for c in self.kept], module=self.tgt.module)
        pres = test_runs.run_test_file(self.tgt, self.rel_test, text, self.policy, 3, self.timeout(), True, self.cancel)
        outcomes, messages, broken = test_runs.outcomes_of([pres], self.rel_test)
        if broken or pres.result.cancelled:
            return None
        flaky = [c for c in self.kept if outcomes.get(c.name) != ["passed"]]
        for c in flaky:
            line = (f"{c.name} is flaky (passed twice, then: {' '.join(messages.get(c.name, '').split())[:200]}); "
                    "do not depend on time, randomness, set order, ids or the environment")
            self.feedback.append(line)
            self.result.dropped_details.append(line)
        self.result.dropped += len(flaky)
        self.kept = [c for c in self.kept if c not in flaky]
        return None if flaky else test_runs.file_entry(pres, self.tgt.file)


def generate_llm_tests(tgt: Target, target: str, settings: Settings, *, budget: float = 20.0,
                       policy: Policy | None = None, progress: Progress | None = None,
                       cancel: threading.Event | None = None, out_dir: Path | None = None,
                       llm: ModelClient | None = None) -> GenerationResult:
    """Generate tests for ``tgt`` with the configured model; the same result as the offline engine.

    Raises :class:`ModelFailure` when the model fails before any test was kept (endpoint
    error, empty or test-free answers), :class:`GenerationError` for bad input.
    """
    own_client = llm is None
    client = llm or create_client(settings.model)
    try:
        if not client.configured:
            from codeloop.model.errors import NOT_CONFIGURED

            raise ModelFailure(NOT_CONFIGURED)
        return _run(tgt, target, settings, budget, policy or Policy(), progress or no_progress, cancel, out_dir,
                    client)
    except MergeError as exc:
        raise GenerationError(str(exc)) from None
    finally:
        if own_client:
            client.close()


def _start(tgt: Target, target: str, budget: float, policy: Policy, cancel: threading.Event | None,
           out_dir: Path | None) -> tuple[_Session, list[str]]:
    """Read the target and the test files, set up the session; returns it and the related tests."""
    source = tgt.file.read_text(encoding="utf-8")
    tree = ast.parse(source)
    scope_node, scope = target_scope(tree, tgt.member)
    source_lines = source.splitlines()
    result = GenerationResult(target=target, module=tgt.module, engine="llm")
    test_file, existing, related_rel = test_file_and_related(tgt, out_dir)
    result.test_file = test_file
    result.existing_text = existing
    s = _Session(tgt, existing, rel_test_path(tgt, test_file), policy, budget, cancel, result, scope,
                 "\n".join(source_lines[scope.start - 1:scope.stop - 1]) if scope else source, source_lines,
                 set(defined_names(tree)), getattr(scope_node, "lineno", 1))
    s.module_bound = top_level_names(tree)
    s.taken = test_names(existing)
    s.bodies = related_bodies(tgt.project, existing, related_rel)  # no copies of the user's tests
    return s, related_rel


def _run(tgt: Target, target: str, settings: Settings, budget: float, policy: Policy, report: Progress,
         cancel: threading.Event | None, out_dir: Path | None, llm: ModelClient) -> GenerationResult:
    key = settings.model.resolve_api_key()
    secrets = (key,) if key else ()
    s, related_rel = _start(tgt, target, budget, policy, cancel, out_dir)
    result = s.result
    report("measuring coverage of the existing tests", 0.02)
    before_thread, before = test_runs.start_coverage_before(tgt, related_rel, policy, budget, cancel)
    s.entries = [test_runs.probe_import(tgt, policy, budget, cancel)]
    before_thread.join(timeout=max(5.0, 0.5 * budget))
    s.entries.append(before.get("entry"))
    tree = ast.parse("\n".join(s.source_lines))
    parts = PromptParts(
        module=tgt.module, rel_file=rel_path(tgt.file, tgt.project) or tgt.file.name,
        import_hint=f"from {tgt.module} import {tgt.member.split('.')[0]}" if tgt.member else f"import {tgt.module}",
        code=s.scope_source[:MAX_SOURCE_CHARS],
        signatures=called_signatures(tgt, tree, "\n".join(s.source_lines), target_scope(tree, tgt.member)[0]),
        style=style_excerpt([tgt.project / r for r in related_rel], tgt.project), source_lines=s.source_lines,
        related=tgt.context)

    model_seconds = 0.0
    for round_no in range(1, MAX_ROUNDS + 1):
        lines, branches = uncovered(s.entries, s.scope)
        if s.cancelled or (round_no > 1 and (not (lines or branches) or time.monotonic() - s.started > budget)):
            break  # coverage target met, or the budget is spent (the first round always runs)
        report(f"round {round_no}: asking the model", 0.1 + 0.7 * (round_no - 1) / MAX_ROUNDS)
        messages = build_messages(parts, lines, branches, [c.name for c in s.kept], s.feedback, secrets)
        t0 = time.monotonic()
        try:
            answer = llm.chat(messages, n=1, cancel=cancel)[0].text
        except Cancelled:
            break
        except ModelError as exc:
            log.info("round %d: model error (%s): %s", round_no, exc.kind, exc.message)
            if not s.kept and not s.bugs:
                raise ModelFailure(f"model error: {exc.message}") from None
            result.errors.append(f"model error in round {round_no}: {exc.message}; kept the earlier rounds' tests")
            break
        finally:
            model_seconds += time.monotonic() - t0
        result.calls = round_no
        fresh = s.take(answer)
        if fresh:
            report(f"round {round_no}: running {len(fresh)} tests in the sandbox",
                   0.15 + 0.7 * (round_no - 1) / MAX_ROUNDS)
            s.run(fresh, last_round=round_no == MAX_ROUNDS)
    result.timings["model"] = model_seconds
    if s.cancelled:
        result.errors.append("cancelled")
        test_runs.finish(result, tgt, s.existing, [], [], None, before_thread, before, 1.0, s.started)
        return result
    if not s.kept and not s.bugs and s.answers_with_tests == 0:
        raise ModelFailure(f"the model's answers held no pytest test functions ({result.calls} round(s))")

    report("verifying the kept tests again", 0.9)
    tests, bugs, final_entry = test_runs.verify_tests(tgt, s.existing, [_as_test(c) for c in s.kept] + [b.test for b in s.bugs],
                                               s.bugs, s.rel_test, policy, budget, s.started, cancel, result,
                                               first_runs=1)
    if not tests and (s.kept or s.bugs):
        result.errors.append("no test passed the final re-run")
    test_runs.finish(result, tgt, s.existing, tests, bugs, final_entry, before_thread, before, budget, s.started)
    result.timings["sandbox"] = result.duration - model_seconds
    report("done", 1.0)
    return result
