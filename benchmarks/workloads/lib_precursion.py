"""The workload for ``precursion`` (``from precursion import precurse``): each function is a
generator that calls through ``yield f.r(args)`` and receives the result, as its README
shows; a tail call is ``return (yield f.r(args))``.  The README ends a function with
``raise StopIteration(value)``, which PEP 479 turns into ``RuntimeError`` since Python 3.7,
so the workload returns with ``return value`` (the same ``StopIteration`` to precurse).
precurse keeps the suspended callers on a list: the calls nest on the heap, not the stack."""

from __future__ import annotations

from typing import Any

from precursion import precurse

NOT_EXPRESSIBLE: dict[str, str] = {}


@precurse
def reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return (yield reverse_string.r(normal[:-1], reverse + normal[-1]))
    except IndexError:
        return reverse


@precurse
def gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return (yield gcd.r(b, remainder))
    return b


@precurse
def modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return (yield modulo.r(val - div, div))


@precurse
def string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return (yield string_merge.r(a, b[1:], merge + b[0]))
    return (yield string_merge.r(a[1:], b, merge + a[0]))


@precurse
def to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return (yield to_binary.r(n // 2, str(n % 2) + result))


@precurse
def collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return (yield collatz.r(n // 2, i + 1))
    return (yield collatz.r(3 * n + 1, i + 1))


@precurse
def fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return (yield fib.r(i - 1, next, current + next))


@precurse
def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return (yield closures.r(n - 1, (*acc, lambda: n)))


@precurse
def omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return (yield omitted.r(n - 1))
    return (yield omitted.r(n - 1, "explicit"))


@precurse
def try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return (yield try_finally.r(n - 1, log))
    finally:
        log.append(n)


@precurse
def rebind(n: int) -> Any:
    if n == 0:
        return "done"
    return (yield rebind.r(n - 1))


@precurse
def rebind_other(n: int) -> Any:
    return "rebound"
    yield


@precurse
def conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else (yield conditional.r(n - 1, acc + 1))


class Counter:
    @precurse
    def count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        return (yield self.count.r(self, n - 1, acc + 1))  # .r is the plain function


@precurse
def is_even(n: int) -> Any:
    if n == 0:
        return True
    return (yield is_odd.r(n - 1))


@precurse
def is_odd(n: int) -> Any:
    if n == 0:
        return False
    return (yield is_even.r(n - 1))
