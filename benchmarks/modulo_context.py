"""Tail recursion modulo context: speed against native recursion, and memory per level.

    python benchmarks/modulo_context.py            # speed, then memory (one process each)

Speed: native recursion, the optimized function and a hand-written two-loop version (push
the pending operands on a list, then fold them) on ``fact_mod(800)``, the length of an
800-node linked list and ``build(800)``, interleaved in rounds in one process; the figures
are medians over rounds of native time / variant time (above 1: faster than native).

Depth: native time / optimized time of ``length`` on lists of 0 to 800 nodes (each the
minimum of 15 runs): where the optimized function overtakes native recursion.

Memory: the peak RSS growth per level of ``length`` and of ``total`` (whose saved value is a
new int) at 400,000 levels, natively (recursion limit raised) and optimized, each in a
fresh subprocess.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SOURCE = '''
def fact_mod(n, m):
    if n <= 1:
        return 1
    return n * fact_mod(n - 1, m) % m

def length(node):
    if node is None:
        return 0
    return 1 + length(node[1])

def build(n):
    if n == 0:
        return None
    return (n, build(n - 1))

def total(xs, i):
    if i == len(xs):
        return 0
    return xs[i] * 3 + total(xs, i + 1)
'''


def hand_loops() -> dict[str, Any]:
    """The hand-written two-loop versions, as ``python -m pytailcall bench`` times them."""
    from pytailcall.bench import examples

    return {name: getattr(examples, f"{name}_unrecursed")
            for name in ("fact_mod", "length", "build")}


def namespaces() -> tuple[dict[str, Any], dict[str, Any]]:
    from pytailcall import tail_optimize

    native: dict[str, Any] = {}
    exec(SOURCE, native)
    optimized: dict[str, Any] = {}
    exec(SOURCE, optimized)
    for name in ("fact_mod", "length", "build", "total"):
        optimized[name] = tail_optimize(optimized[name])
    return native, optimized


def per_call_ns(func: Any, args: tuple[Any, ...], number: int) -> float:
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(number):
            func(*args)
        return (time.perf_counter_ns() - start) / number
    finally:
        gc.enable()


def speed(rounds: int = 21, number: int = 200) -> None:
    native, optimized = namespaces()
    hand = hand_loops()
    node = None
    for i in range(800):
        node = (i, node)
    cases = {"fact_mod(800)": ("fact_mod", (800, 1000003)),
             "length(800 nodes)": ("length", (node,)), "build(800)": ("build", (800,))}
    print(f"Python {sys.version.split()[0]}: native time / variant time, median of {rounds} rounds")
    for label, (name, args) in cases.items():
        assert native[name](*args) == optimized[name](*args) == hand[name](*args)
        ours, loops = [], []
        for _ in range(rounds):
            reference = per_call_ns(native[name], args, number)
            ours.append(reference / per_call_ns(optimized[name], args, number))
            loops.append(reference / per_call_ns(hand[name], args, number))
        print(f"  {label:18} optimized {statistics.median(ours):.2f}x   "
              f"hand-written two loops {statistics.median(loops):.2f}x")


def depths(runs: int = 15) -> None:
    native, optimized = namespaces()
    row = []
    for depth in (0, 5, 50, 100, 200, 400, 800):
        node = None
        for i in range(depth):
            node = (i, node)
        number = max(20_000 // (depth + 1), 20)
        reference = min(per_call_ns(native["length"], (node,), number) for _ in range(runs))
        ours = min(per_call_ns(optimized["length"], (node,), number) for _ in range(runs))
        row.append(f"{depth}: {reference / ours:.2f}x")
    print(f"length by depth, native time / optimized time: {', '.join(row)}")


MEMORY = '''
import resource, sys
sys.path[:0] = {path!r}
from benchmarks.modulo_context import namespaces
native, optimized = namespaces()
ns = {{"native": native, "optimized": optimized}}[{mode!r}]
depth = {depth}
node = None
for i in range(depth):
    node = (i, node)
xs = list(range(10**6, 10**6 + depth))
args = {{"length": (node,), "total": (xs, 0)}}[{name!r}]
sys.setrecursionlimit(depth + 1000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ns[{name!r}](*args)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(round((after - before) * 1024 / depth))
'''


def memory(depth: int = 400_000) -> None:
    print(f"Peak RSS growth per level at {depth:,} levels (bytes)")
    for name in ("length", "total"):
        figures = {}
        for mode in ("native", "optimized"):
            code = MEMORY.format(path=[str(Path(__file__).resolve().parents[1])], mode=mode,
                                 name=name, depth=depth)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True)
            figures[mode] = done.stdout.strip()
        print(f"  {name:8} native {figures['native']:>4}   optimized {figures['optimized']:>4}")


if __name__ == "__main__":
    speed()
    depths()
    memory()
