"""Background check of an inline completion: does the completed function pass the
developer's own examples (and, when there are any, the existing tests of that function)?

No LSP here; :mod:`codeloop.lsp.inline_verify` schedules it. Steps:

1. :func:`assemble` puts the completion into the document where the editor would (the
   cursor line from column 0 to the cursor is replaced), parses the result and finds the
   completed function: the one whose ``def`` triggered the completion, or, after a
   describing comment, the first function the completion defines;
2. the examples come from that function's docstring (doctests) and from the comment
   right above it (``area(2) -> 12.57``), read with the same helpers as intents;
3. :func:`check` audits the function statically (codeloop's policy: deleting files,
   shells, sockets, secrets... are not run at all), then runs the examples (and the
   existing tests that refer to the function) in the sandbox with the runtime guard of
   :mod:`codeloop.verify.examples` watching the completion's lines.

Nothing to check (no examples, no tests) is ``skipped``: nothing is claimed. Only
``verified`` carries evidence (``verified 3/3 examples``).
"""

from __future__ import annotations

import ast
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from codeloop.audit.policy import policy_findings
from codeloop.verify.examples import GUARD_LINES_ENV, build_example_tests, map_results, summarize
from codeloop.workspace.intents import comment_examples, doctest_examples
from codeloop.workspace.model import Example

VERIFIED, FAILED, SKIPPED, CANCELLED = "verified", "failed", "skipped", "cancelled"


@dataclass(frozen=True)
class CompletedFunction:
    """The document with the completion in place, and the function it completes."""

    name: str
    text: str
    lines: tuple[int, int]  # 1-based first/last line of the function in ``text``
    inserted: tuple[int, int]  # 1-based lines the completion occupies (the guard watches them)
    examples: tuple[Example, ...]
    audit_source: str  # the module's imports and the function, for the static policy check


@dataclass(frozen=True)
class CheckOutcome:
    status: str  # VERIFIED, FAILED, SKIPPED or CANCELLED
    name: str = ""
    evidence: str = ""  # "verified 3/3 examples, 1/1 existing tests" (VERIFIED only)
    reason: str = ""  # one line: what failed, or why nothing ran


def _comment_rows(lines: list[str], row: int) -> list[tuple[int, str]]:
    """The ``#`` lines ending at 0-based ``row`` (going up), as (row, text after ``# ``)."""
    out: list[tuple[int, str]] = []
    while row >= 0 and lines[row].lstrip().startswith("#"):
        body = lines[row].lstrip()[1:]
        out.append((row, body[1:] if body.startswith(" ") else body))
        row -= 1
    return list(reversed(out))


def assemble(document_text: str, line: int, col: int, completion: str, trigger_kind: str,
             trigger_line: int) -> CompletedFunction | None:
    """The completed function, or None when the completion does not complete one (a
    statement block after a comment) or the document does not parse with it."""
    lines = document_text.split("\n")
    if not 0 <= line < len(lines) or not completion:
        return None
    rest = lines[line][col:]
    inserted = completion.split("\n")
    new_lines = lines[:line] + inserted[:-1] + [inserted[-1] + rest] + lines[line + 1:]
    text = "\n".join(new_lines)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    first_new, last_new = line + 1, line + len(inserted)  # 1-based
    if trigger_kind == "comment":
        found = [n for n in functions if first_new <= n.lineno <= last_new]
    else:
        found = [n for n in functions if n.lineno - 1 == trigger_line]
    if not found:
        return None
    node = min(found, key=lambda n: n.lineno)
    examples: tuple[Example, ...] = ()
    doc_node = node.body[0] if node.body else None
    if (isinstance(doc_node, ast.Expr) and isinstance(doc_node.value, ast.Constant)
            and isinstance(doc_node.value.value, str)):
        examples += doctest_examples(doc_node.value.value, doc_node.lineno - 1)
    top = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1  # 0-based
    above = top - 1
    if trigger_kind == "comment":
        above = trigger_line  # blank lines may separate the comment from the completion
    examples += comment_examples(_comment_rows(new_lines, above))
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    audit_source = ast.unparse(ast.Module(body=[*imports, node], type_ignores=[]))
    return CompletedFunction(node.name, text, (top + 1, node.end_lineno or node.lineno),
                             (first_new, last_new), examples, audit_source)


def _module_of(path: Path, workspace: Path) -> tuple[Path, str]:
    from codeloop.generate.implement import _module_for  # shared with the implement pipeline

    return _module_for(path, workspace)


def _existing_test_ids(workspace: Path, name: str) -> tuple[str, ...]:
    from codeloop.generate.implement import _existing_tests  # only its ``.name`` is read

    ids, _files = _existing_tests(workspace, SimpleNamespace(name=name))
    return ids


def check(fn: CompletedFunction, path: str | os.PathLike[str], workspace: str | os.PathLike[str],
          policy: Any, cancel: threading.Event | None = None, existing_tests: bool = True) -> CheckOutcome:
    """Run ``fn``'s examples (and existing tests) in the sandbox under ``policy`` (a
    :class:`codeloop_sandbox.Policy`). Never raises for a sandbox problem: that is a
    ``skipped`` outcome with the reason (nothing verified, nothing failed)."""
    from codeloop_sandbox import run_pytest

    blocking = [f for f in policy_findings(ast.parse(fn.audit_source)) if f.blocking]
    if blocking:
        return CheckOutcome(FAILED, fn.name, reason=f"not run: {blocking[0].message} (audit)")
    file = Path(os.path.abspath(os.fspath(path)))
    root = Path(os.path.abspath(os.fspath(workspace)))
    try:
        rel = str(file.relative_to(root))
        import_root, module = _module_of(file, root)
    except Exception as exc:  # noqa: BLE001 - outside the workspace, no module name (ImplementError)
        return CheckOutcome(SKIPPED, fn.name, reason=f"cannot import the file: {exc}")
    examples = build_example_tests(fn.examples, module, str(import_root), title=fn.name, guard_file=str(file)) \
        if fn.examples else None
    existing = _existing_test_ids(root, fn.name) if existing_tests else ()
    if not (examples and examples.tests) and not existing:
        return CheckOutcome(SKIPPED, fn.name, reason="no examples and no tests of the function: nothing to check")
    files: dict[str, str] = {rel: fn.text}
    args = ["-q"]
    if examples and examples.tests:
        files[examples.path] = examples.source
        args.append(examples.path)
    args += list(existing)
    lo, hi = fn.inserted
    env = {**(policy.env or {}), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", GUARD_LINES_ENV: f"{lo}-{hi}"}
    if not existing:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our file: no third-party plugins needed
    if cancel is not None and cancel.is_set():
        return CheckOutcome(CANCELLED, fn.name, reason="cancelled")
    try:
        pres = run_pytest(root, args, replace(policy, env=env), extra_files=files, cancel=cancel)
    except Exception as exc:  # noqa: BLE001 - SandboxUnavailable and friends
        return CheckOutcome(SKIPPED, fn.name, reason=f"the sandbox could not run it: {exc}")
    if (cancel is not None and cancel.is_set()) or pres.result.limit == "cancelled":
        return CheckOutcome(CANCELLED, fn.name, reason="cancelled")
    return _outcome(fn.name, pres, examples, existing)


def _outcome(name: str, pres: Any, examples: Any, existing: tuple[str, ...]) -> CheckOutcome:
    problems = [e for e in pres.errors if not e.startswith("coverage")]
    if pres.result.limit:
        problems.insert(0, f"the sandbox stopped the run ({pres.result.limit})")
    parts: list[str] = []
    failures: list[str] = []
    if examples and examples.tests:
        results = map_results(examples, pres.tests, problems)
        parts.append(summarize(results))
        failures += [r.message for r in results if not r.passed]
    if existing:
        by_id = {t.nodeid: t for t in pres.tests}
        passed = [i for i in existing if i in by_id and by_id[i].outcome in ("passed", "xfailed")]
        parts.append(f"{len(passed)}/{len(existing)} existing tests")
        failures += [f"{i} did not pass: {(by_id[i].message if i in by_id else 'did not run').strip()[:200]}"
                     for i in existing if i not in passed]
    if problems or failures:
        return CheckOutcome(FAILED, name, evidence=", ".join(parts), reason=_telling_line((problems or failures)[0]))
    return CheckOutcome(VERIFIED, name, evidence="verified " + ", ".join(parts))


def _telling_line(text: str) -> str:
    """The line of a pytest report that says what went wrong (``E   PermissionError: ...``)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    return (errors[-1] if errors else lines[0] if lines else "failed")[:300]
