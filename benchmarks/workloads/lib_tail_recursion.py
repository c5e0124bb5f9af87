"""The workload for ``tail-recursion`` (``from tail_recursion import tail_recursive,
TailRecursion``): a tail call is ``return TailRecursion(args)``, as its docstring shows."""

from __future__ import annotations

from typing import Any

from tail_recursion import TailRecursion, tail_recursive

NOT_EXPRESSIBLE = {
    "rebinding the name": "the tail call names no function: return TailRecursion(args)",
    "mutual recursion": "TailRecursion(args) can only call the decorated function again",
}


@tail_recursive
def reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return TailRecursion(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@tail_recursive
def gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return TailRecursion(b, remainder)
    return b


@tail_recursive
def modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return TailRecursion(val - div, div)


@tail_recursive
def string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return TailRecursion(a, b[1:], merge + b[0])
    return TailRecursion(a[1:], b, merge + a[0])


@tail_recursive
def to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return TailRecursion(n // 2, str(n % 2) + result)


@tail_recursive
def collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return TailRecursion(n // 2, i + 1)
    return TailRecursion(3 * n + 1, i + 1)


@tail_recursive
def fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return TailRecursion(i - 1, next, current + next)


@tail_recursive
def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return TailRecursion(n - 1, (*acc, lambda: n))


@tail_recursive
def omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return TailRecursion(n - 1)
    return TailRecursion(n - 1, "explicit")


@tail_recursive
def try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return TailRecursion(n - 1, log)
    finally:
        log.append(n)


@tail_recursive
def conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else TailRecursion(n - 1, acc + 1)


class Counter:
    @tail_recursive
    def count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        return TailRecursion(self, n - 1, acc + 1)
