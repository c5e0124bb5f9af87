"""The workload for ``unpythonic`` (``from unpythonic import trampolined, jump``): every
function is ``@trampolined`` and a tail call is written ``return jump(f, args)``, as the
docstring of ``unpythonic.tco`` shows (mutual recursion included)."""

from __future__ import annotations

from typing import Any

from unpythonic import jump, trampolined

NOT_EXPRESSIBLE: dict[str, str] = {}


@trampolined
def reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return jump(reverse_string, normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@trampolined
def gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return jump(gcd, b, remainder)
    return b


@trampolined
def modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return jump(modulo, val - div, div)


@trampolined
def string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return jump(string_merge, a, b[1:], merge + b[0])
    return jump(string_merge, a[1:], b, merge + a[0])


@trampolined
def to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return jump(to_binary, n // 2, str(n % 2) + result)


@trampolined
def collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return jump(collatz, n // 2, i + 1)
    return jump(collatz, 3 * n + 1, i + 1)


@trampolined
def fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return jump(fib, i - 1, next, current + next)


@trampolined
def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return jump(closures, n - 1, (*acc, lambda: n))


@trampolined
def omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return jump(omitted, n - 1)
    return jump(omitted, n - 1, "explicit")


@trampolined
def try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return jump(try_finally, n - 1, log)
    finally:
        log.append(n)


@trampolined
def rebind(n: int) -> Any:
    if n == 0:
        return "done"
    return jump(rebind, n - 1)


def rebind_other(n: int) -> Any:
    return "rebound"


@trampolined
def conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else jump(conditional, n - 1, acc + 1)


class Counter:
    @trampolined
    def count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        return jump(self.count, n - 1, acc + 1)


@trampolined
def is_even(n: int) -> Any:
    if n == 0:
        return True
    return jump(is_odd, n - 1)


@trampolined
def is_odd(n: int) -> Any:
    if n == 0:
        return False
    return jump(is_even, n - 1)
