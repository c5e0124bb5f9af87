"""Run generated programs natively and optimized, compare, and report what differs.

In process::

    check_program(source)          # -> Result: failures (empty when all agree), refusals

Crash-proof, in a worker subprocess (a segfault, an abort or a hang is caught and pinned
on the program that caused it)::

    check_batch(sources)           # -> list of Result, one per source

Command line (a campaign; see docs/fuzzing.md)::

    python -m tests.fuzz.run --examples 20000 --seed 1 [--batch 100] [--in-process]
    python -m tests.fuzz.run --examples 2000 --seed 1 --lines  # line events too
    python -m tests.fuzz.run --check tests/fuzz/found/*.py   # re-check saved programs
    python -m tests.fuzz.run --worker      # internal: JSON lines in, JSON lines out

A program that defines ``DEEP`` (entry calls at a fuel no native run could reach) also has
those run in every optimized mode, with the recursion limit a few hundred frames above the
caller: they must not raise RecursionError and must agree across modes. The run is skipped
in a mode where pytailcall refused a call passing full fuel (a ``fuel - 1`` or ``fuel - 2``
outside ``min(...)``): such a call legitimately recurses.

With ``lines``, tracers' line events are compared too (see ``_line_difference``).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import linecache
import os
import re
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tests.fuzz"

from pytailcall import TailCallWarning, explain, tail_optimize

from .generate import DEFAULT_MIX, PRELUDE, Mix, program_from_choices, program_from_seed

#: Strategies to try; those this pytailcall does not know (ValueError) are skipped.
STRATEGIES = ("loop", "return_tuple", "partial")
IN_PROCESS_ONLY = sys.platform == "emscripten"
RECURSION_LIMIT = 4000
#: Frames a DEEP call may use above its caller: the optimized code's driver frames and the
#: bounded calls, far fewer than the DEEP_FUEL frames the same call takes natively.
DEEP_HEADROOM = 300
#: The log's size limit during DEEP calls (a DEEP call logs at every level).
DEEP_LOG_LIMIT = 100_000
#: What a refusal says when it is a gap of the rewriter, not of the program: its own
#: verification failed, it did not recognise a call, or no jump fits (``Reason.NO_ROOM``,
#: which asked for a report before 689f515).
_GAPS = ("please report", "does not recognise", "too short for a jump")
#: The functions the generator defines (frames the escape_try excuse looks at).
PROGRAM_FUNCTIONS = frozenset({"f", "g", "u", "m"})

_ids = itertools.count()


@dataclass
class Failure:
    mode: str  #: "strategy=loop escape_try=False", or "worker" for a crash
    kind: str  #: result, log, decoration, system_error, crash, timeout
    detail: str

    def __str__(self) -> str:
        return f"[{self.mode}] {self.kind}: {self.detail}"


@dataclass
class Result:
    source: str
    failures: list[Failure] = field(default_factory=list)
    skipped: str | None = None  #: why the program was not compared (native RecursionError)
    refused: list[str] = field(default_factory=list)  #: sites left as calls, with reasons
    modes: int = 0  #: optimized variants compared
    deep: int = 0  #: optimized variants whose DEEP calls ran
    excused: int = 0  #: escape_try differences explained by its documented semantics
    lines_compared: int = 0  #: optimized variants whose line events were compared
    #: refusals where pytailcall's own verification failed ("please report this"), its
    #: analysis did not recognise a call ("does not recognise the bytecode") or no jump
    #: fitted ("too short for a jump"): the call is left native, so not a failure, but a
    #: gap worth a report
    internal: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


# -- modes ---------------------------------------------------------------------------------

def _probe(n: int) -> int:
    return n if n <= 0 else _probe(n - 1)


def available_modes() -> list[dict[str, Any]]:
    """Every option set to compare: each known strategy, with and without escape_try, and
    the loop strategy without the name guard."""
    modes = []
    for strategy in STRATEGIES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tail_optimize(_probe, strategy=strategy)  # type: ignore[arg-type]
        except ValueError as exc:
            if "unknown" in str(exc):
                continue
            raise
        for escape_try in (False, True):
            modes.append({"strategy": strategy, "escape_try": escape_try})
    # The programs never rebind a function's name: without the name guard, the same results.
    modes.append({"strategy": "loop", "escape_try": True, "name_guard": False})
    return modes


def mode_name(mode: dict[str, Any] | None) -> str:
    if mode is None:
        return "native"
    return " ".join(f"{k}={v}" for k, v in mode.items())


# -- one run -------------------------------------------------------------------------------

class _Setup(Exception):
    """The program could not even be set up (a generator bug, or a decoration error)."""


def _stack_depth() -> int:
    frame: Any = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def execute(source: str, mode: dict[str, Any] | None,
            profile: Callable[..., Any] | None = None,
            reports: list[tuple[str, Any]] | None = None, deep: bool = False,
            lines: bool = False) -> dict[str, Any]:
    """Run ``source``'s CALLS natively (``mode`` None) or optimized with ``mode``.

    With ``deep``, run its ``DEEP`` calls instead, with little room on the stack.
    ``reports`` collects ``(name, explain(function))`` of every function optimized.
    Returns ``{"calls": [(outcome, log), ...], "refused": [...], "decoration": error,
    "refused_sites": [(name, lineno, reason), ...], "lines": [[(event, name, line), ...]]}``
    (refused_sites also has the refused tail calls to other functions; lines, with
    ``lines``, the events of the program's set-up, where it decorates its functions, then
    of each call: see ``_line_tracer``).
    """
    refused: list[str] = []
    refused_sites: list[tuple[str, int | None, str | None]] = []
    decoration_error: list[str] = []

    def optimize(fn: Any) -> Any:
        if mode is None:
            return fn
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always", TailCallWarning)
            try:
                new = tail_optimize(fn, **mode)
            except Exception as exc:
                decoration_error.append(f"{type(exc).__name__}: {exc}")
                return fn
        report = explain(new)
        if reports is not None:
            reports.append((fn.__name__, report))
        for site in report.sites:
            if not site.optimized:
                refused.append(f"{fn.__name__} line {site.lineno}: {site.reason}")
        for site in (*report.sites, *report.calls_out):
            if not site.optimized:
                refused_sites.append((fn.__name__, site.lineno, site.reason))
        return new

    filename = f"<fuzz-program-{next(_ids)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__name__": "fuzzprogram", "optimize": optimize}
    exec(PRELUDE, namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # return in finally, 3.14+
        code = compile(source, filename, "exec", dont_inherit=True)
    setup: list[tuple[str, str, int]] = []  # (decorating included)
    if lines:
        sys.settrace(_line_tracer(filename, setup))
    try:
        exec(code, namespace)
    finally:
        if lines:
            sys.settrace(None)
    calls = []
    budget = namespace["Budget"]
    limit = sys.getrecursionlimit()
    if not IN_PROCESS_ONLY:  # room for the trampolines' driver frames (native stays < 600)
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    if deep:
        namespace["LIMIT"] = DEEP_LOG_LIMIT
    running_limit = sys.getrecursionlimit()
    traced: list[list[tuple[str, str, int]]] = []
    for call in namespace["DEEP" if deep else "CALLS"]:
        namespace["LOG"].clear()
        old = sys.getprofile()
        if profile is not None:
            sys.setprofile(profile)
        if lines:
            traced.append([])
            sys.settrace(_line_tracer(filename, traced[-1]))
        if deep:
            sys.setrecursionlimit(_stack_depth() + DEEP_HEADROOM)
        try:
            outcome: tuple[Any, ...] = ("ok", repr(call()))
        except budget:
            outcome = ("budget",)
        except Exception as exc:
            outcome = ("raise", type(exc).__name__, str(exc))
        finally:
            if deep:
                sys.setrecursionlimit(running_limit)
            if profile is not None:
                sys.setprofile(old)
            if lines:
                sys.settrace(None)
        calls.append((outcome, repr(namespace["LOG"])))
    sys.setrecursionlimit(limit)
    linecache.cache.pop(filename, None)
    return {"calls": calls, "refused": refused, "decoration": decoration_error,
            "refused_sites": refused_sites, "lines": [setup, *traced]}


def _line_tracer(filename: str, into: list[tuple[str, str, int]]) -> Callable[..., Any]:
    """A ``sys.settrace`` function recording the line and return events of the program's
    frames as ``(event, function name, line)``, but those on a ``def`` line or on none: the
    frames the trampolines' drivers and bounce entries add stand there, the binders' on no
    line (documented), and native code has none."""

    def trace(frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        if code.co_filename != filename:
            return None
        line = frame.f_lineno
        if event in ("line", "return") and line not in (code.co_firstlineno, None):
            into.append((event, code.co_name, line))
        return trace

    return trace


def _escapes_nested_frame(source: str) -> bool:
    """Natively, does an exception leave a nested frame of f or g (into a caller)?

    With ``escape_try=True`` the except clauses of one iteration do not see exceptions
    raised by later iterations (documented); a difference is only excused when this happens.
    """
    stack: list[bool] = []
    escaped = [False]
    names = PROGRAM_FUNCTIONS

    def profile(frame: Any, event: str, arg: Any) -> None:
        if frame.f_code.co_name not in names:
            return
        if event == "call":
            stack.append(True)
        elif event == "return":
            if stack:
                stack.pop()
            if arg is None and stack:  # they return ints or str: None means an exception
                escaped[0] = True

    execute(source, None, profile)
    return escaped[0]


def _first_difference(native: list[Any], optimized: list[Any]) -> tuple[str, str] | None:
    for i, ((n_out, n_log), (o_out, o_log)) in enumerate(zip(native, optimized, strict=True)):
        if n_out != o_out:
            return "result", f"call {i}: native {n_out!r}, optimized {o_out!r}"
        if n_log != o_log:
            j = next((k for k, (a, b) in enumerate(zip(n_log, o_log, strict=False))
                      if a != b),
                     min(len(n_log), len(o_log)))
            return "log", (f"call {i}: logs differ from character {j}: native "
                           f"...{n_log[max(0, j - 80):j + 120]!r}, optimized "
                           f"...{o_log[max(0, j - 80):j + 120]!r}")
    return None


def _in_order(mode: dict[str, Any], reports: Sequence[tuple[str, Any]]) -> bool:
    """Should tracers see native line events in native order in ``mode``? With the loop
    strategy, yes, unless some call saves a context (each replayed context shows its line
    again: documented). Trampolines' bounces return from frames where native code calls:
    the comparison of their order stays with the loop."""
    return mode.get("strategy") == "loop" and not any(
        "modulo context" in (site.via or "") for _, report in reports for site in report.sites)


def _statement(text: Sequence[str], line: int) -> str:
    """The source of ``line``, stripped ('' past the program's end: code compiled under the
    program's name that is not the program's)."""
    return text[line - 1].strip() if 0 < line <= len(text) else ""


#: Statements whose lines natively show only as a frame returns, after a call: a
#: ``return`` (shared, or above a call on a line of its own) and a ``finally`` that does
#: nothing (``pass``, a ``try:`` of ``pass``).
_RUN_AS_RETURNING = ("return", "pass", "try:")


def _unwinding_lines(events: Sequence[Sequence[Any]], text: Sequence[str]
                     ) -> set[tuple[str, int]]:
    """The lines of ``_RUN_AS_RETURNING`` natively seen right after a return event (and
    after each other): as the frames a jump removed return one by one, each shows the
    lines between its call and its return (a ``return (`` above the call, a ``finally``
    that does nothing, and on 3.12 a ``return`` two paths share), which the jumps show
    before the next iteration instead (``Rewriter.exit_lines``), or not at all (3.12's
    shared return)."""
    found = set()
    after_return = False
    for event, name, line in events:
        if event == "return":
            after_return = True
            continue
        after_return = after_return and _statement(text, line).startswith(_RUN_AS_RETURNING)
        if after_return:
            found.add((name, line))
    return found


def _line_difference(source: str, native: list[list[Any]], optimized: list[list[Any]],
                     in_order: bool) -> str | None:
    """How the optimized line events of the set-up and of each call differ from native,
    or None.

    Every mode must run the same lines (a coverage tool's view), but for a ``return (``
    line the jumps showed where natively no frame returned through it (the recursion ended
    by raising: documented). Where ``in_order``, the same line events in the same order
    too, but on ``return (`` lines and the others natively seen only as the frames a jump
    removed return (see ``_unwinding_lines``), which the jumps show earlier."""
    text = source.splitlines()
    for i, (n, o) in enumerate(zip(native, optimized, strict=True)):
        where = "set-up" if i == 0 else f"call {i - 1}"
        n_lines = {(name, line) for event, name, line in n if event == "line"}
        o_lines = {(name, line) for event, name, line in o if event == "line"}
        shown = {(name, line) for name, line in o_lines - n_lines
                 if _statement(text, line) == "return ("}
        if n_lines != o_lines - shown:
            return (f"{where}: lines run natively only: {sorted(n_lines - o_lines)}, "
                    f"optimized only: {sorted(o_lines - n_lines - shown)}")
        if not in_order:
            continue
        moved = _unwinding_lines(n, text) | {
            (name, line) for event, name, line in (*n, *o) if _statement(text, line) == "return ("}
        n_seq, o_seq = ([(name, line) for event, name, line in events
                         if event == "line" and (name, line) not in moved]
                        for events in (n, o))
        if n_seq != o_seq:
            j = next((k for k, (a, b) in enumerate(zip(n_seq, o_seq, strict=False))
                      if a != b), min(len(n_seq), len(o_seq)))
            return (f"{where}: line events differ from event {j}: native "
                    f"...{n_seq[max(0, j - 4):j + 6]}, optimized ...{o_seq[max(0, j - 4):j + 6]}")
    return None


_BOUNDED_FUEL = re.compile(r"min\(fuel - \d, \d+\)")
_FULL_FUEL = re.compile(r"\bfuel - \d")


def full_fuel_refusals(source: str,
                       refused_sites: Iterable[tuple[str, int | None, str | None]]
                       ) -> list[str]:
    """Refused calls on a line passing full fuel: with one, a DEEP call may legitimately
    recurse natively (a line whose number is unknown counts)."""
    lines = source.splitlines()
    found = []
    for name, lineno, reason in refused_sites:
        text = lines[lineno - 1] if lineno is not None and 0 < lineno <= len(lines) else None
        if text is None or _FULL_FUEL.search(_BOUNDED_FUEL.sub("", text)):
            found.append(f"{name} line {lineno}: {reason}")
    return found


def _is_recursion_error(outcome: Sequence[Any]) -> bool:
    return outcome[0] == "raise" and outcome[1] == "RecursionError"


def check_program(source: str, modes: Sequence[dict[str, Any]] | None = None,
                  lines: bool = False) -> Result:
    """Run ``source`` natively and with every mode; a Result listing what differed (with
    ``lines``, in tracers' line events too)."""
    result = Result(source)
    modes = available_modes() if modes is None else modes
    has_deep = "\nDEEP = " in source
    deep_reference: tuple[str, list[Any]] | None = None
    native = execute(source, None, lines=lines)
    for outcome, _ in native["calls"]:
        if outcome[0] == "raise" and outcome[1] == "RecursionError":
            result.skipped = "native RecursionError"
            return result
    for mode in modes:
        name = mode_name(mode)
        reports: list[tuple[str, Any]] = []
        try:
            optimized = execute(source, mode, reports=reports, lines=lines)
        except Exception as exc:
            result.failures.append(Failure(name, "setup", f"{type(exc).__name__}: {exc}"))
            continue
        result.modes += 1
        result.refused += [f"[{name}] {r}" for r in optimized["refused"]]
        result.internal += [f"[{name}] {r}" for r in optimized["refused"]
                            if any(gap in r for gap in _GAPS)]
        for error in optimized["decoration"]:
            result.failures.append(Failure(name, "decoration", error))
        for outcome, _ in optimized["calls"]:
            if outcome[0] == "raise" and outcome[1] == "SystemError":
                result.failures.append(Failure(name, "system_error", repr(outcome)))
        if has_deep and not full_fuel_refusals(source, optimized["refused_sites"]):
            deep_reference = _check_deep(source, mode, result, deep_reference)
        difference = _first_difference(native["calls"], optimized["calls"])
        if difference is None and lines:
            result.lines_compared += 1
            detail = _line_difference(source, native["lines"], optimized["lines"],
                                      _in_order(mode, reports))
            difference = None if detail is None else ("lines", detail)
        if difference is not None:
            if mode.get("escape_try") and _escapes_nested_frame(source):
                result.excused += 1
                continue
            result.failures.append(Failure(name, *difference))
    return result


def _check_deep(source: str, mode: dict[str, Any], result: Result,
                reference: tuple[str, list[Any]] | None) -> tuple[str, list[Any]] | None:
    """Run the DEEP calls in ``mode``: no RecursionError, and the same as in other modes."""
    name = mode_name(mode)
    try:
        deep = execute(source, mode, deep=True)
    except Exception as exc:
        result.failures.append(Failure(name, "setup", f"DEEP run: {type(exc).__name__}: {exc}"))
        return reference
    result.deep += 1
    recursed = False
    for i, (outcome, _) in enumerate(deep["calls"]):
        if _is_recursion_error(outcome):
            recursed = True
            result.failures.append(Failure(name, "deep", (
                f"DEEP call {i}: {outcome!r}: the optimized run recursed natively (a DEEP "
                f"call has {DEEP_HEADROOM} frames of room, natively it needs more than its "
                "fuel)")))
    if recursed:
        return reference
    if reference is None:
        return name, deep["calls"]
    difference = _first_difference(reference[1], deep["calls"])
    if difference is not None:
        kind, detail = difference
        result.failures.append(Failure(name, "deep_modes", (
            f"DEEP {kind} differs from {reference[0]}: "
            + detail.replace("native", reference[0], 1).replace("optimized", name, 1))))
    return reference


# -- the worker subprocess -----------------------------------------------------------------

def worker_main() -> int:
    """Read ``{"id", "source"}`` JSON lines; write one result line per program, flushed."""
    import faulthandler

    faulthandler.enable()
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing a program prints can garble the protocol
    modes = available_modes()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            result = check_program(request["source"], modes, lines=request.get("lines", False))
        except BaseException as exc:  # a generator or runner bug: report, go on
            result = Result(request["source"], [Failure("runner", "error", "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__))[-2000:])])
        payload = asdict(result)
        payload["id"] = request["id"]
        del payload["source"]
        out.write(json.dumps(payload) + "\n")
        out.flush()
    return 0


def _worker_command() -> tuple[list[str], dict[str, str]]:
    import pytailcall

    root = Path(__file__).resolve().parents[2]
    src = Path(pytailcall.__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(src), str(root), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONFAULTHANDLER"] = "1"
    return [sys.executable, "-m", "tests.fuzz.run", "--worker"], env


def _run_worker(sources: Sequence[str], timeout: float, lines: bool = False
                ) -> tuple[dict[int, dict[str, Any]], int | None, str]:
    command, env = _worker_command()
    stdin = "".join(json.dumps({"id": i, "source": s, "lines": lines}) + "\n"
                    for i, s in enumerate(sources))
    root = Path(__file__).resolve().parents[2]
    try:
        proc = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env,
                              cwd=root, timeout=timeout)
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        code = None
    results = {}
    for line in stdout.splitlines():
        with contextlib.suppress(ValueError):
            payload = json.loads(line)
            results[payload["id"]] = payload
    return results, code, stderr


def _from_payload(source: str, payload: dict[str, Any]) -> Result:
    return Result(source, [Failure(**f) for f in payload["failures"]], payload["skipped"],
                  payload["refused"], payload["modes"], payload["deep"], payload["excused"],
                  payload["lines_compared"], payload["internal"])


def check_batch(sources: Sequence[str], timeout: float | None = None,
                single_timeout: float = 60.0, lines: bool = False) -> list[Result]:
    """Check ``sources`` in one worker subprocess; re-run one at a time if it dies."""
    if timeout is None:
        timeout = 60.0 + 5.0 * len(sources)
    results, code, stderr = _run_worker(sources, timeout, lines)
    out: list[Result] = []
    missing = [i for i in range(len(sources)) if i not in results]
    for i, source in enumerate(sources):
        if i in results:
            out.append(_from_payload(source, results[i]))
            continue
        # The worker died (or hung) before reporting this one: alone, in a fresh worker.
        alone, code1, stderr1 = _run_worker([source], single_timeout, lines)
        if 0 in alone:
            out.append(_from_payload(source, alone[0]))
            continue
        kind = "timeout" if code1 is None else "crash"
        out.append(Result(source, [Failure("worker", kind,
                                           f"exit code {code1}; stderr tail:\n{stderr1[-3000:]}")]))
    if missing and all(out[i].ok for i in missing):
        # It died in the batch but no program crashes alone: report the batch as a whole.
        first = missing[0]
        kind = "timeout" if code is None else "crash"
        out[first].failures.append(Failure(
            "worker", f"batch_{kind}",
            f"the batch worker died (exit code {code}) at this program, which passes alone; "
            f"stderr tail:\n{stderr[-3000:]}"))
    return out


# -- minimizing ----------------------------------------------------------------------------

def same_failure(reference: Result) -> Callable[[Result], bool]:
    kinds = {f.kind for f in reference.failures}
    return lambda r: any(f.kind in kinds for f in r.failures)


def minimize(choices: Sequence[int], failing: Callable[[str], bool],
             max_evaluations: int = 600, mix: Mix = DEFAULT_MIX) -> tuple[str, list[int]]:
    """Shrink the choice sequence of a failing program (made under ``mix``); the smallest
    still failing one."""
    from .generate import Choices, build

    cache: dict[str, bool] = {}
    evaluations = [0]

    def attempt(candidate: list[int]) -> list[int] | None:
        recorder = Choices(candidate)
        try:
            source = build(recorder, mix)
        except Exception:
            return None
        if source not in cache:
            if evaluations[0] >= max_evaluations:
                return None
            evaluations[0] += 1
            cache[source] = failing(source)
        return recorder.record if cache[source] else None

    best = list(choices)
    normalized = attempt(best)
    if normalized is not None:
        best = normalized
    improved = True
    while improved and evaluations[0] < max_evaluations:
        improved = False
        for size in (32, 16, 8, 4, 2, 1):
            i = 0
            while i < len(best) and evaluations[0] < max_evaluations:
                got = attempt(best[:i] + best[i + size:])
                if got is not None and (len(got), got) < (len(best), best):
                    best, improved = got, True
                else:
                    i += max(1, size // 2)
        for i in range(len(best)):
            if i >= len(best) or evaluations[0] >= max_evaluations:
                break
            for value in (0, best[i] // 2, best[i] - 1):
                if 0 <= value < best[i]:
                    candidate = list(best)
                    candidate[i] = value
                    got = attempt(candidate)
                    if got is not None and (len(got), got) < (len(best), best):
                        best, improved = got, True
                        break
    return program_from_choices(best, mix), best


def minimize_failure(source: str, choices: Sequence[int], reference: Result,
                     in_process: bool, mix: Mix = DEFAULT_MIX, lines: bool = False) -> str:
    predicate = same_failure(reference)
    crashy = any(f.mode == "worker" for f in reference.failures)

    def failing(candidate: str) -> bool:
        if in_process and not crashy:
            try:
                return predicate(check_program(candidate, lines=lines))
            except Exception:
                return False
        return predicate(check_batch([candidate], single_timeout=30.0, lines=lines)[0])

    smallest, _ = minimize(choices, failing, max_evaluations=200 if crashy else 600, mix=mix)
    return smallest


# -- campaigns -----------------------------------------------------------------------------

def seeded_programs(seed: int, count: int, start: int = 0, mix: Mix = DEFAULT_MIX
                    ) -> Iterable[tuple[int, str, list[int]]]:
    for i in range(start, start + count):
        source, choices = program_from_seed(seed * 1_000_003 + i, mix)
        yield i, source, choices


def campaign(examples: int, seed: int, batch: int = 100, in_process: bool = False,
             minimize_failures: bool = True, out_dir: Path | None = None,
             log: Callable[[str], None] = print, time_limit: float | None = None,
             mix: Mix = DEFAULT_MIX, lines: bool = False) -> dict[str, Any]:
    """Check ``examples`` seeded programs (with ``lines``, their line events too); return a
    summary (failures minimized)."""
    in_process = in_process or IN_PROCESS_ONLY
    started = time.monotonic()
    summary: dict[str, Any] = {
        "python": sys.version.split()[0], "platform": sys.platform, "seed": seed,
        "mix": str(mix), "checked": 0, "skipped": 0, "excused": 0, "deep_checked": 0,
        "refused_sites": 0, "internal": [], "gap_programs": 0, "lines_compared": 0,
        "modes": [
            mode_name(m) for m in available_modes()], "failures": [],
    }
    programs = list(seeded_programs(seed, examples, mix=mix))
    for start in range(0, len(programs), batch):
        if time_limit is not None and time.monotonic() - started > time_limit:
            log(f"time limit reached after {summary['checked']} programs")
            break
        chunk = programs[start:start + batch]
        if in_process:
            results = [check_program(source, lines=lines) for _, source, _ in chunk]
        else:
            results = check_batch([source for _, source, _ in chunk], lines=lines)
        for (index, source, choices), result in zip(chunk, results, strict=True):
            summary["checked"] += 1
            summary["skipped"] += result.skipped is not None
            summary["excused"] += result.excused
            summary["deep_checked"] += bool(result.deep)
            summary["refused_sites"] += len(result.refused)
            summary["lines_compared"] += result.lines_compared
            summary["gap_programs"] += bool(result.internal)
            if result.internal and len(summary["internal"]) < 20:
                summary["internal"].append({"index": index, "refusals": result.internal[:3]})
            if result.ok:
                continue
            log(f"program {index} FAILED: " + "; ".join(str(f)[:300] for f in result.failures))
            smallest = source
            if minimize_failures:
                smallest = minimize_failure(source, choices, result, in_process, mix, lines)
                again = (check_program(smallest, lines=lines) if in_process
                         else check_batch([smallest], lines=lines)[0])
                failures = again.failures or result.failures
            else:
                failures = result.failures
            entry = {"index": index, "program": smallest,
                     "failures": [str(f) for f in failures], "original": source}
            summary["failures"].append(entry)
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                version = f"{sys.version_info[0]}{sys.version_info[1]}"
                path = out_dir / f"failure-{version}-seed{seed}-{index}.py"
                path.write_text(
                    f"# python {sys.version.split()[0]}, seed {seed}, program {index}, "
                    f"mix {mix}\n"
                    + "".join(f"# {line}\n" for f in failures for line in str(f).splitlines())
                    + smallest)
                log(f"  minimized program written to {path}")
        log(f"{summary['checked']} checked, {len(summary['failures'])} failing "
            f"({time.monotonic() - started:.0f} s)")
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary


def check_files(paths: Sequence[Path]) -> int:
    """Check saved programs (in a worker); print each one's verdict. 1 if any fails."""
    sources = [path.read_text() for path in paths]
    results = (check_batch(sources) if not IN_PROCESS_ONLY
               else [check_program(source) for source in sources])
    for path, result in zip(paths, results, strict=True):
        verdict = "ok" if result.ok else "FAILS"
        gaps = f", {len(result.internal)} gap refusals" if result.internal else ""
        print(f"{path}: {verdict} ({result.modes} modes, {result.deep} with DEEP calls{gaps})")
        for failure in result.failures:
            print(f"    {str(failure)[:400]}")
        for refusal in result.internal[:2]:
            print(f"    gap: {refusal[:300]}")
    return 0 if all(result.ok for result in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=100, help="programs per worker process")
    parser.add_argument("--in-process", action="store_true",
                        help="no worker subprocess (crashes are not caught)")
    parser.add_argument("--no-minimize", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"),
                        help="where minimized failing programs are written")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    parser.add_argument("--show", type=int, default=None, metavar="N",
                        help="print program N of --seed and exit")
    parser.add_argument("--mix", default="default",
                        help="generator weights: 'default', 'ci' (known library bugs' "
                             "shapes off), and/or name=weight,... (see docs/fuzzing.md)")
    parser.add_argument("--check", nargs="+", type=Path, default=None, metavar="FILE",
                        help="check these program files (e.g. tests/fuzz/found/*.py) and exit")
    parser.add_argument("--lines", action="store_true",
                        help="compare the lines run too, and the order of line events "
                             "(loop strategy, no contexts)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main()
    mix = DEFAULT_MIX.updated(args.mix)
    if args.show is not None:
        print(program_from_seed(args.seed * 1_000_003 + args.show, mix)[0])
        return 0
    if args.check is not None:
        return check_files(args.check)
    summary = campaign(args.examples, args.seed, args.batch, args.in_process,
                       not args.no_minimize, args.out, time_limit=args.time_limit, mix=mix,
                       lines=args.lines)
    text = json.dumps(summary, indent=2)
    if args.json:
        args.json.write_text(text)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("failures", "internal")},
                     indent=2))
    print(f"analysis gaps (left native: 'please report' / 'does not recognise' / "
          f"'too short for a jump'): "
          f"{summary['gap_programs']} programs (first 20 in --json)")
    for failure in summary["failures"]:
        print(f"\n--- program {failure['index']}:")
        print("\n".join(failure["failures"]))
        print(failure["program"])
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
