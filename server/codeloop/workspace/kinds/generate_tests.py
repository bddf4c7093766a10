"""``generate_tests``: every public top-level function and method outside test files
(``untested`` when no test refers to its name)."""

from __future__ import annotations

from codeloop.workspace.kinds.base import FunctionSite, Kind, Notice, Offer, Scan
from codeloop.workspace.model import Intent


def detect(scan: Scan, site: FunctionSite) -> list[Intent]:
    fn = site.fn
    if scan.in_test_file or site.skip_decorated:
        return []
    if fn.name.startswith("_") or any(c.startswith("_") for c in fn.scope.classes):
        return []
    if fn.name.startswith("test") or any(c.startswith("Test") for c in fn.scope.classes):
        return []
    untested = scan.tested_names is not None and fn.name not in scan.tested_names
    what = "method" if site.common["is_method"] else "function"
    return [
        Intent(
            kind=KIND.name,
            name=fn.qualname,
            summary=f"generate tests for {what} {fn.qualname}" + (" (untested)" if untested else ""),
            span=site.span,
            untested=untested,
            **site.common,
        )
    ]


KIND = Kind(
    name="generate_tests",
    description="a function or method to write tests for",
    per_function=detect,
    offer=Offer("Generate tests for {name}", "codeloop.generateTests", "source.codeloop.generateTests"),
    notice=Notice("codeloop.untested", "hint", "{name} has no tests", only_untested=True),
)
