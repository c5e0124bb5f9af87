# ruff: noqa
# Found by the fuzzer (python 3.11.7, seed 91, program 1750 of the default mix, on 3587bdf).
# The base case `return kw.get("z", 0)` was too far from the added code, so its stub took
# the CALL before it along, leaving its PRECALL behind: 3.11 specialises PRECALL into a form
# that makes the call and skips the CALL it expects right after, so execution fell into the
# loop below the return (here: endless recursion; elsewhere: a crash). The whole call sequence
# now moves together.
# fuzz program: tail (method)
def f(fuel, /, *, k=0, **kw):
    log('f', fuel, k, sorted(kw.items()))
    if fuel <= 0:
        return kw.get('z', 0)
    for i1 in ((STORE[-1](sum(0 for x2 in range(OBJ.m(min(fuel - 1, 1), 0, 0, fuel) % 4))) if STORE else 0), (lambda y: y + (f(min(fuel - 1, 1)) + 0))(0)):
        pass
    return (g(min(fuel - 1, 1), 0, 0, 0, k=0), f(fuel - 1, k=((0 if 0 < 0 else 0) and 0), z=(STORE[-1](0) if STORE else 0)))[1]
f = optimize(f)
def g(fuel, a, b, c, *, k):
    log('g', fuel, a, b, c, k)
    if fuel <= 0:
        return 0
    pass
    return g(fuel - 1, 0, 0, 0, k=0)
class Obj:
    def m(self, fuel, a, b, c, *args):
        log('m', fuel, a, b, c, args)
        if fuel <= 0:
            return 0
        pass
        return self.m(fuel - 1, 0, 0, 0)
OBJ = Obj()
CALLS = [lambda: f(2)]
