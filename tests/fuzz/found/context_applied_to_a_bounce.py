# ruff: noqa
# Found by the fuzzer (python 3.13.0, seed 73, program 799 of the default mix, on 6f2ef39's
# parent). f's implementation (what g's driver runs when g bounces into f) saved the context
# of `-f(...)`, then returned the bounce of its call out to g through that context:
# TypeError "bad operand type for unary -: 'TailCall'" instead of the native -7. An
# implementation holding saved contexts now runs a call out to its result (a driver).
# fuzz program: tail (third)
def f(fuel, a=5, *, k=0):
    global COUNTER
    log('f', fuel, a, k)
    if fuel <= 0:
        return 7
    v1 = fuel
    for i1 in range(fuel % 4):
        return -f(fuel - 1, a=(v1 := a))
    else:
        COUNTER += 3
        log('s2', fuel)
        log('s3', ((1 if K >= k else k) - K))
    h4 = lambda y: y * 2 + fuel
    STORE.append(h4)
    del STORE[:-3]
    v3 = u(min(fuel - 1, 1), a=v1)
    def h5(y):
        nonlocal v1
        v1 = v1 + y
        return v1
    v3 = len(STORE)
    return g(fuel - 1, fuel, b=((v1 + v1) + h5(1)))
f = optimize(f)
def g(fuel, /, a=1, b=1, *, k=5, m=4):
    log('g', fuel, a, b, k, m)
    if fuel <= 0:
        return len(STORE)
    del k
    def h6(y):
        return fuel
    return f(fuel - 2, ((fuel + 4) + fuel), k=6)
g = optimize(g)
def u(fuel, a):
    log('u', fuel, a)
    if fuel <= 0:
        return 3
    log('counter', COUNTER)
    return u(fuel - 2, a=K)
u = optimize(u)
CALLS = [lambda: f(k=-2, a=8, fuel=9), lambda: f(37, a=9, k=1), lambda: f(6, 5)]
