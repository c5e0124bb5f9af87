# ruff: noqa
# Found by the campaign of 2026-11-30 (3.11.7, seed 21, program 5038): a tail call to g
# inside a for loop ran a driver that kept the frame, so the DEEP call recursed natively
# while explain() reported the call optimized. Such calls are now left normal calls, and
# reported so (the DEEP check is skipped for a mode with a refused call).
# fuzz program: plain (third, nested, deep)
def make_f():
    def f(fuel, a=5, b=5):
        log('f', fuel, a, b)
        if fuel <= 0:
            return (a & fuel)
        for i1 in [(((lambda y: y + 2)(K) * a % 101) // ((b * (STORE[-1](K) if STORE else 0) % 101) % 3 + 1)), b, ((K if 5 <= b else (STORE[-1](fuel) if STORE else 0)) if sum(fuel for x2 in range(a % 4)) % 2 == 1 else K)]:
            for i3 in range(5 % 4):
                for i4 in gen(('it6', fuel), 3 % 4):
                    pass
            if ((lambda y: y + K)(7) % 3 == 0 or f(*((min(fuel - 1, 1), (f(*(x7 for x7 in (min(fuel - 1, 1), 7, (COUNTER + a),))) // (i3 % 3 + 1)), (lambda y: y + (fuel ^ K))(b),)[x8] for x8 in range(3))) < (4 * 2 % 101)):
                return g(fuel - 1, a=((K and K) // ((K if fuel < 2 else 5) % 3 + 1)))
        return f(fuel - 1, a=len(STORE), b=b)
    f = optimize(f)
    return f
f = make_f()
def g(fuel, a):
    log('g', fuel, a)
    if fuel <= 0:
        return a
    log('s9', fuel)
    for i10, j11 in zip(It(('it12', fuel), (STORE[-1]((lambda y: y + (fuel if K == 5 else a))((5 or K))) if STORE else 0) % 4), gen(('it13', fuel), 1)):
        for i14 in ((lambda y: y + ((i10 + 4) and (6 and i10)))((j11 | j11)), 0):
            pass
        if sum(2 for x15 in range(0 % 4)) > sum([(6 ^ a) for x16 in range((a + 5) % 4)]):
            return len(range(j11 % 5))
    return f(fuel - 2, 1)
g = optimize(g)
def u(fuel, /):
    log('u', fuel)
    if fuel <= 0:
        return ((fuel & 0) // (fuel % 3 ))
    pass
    v2 = f(*(x17 for x17 in (min(fuel - 1, 1), len(STORE),)))
    return u(fuel - 2)
u = optimize(u)
CALLS = [lambda: f(15, a=2, b=5), lambda: f(4, 1, 9), lambda: f(94, a=8, b=0)]
DEEP = [lambda: f(1000, 1)]

