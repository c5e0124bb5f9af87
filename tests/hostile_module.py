"""A real, importable module with optimized functions, for pickling tests (test_hostile.py)."""

from __future__ import annotations

from pytailcall import tail_optimize


@tail_optimize
def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)


def plain_count(n, acc=0):
    if n == 0:
        return acc
    return plain_count(n - 1, acc + 1)
