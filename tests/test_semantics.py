"""Run-time semantics: an optimized function behaves exactly like the undecorated ("native")
function on every input native recursion can handle, and keeps working far past the
recursion limit without growing the stack.

Every function under test is built twice from the same source by the ``make_pair``
fixture (see conftest.py): ``native`` and ``optimized`` live in separate namespaces, and in
the optimized one the function's name is bound to the ``tail_optimize`` result.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
import traceback
import warnings

import pytest
from conftest import is_driver

from pytailcall import TailCallWarning, explain
from pytailcall._bytecode import facts

COUNT = """
def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)
"""


def _all_sites_optimized(func) -> bool:
    sites = explain(func).sites
    return bool(sites) and all(site.optimized for site in sites)


# --- 1. results, exceptions, side effects, stack depth -----------------------------------


def test_count_to_one_million(make_pair, very_deep):
    _, count = make_pair(COUNT)
    assert count(very_deep) == very_deep


@pytest.mark.parametrize("n", [0, 1, 2, 57, 300])
def test_result_matches_native(make_pair, n):
    native, count = make_pair(COUNT)
    assert count(n) == native(n) == n


STEP_WITH_LOG = """
def step(n, log):
    log.append(n)
    if n == 3:
        raise ValueError(f"refusing {n} after {len(log)} steps")
    if n == 0:
        return "done"
    return step(n - 1, log)
"""


@pytest.mark.parametrize("start", [0, 2, 3, 7])
def test_result_exception_and_side_effects_match_native(make_pair, outcome, start):
    native, step = make_pair(STEP_WITH_LOG)
    native_log, log = [], []
    assert outcome(step, start, log) == outcome(native, start, native_log)
    assert log == native_log


def test_exception_raised_deep_in_the_loop_propagates(make_pair, deep):
    _, dive = make_pair(
        """
        def dive(n):
            if n == 0:
                raise LookupError("bottom reached")
            return dive(n - 1)
        """
    )
    with pytest.raises(LookupError, match=r"^bottom reached$"):
        dive(deep)


def test_function_is_reusable_after_an_exception_escaped_the_loop(make_pair, deep):
    _, dive = make_pair(
        """
        def dive(n, fail):
            if n == 0:
                if fail:
                    raise LookupError("bottom reached")
                return "bottom"
            return dive(n - 1, fail)
        """
    )
    with pytest.raises(LookupError):
        dive(deep, True)
    assert dive(deep, False) == "bottom"


def test_stack_depth_is_constant_across_iterations(make_pair, frame_depth, deep):
    src = """
    def probe(n, depths):
        depths.append(frame_depth())
        if n == 0:
            return depths
        return probe(n - 1, depths)
    """
    native, probe = make_pair(src, env={"frame_depth": frame_depth})
    # The probe sees the native stack grow by one frame per call ...
    native_depths = native(5, [])
    assert native_depths == list(range(native_depths[0], native_depths[0] + 6))
    # ... and the optimized stack not at all.
    depths = probe(deep, [])
    assert len(depths) == deep + 1
    assert set(depths) == {depths[0]}


def test_inspect_stack_length_is_constant_across_iterations(make_pair):
    import inspect

    _, probe = make_pair(
        """
        def probe(n, sizes):
            sizes.append(len(inspect.stack(0)))
            if n == 0:
                return sizes
            return probe(n - 1, sizes)
        """,
        env={"inspect": inspect},
    )
    sizes = probe(50, [])
    assert len(sizes) == 51
    assert set(sizes) == {sizes[0]}


def test_non_tail_self_calls_still_work_alongside_tail_calls(make_pair):
    src = """
    def ackermann(m, n):
        if m == 0:
            return n + 1
        if n == 0:
            return ackermann(m - 1, 1)
        return ackermann(m - 1, ackermann(m, n - 1))
    """
    with pytest.warns(TailCallWarning, match="ackermann"):
        native, ackermann = make_pair(src)
    for m, n in [(0, 0), (1, 5), (2, 3), (3, 3)]:
        assert ackermann(m, n) == native(m, n)


# --- 2. argument passing and binding ------------------------------------------------------


def test_positional_and_keyword_tail_calls(make_pair, deep):
    native, f = make_pair(
        """
        def f(n, acc):
            if n == 0:
                return acc
            if n % 2:
                return f(n - 1, acc=acc + 1)
            return f(acc=acc + 2, n=n - 1)
        """
    )
    assert f(41, 0) == native(41, 0)
    assert f(deep, 0) == deep // 2 * 3


def test_omitted_default_takes_the_default_again(make_pair):
    native, reset = make_pair(
        """
        def reset(n, seen, d=10):
            seen.append(d)
            if n == 0:
                return seen
            return reset(n - 1, seen)
        """
    )
    assert reset(3, [], d=99) == native(3, [], d=99) == [99, 10, 10, 10]


def test_omitted_mutable_default_is_the_shared_default_object(make_pair):
    native, grow = make_pair(
        """
        def grow(n, items=[]):
            items.append(n)
            if n == 0:
                return items
            return grow(n - 1)
        """
    )
    result = grow(3, [])
    assert result == native(3, []) == [2, 1, 0]
    assert result is grow.__defaults__[0]


def test_keyword_only_arguments_and_their_defaults(make_pair, deep):
    native, kwonly = make_pair(
        """
        def kwonly(n, *, seen, step=1, total=0):
            seen.append(step)
            if n <= 0:
                return total
            return kwonly(n - step, total=total + n, seen=seen)
        """
    )
    native_seen, seen = [], []
    assert kwonly(10, seen=seen, step=3) == native(10, seen=native_seen, step=3)
    assert seen == native_seen == [3] + [1] * 8  # n = 10, then 7, 6, ..., 0
    assert kwonly(deep, seen=[]) == deep * (deep + 1) // 2


def test_positional_only_parameters(make_pair, deep):
    native, posonly = make_pair(
        """
        def posonly(n, acc=0, /, step=1):
            if n <= 0:
                return acc
            return posonly(n - step, acc + 1, step=step)
        """
    )
    assert posonly(20, 0, step=3) == native(20, 0, step=3)
    assert posonly(deep) == deep


def test_star_args_parameter_and_call_site_unpacking(make_pair):
    native, total = make_pair(
        """
        def total(acc, *xs):
            if not xs:
                return acc
            return total(acc + xs[0], *xs[1:])
        """
    )
    assert total(0, *range(60)) == native(0, *range(60)) == sum(range(60))


def test_star_args_tail_call_past_recursion_limit(make_pair, deep):
    native, rotate = make_pair(
        """
        def rotate(n, *xs):
            if n == 0:
                return xs
            return rotate(n - 1, *xs[1:], xs[0])
        """
    )
    assert rotate(4, "a", "b", "c") == native(4, "a", "b", "c") == ("b", "c", "a")
    shift = deep % 3
    assert rotate(deep, "a", "b", "c") == ("a", "b", "c")[shift:] + ("a", "b", "c")[:shift]


def test_double_star_kwargs_parameter_and_call_site_unpacking(make_pair, deep):
    native, gather = make_pair(
        """
        def gather(n, **kw):
            if n == 0:
                return kw
            kw[f"k{n % 5}"] = n
            return gather(n - 1, **kw)
        """
    )
    assert gather(12) == native(12)
    assert gather(deep) == {"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k0": 5}


def test_mixed_positional_star_keyword_and_double_star_call(make_pair, deep):
    native, combo = make_pair(
        """
        def combo(n, a, *rest, k=0, **more):
            if n == 0:
                return a, rest, k, more
            more = {**more, f"m{n % 3}": n}
            return combo(n - 1, a + 1, *rest, k=k + 2, **more)
        """
    )
    args = (7, 0, "x", "y")
    assert combo(*args, k=1, extra=True) == native(*args, k=1, extra=True)
    assert combo(deep, 0, "x", k=0) == (deep, ("x",), 2 * deep, {"m0": 3, "m1": 1, "m2": 2})


BAD_CALL = """
def bad(n, a, /, b=2, *, c):
    if n > 0:
        return bad(n - 1, a, c=c)
    return {call}
"""

BAD_CALLS = {
    "too_many_positional": "bad(0, 1, 2, 3, c=1)",
    "unknown_keyword": "bad(0, 1, c=1, zz=1)",
    "missing_positional": "bad(0, c=1)",
    "missing_keyword_only": "bad(0, 1)",
    "duplicate_value": "bad(0, 1, 2, b=3, c=1)",
    "positional_only_by_keyword": "bad(0, a=1, c=1)",
    "duplicate_from_double_star": 'bad(0, 1, c=1, **{"c": 2})',
    "non_string_keyword": "bad(0, 1, c=1, **{1: 2})",
    "star_of_non_iterable": "bad(0, *1, c=1)",
    "double_star_of_non_mapping": "bad(0, 1, **[1])",
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_tail_call_raises_same_type_error_as_native(make_pair, outcome, call):
    native, bad = make_pair(BAD_CALL.format(call=call))
    expected = outcome(native, 3, 1, c=1)
    assert expected[:2] == ("raise", TypeError)
    assert outcome(bad, 3, 1, c=1) == expected


@pytest.mark.parametrize("call", [BAD_CALLS["unknown_keyword"], BAD_CALLS["too_many_positional"]])
def test_bad_tail_call_after_many_iterations_raises_type_error(make_pair, outcome, call, deep):
    native, bad = make_pair(BAD_CALL.format(call=call))
    assert outcome(bad, deep, 1, c=1) == outcome(native, 3, 1, c=1)


def test_arguments_are_evaluated_in_source_order(make_pair):
    src = """
    def order(n, a, b, log):
        if n == 0:
            return a, b
        return order(
            note(n - 1, "n", log),
            *note([b], "star", log),
            b=note(a, "b", log),
            **note({"log": log}, "double_star", log),
        )

    def note(value, tag, log):
        log.append(tag)
        return value
    """
    native, order = make_pair(src)
    native_log, log = [], []
    assert order(3, "A", "B", log) == native(3, "A", "B", native_log) == ("B", "A")
    assert log == native_log == ["n", "star", "b", "double_star"] * 3


def test_arguments_see_parameters_before_any_is_overwritten(make_pair, deep):
    native, mix = make_pair(
        """
        def mix(n, x, y):
            if n == 0:
                return x, y
            return mix(n - 1, (x + y) % 1000003, (x * 2 + n) % 1000003)
        """
    )
    assert mix(50, 1, 2) == native(50, 1, 2)
    x, y = 1, 2
    for n in range(deep, 0, -1):
        x, y = (x + y) % 1000003, (x * 2 + n) % 1000003
    assert mix(deep, 1, 2) == (x, y)


def test_keyword_swap(make_pair, deep):
    native, kswap = make_pair(
        """
        def kswap(n, a, b):
            if n == 0:
                return a, b
            return kswap(n - 1, b=a, a=b)
        """
    )
    assert kswap(3, "a", "b") == native(3, "a", "b") == ("b", "a")
    assert kswap(deep + 1, "a", "b") == ("b", "a")


DEFAULTS_CHANGED_IN_LOOP = """
def dflt(n, seen, d=1, *, k="k"):
    seen.append((d, k))
    if n == 2:
        dflt.__defaults__ = (99,)
        dflt.__kwdefaults__ = {"k": "changed"}
    if n == 0:
        return seen
    return dflt(n - 1, seen)
"""


def test_defaults_changed_after_decoration_are_honoured(make_pair):
    native, dflt = make_pair(DEFAULTS_CHANGED_IN_LOOP)
    for func in (native, dflt):
        func.__defaults__ = (7,)
        func.__kwdefaults__ = {"k": "set"}
    assert dflt(1, []) == native(1, []) == [(7, "set"), (7, "set")]


def test_defaults_changed_during_the_loop_are_honoured(make_pair):
    native, dflt = make_pair(DEFAULTS_CHANGED_IN_LOOP)
    expected = [(1, "k"), (1, "k"), (1, "k"), (99, "changed"), (99, "changed")]
    assert dflt(4, []) == native(4, []) == expected


# --- 3. the recursive name is looked up when the call runs --------------------------------

HOP = """
def hop(n):
    if n == 0:
        return ("hop", n)
    return hop(n - 1)
"""


def test_tail_call_follows_global_rebound_after_decoration(make_pair):
    native, hop = make_pair(HOP)

    def other(n):
        return ("other", n)

    native.__globals__["hop"] = other
    hop.__globals__["hop"] = other
    assert hop(5) == native(5) == ("other", 4)


def test_tail_call_to_deleted_global_raises_name_error(make_pair, outcome):
    native, hop = make_pair(HOP)
    del native.__globals__["hop"]
    del hop.__globals__["hop"]
    expected = outcome(native, 5)
    assert expected[:2] == ("raise", NameError)
    assert outcome(hop, 5) == expected


REBIND_DURING_LOOP = """
def hop(n, at):
    if n == at:
        rebind()
    if n == 0:
        return ("hop", n)
    return hop(n - 1, at)

def other(n, at):
    return ("other", n)

def rebind():
    global hop
    hop = other
"""


def test_tail_call_follows_global_rebound_during_the_loop(make_pair):
    native, hop = make_pair(REBIND_DURING_LOOP)
    assert hop(10, 4) == native(10, 4) == ("other", 3)


def test_global_rebound_after_many_iterations_is_seen(make_pair, deep):
    _, hop = make_pair(REBIND_DURING_LOOP)
    assert hop(deep, 5) == ("other", 4)


STACKED = """
calls = []

def counting(fn):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return fn(*args, **kwargs)
    return wrapper

@counting
@tail_optimize
def walk(n):
    if n == 0:
        return "done"
    return walk(n - 1)
"""


def test_outer_decorator_sees_every_recursive_call(make):
    walk = make(STACKED, "walk")
    native = make(STACKED.replace("@tail_optimize\n", ""), "walk")
    assert walk(10) == native(10) == "done"
    assert walk.__globals__["calls"] == native.__globals__["calls"]
    assert walk.__globals__["calls"] == [(n,) for n in range(10, -1, -1)]


# --- 4. each iteration starts like a fresh call --------------------------------------------


def test_lambdas_capture_each_iterations_parameter(make_pair, deep):
    native, collect = make_pair(
        """
        def collect(n, fns):
            if n == 0:
                return fns
            fns.append(lambda: n)
            return collect(n - 1, fns)
        """
    )
    assert [f() for f in collect(5, [])] == [f() for f in native(5, [])] == [5, 4, 3, 2, 1]
    fns = collect(deep, [])
    assert [f() for f in fns] == list(range(deep, 0, -1))


def test_closures_capture_each_iterations_locals(make_pair):
    native, collect = make_pair(
        """
        def collect(n, fns):
            if n == 0:
                return fns
            m = n * 10
            fns.append(lambda: m)
            return collect(n - 1, fns)
        """
    )
    assert [f() for f in collect(4, [])] == [f() for f in native(4, [])] == [40, 30, 20, 10]


def test_captured_parameter_cell_is_fresh_per_iteration(make_pair):
    src = """
    def counters(n, fns):
        if n == 0:
            return fns
        def bump():
            nonlocal n
            n += 100
            return n
        fns.append(bump)
        return counters(n - 1, fns)
    """
    native, counters = make_pair(src)
    fns, native_fns = counters(3, []), native(3, [])
    first = [f() for f in fns]
    second = [f() for f in fns]
    assert first == [f() for f in native_fns] == [103, 102, 101]
    assert second == [f() for f in native_fns] == [203, 202, 201]


LATE_LOCAL = """
def late(n):
    if n == 2:
        x = "set on the first call only"
    if n == 0:
        return x
    return late(n - 1)
"""

LATE_CELL = """
def late(n):
    if n == 2:
        x = "set on the first call only"
    get = lambda: x
    if n == 0:
        return x
    return late(n - 1)
"""

LATE_FREE = """
def late(n):
    if n == 2:
        x = "set on the first call only"
    get = lambda: x
    if n == 0:
        return get()
    return late(n - 1)
"""


@pytest.mark.parametrize(
    "src", [LATE_LOCAL, LATE_CELL, LATE_FREE], ids=["local", "cell", "free_in_closure"]
)
def test_local_assigned_in_an_earlier_iteration_is_unbound_again(make_pair, outcome, src):
    native, late = make_pair(src)
    expected = outcome(native, 2)
    assert expected[0] == "raise" and issubclass(expected[1], NameError)
    assert outcome(late, 2) == expected


# --- 5. tail calls inside loops and branches -----------------------------------------------

CONTROL_FLOW = {
    "nested_for": (
        """
        def f(n, acc):
            for row in ([1, 2], [3, 4]):
                for x in row:
                    if x == 3 and n > 0:
                        return f(n - 1, acc + x)
            return acc
        """,
        lambda n: 3 * n,
    ),
    "for_over_iterator": (
        """
        def f(n, acc):
            for x in iter(range(10)):
                if n > 0 and x == 4:
                    return f(n - 1, acc + x)
            return acc
        """,
        lambda n: 4 * n,
    ),
    "for_else": (
        """
        def f(n, acc):
            for x in range(3):
                if n == 0:
                    return acc
            else:
                return f(n - 1, acc + x)
        """,
        lambda n: 2 * n,
    ),
    "while": (
        """
        def f(n, acc):
            i = 0
            while i < 3:
                i += 1
                if i == 2 and n > 0:
                    return f(n - 1, acc + i)
            return acc
        """,
        lambda n: 2 * n,
    ),
    "for_inside_while": (
        """
        def f(n, acc):
            while True:
                for x in (5, 6, 7):
                    if x == 6:
                        if n == 0:
                            return acc
                        return f(n - 1, acc + x)
        """,
        lambda n: 6 * n,
    ),
    "if_elif_else": (
        """
        def f(n, acc):
            if n == 0:
                return acc
            elif n % 3 == 0:
                return f(n - 1, acc + 1)
            elif n % 3 == 1:
                return f(n - 1, acc + 10)
            else:
                return f(n - 1, acc + 100)
        """,
        lambda n: sum((1, 10, 100)[k % 3] for k in range(1, n + 1)),
    ),
    "conditional_expression": (
        """
        def f(n, acc):
            if n == 0:
                return acc
            return f(n - 1, acc + 1) if n % 2 else f(n - 1, acc + 2)
        """,
        lambda n: n // 2 * 2 + (n + 1) // 2,
    ),
    "nested_conditional_expression": (
        """
        def f(n, acc):
            return acc if n == 0 else f(n - 1, acc + 1) if n % 2 else f(n - 1, acc + 2)
        """,
        lambda n: n // 2 * 2 + (n + 1) // 2,
    ),
}


#: Cases whose call sits inside a ``for`` loop: its iterator must live until the call
#: returns, which only the loop strategy can do (and only where a loop keeps one object).
IN_FOR_LOOP = frozenset({"nested_for", "for_over_iterator", "for_inside_while"})


def _left_native(name: str, strategy: str) -> bool:
    return name in IN_FOR_LOOP and (strategy != "loop"
                                    or not facts.current().loop_iterator_is_an_object)


def _control_flow_pair(make_pair, name, strategy):
    if _left_native(name, strategy):
        with pytest.warns(TailCallWarning, match="inside a for loop"):
            return make_pair(CONTROL_FLOW[name][0])
    return make_pair(CONTROL_FLOW[name][0])


@pytest.mark.parametrize("name", CONTROL_FLOW)
def test_tail_calls_in_control_flow_match_native(make_pair, strategy, name):
    native, f = _control_flow_pair(make_pair, name, strategy)
    expected = CONTROL_FLOW[name][1]
    for n in (0, 1, 2, 3, 10, 31):
        assert f(n, 0) == native(n, 0) == expected(n)


@pytest.mark.parametrize("name", CONTROL_FLOW)
def test_tail_calls_in_control_flow_are_optimized(make_pair, strategy, name):
    src = CONTROL_FLOW[name][0]
    _, f = _control_flow_pair(make_pair, name, strategy)
    assert len(explain(f).sites) == src.count("f(n - 1")
    assert _all_sites_optimized(f) is not _left_native(name, strategy)


@pytest.mark.parametrize("name", CONTROL_FLOW)
def test_tail_calls_in_control_flow_run_past_recursion_limit(make_pair, strategy, name, deep):
    if _left_native(name, strategy):
        pytest.skip("left a normal call: see test_tail_calls_in_control_flow_are_optimized")
    _, f = _control_flow_pair(make_pair, name, strategy)
    assert f(deep, 0) == CONTROL_FLOW[name][1](deep)


@pytest.mark.skipif(not facts.current().loop_iterator_is_an_object,
                    reason="tail calls inside for loops are left native on 3.14+")
def test_iterators_abandoned_by_a_tail_call_are_closed(make_pair):
    src = """
    def f(n):
        for x in source(n):
            if n > 0:
                return f(n - 1)
        return "done"

    def source(n):
        try:
            yield n
        finally:
            closed.append(n)
    """
    native_closed, closed = [], []
    native, _ = make_pair(src, env={"closed": native_closed}, strategy="loop")
    _, f = make_pair(src, env={"closed": closed}, strategy="loop")
    assert f(20) == native(20) == "done"
    # In the native order: innermost first, once the calls have returned.
    assert closed == native_closed == list(range(21))


# --- 6. try / with ------------------------------------------------------------------------

ESCAPING = """
def guarded(n):
    if n == 0:
        raise ValueError("bottom")
    try:
        return guarded(n - 1)
    except ValueError:
        return ("handled", n)
"""


def test_call_in_try_body_keeps_native_exception_handling_by_default(make_pair):
    with pytest.warns(TailCallWarning, match="guarded"):
        native, guarded = make_pair(ESCAPING)
    assert guarded(5) == native(5) == ("handled", 1)


def test_escape_try_lets_later_iterations_exceptions_escape_the_handler(make_pair):
    """With ``escape_try=True`` a tail call in a ``try`` body (with only ``except``
    clauses) leaves the ``try`` before jumping: an exception raised by a later iteration
    (the "callee") is no longer seen by the caller's handlers, it propagates out of the
    whole call. Natively the innermost caller frame (n == 1) would handle it."""
    native, guarded = make_pair(ESCAPING, escape_try=True, strategy="loop")
    assert native(5) == ("handled", 1)
    with pytest.raises(ValueError, match=r"^bottom$"):
        guarded(5)


HANDLED_IN_SAME_ITERATION = """
def scan(n, acc):
    try:
        check(n)
        return scan(n - 1, acc + 1)
    except ValueError as exc:
        return (acc, str(exc))

def check(n):
    if n == 0:
        raise ValueError("zero")
"""


def test_escape_try_optimizes_call_in_try_except_body(make_pair, deep):
    # (Only the loop strategy optimizes calls in a try body: see test_exactness.)
    native, scan = make_pair(HANDLED_IN_SAME_ITERATION, escape_try=True, strategy="loop")
    assert _all_sites_optimized(scan)
    assert scan(7, 0) == native(7, 0) == (7, "zero")
    assert scan(deep, 0) == (deep, "zero")


def test_call_in_try_except_body_is_not_optimized_by_default(make_pair):
    with pytest.warns(TailCallWarning, match="scan"):
        native, scan = make_pair(HANDLED_IN_SAME_ITERATION)
    assert not any(site.optimized for site in explain(scan).sites)
    assert scan(50, 0) == native(50, 0) == (50, "zero")


FINALLY_ORDER = """
def fin(n, log):
    try:
        if n == 0:
            return log
        return fin(n - 1, log)
    finally:
        log.append(n)
"""

WITH_ORDER = """
class Ctx:
    def __init__(self, n, log):
        self.n, self.log = n, log
    def __enter__(self):
        self.log.append(("enter", self.n))
    def __exit__(self, *exc):
        self.log.append(("exit", self.n))

def fin(n, log):
    with Ctx(n, log):
        if n == 0:
            return log
        return fin(n - 1, log)
"""

TRY_EXCEPT_FINALLY_ORDER = """
def fin(n, log):
    try:
        if n == 0:
            return log
        return fin(n - 1, log)
    except KeyError:
        log.append("unreachable")
    finally:
        log.append(n)
"""


@pytest.mark.parametrize("escape_try", [False, True], ids=["default", "escape_try"])
@pytest.mark.parametrize(
    "src",
    [FINALLY_ORDER, WITH_ORDER, TRY_EXCEPT_FINALLY_ORDER],
    ids=["try_finally", "with", "try_except_finally"],
)
def test_finally_and_with_are_never_optimized(make_pair, src, escape_try):
    with pytest.warns(TailCallWarning, match="fin"):
        native, fin = make_pair(src, name="fin", escape_try=escape_try)
    assert not any(site.optimized for site in explain(fin).sites)
    # Cleanup runs innermost first, after the "callee" returned, exactly as natively.
    assert fin(30, []) == native(30, [])


EXCEPT_BODY = """
def chain(n):
    try:
        raise KeyError(n)
    except KeyError:
        if n == 0:
            raise ValueError("bottom")
        return chain(n - 1)
"""


def test_call_in_except_body_is_not_optimized_and_keeps_exception_context(make_pair):
    with pytest.warns(TailCallWarning, match="chain"):
        native, chain = make_pair(EXCEPT_BODY)
    assert not any(site.optimized for site in explain(chain).sites)

    def context_chain(func):
        with pytest.raises(ValueError) as info:
            func(4)
        links, exc = [], info.value
        while exc is not None:
            links.append(repr(exc))
            exc = exc.__context__
        return links

    assert context_chain(chain) == context_chain(native)
    assert len(context_chain(native)) == 6


def test_call_in_finally_body_is_not_optimized(make_pair):
    src = """
    def tidy(n, log):
        try:
            log.append(n)
        finally:
            if n > 0:
                return tidy(n - 1, log)
        return log
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "return in finally" (3.14+)
        with pytest.warns(TailCallWarning, match="tidy"):
            native, tidy = make_pair(src, escape_try=True)
    assert not any(site.optimized for site in explain(tidy).sites)
    assert tidy(20, []) == native(20, []) == list(range(20, -1, -1))


# --- 7. nested functions calling themselves through a closure cell ------------------------

OUTER = """
def outer(k):
    @tail_optimize
    def loop(n, acc):
        return acc if n == 0 else loop(n - 1, acc + k)
    return loop
"""


def test_nested_function_is_optimized_through_its_closure_cell(make, very_deep):
    outer = make(OUTER)
    assert outer(2)(very_deep, 0) == 2 * very_deep


def test_closures_from_different_outer_calls_are_independent(make, deep):
    outer = make(OUTER)
    twos, threes = outer(2), outer(3)
    assert twos is not threes
    assert twos(deep, 0) == 2 * deep
    assert threes(deep, 0) == 3 * deep
    assert twos(10, 1) == 21


def test_nested_function_matches_native(make):
    outer = make(OUTER)
    native_outer = make(OUTER.replace("    @tail_optimize\n", ""))
    for n in (0, 1, 40):
        assert outer(5)(n, 1) == native_outer(5)(n, 1)
    assert _all_sites_optimized(outer(5))


# --- 8. tracebacks, tracing, interruption, threads ----------------------------------------

FALL = """
def fall(n):
    if n == 0:
        raise ValueError("landed")
    return fall(n - 1)
"""


def test_traceback_points_at_the_raising_source_line(make_pair, deep):
    native, fall = make_pair(FALL)
    raising_line = native.__code__.co_firstlineno + 2
    for func, n in [(native, 10), (fall, 10), (fall, deep)]:
        with pytest.raises(ValueError) as info:
            func(n)
        last = traceback.extract_tb(info.value.__traceback__)[-1]
        assert last.name == "fall"
        assert last.lineno == raising_line
        assert last.line == 'raise ValueError("landed")'


SPLIT = """
def split(n, acc):
    if n == 0:
        return acc
    return split(
        n - 1,
        acc + 10 // (n - 3),
    )
"""


def test_traceback_points_at_the_failing_argument_line(make_pair, deep):
    native, split = make_pair(SPLIT)
    failing_line = native.__code__.co_firstlineno + 5
    for func, n in [(native, 10), (split, 10), (split, deep)]:
        with pytest.raises(ZeroDivisionError) as info:
            func(n, 0)
        last = traceback.extract_tb(info.value.__traceback__)[-1]
        assert (last.name, last.lineno) == ("split", failing_line)
        assert last.line == "acc + 10 // (n - 3),"


TRACED = """
def traced(n, acc):
    if n == 0:
        return acc
    acc = acc + n
    return traced(
        n - 1,
        acc,
    )
"""


def _traced_lines(func, *args):
    code = func.__wrapped__.__code__ if hasattr(func, "__wrapped__") else func.__code__
    lines = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name != code.co_name or frame.f_code.co_filename != code.co_filename:
            return None
        if is_driver(frame.f_code):  # a trampoline's driver loop: only the def line
            return None

        def local(frame, event, arg):
            if event == "line":
                lines.append(frame.f_lineno)
            return local

        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = func(*args)
    finally:
        sys.settrace(previous)
    return result, lines


def test_settrace_reports_only_real_source_lines(make_pair):
    native, traced = make_pair(TRACED)
    native_result, native_lines = _traced_lines(native, 5, 0)
    result, lines = _traced_lines(traced, 5, 0)
    assert result == native_result == 15
    first = native.__code__.co_firstlineno
    assert set(native_lines) <= set(range(first + 1, first + 8))
    assert set(lines) <= set(native_lines)
    assert first + 2 in lines  # the base case line was reached and reported


def test_settrace_does_not_break_the_optimization(make_pair):
    _, traced = make_pair(TRACED)
    n = sys.getrecursionlimit() * 3
    result, lines = _traced_lines(traced, n, 0)
    assert result == n * (n + 1) // 2
    assert lines


SPIN = """
def spin(n):
    if n > limit:  # safety net: a loop that ignores interrupts ends eventually
        return n
    return spin(n + 1)
"""


@pytest.mark.threads
def test_infinite_tail_loop_can_be_interrupted(make_pair, sigint_raises):
    _, spin = make_pair(SPIN, env={"limit": 10**8})
    fired = threading.Event()

    def interrupt():
        fired.set()
        _thread.interrupt_main()

    timer = threading.Timer(0.2, interrupt)
    returned, interrupted = [], False
    timer.start()
    try:
        try:
            returned.append(spin(0))
        finally:
            timer.cancel()
            timer.join()
            if fired.is_set() and returned:
                time.sleep(0.2)  # a late interrupt must land inside this try
    except KeyboardInterrupt:
        interrupted = True
    assert not returned
    assert interrupted


WAIT_FOR = """
def wait_for(n, target):
    if n == 2000:  # well inside the tail loop (past the recursion limit)
        target = counter[0] + 1000
    elif n > 2000 and counter[0] >= target or n > limit:
        return n
    return wait_for(n + 1, target)
"""


@pytest.mark.threads
def test_other_threads_run_during_a_tail_loop(make_pair):
    counter = [0]
    limit = 10**8
    _, wait_for = make_pair(WAIT_FOR, env={"counter": counter, "limit": limit})
    stop, started = threading.Event(), threading.Event()

    def count_up():
        started.set()
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count_up)
    thread.start()
    try:
        started.wait()
        iterations = wait_for(0, None)
    finally:
        stop.set()
        thread.join()
    # The loop ended because the other thread made progress while it ran.
    assert 2000 < iterations <= limit


@pytest.mark.threads
def test_concurrent_calls_from_threads_are_independent(make_pair, deep):
    _, walk = make_pair(
        """
        def walk(n, tag, acc):
            if n == 0:
                return tag, acc
            return walk(n - 1, tag, acc + tag)
        """
    )
    n_threads, depth = 8, deep // 4
    barrier = threading.Barrier(n_threads)
    results, errors = {}, []

    def work(tag):
        try:
            barrier.wait()
            results[tag] = walk(depth + tag, tag, 0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(tag,)) for tag in range(1, n_threads + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == {tag: (tag, (depth + tag) * tag) for tag in range(1, n_threads + 1)}


# --- 9. parameter reuse and swaps (borrowed references on 3.14+) --------------------------


def test_swap_of_freshly_created_objects(make_pair, deep):
    native, swap = make_pair(
        """
        def swap(n, a, b):
            if n == 0:
                return a, b
            return swap(n - 1, b, a)
        """
    )
    assert swap(5, [1], [2]) == native(5, [1], [2]) == ([2], [1])
    assert swap(deep + 1, [1], "x" * 3) == ("xxx", [1])
    assert swap(deep, [1], "x" * 3) == ([1], "xxx")


def test_same_parameter_passed_twice(make_pair, deep):
    native, dup = make_pair(
        """
        def dup(n, a, b):
            if n == 0:
                return a, b
            return dup(n - 1, a, a)
        """
    )
    assert native(3, [1], [2]) == dup(3, [1], [2]) == ([1], [1])
    a, b = dup(deep, [1], [2])
    assert a == [1] and a is b


def test_parameter_reused_in_new_value(make_pair, deep):
    native, fib = make_pair(
        """
        def fib(n, a, b):
            if n == 0:
                return a
            return fib(n - 1, b, (b + a) % 1000000007)
        """
    )
    assert fib(90, 0, 1) == native(90, 0, 1)
    a, b = 0, 1
    for _ in range(deep):
        a, b = b, (b + a) % 1000000007
    assert fib(deep, 0, 1) == a


def test_parameter_moved_while_a_fresh_list_replaces_it(make_pair, deep):
    native, move = make_pair(
        """
        def move(n, x, y):
            if n == 0:
                return x, y
            return move(n - 1, [x[0] + 1], x)
        """
    )
    assert move(3, [0], None) == native(3, [0], None) == ([3], [2])
    x, y = move(deep, [0], None)
    assert (x, y) == ([deep], [deep - 1])


def test_parameter_wrapped_in_fresh_list_and_passed_on(make_pair):
    native, wrap = make_pair(
        """
        def wrap(n, x, y):
            if n == 0:
                return x, y
            return wrap(n - 1, [x], x)
        """
    )
    assert wrap(3, "s", None) == native(3, "s", None) == ([[["s"]]], [["s"]])

    def depth(obj):
        levels = 0
        while isinstance(obj, list):
            assert len(obj) == 1
            obj, levels = obj[0], levels + 1
        assert obj == "s"
        return levels

    # Past the recursion limit, but not much further: freeing a very deeply nested list
    # overflows the C stack under WebAssembly on its own.
    n = sys.getrecursionlimit() * 2
    x, y = wrap(n, "s", None)
    assert x[0] is y
    assert depth(x) == n


def test_fresh_strings_only_referenced_by_parameters(make_pair, deep):
    native, rot = make_pair(
        """
        def rot(n, s, prev):
            if n == 0:
                return s, prev
            return rot(n - 1, s[1:] + s[0], s)
        """
    )
    text = "".join(chr(ord("a") + i) for i in range(7))
    assert rot(9, text, None) == native(9, text, None)
    k = deep % len(text)
    s, prev = rot(deep, text, None)
    assert s == text[k:] + text[:k]
    assert prev[1:] + prev[0] == s


def test_keyword_swap_of_freshly_created_objects(make_pair, deep):
    native, kswap = make_pair(
        """
        def kswap(n, a, b):
            if n == 0:
                return a, b
            return kswap(n - 1, b=[a[0] + 1], a=b)
        """
    )
    assert kswap(5, [0], [100]) == native(5, [0], [100])
    a, b = [0], [100]
    for _ in range(deep):
        a, b = b, [a[0] + 1]
    assert kswap(deep, [0], [100]) == (a, b)
