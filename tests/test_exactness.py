"""Regression tests for the exactness review (issue 8): each test failed before its fix.

Leaks, deleted parameters, frames and tracer-visible code of calls out, ``f(*gen)``
binding order, marshal, the original function as "itself", wrappers, misread callees,
warning filters.
"""

from __future__ import annotations

import _thread
import gc
import marshal
import os
import subprocess
import sys
import textwrap
import types
import warnings
import weakref

import pytest

from pytailcall import TailCallError, TailCallWarning, explain, tail_optimize
from pytailcall._bytecode import facts
from tests.conftest import STRATEGIES

needs_subprocess = pytest.mark.skipif(sys.platform == "emscripten",
                                      reason="no subprocesses under Pyodide")


class Payload(list):  # a list that can be weakly referenced
    pass


# -- 1. optimized functions and what they capture are collected -----------------------------

NESTED = """
def total(data, strategy):
    @tail_optimize(strategy=strategy)
    def walk(i, acc):
        if i == len(data):
            return int(acc)
        return walk(i + 1, acc + data[i])
    return walk(0, 0), weakref.ref(walk)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_nested_optimized_function_and_its_closure_are_collected(make, strategy):
    total = make(NESTED, weakref=weakref)
    data = Payload(range(100))
    data_ref = weakref.ref(data)
    result, walk_ref = total(data, strategy)
    assert result == sum(range(100))
    del data
    gc.collect()
    assert walk_ref() is None
    assert data_ref() is None


MODULE = """
import weakref
class Marker:
    pass
marker = Marker()

def count(n, acc=0):
    if n == 0:
        return int(acc)
    return count(n - 1, acc + 1)

def is_even(n):
    return True if n == 0 else is_odd(n - 1)

def is_odd(n):
    return False if n == 0 else is_even(n - 1)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_module_namespaces_of_optimized_functions_are_collected(strategy):
    refs = []
    for _ in range(50):
        namespace = {"__name__": "leak_check"}
        exec(MODULE, namespace)
        for name in ("count", "is_even", "is_odd"):
            namespace[name] = tail_optimize(namespace[name], strategy=strategy)
        assert namespace["count"](300) == 300
        assert namespace["is_even"](301) is False
        refs.append(weakref.ref(namespace["marker"]))
        refs.append(weakref.ref(namespace["count"]))
        del namespace
    gc.collect()
    assert [ref for ref in refs if ref() is not None] == []


# -- 2. a parameter unbound before a tail call that passes it on ----------------------------

@pytest.mark.parametrize("source", [
    """
    def f(n, x):
        if n == 2:
            del x
        if n == 0:
            return "done"
        return f(n - 1, x)
    """,
    """
    def f(n, x):
        if n == 2:
            try:
                raise KeyError(n)
            except KeyError as x:
                pass
        if n == 0:
            return "done"
        return f(n - 1, x)
    """,
])
def test_unbound_parameter_passed_on_raises_as_natively(make_pair, outcome, source):
    native, optimized = make_pair(source)
    expected = outcome(native, 5, "value")
    assert expected[:2] == ("raise", UnboundLocalError)
    assert outcome(optimized, 5, "value") == expected


# -- 3. calls out: one frame, nothing of pytailcall's for tracers -----------------------------

CALLS_OUT = """
import sys
def count(n, acc=0):
    if n == 0:
        return int(sys._getframe(1).f_code.co_name == "caller")
    return count(n - 1, acc + 1)

def caller(n):
    return count(n) + 0
"""


def test_loop_function_with_calls_out_is_one_frame(make):
    count = make(CALLS_OUT)
    optimized = tail_optimize(count)
    count.__globals__["count"] = optimized
    assert "sys" in count.__globals__
    # The frame above the base case is the caller, as natively: no driver in between.
    assert count.__globals__["caller"](10_000) == 1
    assert optimized.__code__.co_name == "count"


def test_calls_out_that_reach_no_optimized_function_run_no_code_of_ours(make):
    source = """
    def digits(n, acc=""):
        if n == 0:
            return str(acc or "0")
        return digits(n // 10, str(n % 10) + acc)
    """
    plain = make(source)
    optimized = tail_optimize(plain)
    plain.__globals__["digits"] = optimized
    result, calls = _traced_calls(optimized, 90210)
    assert result == "90210"
    assert [code.co_filename for code in calls] == [optimized.__code__.co_filename]


def _traced_calls(func, *args):
    """``func(*args)``, and the code of every Python call ``sys.settrace`` saw."""
    calls = []

    def tracer(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code)
        return None

    sys.settrace(tracer)
    try:
        return func(*args), calls
    finally:
        sys.settrace(None)


def test_method_calls_out_to_plain_methods_run_no_code_of_ours(make):
    """A tail call of a method that is not optimized (on 3.11 and 3.12 rewritten to load a
    bound method, which the rewritten code checks inline) runs no Python code of ours."""
    walk = make("""
    def walk(walker, n):
        if n == 0:
            return walker.done(n)
        return walk(walker, n - 1)

    class Walker:
        def done(self, n):
            return ("done", n)
    """)
    namespace = walk.__globals__
    namespace["walk"] = optimized = tail_optimize(walk)
    result, calls = _traced_calls(optimized, namespace["Walker"](), 50)
    assert result == ("done", 0)
    assert [code.co_name for code in calls] == ["walk", "done"]


def test_non_tail_recursion_with_calls_out_reaches_native_depth(make):
    source = """
    def size(t):
        if t is None:
            return int(0)
        return 1 + size(t[0])
    """
    native = make(source)
    plain = make(source)
    with pytest.warns(TailCallWarning, match="not a tail call"):
        optimized = tail_optimize(plain, modulo_context=False)
    plain.__globals__["size"] = optimized
    tree = None
    depth = sys.getrecursionlimit() - 60
    for _ in range(depth):
        tree = (tree,)
    assert native(tree) == optimized(tree) == depth


def test_bounces_between_optimized_functions_still_run_in_constant_stack(make, deep):
    namespace = {"__name__": "mutual"}
    exec(MODULE, namespace)
    for name in ("is_even", "is_odd"):
        namespace[name] = tail_optimize(namespace[name])
    assert namespace["is_even"](deep) is True
    assert namespace["is_odd"](deep + 1) is True


# -- 4. f(*iterable): defaults are read after the iterable is consumed ------------------------

def test_star_call_reads_defaults_after_consuming_the_iterable(make_pair, outcome):
    native, optimized = make_pair("""
    def f(n, acc=0):
        if n == 0:
            return acc
        return f(*moves(n))

    def moves(n):
        f.__defaults__ = (n * 10,)
        yield n - 1
    """)
    assert outcome(optimized, 4) == outcome(native, 4) == ("ok", 10)


def test_star_call_errors_name_the_function_as_natively(make_pair, outcome):
    native, optimized = make_pair("""
    def f(n, *rest):
        if n == 0:
            return f(*5)
        return f(n - 1)
    """)
    expected = outcome(native, 3)
    assert expected[:2] == ("raise", TypeError)
    # 3.11-3.14: "pytailcall_testns.f() argument after * must be an iterable, not int";
    # 3.15 no longer names the function.
    assert "after * must be an iterable, not int" in expected[2]
    assert outcome(optimized, 3) == expected


# -- 8. rewritten code can be marshalled ---------------------------------------------------------

@pytest.mark.parametrize("source", [
    "def f(n, acc=0):\n    return acc if n == 0 else f(n - 1)\n",
    "def f(n, *rest, **kw):\n    return len(rest) if n == 0 else f(n - 1, *rest, 1, **kw)\n",
    "def f(n):\n    return str(n) if n == 0 else f(n - 1)\n",
])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_rewritten_code_can_be_marshalled(make, source, strategy):
    plain = make(source)
    optimized = tail_optimize(plain, strategy=strategy)
    codes = [optimized.__code__]
    target = optimized.__dict__["__tail_call__"]
    if target.marker is not None:
        codes.append(target.marker.impl.__code__)  # the implementation
    for code in codes:
        assert marshal.loads(marshal.dumps(code)) == code


# -- 9. the function an optimized one was made from counts as itself ---------------------------

def test_direct_call_form_optimizes_calls_to_the_original(make, deep):
    slow = make("""
    def slow(n, acc=0):
        if n == 0:
            return acc
        return slow(n - 1, acc + 1)
    """)
    fast = tail_optimize(slow)
    assert explain(fast).optimized
    assert fast(deep) == deep
    # ... and the original stays what it was.
    with pytest.raises(RecursionError):
        slow(deep)


def test_calls_to_the_original_use_its_own_defaults(make):
    source = """
    def slow(n, acc=0, *, step=1):
        if n == 0:
            return acc
        return slow(n - 1, step=step + 0) if n % 2 else slow(n - 1, acc + step)
    """
    native = make(source)
    slow = make(source)
    fast = tail_optimize(slow)
    for func in (native, slow):
        func.__defaults__ = (100,)
    fast.__defaults__ = (7,)
    native_fast = types.FunctionType(native.__code__, native.__globals__, "slow", (7,),
                                     native.__closure__)
    native_fast.__kwdefaults__ = native.__kwdefaults__
    assert fast(50) == native_fast(50)


# -- 10. wrappers ---------------------------------------------------------------------------------

WRAPPED = """
import functools
def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper

@logged
def count(n):
    return n if n == 0 else count(n - 1)
"""


def test_decorating_a_wrapper_warns_that_nothing_is_optimized(make):
    wrapper = make(WRAPPED, "count")
    with pytest.warns(TailCallWarning, match=r"^pytailcall: count\(\) \(line \d+\) is a wrapper"):
        optimized = tail_optimize(wrapper)
    assert "[decorated; no calls to itself optimized" in str(explain(optimized))
    with pytest.raises(TailCallError, match="is a wrapper"):
        tail_optimize(wrapper, strict=True)


def test_explain_says_when_nothing_is_optimized(make):
    plain = make("def f(n):\n    return int(n)\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = tail_optimize(plain)
    text = str(explain(optimized))
    assert "[decorated; no calls to itself optimized" in text
    assert "int(...) -> bounce to it when it is an optimized function, else a normal call" in text
    assert "(optimized)" not in text


# -- 11. explain() reads the callee right --------------------------------------------------------

def test_a_call_of_an_expression_starting_with_the_name_is_not_a_call_to_itself(make):
    g = make("""
    def g(n):
        if n == 0:
            return 0
        return g.table[0](n - 1)
    """)
    g.table = [g]
    report = explain(g)
    assert report.sites == ()
    assert "no calls to itself" in str(report)


# -- 14. warnings can be filtered before pytailcall is imported -----------------------------------

SCRIPT = textwrap.dedent("""
    from pytailcall import tail_optimize

    @tail_optimize
    def f(n):
        return (f(n - 1) or 1) if n else 0

    print("ran")
""")


@needs_subprocess
@pytest.mark.parametrize(("option", "environment", "shown"), [
    ([], None, True),
    (["-W", "ignore:pytailcall"], None, False),
    ([], "ignore:pytailcall", False),
])
def test_warnings_filter_by_message_prefix(tmp_path, option, environment, shown):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    if environment is not None:
        env["PYTHONWARNINGS"] = environment
    run = subprocess.run([sys.executable, *option, str(script)], capture_output=True,
                         text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "ran\n"
    assert ("TailCallWarning: pytailcall: f()" in run.stderr) is shown


# -- 5. loop iterators are finalised innermost first, after the calls return ---------------------

ITERATORS = """
log = []

def source(n):
    try:
        yield n
        yield n
    finally:
        log.append(("closed", n))

def walk(n):
    if n == 0:
        log.append("base")
        if fail:
            raise ValueError("at the base")
        return "done"
    for x in source(n):
        for y in source(-n):
            return walk(n - 1)
"""


@pytest.mark.parametrize("fail", [False, True])
def test_loop_iterators_are_finalised_as_natively(make, outcome, fail):
    native = make(ITERATORS, "walk", fail=fail)
    plain = make(ITERATORS, "walk", fail=fail)
    if facts.current().loop_iterator_is_an_object:
        optimized = tail_optimize(plain)
        assert explain(optimized).optimized
    else:  # 3.14+: left a normal call, and said so
        with pytest.warns(TailCallWarning, match="virtual iterator"):
            optimized = tail_optimize(plain)
    plain.__globals__["walk"] = optimized
    expected = outcome(native, 4)
    assert outcome(optimized, 4) == expected
    assert plain.__globals__["log"] == native.__globals__["log"]
    assert native.__globals__["log"][:3] == ["base", ("closed", -1), ("closed", 1)]


@pytest.mark.parametrize("strategy", ["return_tuple", "partial"])
def test_trampolines_leave_calls_inside_for_loops_native(make, strategy):
    plain = make(ITERATORS, "walk", fail=False)
    with pytest.warns(TailCallWarning, match="inside a for loop"):
        optimized = tail_optimize(plain, strategy=strategy)
    assert not explain(optimized).optimized


# -- 17. escape_try: an asynchronous exception meets the handler of its iteration ---------------

INTERRUPTED = """
import _thread

def countdown(n):
    try:
        if n == 5:
            _thread.interrupt_main()  # KeyboardInterrupt at the next check for signals
        if n == 0:
            return "finished"
        return countdown(n - 1)
    except KeyboardInterrupt:
        return f"caught at {n}"
"""


@pytest.mark.parametrize("name_guard", [True, False])
def test_interrupt_is_caught_by_the_handler_of_its_iteration(make, sigint_raises, name_guard):
    native = make(INTERRUPTED)
    plain = make(INTERRUPTED)
    optimized = tail_optimize(plain, escape_try=True, name_guard=name_guard)
    plain.__globals__["countdown"] = optimized
    assert explain(optimized).optimized
    assert native(8) == optimized(8) == "caught at 5"


SPINNING = """
def spin(n, unchanged):
    try:
        if n == 100_000_000:
            return "never interrupted"  # (rather than hang, if nothing checks for signals)
        return spin(
            n + 1,
            unchanged,
        )
    except KeyboardInterrupt as interrupt:
        return "caught in the try", interrupt.__traceback__.tb_lineno
"""


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads under Pyodide")
@pytest.mark.parametrize("name_guard", [True, False])
def test_an_interrupt_from_another_thread_lands_in_the_try_it_arrives_in(make, sigint_raises,
                                                                        name_guard):
    """Nothing in ``spin``'s body checks for signals (no call, no backward jump), so an
    interrupt sent by another thread meets the check that the jump makes inside the
    ``try``, as natively it meets the recursive call's, whenever it arrives: never the
    jump back to the start, outside the ``try``. (The other thread gets to run because
    the same check lets it take the interpreter lock.) Its traceback names the line the
    call starts on, as natively, not the line of an argument it passes on unchanged.

    The other thread interrupts once it sees the main thread in ``spin`` (not after a
    delay: on a loaded machine the main thread could be late to start spinning), and
    gives up when the call is over without it (a test that fails, not one that hangs)."""
    import threading
    import time

    optimized = tail_optimize(make(SPINNING), escape_try=True, name_guard=name_guard)
    assert explain(optimized).optimized
    call_line = optimized.__code__.co_firstlineno + 4
    main, over = threading.get_ident(), threading.Event()

    def interrupt() -> None:
        while not over.is_set():
            frame = sys._current_frames().get(main)
            if frame is not None and frame.f_code.co_name == "spin":
                _thread.interrupt_main()
                return
            time.sleep(0.001)

    thread = threading.Thread(target=interrupt)
    thread.start()
    try:
        result = optimized(0, "unchanged")
        over.set()
        thread.join()  # (a check: an interrupt still pending lands here at the latest)
    except KeyboardInterrupt:
        result = "left the function"
    finally:
        over.set()
        thread.join()
    assert result == ("caught in the try", call_line)


@pytest.mark.parametrize("strategy", ["return_tuple", "partial"])
def test_trampolines_leave_escape_try_calls_native(make, strategy):
    plain = make(INTERRUPTED)
    with pytest.warns(TailCallWarning, match="asynchronous exceptions"):
        tail_optimize(plain, escape_try=True, strategy=strategy)


# -- 6. functions that could list their own locals are left native ------------------------------

@pytest.mark.parametrize("body", [
    "show = vars\n        seen = show()",
    "seen = eval('locals()')",
    "seen = sys._getframe().f_locals",
    "seen = inspect.getargvalues(inspect.currentframe()).locals",
])
def test_every_spelling_of_listing_locals_is_refused(make, body):
    plain = make(f"""
    import inspect, sys
    def f(n):
        {body}
        if n == 0:
            return sorted(seen)
        return f(n - 1)
    """)
    with pytest.warns(TailCallWarning, match="can list its own local variables"):
        optimized = tail_optimize(plain)
    assert not explain(optimized).optimized
    assert optimized(3) == plain(3)
    assert all(not name.startswith(".") for name in optimized(3))


# -- messages a user reads ------------------------------------------------------------------------

def test_type_errors_use_the_right_article():
    with pytest.raises(TypeError, match=r"got an int object: 5$"):
        tail_optimize(5)

    async def ticks():
        yield 1

    with pytest.raises(TypeError, match=r"it is an async generator function, "):
        tail_optimize(ticks)


def test_help_shows_a_readable_default():
    import inspect

    default = inspect.signature(tail_optimize).parameters["func"].default
    assert repr(default) == "<the function to optimize; omitted: return a decorator>"


# -- found by review: callees that lie, records that are overwritten, defaults of calls out -----

def _quietly(func, **options):
    """tail_optimize a function that has nothing of its own to optimize (it warns so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        return tail_optimize(func, **options)


class _Proxy:
    """A transparent proxy (as wrapt's): it says it is what it wraps, forwards attributes."""

    def __init__(self, wrapped):
        object.__setattr__(self, "_wrapped", wrapped)

    @property
    def __class__(self):
        return type(self._wrapped)

    def __getattr__(self, name):
        return getattr(self._wrapped, name)

    def __call__(self, *args):
        return ("proxied", self._wrapped(*args))


def test_a_callee_that_says_it_is_a_function_is_called_without_being_asked(make_pair):
    """A tail call to another name tests its callee by exact type: an object that says it
    is a function or a bound method has nothing read (natively a call reads nothing)."""
    reads = []

    class Claims:
        @property
        def __class__(self):
            reads.append("__class__")
            return types.FunctionType

        def __getattr__(self, name):
            reads.append(name)
            raise AttributeError(name)

        def __call__(self, x):
            return ("called", x)

    native, optimized = make_pair("""
    def f(n):
        if n == 0:
            return callee(42)
        return f(n - 1)
    """, env={"callee": Claims()})
    assert native(3) == ("called", 42) and reads == []
    assert optimized(3) == ("called", 42)
    assert reads == []


@pytest.mark.parametrize("bound", [False, True])
def test_a_proxy_of_an_optimized_callee_is_called(make_pair, bound):
    class Holder:
        @_quietly
        def m(self, x):
            return x

    @_quietly
    def plain(x):
        return x

    callee = _Proxy(Holder().m if bound else plain)
    native, optimized = make_pair("""
    def f(n):
        if n == 0:
            return callee(42)
        return f(n - 1)
    """, env={"callee": callee})
    assert optimized(3) == native(3) == ("proxied", 42)


def test_star_call_out_reads_the_callees_defaults_after_consuming(make, strategy):
    source = """
    def g(n, a=1, *, k=10):
        if n == 0:
            return (a, k)
        return g(n - 1)

    def f(n):
        return g(*changer(n))

    def changer(m):
        yield m
        g.__defaults__ = (2,)
        g.__kwdefaults__ = {"k": 20}
    """
    native = make(source, "f")
    plain = make(source, "f")
    namespace = plain.__globals__
    for name in ("g", "f"):
        namespace[name] = tail_optimize(namespace[name], strategy=strategy)
    assert namespace["f"](0) == native(0) == (2, 20)


@pytest.mark.parametrize("star", ["*5", "*None", "**5"])
def test_star_call_out_errors_read_as_natively(make, outcome, strategy, star):
    source = f"""
    def g(n, *rest, **kw):
        return n if n == 0 else g(n - 1)

    def f(n):
        return g({star})
    """
    native = make(source, "f")
    plain = make(source, "f")
    namespace = plain.__globals__
    for name in ("g", "f"):
        namespace[name] = _quietly(namespace[name], strategy=strategy)
    expected = outcome(native, 1)
    assert expected[:2] == ("raise", TypeError)
    assert outcome(namespace["f"], 1) == expected
    # (3.15 compiles g(*None) in a shape that is no call out: f then warns that it has
    # nothing to optimize, which _quietly allows.)


def test_a_record_copied_over_by_functools_wraps_does_not_change_the_function(strategy):
    import functools

    @functools.partial(_quietly, strategy=strategy)
    def inner(a, b):
        return (a, b)

    def outer(n, tag="outer"):
        return (tag, n) if n == 0 else outer(n - 1)

    made = tail_optimize(outer, strategy=strategy)
    functools.update_wrapper(made, inner)  # copies inner's __dict__, its record included
    outer_name = outer.__name__
    assert outer_name == "outer"
    assert made(5) == ("outer", 0)
    made.__dict__.clear()
    assert made(5) == ("outer", 0)


def test_loop_iterators_are_finalised_before_a_caller_handles_the_exception(make):
    source = """
    log = []

    def source(n):
        try:
            yield n
        finally:
            log.append(n)

    def walk(n):
        if n == 0:
            raise ValueError("base")
        for x in source(n):
            return walk(n - 1)

    def caller():
        try:
            walk(3)
        except ValueError:
            return list(log)
    """
    native = make(source, "caller")
    plain = make(source, "caller")
    namespace = plain.__globals__
    if not facts.current().loop_iterator_is_an_object:
        pytest.skip("calls inside for loops are left native on 3.14+")
    namespace["walk"] = tail_optimize(namespace["walk"])
    assert plain() == native() == [1, 2, 3]


def test_wrapper_warning_never_fails_the_call_under_error_filters(make):
    import functools

    plain = make("""
    def tally(n):
        return n if n == 0 else tally(n - 1)
    """)
    optimized = tail_optimize(plain)
    plain.__globals__["tally"] = functools.lru_cache(maxsize=None)(optimized)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plain.__globals__["tally"](30) == 0


def test_the_disable_switch_leaves_functions_as_they_are(make, monkeypatch):
    plain = make("def f(n):\n    return n if n == 0 else f(n - 1)\n")
    monkeypatch.setenv("PYTAILCALL_DISABLE", "1")
    assert tail_optimize(plain) is plain
    assert tail_optimize(strategy="partial")(plain) is plain
    monkeypatch.setenv("PYTAILCALL_DISABLE", "0")
    assert tail_optimize(plain) is not plain


def test_calls_out_wait_for_the_kept_iterators(make):
    """Found by the second review: after jumps out of a for loop, a bounce to another
    function finalised the kept iterators before that function ran."""
    source = """
    log = []

    def opened(xs):
        log.append("open")
        try:
            yield from xs
        finally:
            log.append("close")

    def describe():
        return f"{log.count('open') - log.count('close')} open"

    def report():
        return describe()

    def walk(depth):
        for item in opened([depth]):
            if depth > 0:
                return walk(depth - 1)
            break
        return report()

    def start():
        return walk(3)
    """
    native = make(source, "start")
    plain = make(source, "start")
    namespace = plain.__globals__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        for name in ("describe", "report", "walk", "start"):
            namespace[name] = tail_optimize(namespace[name])
    assert namespace["start"]() == native() == "3 open"


def test_explain_refuses_options_for_an_optimized_function(make):
    optimized = tail_optimize(make("def f(n):\n    return n if n == 0 else f(n - 1)\n"),
                              strategy="partial")
    assert explain(optimized).strategy == "partial"
    with pytest.raises(ValueError, match=r"already optimized.*f\.__wrapped__"):
        explain(optimized, strategy="loop")
    assert explain(optimized.__wrapped__, strategy="loop").strategy == "loop"


@pytest.mark.parametrize("kind", [staticmethod, classmethod])
def test_decorator_order_is_hinted(kind):
    wrapped = kind(lambda *args: 0)
    with pytest.raises(TypeError, match=rf"put @tail_optimize below @{kind.__name__}, "):
        tail_optimize(wrapped)
