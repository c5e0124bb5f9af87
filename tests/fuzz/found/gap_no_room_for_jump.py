# ruff: noqa
# Found by the fuzzer (seed 2 program 8 of the default mix, minimized on "no room for a
# jump" refusals). Not a difference from native: a gap. pytailcall leaves every call of f
# as a normal call with "the rewriter could not analyse this function's bytecode (no room
# for a jump to unit 435 in 1 code units); please report this" (strategy loop, first the
# call on the conditional return line, then all others). Against 5375eaa on CPython
# 3.11.7 only; against 160ab59 (and the working tree of 2026-11-30) on 3.11.7, 3.12.1 and
# 3.13.0. The shape: a conditional tail call `return f(...) if c else u(*(...))` inside
# two nested loops (the inner over gen()), followed later by `except E as a` on a
# parameter. Hand-trimming it makes it go away (it depends on code layout), so it is left
# as the minimizer made it.
#
# Re-check: python -m tests.fuzz.run --check tests/fuzz/found/gap_no_room_for_jump.py
# (it passes; the refusal is in the result's `internal` list, which tests/test_fuzz.py's
# test_found_programs treats as an expected failure).
def f(fuel, a, b):
    log('f', fuel, a, b)
    if fuel <= 0:
        return 0
    v1 = 0
    log('s1', 0)
    log('s2', 0)
    for i3 in range(0 % 4):
        for i4 in gen(('it6', fuel), ((0 // (0 % 3 )) * 0 % 101) % 4):
            v1 = (0 * 0 % 101)
            if (0 if 0 < 0 else 0) % 2 == 0:
                return f(fuel - 1, zz=0) if (lambda y: y + 0)(0) < 0 else u(*(fuel - 1, 0,))
    w7 = 0
    while w7 < 1:
        w7 += 1
        v1 = 0
    try:
        if g(min(fuel - 1, 1)) % 2 == 0:
            raise E(0)
        log('s8', 0)
    except E as a:
        log('caught', type(a).__name__, str(a))
    return f(fuel - 1, 0, 0)
f = optimize(f)
def g(fuel):
    log('g', fuel)
    if fuel <= 0:
        return 0
    pass
    return g(fuel - 1)
def u(fuel, a):
    log('u', fuel, a)
    if fuel <= 0:
        return 0
    pass
    return u(fuel - 1, 0)
CALLS = [lambda: f(0, -3, -3)]
