"""The README's speed tables, made from ``python -m pytailcall bench --json`` runs.

    python benchmarks/readme_tables.py runs/bench-3.11-a.json runs/bench-3.11-b.json ...

Why: figures copied into the README by hand drifted from the runs they came from, and a
range over runs is easy to get wrong. Give it the JSON of every full run (any number per
interpreter); it prints Markdown tables whose cells are the range over the runs of each
interpreter (``1.02-1.05x``; one figure when they agree to two decimals), which runs they
came from (interpreter, processor, commit), and, for issue 10's targets, on how many rows
every run met them. Paste its output; do not edit the figures.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Run = dict[str, Any]

#: Issue 10's targets for the loop strategy, as ratios: over the guarded loop (the floor of
#: an exact rewrite), and with ``name_guard=False`` over the hand-written loop.
LOOP_OVER_GUARDED_TARGET = 1.03
UNGUARDED_OVER_HAND_TARGET = 1.00


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def by_version(runs: Iterable[Run]) -> dict[str, list[Run]]:
    grouped: dict[str, list[Run]] = {}
    for run in runs:
        grouped.setdefault(run["python"], []).append(run)
    return dict(sorted(grouped.items(), key=lambda item: version_key(item[0])))


def span(values: Sequence[float | None], suffix: str = "x", digits: int = 2) -> str:
    """``1.02-1.05x`` over the runs; ``-`` when a run has no figure (recursion error)."""
    if not values or any(value is None for value in values):
        return "-"
    low, high = (f"{value:,.{digits}f}" for value in (min(values), max(values)))  # type: ignore[type-var]
    return f"{low}{suffix}" if low == high else f"{low}-{high}{suffix}"


def per_version(grouped: dict[str, list[Run]], read: Callable[[Run], float | None],
                suffix: str = "x", digits: int = 2) -> str:
    return " / ".join(span([read(run) for run in runs], suffix, digits)
                      for runs in grouped.values())


def provenance(grouped: dict[str, list[Run]]) -> str:
    parts = []
    for version, runs in grouped.items():
        commits = sorted({run.get("commit", "unknown") for run in runs})
        processors = sorted({run.get("processor", "unknown") for run in runs})
        parts.append(f"{version}: {len(runs)} run{'s' if len(runs) > 1 else ''} of "
                     f"{', '.join(commits)} on {', '.join(processors)}")
    return "; ".join(parts)


def dig(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...``, or None where a run lacks it (a section, a depth,
    a variant, an example): its cell then reads ``-``."""
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def example(run: Run, name: str) -> dict[str, Any] | None:
    return next((case for case in run["examples"] if case["name"] == name), None)


def call_of(run: Run, name: str) -> str:
    case = example(run, name)
    assert case is not None  # (names are taken from this run)
    return f"{case['example']}({', '.join(map(_short, case['args']))})"


def _short(arg: Any) -> str:
    text = repr(arg)
    return text if len(text) <= 24 else text[:12] + "..." + text[-6:]


def ratio_of(name: str, key: str) -> Callable[[Run], float | None]:
    return lambda run: dig(example(run, name), "ratios", key)


def _at_most(ratio: float | None, target: float) -> bool:
    """Met, to two decimals; a run without the figure has not met it."""
    return ratio is not None and ratio <= target + 0.005


def loop_table(grouped: dict[str, list[Run]]) -> list[str]:
    versions = " / ".join(grouped)
    first = next(iter(grouped.values()))[0]
    names = [case["name"] for case in first["examples"]]
    lines = [
        (f"| case | loop / guarded, {versions} | loop / hand loop | guarded / hand loop | "
        "unguarded / hand loop | loop speedup over native |"),
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        cells = [per_version(grouped, ratio_of(name, key)) for key in (
            "internal_loop_vs_guarded", "internal_loop_vs_hand", "guarded_loop_vs_hand",
            "unguarded_loop_vs_hand", "internal_loop_speedup_vs_native")]
        lines.append(f"| `{call_of(first, name)}` | " + " | ".join(cells) + " |")
    lines.append("")
    for key, target, what in (
            ("internal_loop_vs_guarded", LOOP_OVER_GUARDED_TARGET, "loop / guarded"),
            ("unguarded_loop_vs_hand", UNGUARDED_OVER_HAND_TARGET, "unguarded / hand loop")):
        met = []
        for version, runs in grouped.items():
            count = sum(all(_at_most(ratio_of(name, key)(run), target) for run in runs)
                        for name in names)
            met.append(f"{count} of {len(names)} on {version}")
        lines.append(f"Rows where every run has {what} at most {target:.2f}x (to two "
                     f"decimals): {', '.join(met)}.")
    return lines


def bounce_table(grouped: dict[str, list[Run]], section: Callable[[Run], Any],
                 variants: Sequence[str]) -> list[str]:
    first = section(next(iter(grouped.values()))[0])
    depths = [entry["n"] for entry in first["runs"]]
    lines = ["| variant | " + " | ".join(
        f"per bounce over a native call, N={n:,}, {' / '.join(grouped)}" for n in depths) + " |",
        "|---|" + "---|" * len(depths)]
    for variant in variants:
        cells = []
        for index in range(len(depths)):
            cells.append(per_version(
                grouped, lambda run, i=index, v=variant: dig(section(run), "runs", i,
                                                             "vs_native", v)))
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines


def cases_table(grouped: dict[str, list[Run]], section: Callable[[Run], Any],
                columns: Sequence[tuple[str, str]]) -> list[str]:
    first = section(next(iter(grouped.values()))[0])
    versions = " / ".join(grouped)
    lines = ["| case | " + " | ".join(f"{title}, {versions}" for _, title in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for index, case in enumerate(first["cases"]):
        cells = [per_version(grouped, lambda run, i=index, k=key: dig(section(run), "cases", i,
                                                                    "ratios", k))
                 for key, _ in columns]
        lines.append(f"| `{case['call']}` | " + " | ".join(cells) + " |")
    return lines


def decoration_table(grouped: dict[str, list[Run]]) -> list[str]:
    first = next(iter(grouped.values()))[0]
    strategies = list(first["decorate_us"])
    examples = list(first["decorate_us"][strategies[0]])
    versions = " / ".join(grouped)
    lines = ["| example | " + " | ".join(f"{strategy}, {versions}" for strategy in strategies)
             + " |", "|---|" + "---|" * len(strategies)]
    for name in examples:
        cells = [per_version(grouped, lambda run, s=strategy, n=name: dig(run, "decorate_us", s, n),
                             suffix=" µs", digits=0) for strategy in strategies]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return lines


def tables(runs: Sequence[Run]) -> str:
    grouped = by_version(runs)
    out = [f"Runs: {provenance(grouped)}.", "",
           ("Loop strategy (ratios of times per call, lower is better; speedup: native over "
           "loop, higher is better; `-`: native recursion overflows):"), ""]
    out += loop_table(grouped)
    missing = [name for name in ("bounce", "methods", "context", "decorate_us")
               if not all(run.get(name) for run in runs)]
    if missing:
        out += ["", f"(Left out: {', '.join(missing)}, missing from some of the runs.)"]
    if all(run.get("bounce") for run in runs):
        out += ["", "Tail calls between functions (`is_even`/`is_odd`):", ""]
        out += bounce_table(grouped, lambda run: run["bounce"],
                            ["internal_loop", "return_tuple", "partial_func", "hand_loop"])
    if all(run.get("methods") for run in runs):
        out += ["", ("Methods: a method calling itself (speedup: native over the variant) and "
                "two methods calling each other (`ping`/`pong`):"), ""]
        out += cases_table(grouped, lambda run: run["methods"], [
            ("internal_loop_speedup_vs_native", "loop speedup"),
            ("internal_loop_vs_hand", "loop / hand loop")])
        out += [""]
        out += bounce_table(grouped, lambda run: run["methods"]["bounce"],
                            ["internal_loop", "hand_loop"])
    if all(run.get("context") for run in runs):
        out += ["", "Tail recursion modulo context (speedup: native over the variant):", ""]
        out += cases_table(grouped, lambda run: run["context"], [
            ("internal_loop_speedup_vs_native", "loop speedup"),
            ("hand_loop_speedup_vs_native", "hand loop speedup"),
            ("internal_loop_vs_hand", "loop / hand loop")])
    if all(run.get("decorate_us") for run in runs):
        # Schema 3 (7f09463) times decorations in interleaved rounds; schema 2 in one block.
        how = ("the median of a round's decorations in the fastest of the interleaved rounds"
               if all(run.get("schema", 0) >= 3 for run in runs) else
               "one median of 200 in a row" if all(run.get("schema", 0) < 3 for run in runs)
               else "schema 2 and 3 runs mixed: one median of 200 in a row, or a round's "
                    "median in the fastest round")
        out += ["", f"Decoration (µs per `tail_optimize` call, as `bench` times it: {how}):", ""]
        out += decoration_table(grouped)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="JSON files of `python -m pytailcall bench`")
    args = parser.parse_args(argv)
    runs = []
    for path in args.runs:
        with open(path, encoding="utf-8") as handle:
            runs.append(json.load(handle))
    print(tables(runs))


if __name__ == "__main__":
    main()
