"""Tail calls from one optimized function to another run in constant stack.

Self tail calls stay what their strategy makes them; a tail call to another name bounces
through the caller's driver when the callee is an optimized function at the moment of the
call, and is a normal call otherwise.
"""

from __future__ import annotations

import functools
import gc
import importlib
import pickle
import sys
import textwrap
import warnings
import weakref

import pytest
from conftest import STRATEGIES

from pytailcall import TailCallWarning, explain, tail_optimize
from pytailcall._analysis import Reason
from pytailcall._rewrite import LEVEL_NAME, Rewriter
from pytailcall._runtime import NESTED_CALLS

PAIRS = [(a, b) for a in STRATEGIES for b in STRATEGIES]

EVEN_ODD = """
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)

def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)
"""


def _namespace(src: str, **strategies: str) -> dict:
    """Run ``src``; optimize the named functions (leaf functions warn that they make no
    tail calls, and are still bounce targets)."""
    namespace: dict = {"__name__": "between"}
    exec(compile(textwrap.dedent(src), "<between>", "exec", dont_inherit=True), namespace)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*has no calls to itself", TailCallWarning)
        for name, strategy in strategies.items():
            namespace[name] = tail_optimize(namespace[name], strategy=strategy)
    return namespace


def test_mutual_recursion_to_a_million(very_deep):
    ns = _namespace(EVEN_ODD, is_even="loop", is_odd="loop")
    assert ns["is_even"](very_deep) is True
    assert ns["is_odd"](very_deep + 1) is True


@pytest.mark.parametrize(("even", "odd"), PAIRS)
def test_mutual_recursion_across_strategies(even, odd, deep):
    ns = _namespace(EVEN_ODD, is_even=even, is_odd=odd)
    assert ns["is_even"](deep) is True
    assert ns["is_odd"](deep + 1) is True
    assert ns["is_even"](7) is False


def test_calls_out_are_reported_by_explain():
    ns = _namespace(EVEN_ODD, is_even="loop", is_odd="loop")
    report = explain(ns["is_even"])
    assert report.sites == ()
    assert [(site.target, site.optimized) for site in report.calls_out] == [("is_odd", True)]
    assert "is_odd" in str(report)


ROUND_ROBIN = """
def first():
    return second(COUNT[0], 1, 2)

def second(n, a, b):
    DEPTHS.append(stack_depth())
    if n == 0:
        raise ValueError((a, b))
    COUNT[0] = n - 1
    return third(n - 1, a + b, b)

def third(n, a, b):
    return first() if n % 2 else second(n, b, a)
"""


def _stack_depth() -> int:
    frame, depth = sys._getframe(1), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _round_robin(strategy: str) -> dict:
    """Calls between functions of no, three and one positional parameters, any of which
    may be called natively from another's implementation (see
    ``test_nested_calls_keep_the_arguments_and_a_bounded_stack``)."""
    strategies = dict.fromkeys(("first", "second", "third"), strategy) if strategy else {}
    ns = _namespace(ROUND_ROBIN, **strategies)
    ns.update(COUNT=[0], DEPTHS=[], stack_depth=_stack_depth)
    return ns


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_nested_calls_keep_the_arguments_and_a_bounded_stack(strategy, deep):
    """A call between optimized functions passing exactly the callee's positional
    parameters may run the callee's implementation natively, up to NESTED_CALLS frames
    deep, before a bounce unwinds them: the arguments arrive as passed, the exception
    raised at the end is the native one, and the stack stays within that many frames of
    the caller however long the chain."""
    native = _round_robin("")
    native["COUNT"][0] = 40
    with pytest.raises(ValueError) as expected:
        native["first"]()
    ns = _round_robin(strategy)
    ns["COUNT"][0] = 40
    with pytest.raises(ValueError) as got:
        ns["first"]()
    assert got.value.args == expected.value.args
    ns["COUNT"][0] = deep
    ns["DEPTHS"].clear()
    with pytest.raises(ValueError):
        ns["first"]()
    assert len(ns["DEPTHS"]) == deep + 1
    # Per call of ``second``: itself, ``third`` (or a driver's frame) and ``first``.
    assert max(ns["DEPTHS"]) - min(ns["DEPTHS"]) <= 3 * NESTED_CALLS


@pytest.mark.parametrize(("even", "odd"), PAIRS)
def test_a_traceback_through_nested_calls_shows_their_frames(even, odd):
    """The frames of the calls that led to an exception, as far as they are nested, show
    in its traceback with the lines of their calls, innermost last, as natively; no more
    than NESTED_CALLS of them."""
    source = EVEN_ODD.replace("return True", "raise ValueError(n)")
    native = _namespace(source)
    ns = _namespace(source, is_even=even, is_odd=odd)
    for n in (4, 1000):
        with pytest.raises(ValueError) as info:
            ns["is_even"](n)
        frames = [(entry.name, entry.lineno) for entry in info.traceback
                  if entry.frame.f_globals is ns]
        with pytest.raises(ValueError) as expected:
            native["is_even"](min(n, 100))
        native_frames = [(entry.name, entry.lineno) for entry in expected.traceback]
        # How many of the innermost calls are nested depends on where the last bounce fell.
        shown = 4 if n == 4 else 1
        assert frames[-shown:] == native_frames[-shown:]
        # Besides, the public function's frame and the driver's, at the ``def`` line.
        assert len(frames) <= NESTED_CALLS + 3


STATE_MACHINE = """
def start(n, log):
    if n <= 0:
        return log
    if n % 3 == 0:
        return middle(n - 1, log + "s")
    return start(n - 1, log)

def middle(n, log, step=1):
    if n <= 0:
        return log
    return end(n - step, log=log + "m")

def end(n, *, log):
    if n <= 0:
        return log
    return start(n - 1, log + "e") if n % 2 else middle(n, log, step=2)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_state_machine_of_three_functions(strategy, deep):
    native = _namespace(STATE_MACHINE)
    ns = _namespace(STATE_MACHINE, start=strategy, middle=strategy, end=strategy)
    assert ns["start"](300, "") == native["start"](300, "")
    assert len(ns["start"](deep, "")) == len(_run_without_limit(native["start"], deep))


def _run_without_limit(func, n):
    """The native answer for a deep input, computed in pieces small enough to recurse."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * n + 1000))
    try:
        import threading
        if sys.platform == "emscripten":
            pytest.skip("deep native recursion needs a thread with a large stack")
        result = []
        threading.stack_size(512 * 1024 * 1024)
        thread = threading.Thread(target=lambda: result.append(func(n, "")))
        thread.start()
        thread.join()
        threading.stack_size(0)
        return result[0]
    finally:
        sys.setrecursionlimit(limit)


def test_state_machine_across_modules(tmp_path, monkeypatch, deep):
    (tmp_path / "ping_mod.py").write_text(textwrap.dedent("""
        from pytailcall import tail_optimize
        import pong_mod

        @tail_optimize
        def ping(n):
            if n == 0:
                return "ping"
            return pong_mod.pong(n - 1)
        """))
    (tmp_path / "pong_mod.py").write_text(textwrap.dedent("""
        from pytailcall import tail_optimize

        @tail_optimize(strategy="partial")
        def pong(n):
            if n == 0:
                return "pong"
            from ping_mod import ping
            return ping(n - 1)
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    ping = importlib.import_module("ping_mod").ping
    assert ping(deep) == "ping"
    assert ping(deep + 1) == "pong"


def test_plain_callee_is_simply_called():
    calls = []

    def plain(n):
        calls.append(n)
        return ("plain", n)

    ns = _namespace("""
        def walk(n):
            if n:
                return walk(n - 1)
            return plain(n)
        """, walk="loop")
    ns["plain"] = plain
    assert ns["walk"](50_000) == ("plain", 0)
    assert calls == [0]


def test_callee_rebound_to_a_plain_function_is_called_normally():
    """Every call through the rebound name reaches the plain function, as natively."""
    for strategies in ({}, {"is_even": "loop", "is_odd": "partial"}):
        ns = _namespace(EVEN_ODD, **strategies)
        inner = ns["is_odd"]
        seen = []

        def spy(n, inner=inner, seen=seen):
            seen.append(n)
            return inner(n)

        ns["is_odd"] = spy
        assert ns["is_even"](10) is True
        assert seen == [9, 7, 5, 3, 1]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_callee_rebound_after_bounces_is_what_the_next_call_reaches(strategy, deep):
    """A call site remembers the last function it bounced into: rebinding the name to a
    plain function, another optimized function or None must still be seen at once."""
    ns = _namespace(EVEN_ODD, is_even=strategy, is_odd=strategy)
    assert ns["is_even"](deep) is True  # every site has bounced into the other function
    original = ns["is_odd"]
    seen = []

    def spy(n):
        seen.append(n)
        return original(n)

    ns["is_odd"] = spy
    assert ns["is_even"](6) is True
    assert seen == [5, 3, 1]
    other = _namespace("""
        def is_odd(n):
            return ("other", n)
        """, is_odd=strategy)["is_odd"]
    for _ in range(3):  # back and forth between two optimized callees at the same site
        ns["is_odd"] = other
        assert ns["is_even"](6) == ("other", 5)
        ns["is_odd"] = original
        assert ns["is_even"](deep) is True
    ns["is_odd"] = None
    with pytest.raises(TypeError, match="'NoneType' object is not callable"):
        ns["is_even"](6)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_call_site_keeps_no_callee_alive(strategy, deep):
    """What a site remembers of the function it bounced into is a weak reference: once the
    name is rebound, the old function is freed as natively, before the site runs again."""
    ns = _namespace(EVEN_ODD, is_even=strategy, is_odd=strategy)
    assert ns["is_even"](deep) is True
    old = weakref.ref(ns["is_odd"])
    ns["is_odd"] = None
    gc.collect()
    assert old() is None
    # The site's memory of it is gone with it: a new function of the same name is called.
    ns["is_odd"] = _namespace(EVEN_ODD, is_odd=strategy)["is_odd"]
    ns["is_odd"].__globals__["is_even"] = ns["is_even"]
    assert ns["is_even"](deep) is True
    assert ns["is_even"](deep + 1) is False


PING_PONG = """
class Walker:
    def ping(self, n):
        if n == 0:
            return True
        return self.pong(n - 1)

    def pong(self, n):
        if n == 0:
            return False
        return self.ping(n - 1)

def other_pong(self, n):
    return ("other", self, n)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_rebound_after_bounces_is_what_the_next_call_reaches(strategy, deep):
    """The same for a method: what a site remembers never hides a change of the class
    attribute, an instance attribute shadowing it, or the object bound."""
    ns = _namespace(PING_PONG, other_pong=strategy)
    walker_class = ns["Walker"]
    for name in ("ping", "pong"):
        setattr(walker_class, name, tail_optimize(getattr(walker_class, name),
                                                  strategy=strategy))
    walker, another = walker_class(), walker_class()
    assert walker.ping(deep) is True
    original = walker_class.pong
    for _ in range(3):
        walker_class.pong = ns["other_pong"]
        assert walker.ping(6) == ("other", walker, 5)
        assert another.ping(4) == ("other", another, 3)
        walker_class.pong = original
        assert walker.ping(deep) is True
    walker.pong = lambda n: ("instance", n)
    assert walker.ping(6) == ("instance", 5)
    assert another.ping(deep + 1) is False
    del walker.pong
    old = weakref.ref(original)
    del walker_class.pong, original
    gc.collect()
    assert old() is None  # the sites remember it weakly
    with pytest.raises(AttributeError, match="pong"):
        walker.ping(6)


BINDINGS_OF_METHOD_BOUNCES = """
class Hops:
    def __init__(self):
        self.plain = plain  # instance attributes holding plain functions: no object
        self.bare = bare

    def start(self, n, how):
        if how == "method":
            return self.hop(n)
        if how == "defaulted":
            return self.defaulted(n)
        if how == "plain":
            return self.plain(n)
        if how == "bare":
            return self.bare(n)
        if how == "too_many":
            return self.hop(n, 1)
        return self.hop()

    # Each makes a tail call of its own (to ``tuple``), which gives it a bounce target.
    def hop(self, n):
        return tuple(("hop", type(self).__name__, n))

    def defaulted(self, n, extra=5):
        return tuple(("defaulted", n, extra))

def plain(n, extra=7):
    return tuple(("plain", n, extra))

def bare(n):
    return tuple(("bare", n))

def enter(hops, n, how):  # so that start runs under a driver, and bounces
    return hops.start(n, how)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_bounces_bind_the_object_and_defaults_as_a_call_does(strategy, outcome):
    """A method tail call to another optimized function passes the object when the
    attribute is a method and not when it is a plain function on the instance; defaults,
    read at the call, and wrong argument counts behave as natively (3.13+ make such
    bounces without knowing which it is: see Rewriter._bound_maker_entry)."""
    def hops(optimized):
        ns = _namespace(BINDINGS_OF_METHOD_BOUNCES)
        if optimized:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TailCallWarning)  # (leaf functions)
                for name in ("start", "hop", "defaulted"):
                    setattr(ns["Hops"], name, tail_optimize(getattr(ns["Hops"], name),
                                                            strategy=strategy))
                ns["plain"] = tail_optimize(ns["plain"], strategy=strategy)
                ns["bare"] = tail_optimize(ns["bare"], strategy=strategy)
                ns["enter"] = tail_optimize(ns["enter"], strategy=strategy)
        return ns

    native, optimized = hops(False), hops(True)
    for how in ("method", "defaulted", "plain", "bare", "too_many", "too_few"):
        for ns in (native, optimized):
            ns["Hops"].defaulted.__defaults__ = (5,)
        assert outcome(optimized["enter"], optimized["Hops"](), 3, how) == outcome(
            native["enter"], native["Hops"](), 3, how), how
    for ns in (native, optimized):  # defaults are read at each call
        ns["Hops"].hop.__defaults__ = (11,)
        assert outcome(ns["enter"], ns["Hops"](), 3, "too_few") == ("ok", ("hop", "Hops", 11))


@pytest.mark.parametrize("kind", ["function", "method"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_call_site_reads_a_callees_record_once(strategy, kind, deep):
    """Once a site has bounced into a function, later bounces into it skip the full test
    of the callee (its record, read with ``getattr``): what makes a bounce cheap."""
    if kind == "function":
        ns = _namespace(EVEN_ODD, is_even=strategy, is_odd=strategy)
        functions = (ns["is_even"], ns["is_odd"])
        start = ns["is_even"]
    else:
        ns = _namespace(PING_PONG)
        walker_class = ns["Walker"]
        for name in ("ping", "pong"):
            setattr(walker_class, name, tail_optimize(getattr(walker_class, name),
                                                      strategy=strategy))
        functions = (walker_class.ping, walker_class.pong)
        start = walker_class().ping
    reads = []

    def counting(obj, name, default):
        reads.append(name)
        return getattr(obj, name, default)

    for function in functions:  # what each one's rewritten code reads records with
        function.__tail_call__.record_of = counting
    assert start(deep) is True
    assert 0 < len(reads) <= 3  # the public function's call, and each site's first bounce


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_functions_that_bounce_pickle_by_value(strategy, deep):
    """cloudpickle (what Ray, Dask and joblib send functions with) copies a function of an
    unimportable module by value, closure included: what a call site remembers of its
    bounces is left behind, and the copies bounce into each other as the originals do."""
    import cloudpickle  # (a test dependency)

    for calls_before in (0, 1):
        ns = _namespace(EVEN_ODD, is_even=strategy, is_odd=strategy)
        for _ in range(calls_before):
            assert ns["is_even"](deep) is True  # every site remembers a bounce
        copy = pickle.loads(cloudpickle.dumps(ns["is_even"]))
        assert copy is not ns["is_even"]
        assert copy(deep) is True
        assert copy(deep + 1) is False


def _long_function_of_calls_out(branches: int) -> str:
    """One function of ``branches`` tail calls to other names, of every shape: far enough
    apart that some call sequences are too short for a jump to their stubs."""
    lines = ["def mid(n, m):"]
    for k in range(branches):
        lines.append([f"    if n == {k}: return g(n)",
                      f"    if n == {k}: return o.meth(n)",
                      f"    if n == {k}: return g(n) if m else h(n, m)",
                      f"    if n == {k}: return h(n, {k})",
                      f"    if n == {k}:\n        x = [n] * 3\n        return h(*x[:2])"][k % 5])
    return "\n".join([*lines, "    return ('end', n)"])


def _refused_calls_out(source: str) -> list[tuple[int, str]]:
    """The calls out of ``mid`` in ``source`` that were left normal calls."""
    ns = _namespace(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        report = explain(tail_optimize(ns["mid"]))
    assert report.calls_out  # (the function was made, not left as it was)
    return [(site.lineno, site.target) for site in report.calls_out if not site.optimized]


def test_fast_bounces_never_leave_a_call_without_its_jump(monkeypatch):
    """The longer stubs of fast bounces (remembered markers, 3.13's C-level maker) are left
    out of a layout that would otherwise refuse a call for lack of room: a long function
    has exactly the refusals it has without them."""
    source = _long_function_of_calls_out(300)
    # (Without taking their arguments' last instruction along, see the next test.)
    monkeypatch.setattr(Rewriter, "_widen", lambda self, site, sites: False)
    with_fast_bounces = _refused_calls_out(source)
    if sys.version_info < (3, 14):  # (3.14+ leave room enough here: nothing refused)
        assert with_fast_bounces  # some calls are too short for any jump that far
    plain_init = Rewriter.__init__

    def without_fast_bounces(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        self.fast_bounces = False

    monkeypatch.setattr(Rewriter, "__init__", without_fast_bounces)
    assert _refused_calls_out(source) == with_fast_bounces


@pytest.mark.parametrize("strategy", ["loop", "return_tuple", "partial"])
def test_calls_out_too_short_for_their_jump_take_their_last_argument_along(strategy):
    """``return h(*x[:2])`` far from its stub (``CALL_FUNCTION_EX``, one code unit before
    3.14, and a return too far for the one before it to move: 16, 25 and 25 calls of 300
    refused on 3.11, 3.12 and 3.13 with "please report this") runs the instruction that
    ends its arguments in its stub instead: nothing refused, every branch as natively."""
    source = _long_function_of_calls_out(300) + textwrap.dedent("""
        def g(n):
            return ('g', n)
        def h(n, m):
            return ('h', n, m)
        class O:
            def meth(self, n):
                return ('meth', n)
        o = O()
        """)
    assert _refused_calls_out(source) == []
    native = _namespace(source)
    ns = _namespace(source, mid=strategy, g=strategy, h=strategy)
    for n in range(300):
        assert ns["mid"](n, n % 2) == native["mid"](n, n % 2), n


@pytest.mark.parametrize("strategy", ["loop", "return_tuple", "partial"])
@pytest.mark.parametrize("captured", [250, 251, 252, 253, 254, 255, 256, 300])
def test_a_closure_over_any_number_of_variables_is_made(strategy, captured, deep):
    """``COPY_FREE_VARS`` counts the closure's variables and the ones the rewrite adds; past
    255 the count needs an ``EXTENDED_ARG`` the compiler left no room for where its own
    count was below 256, and the rewrite copies them all before the function's code
    instead. Every call is optimized, calls out nest, whatever the count (found by review:
    a closure over 253 to 255 variables, with ours added, was left as it was, with a
    warning saying "please report this"; and near the limit, the level of nested calls and
    the remembered bounces were left out)."""
    names = [f"v{i}" for i in range(captured)]
    source = ("def outer():\n" + "".join(f"    {name} = 1\n" for name in names)
              + "    def f(n, acc):\n        s = " + " + ".join(names) + "\n"
              "        if n <= 0:\n            return acc + s\n"
              "        if n % 2:\n            return g(n - 1, acc)\n"
              "        return f(n - 1, acc + 1)\n    return f\n"
              "def g(n, acc):\n    return F(n - 1, acc + 1) if n > 0 else acc\n")
    native = _namespace(source)
    native["F"] = native["outer"]()
    ns = _namespace(source, g=strategy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TailCallWarning)
        ns["F"] = optimized = tail_optimize(ns["outer"](), strategy=strategy)
    implementation = optimized.__tail_call__.marker.impl
    assert implementation.__code__.co_freevars[-1] == LEVEL_NAME
    report = explain(optimized)
    assert all(site.optimized for site in (*report.sites, *report.calls_out))
    assert optimized(300, 0) == native["F"](300, 0) == 150
    even = deep - deep % 2  # f(2k, 0) -> f(2k - 1, 1) -> g(2k - 2, 1) -> ... -> g(0, k)
    assert optimized(even, 0) == even // 2


def test_nested_calls_never_leave_a_call_without_its_jump(monkeypatch):
    """The same for the nested calls of implementations, a little longer than the
    bounces they replace (one more call was refused here before they gave way)."""
    source = _long_function_of_calls_out(300)
    with_nested_calls = _refused_calls_out(source)
    plain_init = Rewriter.__init__

    def without_nested_calls(self, *args, **kwargs):
        kwargs["nests_calls_out"] = False
        plain_init(self, *args, **kwargs)

    monkeypatch.setattr(Rewriter, "__init__", without_nested_calls)
    assert _refused_calls_out(source) == with_nested_calls


def test_a_free_variable_slot_out_of_place_refuses_the_function(monkeypatch):
    """The stubs load the free variables they add by slot numbers the rewriter computes
    one by one; if one were wrong (as the level's once was, during development: a read past
    the frame's end, which crashed), the made code is refused, with the usual "please
    report this", and the function stays as it was."""
    plain_plan = Rewriter._plan_bounce_caches

    def misplaced(self, calls_out):
        plain_plan(self, calls_out)
        self.level_slot += 1

    monkeypatch.setattr(Rewriter, "_plan_bounce_caches", misplaced)
    ns = _namespace("""
        def count(n):
            if n == 0:
                return done(n)
            return count(n - 1)

        def done(n):
            return n
        """)
    with pytest.warns(TailCallWarning, match="please report this"):
        made = tail_optimize(ns["count"])
    assert not explain(made).optimized
    assert made(10) == 0


RENAMED = """
def make():
    def m(self, a):
        return tuple(("m", a))
    m.__qualname__ = "Thing.m"  # as class factories and metaclasses do
    return m

class Thing:
    m = make()

    def go(self, x, how):
        if how == "method":
            return self.m(x, x)  # one argument too many
        return free(x, x)

def free(a):
    return tuple(("free", a))

free.__qualname__ = "renamed_free"

def enter(thing, x, how):  # so that go runs under a driver, and bounces
    return thing.go(x, how)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bad_calls_that_bounce_name_the_function_as_a_call_does(strategy, outcome):
    """A call's TypeError names the function by its ``__qualname__``, which may differ
    from its code's: a bounced call, made by the driver, must name it the same."""
    native = _namespace(RENAMED)
    optimized = _namespace(RENAMED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        for name in ("m", "go"):
            setattr(optimized["Thing"], name, tail_optimize(getattr(optimized["Thing"], name),
                                                            strategy=strategy))
        for name in ("free", "enter"):
            optimized[name] = tail_optimize(optimized[name], strategy=strategy)
    for how in ("method", "function"):
        expected = outcome(native["enter"], native["Thing"](), 1, how)
        named = "Thing.m()" if how == "method" else "renamed_free()"
        assert expected[0] == "raise" and expected[2].startswith(named), expected
        assert outcome(optimized["enter"], optimized["Thing"](), 1, how) == expected, how


def test_wrapper_above_an_optimized_callee_sees_every_call():
    ns = _namespace(EVEN_ODD, is_even="loop", is_odd="loop")
    counted = []
    inner = ns["is_odd"]

    @functools.wraps(inner)  # copies the inner function's __dict__, and its pytailcall record
    def counting(n):
        counted.append(n)
        return inner(n)

    ns["is_odd"] = counting
    assert ns["is_even"](20) is True
    assert counted == [19, 17, 15, 13, 11, 9, 7, 5, 3, 1]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_results_that_look_like_bounces_are_results(strategy):
    ns = _namespace("""
        import functools

        def first(n):
            return second(n)

        def second(n):
            if n == 0:
                return (1, None)
            if n == 2:
                return ()
            if n == 3:
                return (None, second)
            return functools.partial(int, "7")
        """, first=strategy, second=strategy)
    assert ns["first"](0) == (1, None)
    assert ns["first"](1)() == 7
    assert ns["first"](2) == ()
    assert ns["first"](3) == (None, ns["second"])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bounced_call_binds_like_a_call(strategy):
    ns = _namespace("""
        def caller(kind):
            if kind == "keywords":
                return callee(3, scale=2)
            if kind == "defaults":
                return callee(3)
            if kind == "star":
                return callee(*[3], **{"scale": 5})
            return callee(3, nope=1)

        def callee(n, *, scale=1):
            return n * scale
        """, caller=strategy, callee=strategy)
    caller, callee = ns["caller"], ns["callee"]
    assert [caller("keywords"), caller("defaults"), caller("star")] == [6, 3, 15]
    with pytest.raises(TypeError, match="callee\\(\\) got an unexpected keyword argument 'nope'"):
        caller("bad")
    callee.__kwdefaults__ = {"scale": 10}
    assert caller("defaults") == 30


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_first_bounce_with_keywords_binds_with_the_defaults_of_that_moment(strategy):
    """A bounce with keywords binds with the public function's defaults as they are at that
    moment, changed since the decoration, the first bounce and every one after it (the step
    function that binds reads them at each bounce; its code is shared by every function of
    the same code object, the defaults are not)."""
    ns = _namespace("""
        def caller(n):
            return callee(n, scale=2)

        def plain(n):
            return callee(n)

        def callee(n, extra=0, *, scale=1):
            return n * scale + extra
        """, caller=strategy, plain=strategy, callee=strategy)
    callee = ns["callee"]
    callee.__defaults__ = (100,)
    callee.__kwdefaults__ = {"scale": 7}
    assert ns["caller"](3) == 106
    assert ns["plain"](3) == 121
    callee.__defaults__ = (1000,)
    assert ns["caller"](3) == 1006


@pytest.mark.threads
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_threads_bouncing_into_a_function_for_the_first_time_at_once(strategy):
    """Threads making the first bounces into a function at the same moment (each call site
    then remembers the callee it bounced into) all get their results."""
    import threading

    source = """
        def caller(n, k):
            return callee(n, scale=k)

        def callee(n, *, scale=1):
            return n * scale
        """
    for _ in range(20):
        ns = _namespace(source, caller=strategy, callee=strategy)
        barrier = threading.Barrier(4)
        results: dict[int, int] = {}

        def run(k: int, ns: dict = ns, barrier: threading.Barrier = barrier,
                results: dict[int, int] = results) -> None:
            barrier.wait()
            results[k] = ns["caller"](5, k)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == {k: 5 * k for k in range(4)}


def test_exception_in_bounced_callee_propagates_with_its_frame():
    ns = _namespace("""
        def first(n):
            return second(n)

        def second(n):
            raise ValueError(f"bad {n}")
        """, first="loop", second="loop")
    with pytest.raises(ValueError, match="bad 4") as info:
        ns["first"](4)
    assert info.traceback[-1].name == "second"


METHODS = """
class Counter:
    def count(self, n, acc=0):
        if n == 0:
            return acc
        return self.count(n - 1, acc + self.step())

    def step(self):
        return 1

class Doubling(Counter):
    def count(self, n, acc=0):
        return super().count(n, acc) * 2
"""

def _counter_class(strategy):
    ns = _namespace(METHODS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        ns["Counter"].count = tail_optimize(ns["Counter"].count, strategy=strategy)
    return ns


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_tail_call_runs_in_constant_stack(strategy, deep):
    ns = _counter_class(strategy)
    assert ns["Counter"]().count(deep) == deep
    assert all(site.optimized for site in explain(ns["Counter"].count).sites)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_override_in_a_subclass_is_called(strategy):
    ns = _counter_class(strategy)
    # Natively: Doubling.count doubles once per level; the override must be honoured.
    native = _namespace(METHODS)
    assert ns["Doubling"]().count(5) == native["Doubling"]().count(5)


METHOD_SHAPES = """
import sys

class Shapes:
    def __init__(self):
        self.helper = self.plain  # an instance attribute holding a bound method

    def plain(self, n, acc=0):
        return ("plain", n, acc)

    def no_arguments(self):
        self.left -= 1
        if self.left == 0:
            return ("none", sys._getframe().f_back is None)
        return self.no_arguments()

    def keywords(self, n, acc=0):
        if n == 0:
            return ("keywords", acc)
        return self.keywords(n - 1, acc=acc + 1)

    def comprehension(self, xs):
        if len(xs) == 0:
            return "comprehension"
        return self.comprehension([x for x in xs[1:]])

    def conditional(self, n, flag=False):
        if n == 0:
            return ("conditional", flag)
        return self.conditional(n - 1, True if n % 2 else False)

    def through_attribute(self, n):
        return self.helper(n, acc=1)

    @staticmethod
    def static(n):
        return n if n == 0 else Shapes.static(n - 1)

    def receiver(self, others, n):
        if n == 0:
            return ("receiver", len(others))
        return others[n % len(others)].receiver(others, n - 1)

class Base:
    def count(self, n, acc=0):
        if n == 0:
            return ("base", acc)
        return self.count(n - 1, acc + 1)  # Child's override, for a Child

class Child(Base):
    def count(self, n, acc=0):
        return super().count(n, acc + 1)
"""

_OPTIMIZED_SHAPES = ("no_arguments", "keywords", "comprehension", "conditional",
                     "through_attribute", "receiver")


def _shapes(strategy=None):
    ns = _namespace(METHOD_SHAPES)
    if strategy is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TailCallWarning)
            for name in _OPTIMIZED_SHAPES:
                setattr(ns["Shapes"], name, tail_optimize(getattr(ns["Shapes"], name),
                                                          strategy=strategy))
            ns["Shapes"].static = staticmethod(tail_optimize(ns["Shapes"].static,
                                                             strategy=strategy))
            ns["Child"].count = tail_optimize(ns["Child"].count, strategy=strategy)
            ns["Base"].count = tail_optimize(ns["Base"].count, strategy=strategy)
    return ns


def _run_shapes(ns, n):
    shapes = ns["Shapes"]()
    shapes.left = n
    return [shapes.no_arguments(), shapes.keywords(n), shapes.comprehension(list(range(n))),
            shapes.conditional(n), shapes.through_attribute(n), ns["Shapes"].static(n),
            shapes.receiver([shapes, ns["Shapes"]()], n), ns["Child"]().count(n)]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_call_shapes_agree_with_native(strategy):
    """Every layout of a method tail call (3.11 and 3.12 rewrite it to a bound-method load:
    no arguments, keywords, a comprehension with its own handler among the arguments, a
    conditional argument, a bound method in an instance attribute, a static method,
    another receiver, ``super()``) gives the native result."""
    assert _run_shapes(_shapes(strategy), 30) == _run_shapes(_shapes(), 30)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_call_shapes_run_in_constant_stack(strategy, deep):
    ns = _shapes(strategy)
    shapes = ns["Shapes"]()
    shapes.left = deep
    assert shapes.no_arguments() == ("none", False)
    assert shapes.keywords(deep) == ("keywords", deep)
    assert shapes.receiver([shapes, ns["Shapes"]()], deep) == ("receiver", 2)
    assert ns["Shapes"].static(deep) == 0
    # super().count(...): LOAD_METHOD on 3.11, LOAD_SUPER_ATTR from 3.12.
    assert ns["Child"]().count(deep) == ("base", 2 * deep + 1)
    for cls in ("Child", "Base"):  # (a call to the method's own name: listed as a site)
        site, = explain(ns[cls].count).sites
        assert site.optimized, site
    for name in _OPTIMIZED_SHAPES:
        report = explain(getattr(ns["Shapes"], name))
        sites = (*report.sites, *report.calls_out)
        if name == "conditional" and sys.version_info[:2] == (3, 12):
            # 3.12 copies the call into both arms of the conditional, sharing one method
            # load: it stays a normal call, reported (see Reason.METHOD_BOUND_FORM).
            assert [site.reason for site in sites] == [Reason.METHOD_BOUND_FORM] * 2
        else:
            assert sites and all(site.optimized for site in sites), report


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_method_calls_without_arguments_to_other_objects(strategy):
    """``return self.raw.seekable()`` inside ``seekable`` (the standard library's _pyio): a
    call to the method's own name, without arguments, that finds another object's method
    is called normally, the NULL of the call back in its place on every version (3.13
    crashed); and a call of another method without arguments (3.11 and 3.12 load it as a
    bound method too)."""
    source = """
    class Raw:
        def seekable(self):
            return "raw"

        def name(self):
            return "raw name"

    class Buffered:
        def __init__(self, raw):
            self.raw = raw

        def seekable(self):
            return self.raw.seekable()

        def name(self):
            return self.raw.name()
    """
    results = []
    for optimize in (False, True):
        ns = _namespace(source)
        if optimize:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TailCallWarning)
                for method in ("seekable", "name"):
                    setattr(ns["Buffered"], method, tail_optimize(
                        getattr(ns["Buffered"], method), strategy=strategy))
        buffered = ns["Buffered"](ns["Raw"]())
        nested = ns["Buffered"](ns["Buffered"](ns["Raw"]()))
        results.append([buffered.seekable(), nested.seekable(), buffered.name(),
                        nested.name()])
    assert results[0] == results[1] == ["raw", "raw", "raw name", "raw name"]


def test_missing_method_raises_the_native_error():
    source = """
    class Thing:
        def go(self, n):
            return self.gone(n)
    """
    native, optimized = _namespace(source)["Thing"], _namespace(source)["Thing"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        optimized.go = tail_optimize(optimized.go)
    errors = []
    for cls in (native, optimized):
        with pytest.raises(AttributeError) as info:
            cls().go(1)
        errors.append((str(info.value), info.traceback[-1].lineno))
    assert errors[0] == errors[1]
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_classmethod_tail_call_bounces(strategy, deep):
    ns = _namespace("""
        class Walker:
            @classmethod
            def walk(cls, n, acc=0):
                if n == 0:
                    return (cls.__name__, acc)
                return cls.walk(n - 1, acc + 1)

        class Runner(Walker):
            pass
        """)
    walker = ns["Walker"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        walker.walk = classmethod(tail_optimize(walker.walk.__func__, strategy=strategy))
    assert ns["Runner"].walk(deep) == ("Runner", deep)


OWN_METHOD = """
import sys

class Walker:
    def walk(self, n, acc=0):
        if n == 0:
            return (type(self).__name__, acc, sys._getframe(1).f_code.co_name)
        return self.walk(n - 1, acc + 1)

    def captured(self, n):
        if n == 0:
            return (lambda: self)() is self
        return self.captured(n - 1)

class Louder(Walker):
    def walk(self, n, acc=0):
        return super().walk(n, acc + 100) if n % 10 == 0 else ("louder", n, acc)

def caller(walker, n):
    return walker.walk(n)
"""


def _own_method_namespace(strategy=None):
    ns = _namespace(OWN_METHOD)
    if strategy is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TailCallWarning)
            for name in ("walk", "captured"):
                setattr(ns["Walker"], name, tail_optimize(getattr(ns["Walker"], name),
                                                          strategy=strategy))
    return ns


def test_own_method_call_jumps_in_one_frame(very_deep):
    """``self.walk(...)`` in ``walk`` jumps when the method found is this function: the base
    case's caller is the first caller, as after a self tail call (no driver frame)."""
    ns = _own_method_namespace("loop")
    assert ns["caller"](ns["Walker"](), very_deep) == ("Walker", very_deep, "caller")
    assert ns["Walker"]().captured(10_000) is True
    site, = explain(ns["Walker"].walk).sites
    assert site.optimized and site.via.startswith("jump when the method found is this function")


OWN_METHOD_BINDER = """
import sys

class Counter:
    def down(self, n, acc=0, step=1):
        if n <= 0:
            return acc, step, sys._getframe(1).f_code.co_name
        return self.down(n - step, acc + 1)

    def rest(self, n, *seen):
        if n == 0:
            return seen
        return self.rest(n - 1, n, "x")

    def keyword_only(self, n, *, acc=0):
        if n == 0:
            return acc
        return self.keyword_only(n - 1)

    def too_many(self, n):
        return self.too_many(n, n)

    def by_keyword(self, n, acc=0, **seen):
        if n == 0:
            return acc, sorted(seen)
        return self.by_keyword(n=n - 1, last=n)

    def twice(self, n, acc=0):
        return self.twice(n, n=1)

def caller(counter, n):
    return counter.down(n)
"""

BINDER_METHODS = ("down", "rest", "keyword_only", "too_many", "by_keyword", "twice")


def _binder_methods(strategy=None):
    ns = _namespace(OWN_METHOD_BINDER)
    if strategy is not None:
        for name in BINDER_METHODS:
            setattr(ns["Counter"], name, tail_optimize(getattr(ns["Counter"], name),
                                                       strategy=strategy))
    return ns


def _outcome(method, *args, **kwargs):
    try:
        outcome = method(*args, **kwargs)
    except TypeError as error:
        return "TypeError", str(error)
    # (``down`` returns its caller's name too: natively that is ``down`` itself)
    return outcome[:2] if isinstance(outcome, tuple) and len(outcome) == 3 else outcome


def test_own_method_call_leaving_a_default_out_jumps_through_the_binder(very_deep):
    """``self.down(n - step, acc + 1)`` leaves ``step`` out: the function's binder binds
    the object and the arguments (by keyword too) with the defaults of the moment, and the
    call jumps (it bounced, through a driver, before: found by review), in one frame."""
    ns = _binder_methods("loop")
    assert ns["caller"](ns["Counter"](), very_deep) == (very_deep, 1, "caller")
    for name in BINDER_METHODS:
        site, = explain(getattr(ns["Counter"], name)).sites
        assert site.optimized and site.via.startswith("jump when the method found"), name
    assert ns["Counter"]().rest(very_deep) == (1, "x")
    assert ns["Counter"]().by_keyword(very_deep) == (0, ["last"])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_own_method_calls_bound_by_the_binder_agree_with_native(strategy):
    """Defaults read when each call runs (changed after decoration, or gone), ``*args``
    and ``**kwargs`` filled, keyword-only defaults, arguments by keyword, and the
    ``TypeError`` of a call with too many values or one given twice: as natively, message
    for message (the trampolines bounce from the same binding)."""
    results = []
    for made_with in (None, strategy):
        ns = _binder_methods(made_with)
        counter, cls = ns["Counter"](), ns["Counter"]
        got = [_outcome(counter.down, 7), _outcome(counter.rest, 3),
               _outcome(counter.keyword_only, 4), _outcome(counter.too_many, 1),
               _outcome(counter.by_keyword, 3), _outcome(counter.twice, 1)]
        cls.down.__defaults__ = (10, 2)
        cls.keyword_only.__kwdefaults__ = {"acc": 7}
        got += [_outcome(counter.down, 7), _outcome(counter.keyword_only, 4)]
        cls.down.__defaults__ = None
        cls.keyword_only.__kwdefaults__ = None
        got += [_outcome(counter.down, 7, 0, 1), _outcome(counter.keyword_only, 2, acc=1)]
        results.append(got)
    native, optimized_results = results
    assert optimized_results == native
    assert native[0] == (7, 1) and native[4] == (0, ["last"])
    assert native[6] == (14, 2)
    assert {native[i][0] for i in (3, 5, 8, 9)} == {"TypeError"}


FORWARDS_TO_A_METHOD = """
class State:
    def nextfile(self):
        return "the state's"

_state = State()

def nextfile():
    return _state.nextfile()
"""


def test_function_without_parameters_calling_a_method_of_its_name_bounces():
    """``fileinput.nextfile()`` returns ``_state.nextfile()``: a method of its own name,
    but no parameter could take the object, so it bounces (a binder for it was once
    generated as ``return (,)``, a SyntaxError at decoration: found on the standard
    library)."""
    ns = _namespace(FORWARDS_TO_A_METHOD)
    made = tail_optimize(ns["nextfile"])
    assert made() == "the state's"
    site, = explain(made).sites
    assert site.optimized and site.via.startswith("bounce to it")


OWN_METHOD_IN_TRY = """
class Counter:
    def down(self, n):
        try:
            if n <= 0:
                raise ValueError("bottom")
            return self.down(n - 1)
        except ValueError as error:
            return str(error), n
"""


def test_own_method_call_in_a_try_with_escape_try_is_left_native_and_says_why():
    """Under ``escape_try`` a method's call through its object is not made a jump, and a
    bounce would leave the ``try``: left a normal call, with a reason that names the
    method call (it said "only a jump ... to the function itself", which this call is,
    found by review)."""
    native = _namespace(OWN_METHOD_IN_TRY)["Counter"]
    made = _namespace(OWN_METHOD_IN_TRY)["Counter"]
    with pytest.warns(TailCallWarning, match="through its object") as caught:
        made.down = tail_optimize(made.down, escape_try=True)
    assert "to the function itself" not in str(caught[0].message)
    site, = explain(made.down).sites
    assert not site.optimized and site.reason == Reason.ESCAPE_TRY_METHOD
    assert made().down(5) == native().down(5) == ("bottom", 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_own_method_call_finds_overrides_and_proxies(strategy):
    native, optimized = _own_method_namespace(), _own_method_namespace(strategy)
    for ns in (native, optimized):
        ns["results"] = [ns["caller"](ns["Louder"](), 20), ns["caller"](ns["Louder"](), 3)]
        walker = ns["Walker"]()
        # An object that says it is a bound method of walk (its class and __func__ agree)
        # is called, not jumped through.
        walker.walk = _MethodProxy(walker.walk)
        ns["results"].append(ns["Walker"].walk(walker, 2))
    assert optimized["results"] == native["results"]
    assert native["results"][-1] == ("proxied", 1, 1)


class _MethodProxy:
    def __init__(self, wrapped):
        object.__setattr__(self, "_wrapped", wrapped)

    @property
    def __class__(self):
        return type(self._wrapped)

    def __getattr__(self, name):
        return getattr(self._wrapped, name)

    def __call__(self, *args, **kwargs):
        return ("proxied", *args)
