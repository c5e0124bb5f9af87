# ruff: noqa
# Found by the fuzzer (python 3.11.7, seed 91, program 1179 of the default mix, on 140549b).
# In u, `return f(fuel - 1, k=u(...))`: the inner call was saved as a context whose work is
# the tail call to f, which then ran as a plain call when replayed instead of bouncing, and
# the DEEP call (f and u calling each other) overflowed. A context that ends with a tail call
# of another function is not saved: that call bounces, as before.
# fuzz program: plain (third, deep)
def f(fuel, *, k, **kw):
    log('f', fuel, k, sorted(kw.items()))
    if fuel <= 0:
        return (len(LOG) % 5)
    if ((lambda y: y + 5)(k) * (K + K) % 101) >= K:
        log('s1', k)
    elif (len(LOG) % 5) % 3 == 1:
        for i2 in [(kw.get('z', 0) // (((K + 5) + (K if 7 > 3 else 1)) % 3 + 1)), ((STORE[-1]((2 if K >= 0 else 2)) if STORE else 0) - k)]:
            pass
    elif not ((lambda y: y + fuel)(fuel) % 4 == 1):
        pass
    return f(*(x3 for x3 in (fuel - 1,)), k=1) if len(kw) != COUNTER else u(fuel - 1)
f = optimize(f)
def g(fuel):
    log('g', fuel)
    if fuel <= 0:
        return 7
    pass
    return (6 - fuel)
g = optimize(g)
def u(fuel, /):
    log('u', fuel)
    if fuel <= 0:
        return (4 + 3)
    if (sum(fuel for x4 in range(K % 4)) & u(min(fuel - 1, 1))) == fuel:
        pass
    elif ((fuel == 2 or 6 > 7) or not (fuel < fuel)):
        v1 = sum([3 for x5 in range(((fuel * K % 101) * K % 101) % 4)])
    elif (fuel if 6 > K else fuel) % 2 == 0:
        return u(*(x6 for x6 in (fuel - 2,))) if fuel % 3 == 0 else (((K // (K % 3 + 1)) ^ 1) - K)
    else:
        pass
    return f(fuel - 1, k=u(*(min(fuel - 1, 1),)))
u = optimize(u)
CALLS = [lambda: f(7, k=-3), lambda: f(1, k=4), lambda: f(1, k=5)]
DEEP = [lambda: f(1000, k=7)]
