"""The workload for ``bigstack`` (``from bigstack import bigstack``): not a tail-call
optimizer but the other way out of the recursion limit.  The call runs in a new thread with a
128 MiB stack and a recursion limit of 1,048,576, so the plain recursive functions of
``by_name`` run unchanged under an entry point decorated with ``@bigstack``.  The README's
``@bigstack`` on the recursive function itself would start a thread per level, so the entry
points are decorated instead.

bigstack raises the recursion limit of the whole process and leaves it there: each entry
point puts it back, or every later check of another library could no longer fail."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import by_name as plain  # never decorated in place: compare_libraries decorates copies
from bigstack import bigstack

NOT_EXPRESSIBLE: dict[str, str] = {}
REBIND_MODULE = plain
"""The module whose ``rebind`` name the rebinding check changes: the plain recursion's."""


def _entry(function: Callable[..., Any]) -> Callable[..., Any]:
    big = bigstack(function)

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        limit = sys.getrecursionlimit()
        try:
            return big(*args)
        finally:
            sys.setrecursionlimit(limit)

    return call


reverse_string = _entry(plain.reverse_string)
gcd = _entry(plain.gcd)
modulo = _entry(plain.modulo)
string_merge = _entry(plain.string_merge)
to_binary = _entry(plain.to_binary)
collatz = _entry(plain.collatz)
fib = _entry(plain.fib)
closures = _entry(plain.closures)
omitted = _entry(plain.omitted)
try_finally = _entry(plain.try_finally)
rebind = _entry(plain.rebind)
rebind_other = plain.rebind_other
conditional = _entry(plain.conditional)
is_even = _entry(plain.is_even)
is_odd = _entry(plain.is_odd)


def _count(n: int, acc: int) -> Any:
    return plain.Counter().count(n, acc)


_count_entry = _entry(_count)  # bigstack takes functions only, not bound methods


class Counter:
    """The plain method, run on a big stack from an entry point of the same name."""

    def count(self, n: int, acc: int = 0) -> Any:
        return _count_entry(n, acc)
