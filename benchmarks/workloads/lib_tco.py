"""The workload for ``tco`` (``from tco import with_continuations``): the function takes a
``self=None`` keyword through which it tail-calls itself, as its docstring shows."""

from __future__ import annotations

from typing import Any

from tco import with_continuations

NOT_EXPRESSIBLE = {
    "rebinding the name": "the tail call names no function: return self(args)",
    "mutual recursion": "continuations are bound when a function is defined, so two "
    "functions cannot be each other's continuation",
}


@with_continuations()
def reverse_string(normal: str, reverse: str = "", self: Any = None) -> Any:
    try:
        return self(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@with_continuations()
def gcd(a: int, b: int, self: Any = None) -> Any:
    remainder = a % b
    if remainder:
        return self(b, remainder)
    return b


@with_continuations()
def modulo(val: int, div: int, self: Any = None) -> Any:
    if val < div:
        return val
    return self(val - div, div)


@with_continuations()
def string_merge(a: str, b: str, merge: str = "", self: Any = None) -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return self(a, b[1:], merge + b[0])
    return self(a[1:], b, merge + a[0])


@with_continuations()
def to_binary(n: int, result: str = "", self: Any = None) -> Any:
    if n < 2:
        return str(n) + result
    return self(n // 2, str(n % 2) + result)


@with_continuations()
def collatz(n: int, i: int = 0, self: Any = None) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return self(n // 2, i + 1)
    return self(3 * n + 1, i + 1)


@with_continuations()
def fib(i: int, current: int = 0, next: int = 1, self: Any = None) -> Any:
    if i == 0:
        return current
    return self(i - 1, next, current + next)


@with_continuations()
def closures(n: int, acc: tuple[Any, ...] = (), self: Any = None) -> Any:
    if n == 0:
        return [f() for f in acc]
    return self(n - 1, (*acc, lambda: n))


@with_continuations()
def omitted(n: int, tag: str = "default", self: Any = None) -> Any:
    if n == 0:
        return tag
    if n == 1:
        return self(n - 1)
    return self(n - 1, "explicit")


@with_continuations()
def try_finally(n: int, log: list[Any], self: Any = None) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return self(n - 1, log)
    finally:
        log.append(n)


@with_continuations()
def conditional(n: int, acc: int = 0, self: Any = None) -> Any:
    return acc if n == 0 else self(n - 1, acc + 1)


class Counter:
    @with_continuations()
    def count(obj: Any, n: int, acc: int = 0, self: Any = None) -> Any:
        if n == 0:
            return acc
        return self(obj, n - 1, acc + 1)
