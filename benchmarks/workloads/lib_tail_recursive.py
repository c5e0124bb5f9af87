"""The workload for ``tail-recursive`` (``from tail_recursive import tail_recursive``): a tail
call is written ``return f.tail_call(args)``, as its README shows."""

from __future__ import annotations

from typing import Any

from tail_recursive import tail_recursive

NOT_EXPRESSIBLE: dict[str, str] = {}


@tail_recursive
def reverse_string(normal: str, reverse: str = "") -> Any:
    try:
        return reverse_string.tail_call(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


@tail_recursive
def gcd(a: int, b: int) -> Any:
    remainder = a % b
    if remainder:
        return gcd.tail_call(b, remainder)
    return b


@tail_recursive
def modulo(val: int, div: int) -> Any:
    if val < div:
        return val
    return modulo.tail_call(val - div, div)


@tail_recursive
def string_merge(a: str, b: str, merge: str = "") -> Any:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return string_merge.tail_call(a, b[1:], merge + b[0])
    return string_merge.tail_call(a[1:], b, merge + a[0])


@tail_recursive
def to_binary(n: int, result: str = "") -> Any:
    if n < 2:
        return str(n) + result
    return to_binary.tail_call(n // 2, str(n % 2) + result)


@tail_recursive
def collatz(n: int, i: int = 0) -> Any:
    if n == 1:
        return i
    if n % 2 == 0:
        return collatz.tail_call(n // 2, i + 1)
    return collatz.tail_call(3 * n + 1, i + 1)


@tail_recursive
def fib(i: int, current: int = 0, next: int = 1) -> Any:
    if i == 0:
        return current
    return fib.tail_call(i - 1, next, current + next)


@tail_recursive
def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    if n == 0:
        return [f() for f in acc]
    return closures.tail_call(n - 1, (*acc, lambda: n))


@tail_recursive
def omitted(n: int, tag: str = "default") -> Any:
    if n == 0:
        return tag
    if n == 1:
        return omitted.tail_call(n - 1)
    return omitted.tail_call(n - 1, "explicit")


@tail_recursive
def try_finally(n: int, log: list[Any]) -> Any:
    try:
        if n == 0:
            log.append("base")
            return log
        return try_finally.tail_call(n - 1, log)
    finally:
        log.append(n)


@tail_recursive
def rebind(n: int) -> Any:
    if n == 0:
        return "done"
    return rebind.tail_call(n - 1)


@tail_recursive
def rebind_other(n: int) -> Any:
    return "rebound"


@tail_recursive
def conditional(n: int, acc: int = 0) -> Any:
    return acc if n == 0 else conditional.tail_call(n - 1, acc + 1)


class Counter:
    @tail_recursive
    def count(self, n: int, acc: int = 0) -> Any:
        if n == 0:
            return acc
        # the README: "you need to explicitly pass self ... as the first argument"
        return self.count.tail_call(self, n - 1, acc + 1)


@tail_recursive
def is_even(n: int) -> Any:
    if n == 0:
        return True
    return is_odd.tail_call(n - 1)


@tail_recursive
def is_odd(n: int) -> Any:
    if n == 0:
        return False
    return is_even.tail_call(n - 1)
