# ruff: noqa
# Found by the campaign of 2026-11-30 on 322d8cb (3.11.7, seed 11, program 2472): the
# iterators of two levels were finalised outermost first when the list holding them was
# in a per-call cell. Passes since the list lives at the bottom of the stack.
# python 3.11.7, seed 11, program 2472, mix classic=30,tail=45,plain=25,gen_loop=3,del_param=2,except_param=2,star_gen=3,slow_form=20,method=25,third=30,deep=80
# [strategy=loop escape_try=False] log: call 0: logs differ from character 121: native ..."-1,), 7, 2), ('f', 2, 7, (0, 0), 0, 3), ('del', ('it3', 2), 0), ('fin', ('it4', 3)), ('del', ('it3', 3), 1), ('fin', ('it4', 4)), ('del', ('it3', 4), 1)]", optimized ..."-1,), 7, 2), ('f', 2, 7, (0, 0), 0, 3), ('del', ('it3', 2), 0), ('fin', ('it4', 4)), ('del', ('it3', 4), 1), ('fin', ('it4', 3)), ('del', ('it3', 3), 1)]"
# fuzz program: tail
def f(fuel, a=4, *args, k, m):
    log('f', fuel, a, args, k, m)
    if fuel <= 0:
        return K
    for i1, j2 in zip(It(('it3', fuel), k % 4), gen(('it4', fuel), 1)):
        if m <= ((j2 * K % 101) * j2 % 101):
            return f(fuel - 1, (lambda y: y + (m - 0))(6), k=1, m=2) % 1000
        elif 7 <= sum(args):
            v1 = 1
        elif ((i1 >= 4 or K > 6) and k % 3 == 1):
            def h5(y):
                nonlocal j2
                j2 = j2 + y
                return j2
            for i6, j7 in zip(It(('it8', fuel), (2 // (i1 % 3 )) % 4), gen(('it9', fuel), 1)):
                v1 = k
                h10 = lambda y: (STORE[-1](2) if STORE else 0)
        else:
            del k
            del a
        if 0 <= 7:
            return f(fuel - 2, 2, k=fuel, m=(STORE[-1](j2) if STORE else 0))
    return f(fuel - 1, f(min(fuel - 1, 1), (lambda y: y + j2)(0), k=4, m=(K if 3 < fuel else len(STORE))), k=7, m=3)
f = optimize(f)
def g(fuel, a):
    log('g', fuel, a)
    if fuel <= 0:
        return 7
    v1 = 2
    return g(fuel - 2, 6)
g = optimize(g)
CALLS = [lambda: f(75, -3, k=-3, m=-3), lambda: f(0, -3, k=-3, m=-3)]
