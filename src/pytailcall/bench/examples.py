"""The benchmark workload: tail-recursive functions and their hand-written loops.

Each example exists three times: as a plain *native* recursive function that calls itself
through its own module-level name (the call ``tail_optimize`` rewrites), as a hand-written
``while True`` loop, the speed a rewrite tries to reach, and as that loop *guarded*: before
each jump back it checks, as an exact rewrite must, that its global name still holds the
function itself (``if gcd_guarded is not me: return gcd_guarded(...)``), the floor of any
exact rewrite.  Optimized variants are built at run time by :func:`build_variants`, in a
namespace of their own, so that their self call finds the optimized function under its
global name rather than the native one.  Beside the strategies, the loop strategy is built
once more with ``name_guard=False`` (:data:`UNGUARDED_LOOP`): the promise that the name
always holds the function lets its self calls jump without the check, which the benchmark
compares with the hand loop.

Variants are labelled with the seed write-up's names: ``native``, one label per
``tail_optimize`` strategy (:data:`STRATEGIES`: ``loop`` is the seed's ``internal_loop``),
and ours, ``unguarded_loop``, ``hand_loop`` and ``guarded_loop``.  Which strategies exist is
asked of ``tail_optimize`` at run time (:func:`available_strategies`), so the benchmark runs
before every strategy is written.

Beside the examples, one pair of functions calling each other (:data:`EVEN_ODD`,
``is_even``/``is_odd``) measures what a tail call *between* optimized functions costs: each
one is a bounce through a driver, where a self call of the loop strategy is a jump.  The
benchmark section that times it is named :data:`BOUNCE`.

Last, three self calls whose result is still worked on (``return n * fact_mod(n - 1, m) %
m``, ``return 1 + length(node[1])``, ``return (n, build(n - 1))``: :data:`CONTEXT_CASES`)
measure tail recursion modulo context: ``tail_optimize``'s default loop strategy saves the
work left after the call on a list and replays it at each return, which a hand-written
two-loop version does too (push the pending operands, then fold them).  The benchmark
section that times them is named :data:`CONTEXT`.

Then methods (:class:`Walker`, the section :data:`METHODS`): ``return self.walk(n - 1, acc +
1)`` inside ``walk`` jumps once ``walk`` is optimized, when ``self.walk`` is a bound method of
that very function; ``ping`` and ``pong`` call each other through ``self`` and bounce, as
``is_even``/``is_odd`` do.  Their optimized forms live in a copy of the class
(:func:`optimized_class`), so the module's class stays native.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pytailcall import TailCallReport

AnyFunc = Callable[..., Any]

NATIVE = "native"
HAND_LOOP = "hand_loop"
GUARDED_LOOP = "guarded_loop"
"""The hand loop with the identity check exact semantics needs before each jump back."""
UNGUARDED_LOOP = "unguarded_loop"
"""The loop strategy with ``name_guard=False``: its self calls jump without checking that
the global name still holds the function (built where the loop strategy is available)."""
UNGUARDED = "without the name guard"
"""What ``explain()`` says, in a call site's ``via``, of a self call that jumps unchecked:
the :data:`UNGUARDED_LOOP` variant's self calls must all show it."""
STRATEGIES: dict[str, str] = {
    "loop": "internal_loop",
    "partial": "partial_func",
    "return_tuple": "return_tuple",
}
"""``tail_optimize`` strategy -> the seed's name for it, which labels its variant; in the
order of the seed's examples table."""
LOOP = STRATEGIES["loop"]

FIB = "fib"
"""The example the seed's fib timings and fib(50) check use."""
FIB_NS: tuple[int, ...] = (5, 750, 5000)
"""The seed's fib timings: overheads, real recursion, deeper than the recursion limit."""
FIB_CHECK_N = 50
"""The seed's correctness check: every variant of fib agrees on fib(50)."""

BOUNCE = "bounce"
"""The ``--only`` name of the section timing tail calls between functions."""
CONTEXT = "context"
"""The ``--only`` name of the section timing tail recursion modulo context."""
METHODS = "methods"
"""The ``--only`` name of the section timing tail calls in methods."""
SECTIONS = (BOUNCE, CONTEXT, METHODS)
"""The ``--only`` names of sections, which select no example."""
MODULO_CONTEXT = "modulo context"
"""What ``explain()`` says, in a call site's ``via``, of a self call optimized by saving the
work after it: the :data:`CONTEXT` section's optimized variants must show it."""
METHOD_JUMP = "jump when the method found is this function"
"""What ``explain()`` says, in a call site's ``via``, of ``self.walk(...)`` inside ``walk``
optimized by the loop strategy: the :data:`METHODS` section's ``walk`` must show it."""


# --- the native tail-recursive functions ------------------------------------------------


def reverse_string(normal: str, reverse: str = "") -> str:
    try:
        return reverse_string(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


def gcd(a: int, b: int) -> int:
    remainder = a % b
    if remainder:
        return gcd(b, remainder)
    return b


def modulo(val: int, div: int) -> int:
    if val < div:
        return val
    return modulo(val - div, div)


def string_merge(a: str, b: str, merge: str = "") -> str:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return string_merge(a, b[1:], merge + b[0])
    return string_merge(a[1:], b, merge + a[0])


def to_binary(n: int, result: str = "") -> str:
    if n < 2:
        return str(n) + result
    return to_binary(n // 2, str(n % 2) + result)


def collatz(n: int, i: int = 0) -> int:
    if n == 1:
        return i
    if n % 2 == 0:
        return collatz(n // 2, i + 1)
    return collatz(3 * n + 1, i + 1)


def fib(i: int, current: int = 0, next: int = 1) -> int:
    # ``next`` shadows the builtin: the seed's parameter name, kept for fidelity.
    if i == 0:
        return current
    return fib(i - 1, next, current + next)


# Tail calls between two functions: is_even(n) makes n calls, alternately to each.


def is_even(n: int) -> bool:
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n: int) -> bool:
    if n == 0:
        return False
    return is_even(n - 1)


# Self calls whose result is still worked on: optimized by tail recursion modulo context.


def fact_mod(n: int, m: int) -> int:
    if n <= 1:
        return 1
    return n * fact_mod(n - 1, m) % m


def length(node: Any) -> int:
    if node is None:
        return 0
    return 1 + length(node[1])


def build(n: int) -> Any:
    if n == 0:
        return None
    return (n, build(n - 1))


# Tail calls through ``self``: to the method itself (walk), and between two (ping, pong).


class Walker:
    """The :data:`METHODS` section's class: its tail-recursive methods and, beside them,
    their hand-written loops, called on an instance like the methods they replace."""

    def walk(self, n: int, acc: int) -> int:
        if n == 0:
            return acc
        return self.walk(n - 1, acc + 1)

    def ping(self, n: int) -> bool:
        if n == 0:
            return True
        return self.pong(n - 1)

    def pong(self, n: int) -> bool:
        if n == 0:
            return False
        return self.ping(n - 1)

    def walk_unrecursed(self, n: int, acc: int) -> int:
        while True:
            if n == 0:
                return acc
            n, acc = n - 1, acc + 1

    def ping_unrecursed(self, n: int) -> bool:
        even = True
        while n:
            n -= 1
            even = not even
        return even


# --- the hand-written loops: what an ideal rewrite would compile to -----------------------


def reverse_string_unrecursed(normal: str, reverse: str = "") -> str:
    while True:
        try:
            normal, reverse = normal[:-1], reverse + normal[-1]
        except IndexError:
            return reverse


def gcd_unrecursed(a: int, b: int) -> int:
    while True:
        remainder = a % b
        if remainder:
            a, b = b, remainder
            continue
        return b


def modulo_unrecursed(val: int, div: int) -> int:
    while True:
        if val < div:
            return val
        val = val - div


def string_merge_unrecursed(a: str, b: str, merge: str = "") -> str:
    while True:
        if not a:
            return merge + b
        if not b:
            return merge + a
        if a[0] > b[0]:
            b, merge = b[1:], merge + b[0]
        else:
            a, merge = a[1:], merge + a[0]


def to_binary_unrecursed(n: int, result: str = "") -> str:
    while True:
        if n < 2:
            return str(n) + result
        n, result = n // 2, str(n % 2) + result


def collatz_unrecursed(n: int, i: int = 0) -> int:
    while True:
        if n == 1:
            return i
        if n % 2 == 0:
            n, i = n // 2, i + 1
        else:
            n, i = 3 * n + 1, i + 1


def fib_unrecursed(i: int, current: int = 0, next: int = 1) -> int:
    while True:
        if i == 0:
            return current
        i, current, next = i - 1, next, current + next


def is_even_unrecursed(n: int) -> bool:
    even = True
    while n:
        n -= 1
        even = not even
    return even


# Modulo context by hand (benchmarks/modulo_context.py's): a first loop pushes what each
# level would have left to do, a second folds it from the deepest level back up.


def fact_mod_unrecursed(n: int, m: int) -> int:
    pending = []
    while n > 1:
        pending.append(n)
        n -= 1
    result = 1
    while pending:
        result = pending.pop() * result % m
    return result


def length_unrecursed(node: Any) -> int:
    pending = 0
    while node is not None:
        pending += 1
        node = node[1]
    result = 0
    for _ in range(pending):
        result = 1 + result
    return result


def build_unrecursed(n: int) -> Any:
    pending = []
    while n != 0:
        pending.append(n)
        n -= 1
    result: Any = None
    while pending:
        result = (pending.pop(), result)
    return result


# --- the guarded loops: the floor of an exact rewrite -------------------------------------
#
# Each is its hand loop with, before the parameters are rebound, the check an exact rewrite
# cannot skip: the call ``return name(...)`` calls whatever ``name`` is *now*, so the loop
# may only jump back while the global name still holds the function itself.  As in the
# loop strategy's rewrite, the name is a global lookup (LOAD_GLOBAL) and the function is
# held in a closure cell (``me``, LOAD_DEREF).  Each factory declares the function's name
# global, so the function's ``def`` binds the module global and its names are the plain
# ``gcd_guarded`` (a local of the factory would make the check a closure lookup); the
# module binds the same name to the factory's result, for readers and type checkers.


def _guarded_reverse_string() -> Callable[..., str]:
    global reverse_string_guarded
    me: AnyFunc | None = None

    def reverse_string_guarded(normal: str, reverse: str = "") -> str:
        while True:
            try:
                if reverse_string_guarded is not me:
                    return reverse_string_guarded(normal[:-1], reverse + normal[-1])
                normal, reverse = normal[:-1], reverse + normal[-1]
            except IndexError:
                return reverse

    me = reverse_string_guarded
    return reverse_string_guarded


def _guarded_gcd() -> Callable[..., int]:
    global gcd_guarded
    me: AnyFunc | None = None

    def gcd_guarded(a: int, b: int) -> int:
        while True:
            remainder = a % b
            if remainder:
                if gcd_guarded is not me:
                    return gcd_guarded(b, remainder)
                a, b = b, remainder
                continue
            return b

    me = gcd_guarded
    return gcd_guarded


def _guarded_modulo() -> Callable[..., int]:
    global modulo_guarded
    me: AnyFunc | None = None

    def modulo_guarded(val: int, div: int) -> int:
        while True:
            if val < div:
                return val
            if modulo_guarded is not me:
                return modulo_guarded(val - div, div)
            val = val - div

    me = modulo_guarded
    return modulo_guarded


def _guarded_string_merge() -> Callable[..., str]:
    global string_merge_guarded
    me: AnyFunc | None = None

    def string_merge_guarded(a: str, b: str, merge: str = "") -> str:
        while True:
            if not a:
                return merge + b
            if not b:
                return merge + a
            if a[0] > b[0]:
                if string_merge_guarded is not me:
                    return string_merge_guarded(a, b[1:], merge + b[0])
                b, merge = b[1:], merge + b[0]
            else:
                if string_merge_guarded is not me:
                    return string_merge_guarded(a[1:], b, merge + a[0])
                a, merge = a[1:], merge + a[0]

    me = string_merge_guarded
    return string_merge_guarded


def _guarded_to_binary() -> Callable[..., str]:
    global to_binary_guarded
    me: AnyFunc | None = None

    def to_binary_guarded(n: int, result: str = "") -> str:
        while True:
            if n < 2:
                return str(n) + result
            if to_binary_guarded is not me:
                return to_binary_guarded(n // 2, str(n % 2) + result)
            n, result = n // 2, str(n % 2) + result

    me = to_binary_guarded
    return to_binary_guarded


def _guarded_collatz() -> Callable[..., int]:
    global collatz_guarded
    me: AnyFunc | None = None

    def collatz_guarded(n: int, i: int = 0) -> int:
        while True:
            if n == 1:
                return i
            if n % 2 == 0:
                if collatz_guarded is not me:
                    return collatz_guarded(n // 2, i + 1)
                n, i = n // 2, i + 1
            else:
                if collatz_guarded is not me:
                    return collatz_guarded(3 * n + 1, i + 1)
                n, i = 3 * n + 1, i + 1

    me = collatz_guarded
    return collatz_guarded


def _guarded_fib() -> Callable[..., int]:
    global fib_guarded
    me: AnyFunc | None = None

    def fib_guarded(i: int, current: int = 0, next: int = 1) -> int:
        while True:
            if i == 0:
                return current
            if fib_guarded is not me:
                return fib_guarded(i - 1, next, current + next)
            i, current, next = i - 1, next, current + next

    me = fib_guarded
    return fib_guarded


reverse_string_guarded = _guarded_reverse_string()
gcd_guarded = _guarded_gcd()
modulo_guarded = _guarded_modulo()
string_merge_guarded = _guarded_string_merge()
to_binary_guarded = _guarded_to_binary()
collatz_guarded = _guarded_collatz()
fib_guarded = _guarded_fib()


# --- the workload as data -----------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One benchmarked function: its three hand-made forms, inputs and decorator options."""

    name: str
    native: AnyFunc
    hand_loop: AnyFunc
    guarded_loop: AnyFunc
    """``hand_loop`` checking its global name before each jump back: see
    :data:`GUARDED_LOOP`."""
    params: tuple[tuple[Any, ...], ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One example called with one parameter set: a row of the benchmark."""

    example: Example
    index: int
    """0-based position of ``args`` in ``example.params`` (the seed numbers rows from 0)."""
    args: tuple[Any, ...]

    @property
    def name(self) -> str:
        return f"{self.example.name}_{self.index}"

    @property
    def call(self) -> str:
        """The call this case times, as the seed writes it: ``gcd(23305295513, 3)``."""
        return call_text(self.example.name, self.args)


EXAMPLES: tuple[Example, ...] = (
    Example(
        "reverse_string",
        reverse_string,
        reverse_string_unrecursed,
        reverse_string_guarded,
        (("asdf",), ("",), ("qwertyuiop" * 100,)),
        {"escape_try": True},
    ),
    Example("gcd", gcd, gcd_unrecursed, gcd_guarded, ((5, 3), (436523451, 7), (23305295513, 3))),
    Example(
        "modulo", modulo, modulo_unrecursed, modulo_guarded, ((5, 3), (43652, 7), (2330523, 7))
    ),
    Example(
        "string_merge",
        string_merge,
        string_merge_unrecursed,
        string_merge_guarded,
        (("qwertyuiop", "asdfghkjl"), ("zxcvbnm", "zxcvbnm"), ("acegik" * 100, "bdfhjl" * 100)),
    ),
    Example(
        "to_binary",
        to_binary,
        to_binary_unrecursed,
        to_binary_guarded,
        ((5,), (53423451,), (2394871865782648123658023746415,)),
    ),
    Example(
        "collatz", collatz, collatz_unrecursed, collatz_guarded, ((635,), (83451,), (9780657631,))
    ),
    Example("fib", fib, fib_unrecursed, fib_guarded, ((5,), (500,), (5000,), (50000,))),
)


@dataclass(frozen=True)
class Mutual:
    """Functions that tail-call each other, timed on one entry point at several depths."""

    title: str
    natives: tuple[AnyFunc, ...]
    """The plain functions, calling each other through their module-level names; the
    first is the entry point."""
    hand_loop: AnyFunc
    """The entry point as a hand-written loop: the floor."""
    expected: Callable[[int], Any]
    """What the entry point returns for ``n``, computed without it."""
    ns: tuple[int, ...]
    """The depths timed: ``n`` calls (``n`` bounces once optimized) per call."""
    reference_n: int
    """The depth at which the native cost of one call is measured, for every ratio."""


EVEN_ODD = Mutual(
    "is_even/is_odd",
    (is_even, is_odd),
    is_even_unrecursed,
    lambda n: n % 2 == 0,
    (500, 100_000),
    500,
)
"""The section :data:`BOUNCE`: within the recursion limit, then far past it."""

BOUNCE_TARGET = 2.0
"""The target for one bounce, as a multiple of one native call (issue 10; issue 3 had 1.5)."""
BOUNCE_AIM = 1.2
"""What one bounce aims at below the target, as a multiple of one native call."""


@dataclass(frozen=True)
class ContextCase:
    """One self call optimized modulo context, timed on one call: a row of the
    :data:`CONTEXT` section."""

    name: str
    native: AnyFunc
    """The plain function, calling itself through its module-level name."""
    hand_loop: AnyFunc
    """The same work as two hand-written loops: the floor."""
    args: tuple[Any, ...]
    call: str
    """The call timed, short enough for a table row."""


def linked_list(size: int) -> Any:
    """``size`` nodes ``(value, next)`` ending in ``None``: ``(size - 1, (..., (0, None)))``."""
    node: Any = None
    for value in range(size):
        node = (value, node)
    return node


CONTEXT_DEPTH = 800
"""Levels of every :data:`CONTEXT_CASES` call: within the recursion limit, so native
recursion runs too."""
CONTEXT_MODULUS = 1000003

CONTEXT_CASES: tuple[ContextCase, ...] = (
    ContextCase(
        "fact_mod",
        fact_mod,
        fact_mod_unrecursed,
        (CONTEXT_DEPTH, CONTEXT_MODULUS),
        f"fact_mod({CONTEXT_DEPTH}, {CONTEXT_MODULUS})",
    ),
    ContextCase(
        "length",
        length,
        length_unrecursed,
        (linked_list(CONTEXT_DEPTH),),
        f"length(<linked list of {CONTEXT_DEPTH} nodes>)",
    ),
    ContextCase("build", build, build_unrecursed, (CONTEXT_DEPTH,), f"build({CONTEXT_DEPTH})"),
)
"""The section :data:`CONTEXT`: ``return n * f(...) % m``, ``return 1 + f(...)`` and
``return (n, f(...))``, each 800 levels deep."""


@dataclass(frozen=True)
class MethodCase:
    """A method's tail call to itself, timed on one call of an instance's method: a row of
    the :data:`METHODS` section."""

    name: str
    native: AnyFunc
    """The method's function, as the class defines it (``Walker.walk``); the instance's
    method of that name is timed, natively and in the optimized copy of the class."""
    hand_loop: AnyFunc
    """The same work as a hand-written loop in a method of the class: the floor."""
    args: tuple[Any, ...]
    call: str
    """The call timed, short enough for a table row."""


@dataclass(frozen=True)
class MethodWorkload:
    """The :data:`METHODS` section: one class, the calls of its methods to themselves
    (``cases``) and the methods calling each other (``mutual``: its natives and hand loop
    are functions of ``cls``, called as methods of an instance)."""

    cls: type
    cases: tuple[MethodCase, ...]
    mutual: Mutual

    @property
    def optimized(self) -> tuple[str, ...]:
        """The methods ``tail_optimize`` rewrites in the class's optimized copy."""
        natives = [case.native for case in self.cases] + list(self.mutual.natives)
        return tuple(dict.fromkeys(func.__name__ for func in natives))


METHOD_DEPTH = 500
"""Levels of the :data:`METHODS` section's ``walk``: within the recursion limit, so native
method recursion runs too."""

METHOD_WORKLOAD = MethodWorkload(
    Walker,
    (
        MethodCase(
            "walk",
            Walker.walk,
            Walker.walk_unrecursed,
            (METHOD_DEPTH, 0),
            f"walk({METHOD_DEPTH}, 0)",
        ),
    ),
    Mutual(
        "ping/pong",
        (Walker.ping, Walker.pong),
        Walker.ping_unrecursed,
        lambda n: n % 2 == 0,
        EVEN_ODD.ns,
        EVEN_ODD.reference_n,
    ),
)
"""The section :data:`METHODS`: ``self.walk(...)`` in ``walk``, 500 levels deep, then
``ping``/``pong`` at the depths of :data:`EVEN_ODD`, each bounce against a native method
call."""


def example_names() -> list[str]:
    return [example.name for example in EXAMPLES]


def select(only: Sequence[str] | None = None) -> list[Case]:
    """The cases whose example name or case name (``gcd`` or ``gcd_2``) is in ``only``;
    the section names of :data:`SECTIONS` are accepted and select no case.

    Raises ``KeyError`` naming the first filter that matches nothing, so a typo is not
    silently an empty benchmark.
    """
    cases = [
        Case(example, index, args)
        for example in EXAMPLES
        for index, args in enumerate(example.params)
    ]
    if not only:
        return cases
    for wanted in only:
        if wanted not in SECTIONS and not any(
            wanted in (case.example.name, case.name) for case in cases
        ):
            raise KeyError(wanted)
    return [case for case in cases if case.example.name in only or case.name in only]


def bounce_selected(only: Sequence[str] | None = None) -> bool:
    """Whether the :data:`BOUNCE` section runs: always without ``--only``, else if named."""
    return not only or BOUNCE in only


def context_selected(only: Sequence[str] | None = None) -> bool:
    """Whether the :data:`CONTEXT` section runs: always without ``--only``, else if named."""
    return not only or CONTEXT in only


def methods_selected(only: Sequence[str] | None = None) -> bool:
    """Whether the :data:`METHODS` section runs: always without ``--only``, else if named."""
    return not only or METHODS in only


def examples_of(cases: Iterable[Case]) -> list[Example]:
    """The distinct examples of ``cases``, in order."""
    seen: dict[str, Example] = {}
    for case in cases:
        seen.setdefault(case.example.name, case.example)
    return list(seen.values())


# --- optimized variants -------------------------------------------------------------------


def _clone_into(func: AnyFunc, namespace: dict[str, Any]) -> types.FunctionType:
    """A copy of ``func`` with ``namespace`` as its globals, bound there under its name."""
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"{func!r} is not a Python function")
    clone = types.FunctionType(
        func.__code__, namespace, func.__name__, func.__defaults__, func.__closure__
    )
    clone.__kwdefaults__ = func.__kwdefaults__
    clone.__qualname__ = func.__qualname__
    clone.__doc__ = func.__doc__
    namespace[func.__name__] = clone
    return clone


def _rebound_copy(func: AnyFunc) -> tuple[types.FunctionType, dict[str, Any]]:
    """A copy of ``func`` whose globals are a private copy of its module's namespace.

    The copy's self call looks up ``func.__name__`` in that private namespace, which we can
    then rebind to the optimized function without touching the real module.
    """
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"{func!r} is not a Python function")
    namespace = dict(func.__globals__)
    return _clone_into(func, namespace), namespace


def never_decorated(func: AnyFunc) -> AnyFunc:
    """``func`` with a code object of its own, equal to its code: what decorating a function
    for the first time costs is measured on it (decorating one code object again reuses
    the rewrite made for it the first time)."""
    fresh = types.FunctionType(func.__code__.replace(), func.__globals__, func.__name__,
                               func.__defaults__, func.__closure__)
    fresh.__kwdefaults__ = func.__kwdefaults__
    fresh.__qualname__ = func.__qualname__
    return cast(AnyFunc, fresh)


def decorate(func: AnyFunc, strategy: str, options: Mapping[str, Any]) -> AnyFunc:
    """``tail_optimize(func, strategy=strategy, **options)`` with options known only at run
    time (the typed overloads want literals)."""
    from pytailcall import tail_optimize

    untyped: Callable[..., AnyFunc] = tail_optimize
    return untyped(func, strategy=strategy, **options)


def optimized(example: Example, strategy: str, name_guard: bool = True) -> AnyFunc:
    """``tail_optimize(native, strategy=strategy, **options)``, bound under its own name;
    with ``name_guard=False`` too when asked (:data:`UNGUARDED_LOOP`)."""
    clone, namespace = _rebound_copy(example.native)
    options = example.options if name_guard else {**example.options, "name_guard": False}
    result = decorate(clone, strategy, options)
    namespace[example.native.__name__] = result
    return result


def optimized_group(natives: Sequence[AnyFunc], strategy: str) -> list[AnyFunc]:
    """Every function of ``natives`` optimized with ``strategy``, in one private copy of
    their (shared) module namespace where each name is bound to its optimized version: the
    calls between them find the optimized functions, as they would in a decorated module."""
    if not natives:
        return []
    first = natives[0]
    if not isinstance(first, types.FunctionType):
        raise TypeError(f"{first!r} is not a Python function")
    namespace = dict(first.__globals__)
    clones = [_clone_into(func, namespace) for func in natives]
    made = [decorate(clone, strategy, {}) for clone in clones]
    for clone, result in zip(clones, made, strict=True):
        namespace[clone.__name__] = result
    return made


def _probe(n: int) -> int:
    if n <= 0:
        return n
    return _probe(n - 1)


def available_strategies(known: Iterable[str] = STRATEGIES) -> tuple[str, ...]:
    """The strategies of ``known`` that ``tail_optimize`` accepts: it refuses an unknown
    one with ``ValueError``.  Any other failure is a real error and propagates."""
    found = []
    for strategy in known:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                decorate(_probe, strategy, {})
        except ValueError:
            continue
        found.append(strategy)
    return tuple(found)


def label(strategy: str) -> str:
    """The variant label of a strategy: the seed's name for it."""
    return STRATEGIES.get(strategy, strategy)


def display_label(variant: str) -> str:
    """A variant label as the text report shows it: a strategy's label that differs from
    the strategy's name carries both, ``loop (internal_loop)``, so a reader finds it under
    either; ``return_tuple``, ``native``, ``hand_loop`` and ``guarded_loop`` stay as they
    are."""
    for strategy, seed_name in STRATEGIES.items():
        if seed_name == variant and strategy != seed_name:
            return f"{strategy} ({seed_name})"
    return variant


def call_text(name: str, args: Sequence[Any]) -> str:
    """``name(args...)`` with each argument short enough for a table row (see
    :func:`argument_text`)."""
    return f"{name}({', '.join(argument_text(arg) for arg in args)})"


def argument_text(value: Any, limit: int = 40) -> str:
    """An argument as Python source, kept short: a long string that repeats a pattern as
    ``'acegik' * 100`` (how the seed writes it), any other long text cut with ``...``."""
    if isinstance(value, str) and len(value) > 12:
        for period in range(1, len(value) // 2 + 1):
            count, rest = divmod(len(value), period)
            if not rest and value[:period] * count == value:
                return f"{value[:period]!r} * {count}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"<int of {value.bit_length()} bits>"  # repr of a huge int may be refused
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fib_example() -> Example | None:
    """The ``fib`` example, whose variants the seed's fib timings use."""
    return next((example for example in EXAMPLES if example.name == FIB), None)


def build_variants(
    examples: Iterable[Example] = EXAMPLES, strategies: Sequence[str] = ("loop",)
) -> dict[str, dict[str, AnyFunc]]:
    """For each example name: ``{"native": ..., <label(strategy)>: ..., "unguarded_loop":
    ..., "hand_loop": ..., "guarded_loop": ...}``, the unguarded loop only when ``loop`` is
    one of ``strategies``."""
    variants: dict[str, dict[str, AnyFunc]] = {}
    for example in examples:
        entry: dict[str, AnyFunc] = {NATIVE: example.native}
        for strategy in strategies:
            entry[label(strategy)] = optimized(example, strategy)
        if "loop" in strategies:
            entry[UNGUARDED_LOOP] = optimized(example, "loop", name_guard=False)
        entry[HAND_LOOP] = example.hand_loop
        entry[GUARDED_LOOP] = example.guarded_loop
        variants[example.name] = entry
    return variants


def build_mutual_variants(
    mutual: Mutual = EVEN_ODD, strategies: Sequence[str] = ("loop",)
) -> dict[str, AnyFunc]:
    """The entry point of ``mutual`` as ``{"native": ..., <label(strategy)>: ...,
    "hand_loop": ...}``, every function of a strategy's variant optimized with it."""
    variants: dict[str, AnyFunc] = {NATIVE: mutual.natives[0]}
    for strategy in strategies:
        variants[label(strategy)] = optimized_group(mutual.natives, strategy)[0]
    variants[HAND_LOOP] = mutual.hand_loop
    return variants


def optimized_default(func: AnyFunc) -> AnyFunc:
    """``tail_optimize(func)`` with its default options, bound under its own name in a
    private copy of its module's namespace (see :func:`optimized`)."""
    from pytailcall import tail_optimize

    clone, namespace = _rebound_copy(func)
    result: AnyFunc = tail_optimize(clone)
    namespace[func.__name__] = result
    return result


def build_context_variants(
    cases: Iterable[ContextCase] = CONTEXT_CASES,
) -> dict[str, dict[str, AnyFunc]]:
    """For each case name: ``{"native": ..., "internal_loop": ..., "hand_loop": ...}``,
    the optimized variant made with ``tail_optimize``'s default options (its default
    strategy is ``loop``, whose label it carries)."""
    return {
        case.name: {
            NATIVE: case.native,
            LOOP: optimized_default(case.native),
            HAND_LOOP: case.hand_loop,
        }
        for case in cases
    }


def optimized_class(cls: type, names: Iterable[str]) -> type:
    """A copy of ``cls`` (its name, bases and attributes; the module's class untouched)
    whose methods ``names`` are ``tail_optimize``'d with its default options: a method's
    ``self.<name>(...)`` then finds the optimized methods, as in a decorated class."""
    from pytailcall import tail_optimize

    namespace = {
        key: value for key, value in vars(cls).items() if key not in ("__dict__", "__weakref__")
    }
    for name in names:
        namespace[name] = tail_optimize(namespace[name])
    copy = type(cls.__name__, cls.__bases__, namespace)
    copy.__qualname__ = cls.__qualname__
    return copy


@dataclass(frozen=True)
class MethodVariants:
    """The :data:`METHODS` section's variants, bound methods of two instances: one of the
    class (``native``, ``hand_loop``), one of its optimized copy (``internal_loop``)."""

    cases: dict[str, dict[str, AnyFunc]]
    """Per case name: ``{"native": ..., "internal_loop": ..., "hand_loop": ...}``."""
    bounce: dict[str, AnyFunc]
    """The entry point of the workload's ``mutual``, in the same three variants."""


def build_method_variants(workload: MethodWorkload = METHOD_WORKLOAD) -> MethodVariants:
    """Every variant of ``workload``: see :class:`MethodVariants`."""
    native = workload.cls()
    made = optimized_class(workload.cls, workload.optimized)()

    def variants(method: AnyFunc, hand_loop: AnyFunc) -> dict[str, AnyFunc]:
        name = method.__name__
        return {
            NATIVE: getattr(native, name),
            LOOP: getattr(made, name),
            HAND_LOOP: getattr(native, hand_loop.__name__),
        }

    mutual = workload.mutual
    return MethodVariants(
        {case.name: variants(case.native, case.hand_loop) for case in workload.cases},
        variants(mutual.natives[0], mutual.hand_loop),
    )


# --- correctness --------------------------------------------------------------------------


def check_case(case: Case, variants: Mapping[str, AnyFunc]) -> list[str]:
    """Problems found calling every variant on ``case.args``, compared with the hand loop,
    after checking that the unguarded loop, if any, jumps without the name guard.

    Only the native variant may overflow the stack; then it is simply not compared.
    """
    problems: list[str] = []
    unguarded = variants.get(UNGUARDED_LOOP)
    if unguarded is not None:
        problem = _not_unguarded(unguarded)
        if problem:
            problems.append(f"{case.name}: {UNGUARDED_LOOP} {problem}")
    return problems + check_call(case.name, case.args, variants)


def _not_unguarded(func: AnyFunc) -> str | None:
    """Why ``func``'s self calls do not all jump without the name guard, or ``None``."""
    made = _explained(func)
    if made is None:
        return "is not a function tail_optimize made"
    sites = made.optimized
    if not sites:
        return "optimized no call (explain() lists none)"
    if all(site.via and UNGUARDED in site.via for site in sites):
        return None
    shown = "; ".join(site.via or "?" for site in sites)
    return f"checks its name (explain(): {shown})"


def _explained(func: AnyFunc) -> TailCallReport | None:
    """``explain(func)`` (of a bound method's function) when ``tail_optimize`` made it,
    else ``None``."""
    from pytailcall import explain

    try:
        made = explain(getattr(func, "__func__", func))
    except TypeError:  # not a Python function
        return None
    return made if made.applied else None


def check_call(name: str, args: tuple[Any, ...], variants: Mapping[str, AnyFunc]) -> list[str]:
    """Problems found calling every variant on ``args``; ``name`` titles them."""
    expected = variants[HAND_LOOP](*args)
    others = {variant: func for variant, func in variants.items() if variant != HAND_LOOP}
    return check_expected(name, args, others, expected)


def check_mutual(mutual: Mutual, variants: Mapping[str, AnyFunc]) -> list[str]:
    """Problems found calling every variant (the hand loop too) at each of ``mutual.ns``,
    compared with ``mutual.expected``."""
    entry = mutual.natives[0].__name__
    problems: list[str] = []
    for n in mutual.ns:
        problems.extend(check_expected(f"{entry}({n})", (n,), variants, mutual.expected(n)))
    return problems


def check_context(case: ContextCase, variants: Mapping[str, AnyFunc]) -> list[str]:
    """Problems found with ``case``'s variants: the optimized one's self call must be
    optimized modulo context (``explain()`` says so in its ``via``), and every variant must
    return what the hand loop does."""
    problems: list[str] = []
    optimized_func = variants.get(LOOP)
    if optimized_func is not None:
        problem = _not_modulo_context(optimized_func)
        if problem:
            problems.append(f"{case.call}: {display_label(LOOP)} {problem}")
    return problems + check_call(case.call, case.args, variants)


def _not_modulo_context(func: AnyFunc) -> str | None:
    """Why ``func``'s self call is not optimized modulo context, or ``None`` if it is."""
    made = _explained(func)
    if made is None:
        return "is not a function tail_optimize made"
    sites = made.optimized
    if any(site.via and MODULO_CONTEXT in site.via for site in sites):
        return None
    if not sites:
        return "optimized no call (explain() lists none)"
    shown = "; ".join(site.via or "?" for site in sites)
    return f"optimized its call without {MODULO_CONTEXT} ({shown})"


def check_methods(workload: MethodWorkload, variants: MethodVariants) -> list[str]:
    """Problems found with the :data:`METHODS` section's variants: each case's optimized
    method must jump (``explain()`` says :data:`METHOD_JUMP`) and every variant return what
    the hand loop does; the optimized entry point of ``workload.mutual`` must bounce
    (``explain()`` lists its tail call out as optimized) and every variant return
    ``mutual.expected`` at each of its depths."""
    problems: list[str] = []
    for case in workload.cases:
        case_variants = variants.cases[case.name]
        problem = _not_a_method_jump(case_variants[LOOP])
        if problem:
            problems.append(f"{case.call}: {display_label(LOOP)} {problem}")
        problems.extend(check_call(case.call, case.args, case_variants))
    problem = _not_a_bounce(variants.bounce[LOOP])
    if problem:
        entry = workload.mutual.natives[0].__name__
        problems.append(f"{entry}(...): {display_label(LOOP)} {problem}")
    return problems + check_mutual(workload.mutual, variants.bounce)


def _not_a_method_jump(method: AnyFunc) -> str | None:
    """Why ``method``'s call to itself does not jump, or ``None`` if it does."""
    made = _explained(method)
    if made is None:
        return "is not a method tail_optimize made"
    sites = made.optimized
    if any(site.via and site.via.startswith(METHOD_JUMP) for site in sites):
        return None
    if not sites:
        return "optimized no call (explain() lists none)"
    shown = "; ".join(site.via or "?" for site in sites)
    return f"does not jump (explain(): {shown})"


def _not_a_bounce(method: AnyFunc) -> str | None:
    """Why ``method``'s tail call to another method does not bounce, or ``None``."""
    made = _explained(method)
    if made is None:
        return "is not a method tail_optimize made"
    if any(site.optimized for site in made.calls_out):
        return None
    return "has no tail call out optimized (explain() lists none)"


def check_expected(
    name: str, args: tuple[Any, ...], variants: Mapping[str, AnyFunc], expected: Any
) -> list[str]:
    """Problems found calling every variant on ``args``, compared with ``expected``.

    Only the native variant may overflow the stack; then it is simply not compared.
    """
    problems: list[str] = []
    for variant, func in variants.items():
        try:
            got = func(*args)
        except RecursionError:
            if variant != NATIVE and _optimized_anything(func):
                problems.append(f"{name}: {variant} raised RecursionError")
            continue
        except Exception as exc:
            problems.append(f"{name}: {variant} raised {type(exc).__name__}: {exc}")
            continue
        if got != expected:
            problems.append(
                f"{name}: {variant} returned {_short(got)}, expected {_short(expected)}"
            )
    return problems


def _optimized_anything(func: AnyFunc) -> bool:
    """Did pytailcall optimize a call of ``func`` to itself? A variant it left native (a
    trampoline's calls in a ``try`` body, say) may overflow the stack like native."""
    from pytailcall import explain

    try:
        return bool(explain(func).optimized)
    except TypeError:  # not a function pytailcall made: the hand loop, a wrapper
        return True


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long for str() (fib(50000) has 10,000 digits)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
