"""Per-request accounting of the event loop thread inside a pygls server (bench only).

For every request (from pygls's dispatch of the message to its response being written) and
every notification (its synchronous handling), deltas of:

* ``wall``: elapsed time;
* ``run``: the loop thread's time on a CPU, ``runq``: its time runnable but waiting for a
  CPU (both from ``/proc/self/task/<tid>/schedstat``, the kernel's own accounting);
* ``idle``: time the loop spent inside ``selector.select`` (waiting for input or for a
  worker's result; a wake-up's wait for the GIL falls in here too, so ``gil`` below is a
  lower bound);
* ``gil``: ``wall - run - runq - idle``: the loop thread off the CPU while it had work,
  which for this server means waiting for the GIL that a worker thread holds (or a blocking
  write to stdout);
* ``others``: CPU time of every other thread of the process (workers);
* ``gc``: time spent in garbage collections, any thread (also listed per generation, with
  each collection's CPU time and whether the loop thread ran it).

The bench asks for the records with the request ``bench/loopProbe`` (answered here, never
reaching the server) and gets them cleared. With ``CODELOOP_BENCH_PROFILE=<file>`` the loop
thread also runs under cProfile between the first and the second such request (the bench's
measured iterations), and the profile is written to ``<file>``.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any

_state: dict[str, Any] = {"tid": None, "fd": None, "idle": 0.0, "gc": 0.0, "records": [], "open": {},
                          "gcs": {0: [], 1: [], 2: []}}
METHOD = "bench/loopProbe"


def _runq() -> float:
    """The loop thread's ms runnable but waiting for a CPU (kernel schedstat; one pread)."""
    if _state["fd"] is None:
        try:
            _state["fd"] = os.open(f"/proc/self/task/{_state['tid']}/schedstat", os.O_RDONLY)
        except OSError:
            _state["fd"] = -1
    if _state["fd"] < 0:
        return 0.0
    try:
        return int(os.pread(_state["fd"], 100, 0).split()[1]) / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def _snapshot() -> tuple[float, ...]:
    # called on the loop thread: thread_time is its CPU, process_time all threads'
    run, process = time.thread_time() * 1000, time.process_time() * 1000
    return time.perf_counter() * 1000, run, _runq(), _state["idle"] * 1000, process - run, _state["gc"] * 1000


def _record(method: str, start: tuple[float, ...]) -> None:
    end = _snapshot()
    wall, run, runq, idle, others, gcms = (b - a for a, b in zip(start, end, strict=True))
    _state["records"].append({"method": method, "wall": wall, "run": run, "runq": runq, "idle": idle,
                              "gil": max(wall - run - runq - idle, 0.0), "others": others, "gc": gcms})


def _profile_step() -> None:
    """Start the loop thread's cProfile at the first probe request, stop and dump it at the second."""
    target = os.environ.get("CODELOOP_BENCH_PROFILE")
    if not target:
        return
    profile = _state.get("profile")
    if profile is None:
        import cProfile

        _state["profile"] = profile = cProfile.Profile()
        profile.enable()
    elif profile is not False:
        profile.disable()
        profile.dump_stats(target)
        _state["profile"] = False


def install() -> None:
    import selectors

    from pygls.protocol import json_rpc

    for cls in {selectors.DefaultSelector, selectors.EpollSelector}:
        original_select = cls.select

        def select(self, timeout=None, _original=original_select):
            if threading.get_native_id() != _state["tid"]:
                return _original(self, timeout)
            mark = time.perf_counter()
            try:
                return _original(self, timeout)
            finally:
                _state["idle"] += time.perf_counter() - mark

        cls.select = select

    gc_mark: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            gc_mark[ident] = (time.perf_counter(), time.thread_time())
        elif ident in gc_mark:
            wall, cpu = gc_mark.pop(ident)
            took = time.perf_counter() - wall
            _state["gc"] += took
            on_loop = threading.get_native_id() == _state["tid"]
            _state["gcs"][info["generation"]].append(
                (took * 1000, (time.thread_time() - cpu) * 1000, on_loop))

    gc.callbacks.append(on_gc)

    protocol_cls = json_rpc.JsonRPCProtocol
    handle_message = protocol_cls.handle_message
    send_response = protocol_cls._send_response

    def probed_handle_message(self, message):
        if _state["tid"] is None:
            _state["tid"] = threading.get_native_id()
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if method == METHOD:
            records, _state["records"] = _state["records"], []
            gcs, _state["gcs"] = _state["gcs"], {0: [], 1: [], 2: []}
            _profile_step()
            # as one JSON string: pygls's client would turn objects into namedtuples
            tracked = {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
            return send_response(self, msg_id, json.dumps({"records": records, "gc": gcs, "heap": tracked}))
        start = _snapshot()
        if msg_id is not None and method is not None:  # a request: until its response
            _state["open"][msg_id] = (method, start)
            return handle_message(self, message)
        try:
            return handle_message(self, message)
        finally:
            if method is not None:
                _record(method, start)

    def probed_send_response(self, msg_id, result=None, error=None):
        try:
            return send_response(self, msg_id, result, error)
        finally:
            opened = _state["open"].pop(msg_id, None)
            if opened is not None:
                _record(*opened)

    protocol_cls.handle_message = probed_handle_message
    protocol_cls._send_response = probed_send_response
