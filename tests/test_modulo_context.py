"""Tail recursion modulo context: ``return n * f(n - 1)`` in constant stack, exactly.

Every shape is compared with native recursion at a depth native recursion reaches
(results, side-effect logs, exceptions), then run far deeper than any recursion limit.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import pytest
from conftest import DEEP, VERY_DEEP, _make, _outcome

from pytailcall import TailCallWarning, explain, tail_optimize
from pytailcall._bytecode import facts


def pair(src: str, name: str | None = None, env: dict[str, Any] | None = None,
         **options: Any) -> tuple[Any, Any]:
    """``(native, optimized)`` from one source; the optimized one's name is rebound to it."""
    native = _make(src, name, **(env or {}))
    plain = _make(src, name, **(env or {}))
    optimized = tail_optimize(plain, **options)
    plain.__globals__[plain.__name__] = optimized
    return native, optimized


def saved_sites(func: Any) -> list[str]:
    return [site.via for site in explain(func).sites
            if site.optimized and site.via and "modulo context" in site.via]


SHAPES = {
    "fact": ("""
        def fact(n):
            if n <= 1:
                return 1
            return n * fact(n - 1)
        """, [(0,), (1,), (25,)], (DEEP // 10,)),
    "fact_mod": ("""
        def fact_mod(n, m):
            if n <= 1:
                return 1
            return n * fact_mod(n - 1, m) % m
        """, [(1, 7), (30, 1000003)], (DEEP, 1000003)),
    "length": ("""
        def length(node):
            if node is None:
                return 0
            return 1 + length(node[1])
        """, [(None,), ((1, (2, (3, None))),)], None),
    "build": ("""
        def build(n):
            if n == 0:
                return None
            return (n, build(n - 1))
        """, [(0,), (4,)], None),  # (deep: see test_deep_results_equal_a_written_out_loop)
    "rev": ("""
        def rev(s):
            if not s:
                return ""
            return rev(s[1:]) + s[0]
        """, [("",), ("recursion",)], ("ab" * 2000,)),
    "evens": ("""
        def evens(xs):
            if not xs:
                return []
            return [xs[0]] + evens(xs[2:])
        """, [([],), (list(range(9)),)], (list(range(8000)),)),
    "several_values_and_locals": ("""
        def mix(a, b, c=1):
            label = f"{a}:{b}"
            if a <= 0:
                return [c]
            return (a, label, [c], mix(a - 1, b + 1, c * 2)[0:3], b, c, label)
        """, [(0, 0), (4, 1, 3)], (DEEP // 10, 0)),
    "two_contexts": ("""
        def two(n):
            if n <= 0:
                return 0.5
            if n % 3:
                return n - two(n - 1) / 3
            return two(n - 1) * 1.1 + n
        """, [(0,), (1,), (17,)], (DEEP,)),
    "floats_in_order": ("""
        def total(xs, i=0):
            if i == len(xs):
                return 0.0
            return xs[i] + total(xs, i + 1)
        """, [([0.1] * 10 + [1e16, 1.0, -1e16],)], ([0.1, 1e-9, 3.3] * 30000,)),
    "string_of_result": ("""
        def show(n):
            if n == 0:
                return "0"
            return f"({n!r} {show(n - 1).upper()})"
        """, [(0,), (3,)], (2000,)),
    "dict_of_result": ("""
        def nest(n, key="k"):
            if n == 0:
                return {}
            return {key: nest(n - 1, key=key), "n": n}
        """, [(0,), (3,), (2, "x")], None),
    "call_loaded_after": ("""
        def total_len(xs):
            if not xs:
                return 0
            return total_len(xs[1:]) + len(xs[0])
        """, [([],), (["ab", "c", ""],)], (["abc"] * 5000,)),
    "inside_a_for_loop": ("""
        def firsts(rows):
            for row in rows:
                return [row[0]] + firsts(rows[1:])
            return []
        """, [([],), ([[1, 2], [3], [4, 5]],)], ([[i] for i in range(5000)],)),
    "callee_loaded_before": ("""
        def clamp(n, limit=10**9, pick=min):
            if n == 0:
                return 1
            return max(n, pick(limit, clamp(n - 1) * 3 + n, key=abs)) % 1000003
        """, [(0,), (6,), (5, 40)], (DEEP // 10,)),
    "keyword_call_of_result": ("""
        def tree(n):
            if n == 0:
                return None
            return [dict(value=n, child=tree(n - 1))]
        """, [(0,), (3,)], None),
    "second_of_two_calls": ("""
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
        """, [(0,), (1,), (15,)], None),
    "with_a_tail_call": ("""
        def collatz_len(n, steps=0):
            if n == 1:
                return steps
            if n % 2:
                return 1 + collatz_len(3 * n + 1)
            return collatz_len(n // 2, steps + 1)
        """, [(1,), (27,), (97,)], None),
}


#: 3.14+ may keep a for loop's iterator as a virtual one, which a context cannot save.
LOOPS_KEEP_OBJECTS = facts.current().loop_iterator_is_an_object


#: Under WebAssembly, native recursion past the default limit overflows the host's stack,
#: and so does freeing a nested structure a hundred thousand levels deep.
NATIVE_RUNS_DEEP = sys.platform != "emscripten"
NESTED_DEEP = DEEP if NATIVE_RUNS_DEEP else 3 * sys.getrecursionlimit()


def natively_deep(func: Any, *args: Any) -> Any:
    """``func(*args)`` with the recursion limit raised far enough for native recursion."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 2 * DEEP + 1000))
    try:
        return func(*args)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("name", SHAPES)
def test_shape_matches_native_and_runs_deep(name: str) -> None:
    src, shallow, deep = SHAPES[name]
    if name == "inside_a_for_loop" and not LOOPS_KEEP_OBJECTS:
        with pytest.warns(TailCallWarning, match="for loop"):
            native, optimized = pair(src)
    elif name == "second_of_two_calls":
        with pytest.warns(TailCallWarning, match="calls the function again"):
            native, optimized = pair(src)
        assert saved_sites(optimized)
    else:
        native, optimized = pair(src)
        assert saved_sites(optimized), explain(optimized)
    for args in shallow:
        assert _outcome(optimized, *args) == _outcome(native, *args)
    if deep is not None and saved_sites(optimized):
        result = optimized(*deep)
        if NATIVE_RUNS_DEEP:
            assert result == natively_deep(native, *deep)


def test_pending_levels_left_by_an_exception_are_freed_innermost_first_at_any_depth() -> None:
    """Natively each frame, innermost first, releases its values as the exception leaves it.
    The records must too, however many are pending: nested records (a tuple holding the one
    before) would not, as CPython's "trashcan" defers freeing past a few dozen nested
    levels and so releases them out of order (tried, measured, and dropped)."""
    src = """
        def pairs(n, stop):
            if n == stop:
                raise ValueError(n)
            return (Logged(n), pairs(n + 1, stop))
        """
    freed: list[int] = []

    class Logged:
        def __init__(self, n: int) -> None:
            self.n = n

        def __del__(self) -> None:
            freed.append(self.n)

    native, optimized = pair(src, env={"Logged": Logged})
    assert saved_sites(optimized)
    for stop in (5, 60, 5_000, 100_000):
        freed.clear()
        with pytest.raises(ValueError):
            optimized(0, stop)
        assert freed == list(range(stop - 1, -1, -1))
    freed.clear()
    with pytest.raises(ValueError):
        native(0, 60)
    assert freed == list(range(59, -1, -1))


def test_a_million_levels_of_length() -> None:
    _, length = pair(SHAPES["length"][0])
    depth = VERY_DEEP if NATIVE_RUNS_DEEP else NESTED_DEEP
    node = None
    for i in range(depth):
        node = (i, node)
    assert length(node) == depth


def test_deep_results_equal_a_written_out_loop() -> None:
    _, fact_mod = pair(SHAPES["fact_mod"][0])
    expected = 1
    for n in range(2, DEEP + 1):  # n * f(n - 1) % m, innermost first
        expected = n * expected % 1000003
    assert fact_mod(DEEP, 1000003) == expected
    _, build = pair(SHAPES["build"][0])
    built = build(NESTED_DEEP)
    for n in range(NESTED_DEEP, 0, -1):
        assert built[0] == n
        built = built[1]
    assert built is None


SIDE_EFFECTS = """
def walk(n, log):
    log.append(("enter", n))
    if n == 0:
        log.append("bottom")
        return 0
    return (note(log, "before", n) + walk(n - 1, log) * note(log, "after", n)) % 1000003

def note(log, what, n):
    log.append((what, n))
    return n
"""


def test_side_effects_happen_in_native_order() -> None:
    native, optimized = pair(SIDE_EFFECTS)
    assert saved_sites(optimized)
    native_log: list[Any] = []
    optimized_log: list[Any] = []
    assert optimized(6, optimized_log) == native(6, native_log)
    assert optimized_log == native_log
    optimized_log.clear()
    native_log.clear()
    result = optimized(DEEP, optimized_log)
    assert len(optimized_log) == 3 * DEEP + 2
    if NATIVE_RUNS_DEEP:
        assert result == natively_deep(native, DEEP, native_log)
        assert optimized_log == native_log


EXCEPTIONS = """
def divide(n, log):
    log.append(n)
    if n == 0:
        return 1
    return 12 // (walk_value(n) - 3) + divide(n - 1, log) // (n - 2)

def walk_value(n):
    return n
"""


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_an_exception_in_a_context_is_raised_where_native_raises_it(n: int) -> None:
    native, optimized = pair(EXCEPTIONS)
    native_log: list[int] = []
    optimized_log: list[int] = []
    assert _outcome(optimized, n, optimized_log) == _outcome(native, n, native_log)
    assert optimized_log == native_log


def test_the_error_points_at_the_context_line() -> None:
    _, optimized = pair("""
        def add(xs):
            if not xs:
                return None
            return xs[0] + add(xs[1:])
        """)
    with pytest.raises(TypeError) as info:
        optimized([1, 2, 3])
    assert info.traceback[-1].lineno + 1 == 5
    assert "unsupported operand" in str(info.value)
    # The frame's saved work was dropped with the exception: the next call starts clean.
    with pytest.raises(TypeError):
        optimized([1])


def test_globals_and_free_variables_are_read_after_the_inner_calls_return() -> None:
    native, optimized = pair("""
        SCALE = 1
        def scaled(n):
            global SCALE
            if n == 0:
                SCALE = 10  # the innermost call changes it: every level sees 10
                return 0
            return n * SCALE + scaled(n - 1) + SCALE
        """)
    assert optimized(5) == native(5) == (1 + 2 + 3 + 4 + 5) * 1 + 5 * 10
    made = _make("""
        def outer():
            step = [1]
            def inner(n):
                if n == 0:
                    step[0] = 7
                    return 0
                return inner(n - 1) + step[0]
            return inner
        """)
    native_inner = made()
    inner = made()
    optimized_inner = tail_optimize(inner)
    assert optimized_inner(4) == native_inner(4) == 28


def test_a_rebound_name_is_called_normally_and_the_saved_work_still_applies() -> None:
    native, optimized = pair("""
        def fact(n):
            if n <= 1:
                return 1
            if n == 3:
                globals()["fact"] = other
            return n * fact(n - 1)

        def other(n):
            return 1000
        """)
    assert optimized(6) == native(6) == 6 * 5 * 4 * 3 * 1000


@pytest.mark.skipif(not LOOPS_KEEP_OBJECTS, reason="3.14+ refuse contexts in for loops")
def test_loop_iterators_live_until_their_context_is_applied() -> None:
    src = """
        def levels(n, log):
            for x in tracked(n, log):
                return [x] + levels(n - 1, log) if n else [x]
            return []

        def tracked(n, log):
            try:
                yield n
            finally:
                log.append(("closed", n))
        """
    native, optimized = pair(src)
    native_log: list[Any] = []
    optimized_log: list[Any] = []
    assert optimized(4, optimized_log) == native(4, native_log)
    assert optimized_log == native_log


def test_defaults_keywords_and_star_arguments_bind_as_natively() -> None:
    native, optimized = pair("""
        def gather(n, *rest, step=1, **named):
            if n <= 0:
                return (rest, named)
            return (n, step) + gather(n - step, n, *rest, step=step + 1, **{f"k{n}": n})
        """)
    assert saved_sites(optimized)
    assert optimized(9) == native(9)
    assert _outcome(optimized, 3, step="x") == _outcome(native, 3, step="x")


def test_turned_off_leaves_the_call_native() -> None:
    src = SHAPES["fact"][0]
    with pytest.warns(TailCallWarning, match="modulo_context=False"):
        _, optimized = pair(src, modulo_context=False)
    assert not saved_sites(optimized)
    with pytest.raises(RecursionError):
        optimized(sys.getrecursionlimit() + 10)


@pytest.mark.parametrize("strategy", ["return_tuple", "partial"])
def test_trampolines_say_they_leave_such_calls_native(strategy: str) -> None:
    with pytest.warns(TailCallWarning, match="only the loop strategy"):
        _, optimized = pair(SHAPES["fact"][0], strategy=strategy)
    assert optimized(10) == 3628800


def test_explain_shows_what_is_saved() -> None:
    _, optimized = pair(SHAPES["fact_mod"][0])
    (site,) = explain(optimized).sites
    assert site.optimized and site.via == "jump, saving `n * _ % m` for the return (modulo context)"
    assert str(site).endswith("(optimized)")


REFUSED = {
    "branch_after": ("def f(n):\n    return n and (f(n - 1) or 1)\n", "not returned"),
    "conditional_after": ("def f(n):\n    return n and (1 if f(n - 1) else 2) + 1\n",
                          "not returned"),
    "stored": ("def f(n):\n    return n and (x := f(n - 1)) + x\n", "assigns"),
    "method_before": ("def f(n):\n    return n and ''.join([str(n), str(f(n - 1))])\n",
                      "loaded before it"),
    "star_before": ("def f(n):\n    return n and max(*[n], f(n - 1))\n", "loaded before it"),
    "cell": ("def f(n):\n    g = lambda: n\n    return n and f(n - 1) + n\n", "nested function"),
    "in_try": (("def f(n):\n    try:\n        return n and 1 + f(n - 1)\n"
                "    except ValueError:\n        return 0\n"), "finally or with"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_what_cannot_be_replayed_exactly_is_refused_with_a_reason(name: str) -> None:
    src, reason = REFUSED[name]
    native = _make(src)
    with pytest.warns(TailCallWarning, match=reason):
        optimized = tail_optimize(_make(src))
    assert not saved_sites(optimized)
    assert optimized(5) == native(5)


def test_tail_calls_from_a_loop_and_saved_contexts_do_not_mix() -> None:
    src = """
        def walk(rows):
            for row in rows:
                if row:
                    return walk(rows[1:])
            return 1 + walk(rows[1:]) if rows else 0
        """
    with pytest.warns(TailCallWarning, match="for loop"):
        native, optimized = pair(src)
    assert optimized([[1], [], [2], []]) == native([[1], [], [2], []])


@pytest.mark.parametrize("returns", [1, 200])
def test_returns_far_from_the_added_code_still_replay_the_contexts(returns: int) -> None:
    """Every return jumps to code added after the function's own; ``if n == i: return i``
    far from it (3.12+: one unit after a conditional jump) gets there all the same."""
    early = "\n".join(f"    if n == {i}:\n        return {i}" for i in range(-returns, 0))
    filler = "\n".join(f"    n = n + {i} - {i}" for i in range(60))
    src = (f"def long(n):\n{early}\n{filler}\n    if n <= 0:\n        return 0\n"
           "    return 1 + long(n - 1)\n")
    native, optimized = pair(src)
    assert saved_sites(optimized)
    for n in (-1, -returns, 0, 1, 50):
        assert optimized(n) == native(n)
    assert optimized(DEEP) == DEEP


@pytest.mark.parametrize("call", ["d(n - 1, x, *())", "d(n - 1, **{'x': x})",
                                  "d(n - 1, *[(y := x)])"])
def test_star_arguments_with_a_context_that_reads_a_parameter(call: str) -> None:
    """Such calls bind through a generated binder; the parameter the context reads is
    taken before, under the callee and its NULL (3.11, 3.12)."""
    native, optimized = pair(f"def d(n, x):\n    if n <= 0:\n        return 0\n"
                             f"    return {call} - x\n")
    assert saved_sites(optimized)
    assert optimized(3, 5) == native(3, 5) == -15
    assert optimized(DEEP, 1) == -DEEP


def test_many_parameters_with_a_context_that_reads_one() -> None:
    names = [f"a{i}" for i in range(40)]
    src = (f"def g({', '.join(names)}):\n    if a0 <= 0:\n        return 0\n"
           f"    return g(a0 - 1, {', '.join(names[1:])}) - a39\n")
    native, optimized = pair(src)
    assert saved_sites(optimized)
    assert optimized(3, *range(1, 40)) == native(3, *range(1, 40)) == -3 * 39


def test_a_call_whose_result_is_dropped_is_not_a_context() -> None:
    src = "def semi(n, log):\n    log.append(n); semi(n - 1, log) if n else 0; return len(log)\n"
    with pytest.warns(TailCallWarning, match="not a tail call"):
        _, optimized = pair(src)
    assert not saved_sites(optimized)


def test_explain_shows_no_text_where_the_source_holds_more_than_the_context() -> None:
    _, optimized = pair("""
        def join(n):
            if n == 0:
                return 1
            return (len(str(n)) if n % 2 else join(n - 1) + 1) * 2
        """)
    (site,) = explain(optimized).sites
    assert site.via == "jump, saving the work after it for the return (modulo context)"


MUTUAL = """
def f(n):
    if n <= 0:
        return 0
    if n % 2 or n > 60:
        return g(n - 1)
    return 1 + f(n - 1)

def g(n):
    if n <= 0:
        return 100
    return f(n - 1)
"""


def test_calls_out_while_contexts_are_saved_return_values_not_bounces() -> None:
    """g bounces into f's implementation; a call out from there while contexts are saved
    runs g to its result (the contexts apply to it), as natively; with none saved, it
    bounces, and the mutual recursion runs in constant stack."""
    native: dict[str, Any] = {}
    exec(MUTUAL, native)
    optimized: dict[str, Any] = {}
    exec(MUTUAL, optimized)
    for name in ("f", "g"):
        optimized[name] = tail_optimize(optimized[name])
    assert saved_sites(optimized["f"])
    for n in range(0, 64):
        assert optimized["f"](n) == native["f"](n)
        assert optimized["g"](n) == native["g"](n)
    result = optimized["g"](DEEP)
    if NATIVE_RUNS_DEEP:
        assert result == natively_deep(native["g"], DEEP)


def test_tracers_see_the_same_lines_and_the_same_final_return() -> None:
    """Coverage tools record the lines a function runs: the same set as natively. (The
    saved levels have no call or return events of their own; see the README.)"""
    native, optimized = pair(SHAPES["fact_mod"][0])

    def trace(func: Any) -> tuple[set[int], list[Any]]:
        lines: set[int] = set()
        returns: list[Any] = []

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            if frame.f_code.co_name == "fact_mod":
                if event == "line":
                    lines.add(frame.f_lineno - frame.f_code.co_firstlineno)
                elif event == "return":
                    returns.append(arg)
            return tracer

        sys.settrace(tracer)
        try:
            func(6, 1000003)
        finally:
            sys.settrace(None)
        return lines, returns

    native_lines, native_returns = trace(native)
    optimized_lines, optimized_returns = trace(optimized)
    assert optimized_lines == native_lines
    assert optimized_returns == native_returns[-1:] == [720]


def _traced(func: Any, *args: Any) -> list[str]:
    """``sys.settrace``'s events in ``func``'s frames, lines counted from its ``def``."""
    events: list[str] = []
    first = func.__code__.co_firstlineno

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_name == func.__name__:
            events.append(f"{event} {frame.f_lineno - first}")
        return tracer

    sys.settrace(tracer)
    try:
        func(*args)
    finally:
        sys.settrace(None)
    return events


def test_each_replayed_level_shows_its_return_line_once() -> None:
    """As the README says for ``fact(3)``: one line event of the ``return`` per replayed
    level, as many as the frames that natively return through it (there was one more:
    the final return started that line again after a test on no line). Natively the
    return continues its line without a new event."""
    src = """
        def fact(n):
            if n <= 1:
                return 1
            return n * fact(n - 1)
        """
    native, optimized = pair(src)
    assert " ".join(_traced(native, 3)) == (
        "call 0 line 1 line 3 call 0 line 1 line 3 call 0 line 1 line 2 return 2 return 3 "
        "return 3")
    assert " ".join(_traced(optimized, 3)) == (
        "call 0 line 1 line 3 line 1 line 3 line 1 line 2 line 3 line 3 return 3")


def test_a_return_on_a_line_of_its_own_shows_as_natively_at_each_replay() -> None:
    """``return (`` above a call on a line of its own and its context below: natively
    each frame shows the context's lines and then the ``return (`` as it returns; the
    replays show the very same line events (found by review: the ``return (`` line never
    showed, so a coverage tool reported it never run)."""
    src = """
        def walk(n):
            if n <= 0:
                return n
            return (
                walk(n - 1)
                + 1
            )
        """
    native, optimized = pair(src)
    lines = [[event for event in _traced(func, 4) if event.startswith("line")]
             for func in (native, optimized)]
    assert lines[1] == lines[0]
    assert lines[0].count("line 3") == 4


def test_a_call_in_the_arguments_of_a_tail_call_leaves_the_tail_call_a_jump() -> None:
    src = """
        def f(n, a):
            if n <= 0:
                return a
            return f(n - 1, f(min(n - 1, 1), 0) + a)
        """
    with pytest.warns(TailCallWarning, match="calls the function again"):
        native, optimized = pair(src)
    assert optimized(50, 1) == native(50, 1)
    assert optimized(DEEP, 1) == 1


MUTUAL_THROUGH_AN_ARGUMENT = """
def ping(n):
    if n <= 0:
        return "done"
    return pong(n - 1, ping(min(n - 1, 1)))

def pong(n, seen):
    if n <= 0:
        return seen
    return ping(n - 1)
"""


def test_a_tail_call_of_another_function_still_bounces_when_its_argument_could_be_saved() -> None:
    namespace: dict[str, Any] = {}
    exec(MUTUAL_THROUGH_AN_ARGUMENT, namespace)
    with pytest.warns(TailCallWarning, match="tail call of another function"):
        namespace["ping"] = tail_optimize(namespace["ping"])
    namespace["pong"] = tail_optimize(namespace["pong"])
    assert namespace["ping"](DEEP) == "done"


def test_the_traceback_note_counts_the_saved_levels_still_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With PYTAILCALL_TRACEBACK_NOTE, an exception raised while contexts are replayed
    counts the levels that natively would still be frames: not those already returned."""
    monkeypatch.setenv("PYTAILCALL_TRACEBACK_NOTE", "1")
    native, optimized = pair("""
        def k(n):
            if n <= 0:
                return 1
            return k(n - 1) + 1 // (n - 25)
        """)
    with pytest.raises(ZeroDivisionError) as raised:
        optimized(50)
    assert raised.value.__notes__ == [
        "pytailcall: k(), tail calls elided (their frames are not shown): 25"]
    with pytest.raises(ZeroDivisionError) as natively:
        native(50)
    assert len(natively.traceback) == 1 + 26  # the test's frame, then k's 26 frames


def test_copies_of_one_refused_call_warn_once() -> None:
    src = ("def f(n):\n    return g(n - 1, f(n // 2 if n > 10 else 0))\n\n"
           "def g(a, b):\n    return a\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tail_optimize(_make(src))
    messages = [str(w.message) for w in caught if issubclass(w.category, TailCallWarning)]
    assert len(messages) == len(set(messages)) == 1


def test_a_far_return_of_a_call_result_moves_the_whole_call_sequence() -> None:
    """A return too far from the added code takes the instructions before it along; when
    they end a call, the whole call sequence goes (3.11's specialised ``PRECALL`` makes
    the call itself and skips the ``CALL`` it expects right after it)."""
    filler = "\n".join(f"    n = n + {i} - {i}" for i in range(60))
    src = (f"def f(n, **kw):\n    if n <= 0:\n        return kw.get('z', n)\n{filler}\n"
           "    return 1 + f(n - 1, **kw)\n")
    native, optimized = pair(src)
    assert saved_sites(optimized)
    for _ in range(50):  # long enough for the interpreter to specialise the calls
        assert optimized(3, z=7) == native(3, z=7) == 10
        assert optimized(0) == native(0) == 0
    assert optimized(DEEP, z=1) == DEEP + 1


def test_a_far_return_right_after_a_loop_is_not_moved_into_a_stub() -> None:
    """An exhausted ``FOR_ITER`` lands past its ``END_FOR`` (3.12; 3.13 also past the
    ``POP_TOP`` after it): a return there cannot take those along to its stub, or the loop
    would land in the middle of the jump put in their place (a crash, found by the fuzzer).
    Here no instruction can move, so the contexts are left out, with a warning."""
    filler = "\n".join(f"    n = n + {i} - {i}" for i in range(60))
    src = ("def f(n, xs):\n    if n <= 0:\n        try:\n            return n\n"
           "        finally:\n            for x in xs:\n                pass\n"
           f"{filler}\n    return 1 + f(n - 1, xs)\n")
    with pytest.warns(TailCallWarning, match="too far"):
        native, optimized = pair(src)
    for _ in range(50):  # long enough for the interpreter to specialise the loop
        assert optimized(3, [1, 2]) == native(3, [1, 2]) == 3
        assert optimized(0, range(3)) == native(0, range(3)) == 0


POKED = """
import sys

def poke(name, value):
    sys._getframe(1).f_locals[name] = value

def fact_mod(n, m):
    if n <= 1:
        poke("m", 1000)
        return 1
    return n * fact_mod(n - 1, m) % m
"""


def test_a_parameter_passed_on_unchanged_is_each_levels_own() -> None:
    """``m`` in ``n * fact_mod(n - 1, m) % m``: natively each level has its own. From 3.13
    code the function calls can write a caller's locals (``frame.f_locals``), and here the
    base case's helper sets its own level's ``m``: the outer levels still compute ``% 7``
    (a review found every level reading the shared ``m``, 120 for 1). Before 3.13 the
    helper's write does not reach the frame, and both give 1 too."""
    native, optimized = pair(POKED, "fact_mod")
    assert native(5, 7) == optimized(5, 7) == 1
    assert saved_sites(optimized)
