"""The seed's chart: per-call time of every variant on every example row, log scale.

matplotlib is an optional extra (``pip install ".[plot]"`` from a clone): it is imported
only here, by name, so the package and its type-checking need nothing of it.
:func:`require` fails early, before a benchmark whose chart could not be drawn: without
matplotlib, or to a file whose extension names no format matplotlib writes.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Collection
from typing import Any

from pytailcall.bench import examples as ex
from pytailcall.bench.measure import SuiteResult
from pytailcall.bench.report import example_labels, unavailable

INSTALL_HINT = (
    'install it with pip install matplotlib, or pip install ".[plot]" from the pytailcall clone'
)

KNOWN_FORMATS = (
    "eps", "jpeg", "jpg", "pdf", "pgf", "png", "ps", "svg", "svgz", "tif", "tiff", "webp"
)  # fmt: skip
"""Image formats matplotlib writes: the extensions accepted before matplotlib is imported
(without it, the chart cannot be drawn anyway); then matplotlib's own list decides."""

COLOURS = {
    ex.NATIVE: "#7f7f7f",
    ex.STRATEGIES["loop"]: "#1f77b4",
    ex.STRATEGIES["partial"]: "#ff7f0e",
    ex.STRATEGIES["return_tuple"]: "#2ca02c",
    ex.HAND_LOOP: "#d62728",
}


class PlotUnavailable(Exception):
    """matplotlib cannot be imported; the message says how to install it."""


class UnsupportedFormat(ValueError):
    """The chart's file name has no extension matplotlib can write; the message says which
    ones it can."""


def check_format(path: str, formats: Collection[str] = KNOWN_FORMATS) -> None:
    """:class:`UnsupportedFormat` unless ``path`` ends with one of ``formats`` (matplotlib
    picks the format from the extension, case-insensitively)."""
    extension = os.path.splitext(path)[1][1:].lower()
    known = ", ".join(f".{name}" for name in sorted(formats))
    if not extension:
        raise UnsupportedFormat(f"--plot {path!r} has no extension; name the chart .png, .svg, ...")
    if extension not in formats:
        raise UnsupportedFormat(
            f"--plot {path!r}: matplotlib cannot write .{extension} files; use one of: {known}"
        )


def supported_formats() -> Collection[str]:
    """The extensions the imported matplotlib can write (:data:`KNOWN_FORMATS` if it does
    not say)."""
    try:
        canvas = importlib.import_module("matplotlib.backend_bases").FigureCanvasBase
        return {str(name).lower() for name in canvas.get_supported_filetypes()}
    except (ImportError, AttributeError):
        return KNOWN_FORMATS


def require(path: str | None = None) -> Any:
    """``matplotlib.pyplot`` with a file-only backend, or :class:`PlotUnavailable`; with
    ``path``, :class:`UnsupportedFormat` when matplotlib cannot write that file's format,
    checked before importing matplotlib and again against its own list."""
    if path is not None:
        check_format(path)
    try:
        matplotlib = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        pyplot = importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == "matplotlib":
            problem = "which is not installed"
        else:
            problem = f"which failed to import ({type(exc).__name__}: {exc})"
        raise PlotUnavailable(f"--plot needs matplotlib, {problem}; {INSTALL_HINT}") from exc
    if path is not None:
        check_format(path, supported_formats())
    return pyplot


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
        axes.bar(xs, heights, width, label=ex.display_label(label), color=COLOURS.get(label))
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
