"""Decoration time of the benchmark's examples, steadier than ``bench``'s single median.

    python benchmarks/decoration.py

Each example is decorated (``tail_optimize``, default options) 60 times in a block, the
block's median kept; seven blocks, interleaved over the examples, and the fastest median
printed in microseconds. On a shared machine a block disturbed by other work only loses.
Each decoration is of a copy with a code object never decorated before (the first line:
what decorating a function costs); the second line decorates one code object again and
again (what a nested ``def`` run again costs, its rewrite reused).
"""

from __future__ import annotations

import statistics
import time
import warnings

from pytailcall import tail_optimize
from pytailcall.bench import examples
from pytailcall.bench.examples import never_decorated

BLOCKS = 7
PER_BLOCK = 60


def main() -> None:
    warnings.simplefilter("ignore")
    for label, first in (("first", True), ("again", False)):
        medians: dict[str, list[float]] = {e.name: [] for e in examples.EXAMPLES}
        for _ in range(BLOCKS):
            for example in examples.EXAMPLES:
                times = []
                for _ in range(PER_BLOCK):
                    func = never_decorated(example.native) if first else example.native
                    start = time.perf_counter_ns()
                    tail_optimize(func)
                    times.append(time.perf_counter_ns() - start)
                medians[example.name].append(statistics.median(times))
        print(f"{label}: "
              + " ".join(f"{name}={min(values) / 1e3:.0f}" for name, values in medians.items()))


if __name__ == "__main__":
    main()
