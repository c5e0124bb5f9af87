# ruff: noqa
# Found by the fuzzer (shape gen_loop; seed 1 program 113 of the default mix, minimized,
# then g dropped by hand; g is the same with It). Against pytailcall 5375eaa and 160ab59,
# CPython 3.11.7, 3.12.1 and 3.13.0, every strategy, with and without escape_try (the
# working tree of 2026-11-30 was passing it on 3.13 by the end of the day: a fix coming).
#
# What differs: when a tail call to the function itself sits inside a `for` loop, native
# code keeps the loop's iterator on the frame's stack until the call returns, so the
# generator's `finally` (or an iterator's `__del__`) runs after the whole recursion below it:
#     native    [('f', 1, -3), ('f', 0, 0), ('fin', ('it3', 1))]
# The optimized function drops the iterator before the jump (or bounce), so it is
# finalised before the next iteration starts:
#     optimized [('f', 1, -3), ('fin', ('it3', 1)), ('f', 0, 0)]
# Nested loops (an inner gen() inside an outer It()) show the same: both are finalised
# before the jump, inner first, instead of after the call.
#
# Re-check: python -m tests.fuzz.run --check tests/fuzz/found/iterator_finalised_before_self_jump.py
def f(fuel, *, k):
    log('f', fuel, k)
    if fuel <= 0:
        return 0
    for i1 in gen(('it3', fuel), 1):
        return f(fuel - 1, k=0)
    return f(fuel - 1, k=0)
f = optimize(f)
def g(fuel):
    log('g', fuel)
    if fuel <= 0:
        return 0
    for i1 in It(('it4', fuel), 2):
        return g(fuel - 1)
    return 0
g = optimize(g)
CALLS = [lambda: f(1, k=-3), lambda: g(2)]
