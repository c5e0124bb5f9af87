"""The workload for ``expression`` (``from expression import tailrec, TailCall``): a tail
call is written ``return TailCall(args)``, as the docstring of ``tailrec`` shows."""

from __future__ import annotations

from typing import Any

from expression import TailCall, tailrec

NOT_EXPRESSIBLE = {
    "rebinding the name": "the tail call names no function: return TailCall(args)",
    "mutual recursion": "TailCall(args) can only call the decorated function again",
}


@tailrec
def reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return TailCall(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@tailrec
def gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return TailCall(b, remainder)
    return b


@tailrec
def modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return TailCall(val - div, div)


@tailrec
def string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return TailCall(a, b[1:], merge + b[0])
    return TailCall(a[1:], b, merge + a[0])


@tailrec
def to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return TailCall(n // 2, str(n % 2) + result)


@tailrec
def collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return TailCall(n // 2, i + 1)
    return TailCall(3 * n + 1, i + 1)


@tailrec
def fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return TailCall(i - 1, next, current + next)


@tailrec
def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return TailCall(n - 1, (*acc, lambda: n))


@tailrec
def omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return TailCall(n - 1)
    return TailCall(n - 1, "explicit")


@tailrec
def try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return TailCall(n - 1, log)
    finally:
        log.append(n)


@tailrec
def conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else TailCall(n - 1, acc + 1)


class Counter:
    @tailrec
    def count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        # the trampoline calls the plain function again: self is an argument like the others
        return TailCall(self, n - 1, acc + 1)
