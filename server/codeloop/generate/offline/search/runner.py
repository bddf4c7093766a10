"""Running candidates: under coverage with a per-call time limit (:class:`Runner`), traced on
their own (:func:`trace_arcs`), and the arcs they reached as line pairs (:func:`arc_list`)."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import signal
import sys
import time

from .observe import MAX_ITEMS, Materialized, Subject, TextHashes, is_iterator, observe_exception, observe_value


class CallTimeout(BaseException):
    """Raised by the interval timer when one call takes too long."""


def on_alarm(signum, frame):  # noqa: ARG001
    raise CallTimeout()


class Argv(list):
    """``sys.argv`` while the code under test runs: its program name only, and a note when the
    code reads the arguments (``parse_args()``, ``len(sys.argv)``): what such a call returns
    depends on the command line of whatever runs it (the driver here, pytest later), so it
    makes no test."""

    read = False

    def _note(self) -> None:
        Argv.read = True

    def __getitem__(self, i):
        if i != 0:
            self._note()
        return super().__getitem__(i)

    def __len__(self) -> int:
        self._note()
        return super().__len__()

    def __iter__(self):
        self._note()
        return super().__iter__()


class Runner:
    def __init__(self, subject: Subject, cov, call_timeout: float) -> None:
        self.subject = subject
        self.cov = cov
        self.call_timeout = call_timeout
        self.known: set = set()
        self.file = subject.file
        self._live_size = -1
        self.last_value = None  # what the last executed call returned (objects join the pool)
        self.last_ns: dict = {}
        self.last_cpu = 0.0  # CPU seconds of the last call
        try:
            with open(self.file, "rb") as fh:
                self.nlines = fh.read().count(b"\n") + 1
        except OSError:
            self.nlines = 10**6

    def arcs(self) -> set:
        """Arcs covered so far in the target file (opaque, comparable items).

        Reads the collector's live set when coverage.py exposes it (a set per file that only
        grows), which is ~50x cheaper than ``get_data()``; falls back to the public API.
        """
        live = getattr(getattr(self.cov, "_collector", None), "data", None)
        if isinstance(live, dict):
            items = live.get(self.file)
            if items is None:
                return set(self.known)
            if isinstance(items, (set, dict)):
                if len(items) == self._live_size:
                    return self.known
                self._live_size = len(items)
                return set(items)
        data = self.cov.get_data()
        return set(data.arcs(self.file) or ())

    def execute(self, cand: dict, want=None) -> tuple[dict, set]:
        """Run a candidate; return (observation, new arcs).

        The observation (repr, literal check, imports) is only worked out when the call
        covered something new or ``want(obs_kind)`` asks for it: it costs more than the call.
        """
        subject = self.subject
        ns = subject.namespace(cand.get("imports", []))
        self.last_ns = ns
        out = io.StringIO()
        raw: dict
        step = -1
        iterating = False
        self.last_value = None
        Argv.read = False
        TextHashes.seen = False
        cpu = time.process_time()
        self.cov.start()
        signal.setitimer(signal.ITIMER_REAL, self.call_timeout)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                for step, stmt in enumerate(cand.get("setup", [])):  # noqa: B007 - read by the handler below
                    exec(compiled(stmt, "exec"), ns)  # noqa: S102
                step = len(cand.get("setup", []))
                value = eval(compiled(cand["expr"], "eval"), ns)  # noqa: S307
                is_iter = is_iterator(value)
                if is_iter:
                    # Generators run their body only when iterated: do it under coverage.
                    iterating = True
                    value = Materialized(itertools.islice(value, MAX_ITEMS + 1))
                    iterating = False
                raw = {"kind": "return", "value_obj": value}
                self.last_value = value if is_iter is not None else None  # a broken object builds nothing
        except CallTimeout:
            raw = {"kind": "timeout"}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt raised by the code are results too
            raw = {"kind": "raise_obj", "exc": exc}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.cov.stop()
        self.last_cpu = time.process_time() - cpu
        arcs = self.arcs()
        new = arcs - self.known if arcs is not self.known else set()
        if new:
            self.known |= new
        if raw["kind"] == "timeout":
            return {"kind": "timeout"}, new
        if Argv.read:
            return {"kind": "unobservable"}, new
        if not new and not (want and want(raw)):
            return {"kind": "skipped"}, new
        try:
            signal.setitimer(signal.ITIMER_REAL, self.call_timeout)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                if raw["kind"] == "return":
                    final = observe_value(raw.pop("value_obj"), subject, ns, unordered=TextHashes.seen)
                else:
                    final = observe_exception(raw.pop("exc"), subject)
                    final["step"] = step
                    final["iterating"] = iterating
                final["needs"] = subject.imports_for(list(cand.get("setup", [])) + [cand["expr"]], ns,
                                                     cand.get("imports", []))
        except BaseException:
            final = {"kind": "unobservable"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        final["stdout"] = out.getvalue()[:500]
        return final, new


_code_cache: dict = {}


def compiled(src: str, mode: str):
    key = (src, mode)
    code = _code_cache.get(key)
    if code is None:
        if len(_code_cache) > 20000:
            _code_cache.clear()
        code = compile(src, "<setup>" if mode == "exec" else "<call>", mode)
        _code_cache[key] = code
    return code


def _same(a: dict, b: dict) -> bool:
    keys = ("kind", "src", "type", "msg", "attrs", "len", "iterating", "step", "stdout")
    return all(a.get(k) == b.get(k) for k in keys)


def is_stable(runner: Runner, cand: dict, obs: dict) -> bool:
    """Run a kept call once more in a fresh namespace: time, randomness and object ids
    usually show up as a different observation (hash-seed effects are caught later by
    the verification runs in fresh processes)."""
    again, _ = runner.execute(cand, want=lambda raw: True)
    return _same(obs, again)


def run_quietly(ns: dict, cand: dict) -> object:
    """A candidate's set-up and expression run in ``ns`` with their output swallowed; an
    iterator result is drained (its first items) while the output is still swallowed. The
    caller arms the alarm and decides what coverage sees."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for stmt in cand.get("setup", []):
            exec(compiled(stmt, "exec"), ns)  # noqa: S102
        value = eval(compiled(cand["expr"], "eval"), ns)  # noqa: S307
        if is_iterator(value):
            value = Materialized(itertools.islice(value, MAX_ITEMS + 1))
    return value


def trace_arcs(runner: Runner, cand: dict) -> set | None:
    """Line arcs in the target file for one candidate, with a plain ``sys.settrace`` tracer
    (outside coverage.py, so the two never interfere). None when the call times out."""
    file = runner.file
    arcs: set = set()
    known_files: dict = {}

    def is_target(code) -> bool:
        name = code.co_filename
        hit = known_files.get(name)
        if hit is None:
            hit = known_files[name] = os.path.abspath(name) == file
        return hit

    def global_trace(frame, event, arg):  # noqa: ARG001
        if not is_target(frame.f_code):
            return None
        last = [-frame.f_code.co_firstlineno]

        def local(frame, event, arg):  # noqa: ARG001
            if event == "line":
                arcs.add((last[0], frame.f_lineno))
                last[0] = frame.f_lineno
            elif event == "return":
                arcs.add((last[0], -frame.f_code.co_firstlineno))
            return local

        return local

    ns = runner.subject.namespace(cand.get("imports", []))
    signal.setitimer(signal.ITIMER_REAL, runner.call_timeout)
    sys.settrace(global_trace)
    try:
        run_quietly(ns, cand)
    except CallTimeout:
        return None
    except BaseException:
        pass
    finally:
        sys.settrace(None)
        signal.setitimer(signal.ITIMER_REAL, 0)
    return arcs


# coverage.py's C tracer packs a (from, to) line pair into one int (tracer.c, CTracer_record_pair);
# the layout changed between versions: (bits per line, sign bit of `from`, sign bit of `to`).
_PACKINGS = ((28, 56, 57), (20, 40, 41))


def _unpack(packed: int, bits: int, neg1: int, neg2: int) -> tuple[int, int]:
    mask = (1 << bits) - 1
    l1, l2 = packed & mask, (packed >> bits) & mask
    return (-l1 if packed & (1 << neg1) else l1, -l2 if packed & (1 << neg2) else l2)


def arc_list(arcs: set, nlines: int, limit: int = 48) -> list[list[int]]:
    """The new arcs of a kept call as ``[from, to]`` line pairs (the host names the test by
    them and compares them with the user's tests' coverage); [] when they cannot be read."""
    pairs = [a for a in arcs if isinstance(a, tuple) and len(a) == 2]
    ints = [a for a in arcs if isinstance(a, int)]
    if ints:
        for layout in _PACKINGS:
            cand = [_unpack(a, *layout) for a in ints]
            if all(0 < abs(x) <= nlines + 1 for pair in cand for x in pair):
                pairs += cand
                break
        else:
            return []
    return sorted([int(a), int(b)] for a, b in pairs)[:limit]
