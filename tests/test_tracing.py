"""Tracers and monitors see the optimized function run the same source lines, in the same
order, as the undecorated one: the rewritten code adds no line events of its own.

The trampolined strategies add one frame, the driver loop, which reports only the
function's ``def`` line; it is left out of the comparison.
"""

from __future__ import annotations

import random
import sys
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from conftest import _make_pair, is_driver

from pytailcall import TailCallWarning, explain, tail_optimize

SHAPES: dict[str, tuple[Any, ...]] = {
    # each: source, arguments; every one optimizes all its self calls
    "positional": ("""
        def walk(n, acc):
            if n == 0:
                return acc
            return walk(n - 1, acc + n)
        """, (4, 0)),
    "omitted default (binder)": ("""
        def walk(n, acc=0):
            if n == 0:
                return acc
            if n % 2:
                return walk(n - 1)
            return walk(n - 1, acc + 1)
        """, (5,)),
    "keyword": ("""
        def walk(n, acc=0):
            if n == 0:
                return acc
            return walk(n - 1, acc=acc + n)
        """, (4,)),
    "inside nested loops": ("""
        def walk(n, xs):
            for x in xs:
                for y in xs:
                    if n > 0:
                        return walk(n - 1, xs)
            return n
        """, (3, [1, 2])),
    "conditional expression": ("""
        def walk(n, acc):
            if n == 0:
                return acc
            return walk(n - 1, acc + 1) if n % 2 else walk(n - 1, acc)
        """, (5, 0)),
    "escape_try": ("""
        def walk(n, acc):
            try:
                if n == 0:
                    return acc
                return walk(n - 1, acc + 1)
            except ValueError:
                return -1
        """, (3, 0), {"escape_try": True}),
    "one-line body": ("""
        def walk(n, acc=0):
            return acc if n == 0 else walk(n - 1, acc + 1)
        """, (4,)),
    "star arguments": ("""
        def walk(n, *rest):
            if n == 0:
                return rest
            return walk(*(n - 1, n), *rest)
        """, (3,)),
}


def _line_events(func: Callable[..., Any], args: tuple[Any, ...]) -> list[int]:
    first = func.__code__.co_firstlineno
    lines: list[int] = []

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_name != func.__name__ or is_driver(frame.f_code):
            return None
        if event == "line":
            lines.append(frame.f_lineno - first)
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        func(*args)
    finally:
        sys.settrace(previous)
    return lines


def _pair(make_pair: Any, shape: str, name_guard: bool) -> tuple[Any, Any, tuple[Any, ...]]:
    src, args, *options = SHAPES[shape]
    with warnings.catch_warnings():
        # Calls in for loops (trampolines; any strategy on 3.14+) and under escape_try
        # (trampolines) are left normal calls: their tracing must be native all the more.
        warnings.filterwarnings("ignore", "pytailcall: .* inside a (for loop|try block)",
                                TailCallWarning)
        native, optimized = make_pair(src, **(options[0] if options else {}),
                                      name_guard=name_guard)
    return native, optimized, args


def _assert_lines_as_natively(seen: list[int], native_seen: list[int], src: str) -> None:
    """Tracers see every line native code shows (what a coverage tool records), in native
    order, until native recursion unwinds: its frames' returns, which a loop has none of,
    add events of ``return`` lines. A ``return (`` above a call on a line of its own, or
    the ``pass`` of an empty ``finally``, is natively seen only then, once per frame: each
    jump shows it before the next iteration instead, as many times in all (what a line
    profiler counts)."""
    text = textwrap.dedent(src).strip().splitlines()
    carried = {i for i, line in enumerate(text) if line.strip() in ("return (", "pass")}
    returns = {i for i, line in enumerate(text) if "return" in line}
    assert set(seen) == set(native_seen), src  # (a coverage tool's view)
    assert ([line for line in seen if line in carried]
            == [line for line in native_seen if line in carried]), src
    seen = [line for line in seen if line not in carried]
    native_seen = [line for line in native_seen if line not in carried]
    assert native_seen[:len(seen)] == seen, src
    assert set(native_seen[len(seen):]) <= returns, src


#: Without the name guard, a jump that only stores is written in place of the call.
NAME_GUARD = pytest.mark.parametrize("name_guard", [True, False], ids=["guarded", "unguarded"])


@NAME_GUARD
@pytest.mark.parametrize("shape", SHAPES)
def test_settrace_sees_the_native_line_sequence(make_pair, shape, name_guard):
    native, optimized, args = _pair(make_pair, shape, name_guard)
    assert _line_events(optimized, args) == _line_events(native, args)


def _monitored_lines(func: Callable[..., Any], args: tuple[Any, ...]) -> list[int]:
    monitoring = sys.monitoring  # type: ignore[attr-defined]
    tool = monitoring.DEBUGGER_ID
    seen: list[int] = []
    first = func.__code__.co_firstlineno

    def on_line(code: Any, line: int) -> None:
        if code.co_name == func.__name__ and not is_driver(code):
            seen.append(line - first)

    monitoring.use_tool_id(tool, "pytailcall-test")
    try:
        monitoring.register_callback(tool, monitoring.events.LINE, on_line)
        monitoring.set_events(tool, monitoring.events.LINE)
        func(*args)
    finally:
        monitoring.set_events(tool, 0)
        monitoring.register_callback(tool, monitoring.events.LINE, None)
        monitoring.free_tool_id(tool)
    return seen


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is new in 3.12")
@NAME_GUARD
@pytest.mark.parametrize("shape", SHAPES)
def test_monitoring_sees_the_native_line_sequence(make_pair, shape, name_guard):
    native, optimized, args = _pair(make_pair, shape, name_guard)
    assert _monitored_lines(optimized, args) == _monitored_lines(native, args)


#: A call on lines of its own: natively each frame's return adds a line event of the
#: ``return`` line as the frames unwind, which a loop has no frames to show (a jump shows
#: a ``return (`` of its own line instead: see ``_assert_lines_as_natively``); so the
#: unguarded loop is held to the guarded one's events, and both to native's.
#: Extra parameters move the end of the jump written in place of the call (without the
#: guard) onto the ``return``'s unit on some version; an unchanged last argument on a line of
#: its own is the unit an interrupt check took the line of.
MULTI_LINE = {
    "return ( on its own line": """
        def walk(n{params}):
            if n == 0:
                return 'done'
            return (
                walk(n - 1{changed}))
        """,
    "escape_try, return ( on its own line": """
        def walk(n{params}):
            try:
                if n == 0:
                    return 'done'
                return (
                    walk(n - 1{changed}))
            except ZeroDivisionError:
                return 'caught'
        """,
    "escape_try, an empty finally": """
        def walk(n{params}):
            try:
                try:
                    if n == 0:
                        return 'done'
                    return walk(n - 1{changed})
                except ZeroDivisionError:
                    return 'caught'
            finally:
                pass
        """,
    "escape_try, unchanged argument on its own line": """
        def walk(n{params}, last):
            try:
                if n == 0:
                    return 'done'
                return walk(
                    n - 1{changed},
                    last)
            except ZeroDivisionError:
                return 'caught'
        """,
}


@pytest.mark.parametrize("extra", range(7))
@pytest.mark.parametrize("shape", MULTI_LINE)
def test_a_call_on_lines_of_its_own_shows_the_native_lines(make, shape, extra):
    params = "".join(f", a{i}" for i in range(extra))
    changed = "".join(f", a{i} + 1" for i in range(extra))
    src = MULTI_LINE[shape].format(params=params, changed=changed)
    args = (3,) + (0,) * (extra + ("last" in src))
    native = make(src)
    events = {}
    for name_guard in (True, False):
        optimized = tail_optimize(make(src), escape_try=True, name_guard=name_guard)
        assert explain(optimized).optimized
        events[name_guard] = [_line_events(optimized, args)]
        if sys.version_info >= (3, 12):
            events[name_guard].append(_monitored_lines(optimized, args))
    assert events[False] == events[True]
    natively = [_line_events(native, args)]
    if sys.version_info >= (3, 12):
        natively.append(_monitored_lines(native, args))
    for seen, native_seen in zip(events[True], natively, strict=True):
        _assert_lines_as_natively(seen, native_seen, src)


#: Unchanged arguments on lines of their own, whose loads the jump written in place of the
#: call (``name_guard=False``) leaves out: natively tracers see their lines before the
#: call's line. Several stores carry them (the first shape: five stores, two lines), or
#: NOPs where the stores are too few or an interrupt check (at the call's line) comes first;
#: a stub (the guard's, or one from the callee's load for a call that ends the code) by a
#: NOP at each of those lines (but the line its jump in place shows: all of that jump on one
#: line, where its EXTENDED_ARG took units of two, as 3.11's settrace counts its last unit's).
ELIDED_ON_THEIR_OWN_LINES = {
    "stores carry the lines": ("""
        def walk(n, a, b, c, d, e, g):
            if n == 0:
                return n, a, b, c, d, e, g
            if n > 0:
                return walk(n - 1, a + 1, b + 1, c + 1, d + 1,
                            e,
                            g)
            return None
        """, (3, 0, 0, 0, 0, 0, 0), {}),
    "NOPs carry the lines": ("""
        def walk(n, x, y):
            if n == 0:
                return x
            if n > 0:
                return walk(n - 1,
                            x,
                            y)
            return None
        """, (3, 0, 0), {}),
    "a call that ends the code": ("""
        def walk(n, x, y):
            if n == 0:
                return x
            return walk(n - 1,
                        x,
                        y)
        """, (3, 0, 0), {}),
    "the callee alone on its line, the call ending the code": ("""
        def walk(n, a):
            if n == 0:
                return a
            return walk(
                n - 1,
                a + 1
            )
        """, (3, 0), {}),
    "a jump to a far stub, its prefix over two lines": (
        "def walk(n, x, y):\n"
        "    try:\n"
        "        if n <= 0:\n"
        "            return (n, x, y)\n"
        "        if n % 2 == 0:\n"
        "            return walk(n - 1,\n"
        "                        x,\n"
        "                        y)\n"
        + "".join(f"        t{i} = n + {i}\n" for i in range(60))
        + "        return walk(n - 1, x, y)\n"
        "    except ZeroDivisionError:\n"
        "        return -1\n", (4, 1, 2), {"escape_try": True}),
    "after an interrupt check": ("""
        def walk(n, a, x, y):
            try:
                if n == 0:
                    return a
                return walk(n - 1, a + 1,
                            x,
                            y)
            except ZeroDivisionError:
                return None
        """, (3, 0, 0, 0), {"escape_try": True}),
}


@NAME_GUARD
@pytest.mark.parametrize("shape", ELIDED_ON_THEIR_OWN_LINES)
def test_unchanged_arguments_on_lines_of_their_own_keep_their_line_events(make, shape,
                                                                          name_guard):
    src, args, options = ELIDED_ON_THEIR_OWN_LINES[shape]
    native = make(src)
    optimized = tail_optimize(make(src), name_guard=name_guard, **options)
    assert explain(optimized).optimized
    seen, natively = [_line_events(optimized, args)], [_line_events(native, args)]
    if sys.version_info >= (3, 12):
        seen.append(_monitored_lines(optimized, args))
        natively.append(_monitored_lines(native, args))
    for events, native_events in zip(seen, natively, strict=True):
        _assert_lines_as_natively(events, native_events, src)
        assert len(events) >= len(native_events) - 3  # (the unwinding of three frames)


def _multi_line_function(rng: random.Random) -> tuple[str, tuple[int, ...], dict[str, Any]]:
    """A function calling itself on several lines: each argument changed or passed on
    unchanged, on the call's line or one of its own, the call maybe in parentheses on a line
    of its own, one to three such calls, maybe in a try body (``escape_try``)."""
    params = ["n", *(f"a{i}" for i in range(rng.randint(1, 4)))]
    in_try = rng.random() < 0.4
    indent = " " * (8 if in_try else 4)
    lines = [f"def walk({', '.join(params)}):", *(["    try:"] if in_try else [])]
    lines += [f"{indent}if n <= 0:", f"{indent}    return ({', '.join(params)},)"]
    calls = rng.randint(1, 3)
    for call in range(calls):
        arguments = ["n - 1", *(p if rng.random() < 0.5 else f"{p} + 1" for p in params[1:])]
        text = "walk(" + ",".join(
            (rng.choice([" ", f"\n{indent}        "]) if i else "") + argument
            for i, argument in enumerate(arguments)) + ")"
        if rng.random() < 0.2:
            text = f"(\n{indent}        {text})"
        if call < calls - 1:
            lines += [f"{indent}if n % {call + 2} == 0:", f"{indent}    return {text}"]
        else:
            lines.append(f"{indent}return {text}")
    if in_try:
        lines += ["    except ZeroDivisionError:", "        return -1"]
    args = (rng.randint(3, 8), *(rng.randint(0, 3) for _ in params[1:]))
    return "\n".join(lines) + "\n", args, {"escape_try": in_try}


@pytest.mark.parametrize("seed", range(40))
def test_generated_multi_line_calls_show_the_native_line_events(make, seed):
    """Tracers see what they see natively (``_assert_lines_as_natively``), with the guard
    or without (the shapes of the review that found the elided arguments' lines missing)."""
    src, args, options = _multi_line_function(random.Random(seed))
    native = make(src)
    natively = [_line_events(native, args)]
    if sys.version_info >= (3, 12):
        natively.append(_monitored_lines(native, args))
    for name_guard in (True, False):
        optimized = tail_optimize(make(src), name_guard=name_guard, **options)
        assert optimized(*args) == native(*args)
        seen = [_line_events(optimized, args)]
        if sys.version_info >= (3, 12):
            seen.append(_monitored_lines(optimized, args))
        for events, native_events in zip(seen, natively, strict=True):
            _assert_lines_as_natively(events, native_events, src)


def test_binding_error_traceback_points_at_the_tail_call(make_pair):
    native, optimized = make_pair("""
        def walk(n, acc=0):
            if n == 0:
                return walk(n, nope=1)
            return walk(n - 1)
        """)
    for func in (native, optimized):
        with pytest.raises(TypeError, match="unexpected keyword argument 'nope'") as info:
            func(3)
        line = info.traceback[-1].lineno + 1  # pytest counts from 0
        assert line == func.__code__.co_firstlineno + 2


@NAME_GUARD
def test_settrace_of_the_direct_call_form(make, name_guard):
    """``fast = tail_optimize(slow)``: the name still holds the original function, the
    same code, and calls to it jump too; tracers see the native lines (a jump back to the
    binding code added a line event per call)."""
    slow = make(SHAPES["positional"][0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        fast = tail_optimize(slow, name_guard=name_guard)
    args = SHAPES["positional"][1]
    assert _line_events(fast, args) == _line_events(slow, args)


#: Every kind of code pytailcall generates as it decorates: binders (an omitted default,
#: ``*``/``**``), bounce entries and drivers (a call to another optimized function, the
#: trampolines).
DECORATED_UNDER_A_TRACER = """
    def walk(n, acc=0, *rest, **kw):
        if n == 0:
            return acc
        if n % 3 == 0:
            return other(n - 1, acc)
        if n % 3 == 1:
            return walk(*(n - 1,), **kw)
        return walk(n - 1, acc + 1)
    def other(n, acc):
        return walk(n, acc)
    """


@pytest.mark.parametrize("strategy", ["loop", "return_tuple", "partial"])
def test_decorating_shows_no_line_of_the_users_file(make, strategy):
    """What pytailcall generates as it decorates runs under a file name of its own: it
    compiled that code under the user's, so a tracer attached as a module decorated its
    functions (a coverage tool, at import) saw line events at that code's own line
    numbers (1, 2, 6, 7, 9...) in the user's file, lines that may never run. The functions
    made keep the user's file, for tracebacks."""
    walk = make(DECORATED_UNDER_A_TRACER)
    filename = walk.__code__.co_filename
    seen: list[tuple[str, str, int]] = []

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == filename:
            seen.append((event, frame.f_code.co_name, frame.f_lineno))
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        made = tail_optimize(walk, strategy=strategy)
        walk.__globals__["other"] = tail_optimize(walk.__globals__["other"], strategy=strategy)
    finally:
        sys.settrace(previous)
    walk.__globals__["walk"] = made
    assert seen == []
    assert made(10) == 0
    with pytest.raises(TypeError) as caught:
        made(5, None)  # (None + 1)
    tb, codes = caught.value.__traceback__, []
    while tb is not None:
        codes.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    assert [code.co_filename for code in codes if code.co_name == "walk"] == [filename] * (
        1 if strategy == "loop" else 2)  # (the trampolines' driver, then the function)


CALL_OUT_BESIDE_A_CONTEXT = """
def f(n):
    if n < 0:
        return (
            g(n)
        )
    return 1 + f(n - 1)

def g(n):
    return n
"""


@pytest.mark.parametrize("g_optimized", [False, True], ids=["plain g", "optimized g"])
def test_a_call_out_beside_a_saved_context_shows_its_return_line(make, g_optimized):
    """In a function whose other call saves contexts, a tail call to another function
    returns through the replay of the saved contexts: the ``return (`` above it shows as
    natively, once, when the call returns (a 3.12 campaign program: it never showed)."""
    native = make(CALL_OUT_BESIDE_A_CONTEXT)
    namespace = native.__globals__
    expected = _line_events(native, (3,))
    namespace["f"] = tail_optimize(native)
    if g_optimized:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TailCallWarning)  # (g calls nothing)
            namespace["g"] = tail_optimize(namespace["g"])
    seen = _line_events(namespace["f"], (3,))
    assert set(seen) == set(expected)
    assert seen.count(2) == expected.count(2) == 1  # the ``return (`` line
    assert namespace["f"](3) == native(3) == 3


OVER_LINES = """
def count(n, tag):
    if n == 0:
        return tag
    return count(
        n - 1,
        tag
    )
"""


def test_a_debugger_writing_an_argument_at_the_call_line_does_not_reach_the_call() -> None:
    """A call over several lines comes back to its first line at the call itself (a line
    event after the arguments are loaded): a debugger stopped there that sets ``tag``
    changes the frame, not the call, which has its value already. The rewrite used to
    elide the load of ``tag`` (passed on unchanged) and so jumped with the new value (found
    by review); a load on another line than the call's is kept now."""
    def run(func: Callable[..., Any]) -> Any:
        armed = False

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            nonlocal armed
            if frame.f_code.co_name != "count":
                return None
            if event == "line":
                line = frame.f_lineno - frame.f_code.co_firstlineno
                if line == 5:  # the line of ``tag``: loaded now
                    armed = True
                elif line == 3 and armed:  # back at ``return count(``: the call
                    armed = False
                    frame.f_locals["tag"] = "changed"
            return tracer

        old = sys.gettrace()
        sys.settrace(tracer)
        try:
            return func(2, "orig")
        finally:
            sys.settrace(old)

    native, optimized = _make_pair(OVER_LINES)
    assert run(native) == run(optimized) == "orig"
    site, = explain(optimized).sites
    assert site.optimized
