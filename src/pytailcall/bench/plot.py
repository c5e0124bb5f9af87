"""The seed's chart: per-call time of every variant on every example row, log scale; below
it, each strategy's time relative to the hand-written loop (beside the loop strategy's
without the name guard, and the guarded loop's, the floor of an exact rewrite) and to native
recursion; then, when measured, tail recursion modulo context: the optimized function's and
the two hand-written loops' time relative to native recursion; last, when measured, tail
calls in methods: the optimized methods' and the hand-written loop's time relative to native
method calls.

matplotlib is an optional extra (``pip install ".[plot]"`` from a clone): it is imported
only here, by name, so the package and its type-checking need nothing of it.
:func:`require` fails early, before a benchmark whose chart could not be drawn: without
matplotlib, or to a file whose extension names no format matplotlib writes.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Collection, Sequence
from typing import Any

from pytailcall.bench import examples as ex
from pytailcall.bench import report
from pytailcall.bench.measure import (
    CONTEXT_SPEEDUP,
    HAND_SPEEDUP,
    CaseResult,
    ContextResult,
    MethodSuite,
    SuiteResult,
)
from pytailcall.bench.report import missing_variants, table_labels

INSTALL_HINT = (
    'install it with pip install matplotlib, or pip install ".[plot]" from the pytailcall clone'
)

KNOWN_FORMATS = (
    "eps",
    "jpeg",
    "jpg",
    "pdf",
    "pgf",
    "png",
    "ps",
    "svg",
    "svgz",
    "tif",
    "tiff",
    "webp",
)
"""Image formats matplotlib writes: the extensions accepted before matplotlib is imported
(without it, the chart cannot be drawn anyway); then matplotlib's own list decides."""

COLOURS = {
    ex.NATIVE: "#7f7f7f",
    ex.STRATEGIES["loop"]: "#1f77b4",
    ex.UNGUARDED_LOOP: "#17becf",
    ex.STRATEGIES["partial"]: "#ff7f0e",
    ex.STRATEGIES["return_tuple"]: "#2ca02c",
    ex.HAND_LOOP: "#d62728",
    ex.GUARDED_LOOP: "#9467bd",
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


DPI = 110

NATIVE_OVERFLOWS = "native: recursion error, no ratio"
"""What the native-ratio panel says in the slot of a case too deep for native recursion."""
RATIOS = f"{report.RATIO} as in the text report (not a ratio of the minimum times)"
"""How the ratio panels' figures are made, said in their titles."""

TIMES = "time per call"
VS_HAND = "ratio to hand_loop"
VS_NATIVE = "ratio to native"
PANELS = (TIMES, VS_HAND, VS_NATIVE)
"""The labels (``Axes.get_label()``) of the chart's example panels, top to bottom."""
CONTEXT = "modulo context"
"""The label of the modulo-context panel, under the example panels (alone without them)."""
METHODS = "methods"
"""The label of the methods panel, last (alone without examples and modulo context)."""


def draw(result: SuiteResult, path: str) -> None:
    """:func:`figure` of ``result``, written to ``path``."""
    plt = require()
    chart = figure(result)
    try:
        chart.savefig(path, dpi=DPI)
    finally:
        plt.close(chart)


def figure(result: SuiteResult) -> Any:
    """The chart of the examples, of modulo context and of methods: a matplotlib
    ``Figure``, not yet written anywhere.

    Three panels sharing one group of bars per case (labelled ``gcd_2: gcd(23305295513,
    3)`` as in the text report), one colour per variant, named in the legend as the report
    names them (``loop (internal_loop)``):

    * the seed's chart: every variant's time per call (:data:`report.PER_CALL`), log scale;
    * each strategy's time over the hand-written loop's: the report's ``<label>_vs_hand``,
      the loop strategy's without the name guard next to the loop strategy's
      (``unguarded_loop_vs_hand``, the report's unguarded/hand), and last the guarded
      loop's (``guarded_loop_vs_hand``, the report's guarded/hand) as a reference: the
      floor of an exact rewrite;
    * each strategy's time over native recursion's: 1 / the report's speedup (native time
      over the strategy's).  A case too deep for native recursion has no such ratio; its
      slot is shaded and says so.

    Ratios are the report's, medians over rounds of per-round ratios
    (:data:`report.RATIO`), drawn from 1 on a log scale: a bar rising above the line at 1
    is slower than its reference, one hanging below it faster.  A variant that overflowed
    the stack has no bar; an ``x`` in its slot says so.  Strategies not available are left
    out.

    When the suite measured tail recursion modulo context, a panel (:data:`CONTEXT`, the
    only one without examples) has a group per case: the optimized function's time and
    the two hand-written loops' over native recursion's, 1 / the report's loop speedup and
    hand speedup, drawn as the ratio panels are.

    When it measured tail calls in methods, a last panel (:data:`METHODS`) has a group per
    method calling itself, the optimized method's and the hand loop's time over native
    method recursion's (1 / the report's loop speedup and hand speedup), then a group per
    depth of the methods calling each other: the time per bounce over one native method
    call (the report's vs native), drawn as the ratio panels are.
    """
    plt = require()
    cases = result.cases
    context = result.context or []
    methods = result.methods
    heights = (
        ([5.0, 3.6, 3.6] if cases else [])
        + ([3.6] if context else [])
        + ([3.6] if methods is not None else [])
    )
    chart = plt.figure(
        figsize=(
            max(10.0, 0.62 * len(cases) + 2.5),
            (15.0 if cases else 0.0)
            + (4.8 if context else 0.0)
            + (4.8 if methods is not None else 0.0),
        ),
        layout="constrained",
    )
    panels = list(chart.subplots(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0])
    if cases:
        _draw_examples(result, *panels[:3])
        panels = panels[3:]
    if context:
        _draw_context(panels.pop(0), context)
    if methods is not None:
        _draw_methods(panels.pop(0), methods)
    env = report.environment()
    rounds = "round" if result.settings.rounds == 1 else "rounds"
    chart.suptitle(
        f"pytailcall benchmark, Python {env['python']} ({env['implementation']}, "
        f"{env['machine']}, {env['processor']}), commit {env['commit']}: "
        f"{result.settings.rounds} interleaved {rounds}",
        fontsize=12,
    )
    return chart


def _draw_examples(result: SuiteResult, times: Any, vs_hand: Any, vs_native: Any) -> None:
    """The three example panels of :func:`figure`, sharing one group of bars per case."""
    missing = missing_variants(result)
    references = [ex.HAND_LOOP, ex.GUARDED_LOOP]
    labels = [label for label in [*table_labels(), *references] if label not in missing]
    strategies = [label for label in ex.STRATEGIES.values() if label not in missing]
    # the unguarded loop's ratio next to the loop strategy's, the guarded loop's last
    vs_hand_labels = [
        label
        for label in [*table_labels()[1:], ex.GUARDED_LOOP]
        if label not in missing and label != ex.NATIVE
    ]
    cases = result.cases
    for axes in (vs_hand, vs_native):
        axes.sharex(times)
    for axes in (times, vs_hand):
        axes.tick_params(labelbottom=False)
    _draw_times(times, cases, labels)
    too_deep = [
        row for row, case in enumerate(cases) if case.measurement.per_call_s.get(ex.NATIVE) is None
    ]
    _draw_ratios(
        vs_hand,
        {
            label: [case.measurement.ratios.get(f"{label}_vs_hand") for case in cases]
            for label in vs_hand_labels
        },
        ylabel=f"variant time / {ex.HAND_LOOP} time",
        title=f"Each strategy's time over the hand-written loop's ({ex.HAND_LOOP}), the loop "
        f"strategy's with name_guard=False\n({ex.UNGUARDED_LOOP}) and the guarded loop's "
        f"({ex.GUARDED_LOOP}, the floor of an exact rewrite); x = recursion error:\n"
        f"{RATIOS}; below 1x is faster",
        gaps=[],
    )
    vs_hand.set_label(VS_HAND)
    _draw_ratios(
        vs_native,
        {
            label: [
                _reciprocal(case.measurement.ratios.get(f"{label}_speedup_vs_native"))
                for case in cases
            ]
            for label in strategies
        },
        ylabel=f"strategy time / {ex.NATIVE} time",
        title=f"Each strategy's time over native recursion's ({ex.NATIVE}): 1 / the report's "
        f"speedup,\n{RATIOS}; below 1x is faster",
        gaps=too_deep,
    )
    vs_native.set_label(VS_NATIVE)
    vs_native.set_xticks(range(len(cases)))
    vs_native.set_xticklabels(
        [f"{case.name}: {ex.call_text(case.example, case.args)}" for case in cases],
        rotation=40,
        ha="right",
        rotation_mode="anchor",
        fontsize=8,
    )
    vs_native.set_xlim(-0.6, len(cases) - 0.4)


def _draw_context(axes: Any, results: Sequence[ContextResult]) -> None:
    """The modulo-context panel: per case, the optimized function's time and the hand
    loops' over native recursion's (1 / the report's speedups)."""
    too_deep = [
        row
        for row, result in enumerate(results)
        if result.measurement.per_call_s.get(ex.NATIVE) is None
    ]
    _draw_ratios(
        axes,
        {
            label: [_reciprocal(result.measurement.ratios.get(key)) for result in results]
            for label, key in ((ex.LOOP, CONTEXT_SPEEDUP), (ex.HAND_LOOP, HAND_SPEEDUP))
        },
        ylabel=f"variant time / {ex.NATIVE} time",
        title="Tail recursion modulo context: tail_optimize's function (default options) and two "
        f"hand-written loops ({ex.HAND_LOOP}),\neach over native recursion ({ex.NATIVE}): 1 / "
        f"the report's loop speedup and hand speedup,\n{RATIOS}; below 1x is faster",
        gaps=too_deep,
    )
    axes.set_label(CONTEXT)
    axes.set_xticks(range(len(results)))
    axes.set_xticklabels([result.call for result in results], fontsize=8)
    axes.set_xlim(-0.6, len(results) - 0.4)


def _draw_methods(axes: Any, methods: MethodSuite) -> None:
    """The methods panel: per method calling itself, the optimized method's time and the
    hand loop's over native recursion's (1 / the report's speedups); then per depth of the
    methods calling each other, their time per bounce over one native method call (the
    report's vs native)."""
    results, runs = methods.results, methods.bounce.results
    too_deep = [
        row
        for row, result in enumerate(results)
        if result.measurement.per_call_s.get(ex.NATIVE) is None
    ]
    speedups = ((ex.LOOP, CONTEXT_SPEEDUP), (ex.HAND_LOOP, HAND_SPEEDUP))
    _draw_ratios(
        axes,
        {
            label: [_reciprocal(result.measurement.ratios.get(key)) for result in results]
            + [run.measurement.ratios.get(label) for run in runs]
            for label, key in speedups
        },
        ylabel=f"variant time / {ex.NATIVE} time",
        title="Tail calls in methods: the methods optimized by tail_optimize (default options) "
        f"and a hand-written loop ({ex.HAND_LOOP})\nover native method calls ({ex.NATIVE}): "
        "a method calling itself, time per call over native recursion's (1 / the report's "
        "speedups);\nmethods calling each other, time per bounce over one native method "
        f"call (the report's vs native);\n{RATIOS}; below 1x is faster",
        gaps=too_deep,
    )
    axes.set_label(METHODS)
    title = methods.bounce.title
    ticks = [result.call for result in results]
    ticks += [f"{title} N={run.n}: per bounce" for run in runs]
    axes.set_xticks(range(len(ticks)))
    axes.set_xticklabels(ticks, fontsize=8)
    axes.set_xlim(-0.6, len(ticks) - 0.4)


def _offset(slot: int, slots: int) -> float:
    """Where the ``slot``-th of ``slots`` bars of a group sits, from the group's centre."""
    return (slot - (slots - 1) / 2) * (0.8 / slots)


def _draw_times(axes: Any, cases: Sequence[CaseResult], labels: Sequence[str]) -> None:
    """The seed's chart: grouped bars of time per call, log scale."""
    width = 0.8 / len(labels)
    known = [t for case in cases for t in case.measurement.per_call_s.values() if t is not None]
    floor = min(known, default=1e-7) * 1e6 / 3
    top = max(known, default=1e-6) * 1e6
    for slot, label in enumerate(labels):
        xs, heights, overflowed = [], [], []
        for row, case in enumerate(cases):
            x = row + _offset(slot, len(labels))
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
    axes.set_yscale("log")
    axes.set_ylim(bottom=floor, top=top * 30)  # headroom for the legend
    axes.set_ylabel("time per call (us, log scale)")
    axes.set_title(
        f"Time per call, {report.PER_CALL} (log scale; x = recursion error)", fontsize=10
    )
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.legend(fontsize=8, ncols=min(len(labels), 4), loc="upper left")  # at most two rows
    axes.set_label(TIMES)


def _draw_ratios(
    axes: Any,
    ratios: dict[str, list[float | None]],
    ylabel: str,
    title: str,
    gaps: Sequence[int],
) -> None:
    """Grouped bars of ``ratios`` (label -> one ratio per case), each drawn from 1 on a log
    scale with its value written at its end; ``x`` at 1 for a variant without a ratio, and
    each row of ``gaps`` shaded and marked :data:`NATIVE_OVERFLOWS` instead."""
    ticker = importlib.import_module("matplotlib.ticker")
    slots = len(ratios)
    width = 0.8 / max(slots, 1)
    known = [r for values in ratios.values() for r in values if r is not None]
    low = min([*known, 1.0]) / 1.6
    high = max([*known, 1.0]) * 2.2  # room for the figures written above the bars
    for row in gaps:
        axes.axvspan(row - 0.45, row + 0.45, color="#e8e8e8", zorder=0)
        axes.text(
            row,
            (low * high) ** 0.5,
            NATIVE_OVERFLOWS,
            rotation=90,
            ha="center",
            va="center",
            fontsize=8,
            color="#404040",
        )
    for slot, (label, values) in enumerate(ratios.items()):
        xs, ends, absent = [], [], []
        for row, value in enumerate(values):
            x = row + _offset(slot, slots)
            if value is not None:
                xs.append(x)
                ends.append(value)
            elif row not in gaps:
                absent.append(x)
        axes.bar(
            xs,
            [end - 1.0 for end in ends],
            width,
            bottom=1.0,
            label=ex.display_label(label),
            color=COLOURS.get(label),
        )
        for x, end in zip(xs, ends, strict=True):
            axes.text(
                x,
                end * (1.06 if end >= 1 else 1 / 1.06),
                f"{end:.2f}",
                rotation=90,
                ha="center",
                va="bottom" if end >= 1 else "top",
                fontsize=6,
            )
        if absent:
            axes.scatter(
                absent,
                [1.0] * len(absent),
                marker="x",
                s=18,
                color=COLOURS.get(label),
                zorder=3,
            )
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_ylim(low, high)
    axes.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}x"))
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_ylabel(f"{ylabel} (log scale)")
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.legend(fontsize=8, ncols=slots, loc="upper left")


def _reciprocal(ratio: float | None) -> float | None:
    """A strategy's time over native's from the report's speedup (native over the
    strategy's); with an odd number of rounds, exactly the median of the per-round
    ratios strategy/native."""
    return None if ratio is None else 1 / ratio
