"""``PYTAILCALL_TRACEBACK_NOTE=1``: an exception leaving a frame that ran tail calls without
frames of their own says, in a note, how many; nothing else about it changes.

The variable is read when a function is decorated, so each test sets it before making its
functions. A note names where the calls ran and their count; it appears once per such
frame the exception leaves, and never when the count is 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import traceback
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import STRATEGIES, _make

from pytailcall import _api, tail_optimize
from pytailcall._bytecode import facts

NOTE = "pytailcall: {}, tail calls elided (their frames are not shown): {:,}"


@pytest.fixture
def noting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(_api.NOTE_VARIABLE, "1")
    yield


def define(source: str, strategy: str, name: str) -> Callable[..., Any]:
    """``name`` from ``source`` (run by conftest's ``_make``), with every function the
    source defines optimized with ``strategy``, as the environment now says."""
    func = _make(source, name)
    namespace = func.__globals__
    for key, value in list(namespace.items()):
        if (isinstance(value, types.FunctionType)
                and value.__code__.co_filename == func.__code__.co_filename):
            namespace[key] = tail_optimize(value, strategy=strategy)
    return namespace[name]  # type: ignore[no-any-return]


def notes_of(call: Callable[[], object]) -> tuple[BaseException, list[str]]:
    with pytest.raises(BaseException) as info:
        call()
    return info.value, list(getattr(info.value, "__notes__", []))


COUNT_DOWN = """
def count(n):
    if n == 0:
        raise ValueError("bottom")
    return count(n - 1)
"""

#: Only the loop strategy optimizes a tail call that leaves a for loop (it keeps the
#: iterators, at the bottom of the stack, over the count).
COUNT_IN_A_LOOP = """
def count(n, xs=(1,)):
    if n == 0:
        raise ValueError("bottom")
    for x in xs:
        return count(n - 1, xs)
    return None
"""

#: From 3.14 a tail call inside a for loop is left native (a virtual iterator cannot be
#: kept): there the loop shape has nothing to count.
LOOPS_KEEP_ITERATORS = facts.current().loop_iterator_is_an_object
IN_A_LOOP = pytest.param(
    COUNT_IN_A_LOOP, "loop", id="loop, from a for loop",
    marks=pytest.mark.skipif(not LOOPS_KEEP_ITERATORS,
                             reason="tail calls inside for loops are left native on 3.14+"))
SHAPES = [*(pytest.param(COUNT_DOWN, s, id=s) for s in STRATEGIES), IN_A_LOOP]


@pytest.mark.parametrize(("source", "strategy"), SHAPES)
def test_the_note_counts_the_calls_that_ran_without_frames(
    noting: None, source: str, strategy: str
) -> None:
    count = define(source, strategy, "count")
    exc, notes = notes_of(lambda: count(5_000))
    assert (type(exc), str(exc)) == (ValueError, "bottom")
    assert notes == [NOTE.format("count()", 5_000)]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_note_without_elided_calls_or_without_the_variable(
    noting: None, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = define(COUNT_DOWN, strategy, "count")
    assert notes_of(lambda: count(0))[1] == []  # raised before any tail call
    monkeypatch.setenv(_api.NOTE_VARIABLE, "0")
    plain = define(COUNT_DOWN, strategy, "count")
    assert notes_of(lambda: plain(5_000))[1] == []


HANDLED = """
def settle(n, log):
    try:
        if n == 0:
            raise KeyError(n)
    except KeyError:
        log.append("handled")
        if not log[1:]:
            raise                  # re-raised by the function's own handler: leaves it
        return "done"
    return settle(n - 1, log)
"""


def test_an_exception_the_function_handles_gets_no_note(noting: None) -> None:
    settle = define(HANDLED, "loop", "settle")
    exc, notes = notes_of(lambda: settle(300, []))  # first time: re-raised, leaves the frame
    assert type(exc) is KeyError and notes == [NOTE.format("settle()", 300)]
    log = ["before"]
    assert settle(300, log) == "done" and log == ["before", "handled"]


BAD_NOTES = """
def count(n):
    if n == 0:
        error = ValueError("bottom")
        error.__notes__ = "not a list"     # add_note() raises TypeError on this
        raise error
    return count(n - 1)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_exception_whose_notes_cannot_take_one_leaves_unchanged(
    noting: None, strategy: str
) -> None:
    count = define(BAD_NOTES, strategy, "count")
    exc, _ = notes_of(lambda: count(100))
    assert (type(exc), str(exc), exc.__notes__) == (ValueError, "bottom", "not a list")


RAISING_NOTE = """
class Refusing(Exception):
    def add_note(self, note):
        raise LookupError("raised while the note is added")   # like a signal handler's

def count(n):
    if n == 0:
        raise Refusing("bottom")
    return count(n - 1)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_only_a_note_that_cannot_be_added_is_dropped(noting: None, strategy: str) -> None:
    """An exception raised while the note is added, other than add_note's TypeError, is
    not swallowed: a signal handler's exception arriving there must not be lost."""
    count = define(RAISING_NOTE, strategy, "count")
    with pytest.raises(LookupError, match="while the note is added"):
        count(100)


INTERRUPTED_NOTE = """
class Interrupted(Exception):
    def add_note(self, note):
        raise KeyboardInterrupt    # as if Ctrl-C were handled while the note is added

def count(n):
    if n == 0:
        raise Interrupted("bottom")
    return count(n - 1)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_interrupt_while_the_note_is_added_is_not_lost(noting: None, strategy: str) -> None:
    count = define(INTERRUPTED_NOTE, strategy, "count")
    with pytest.raises(KeyboardInterrupt):
        count(100)


def test_each_frame_the_exception_leaves_adds_its_own_note(noting: None) -> None:
    source = """
    def outer(n):
        if n == 0:
            return inner(3)        # not a tail call of outer's: a frame of its own
        return outer(n - 1)

    def inner(m):
        if m == 0:
            raise RuntimeError("deep")
        return inner(m - 1)
    """
    namespace = _make(source, "outer").__globals__
    namespace["inner"] = tail_optimize(namespace["inner"])
    outer = namespace["outer"] = tail_optimize(namespace["outer"], strategy="loop")
    _, notes = notes_of(lambda: outer(7))
    assert notes == [NOTE.format("inner()", 3), NOTE.format("outer()", 7)]


ALTERNATING = """
def a(n):
    if n == 0:
        raise ValueError("bottom")
    if n % 4:
        return a(n - 1)          # jumps (loop), bounces (trampolines)
    return b(n - 1)              # a bounce into b

def b(n):
    return a(n - 1)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n", [12, 101])
def test_the_notes_add_up_to_the_frames_the_traceback_lacks(
    noting: None, strategy: str, n: int
) -> None:
    """Natively a(n) leaves n + 1 frames of a and b; the notes count every one that is not
    in the traceback, including jumps made in a frame that then bounced into b."""
    a = define(ALTERNATING, strategy, "a")
    exc, notes = notes_of(lambda: a(n))
    counted = sum(int(note.rsplit(" ", 1)[1].replace(",", "")) for note in notes)
    lines = textwrap.dedent(ALTERNATING).splitlines()
    def_lines = {number for number, line in enumerate(lines, 1) if line.startswith("def ")}
    shown = [  # frames of the user's code (the drivers stand on the def line)
        frame for frame in traceback.extract_tb(exc.__traceback__)
        if frame.name in ("a", "b") and frame.lineno not in def_lines
    ]
    assert counted + len(shown) == n + 1


def test_bounces_between_functions_are_counted_by_their_driver(noting: None) -> None:
    source = """
    def is_even(n):
        if n == 0:
            raise LookupError(n)
        return is_odd(n - 1)

    def is_odd(n):
        if n == 0:
            return False
        return is_even(n - 1)
    """
    is_even = define(source, "loop", "is_even")
    _, notes = notes_of(lambda: is_even(1_000))
    # 1,001 frames natively; the public is_even and the last one are in the traceback
    assert notes == [NOTE.format("between optimized functions", 999)]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_traceback_entries_are_those_made_without_the_note(
    strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def entries(value: str) -> list[tuple[str | None, int | None, str]]:
        monkeypatch.setenv(_api.NOTE_VARIABLE, value)
        count = define(COUNT_DOWN, strategy, "count")
        exc, _ = notes_of(lambda: count(50))
        return [(f.name, f.lineno, f.line or "") for f in traceback.extract_tb(exc.__traceback__)]

    assert entries("1") == entries("")


def test_line_events_are_those_made_without_the_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def events(value: str) -> list[tuple[str, int]]:
        monkeypatch.setenv(_api.NOTE_VARIABLE, value)
        count = define(COUNT_IN_A_LOOP if LOOPS_KEEP_ITERATORS else COUNT_DOWN, "loop", "count")
        seen: list[tuple[str, int]] = []

        def tracer(frame: Any, event: str, arg: object) -> Any:
            if frame.f_code.co_name == "count":
                seen.append((event, frame.f_lineno - count.__code__.co_firstlineno))
            return tracer

        sys.settrace(tracer)
        try:
            notes_of(lambda: count(3))
        finally:
            sys.settrace(None)
        return seen

    assert events("1") == events("")


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses under Pyodide")
def test_run_honours_the_variable(tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text(COUNT_DOWN + "\ncount(10_000)\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k != _api.DISABLE_VARIABLE}
    environ[_api.NOTE_VARIABLE] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytailcall", "run", str(script)],
        env=environ, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-2:] == [
        "ValueError: bottom", NOTE.format("count()", 10_000)]


NEAR_THE_LIMIT = """
def last(xs):
    if len(xs) == 1:
        return xs[0]
    return last(xs[1:])

def walk(n):
    return last([n]) + walk(n + 1)   # not a tail call: recurses until RecursionError
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_recursion_error_is_not_chained_to_another(noting: None, strategy: str) -> None:
    """At the recursion limit, noting must not call anything that needs a frame."""
    namespace = _make(NEAR_THE_LIMIT, "walk").__globals__
    namespace["last"] = tail_optimize(namespace["last"], strategy=strategy)
    exc, _ = notes_of(lambda: namespace["walk"](0))
    assert type(exc) is RecursionError
    assert exc.__context__ is None


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_tracers_see_no_python_code_of_ours_when_noting(noting: None, strategy: str) -> None:
    count = define(COUNT_DOWN, strategy, "count")
    package = os.path.dirname(_api.__file__)
    ours: list[str] = []

    def tracer(frame: Any, event: str, arg: object) -> Any:
        if event == "call" and frame.f_code.co_filename.startswith(package):
            ours.append(frame.f_code.co_qualname)
        return None

    sys.settrace(tracer)
    try:
        notes_of(lambda: count(30))
    finally:
        sys.settrace(None)
    assert ours == []
