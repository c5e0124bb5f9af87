"""``name_guard=False``: calls to itself jump without checking that the function's name
still refers to it. Everything else is exact, as with the guard; the one difference is the
broken promise, which is documented and tested here too.
"""

from __future__ import annotations

import warnings

import pytest
from conftest import STRATEGIES, _outcome

from pytailcall import TailCallError, TailCallWarning, explain, tail_optimize

SHAPES = {
    "positional": ("""
        def walk(n, acc):
            if n == 0:
                return acc
            return walk(n - 1, acc + n)
        """, (40, 0)),
    "defaults through the binder": ("""
        def walk(n, acc=0):
            if n == 0:
                return acc
            if n % 2:
                return walk(n - 1)
            return walk(n - 1, acc + 1)
        """, (41,)),
    "keywords": ("""
        def walk(n, acc=0):
            if n <= 0:
                return acc
            return walk(acc=acc + n, n=n - 1)
        """, (40,)),
    "a parameter passed on unchanged": ("""
        def modulo(val, div):
            if val < div:
                return val
            return modulo(val - div, div)
        """, (1000, 7)),
    "reset locals and cells": ("""
        def walk(n, fs=()):
            if n == 0:
                return [f() for f in fs]
            if n % 3:
                seen = n
            k = n
            return walk(n - 1, (*fs, lambda: k))
        """, (12,)),
    "in a for loop": ("""
        def walk(n, xs):
            for x in xs:
                if n > 0:
                    return walk(n - 1, xs)
            return n
        """, (30, [1, 2])),
    "escape_try": ("""
        def walk(n, acc):
            try:
                if n == 0:
                    return acc // n
                return walk(n - 1, acc + 1)
            except ZeroDivisionError:
                return -acc
        """, (30, 0), {"escape_try": True}),
    "an exception in the arguments": ("""
        def walk(n, acc):
            return walk(n - 1, acc + 1 // (n - 5))
        """, (20, 0)),
    "a comprehension in the arguments": ("""
        def walk(n, xs):
            if n == 0:
                return xs
            return walk(n - 1, [x + 1 for x in xs])
        """, (20, [1, 2])),
    "more than sixteen parameters": ("""
        def walk(n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16,
                 a17):
            if n == 0:
                return (a1, a17)
            return walk(n - 1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                        a16, a17, a1)
        """, (35, *range(17))),
}


def _pair(make_pair, shape):
    src, args, *options = SHAPES[shape]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "pytailcall: .* inside a (for loop|try block)",
                                TailCallWarning)
        native, optimized = make_pair(src, **(options[0] if options else {}),
                                      name_guard=False)
    return native, optimized, args


@pytest.mark.parametrize("shape", SHAPES)
def test_results_and_errors_are_native(make_pair, shape):
    native, optimized, args = _pair(make_pair, shape)
    assert _outcome(optimized, *args) == _outcome(native, *args)


@pytest.mark.parametrize("shape", ["positional", "keywords", "a parameter passed on unchanged",
                                   "more than sixteen parameters"])
def test_runs_in_constant_stack(make_pair, shape, deep):
    _, optimized, args = _pair(make_pair, shape)
    # ``deep`` levels (more than the recursion limit allows): the count is the first argument.
    count = deep * 7 if shape == "a parameter passed on unchanged" else deep
    assert _outcome(optimized, count, *args[1:])[0] == "ok"


def test_explain_reports_the_missing_guard(make):
    walk = make(SHAPES["positional"][0])
    report = explain(walk, name_guard=False)
    assert [site.via for site in report.sites] == [
        "jump, without the name guard (name_guard=False)"]
    optimized = tail_optimize(walk, name_guard=False)
    assert explain(optimized).sites == report.sites
    with pytest.raises(ValueError, match="already optimized"):
        explain(optimized, name_guard=False)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_broken_promise_keeps_calling_the_optimized_function(make, strategy):
    """The documented trade: the name rebound to another function is not called by the
    function's calls to itself (with the guard, it is, as natively)."""
    walk = make(SHAPES["positional"][0])
    namespace = walk.__globals__
    unguarded = tail_optimize(walk, strategy=strategy, name_guard=False)
    guarded = tail_optimize(walk, strategy=strategy)

    def replacement(n, acc):
        return ("replacement", n, acc)

    namespace["walk"] = replacement
    assert guarded(3, 0) == ("replacement", 2, 3)
    assert unguarded(3, 0) == 6


def test_the_option_must_be_a_bool(make):
    walk = make(SHAPES["positional"][0])
    with pytest.raises(TypeError, match="name_guard must be True or False"):
        tail_optimize(walk, name_guard=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("name_guard", [True, False])
def test_a_method_calling_the_global_of_its_name_does_not_call_itself(make, name_guard):
    """In a class body, ``def sorted(self)`` binds a class attribute: ``sorted(...)`` inside
    it is the builtin (or a global), never a call to itself, with or without the guard."""
    fmt = make("""
    def fmt(x):
        return "<%s>" % (x,)

    class Report:
        def __init__(self, rows):
            self.rows = rows

        def sorted(self):
            return sorted(self.rows)

        def fmt(self):
            return fmt(self.rows)
    """)
    report_class = fmt.__globals__["Report"]
    for name in ("sorted", "fmt"):
        native = getattr(report_class, name)
        optimized = tail_optimize(native, name_guard=name_guard)
        report = explain(optimized)
        assert not any(site.via and site.via.startswith("jump")
                       for site in (*report.sites, *report.calls_out)), report
        assert optimized(report_class([3, 1, 2])) == native(report_class([3, 1, 2]))


@pytest.mark.parametrize("name_guard", [True, False])
def test_a_method_of_a_class_made_in_a_function_does_not_call_itself(make, name_guard):
    """``class Runner: def run(self, *args): return run(*args)`` inside ``make_runner(run)``:
    the free variable ``run`` is the enclosing function's, never the method."""
    make_runner = make("""
    def make_runner(run):
        class Runner:
            def run(self, *args):
                return run(*args)
        return Runner
    """)
    runner_class = make_runner(lambda a, b: a + b)
    optimized = tail_optimize(runner_class.run, name_guard=name_guard)
    report = explain(optimized)
    assert not any(site.via and site.via.startswith("jump")
                   for site in (*report.sites, *report.calls_out)), report
    assert optimized(runner_class(), 2, 3) == 5


@pytest.mark.parametrize("shape", ["positional", "a parameter passed on unchanged",
                                   "reset locals and cells", "more than sixteen parameters"])
def test_a_loop_whose_calls_all_jump_adds_no_closure(make, shape):
    """Without the guard, nothing in such a function reads the self-reference or the
    Target: the made function has the closure the original had (here none), so a call
    enters it as it enters the hand-written loop, without copying free variables."""
    src, args, *_ = SHAPES[shape]
    walk = make(src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        optimized = tail_optimize(walk, name_guard=False)
    assert explain(optimized).optimized
    assert optimized.__code__.co_freevars == walk.__code__.co_freevars
    assert optimized.__closure__ is walk.__closure__ is None
    assert _outcome(optimized, *args) == _outcome(walk, *args)


def test_a_closure_keeps_its_own_cells_and_no_more(make):
    walk = make("""
        def outer(step):
            def walk(n, acc):
                if n == 0:
                    return acc
                return walk(n - step, acc + 1)
            return walk
        """)(2)
    optimized = tail_optimize(walk, name_guard=False)
    assert optimized.__code__.co_freevars == walk.__code__.co_freevars == ("step", "walk")
    assert optimized.__closure__ == walk.__closure__
    assert optimized(10, 0) == walk(10, 0) == 5


@pytest.mark.parametrize("shape", ["defaults through the binder", "keywords"])
def test_a_loop_that_binds_through_its_target_keeps_it(make, shape):
    """A call bound by the function's binder reads it from the Target: that rewrite needs
    its free variables, and gets them."""
    src, args, *_ = SHAPES[shape]
    walk = make(src)
    optimized = tail_optimize(walk, name_guard=False)
    assert explain(optimized).optimized
    assert len(optimized.__code__.co_freevars) == 2
    assert _outcome(optimized, *args) == _outcome(walk, *args)


REBINDING = {
    "global": ("""
        def d(n):
            global d
            if n == 3:
                d = lambda m: ("rebound", m)
            return d(n - 1) if n else "d0"
        """, 5),
    "nonlocal, in a function defined inside": ("""
        def outer():
            def d(n):
                def rebind():
                    nonlocal d
                    d = lambda m: ("rebound", m)
                if n == 3:
                    rebind()
                return d(n - 1) if n else "d0"
            return d
        """, 6),
}


@pytest.mark.parametrize("shape", REBINDING)
def test_a_function_that_rebinds_its_own_name_keeps_the_guard(make, shape):
    """The promise broken in the function's own code, where pytailcall can see it: the
    calls keep their check (and the native result), with a warning naming the line."""
    src, line = REBINDING[shape]

    def fresh():
        made = make(src)
        return made() if made.__name__ == "outer" else made

    native = fresh()(6)
    assert native == ("rebound", 2)
    d = fresh()
    with pytest.warns(TailCallWarning, match=rf"name_guard=False is not applied: the name 'd' "
                                             rf"it calls itself by is rebound on line {line}"):
        optimized = tail_optimize(d, name_guard=False)
    kept = (f"jump, with the name guard: name_guard=False is not applied, as the name is "
            f"rebound on line {line}")
    assert [site.via for site in explain(optimized).sites] == [kept]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # explain() predicts it, and says it without a warning
        assert explain(fresh(), name_guard=False).sites == explain(optimized).sites
    if "global" in shape:
        optimized.__globals__["d"] = optimized  # as the decorator would have bound it
    assert optimized(6) == native


def test_the_broken_promise_is_an_error_with_strict(make):
    d = make(REBINDING["global"][0])
    with pytest.raises(TailCallError, match="name_guard=False is not applied"):
        tail_optimize(d, name_guard=False, strict=True)


NOT_REBINDING = {
    "an inner function's own variable of that name": """
        def d(n):
            def g():
                d = 1
                return lambda: d
            return d(n - 1) if n else "d0"
        """,
    "a comprehension's variable of that name, captured": """
        def d(n):
            fs = [lambda: d for d in range(2)]
            return d(n - 1) if n else "d0"
        """,
    "the global rebound, where the function calls itself through its closure": """
        def outer():
            def d(n):
                def g():
                    global d
                    d = 1
                return d(n - 1) if n else "d0"
            return d
        """,
}


@pytest.mark.parametrize("shape", NOT_REBINDING)
def test_a_store_to_another_variable_of_the_same_name_keeps_the_promise(make, shape):
    """Only the variable the function calls itself through counts (found by review: these
    were taken for rebindings, with a warning, and kept the guard)."""
    made = make(NOT_REBINDING[shape])
    d = made() if made.__name__ == "outer" else made
    with warnings.catch_warnings():
        warnings.simplefilter("error", TailCallWarning)
        optimized = tail_optimize(d, name_guard=False)
    assert [site.via for site in explain(optimized).sites] == [
        "jump, without the name guard (name_guard=False)"]
    if made.__name__ != "outer":
        optimized.__globals__["d"] = optimized
    assert optimized(30) == "d0"
