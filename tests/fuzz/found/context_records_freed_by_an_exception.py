# ruff: noqa
# Found by the fuzzer (python 3.11.7, seed 13110, program 4457, on 6de8da3; the bug came
# with saved contexts, issue 9): a context saved inside three for loops over generators
# (`return 0 + f(...)`), then an exception from a deeper level. The frame's pending record
# was freed by the exception, a tuple freeing its items last first: the saved iterators
# were finalised it7 before it10 (the record held the stack as v0, v3, v2, v1), where native
# unwinding finalises the top of the stack first (it10, it7, it3). Records now hold the
# stack bottom first.
def f(fuel, a, *args):
    log('f', fuel, a, args)
    if fuel <= 0:
        return 0
    del a
    for i1 in gen(('it3', fuel), fuel % 4):
        try:
            if 0 < 0:
                raise E(0)
            log('s4', 0)
        except E as a:
            log('caught', type(a).__name__, str(a))
        for i5 in gen(('it7', fuel), 2 % 4):
            for i8 in gen(('it10', fuel), (0 if 0 % 2 == 1 else 1) % 4):
                pass
                if 0 < (0 if 0 == 3 else 2):
                    return 0 + f(fuel - 1, 0)
            if 0 < 0:
                return g(*(x11 for x11 in (fuel - 1, 0,)))
    return f(fuel - 1, a, *args)
f = optimize(f)
def g(fuel, a):
    log('g', fuel, a)
    if fuel <= 0:
        return 0
    pass
    return int(0)
CALLS = [lambda: f(5, -3)]
