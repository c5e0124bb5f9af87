"""Property-based comparison of optimized and native tail-recursive functions.

Inputs stay within what native recursion handles (depth well under the recursion limit), so
both versions can run; results, and for failing inputs the exception type and message, must
be identical.
"""

from __future__ import annotations

import pytest
from conftest import STRATEGIES, _make_pair
from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=50, deadline=None)

GCD = """
def gcd(a, b):
    return a if b == 0 else gcd(b, a % b)
"""

MODULO = """
def modulo(a, m):
    if m <= 0:
        raise ValueError(f"modulus must be positive, got {m}")
    if a < m:
        return a
    return modulo(a - m, m)
"""

MERGE = """
def merge(a, b, acc=""):
    if not a:
        return acc + b
    if not b:
        return acc + a
    if a[0] <= b[0]:
        return merge(a[1:], b, acc + a[0])
    return merge(a, b[1:], acc=acc + b[0])
"""

TO_BINARY = """
def to_binary(n, acc=""):
    if n < 0:
        raise ValueError(f"negative: {n}")
    if n < 2:
        return str(n) + acc
    return to_binary(n // 2, str(n % 2) + acc)
"""

COLLATZ = """
def collatz(n, steps=0):
    if n < 1:
        raise ValueError(f"not positive: {n}")
    if n == 1:
        return steps
    return collatz(n // 2 if n % 2 == 0 else 3 * n + 1, steps + 1)
"""

FIB = """
def fib(n, a=0, b=1):
    if n < 0:
        raise ValueError(f"negative index {n}")
    return a if n == 0 else fib(n - 1, b, a + b)
"""

WALK = """
def walk(n, step=1, *, acc=0, scale=1):
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    if n <= 0:
        return acc
    return walk(n - step, step, acc=acc + n * scale)
"""

TOTAL = """
def total(acc, *xs):
    if not xs:
        return acc
    return total(acc + xs[0], *xs[1:])
"""

GATHER = """
def gather(n, **seen):
    if n <= 0:
        return sorted(seen.items())
    return gather(n - 1, **{f"k{n % modulus}": n}, **seen)
"""


@pytest.fixture(scope="module", params=STRATEGIES)
def pairs(request):
    def make_pair(src, **options):
        return _make_pair(src, strategy=request.param, **options)

    return {
        "gcd": make_pair(GCD),
        "modulo": make_pair(MODULO),
        "merge": make_pair(MERGE),
        "to_binary": make_pair(TO_BINARY),
        "collatz": make_pair(COLLATZ),
        "fib": make_pair(FIB),
        "walk": make_pair(WALK),
        "total": make_pair(TOTAL),
        "gather": make_pair(GATHER, env={"modulus": 50}),
    }


def _same(pairs, outcome, name, *args, **kwargs):
    native, optimized = pairs[name]
    expected = outcome(native, *args, **kwargs)
    assert not (expected[0] == "raise" and issubclass(expected[1], RecursionError))
    assert outcome(optimized, *args, **kwargs) == expected
    return expected


@SETTINGS
@given(a=st.integers(-(10**12), 10**12), b=st.integers(-(10**12), 10**12))
def test_gcd(pairs, outcome, a, b):
    _same(pairs, outcome, "gcd", a, b)


@SETTINGS
@given(a=st.integers(0, 2000), m=st.integers(-3, 60))
def test_modulo(pairs, outcome, a, m):
    if m > 0:
        a = min(a, 300 * m)  # keep the native recursion shallow
    result = _same(pairs, outcome, "modulo", a, m)
    if m > 0:
        assert result == ("ok", a % m)
    else:
        assert result[:2] == ("raise", ValueError)


_letters = st.text(alphabet="abcdefghij", max_size=120).map(lambda s: "".join(sorted(s)))


@SETTINGS
@given(a=_letters, b=_letters)
def test_merge(pairs, outcome, a, b):
    result = _same(pairs, outcome, "merge", a, b)
    assert result == ("ok", "".join(sorted(a + b)))


@SETTINGS
@given(n=st.integers(-(2**40), 2**200))
def test_to_binary(pairs, outcome, n):
    result = _same(pairs, outcome, "to_binary", n)
    if n >= 0:
        assert result == ("ok", bin(n)[2:])


@SETTINGS
@given(n=st.integers(-5, 20_000))
def test_collatz(pairs, outcome, n):
    _same(pairs, outcome, "collatz", n)


@SETTINGS
@given(n=st.integers(-5, 400), a=st.integers(-100, 100), b=st.integers(-100, 100))
def test_fib(pairs, outcome, n, a, b):
    _same(pairs, outcome, "fib", n, a, b)


@SETTINGS
@given(
    n=st.integers(-5, 300),
    step=st.one_of(st.none(), st.integers(-2, 6)),
    acc=st.one_of(st.none(), st.integers(-50, 50)),
    scale=st.one_of(st.none(), st.integers(-5, 5)),
)
def test_keyword_only_and_defaults(pairs, outcome, n, step, acc, scale):
    args = (n,) if step is None else (n, step)
    kwargs = {name: value for name, value in (("acc", acc), ("scale", scale)) if value is not None}
    _same(pairs, outcome, "walk", *args, **kwargs)


@SETTINGS
@given(
    acc=st.one_of(st.integers(-10, 10), st.text(max_size=3)),
    xs=st.lists(st.one_of(st.integers(-1000, 1000), st.text(max_size=3)), max_size=150),
)
def test_star_args(pairs, outcome, acc, xs):
    _same(pairs, outcome, "total", acc, *xs)


@SETTINGS
@given(
    n=st.integers(-2, 120),
    seen=st.dictionaries(st.sampled_from([f"k{i}" for i in range(60)]), st.integers(), max_size=5),
)
def test_double_star_kwargs(pairs, outcome, n, seen):
    _same(pairs, outcome, "gather", n, **seen)
