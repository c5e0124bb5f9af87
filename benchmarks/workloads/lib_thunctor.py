"""The workload for ``thunctor`` (``from thunctor import Thunk, unroll``): an ``@unroll``
function receives itself as its first parameter (``rec``) and returns ``Thunk`` values; a
tail call is written ``return Thunk(args).bind(...)`` calling ``rec`` (the project's
``count.py`` writes ``Thunk(n - 1).bind(me)``), and a result ``return Thunk(value)``."""

from __future__ import annotations

from typing import Any

from thunctor import Thunk, unroll

NOT_EXPRESSIBLE = {
    "rebinding the name": "the tail call names no function: it goes through the rec parameter",
}


def _later(rec: Any, *args: Any) -> Thunk:
    """``rec(*args)`` deferred to the unroll loop: the monad's bind, as ``.bind(me)`` does
    for one argument."""
    return Thunk(args).bind(lambda packed: rec(*packed))


@unroll
def reverse_string(rec: Any, normal: str, reverse: str = "") -> Any:
    try:
        return _later(rec, normal[:-1], reverse + normal[-1])
    except IndexError:
        return Thunk(reverse)


@unroll
def gcd(rec: Any, a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return _later(rec, b, remainder)
    return Thunk(b)


@unroll
def modulo(rec: Any, val: int, div: int) -> Any:
    if val < div:
        return Thunk(val)
    return _later(rec, val - div, div)


@unroll
def string_merge(rec: Any, a: str, b: str, merge: str = "") -> Any:
    if not a:
        return Thunk(merge + b)
    if not b:
        return Thunk(merge + a)
    if a[0] > b[0]:
        return _later(rec, a, b[1:], merge + b[0])
    return _later(rec, a[1:], b, merge + a[0])


@unroll
def to_binary(rec: Any, n: int, result: str = "") -> Any:
    if n < 2:
        return Thunk(str(n) + result)
    return _later(rec, n // 2, str(n % 2) + result)


@unroll
def collatz(rec: Any, n: int, i: int = 0) -> Any:
    if n == 1:
        return Thunk(i)
    if n % 2 == 0:
        return _later(rec, n // 2, i + 1)
    return _later(rec, 3 * n + 1, i + 1)


@unroll
def fib(rec: Any, i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return Thunk(current)
    return _later(rec, i - 1, next, current + next)


@unroll
def closures(rec: Any, n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return Thunk([f() for f in acc])
    return _later(rec, n - 1, (*acc, lambda: n))


@unroll
def omitted(rec: Any, n: int, tag: str = "default") -> Any:
    if n == 0:
        return Thunk(tag)
    if n == 1:
        return Thunk(n - 1).bind(rec)
    return _later(rec, n - 1, "explicit")


@unroll
def try_finally(rec: Any, n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return Thunk(log)
        return _later(rec, n - 1, log)
    finally:
        log.append(n)


@unroll
def conditional(rec: Any, n: int, acc: int = 0) -> Any:
    return Thunk(acc) if n == 0 else _later(rec, n - 1, acc + 1)


class Counter:
    @unroll
    def count(rec: Any, self: Any, n: int, acc: int = 0) -> Any:
        if n == 0:
            return Thunk(acc)
        return _later(rec, self, n - 1, acc + 1)


# Mutual recursion: unroll hands a function only its own rec, so the two functions return
# Thunks that bind each other's plain (Thunk-returning) form; one unroll loop runs them.
def _is_even(n: int) -> Any:
    return Thunk(True) if n == 0 else Thunk(n - 1).bind(_is_odd)


def _is_odd(n: int) -> Any:
    return Thunk(False) if n == 0 else Thunk(n - 1).bind(_is_even)


is_even = unroll(lambda rec, n: _is_even(n))
is_odd = unroll(lambda rec, n: _is_odd(n))
