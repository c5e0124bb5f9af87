"""The workload for libraries whose tail call is a plain call of the function by its name.

Written as plain recursive functions, exactly as the user would write them natively.
``compare_libraries.py`` loads a fresh copy of this module per library and replaces each
function with ``decorator(function)``, as ``@decorator`` would: the self calls then find the
decorated function under the module-level name.  Nothing here imports a library.
"""

from __future__ import annotations

from typing import Any

# --- the seed's examples (see pytailcall.bench.examples) ----------------------------------


def reverse_string(normal: str, reverse: str = "") -> str:
    try:
        return reverse_string(normal[:-1], reverse + normal[-1])
    except IndexError:
        return reverse


def gcd(a: int, b: int) -> int:
    remainder = a % b
    if remainder:
        return gcd(b, remainder)
    return b


def modulo(val: int, div: int) -> int:
    if val < div:
        return val
    return modulo(val - div, div)


def string_merge(a: str, b: str, merge: str = "") -> str:
    if not a:
        return merge + b
    if not b:
        return merge + a
    if a[0] > b[0]:
        return string_merge(a, b[1:], merge + b[0])
    return string_merge(a[1:], b, merge + a[0])


def to_binary(n: int, result: str = "") -> str:
    if n < 2:
        return str(n) + result
    return to_binary(n // 2, str(n % 2) + result)


def collatz(n: int, i: int = 0) -> int:
    if n == 1:
        return i
    if n % 2 == 0:
        return collatz(n // 2, i + 1)
    return collatz(3 * n + 1, i + 1)


def fib(i: int, current: int = 0, next: int = 1) -> int:
    if i == 0:
        return current
    return fib(i - 1, next, current + next)


# --- semantics checks (expected results in compare_libraries.SEMANTICS) -------------------


def closures(n: int, acc: tuple[Any, ...] = ()) -> list[int]:
    """Each iteration's closure must keep that iteration's ``n``."""
    if n == 0:
        return [f() for f in acc]
    return closures(n - 1, (*acc, lambda: n))


def omitted(n: int, tag: str = "default") -> str:
    """The last call omits ``tag``: it must get the default again, not the previous value."""
    if n == 0:
        return tag
    if n == 1:
        return omitted(n - 1)
    return omitted(n - 1, "explicit")


def try_finally(n: int, log: list[Any]) -> list[Any]:
    """Each ``finally`` runs after the call it guards returns: innermost first."""
    try:
        if n == 0:
            log.append("base")
            return log
        return try_finally(n - 1, log)
    finally:
        log.append(n)


def rebind(n: int) -> str:
    """Called after the module's ``rebind`` is rebound to ``rebind_other``."""
    if n == 0:
        return "done"
    return rebind(n - 1)


def rebind_other(n: int) -> str:
    return "rebound"


def conditional(n: int, acc: int = 0) -> int:
    """Tail calls in both arms of a conditional expression, deeper than the limit."""
    return acc if n == 0 else conditional(n - 1, acc + 1)


class Counter:
    def count(self, n: int, acc: int = 0) -> int:
        """A method calling itself through ``self``, deeper than the limit."""
        if n == 0:
            return acc
        return self.count(n - 1, acc + 1)


def is_even(n: int) -> bool:
    """Mutual recursion, deeper than the limit."""
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n: int) -> bool:
    if n == 0:
        return False
    return is_even(n - 1)
