"""The seed's chart: per-call time of every variant on every example row, log scale.

matplotlib is an optional extra (``pip install pytailcall[plot]``): it is imported only
here, by name, so the package and its type-checking need nothing of it.  :func:`require`
fails early, before a benchmark whose chart could not be drawn.
"""

from __future__ import annotations

import importlib
from typing import Any

from pytailcall.bench import examples as ex
from pytailcall.bench.measure import SuiteResult
from pytailcall.bench.report import example_labels, unavailable

INSTALL_HINT = "pip install 'pytailcall[plot]'"

COLOURS = {
    ex.NATIVE: "#7f7f7f",
    ex.STRATEGIES["loop"]: "#1f77b4",
    ex.STRATEGIES["partial"]: "#ff7f0e",
    ex.STRATEGIES["return_tuple"]: "#2ca02c",
    ex.HAND_LOOP: "#d62728",
}


class PlotUnavailable(Exception):
    """matplotlib cannot be imported; the message says how to install it."""


def require() -> Any:
    """``matplotlib.pyplot`` with a file-only backend, or :class:`PlotUnavailable`."""
    try:
        matplotlib = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        return importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise PlotUnavailable(f"--plot needs matplotlib ({exc}); {INSTALL_HINT}") from exc


def draw(result: SuiteResult, path: str) -> None:
    """Grouped bars, one group per example row and one colour per variant, to ``path``.

    A variant that overflowed the stack has no bar; a small ``x`` at the foot of its slot
    says so.  Strategies not available are left out of the chart and its legend.
    """
    plt = require()
    missing = unavailable(result)
    labels = [label for label in [*example_labels(), ex.HAND_LOOP] if label not in missing]
    cases = result.cases
    width = 0.8 / len(labels)
    figure, axes = plt.subplots(figsize=(max(8.0, 0.55 * len(cases) + 2), 5.5))
    floor = (
        min(
            (t for case in cases for t in case.measurement.per_call_s.values() if t is not None),
            default=1e-7,
        )
        * 1e6
        / 3
    )
    for slot, label in enumerate(labels):
        xs, heights, overflowed = [], [], []
        for row, case in enumerate(cases):
            x = row + (slot - (len(labels) - 1) / 2) * width
            seconds = case.measurement.per_call_s.get(label)
            if seconds is None:
                overflowed.append(x)
            else:
                xs.append(x)
                heights.append(seconds * 1e6)
        axes.bar(xs, heights, width, label=label, color=COLOURS.get(label))
        if overflowed:
            axes.scatter(
                overflowed,
                [floor * 1.3] * len(overflowed),
                marker="x",
                s=18,
                color=COLOURS.get(label),
                zorder=3,
            )
    top = max(
        (t for case in cases for t in case.measurement.per_call_s.values() if t is not None),
        default=1e-6,
    )
    axes.set_yscale("log")
    axes.set_ylim(bottom=floor, top=top * 1e6 * 30)  # headroom for the legend
    axes.set_xticks(range(len(cases)))
    axes.set_xticklabels([case.name for case in cases], rotation=60, ha="right", fontsize=8)
    axes.set_xlim(-0.6, len(cases) - 0.4)
    axes.set_ylabel("time per call (us, log scale)")
    env = result.settings
    axes.set_title(
        f"pytailcall benchmark, Python {_python()}: time per call "
        f"(min of {env.rounds} rounds; x = recursion error)",
        fontsize=10,
    )
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.legend(fontsize=8, ncols=len(labels), loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _python() -> str:
    import platform

    return platform.python_version()
