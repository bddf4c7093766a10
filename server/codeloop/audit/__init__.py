"""Static audit of generated candidates: bandit, the import policy and codeloop's own checks.

Entry point: :func:`audit_code`. Nothing here runs the audited code.
"""

from __future__ import annotations

import ast

from codeloop.audit.bandit_check import bandit_findings
from codeloop.audit.findings import AuditReport, Finding
from codeloop.audit.imports import ModuleIndex, import_findings, interpreter_modules, project_modules
from codeloop.audit.policy import CATEGORIES, DEFAULT_FORBIDDEN, AuditPolicy, policy_findings

__all__ = [
    "CATEGORIES",
    "DEFAULT_FORBIDDEN",
    "AuditPolicy",
    "AuditReport",
    "Finding",
    "ModuleIndex",
    "audit_code",
    "interpreter_modules",
    "project_modules",
]


def audit_code(code: str, modules: ModuleIndex | None = None, policy: AuditPolicy | None = None) -> AuditReport:
    """Audit one candidate's code (the function plus its imports and helpers).

    ``modules`` is the import index of the workspace (default: this interpreter,
    no project modules). Code that does not parse gets one blocking finding.
    Blocking findings come first, then the rest by line.
    """
    policy = policy or AuditPolicy()
    modules = modules or interpreter_modules(None)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return AuditReport((Finding("syntax", "high", exc.lineno or 0, f"does not parse: {exc.msg}", True),))
    findings = import_findings(tree, modules) + policy_findings(tree, policy.forbidden)
    if policy.bandit:
        findings += bandit_findings(code, skip=policy.bandit_skip, reject_at=policy.reject_severity)
    findings.sort(key=lambda f: (not f.blocking, f.line, f.check))
    return AuditReport(tuple(findings))
