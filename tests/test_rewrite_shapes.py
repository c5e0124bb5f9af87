"""Shapes the rewriter treats specially: arguments it does not reload, and memory use."""

from __future__ import annotations

import dis
import tracemalloc

from pytailcall import explain


def test_unchanged_trailing_argument_is_kept_not_reloaded(make_pair, deep):
    native, modulo = make_pair("""
        def modulo(val, div):
            if val < div:
                return val
            return modulo(val - div, div)
        """)
    assert modulo(deep * 7 + 3, 7) == 3
    assert modulo(100, 7) == native(100, 7)
    assert all(site.optimized for site in explain(modulo).sites)


def test_a_trailing_tail_call_checks_its_callee_where_the_call_was(make_pair):
    """A call sequence that ends the function is overwritten by its stub itself, not by a
    jump to a stub after the code: one jump fewer each time round the loop it makes."""
    native, modulo = make_pair("""
        def modulo(val, div):
            if val < div:
                return val
            return modulo(val - div, div)
        """)
    target = modulo.__dict__["__tail_call__"]
    rewritten = modulo if target.marker is None else target.marker.impl  # (trampolines)
    instrs = list(dis.get_instructions(rewritten))
    load = next(i for i in instrs if i.opname.startswith("LOAD_GLOBAL") and i.argval == "modulo")
    after = instrs[instrs.index(load):]
    guard = next(i for i in after if i.opname == "IS_OP")  # is the callee this function?
    assert not [i.opname for i in after[:after.index(guard)]
                if i.opname in ("JUMP_FORWARD", "NOP")]
    assert modulo(100, 7) == native(100, 7)
    assert all(site.optimized for site in explain(modulo).sites)


def test_unchanged_arguments_reach_a_rebound_name_intact(make_pair):
    """The normal-call path pushes the kept parameters again, in their places."""
    _, walk = make_pair("""
        def walk(n, a, b):
            if n == 0:
                return a, b
            return walk(n - 1, a, b)
        """)
    calls = []
    original = walk

    def spy(*args):
        calls.append(args)
        return original(*args)

    walk.__globals__["walk"] = spy
    assert walk(3, "x", "y") == ("x", "y")
    assert calls == [(2, "x", "y"), (1, "x", "y"), (0, "x", "y")]


def test_all_arguments_unchanged(make_pair, deep):
    native, drain = make_pair("""
        def drain(items, total):
            if not items:
                return total
            items.pop()
            return drain(items, total)
        """)
    assert drain(list(range(deep)), 5) == 5
    assert drain([1, 2], 5) == native([1, 2], 5)


def test_unchanged_keyword_argument(make_pair, deep):
    native, walk = make_pair("""
        def walk(n, acc, step=1):
            if n <= 0:
                return acc
            return walk(n - step, acc + 1, step=step)
        """)
    assert walk(deep, 0, step=2) == native(20, 0, step=2) * (deep // 20)


def test_argument_rebinding_its_parameter_is_still_stored(make_pair):
    native, walk = make_pair("""
        def walk(n, d):
            if n <= 0:
                return d
            return walk(n - (d := d + 1), d)
        """)
    assert walk(50, 0) == native(50, 0)


def test_captured_parameter_passed_unchanged_gets_a_fresh_cell(make_pair):
    native, walk = make_pair("""
        def walk(n, k, fns):
            fns.append(lambda: (n, k))
            if n == 0:
                return [f() for f in fns]
            return walk(n - 1, k, fns)
        """)
    assert walk(3, "k", []) == native(3, "k", []) == [(3, "k"), (2, "k"), (1, "k"), (0, "k")]


def test_deep_tail_loop_runs_in_constant_memory(make_pair):
    _, count = make_pair("""
        def count(n, acc):
            if n == 0:
                return acc
            return count(n - 1, acc + 1)
        """)
    count(1000, 0)  # warm up: specialization and first-call allocations
    tracemalloc.start()
    try:
        assert count(300_000, 0) == 300_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A frame per iteration would need tens of megabytes; a loop needs a few small ints.
    assert peak < 64 * 1024


REBIND_IN_ARGUMENTS = """
def hop(n):
    if n == 0:
        return ("hop", n)
    return hop(rebind_at(n))

def other(n):
    return ("other", n)

def rebind_at(n):
    global hop
    if n == 3:
        hop = other
    return n - 1
"""


def test_the_callee_is_tested_as_it_is_loaded(make_pair, deep):
    """The loop strategy tests the callee where it is loaded, and keeps no copy of it under
    the arguments; arguments that rebind the name still run into the function loaded
    before them (natively too), and the next call finds the new one."""
    native, hop = make_pair(REBIND_IN_ARGUMENTS, strategy="loop")
    assert hop(6) == native(6) == ("other", 1)
    _, fresh = make_pair(REBIND_IN_ARGUMENTS, strategy="loop")
    fresh.__globals__["rebind_at"] = lambda n: n - 1
    assert fresh(deep) == ("hop", 0)
    instrs = list(dis.get_instructions(fresh))
    load = next(i for i in instrs if i.opname.startswith("LOAD_GLOBAL") and i.argval == "hop")
    after = [i.opname for i in instrs[instrs.index(load) + 1:]]
    assert after[:2] == ["LOAD_DEREF", "IS_OP"]
