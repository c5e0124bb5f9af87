# ruff: noqa
# Found by the fuzzer against the working tree of 2026-11-30 (uncommitted library changes on
# top of 5375eaa, which passes), then committed as 160ab59: seed 3 program 211 of the
# default mix, a DEEP call whose log differed between strategies (deep_modes), and seed 3
# programs 150 and 175. Written small by hand from them. Fails against 160ab59 on CPython
# 3.11.7, 3.12.1 and 3.13.0 with return_tuple and partial, with and without escape_try.
#
# What differs: a tail call to *another* optimized function inside a `for` loop. Natively
# the loop's iterator stays on f's stack until g returns, so It.__del__ runs after g:
#     native    [('f', 2), ('g', 1), ('del', ('it1', 2), 1)]
# With return_tuple and partial, f returns the bounce and drops the iterator first:
#     optimized [('f', 2), ('del', ('it1', 2), 1), ('g', 1)]
#
# Re-check: python -m tests.fuzz.run --check tests/fuzz/found/iterator_finalised_before_bounce.py
def f(fuel):
    log('f', fuel)
    if fuel <= 0:
        return 0
    for i1 in It(('it1', fuel), 2):
        return g(fuel - 1)
    return 0
f = optimize(f)
def g(fuel):
    log('g', fuel)
    return fuel
g = optimize(g)
CALLS = [lambda: f(2)]
