"""From a stub or a comment to a verified implementation: the pipeline.

:func:`implement` is the core API behind ``codeloop implement`` and the
``codeloop.implement`` code action (no pygls here). For one intent it:

1. locates the function in the document (or, for a comment, where it goes) and
   builds the prompt (:mod:`codeloop.generate.prompts`);
2. asks the model for N candidates, extracts each (:mod:`codeloop.generate.extract`)
   and audits it (:mod:`codeloop.audit`): unparsable code, a changed signature, a
   hallucinated import or a forbidden call rejects the candidate;
3. collects the checks: the developer's examples (:mod:`codeloop.verify.examples`),
   the existing tests that refer to the function, and tests the model writes in a
   separate request from the description alone; plus shared inputs whose outputs
   are compared between candidates;
4. runs every surviving candidate against all checks in the sandbox (one pytest run
   per candidate, with branch coverage of the function);
5. ranks them (:mod:`codeloop.verify.rank`), and when none verifies, repairs the best
   failing ones by feeding the failures back, for ``settings.generate.repair_rounds``
   rounds; with several configured models, escalates to the next one;
6. logs every candidate's outcome to the reward log (:mod:`codeloop.learn`), which in
   turn picks the model order and how many samples and repair rounds to spend
   (:func:`codeloop.learn.plan.choose_plan`: never more than configured).

The result (:class:`ImplementResult`) holds the best candidate, whether it verified,
the evidence line (``3/3 examples, 12/12 generated tests pass, ...``), what failed,
every candidate's record, and the new document text. Nothing is written anywhere:
the caller applies ``new_text`` (version-checked) or not.
"""

from __future__ import annotations

import ast
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeloop.audit import AuditPolicy, AuditReport, ModuleIndex, audit_code
from codeloop.audit.policy import policy_findings
from codeloop.generate.extract import Extraction, extract_function, find_code_blocks, indent_block
from codeloop.generate.prompts import (
    Messages,
    PromptContext,
    file_context,
    implement_messages,
    repair_messages,
    tests_messages,
)
from codeloop.learn.log import DisabledLog, Outcome, RewardLog, open_log
from codeloop.learn.plan import Plan, choose_plan, configured_budget
from codeloop.learn.ranking import choose_models
from codeloop.verify.examples import (
    GUARD_LINES_ENV,
    ExampleResult,
    ExampleTests,
    build_example_tests,
    map_results,
    runtime_guard,
)
from codeloop.verify.rank import CandidateEvidence, rank
from codeloop.workspace.model import Example, Intent

Progress = Callable[[str, float], None]

GENERATED_TESTS_FILE = "test_codeloop_generated.py"
OUTPUTS_FILE = "test_codeloop_outputs.py"
_OUTPUT_MARK = "CODELOOP_OUTPUT "
MAX_SHARED_INPUTS = 10
MAX_EXISTING_TESTS = 50
TEST_SECONDS = 10  # one example or generated test that runs longer fails (a loop must not eat the run)


class ImplementError(Exception):
    """Bad input: the intent cannot be implemented as asked (the message says why)."""


# ---------------------------------------------------------------- results


@dataclass
class CandidateRecord:
    """One candidate and everything that was found out about it."""

    id: str  # "c1".., "r1.1" (repair round 1 of ...)
    origin: str  # "sample" or "repair-<round>"
    model: str
    answer: str  # the model's raw answer
    prompt: Messages = field(default_factory=list, repr=False)
    code: str = ""  # imports + helpers + function, as extracted
    function: str = ""
    new_text: str | None = None  # the document with this candidate applied
    func_lines: tuple[int, int] = (0, 0)  # 1-based first/last line of the function in new_text
    code_lines: tuple[tuple[int, int], ...] = ()  # 1-based ranges of all candidate code (helpers too)
    rejected: str | None = None  # why it never ran (extraction or audit)
    audit: AuditReport | None = None
    examples: list[ExampleResult] = field(default_factory=list)
    tests: dict[str, bool] = field(default_factory=dict)  # "generated::name" / "existing::nodeid"
    test_messages: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    coverage: float | None = None
    run_problem: str | None = None  # the sandbox stopped the run / could not import
    failures: list[str] = field(default_factory=list)
    verified: bool = False
    parent: str | None = None  # the candidate this one repairs
    log_id: int = 0

    def counts(self, prefix: str) -> tuple[int, int]:
        items = [ok for name, ok in self.tests.items() if name.startswith(prefix)]
        return sum(items), len(items)

    def evidence(self) -> str:
        """``3/3 examples, 12/12 generated tests pass, branch coverage 94 %, audit clean``."""
        if self.rejected:
            return f"rejected: {self.rejected}"
        parts = []
        if self.examples:
            parts.append(f"{sum(r.passed for r in self.examples)}/{len(self.examples)} examples")
        passed, total = self.counts("existing::")
        if total:
            parts.append(f"{passed}/{total} existing tests")
        passed, total = self.counts("generated::")
        if total:
            parts.append(f"{passed}/{total} generated tests")
        passed, total = self.counts("property::")
        if total:
            parts.append(f"{passed}/{total} return-type checks")
        text = ", ".join(parts) + " pass" if parts else "no checks ran"
        if self.run_problem:
            text += f" ({self.run_problem})"
        if self.coverage is not None:
            text += f", branch coverage {self.coverage:.0f} %"
        if self.audit is not None:
            text += ", " + self.audit.summary()
        return text

    def to_checks(self) -> dict[str, Any]:
        """The checks and their results, as JSON data for the reward log."""
        return {
            "examples": [
                {"line": r.example.line + 1, "call": r.example.call, "expected": r.example.expected,
                 "passed": r.passed, "message": r.message}
                for r in self.examples
            ],
            "tests": dict(self.tests),
            "outputs": dict(self.outputs),
            "failures": list(self.failures),
            "run_problem": self.run_problem,
            "rejected": self.rejected,
        }


@dataclass
class ImplementResult:
    """What :func:`implement` found. ``new_text`` is set only when there is a candidate."""

    name: str
    verified: bool = False
    best: CandidateRecord | None = None
    evidence: str = ""
    failed: list[str] = field(default_factory=list)
    candidates: list[CandidateRecord] = field(default_factory=list)
    new_text: str | None = None
    error: str | None = None  # a model or sandbox failure, one line
    error_kind: str | None = None  # ModelError kind, "sandbox", "cancelled"
    cancelled: bool = False
    models_tried: list[str] = field(default_factory=list)
    generated_tests: str | None = None  # the model-written tests file that was used
    notes: list[str] = field(default_factory=list)
    document_text: str | None = field(default=None, repr=False)  # the text the candidates were made for

    def edit(self) -> LineEdit | None:
        """The smallest whole-line replacement turning ``document_text`` into ``new_text``."""
        if self.new_text is None or self.document_text is None:
            return None
        return line_edit(self.document_text, self.new_text)

    @property
    def title(self) -> str:
        """The code action title: evidence when verified, an explicit ``unverified`` otherwise."""
        if self.verified:
            return f"Implement {self.name}: {self.evidence}"
        if self.best is not None:
            return f"Implement {self.name} (unverified): {self.evidence}"
        return f"Implement {self.name}: no candidate" + (f" ({self.error})" if self.error else "")


@dataclass(frozen=True)
class LineEdit:
    """Replace lines ``[start_line, end_line)`` (0-based) with ``new_text``.

    As an LSP ``TextEdit``: range ``(start_line, 0)``-``(end_line, 0)``; ``new_text``
    ends with a newline whenever the replaced lines did.
    """

    start_line: int
    end_line: int
    new_text: str


def line_edit(old_text: str, new_text: str) -> LineEdit | None:
    """The single smallest line range whose replacement turns ``old_text`` into
    ``new_text`` (None when they are equal)."""
    if old_text == new_text:
        return None
    old = old_text.splitlines(keepends=True)
    new = new_text.splitlines(keepends=True)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(old), len(new)) - prefix
           and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]):
        suffix += 1
    return LineEdit(prefix, len(old) - suffix, "".join(new[prefix : len(new) - suffix]))


# ---------------------------------------------------------------- the target


@dataclass(frozen=True)
class _Target:
    name: str
    path: Path
    rel_path: str
    module: str
    import_root: Path
    stub: str | None  # the stub's source (decorators through the body), None for a comment
    start: int  # 0-based first line to replace (or to insert at)
    end: int  # 0-based line after the last one replaced (== start: insert)
    indent: str
    class_name: str | None
    known_names: frozenset[str]
    is_method: bool
    params: tuple[str, ...]  # parameter names (without self/cls)
    is_async: bool


def module_for(path: Path, workspace: Path) -> tuple[Path, str]:
    """(import root, dotted module) of ``path``: walk up through packages. Public for
    other checks that import a workspace function in the sandbox (inline completions)."""
    parts = [path.stem] if path.name != "__init__.py" else []
    folder = path.parent
    while (folder / "__init__.py").exists() and folder != workspace.parent and folder != folder.parent:
        parts.insert(0, folder.name)
        folder = folder.parent
    if not parts:
        raise ImplementError(f"cannot tell the module name of {path}")
    return folder, ".".join(parts)


_module_for = module_for  # the name codeloop.verify.completion_check imports today


def _locate(intent: Intent, document_text: str, path: Path, workspace: Path) -> _Target:
    try:
        tree = ast.parse(document_text)
    except SyntaxError as exc:
        raise ImplementError(f"{path.name} does not parse (line {exc.lineno}: {exc.msg}); fix the syntax first") from None
    try:
        rel = path.resolve().relative_to(workspace.resolve())
    except ValueError:
        raise ImplementError(f"{path} is not inside the workspace {workspace}") from None
    import_root, module = module_for(path.resolve(), workspace.resolve())
    lines = document_text.split("\n")
    known = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    known |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}

    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    name, class_name = _split_name(intent)
    candidates: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str | None]] = []
    for node in tree.body:
        if isinstance(node, funcs) and node.name == name and not class_name:
            candidates.append((node, None))
        elif isinstance(node, ast.ClassDef) and (class_name is None or node.name == class_name):
            for item in node.body:
                if isinstance(item, funcs) and item.name == name and (class_name or intent.is_method):
                    candidates.append((item, node.name))
    if candidates:
        node, cls = min(candidates, key=lambda c: abs((c[0].lineno - 1) - intent.span.start_line))
        start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
        end = node.end_lineno or node.lineno
        stub = "\n".join(lines[start:end]) + "\n"
        def_line = lines[node.lineno - 1]
        indent = def_line[: len(def_line) - len(def_line.lstrip())]
        args = node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        if cls and names and names[0] in ("self", "cls"):
            names = names[1:]
        return _Target(name, path, str(rel), module, import_root, stub, start, end, indent, cls,
                       frozenset(known), cls is not None, tuple(names), isinstance(node, ast.AsyncFunctionDef))
    if intent.kind == "from_comment":
        at = min(intent.span.end_line + 1, len(lines))
        comment_line = lines[intent.span.start_line] if intent.span.start_line < len(lines) else ""
        indent = comment_line[: len(comment_line) - len(comment_line.lstrip())]
        return _Target(name, path, str(rel), module, import_root, None, at, at, indent, None,
                       frozenset(known), False, (), False)
    where = f"class {class_name}" if class_name else path.name
    raise ImplementError(f"no function {name} in {where} (has the file changed?)")


def _split_name(intent: Intent) -> tuple[str, str | None]:
    """(function name, class name) from ``Class.method`` or a plain name."""
    if intent.class_name and intent.name.startswith(intent.class_name + "."):
        return intent.name[len(intent.class_name) + 1 :], intent.class_name
    if "." in intent.name and intent.kind == "implement":
        cls, _, name = intent.name.rpartition(".")
        return name, cls.rsplit(".", 1)[-1]
    return intent.name, intent.class_name


def _splice(document_text: str, target: _Target, ex: Extraction) -> tuple[str, tuple[int, int], tuple[tuple[int, int], ...]]:
    """The document with the candidate in place; the function's 1-based line range; the
    ranges of all the candidate's code (helpers and function)."""
    lines = document_text.split("\n")
    function = indent_block(ex.function, target.indent).rstrip("\n").split("\n")
    before, after = lines[: target.start], lines[target.end :]
    helpers: list[str] = []
    if ex.helpers.strip():
        helpers = indent_block(ex.helpers, "" if target.is_method else target.indent).rstrip("\n").split("\n") + ["", ""]
    lead: list[str] = []
    trail: list[str] = []
    if target.stub is None and after and after[0].strip():
        trail = ["", ""]
    ranges: list[tuple[int, int]] = []
    if target.is_method and helpers:
        # Module-level helpers of a method go above its class.
        class_start = _class_start(lines, target)
        before = before[:class_start] + helpers + before[class_start:]
        ranges.append((class_start + 1, class_start + len(helpers) - 2))
        helpers = []
    elif helpers:
        ranges.append((len(before) + 1, len(before) + len(helpers) - 2))
    first = len(before) + len(helpers) + len(lead) + 1
    last = first + len(function) - 1
    ranges.append((first, last))
    text = "\n".join(before + helpers + lead + function + trail + after)
    text, shift = _add_imports(text, ex.imports)
    return text, (first + shift, last + shift), tuple((lo + shift, hi + shift) for lo, hi in ranges)


def _class_start(lines: list[str], target: _Target) -> int:
    pattern = re.compile(rf"^\s*class\s+{re.escape(target.class_name or '')}\b")
    for i in range(target.start, -1, -1):
        if pattern.match(lines[i]):
            while i > 0 and lines[i - 1].lstrip().startswith("@"):
                i -= 1
            return i
    return target.start


def _add_imports(text: str, imports: Sequence[str]) -> tuple[str, int]:
    """Add the import statements the file lacks after its last top-level import."""
    if not imports:
        return text, 0
    tree = ast.parse(text)
    have = {ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    missing = [imp for imp in imports if imp not in have]
    if not missing:
        return text, 0
    lines = text.split("\n")
    future = [m for m in missing if m.startswith("from __future__")]
    missing = [m for m in missing if not m.startswith("from __future__")]
    last_import = 0
    doc_end = 0
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            last_import = n.end_lineno or n.lineno
        elif isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str) and n is tree.body[0]:
            doc_end = n.end_lineno or n.lineno
    added = 0
    if future:
        lines[doc_end:doc_end] = future
        added += len(future)
        last_import = max(last_import, doc_end) + len(future)
    if missing:
        at = last_import if last_import else doc_end
        block = missing + ([""] if not last_import and at < len(lines) and lines[at].strip() else [])
        lines[at:at] = block
        added += len(block)
    return "\n".join(lines), added


# ---------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Checks:
    examples: ExampleTests | None
    generated: str | None  # source of the model-written tests file
    generated_names: tuple[str, ...]
    outputs: str | None  # source of the shared-inputs probe
    existing: tuple[str, ...]  # node ids of existing tests that refer to the function
    existing_files: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.examples and self.examples.tests) and not self.generated_names and not self.existing


_GEN_HEADER = """# Tests written by the model for {name}, run by codeloop in the sandbox.
import sys as _sys
if {root!r} not in _sys.path:
    _sys.path.insert(0, {root!r})
{guard}

import pytest as _codeloop_pytest


@_codeloop_pytest.fixture(autouse=True)
def _codeloop_guard_after_each_test():
    import signal

    def too_slow(signum, frame):
        raise TimeoutError("the test did not finish within {seconds} s")

    alarm = hasattr(signal, "SIGALRM")
    if alarm:
        signal.signal(signal.SIGALRM, too_slow)
        signal.alarm({seconds})
    yield
    if alarm:
        signal.alarm(0)
    _codeloop_check_guard()

"""


def _generated_tests(answer: str, target: _Target, import_name: str) -> tuple[str | None, tuple[str, ...], str]:
    """(file source, test names, note) from the model's tests answer."""
    chosen = None
    for tree in _parsed_blocks(answer):
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
               or isinstance(n, ast.ClassDef) and n.name.startswith("Test") for n in tree.body):
            chosen = tree
            break
    if chosen is None:
        return None, (), "the model's tests answer had no test functions"
    body: list[ast.stmt] = []
    imports_target = False
    for node in chosen.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in (target.name, target.class_name):
            continue  # a copy of the implementation: the tests must run against the candidate
        if isinstance(node, ast.ImportFrom) and any(a.name == import_name for a in node.names):
            node = ast.ImportFrom(module=target.module, names=node.names, level=0)
            imports_target = True
        body.append(node)
    names = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [f"{node.name}::{m.name}" for m in node.body
                      if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test")]
    if not names:
        return None, (), "the model's tests answer had no test functions"
    module = ast.Module(body=body, type_ignores=[])
    code = ast.unparse(ast.fix_missing_locations(module))
    blocking = [f for f in policy_findings(ast.parse(code)) if f.blocking]
    if blocking:
        return None, (), f"the model's tests were dropped: {blocking[0].message}"
    header = _GEN_HEADER.format(name=target.name, root=str(target.import_root), guard=runtime_guard(str(target.path)),
                                seconds=TEST_SECONDS)
    if not imports_target:
        header += f"from {target.module} import {import_name}\n"
    return header + "\n" + code + "\n", tuple(names), ""


def _existing_tests(workspace: Path, target: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # the form codeloop.verify.completion_check calls today (it can call existing_tests)
    return existing_tests(workspace, target.name)


def existing_tests(workspace: Path, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(node ids, test files relative to ``workspace``) of the workspace's tests whose body
    refers to ``name`` (at most MAX_EXISTING_TESTS; codeloop's own generated files skipped).
    Public for other checks of a function against its existing tests (inline completions)."""
    try:
        from codeloop.workspace.testindex import TestIndex

        index = TestIndex(workspace)
        files = [f for f in index.test_files() if name in index.names_in(f)]
    except Exception:  # noqa: BLE001 - the index is best effort here
        return (), ()
    ids: list[str] = []
    used: list[str] = []
    skip = {GENERATED_TESTS_FILE, OUTPUTS_FILE, "test_codeloop_examples.py"}
    for file in files:
        if os.path.basename(file) in skip:
            continue
        try:
            tree = ast.parse(Path(file).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        rel = os.path.relpath(file, workspace)

        def mentions(node: ast.AST) -> bool:
            return any(isinstance(n, ast.Name) and n.id == name or isinstance(n, ast.Attribute) and n.attr == name
                       for n in ast.walk(node))

        found = False
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test") and mentions(node):
                ids.append(f"{rel}::{node.name}")
                found = True
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for m in node.body:
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test") and mentions(m):
                        ids.append(f"{rel}::{node.name}::{m.name}")
                        found = True
        if found:
            used.append(rel)
        if len(ids) >= MAX_EXISTING_TESTS:
            break
    return tuple(ids[:MAX_EXISTING_TESTS]), tuple(used)


# -- shared inputs (for agreement between candidates) ---------------------------------------

_POOLS: dict[str, list[str]] = {
    "int": ["0", "1", "-1", "2", "7", "-12", "100"],
    "float": ["0.0", "1.5", "-2.25", "3.0", "1e-3"],
    "str": ["''", "'a'", "'Hello, World'", "'  spaced  '", "'a,b,c'", "'12'"],
    "bool": ["True", "False"],
    "list[int]": ["[]", "[1]", "[3, 1, 2]", "[-1, 0, 5, 5]"],
    "list[str]": ["[]", "['a']", "['b', 'a', 'c']"],
    "list[float]": ["[]", "[1.5]", "[2.0, -1.0, 0.5]"],
}


def _example_args(examples: Sequence[Example], name: str) -> list[list[str]]:
    """Literal positional arguments of the examples' calls of ``name``."""
    out = []
    for ex in examples:
        try:
            call = ast.parse(ex.call.strip(), mode="eval").body
        except SyntaxError:
            continue
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name and not call.keywords:
            try:
                for a in call.args:
                    ast.literal_eval(a)
            except (ValueError, TypeError, SyntaxError):
                continue
            out.append([ast.unparse(a) for a in call.args])
    return out


def _variants(src: str) -> list[str]:
    try:
        value = ast.literal_eval(src)
    except (ValueError, SyntaxError):
        return [src]
    if isinstance(value, bool):
        return [src, repr(not value)]
    if isinstance(value, int):
        return [src, repr(value + 1), repr(-value), "0"]
    if isinstance(value, float):
        return [src, repr(value * 2), "0.0"]
    if isinstance(value, str):
        return [src, repr(""), repr(value + value), repr(value.upper())]
    if isinstance(value, (list, tuple)):
        return [src, repr(type(value)()), repr(type(value)(reversed(value)))]
    return [src]


def _shared_inputs(intent: Intent, target: _Target, stub_tree_args: list[str | None]) -> list[str]:
    """Argument lists (as source) to run every candidate on, for output agreement."""
    if target.is_method or not target.params:
        return []
    pools: list[list[str]] = []
    from_examples = _example_args(intent.examples, target.name)
    for i, annotation in enumerate(stub_tree_args):
        pool: list[str] = []
        for args in from_examples:
            if i < len(args):
                pool += _variants(args[i])
        if annotation:
            pool += _POOLS.get(annotation.replace(" ", "").replace("List[", "list["), [])
        pool = list(dict.fromkeys(pool))
        if not pool:
            return []
        pools.append(pool)
    combos = []
    for k in range(max(len(p) for p in pools)):
        combos.append(", ".join(p[(k + j) % len(p)] for j, p in enumerate(pools)))
    return list(dict.fromkeys(combos))[:MAX_SHARED_INPUTS]


_PROBE = '''# Outputs of {name} on shared inputs, for agreement between candidates (codeloop).
import asyncio as _asyncio
import inspect as _inspect
import json as _json
import re as _re
import signal as _signal
import sys as _sys

if {root!r} not in _sys.path:
    _sys.path.insert(0, {root!r})

import pytest as _pytest

{guard}

from {module} import {name} as _target


def _fingerprint(value, depth=0):
    if depth > 4:
        return "..."
    if isinstance(value, float):
        return repr(round(value, 9))
    if isinstance(value, (set, frozenset)):
        return type(value).__name__ + "{{" + ", ".join(sorted(_fingerprint(v, depth + 1) for v in value)) + "}}"
    if isinstance(value, dict):
        items = sorted((_fingerprint(k, depth + 1), _fingerprint(v, depth + 1)) for k, v in value.items())
        return "{{" + ", ".join(k + ": " + v for k, v in items) + "}}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_fingerprint(v, depth + 1) for v in value)
        return ("[" + inner + "]") if isinstance(value, list) else ("(" + inner + ")")
    return _re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))[:500]


def _alarm(signum, frame):
    raise TimeoutError("slow")


_RETURNS = {returns!r}


def _conforms(value, hint, depth=0):
    """True/False when ``value`` fits the annotation ``hint``; None when that cannot be told."""
    import types
    import typing

    if depth > 3 or hint is typing.Any:
        return None
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, getattr(types, "UnionType", ())):
        verdicts = [_conforms(value, a, depth + 1) for a in args]
        return True if any(v is True for v in verdicts) else (None if None in verdicts else False)
    if origin is None:
        if not isinstance(hint, type):
            return None
        if hint is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool) or isinstance(value, float)
        if hint is complex:
            return isinstance(value, (int, float, complex))
        return isinstance(value, hint)
    if not isinstance(origin, type) or not isinstance(value, origin):
        return False if isinstance(origin, type) else None
    if origin in (list, set, frozenset) and len(args) == 1:
        verdicts = [_conforms(v, args[0], depth + 1) for v in list(value)[:50]]
        return False if False in verdicts else True
    if origin is dict and len(args) == 2:
        verdicts = [_conforms(k, args[0], depth + 1) for k in list(value)[:50]]
        verdicts += [_conforms(v, args[1], depth + 1) for v in list(value.values())[:50]]
        return False if False in verdicts else True
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            return False
        verdicts = [_conforms(v, a, depth + 1) for v, a in zip(value, args)]
        return False if False in verdicts else True
    return True


def _return_hint():
    if _RETURNS is None:
        return _NO_HINT
    try:
        return eval(_RETURNS, dict(vars(_sys.modules[_target.__module__])))
    except Exception:
        return _NO_HINT


_NO_HINT = object()


def _probe(args):
    _signal.signal(_signal.SIGALRM, _alarm)
    _signal.alarm(2)
    typed = None
    try:
        value = eval("_target(" + args + ")")
        if _inspect.isawaitable(value):
            value = _asyncio.run(value)
        out = _fingerprint(value)
        hint = _return_hint()
        if hint is not _NO_HINT:
            typed = _conforms(value, hint)
    except TimeoutError:
        out = "hangs"
    except BaseException as exc:
        out = "raises " + type(exc).__name__
    finally:
        _signal.alarm(0)
    _codeloop_check_guard()
    if typed is False:
        raise AssertionError(
            "{name}(%s) returned %s, which does not fit its annotation -> %s" % (args, out[:200], _RETURNS))
    _pytest.skip({mark!r} + _json.dumps({{"out": out, "typed": typed}}))
'''


def _outputs_probe(target: _Target, inputs: Sequence[str]) -> str | None:
    if not inputs:
        return None
    guard = runtime_guard(str(target.path)).replace("{", "{{").replace("}", "}}")
    src = _PROBE.replace("{guard}", guard).format(name=target.name, root=str(target.import_root),
                                                   module=target.module, mark=_OUTPUT_MARK,
                                                   returns=_stub_returns(target))
    for i, args in enumerate(inputs):
        src += f"\n\ndef test_output_{i}():\n    _probe({args!r})\n"
    return src


# ---------------------------------------------------------------- the run


def _function_coverage(coverage: dict | None, file: str, lines: tuple[int, int]) -> float | None:
    """Line + branch coverage of the lines ``lines`` (inclusive) of ``file``, in percent."""
    if not coverage:
        return None
    files = coverage.get("files", {})
    entry = files.get(file) or files.get(os.path.realpath(file))
    if entry is None:
        return None
    lo, hi = lines
    executed = [n for n in entry.get("executed_lines", []) if lo < n <= hi]  # the def line itself does not count
    missing = [n for n in entry.get("missing_lines", []) if lo < n <= hi]
    eb = [b for b in entry.get("executed_branches", []) if lo <= b[0] <= hi]
    mb = [b for b in entry.get("missing_branches", []) if lo <= b[0] <= hi]
    total = len(executed) + len(missing) + len(eb) + len(mb)
    if total == 0:
        return None
    return 100.0 * (len(executed) + len(eb)) / total


def _verify(rec: CandidateRecord, target: _Target, checks: _Checks, workspace: Path, policy: Any,
            cancel: threading.Event | None) -> None:
    from codeloop_sandbox import run_pytest

    files: dict[str, str] = {target.rel_path: rec.new_text or ""}
    args: list[str] = ["-q"]
    if checks.examples and checks.examples.tests:
        files[checks.examples.path] = checks.examples.source
        args.append(checks.examples.path)
    if checks.generated:
        files[GENERATED_TESTS_FILE] = checks.generated
        args.append(GENERATED_TESTS_FILE)
    if checks.outputs:
        files[OUTPUTS_FILE] = checks.outputs
        args.append(OUTPUTS_FILE)
    args += list(checks.existing)
    env = {**(policy.env or {}), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           # The runtime guard watches only the candidate's lines, not the rest of the file.
           GUARD_LINES_ENV: ",".join(f"{lo}-{hi}" for lo, hi in rec.code_lines)}
    if not checks.existing:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our files: no third-party plugins needed
    run_policy = replace(policy, env=env)
    pres = run_pytest(workspace, args, run_policy, coverage=True, cov_source=[str(target.path.parent)],
                      extra_files=files, cancel=cancel)
    _read_results(rec, pres, target, checks)


def _read_results(rec: CandidateRecord, pres: Any, target: _Target, checks: _Checks) -> None:
    res = pres.result
    if res.limit:
        what = {"timeout": f"timed out after {getattr(res, 'duration', 0):.0f} s", "output": "printed too much",
                "memory": "ran out of memory", "cpu": "used too much CPU", "cancelled": "was cancelled"}
        rec.run_problem = f"the sandbox stopped the run: it {what.get(res.limit, res.limit)}"
        rec.failures.append(rec.run_problem)
    errors = [e for e in pres.errors if not e.startswith("coverage")]
    if errors:
        rec.failures += [f"could not run the checks: {_first_line(e)}" for e in errors[:3]]
        if rec.run_problem is None:
            rec.run_problem = "the checks could not be collected"
    if checks.examples and checks.examples.tests:
        rec.examples = map_results(checks.examples, pres.tests, errors or ([rec.run_problem] if rec.run_problem else []))
        rec.failures += [r.message for r in rec.examples if not r.passed]
    for t in pres.tests:
        file, _, rest = t.nodeid.partition("::")
        base = os.path.basename(file)
        if base == OUTPUTS_FILE:
            msg = t.message or ""
            if t.outcome in ("failed", "error"):
                rec.tests[f"property::{rest}"] = False
                rec.failures.append(_first_line(re.sub(r"^(E\s+)?AssertionError:\s*", "", _first_line(msg))))
                continue
            pos = msg.find(_OUTPUT_MARK)
            if pos >= 0:
                try:
                    data = json.loads(msg[pos + len(_OUTPUT_MARK):])
                except ValueError:
                    data = {"out": "?", "typed": None}
                rec.outputs[rest] = str(data.get("out")) if isinstance(data, dict) else str(data)
                if isinstance(data, dict) and data.get("typed") is True:
                    rec.tests[f"property::{rest}"] = True
            continue
        if base == GENERATED_TESTS_FILE:
            key = f"generated::{rest}"
        elif t.nodeid in checks.existing or any(t.nodeid.startswith(e) for e in checks.existing):
            key = f"existing::{t.nodeid}"
        else:
            continue
        ok = t.outcome in ("passed", "xfailed")
        if t.outcome == "skipped":
            continue
        rec.tests[key] = ok
        if not ok:
            rec.test_messages[key] = t.message
            rec.failures.append(f"{key.split('::', 1)[1]} failed: {_first_line(t.message)}" + _detail_tail(t.longrepr))
    # Tests that never reported (the file did not import, the run was stopped) failed.
    for name in checks.generated_names:
        rec.tests.setdefault(f"generated::{name}", False)
    for nodeid in checks.existing:
        rec.tests.setdefault(f"existing::{nodeid}", False)
    rec.coverage = _function_coverage(pres.coverage, str(target.path), rec.func_lines)
    rec.verified = (
        rec.rejected is None
        and rec.run_problem is None
        and not checks.empty
        and all(r.passed for r in rec.examples)
        and all(rec.tests.values())
    )


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")


def _detail_tail(detail: str, limit: int = 800) -> str:
    """The telling lines of a pytest failure report (source line, ``E`` lines, locations)
    for repair feedback: the failing assertion, the inputs, the traceback, the output."""
    keep = [ln.rstrip() for ln in str(detail or "").splitlines()
            if ln.startswith((">", "E ")) or re.match(r"^\S+\.py:\d+", ln)]
    keep = [ln for ln in keep if ln.strip() not in ("E", ">")]
    if not keep:
        return ""
    tail = "\n".join(keep[-14:])
    return "\n" + (tail if len(tail) <= limit else tail[-limit:])


# ---------------------------------------------------------------- the pipeline


class _Run:
    """State of one :func:`implement` call (kept off module globals)."""

    def __init__(self, intent: Intent, document_text: str, workspace: Path, llm: Any, policy: Any, settings: Any,
                 progress: Progress | None, cancel: threading.Event | None, log: Any, modules: ModuleIndex | None,
                 audit_policy: AuditPolicy | None, path: Path) -> None:
        self.intent = intent
        self.document_text = document_text
        self.workspace = workspace
        self.llm = llm
        self.policy = policy
        self.settings = settings
        self.progress = progress
        self.cancel = cancel
        self.log = log
        self.audit_policy = audit_policy or AuditPolicy()
        self.path = path
        self.records: list[CandidateRecord] = []
        self.secrets = tuple(s for s in [_resolve_key(settings)] if s)
        self.modules = modules
        self.target: _Target | None = None
        self.checks: _Checks | None = None
        self.notes: list[str] = []

    def report(self, message: str, fraction: float) -> None:
        if self.progress is not None:
            try:
                self.progress(message, fraction)
            except Exception:  # noqa: BLE001 - a progress sink must not break the pipeline
                pass

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    # -- candidates --------------------------------------------------------------------

    def prepare(self, rec: CandidateRecord) -> None:
        """Extract and audit ``rec``; on success, splice it into the document."""
        target = self.target
        assert target is not None
        name = target.name
        if not name.isidentifier():
            name = _last_defined_function(rec.answer) or name
        ex = extract_function(rec.answer, name, target.stub, class_name=target.class_name, known_names=target.known_names)
        if not ex.ok:
            rec.rejected = ex.reason
            rec.failures.append(ex.reason)
            return
        rec.code = ex.code
        rec.function = ex.function
        try:
            rec.new_text, rec.func_lines, rec.code_lines = _splice(self.document_text, target, ex)
            compile(rec.new_text, str(target.path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            rec.rejected = f"the file does not parse with it: {exc.msg} (line {exc.lineno})"
            rec.failures.append(rec.rejected)
            return
        if self.modules is None:
            self.modules = ModuleIndex.for_workspace(self.workspace, getattr(self.policy, "python", None),
                                                     extra_dirs=[target.path.parent])
        rec.audit = audit_code(ex.code, self.modules, self.audit_policy)
        if not rec.audit.ok:
            first = rec.audit.rejections[0]
            rec.rejected = f"{first.message} (audit {first.check}, line {first.line})"
            rec.failures += [f"audit rejected: {f.message} ({f.check}, line {f.line})" for f in rec.audit.rejections]

    def verify_all(self, recs: Sequence[CandidateRecord], fraction: float) -> None:
        runnable = [r for r in recs if r.rejected is None]
        for r in recs:
            if r.rejected is not None:
                self.log_outcome(r)
        if not runnable:
            return
        self.report(f"verifying {len(runnable)} candidate{'s' if len(runnable) != 1 else ''} in the sandbox", fraction)
        assert self.target is not None and self.checks is not None
        workers = max(1, min(4, len(runnable)))

        def one(rec: CandidateRecord) -> None:
            try:
                _verify(rec, self.target, self.checks, self.workspace, self.policy, self.cancel)
            except Exception as exc:  # noqa: BLE001 - SandboxUnavailable and friends: reported on the record
                rec.run_problem = f"the sandbox could not run it: {_first_line(str(exc)) or type(exc).__name__}"
                rec.failures.append(rec.run_problem)
                rec.verified = False
                if type(exc).__name__ == "SandboxUnavailable":
                    self.notes.append(rec.run_problem)

        if workers == 1:
            one(runnable[0])
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codeloop-verify") as pool:
                list(pool.map(one, runnable))
        for r in runnable:
            self.log_outcome(r)

    def log_outcome(self, rec: CandidateRecord) -> None:
        if self.cancelled():
            return
        try:
            rec.log_id = self.log.record(
                Outcome(
                    workspace=str(self.workspace),
                    intent_kind=self.intent.kind,
                    prompt=rec.prompt,
                    model=rec.model,
                    candidate=rec.code or rec.answer,
                    verified=rec.verified,
                    checks=rec.to_checks(),
                    coverage=rec.coverage,
                    audit=rec.audit.to_list() if rec.audit else [],
                    strategy=rec.origin,
                )
            )
        except Exception as exc:  # noqa: BLE001 - learning must never break implementing
            self.notes.append(f"reward log: {_first_line(str(exc))}")

    def ranking(self) -> list[CandidateRecord]:
        by_id = {r.id: r for r in self.records}
        evidence = [
            CandidateEvidence(
                id=r.id,
                examples_passed=sum(x.passed for x in r.examples),
                examples_total=len(r.examples) if r.examples else (len(self.checks.examples.tests) if self.checks and self.checks.examples else 0),
                tests=r.tests,
                outputs=r.outputs,
                rejected=r.rejected is not None or r.run_problem is not None,
                order=i,
            )
            for i, r in enumerate(self.records)
        ]
        ordered = [by_id[x.id] for x in rank(evidence)]
        # A verified candidate always comes first (ranking can prefer a large group that fails a test).
        return sorted(ordered, key=lambda r: not r.verified)


def _parsed_blocks(answer: str) -> Iterator[ast.Module]:
    """The answer's code blocks that parse, the last first (a model's final version)."""
    for block in reversed(find_code_blocks(answer)):
        try:
            yield ast.parse(block)
        except SyntaxError:
            continue


def _last_defined_function(answer: str) -> str | None:
    for tree in _parsed_blocks(answer):
        names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and not n.name.startswith("test")]
        if names:
            return names[-1]
    return None


def _resolve_key(settings: Any) -> str | None:
    model = getattr(settings, "model", None)
    try:
        return model.resolve_api_key() if model is not None else None
    except Exception:  # noqa: BLE001
        return None


def _configured_models(llm: Any, settings: Any, models: Sequence[str] | None) -> list[str]:
    if models:
        return list(dict.fromkeys(m for m in models if m))
    name = getattr(llm, "completion_model", None) or getattr(llm, "chat_model", None)
    return [name] if name else []


def implement(
    intent: Intent,
    document_text: str,
    workspace: str | os.PathLike[str],
    llm_client: Any,
    policy: Any,
    settings: Any,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    log: RewardLog | DisabledLog | None = None,
    models: Sequence[str] | None = None,
    modules: ModuleIndex | None = None,
    audit_policy: AuditPolicy | None = None,
) -> ImplementResult:
    """Implement ``intent`` (kind ``implement`` or ``from_comment``) in ``document_text``.

    ``workspace`` is the project root (copied into the sandbox); ``path`` the
    document's file (default ``intent.path``); ``llm_client`` an
    :class:`codeloop.generate.llm.LLMClient`; ``policy`` a
    :class:`codeloop_sandbox.Policy`; ``settings`` a :class:`codeloop.config.Settings`
    (candidates, repair rounds, learn). ``models``: the models to try in order of
    preference (default: the client's completion model); the reward log may move a
    model that keeps failing here behind the others. ``log``: the reward log (default:
    :func:`codeloop.learn.open_log` for ``settings``).

    Raises :class:`ImplementError` for bad input (the function is not in the file, the
    file does not parse, the path is outside the workspace). Model errors, a missing
    sandbox and cancellation are reported in the result, never raised.
    """
    from codeloop.model.errors import Cancelled, ModelError

    workspace = Path(os.path.abspath(os.fspath(workspace)))
    file = Path(os.path.abspath(os.fspath(path or intent.path or "")))
    if not (path or intent.path):
        raise ImplementError("the intent has no file path")
    if intent.kind not in ("implement", "from_comment"):
        raise ImplementError(f"cannot implement an intent of kind {intent.kind!r}")
    own_log = log is None
    if log is None:
        log = open_log(settings, secrets=[k for k in [_resolve_key(settings)] if k])
    run = _Run(intent, document_text, workspace, llm_client, policy, settings, progress, cancel, log, modules,
               audit_policy, file)
    result = ImplementResult(name=intent.name, document_text=document_text)
    try:
        return _pipeline(run, result, models, ModelError, Cancelled)
    finally:
        if own_log:
            log.close()


def _pipeline(run: _Run, result: ImplementResult, models: Sequence[str] | None, ModelError: type, Cancelled: type) -> ImplementResult:
    intent, settings = run.intent, run.settings
    target = run.target = _locate(intent, run.document_text, run.path, run.workspace)
    configured = _configured_models(run.llm, settings, models)
    if not configured:
        result.error, result.error_kind = "no model configured", "not_configured"
        return result
    order = choose_models(run.log, str(run.workspace), intent.kind, configured)
    # How many samples and repair rounds: the configured caps, lowered by the log's evidence.
    plan = _plan(run)
    n, rounds = plan.samples, plan.repair_rounds
    ctx = file_context(run.document_text, exclude=target.name, path=target.rel_path, module=target.module)
    base = implement_messages(intent, target.stub, ctx, run.secrets)
    import_name = target.class_name or target.name

    run.report("building checks", 0.05)
    examples = build_example_tests(intent.examples, target.module, str(target.import_root), title=target.name,
                                   guard_file=str(target.path)) if intent.examples else None
    existing, existing_files = existing_tests(run.workspace, target.name)
    stub_annotations = _stub_annotations(target)
    inputs = _shared_inputs(intent, target, stub_annotations) if target.name.isidentifier() else []
    run.checks = _Checks(examples, None, (), _outputs_probe(target, inputs), existing, existing_files)
    tests_asked = False

    try:
        for m_index, model in enumerate(order):
            result.models_tried.append(model)
            if run.cancelled():
                raise Cancelled()
            run.report(f"asking {model} for {n} candidate{'s' if n != 1 else ''}", 0.1 + 0.8 * m_index / len(order))
            try:
                answers = run.llm.chat(base, n=n, model=model, cancel=run.cancel)
            except ModelError as exc:
                if run.records:  # an escalation failed: keep what the earlier model gave
                    run.notes.append(f"{model}: {exc.message}")
                    break
                result.error, result.error_kind = exc.message, exc.kind
                return result
            new = []
            for i, answer in enumerate(answers, start=1):
                rec = CandidateRecord(id=f"{'m%d.' % (m_index + 1) if m_index else ''}c{i}", origin="sample",
                                      model=model, answer=answer.text, prompt=base)
                run.prepare(rec)
                new.append(rec)
            run.records += new
            if not tests_asked:
                tests_asked = True
                if import_name.isidentifier():  # a comment without a name: nothing to import in tests
                    _ask_for_tests(run, ctx, import_name, model, ModelError, result)
            if run.cancelled():
                raise Cancelled()
            run.verify_all(new, 0.3)
            if any(r.verified for r in run.records):
                break
            for round_no in range(1, rounds + 1):
                if run.cancelled():
                    raise Cancelled()
                parent = _repair_target(run)
                if parent is None:
                    break
                run.report(f"repair round {round_no} of {rounds}", 0.5 + 0.4 * round_no / max(rounds, 1))
                messages = repair_messages(parent.prompt, parent.code or parent.answer, parent.failures, run.secrets)
                try:
                    (answer,) = run.llm.chat(messages, n=1, model=model, cancel=run.cancel)[:1]
                except ModelError as exc:
                    run.notes.append(f"repair round {round_no}: {exc.message}")
                    break
                rec = CandidateRecord(id=f"{parent.id}.r{round_no}", origin=f"repair-{round_no}", model=model,
                                      answer=answer.text, prompt=messages, parent=parent.id)
                run.prepare(rec)
                run.records.append(rec)
                run.verify_all([rec], 0.6)
                if rec.verified:
                    break
            if any(r.verified for r in run.records):
                break
    except Cancelled:
        result.cancelled, result.error, result.error_kind = True, "cancelled", "cancelled"
        result.candidates = run.records
        return result
    if run.cancelled():
        result.cancelled, result.error, result.error_kind = True, "cancelled", "cancelled"
        result.candidates = run.records
        return result

    ranked = run.ranking()
    result.candidates = run.records
    result.notes = run.notes
    result.generated_tests = run.checks.generated if run.checks else None
    best = next((r for r in ranked if r.new_text is not None), None)
    result.best = best
    if best is None:
        result.failed = sorted({f for r in run.records for f in r.failures[:1]})
        result.evidence = "no usable candidate"
        return result
    result.verified = best.verified
    result.evidence = best.evidence()
    result.failed = [] if best.verified else list(dict.fromkeys(best.failures))
    if run.checks and run.checks.empty and not best.verified:
        result.failed.insert(0, "nothing to check it against: no examples, no tests of the function, no generated tests")
    unavailable = [n for n in run.notes if n.startswith("the sandbox could not run it")]
    if unavailable and not result.verified:
        result.error = f"cannot verify: {unavailable[0].split(': ', 1)[1]}"
        result.error_kind = "sandbox"
    result.new_text = best.new_text
    run.report("done", 1.0)
    return result


def _plan(run: _Run) -> Plan:
    try:
        plan = choose_plan(run.log, str(run.workspace), run.intent.kind, run.settings)
    except Exception as exc:  # noqa: BLE001 - a broken log must not stop implementing
        run.notes.append(f"reward log: {_first_line(str(exc))}")
        return Plan(*configured_budget(run.settings))
    if plan.scope != "defaults":
        run.notes.append(f"plan: {plan.describe()}")
    return plan


def _ask_for_tests(run: _Run, ctx: PromptContext, import_name: str, model: str, ModelError: type, result: ImplementResult) -> None:
    """One separate request: tests written from the description only."""
    target = run.target
    assert target is not None and run.checks is not None
    run.report("asking for tests of the description", 0.2)
    messages = tests_messages(run.intent, target.stub, ctx, f"from {target.module} import {import_name}", run.secrets)
    try:
        (answer,) = run.llm.chat(messages, n=1, model=model, cancel=run.cancel)[:1]
    except ModelError as exc:
        run.notes.append(f"no generated tests: {exc.message}")
        return
    source, names, note = _generated_tests(answer.text, target, import_name)
    if note:
        run.notes.append(note)
    if source:
        run.checks = replace(run.checks, generated=source, generated_names=names)


def _repair_target(run: _Run) -> CandidateRecord | None:
    """The best failing candidate that has code and has not been repaired yet."""
    repaired = {r.parent for r in run.records if r.parent}
    for rec in run.ranking():
        if rec.verified or rec.id in repaired or not (rec.code or rec.answer.strip()):
            continue
        if rec.rejected and not rec.code:
            continue  # no function at all: nothing to repair
        return rec
    return None


def _stub_returns(target: _Target) -> str | None:
    """The stub's return annotation as source (None: none, or not a plain function)."""
    if target.stub is None:
        return None
    try:
        from codeloop.generate.extract import _dedent

        tree = ast.parse(_dedent(target.stub))
    except SyntaxError:
        return None
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None or node.returns is None:
        return None
    return ast.unparse(node.returns)


def _stub_annotations(target: _Target) -> list[str | None]:
    if target.stub is None:
        return []
    try:
        from codeloop.generate.extract import _dedent  # the same dedent rules as extraction

        tree = ast.parse(_dedent(target.stub))
    except SyntaxError:
        return []
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None:
        return []
    args = [*node.args.posonlyargs, *node.args.args]
    if target.is_method and args and args[0].arg in ("self", "cls"):
        args = args[1:]
    if node.args.kwonlyargs or node.args.vararg or node.args.kwarg:
        return []
    return [ast.unparse(a.annotation) if a.annotation is not None else None for a in args]
