"""The developer's examples as pytest checks, and their results mapped back.

An :class:`~codeloop.workspace.model.Example` (``area(2, 3)`` -> ``6``, from a
doctest or a comment) becomes one test function, named after the example's line
(``test_example_line_13``), in a file that the sandbox runs against a candidate.
Comparison follows what the developer wrote:

- a value (``6``, ``[1, 2]``, ``'abc'``): equal, numbers within pytest's default
  ``approx`` tolerance; for doctests, the printed output (or the repr of the value)
  matching the text also counts, as in :mod:`doctest`;
- an exception (a doctest traceback, ``ValueError``, ``raises ValueError``): the
  call must raise it;
- nothing (a doctest line without output): the call must succeed and print nothing;
  but a comparison without output (``>>> f(2) == 4``) states a truth: it must hold;
- for ``f(2) == 4`` examples a failure reads ``f(2) == 4: got 5``.

Earlier doctest lines without output (``>>> cart = Cart()``) are replayed before
each later example of the same block, so examples that build on each other work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from codeloop.text import first_line
from codeloop.workspace.model import Example

EXAMPLES_FILE = "test_codeloop_examples.py"
GUARD_LINES_ENV = "CODELOOP_GUARD_LINES"  # "12-20,30-31": only these lines of the file are watched

# Runtime guard for generated test files: an audit hook (PEP 578) that blocks, and
# records, what a candidate must not do when the call comes from the candidate's file:
# fork or signal processes, run a shell, delete files, open sockets. The static audit
# catches the plain spellings; this catches disguised ones (``getattr(os, "fo" + "rk")``)
# while they run in the sandbox. Installed once per process, whichever file comes first.
# With $CODELOOP_GUARD_LINES only those lines of the file count (the candidate's code, not
# the rest of the module, which may legitimately delete its temporary files).
RUNTIME_GUARD = r'''
def _codeloop_install_guard(watched):
    import os, sys, types
    state = sys.modules.get("_codeloop_guard")
    if state is None:
        state = types.ModuleType("_codeloop_guard")
        state.watched = set()
        state.violations = []
        state.lines = []
        for part in os.environ.get("CODELOOP_GUARD_LINES", "").split(","):
            lo, _, hi = part.partition("-")
            if lo.isdigit() and hi.isdigit():
                state.lines.append((int(lo), int(hi)))
        lines = state.lines
        blocked = {
            "os.fork": "fork a process", "os.forkpty": "fork a process", "os.kill": "signal a process",
            "os.killpg": "signal a process group", "os.system": "run a shell command",
            "os.posix_spawn": "spawn a process", "os.spawn": "spawn a process", "os.exec": "replace the process",
            "os.remove": "delete a file", "os.rmdir": "delete a directory", "shutil.rmtree": "delete a directory tree",
            "os.truncate": "truncate a file", "socket.connect": "open a network connection",
            "socket.bind": "listen on the network", "socket.sendto": "send network packets",
        }
        getframe = sys._getframe

        def hook(event, args):
            what = blocked.get(event)
            if what is None or not state.watched:
                return
            frame = getframe(1)
            while frame is not None:
                if frame.f_code.co_filename in state.watched:
                    # The innermost frame of the file decides: the candidate's own code, or
                    # (outside the watched lines) the module's existing functions it called.
                    if lines and not any(lo <= frame.f_lineno <= hi for lo, hi in lines):
                        return
                    message = "the code under test tried to %s (%s), which is not allowed" % (what, event)
                    state.violations.append(message)
                    raise PermissionError(message)
                frame = frame.f_back

        sys.addaudithook(hook)
        sys.modules["_codeloop_guard"] = state
    state.watched.update([watched] if isinstance(watched, str) else watched)
    return state


_GUARD = _codeloop_install_guard({guard_file!r})


def _codeloop_check_guard():
    if _GUARD.violations:
        message = _GUARD.violations[0]
        del _GUARD.violations[:]
        raise AssertionError(message)
'''

_HELPERS = r'''
import ast as _ast
import asyncio as _asyncio
import builtins as _builtins
import contextlib as _contextlib
import importlib as _importlib
import inspect as _inspect
import io as _io
import re as _re
import sys as _sys

if {import_root!r} not in _sys.path:
    _sys.path.insert(0, {import_root!r})

import pytest as _pytest

{guard}

_MODULE = _importlib.import_module({module!r})
_MISSING = object()


def _run(source, ns):
    """(value, printed output) of one example source, evaluated like doctest does."""
    out = _io.StringIO()
    flags = getattr(_ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
    with _contextlib.redirect_stdout(out):
        try:
            code = compile(source, "<example>", "eval", flags=flags)
        except SyntaxError:
            code = compile(source, "<example>", "exec", flags=flags)
            value = eval(code, ns)
            if _inspect.isawaitable(value):
                _asyncio.run(value)
            return None, out.getvalue()
        value = eval(code, ns)
        if _inspect.isawaitable(value):
            value = _asyncio.run(_await(value))
    return value, out.getvalue()


async def _await(value):
    return await value


def _norm(text):
    return " ".join(str(text).split())


def _expected_exception(expected, ns):
    if expected is None:
        return None
    text = expected.strip()
    if text.startswith("Traceback (most recent call last)"):
        last = [ln for ln in text.splitlines() if ln.strip()][-1].strip()
        name = last.split(":", 1)[0].strip()
    else:
        name = _re.sub(r"^(raises|raise)\s+", "", text).split("(", 1)[0].strip()
        if not _re.fullmatch(r"[A-Za-z_][\w.]*", name):
            return None
    obj = ns.get(name.split(".")[0], getattr(_builtins, name.split(".")[0], None))
    for part in name.split(".")[1:]:
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return obj
    if text.startswith("Traceback"):
        return Exception
    return None


def _equal(actual, expected):
    try:
        if actual == expected:
            return True
    except Exception:
        return False
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    try:
        return bool(actual == _pytest.approx(expected))
    except Exception:
        return False


def _rounded_equal(value, wanted, expected):
    """``third(1) -> 0.333333``: a float written with k decimals matches the value rounded to k."""
    m = _re.fullmatch(r"\s*-?\d+\.(\d+)\s*", expected or "")
    if not m or not isinstance(wanted, float) or isinstance(value, bool):
        return False
    try:
        return round(float(value), len(m.group(1))) == wanted
    except (TypeError, ValueError, OverflowError):
        return False


def _show(value, printed):
    shown = repr(value)
    if printed:
        shown += " and printed " + repr(printed)
    return shown


_EXAMPLE_SECONDS = {seconds}


class _TooSlow(Exception):
    pass


def _too_slow(signum, frame):
    raise _TooSlow()


def _check(call, expected, style, line, setup=()):
    import signal

    alarm = hasattr(signal, "SIGALRM") and _EXAMPLE_SECONDS > 0
    if alarm:
        signal.signal(signal.SIGALRM, _too_slow)
        signal.alarm(_EXAMPLE_SECONDS)
    try:
        _check_example(call, expected, style, line, setup)
    except _TooSlow:
        raise AssertionError("example at line %d: %s did not finish within %d s" % (line, call, _EXAMPLE_SECONDS)) from None
    finally:
        if alarm:
            signal.alarm(0)
        _codeloop_check_guard()


def _check_example(call, expected, style, line, setup=()):
    ns = dict(vars(_MODULE))
    ns.setdefault("__name__", _MODULE.__name__)
    for statement in setup:
        _run(statement, ns)
    where = "example at line %d: %s" % (line, call)
    exc_type = _expected_exception(expected, ns)
    if exc_type is not None:
        try:
            value, printed = _run(call, ns)
        except exc_type:
            return
        raise AssertionError("%s returned %s, expected it to raise %s" % (where, _show(value, printed), exc_type.__name__))
    if expected is None and _is_truth(call):
        _check_truth(call, where, ns)
        return
    value, printed = _run(call, ns)
    if expected is None:
        if style == "doctest" and (value is not None or printed):
            raise AssertionError("%s returned %s, expected no output" % (where, _show(value, printed)))
        return
    try:
        wanted = eval(compile(expected, "<expected>", "eval"), dict(ns))
    except Exception:
        wanted = _MISSING
    if value is not None and wanted is not _MISSING and _equal(value, wanted):
        return
    if _rounded_equal(value, wanted, expected):
        return
    if value is None and not printed and wanted is None:
        return
    if style == "doctest" or value is None:
        shown = (printed + (repr(value) if value is not None else "")).strip()
        if _norm(shown) == _norm(expected):
            return
        if printed and wanted is not _MISSING and _norm(printed) == _norm(str(wanted)):
            return
    if style == "equals":
        raise AssertionError("%s == %s: got %s" % (where, expected, _show(value, printed)))
    raise AssertionError("%s returned %s, expected %s" % (where, _show(value, printed), expected))


def _is_truth(call):
    """``f(2) == 4`` written with no output: a statement that must hold, not "prints nothing"."""
    try:
        tree = _ast.parse(call.strip(), mode="eval").body
    except SyntaxError:
        return False
    return isinstance(tree, _ast.Compare)


def _check_truth(call, where, ns):
    try:
        value, printed = _run(call, ns)
    except _TooSlow:
        raise
    except Exception as exc:
        raise AssertionError("%s: raised %s: %s" % (where, type(exc).__name__, exc)) from None
    if value is True or (type(value).__name__ == "bool_" and bool(value)):  # numpy's bool too
        return
    try:
        left, _ = _run(_ast.unparse(_ast.parse(call.strip(), mode="eval").body.left), ns)
    except _TooSlow:
        raise
    except Exception as exc:
        raise AssertionError("%s: raised %s: %s" % (where, type(exc).__name__, exc)) from None
    raise AssertionError("%s: got %r" % (where, left))
'''

_TEST = '''

def {test_name}():
    _check({call!r}, {expected!r}, {style!r}, {line}, setup={setup!r})
'''


@dataclass(frozen=True)
class ExampleTests:
    """A pytest file checking a function's examples, and which test is which example."""

    path: str  # where the file goes, relative to the workspace root
    source: str
    tests: tuple[tuple[str, Example], ...]  # (test function name, example)

    def example_of(self, test_name: str) -> Example | None:
        for name, example in self.tests:
            if name == test_name:
                return example
        return None


@dataclass(frozen=True)
class ExampleResult:
    example: Example
    test_name: str
    passed: bool
    outcome: str  # passed, failed, error, missing
    message: str = ""
    detail: str = ""  # the longer report (traceback) for repair prompts


def runtime_guard(guard_file: str) -> str:
    """The :data:`RUNTIME_GUARD` source watching ``guard_file`` (and its real path)."""
    import os

    files = tuple(dict.fromkeys([guard_file, os.path.realpath(guard_file)]))
    return RUNTIME_GUARD.replace("{guard_file!r}", repr(files))


def test_name_for(example: Example, taken: Iterable[str] = ()) -> str:
    """``test_example_line_<1-based line>``, with ``_2``, ``_3``... for repeats."""
    base = f"test_example_line_{example.line + 1}"
    taken = set(taken)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _is_statement(source: str) -> bool:
    """True for an example source that is not an expression (``x = f()``)."""
    import ast

    try:
        compile(source, "<example>", "eval", flags=getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0))
    except SyntaxError:
        return True
    return False


def _is_comparison(source: str) -> bool:
    """``f(2) == 4``: a truth to check, not a statement to replay before later examples."""
    import ast

    try:
        return isinstance(ast.parse(source.strip(), mode="eval").body, ast.Compare)
    except SyntaxError:
        return False


def build_example_tests(
    examples: Sequence[Example],
    module: str,
    import_root: str,
    path: str = EXAMPLES_FILE,
    title: str = "",
    guard_file: str | None = None,
    seconds: int = 10,
) -> ExampleTests:
    """A pytest file with one test per example, importing ``module`` from ``import_root``.

    Doctest statements without output (``>>> c = Cart()``) are not tests of their
    own: they are replayed as setup before the later doctest examples.
    ``guard_file``: the candidate's file; calls from it that fork, signal, run a shell,
    delete files or open sockets are blocked and fail the example (see :data:`RUNTIME_GUARD`).
    ``seconds``: an example that runs longer fails (0: no limit; needs SIGALRM).
    """
    header = f"# Generated by codeloop: the examples{' of ' + title if title else ''}, one test each.\n"
    guard = runtime_guard(guard_file) if guard_file else (
        "\n\ndef _codeloop_check_guard():\n    pass\n"
    )
    parts = [header, _HELPERS.replace("{guard}", guard.replace("{", "{{").replace("}", "}}")).format(
        import_root=str(import_root), module=module, seconds=int(seconds))]
    tests: list[tuple[str, Example]] = []
    setup: list[str] = []
    for example in sorted(examples, key=lambda e: e.line):
        if example.style == "doctest" and example.expected is None and _is_statement(example.call):
            setup.append(example.call)
            continue
        name = test_name_for(example, (n for n, _ in tests))
        parts.append(
            _TEST.format(
                test_name=name,
                call=example.call,
                expected=example.expected,
                style=example.style,
                line=example.line + 1,
                setup=tuple(setup) if example.style == "doctest" else (),
            )
        )
        tests.append((name, example))
        if example.style == "doctest" and example.expected is None and not _is_comparison(example.call):
            setup.append(example.call)
    return ExampleTests(path=path, source="".join(parts), tests=tuple(tests))


def _test_function(nodeid: str) -> str:
    name = nodeid.rsplit("::", 1)[-1]
    return re.sub(r"\[.*\]$", "", name)


def map_results(tests: ExampleTests, outcomes: Iterable[object], errors: Sequence[str] = ()) -> list[ExampleResult]:
    """One :class:`ExampleResult` per example from the sandbox's per-test outcomes.

    ``outcomes`` are objects with ``nodeid``, ``outcome``, ``message`` and
    ``longrepr`` (``codeloop_sandbox.TestOutcome``); only those of ``tests.path`` count.
    An example without an outcome failed to run (for example, the candidate does not
    import): it is reported with ``errors`` or as "did not run".
    """
    file_name = tests.path.rsplit("/", 1)[-1]
    by_name: dict[str, object] = {}
    for outcome in outcomes:
        nodeid = str(getattr(outcome, "nodeid", ""))
        if nodeid.split("::", 1)[0].rsplit("/", 1)[-1] != file_name:
            continue
        by_name[_test_function(nodeid)] = outcome
    results = []
    fallback = next((e for e in errors if e.strip()), "did not run")
    for name, example in tests.tests:
        got = by_name.get(name)
        if got is None:
            results.append(ExampleResult(example, name, False, "missing", first_line(fallback), fallback))
            continue
        outcome = str(getattr(got, "outcome", ""))
        message = str(getattr(got, "message", "") or "")
        detail = str(getattr(got, "longrepr", "") or message)
        results.append(ExampleResult(example, name, outcome == "passed", outcome, _clean_message(message), detail))
    return results


def _clean_message(message: str) -> str:
    """``AssertionError: example at line 3: ...`` -> ``example at line 3: ...``."""
    first = first_line(message)
    return re.sub(r"^(E\s+)?AssertionError:\s*", "", first)


def summarize(results: Sequence[ExampleResult]) -> str:
    """``3/3 examples`` (the evidence wording)."""
    passed = sum(r.passed for r in results)
    return f"{passed}/{len(results)} example{'s' if len(results) != 1 else ''}"
