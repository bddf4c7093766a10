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
``verified`` carries evidence (``verified 3/3 examples``). The level is decided by
:func:`codeloop.verify.evidence.judge`, the rule implement's offers use.
"""

from __future__ import annotations

import ast
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codeloop.audit.policy import policy_findings
from codeloop.verify.evidence import judge
from codeloop.verify.examples import GUARD_LINES_ENV, build_example_tests, map_results, summarize
from codeloop.verify.existing_tests import existing_tests as find_existing_tests
from codeloop.verify.rank import CandidateEvidence
from codeloop.workspace.examples import comment_examples, doctest_examples
from codeloop.workspace.model import Example
from codeloop.workspace.modules import module_for

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
    level: str = ""  # codeloop.verify.evidence level: verified / unverified / plausible (nothing to check)


def _comment_rows(lines: list[str], row: int) -> list[tuple[int, str]]:
    """The ``#`` lines ending at 0-based ``row`` (going up), as (row, text after ``# ``)."""
    out: list[tuple[int, str]] = []
    while row >= 0 and lines[row].lstrip().startswith("#"):
        body = lines[row].lstrip()[1:]
        out.append((row, body[1:] if body.startswith(" ") else body))
        row -= 1
    return list(reversed(out))


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _region(lines: list[str], top: int, after: int, base: int) -> int:
    """The 0-based line after the block that starts at ``top``: the first non-blank line
    from ``after`` on indented at most ``base`` (the rest of the file is not parsed)."""
    end = after
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
        end += 1
    return end


def _module_imports(lines: list[str]) -> list[ast.stmt]:
    """The file's top-level one-line imports (for the audit's name resolution)."""
    out: list[ast.stmt] = []
    for ln in lines:
        if ln.startswith(("import ", "from ")):
            try:
                out += ast.parse(ln).body
            except SyntaxError:
                continue  # a parenthesised import across lines: not needed for aliases
    return out


def assemble(document_text: str, line: int, col: int, completion: str, trigger_kind: str,
             trigger_line: int) -> CompletedFunction | None:
    """The completed function, or None when the completion does not complete one (a
    statement block after a comment) or the function does not parse with it.

    Only the function's own lines are parsed (a 10k-line file is not: ``ast.parse`` holds
    the GIL and would stall the server's event loop for ~100 ms)."""
    lines = document_text.split("\n")
    if not 0 <= line < len(lines) or not 0 <= trigger_line <= line or not completion:
        return None
    rest = lines[line][col:]
    inserted = completion.split("\n")
    new_lines = lines[:line] + inserted[:-1] + [inserted[-1] + rest] + lines[line + 1:]
    first_new, last_new = line + 1, line + len(inserted)  # 1-based
    top = line if trigger_kind == "comment" else trigger_line  # 0-based
    while top > 0 and trigger_kind != "comment" and new_lines[top - 1].lstrip().startswith("@"):
        top -= 1  # the decorators belong to the function
    base = _indent(new_lines[top]) if trigger_kind != "comment" else _indent(inserted[0])
    end = _region(new_lines, top, last_new, base)
    snippet = "\n".join(ln[base:] if ln[:base].strip() == "" else ln for ln in new_lines[top:end])
    try:
        tree = ast.parse(snippet)
    except (SyntaxError, ValueError):
        return None
    shift = top  # snippet line 1 is document line top + 1
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if trigger_kind == "comment":
        found = [n for n in functions if first_new <= n.lineno + shift <= last_new]
    else:
        found = [n for n in functions if n.lineno - 1 + shift == trigger_line]
    if not found:
        return None
    node = found[0]
    examples: tuple[Example, ...] = ()
    doc_node = node.body[0] if node.body else None
    if (isinstance(doc_node, ast.Expr) and isinstance(doc_node.value, ast.Constant)
            and isinstance(doc_node.value.value, str)):
        examples += doctest_examples(doc_node.value.value, doc_node.lineno - 1 + shift)
    first = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1 + shift  # 0-based
    above = trigger_line if trigger_kind == "comment" else first - 1  # blank lines may follow a comment
    examples += comment_examples(_comment_rows(new_lines, above))
    audit_source = ast.unparse(ast.Module(body=[*_module_imports(lines), node], type_ignores=[]))
    return CompletedFunction(node.name, "\n".join(new_lines), (first + 1, (node.end_lineno or node.lineno) + shift),
                             (first_new, last_new), examples, audit_source)


def _existing_test_ids(workspace: Path, name: str) -> tuple[str, ...]:
    ids, _files = find_existing_tests(workspace, name)
    return ids


def check(fn: CompletedFunction, path: str | os.PathLike[str], workspace: str | os.PathLike[str],
          policy: Any, cancel: threading.Event | None = None, existing_tests: bool = True) -> CheckOutcome:
    """Run ``fn``'s examples (and existing tests) in the sandbox under ``policy`` (a
    :class:`codeloop_sandbox.Policy`). Never raises for a sandbox problem: that is a
    ``skipped`` outcome with the reason (nothing verified, nothing failed)."""
    from codeloop_sandbox import run_pytest

    blocking = [f for f in policy_findings(ast.parse(fn.audit_source)) if f.blocking]
    if blocking:
        return CheckOutcome(FAILED, fn.name, reason=f"not run: {blocking[0].message} (audit)", level="unverified")
    file = Path(os.path.abspath(os.fspath(path)))
    root = Path(os.path.abspath(os.fspath(workspace)))
    try:
        rel = str(file.relative_to(root))
        import_root, module = module_for(file, root)
    except Exception as exc:  # noqa: BLE001 - outside the workspace, no module name (ModuleNameError)
        return CheckOutcome(SKIPPED, fn.name, reason=f"cannot import the file: {exc}")
    examples = build_example_tests(fn.examples, module, str(import_root), title=fn.name, guard_file=str(file)) \
        if fn.examples else None
    existing = _existing_test_ids(root, fn.name) if existing_tests else ()
    if not (examples and examples.tests) and not existing:
        return CheckOutcome(SKIPPED, fn.name, reason="no examples and no tests of the function: nothing to check",
                            level="plausible")
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
    broken = [p for p in problems if "SyntaxError" in p or "IndentationError" in p]
    if broken:  # the file does not import (an error elsewhere in it): nothing can be claimed
        return CheckOutcome(SKIPPED, name, reason=f"the file does not import: {_telling_line(broken[0])}")
    if pres.result.limit:
        problems.insert(0, f"the sandbox stopped the run ({pres.result.limit})")
    parts: list[str] = []
    failures: list[str] = []
    results = map_results(examples, pres.tests, problems) if examples and examples.tests else []
    if results:
        parts.append(summarize(results))
        failures += [r.message for r in results if not r.passed]
    passed: list[str] = []
    if existing:
        by_id = {t.nodeid: t for t in pres.tests}
        passed = [i for i in existing if i in by_id and by_id[i].outcome in ("passed", "xfailed")]
        parts.append(f"{len(passed)}/{len(existing)} existing tests")
        failures += [f"{i} did not pass: {(by_id[i].message if i in by_id else 'did not run').strip()[:200]}"
                     for i in existing if i not in passed]
    # The level comes from the rule implement uses (one candidate: verified when it passes
    # every user-written check), so the inline mark and the Implement title never disagree.
    checks = {i: i in passed for i in existing} | ({"sandbox": False} if problems else {})
    me = CandidateEvidence("completion", sum(r.passed for r in results), len(results), checks=checks)
    level = judge([me], user_checks=True).level
    if level != "verified":
        return CheckOutcome(FAILED, name, evidence=", ".join(parts), reason=_telling_line((problems or failures)[0]),
                            level=level)
    return CheckOutcome(VERIFIED, name, evidence="verified " + ", ".join(parts), level=level)


def _telling_line(text: str) -> str:
    """The line of a pytest report that says what went wrong (``E   PermissionError: ...``)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    return (errors[-1] if errors else lines[0] if lines else "failed")[:300]
