# ruff: noqa
# Found by the fuzzer (python 3.11.7, seed 91, program 261 of the default mix, on c905654).
# The inner call f(min(fuel - 1, 1), 0) was saved as a context whose work is the outer
# call f(fuel - 1, _): replayed, that outer call was a real call instead of the jump of a
# tail call, and the DEEP call overflowed. A context that calls the function itself through
# a callee loaded before the call is refused, as one that loads it after is.
# fuzz program: plain (deep)
def f(fuel, a):
    log('f', fuel, a)
    if fuel <= 0:
        return 0
    v1 = 0
    return f(fuel - 1, f(min(fuel - 1, 1), 0))
f = optimize(f)
def g(fuel):
    log('g', fuel)
    if fuel <= 0:
        return 0
    pass
    return g(fuel - 1)
g = optimize(g)
CALLS = [lambda: f(0, -3)]
DEEP = [lambda: f(1000, -3)]
