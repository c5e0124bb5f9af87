"""The workload for ``trampoline`` (``from trampoline import trampoline, TailCall``): each
function is a generator that tail-calls with ``raise TailCall(f(args))``, and is exposed by a
wrapper calling ``trampoline(...)``, as its README recommends."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from trampoline import TailCall, trampoline

Gen = Generator[Any, Any, Any]

NOT_EXPRESSIBLE = {
    "conditional expressions": "a tail call is a raise statement, not an expression",
}
REBIND_NAME = "_rebind"


def _reverse_string(normal: str, reverse: str = "") -> Gen:
    try:
        raise TailCall(_reverse_string(normal[:-1], reverse + normal[-1]))
    except IndexError:
        return reverse
    yield


def _gcd(a: int, b: int) -> Gen:
    remainder = a % b
    if remainder:
        raise TailCall(_gcd(b, remainder))
    return b
    yield


def _modulo(val: int, div: int) -> Gen:
    if val < div:
        return val
    raise TailCall(_modulo(val - div, div))
    yield


def _string_merge(a: str, b: str, merge: str = "") -> Gen:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        raise TailCall(_string_merge(a, b[1:], merge + b[0]))
    raise TailCall(_string_merge(a[1:], b, merge + a[0]))
    yield


def _to_binary(n: int, result: str = "") -> Gen:
    if n < 2:
        return str(n) + result
    raise TailCall(_to_binary(n // 2, str(n % 2) + result))
    yield


def _collatz(n: int, i: int = 0) -> Gen:
    if n == 1:
        return i
    if n % 2 == 0:
        raise TailCall(_collatz(n // 2, i + 1))
    raise TailCall(_collatz(3 * n + 1, i + 1))
    yield


def _fib(i: int, current: int = 0, next: int = 1) -> Gen:
    if i == 0:
        return current
    raise TailCall(_fib(i - 1, next, current + next))
    yield


def _closures(n: int, acc: tuple[Any, ...] = ()) -> Gen:
    if n == 0:
        return [f() for f in acc]
    raise TailCall(_closures(n - 1, (*acc, lambda: n)))
    yield


def _omitted(n: int, tag: str = "default") -> Gen:
    if n == 0:
        return tag
    if n == 1:
        raise TailCall(_omitted(n - 1))
    raise TailCall(_omitted(n - 1, "explicit"))
    yield


def _try_finally(n: int, log: list[Any]) -> Gen:
    try:
        if n == 0:
            log.append("base")
            return log
        raise TailCall(_try_finally(n - 1, log))
    finally:
        log.append(n)
    yield


def _rebind(n: int) -> Gen:
    if n == 0:
        return "done"
    raise TailCall(_rebind(n - 1))
    yield


def rebind_other(n: int) -> Gen:
    return "rebound"
    yield


class Counter:
    def _count(self, n: int, acc: int = 0) -> Gen:
        if n == 0:
            return acc
        raise TailCall(self._count(n - 1, acc + 1))
        yield

    def count(self, n: int, acc: int = 0) -> Any:
        return trampoline(self._count(n, acc))


def _is_even(n: int) -> Gen:
    if n == 0:
        return True
    raise TailCall(_is_odd(n - 1))
    yield


def _is_odd(n: int) -> Gen:
    if n == 0:
        return False
    raise TailCall(_is_even(n - 1))
    yield


def _exposed(generator_function: Any) -> Any:
    def exposed(*args: Any) -> Any:
        return trampoline(generator_function(*args))

    return exposed


reverse_string = _exposed(_reverse_string)
gcd = _exposed(_gcd)
modulo = _exposed(_modulo)
string_merge = _exposed(_string_merge)
to_binary = _exposed(_to_binary)
collatz = _exposed(_collatz)
fib = _exposed(_fib)
closures = _exposed(_closures)
omitted = _exposed(_omitted)
try_finally = _exposed(_try_finally)
is_even = _exposed(_is_even)
is_odd = _exposed(_is_odd)


def rebind(n: int) -> Any:
    return trampoline(_rebind(n))
