"""Hostile and unusual inputs: odd callables, odd code, odd tools, and load.

Each behaviour is compared with the undecorated function where that makes sense.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import os
import pickle
import sys
import textwrap
import threading
import tracemalloc
import warnings

import pytest

from pytailcall import TailCallWarning, explain, tail_optimize

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests import hostile_module  # noqa: E402

COUNT = """
def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)
"""


def _quiet(func, **options):
    """tail_optimize, recording (not raising) any TailCallWarning; (result, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TailCallWarning)
        result = tail_optimize(func, **options)
    return result, [str(w.message) for w in caught if issubclass(w.category, TailCallWarning)]


# -- decorating what was already decorated -------------------------------------------------

def test_decorating_twice(make, deep):
    count = make(COUNT)
    once = tail_optimize(count)
    twice = tail_optimize(once)
    count.__globals__["count"] = twice
    assert twice(deep) == deep
    assert twice.__wrapped__ is once
    assert all(site.optimized for site in explain(twice).sites)
    # The first one still works when the name refers to it instead.
    count.__globals__["count"] = once
    assert once(deep) == deep


def test_decorating_the_wrapped_original_again(make, deep):
    count = make(COUNT)
    first = tail_optimize(count)
    second = tail_optimize(first.__wrapped__)
    assert second.__wrapped__ is count and second is not first
    count.__globals__["count"] = second
    assert second(deep) == deep
    count.__globals__["count"] = count
    assert count(50) == 50  # the original is untouched


# -- methods, staticmethod, classmethod, partial, lambdas ----------------------------------

def test_method_defined_in_a_class_body(make, outcome, deep):
    source = """
    def walk(self, n, acc=0):
        if n == 0:
            return acc + self.bonus
        return walk(self, n - 1, acc + 1)

    class C:
        bonus = 7
        walk = walk
    """
    native = make(source)
    plain = make(source)
    optimized = tail_optimize(plain)
    plain.__globals__["walk"] = optimized
    plain.__globals__["C"].walk = optimized
    assert optimized.__get__ is not None
    obj_native, obj = native.__globals__["C"](), plain.__globals__["C"]()
    assert obj.walk(300) == obj_native.walk(300) == 307
    assert obj.walk(deep) == deep + 7
    assert outcome(obj.walk) == outcome(obj_native.walk)  # same TypeError message


def test_method_calling_itself_through_self_is_left_native_and_reported(make, outcome):
    C = make("""
    class C:
        def down(self, n):
            if n == 0:
                return "done"
            return self.down(n - 1)
    """, name="C")
    # Optimized or reported (which depends on the version and on pytailcall's support for
    # method calls): either way it behaves like the method.
    optimized, caught = _quiet(C.down)
    assert caught or all(site.optimized for site in explain(optimized).sites)
    assert optimized(C(), 50) == C().down(50) == "done"
    C.down = optimized
    assert C().down(50) == "done"


def test_staticmethod_and_classmethod_objects_are_rejected():
    def f(n):
        return n

    for wrapper in (staticmethod(f), classmethod(f)):
        with pytest.raises(TypeError, match="needs a Python function"):
            tail_optimize(wrapper)


def test_staticmethod_and_classmethod_around_an_optimized_function(make, deep):
    namespace = make(COUNT).__globals__
    exec(textwrap.dedent("""
    def scaled(cls, n, acc=0):
        if n == 0:
            return acc * cls.scale
        return scaled(cls, n - 1, acc + 1)

    class C:
        scale = 3
    """), namespace)
    count = tail_optimize(namespace["count"])
    scaled = tail_optimize(namespace["scaled"])
    namespace["count"], namespace["scaled"] = count, scaled
    C = namespace["C"]
    C.count = staticmethod(count)
    C.scaled = classmethod(scaled)
    assert C.count(deep) == C().count(deep) == deep
    assert C.scaled(deep) == C().scaled(deep) == 3 * deep


def test_partial_objects_are_rejected(make):
    count = make(COUNT)
    with pytest.raises(TypeError, match="partial"):
        tail_optimize(functools.partial(count, acc=1))


def test_recursive_lambda_bound_to_a_name(make, outcome):
    source = "fact = lambda n, acc=1: acc if n <= 1 else fact(n - 1, acc * n)\n"
    native = make(source, name="fact")
    plain = make(source, name="fact")
    # The lambda's own name is "<lambda>", not "fact": optimized or reported, it must
    # behave like the lambda.
    optimized, caught = _quiet(plain)
    plain.__globals__["fact"] = optimized
    assert optimized(20) == native(20)
    assert outcome(native, 5000)[:2] == ("raise", RecursionError)
    if caught:
        assert outcome(optimized, 5000)[:2] == ("raise", RecursionError)
    else:
        assert optimized(5000) == math.factorial(5000)


# -- code without source, enormous code ----------------------------------------------------

def test_function_made_by_exec_without_source(deep):
    namespace = {"__name__": "nowhere"}
    exec(compile(COUNT, "<no-such-file>", "exec"), namespace)
    count = namespace["count"]
    with pytest.raises(OSError):
        inspect.getsource(count)
    optimized = tail_optimize(count)
    namespace["count"] = optimized
    assert optimized(deep) == deep


def test_function_made_by_exec_in_a_bare_namespace(deep):
    """exec(src, {}) leaves ``__module__`` None; the function still works."""
    namespace: dict = {}
    exec(COUNT, namespace)
    optimized = tail_optimize(namespace["count"])
    namespace["count"] = optimized
    assert optimized(deep) == deep


def test_function_in_a_bare_namespace_still_warns():
    """warnings.warn_explicit(module=None) drops a warning; ours must still be seen."""
    namespace: dict = {}
    exec("def f(n):\n    return n and (f(n - 1) or 1)\n", namespace)
    assert namespace["f"].__module__ is None
    with pytest.warns(TailCallWarning):
        tail_optimize(namespace["f"])


@pytest.mark.parametrize("nargs", [255, 300])
def test_hundreds_of_arguments(make, outcome, nargs):
    names = [f"a{i}" for i in range(nargs)]
    rotated = names[1:] + names[:1]
    source = (f"def many(n, {', '.join(names)}):\n"
              f"    if n == 0:\n"
              f"        return ({', '.join(names)},)\n"
              f"    return many(n - 1, {', '.join(rotated)})\n")
    native = make(source)
    plain = make(source)
    optimized = tail_optimize(plain)
    plain.__globals__["many"] = optimized
    assert all(site.optimized for site in explain(optimized).sites)
    for n in (0, 1, 7, nargs + 3, 2 * nargs):
        args = list(range(nargs))
        assert optimized(n, *args) == native(n, *args)
    assert outcome(optimized, 3, *range(nargs - 1)) == outcome(native, 3, *range(nargs - 1))
    assert optimized(nargs * 40, *range(nargs))[0] == 0


def test_keyword_only_and_defaults_with_hundreds_of_arguments(make, deep):
    names = [f"k{i}" for i in range(260)]
    source = (f"def many(n, *, {', '.join(f'{k}={i}' for i, k in enumerate(names))}):\n"
              f"    if n == 0:\n"
              f"        return k0 + k259\n"
              f"    return many(n - 1, k0=k0 + 1)\n")
    native = make(source)
    plain = make(source)
    optimized = tail_optimize(plain)
    plain.__globals__["many"] = optimized
    assert optimized(200) == native(200) == 200 + 259
    assert optimized(deep, k0=1) == deep + 1 + 259


def test_a_huge_generated_function(make, outcome):
    lines = ["def huge(n, acc=0):", "    if n <= 0:", "        return acc"]
    for i in range(3000):
        lines.append(f"    if n % 3001 == {i}:")
        lines.append(f"        return huge(n - 1, acc + {i})")
        lines.append(f"    acc = acc ^ {i % 7}")
    lines.append("    return huge(n - 1, acc)")
    source = "\n".join(lines) + "\n"
    native = make(source)
    plain = make(source)
    optimized, caught = _quiet(plain)
    plain.__globals__["huge"] = optimized
    report = explain(optimized)
    assert len(report.sites) == 3001
    for n in (0, 1, 5, 400):
        assert outcome(optimized, n) == outcome(native, n)
    if all(site.optimized for site in report.sites):
        assert optimized(20_000) > 0
    else:  # refused, with the reason given; then it must at least still be native
        assert caught


# -- odd code: frames, super(), nonlocal, global -------------------------------------------

def test_code_that_uses_sys_getframe(make_pair, outcome, deep):
    native, optimized = make_pair("""
    import sys
    def where(n, seen=()):
        frame = sys._getframe()
        name = frame.f_code.co_name
        if n == 0:
            return seen + (name, frame.f_lineno)
        if n < 3:
            seen = seen + (name,)
        return where(n - 1, seen)
    """)
    assert optimized(10) == native(10)
    assert optimized(deep)[-2] == "where"


def test_zero_argument_super_in_a_method(deep):
    namespace: dict = {"__name__": "hostile_super"}
    exec(textwrap.dedent("""
    class Base:
        def total(self, n, acc=0):
            return ("base", n, acc)

    class Child(Base):
        def total(self, n, acc=0):
            if n == 0:
                return super().total(n, acc)
            return total(self, n - 1, acc + 1)

    total = Child.total
    """), namespace)
    child_cls = namespace["Child"]
    native_result = child_cls().total(100)
    optimized, _ = _quiet(child_cls.total)  # a warning on some versions: compared below
    assert "__class__" in optimized.__code__.co_freevars
    namespace["total"] = optimized
    child_cls.total = optimized
    assert child_cls().total(100) == native_result == ("base", 0, 100)
    if all(site.optimized for site in explain(optimized).sites):
        assert child_cls().total(deep) == ("base", 0, deep)


def test_nonlocal_and_global_statements(make_pair, outcome):
    native, optimized = make_pair("""
    TOTAL = 0
    def step(n, acc=0):
        global TOTAL
        box = acc
        def bump(by):
            nonlocal box
            box += by
            return box
        TOTAL += 1
        if n == 0:
            return acc, TOTAL
        bump(n)
        return step(n - 1, bump(1))
    """)
    for n in (0, 1, 10, 200):
        assert outcome(optimized, n) == outcome(native, n)


# -- caches, pickle, copy, inspect ---------------------------------------------------------

def test_lru_cache_above_the_decorator(make, outcome):
    source = COUNT.replace("count", "tally")
    native = make(source)
    native.__globals__["tally"] = functools.lru_cache(maxsize=None)(native)
    plain = make(source)
    optimized = tail_optimize(plain)
    cached = functools.lru_cache(maxsize=None)(optimized)
    # The name refers to the cache, not to the optimized function: calls go through it.
    plain.__globals__["tally"] = cached
    # (Each level is a C call through the cache: keep it shallow for WebAssembly's stack.)
    # The first call through the wrapper says so, once, naming the wrapper.
    with pytest.warns(TailCallWarning, match=r"^pytailcall: tally\(\): its name now refers to "
                      r"a functools\._lru_cache_wrapper object that wraps") as caught:
        assert cached(60) == native.__globals__["tally"](60) == 60
    assert len(caught) == 1
    assert cached.cache_info().currsize == native.__globals__["tally"].cache_info().currsize
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cached(80) == 80
    assert explain(optimized).applied


def test_cache_below_the_decorator_is_rejected(make):
    cached = functools.cache(make(COUNT))
    with pytest.raises(TypeError):
        tail_optimize(cached)


def test_functools_cache_on_a_function_the_optimized_one_calls(make_pair):
    native, optimized = make_pair("""
    import functools
    @functools.cache
    def weight(i):
        return i % 7
    def total(n, acc=0):
        if n == 0:
            return acc
        return total(n - 1, acc + weight(n))
    """, name="total")
    assert optimized(500) == native(500)


def test_pickle_of_a_module_level_optimized_function(deep):
    count = hostile_module.count
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(count, protocol)) is count
    assert pickle.loads(pickle.dumps(count))(deep) == deep


def test_copy_and_deepcopy_of_an_optimized_function(deep):
    count = hostile_module.count
    assert copy.copy(count) is count
    assert copy.deepcopy(count) is count
    assert copy.deepcopy([count])[0](deep) == deep


def test_inspect_on_an_optimized_function():
    count = hostile_module.count
    assert inspect.getsource(count) == inspect.getsource(hostile_module.plain_count).replace(
        "plain_count", "count").replace("def count", "@tail_optimize\ndef count")
    assert inspect.signature(count) == inspect.signature(hostile_module.plain_count)
    assert inspect.getsourcefile(count) == inspect.getsourcefile(hostile_module)
    assert inspect.unwrap(count) is count.__wrapped__


# -- coverage, sys.monitoring, sys.settrace ------------------------------------------------

def test_coverage_line_data():
    coverage = pytest.importorskip("coverage")
    cov = coverage.Coverage(data_file=None, branch=True)
    cov.start()
    try:
        hostile_module.count(1000)
    finally:
        cov.stop()
    lines = cov.get_data().lines(hostile_module.__file__) or []
    body = inspect.getsourcelines(hostile_module.count)
    first = body[1]
    # The body's lines (the test, both returns, the tail call) are all seen as run.
    assert {first + 2, first + 3, first + 4, first + 5} <= set(lines)


_STEPPED = """
def walk(n, acc=0, *, step=1):
    if n <= 0:
        return acc
    if n % 2:
        acc += 1
    return walk(n - step, acc, step=step)
"""


def _line_events_monitoring(func, *args):
    monitoring = sys.monitoring
    tool = next(t for t in range(5, 0, -1) if monitoring.get_tool(t) is None)
    events: list[tuple[str, int]] = []
    monitoring.use_tool_id(tool, "pytailcall-hostile")
    try:
        def on_line(code, line):
            if code.co_name == func.__name__ and "_pytailcall_impl_" not in code.co_freevars:
                events.append((code.co_name, line - code.co_firstlineno))
        monitoring.register_callback(tool, monitoring.events.LINE, on_line)
        monitoring.set_events(tool, monitoring.events.LINE)
        result = func(*args)
    finally:
        monitoring.set_events(tool, 0)
        monitoring.register_callback(tool, monitoring.events.LINE, None)
        monitoring.free_tool_id(tool)
    return result, events


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is 3.12+")
def test_sys_monitoring_line_events(make_pair):
    native, optimized = make_pair(_STEPPED)
    expected = _line_events_monitoring(native, 30)
    got = _line_events_monitoring(optimized, 30)
    assert got == expected
    assert len(expected[1]) > 60


class _Debugger:
    """A stepping debugger emulation: records each line and the parameters it shows."""

    def __init__(self, name):
        self.name = name
        self.steps: list[tuple] = []

    def trace(self, frame, event, arg):
        code = frame.f_code
        if code.co_name != self.name or "_pytailcall_impl_" in code.co_freevars:
            return None  # another function, or a trampoline's driver (documented frame)
        if event == "line":
            shown = {k: v for k, v in frame.f_locals.items() if k in ("n", "acc", "step")}
            self.steps.append(("line", frame.f_lineno - frame.f_code.co_firstlineno,
                               tuple(sorted(shown.items()))))
        elif event == "exception":
            self.steps.append(("exception", arg[0].__name__))
        return self.trace


def _stepped(func, *args):
    debugger = _Debugger(func.__name__)
    old = sys.gettrace()
    sys.settrace(debugger.trace)
    try:
        result = func(*args)
    except Exception as exc:
        result = ("raise", type(exc).__name__, str(exc))
    finally:
        sys.settrace(old)
    return result, debugger.steps


def test_settrace_stepping_debugger(make_pair):
    native, optimized = make_pair(_STEPPED)
    for n in (0, 1, 9, 40):
        assert _stepped(optimized, n) == _stepped(native, n)


def test_settrace_stepping_debugger_through_an_exception(make_pair):
    native, optimized = make_pair("""
    def walk(n, acc=0, *, step=1):
        if n == 3:
            raise ValueError(acc)
        return walk(n - step, acc + n, step=step)
    """)
    result, steps = _stepped(optimized, 10)
    native_result, native_steps = _stepped(native, 10)
    assert result == native_result == ("raise", "ValueError", "49")
    # The same lines; the exception passes through one frame instead of one per call.
    assert [s for s in steps if s[0] == "line"] == [s for s in native_steps if s[0] == "line"]
    assert [s for s in steps if s[0] == "exception"] == [("exception", "ValueError")]
    assert native_steps.count(("exception", "ValueError")) == 8


def test_settrace_debugger_that_changes_a_local(make_pair):
    """A debugger assigning to f_locals (3.13+: write-through) sees the same effect."""
    source = """
    def walk(n, acc=0):
        if n <= 0:
            return acc
        acc += n
        return walk(n - 1, acc)
    """
    native, optimized = make_pair(source)

    def run(func):
        def trace(frame, event, arg):
            if (frame.f_code.co_name == "walk" and event == "line"
                    and frame.f_lineno - frame.f_code.co_firstlineno == 4
                    and sys.version_info >= (3, 13)):
                frame.f_locals["acc"] = frame.f_locals["acc"] + 100
            return trace
        old = sys.gettrace()
        sys.settrace(trace)
        try:
            return func(20)
        finally:
            sys.settrace(old)

    assert run(optimized) == run(native)


# -- load ----------------------------------------------------------------------------------

@pytest.mark.threads
def test_threads_hammering_optimized_functions(make_pair):
    """Eight threads call the same optimized functions at once, each a fixed number of
    rounds (no clock: on a busy machine the test is slower, never different); a barrier
    starts them together so the calls overlap. Every result is checked."""
    _, count = make_pair(COUNT)
    native_fib, fib = make_pair("""
    def fib(n, a=0, b=1):
        return a if n == 0 else fib(n - 1, b, a + b)
    """)
    _, gather = make_pair("""
    def gather(n, *xs, **seen):
        if n <= 0:
            return len(xs), sorted(seen)
        return gather(n - 1, *xs, n, **{f"k{n % 5}": n}, **seen) if n % 5 not in () and \\
            f"k{n % 5}" not in seen else gather(n - 1, *xs, **seen)
    """)
    expected_fib = {n: native_fib(n) for n in range(0, 400, 37)}
    n_threads, n_rounds = 8, 200  # 0.3-1 s a strategy on a 2-core machine (3.11-3.13)
    start = threading.Barrier(n_threads)
    errors: list[str] = []
    rounds = [0] * n_threads

    def work(i):
        try:
            start.wait()
            for k in range(n_rounds):
                n = 1000 + 97 * i + k % 50
                if count(n) != n:
                    errors.append(f"count({n})")
                m = (i * 37 + k) % 400 // 37 * 37
                if fib(m) != expected_fib[m]:
                    errors.append(f"fib({m})")
                if gather(30 + i) != (min(5, 30 + i), sorted(f"k{j}" for j in range(5))):
                    errors.append(f"gather({30 + i})")
                rounds[i] += 1
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    try:
        for thread in threads:
            thread.start()
    except BaseException:
        start.abort()  # the started threads stop waiting for the ones that never came
        raise
    finally:
        for thread in threads:
            if thread.ident is not None:
                thread.join()
    assert not errors, errors[:5]
    assert rounds == [n_rounds] * n_threads


@pytest.mark.skipif(os.environ.get("PYTAILCALL_SLOW") != "1",
                    reason="slow: set PYTAILCALL_SLOW=1 (depth 10,000,000)")
def test_ten_million_deep_in_flat_memory(make):
    count = make(COUNT)
    optimized = tail_optimize(count)
    count.__globals__["count"] = optimized
    optimized(1000)  # warm up: caches, specialization
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        assert optimized(10_000_000) == 10_000_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    growth = peak - before
    print(f"\npeak traced memory growth at depth 10,000,000: {growth} bytes")
    assert growth < 64 * 1024
