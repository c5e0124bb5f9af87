# ruff: noqa
# Found by the fuzzer (python 3.12.1, seed 132, program 3480 of the default mix, on bf6bebf):
# a segmentation fault (3.13: "Executing a cache"). The return inside try/finally is far from
# the added code, and its stub took the END_FOR (3.12), or the POP_TOP after it (3.13),
# along: an exhausted FOR_ITER lands past those, in the middle of the jump put in their
# place. Loop ends are no longer moved.
def f(fuel, /, a=1, b=3, *, k=4):
    log('f', fuel, a, b, k)
    if fuel <= 0:
        return a
    match (g(min(fuel - 1, 1), g(fuel=min(fuel - 1, 1), a=((4 * b % 101) + k))) - f(min(fuel - 1, 1), b, b=sum(k for x1 in range((K + 3) % 4)), k=(4 // (fuel % 3 )))):
        case 0:
            log('counter', COUNTER)
            try:
                if a in (2, 3):
                    h2 = lambda y: (fuel or (a * a % 101))
                else:
                    h3 = lambda y: y * 2 + fuel
                    STORE.append(h3)
                    del STORE[:-3]
                    return f(fuel - 1, a=k, b=f(min(fuel - 1, 1), b=fuel), k=((5 if k > 0 else b) if b >= 5 else (STORE[-1](0) if STORE else 0))) % 1000
            finally:
                for i4 in range(f(min(fuel - 1, 1), 4, (len(LOG) % 5), k=(3 or 6)) % 4):
                    h5 = lambda y: y * 2 + b
                    STORE.append(h5)
                    del STORE[:-3]
                    v1 = g(min(fuel - 1, 1), k)
    return (((K * b % 101) - 3) & f(min(fuel - 1, 1), a=f(min(fuel - 1, 1), b=((lambda y: y + 7)(b) or 1), k=fuel), b=K, k=6)) if (STORE[-1](7) if STORE else 0) % 3 == 1 else f(fuel - 1, (b + (lambda y: y + 5)(b)), b=(STORE[-1]((v1 := fuel)) if STORE else 0))
f = optimize(f)
def g(fuel, a=3):
    log('g', fuel, a)
    if fuel <= 0:
        return (a - a)
    return g(fuel - 2, ((6 + 6) + 0))
g = optimize(g)
CALLS = [lambda: f(2, 3, -3)]
