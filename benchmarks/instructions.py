"""Machine instructions per call of a benchmark example, counted by callgrind.

Time on a shared machine is noisy; instruction counts are not. Each variant of an example
row (the hand-written loop, the guarded loop, the loop strategy, and the loop strategy with
``name_guard=False``) runs under ``valgrind --tool=callgrind`` twice, with 0 and with N
timed calls after the same warm-up; the difference over N is the count per call. Counts
are not times (a cache miss costs more than an add), and they are not exact either (the
garbage collector and the specializing interpreter's warm-up move them by a few percent
between runs), but they do not move with the load of the machine.

    python benchmarks/instructions.py modulo:1 fib:1 collatz:1 to_binary:2 gcd:2

(``name:index`` names a row of ``python -m pytailcall bench``: the example and its 0-based
parameter set; ``all`` names every row, about 25 minutes per interpreter). The row
``bounce`` counts instead one tail call between two optimized functions
(``is_even``/``is_odd`` of the bench's bounce section, 500 deep) against one native call,
the row ``method_bounce`` the same for two methods (``ping``/``pong`` of the methods
section) against one native method call, the row ``nested_def`` one run of a function
defining a closure whose tail call goes to another function, under the import hook (a
decoration of the same code object again) against natively, the row ``call_out`` one
call of a function whose tail call goes to a plain function (``return g(n)``, the check
that finds ``g`` not optimized), optimized against native, and ``length:DEPTH`` one call
of ``length`` (``return 1 + length(rest)``, a saved context per level) on a linked list
of DEPTH nodes, optimized against native (two depths separate the cost per level from
the cost per call), and ``decoration:NAME`` one decoration, ``tail_optimize`` of the
example's native function with the default options (after a warm-up of the same;
warnings ignored), for changes to the decorator's own speed: of a copy never decorated
before, and of the same code object again. Needs
valgrind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from typing import Any

VARIANTS = ("hand", "guarded", "loop", "unguarded")
WARM_UP = 20


BOUNCE_VARIANTS = ("native", "loop")
BOUNCE_DEPTH = 500
LENGTH = """
def length(node):
    if node is None:
        return 0
    return 1 + length(node[1])
"""
#: A function that defines a closure each time it runs (as networkx's ``FilterAdjacency``
#: does), the closure's tail call going to another function: under the import hook each
#: definition is a decoration of the same code object again.
NESTED_DEF = """
def helper(t):
    return t

def outer():
    def match(t):
        return helper(t)
    return match
"""
CALL_OUT = """
def g(n):
    return n

def f(n):
    if n < 0:
        return f(n + 1)
    return g(n)
"""


def _inner(name: str, index: int, variant: str, calls: int) -> None:
    warnings.simplefilter("ignore")
    from pytailcall.bench import examples

    if name == "bounce":
        entry = examples.build_mutual_variants()[
            examples.NATIVE if variant == "native" else examples.label("loop")]
        for _ in range(WARM_UP + calls):
            entry(BOUNCE_DEPTH)
        return
    if name == "method_bounce":
        entry = examples.build_method_variants().bounce[
            examples.NATIVE if variant == "native" else examples.LOOP]
        for _ in range(WARM_UP + calls):
            entry(BOUNCE_DEPTH)
        return
    if name == "length":
        from pytailcall import tail_optimize

        functions: dict[str, Any] = {}
        exec(compile(LENGTH, "length.py", "exec"), functions)
        if variant == "loop":
            functions["length"] = tail_optimize(functions["length"])
        node: Any = None
        for i in range(index):
            node = (i, node)
        for _ in range(WARM_UP + calls):
            functions["length"](node)
        return
    if name == "call_out":
        from pytailcall import tail_optimize

        namespace: dict[str, object] = {}
        exec(compile(CALL_OUT, "call_out.py", "exec"), namespace)
        if variant == "loop":
            namespace["f"] = tail_optimize(namespace["f"])
        f = namespace["f"]
        for _ in range(WARM_UP + calls):
            f(1)  # type: ignore[operator]
        return

    if name == "nested_def":
        from pytailcall import _auto

        namespace = {}
        hooked = variant == "loop"
        code = _auto.compile_source(NESTED_DEF, "nested_def.py", optimize=hooked)
        if hooked:
            _auto.prepare(namespace, code)
        exec(code, namespace)
        outer = namespace["outer"]
        for _ in range(WARM_UP + calls):
            outer()  # type: ignore[operator]
        return

    if variant in ("decorate", "decorate_again"):
        from pytailcall import tail_optimize

        native = next(e for e in examples.EXAMPLES if e.name == name).native
        for _ in range(WARM_UP + calls):
            # A code object never decorated (see never_decorated), or the same one again.
            tail_optimize(examples.never_decorated(native) if variant == "decorate" else native)
        return

    example = next(e for e in examples.EXAMPLES if e.name == name)
    args = example.params[index]
    func = {
        "hand": lambda: example.hand_loop,
        "guarded": lambda: example.guarded_loop,
        "loop": lambda: examples.optimized(example, "loop"),
        "unguarded": lambda: examples.optimized(example, "loop", name_guard=False),
    }[variant]()
    for _ in range(WARM_UP + calls):
        func(*args)


def _collected(name: str, index: int, variant: str, calls: int) -> int:
    # A fixed hash seed: string hashes decide dict probe sequences, so counts would vary.
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--inner", name, str(index), variant, str(calls)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : ([\d,]+)", done.stderr)
    assert found is not None, done.stderr
    return int(found.group(1).replace(",", ""))


def main(rows: list[str]) -> None:
    if "all" in rows:
        from pytailcall.bench.examples import EXAMPLES

        at = rows.index("all")
        rows[at:at + 1] = [f"{e.name}:{i}" for e in EXAMPLES for i in range(len(e.params))]
    print(f"python {sys.version.split()[0]}; instructions per call (callgrind)")
    if "bounce" in rows:
        _bounce_row()
    if "method_bounce" in rows:
        _bounce_row("method_bounce")
    if "call_out" in rows:
        _call_out_row()
    if "nested_def" in rows:
        _nested_def_row()
    for row in rows:
        if row.startswith("length:"):
            _length_row(int(row.partition(":")[2]))
        if row.startswith("decoration:"):
            _decoration_row(row.partition(":")[2])
    examples = [r for r in rows if r not in ("bounce", "method_bounce", "call_out", "nested_def")
                and not r.startswith(("length:", "decoration:"))]
    if examples:
        print("| row | " + " | ".join(VARIANTS)
              + " | loop / guarded | unguarded / hand | loop / hand |")
        print("|---|" + "---|" * (len(VARIANTS) + 3))
    for row in examples:
        name, _, index = row.partition(":")
        # Cheap rows need many calls: a collection of the garbage collector in one run of
        # the pair and not the other is worth tens of calls (modulo(5, 3) once counted 235
        # instructions a call with 50).
        cheap = name == "gcd" or index in ("", "0") or row == "reverse_string:1"
        calls = 2000 if cheap else 50
        counts = {variant: (_collected(name, int(index or 0), variant, calls)
                            - _collected(name, int(index or 0), variant, 0)) // calls
                  for variant in VARIANTS}
        print(f"| {row} | " + " | ".join(f"{counts[v]:,}" for v in VARIANTS)
              + f" | {counts['loop'] / counts['guarded']:.3f}"
              + f" | {counts['unguarded'] / counts['hand']:.2f} "
              + f"| {counts['loop'] / counts['hand']:.2f} |", flush=True)


def _per_call(name: str, index: int, calls: int) -> dict[str, float]:
    """Instructions per call of each of ``BOUNCE_VARIANTS`` (native, optimized): ``calls``
    timed calls after the warm-up, less the warm-up alone."""
    return {variant: (_collected(name, index, variant, calls)
                      - _collected(name, index, variant, 0)) / calls
            for variant in BOUNCE_VARIANTS}


def _bounce_row(name: str = "bounce") -> None:
    counts = {variant: count / BOUNCE_DEPTH
              for variant, count in _per_call(name, 0, 50).items()}
    print(f"{name}: {counts['loop']:,.0f} instructions per bounce, native call "
          f"{counts['native']:,.0f}, ratio {counts['loop'] / counts['native']:.2f}", flush=True)


def _length_row(depth: int) -> None:
    counts = _per_call("length", depth, 2000)
    print(f"length of {depth} nodes: {counts['loop']:,.0f} instructions per call, native "
          f"{counts['native']:,.0f}", flush=True)


def _decoration_row(name: str) -> None:
    # The warm-up alone in the 0 run: the difference is N decorations, imports excluded.
    calls = 50
    first, again = ((_collected(name, 0, variant, calls) - _collected(name, 0, variant, 0))
                    / calls for variant in ("decorate", "decorate_again"))
    print(f"decoration of {name}: {first:,.0f} instructions; of its code again (a nested "
          f"def run again): {again:,.0f}", flush=True)


def _nested_def_row() -> None:
    counts = _per_call("nested_def", 0, 2000)
    print(f"nested_def: {counts['loop']:,.0f} instructions per definition under the import "
          f"hook, native {counts['native']:,.0f}", flush=True)


def _call_out_row() -> None:
    counts = _per_call("call_out", 0, 20_000)
    print(f"call_out: {counts['loop']:,.0f} instructions per call, native "
          f"{counts['native']:,.0f}, extra {counts['loop'] - counts['native']:,.0f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inner"]:
        _inner(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        main(sys.argv[1:] or ["modulo:1", "collatz:1", "fib:1", "to_binary:2", "gcd:2"])
