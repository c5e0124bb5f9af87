"""The workload for ``loom-tailcalls`` (``from loom.tailcalls import tailrec``): it optimizes
``return await f(args)`` self calls of ``async def`` functions only, so each function is a
coroutine function (private name) and the name the checks call runs it to completion
(none of them awaits anything that suspends, so one ``send`` finishes it).  A function the
decorator rejects is left undecorated and listed in ``REFUSED``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from loom.tailcalls import TailCallError, tailrec

NOT_EXPRESSIBLE: dict[str, str] = {}
REFUSED: dict[str, str] = {}
REBIND_NAME = "_rebind"

AsyncFunc = Callable[..., Coroutine[Any, Any, Any]]


def _optimized(function: AsyncFunc) -> AsyncFunc:
    try:
        made: AsyncFunc = tailrec(function)
    except TailCallError as exc:
        REFUSED[function.__name__.lstrip("_")] = f"TailCallError: {str(exc).split(';')[0]}"
        return function
    return made


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """The coroutine's result: it must finish without suspending."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise RuntimeError("the coroutine suspended")


def _sync(function: AsyncFunc) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return _run(function(*args))

    return call


@_optimized
async def _reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return await _reverse_string(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@_optimized
async def _gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return await _gcd(b, remainder)
    return b


@_optimized
async def _modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return await _modulo(val - div, div)


@_optimized
async def _string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return await _string_merge(a, b[1:], merge + b[0])
    return await _string_merge(a[1:], b, merge + a[0])


@_optimized
async def _to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return await _to_binary(n // 2, str(n % 2) + result)


@_optimized
async def _collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return await _collatz(n // 2, i + 1)
    return await _collatz(3 * n + 1, i + 1)


@_optimized
async def _fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return await _fib(i - 1, next, current + next)


@_optimized
async def _closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return await _closures(n - 1, (*acc, lambda: n))


@_optimized
async def _omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return await _omitted(n - 1)
    return await _omitted(n - 1, "explicit")


@_optimized
async def _try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return await _try_finally(n - 1, log)
    finally:
        log.append(n)


@_optimized
async def _rebind(n: int) -> Any:
    if n == 0:
        return "done"
    return await _rebind(n - 1)


async def rebind_other(n: int) -> Any:
    return "rebound"


@_optimized
async def _conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else await _conditional(n - 1, acc + 1)


class Counter:
    @_optimized
    async def _count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        return await self._count(n - 1, acc + 1)

    def count(self, n: int, acc: int = 0) -> Any:
        return _run(self._count(n, acc))


@_optimized
async def _is_even(n: int) -> Any:
    if n == 0:
        return True
    return await _is_odd(n - 1)


@_optimized
async def _is_odd(n: int) -> Any:
    if n == 0:
        return False
    return await _is_even(n - 1)


reverse_string = _sync(_reverse_string)
gcd = _sync(_gcd)
modulo = _sync(_modulo)
string_merge = _sync(_string_merge)
to_binary = _sync(_to_binary)
collatz = _sync(_collatz)
fib = _sync(_fib)
closures = _sync(_closures)
omitted = _sync(_omitted)
try_finally = _sync(_try_finally)
rebind = _sync(_rebind)
conditional = _sync(_conditional)
is_even = _sync(_is_even)
is_odd = _sync(_is_odd)
