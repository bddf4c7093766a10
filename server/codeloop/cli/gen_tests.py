"""`codeloop gen-tests TARGET`: write verified pytest tests for a module, function or class.

Exit codes: 0 tests written, 1 none could be (or the model failed), 2 bad input (unknown
module, syntax error, a module that cannot be imported, no usable sandbox, ``--engine llm``
without a configured model).

The engine and the model come from the project's settings (``[tool.codeloop]`` in
pyproject.toml and the environment: ``CODELOOP_MODEL``, ``OPENAI_BASE_URL``,
``OPENAI_API_KEY``), read with the same :func:`codeloop.config.settings_for_workspace` as
``codeloop implement``; ``--engine`` overrides ``generate.engine``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codeloop.cli import CliError
from codeloop.cli.progress import CliProgress
from codeloop.generate.engines import engine_names

LLM_HELP = (
    "--engine llm needs a model: set CODELOOP_MODEL (and OPENAI_BASE_URL / OPENAI_API_KEY for the "
    "endpoint) or [tool.codeloop.model] name in pyproject.toml, or use --engine offline"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gen-tests",
        help="generate verified unit tests for a module, function or class",
        description="Search for inputs that raise branch coverage, run the resulting tests in the "
        "sandbox and write the passing, deterministic ones. Probable bugs (code that contradicts "
        "its docstring or type hints) are reported and written as strict xfail tests.",
    )
    p.add_argument("target", metavar="TARGET",
                   help="dotted module (pkg.mod) or file path (src/pkg/mod.py), optionally ::function or ::Class")
    p.add_argument("--project", type=Path, default=None, help="project directory (default: current directory)")
    p.add_argument("--out", type=Path, default=None,
                   help="directory for the test file (default: the project's tests/ folder)")
    p.add_argument("--budget", type=float, default=20.0, help="wall-time budget in seconds (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same tests")
    p.add_argument("--engine", choices=engine_names(), default=None,
                   help="offline search, or an LLM (the default when a model is configured)")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.set_defaults(handler=handle)


def _settings(project: Path, engine: str | None):
    """The project's settings (as ``codeloop implement`` reads them), ``--engine`` applied."""
    from codeloop.services.gen_tests import settings_for

    settings, warnings = settings_for(project, engine)
    for w in warnings:
        print(f"codeloop: warning: {w}", file=sys.stderr)
    if settings.engine == "llm" and not settings.model.configured:
        raise CliError(LLM_HELP)
    return settings


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def handle(args: argparse.Namespace) -> int:
    from codeloop.generate.merge import MergeError, write_merged
    from codeloop.generate.targets import TargetError, resolve_target
    from codeloop.generate.tests_model import GenerationError, ModelFailure
    from codeloop.job import Job
    from codeloop.services.gen_tests import GenerateTestsRequest, generate_tests
    from codeloop_sandbox import SandboxUnavailable

    if args.budget <= 0:
        raise CliError("--budget must be a positive number of seconds")
    try:
        target = resolve_target(args.target, args.project)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    settings = _settings(target.project, args.engine)
    out_dir = args.out.resolve() if args.out else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {args.out} is not a directory")
    progress = CliProgress("gen-tests", quiet=args.json)
    job = Job(progress)
    request = GenerateTestsRequest(args.target, target.project, out_dir, args.budget, args.seed, settings=settings,
                                   resolved=target)
    try:
        with progress:
            outcome = generate_tests(request, job)
    except ModelFailure as exc:
        raise CliError(str(exc), code=1) from None
    except GenerationError as exc:
        raise CliError(str(exc)) from None
    except SandboxUnavailable as exc:
        raise CliError(f"no usable sandbox: {exc}") from None
    except KeyboardInterrupt:
        job.stop()
        raise
    result, before_print = outcome.result, outcome.fingerprint
    wrote = False
    if result.tests and result.merged_text is not None and result.test_file is not None:
        try:
            write_merged(result.test_file, result.merged_text, before_print)
            wrote = True
        except MergeError as exc:
            raise CliError(str(exc), code=1) from None
        except OSError as exc:
            raise CliError(f"cannot write {result.test_file}: {exc}", code=1) from None
    if args.json:
        data = result.to_json()
        data["written"] = wrote
        print(json.dumps(data, indent=2))
    else:
        _print_summary(result, wrote)
    return 0 if wrote or result.already_covered is not None else 1


def _print_summary(result, wrote: bool) -> None:
    out = sys.stdout
    for bug in result.probable_bugs:
        out.write(f"{bug.file}:{bug.line}: {bug.message}\n")
    passing = len(result.passing)
    xfail = len(result.tests) - passing
    if wrote:
        extra = f" (+{xfail} xfail for probable bugs)" if xfail else ""
        out.write(f"wrote {passing} tests{extra} to {result.test_file}\n")
        if result.style:
            out.write(f"in the style of the existing tests: {result.style}\n")
    elif result.already_covered is not None:
        n = result.already_covered
        out.write(f"already covered by {n} test{'' if n == 1 else 's'}: every branch the search reached "
                  "is covered by them, no test written\n")
    else:
        out.write("no tests could be generated\n")
    out.write(f"branch coverage of {result.module}: {_pct(result.coverage_before)} -> "
              f"{_pct(result.coverage_after)}\n")
    if result.mutation_score is not None:
        m = result.mutation
        out.write(f"mutation score of the new tests: {result.mutation_score:.0f}% "
                  f"({m['killed']} of {m['tried']} sampled mutants killed)\n")
    if result.probable_bugs:
        out.write(f"{len(result.probable_bugs)} probable bug(s): written as @pytest.mark.xfail(strict=True); "
                  "remove the marker once fixed\n")
    notes = f", {result.dropped} dropped as failing or flaky" if result.dropped else ""
    if result.engine == "llm":
        out.write(f"{result.calls} model round(s) in {result.duration:.1f}s{notes}\n")
    else:
        out.write(f"{result.calls} calls searched in {result.duration:.1f}s{notes}\n")
    for err in result.errors:
        out.write(f"note: {err}\n")
