"""The workload for ``functional-recursion`` (``from functional_recursion import
tail_recursive, recur``): a tail call is ``return recur(args)``, as its README shows."""

from __future__ import annotations

from typing import Any

from functional_recursion import recur, tail_recursive

NOT_EXPRESSIBLE = {
    "rebinding the name": "the tail call names no function: return recur(args)",
    "mutual recursion": "recur(args) can only call the decorated function again",
}


@tail_recursive
def reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return recur(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@tail_recursive
def gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return recur(b, remainder)
    return b


@tail_recursive
def modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return recur(val - div, div)


@tail_recursive
def string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return recur(a, b[1:], merge + b[0])
    return recur(a[1:], b, merge + a[0])


@tail_recursive
def to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return recur(n // 2, str(n % 2) + result)


@tail_recursive
def collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return recur(n // 2, i + 1)
    return recur(3 * n + 1, i + 1)


@tail_recursive
def fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return recur(i - 1, next, current + next)


@tail_recursive
def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return recur(n - 1, (*acc, lambda: n))


@tail_recursive
def omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return recur(n - 1)
    return recur(n - 1, "explicit")


@tail_recursive
def try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return recur(n - 1, log)
    finally:
        log.append(n)


@tail_recursive
def conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else recur(n - 1, acc + 1)


class Counter:
    @tail_recursive
    def count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        return recur(self, n - 1, acc + 1)
