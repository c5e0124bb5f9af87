"""What the generator produces: how many calls end up optimized, and checking throughput.

::

    python -m tests.fuzz.stats --examples 500 --seed 0 [--mix ci] [--throughput]

For each program, every call in its source whose callee is one of the generated functions
(``f``, ``g``, ``u``, the method ``m``, the inner ``loopN``) is a *call*; it is *optimized*
when ``explain()`` of the function that makes it, optimized with ``strategy="loop"``, lists
it as optimized: a jump for a call to itself, a bounce for a tail call to another generated
function that the program optimizes (a tail call to an undecorated one stays a call). Calls
are counted once per source line and callee, over the functions the run optimized (inner
functions are optimized when their enclosing function runs, so the entry calls are made).
Tail calls to builtins and closures are counted apart (``calls_out_other``): they are never
anything but calls.

``--throughput`` also times the full check (native run and every mode, in process, one
core) of the same programs: programs per second.
"""

from __future__ import annotations

import argparse
import ast
import collections
import contextlib
import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tests.fuzz"

from .generate import DEFAULT_MIX, program_from_seed
from .run import check_program, execute

GENERATED = ("f", "g", "u", "m")
LOOP_MODE = {"strategy": "loop", "escape_try": False}


def _generated(name: str) -> bool:
    return name in GENERATED or (name.startswith("loop") and name[4:].isdigit())


def _calls_in_source(source: str) -> collections.Counter[tuple[int, str, str]]:
    """(line, callee, caller) of every call to a generated function."""
    found: collections.Counter[tuple[int, str, str]] = collections.Counter()

    def visit(node: ast.AST, caller: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = caller
            if isinstance(child, ast.FunctionDef):
                inner = child.name
            if isinstance(child, ast.Call):
                func = child.func
                name = (func.id if isinstance(func, ast.Name)
                        else func.attr if isinstance(func, ast.Attribute) else None)
                if name is not None and _generated(name) and caller != "<module>":
                    found[(child.lineno, name, caller)] += 1
            visit(child, inner)

    visit(ast.parse(source), "<module>")
    return found


def measure_program(source: str) -> dict[str, Any]:
    """Counts for one program (see the module docstring)."""
    reports: list[tuple[str, Any]] = []
    # A program that fails is counted with what it optimized before that.
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        execute(source, LOOP_MODE, reports=reports)
    decorated = {name for name, _ in reports}
    optimized: collections.Counter[tuple[int | None, str, str]] = collections.Counter()
    seen: dict[tuple[str, str], set[tuple[Any, ...]]] = {}
    reasons: collections.Counter[str] = collections.Counter()
    calls_out_other = 0
    for name, report in reports:
        key = (name, report.filename)
        sites = {(s.lineno, s.target, s.optimized, s.reason, kind)
                 for kind, group in (("self", report.sites), ("out", report.calls_out))
                 for s in group}
        if key in seen and seen[key] >= sites:
            continue
        seen.setdefault(key, set()).update(sites)
    for (name, _), sites in seen.items():
        for lineno, target, is_optimized, reason, kind in sites:
            if kind == "out" and not _generated(target):
                calls_out_other += 1
                continue
            if is_optimized and (kind == "self" or target in decorated):
                optimized[(lineno, target, name)] += 1
            elif not is_optimized:
                reasons[(reason or "?").split(":")[0].split(" (")[0]] += 1
    calls = _calls_in_source(source)
    total = sum(calls.values())
    hits = sum(min(count, optimized[key]) for key, count in calls.items())
    own = {key: count for key, count in calls.items() if key[1] == key[2]}
    return {
        "calls": total, "optimized": hits,
        "self_calls": sum(own.values()),
        "self_optimized": sum(min(c, optimized[k]) for k, c in own.items()),
        "calls_out_other": calls_out_other,
        "programs_with_optimized": int(hits > 0),
        "reasons": reasons,
        "kind": source.split("\n", 1)[0].removeprefix("# fuzz program: ").split(" (")[0],
    }


def measure(sources: Sequence[str]) -> dict[str, Any]:
    totals: dict[str, Any] = collections.defaultdict(int)
    kinds: collections.Counter[str] = collections.Counter()
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    reasons: collections.Counter[str] = collections.Counter()
    for source in sources:
        counts = measure_program(source)
        kinds[counts["kind"]] += 1
        reasons.update(counts.pop("reasons"))
        kind = counts.pop("kind")
        for name, value in counts.items():
            totals[name] += value
            by_kind[kind][name] += value
    summary: dict[str, Any] = {"programs": len(sources), **totals}
    summary["optimized_share"] = round(totals["optimized"] / max(1, totals["calls"]), 3)
    summary["self_optimized_share"] = round(
        totals["self_optimized"] / max(1, totals["self_calls"]), 3)
    summary["kinds"] = dict(kinds)
    summary["by_kind"] = {
        kind: {"programs": kinds[kind], "calls": c["calls"], "optimized": c["optimized"],
               "share": round(c["optimized"] / max(1, c["calls"]), 3)}
        for kind, c in by_kind.items()}
    summary["refusals"] = dict(reasons.most_common(8))
    return summary


def throughput(sources: Sequence[str]) -> float:
    """Programs fully checked per second, in process."""
    started = time.perf_counter()
    for source in sources:
        check_program(source)
    return len(sources) / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None,
         make: Callable[[int], str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.stats", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mix", default="default")
    parser.add_argument("--throughput", action="store_true")
    args = parser.parse_args(argv)
    if make is None:
        mix = DEFAULT_MIX.updated(args.mix)
        make = lambda n: program_from_seed(n, mix)[0]  # noqa: E731
    sources = [make(args.seed * 1_000_003 + i) for i in range(args.examples)]
    summary = measure(sources)
    summary["python"] = sys.version.split()[0]
    if args.throughput:
        summary["programs_per_second"] = round(throughput(sources), 2)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
