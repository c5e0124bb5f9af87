"""The ``bench --plot`` chart, drawn from a measured suite built here: the seed's log-scale
bars and the two ratio panels, with the text report's figures and names (the loop strategy
without the name guard next to the loop strategy), then the panels of tail recursion modulo
context and of tail calls in methods when they were measured.

matplotlib is the optional ``[plot]`` extra (in the ``test`` extra too, so CI draws the
chart); without it, as under Pyodide, these tests skip.  ``tests/test_cli.py`` covers
``--plot`` from the command line: a real measurement drawn to a PNG, and the errors.
"""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path
from typing import Any

import pytest

from pytailcall.bench import examples as ex
from pytailcall.bench import measure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def plot() -> Any:
    pytest.importorskip("matplotlib")
    from pytailcall.bench import plot

    return plot


def _suite(strategies: tuple[str, ...] = tuple(ex.STRATEGIES)) -> measure.SuiteResult:
    """A measured suite of two cases, the second too deep for native recursion."""
    loop, partial, tuple_ = ex.STRATEGIES.values()
    runs_natively = measure.Measurement(
        per_call_s={
            ex.NATIVE: 2e-7,
            loop: 2e-7,
            ex.UNGUARDED_LOOP: 1.7e-7,
            partial: 1e-6,
            tuple_: 6e-7,
            ex.HAND_LOOP: 1.6e-7,
            ex.GUARDED_LOOP: 1.8e-7,
        },
        ratios={
            f"{ex.GUARDED_LOOP}_vs_hand": 1.14,
            f"{ex.UNGUARDED_LOOP}_vs_hand": 1.03,
            f"{loop}_vs_guarded": 1.04,
            f"{loop}_vs_hand": 1.19,
            f"{loop}_speedup_vs_native": 1.15,
            f"{partial}_vs_hand": 7.43,
            f"{partial}_speedup_vs_native": 0.2,
            f"{tuple_}_vs_hand": 4.3,
            f"{tuple_}_speedup_vs_native": 0.4,
        },
    )
    too_deep = measure.Measurement(
        per_call_s={
            ex.NATIVE: None,
            loop: 4.5e-4,
            ex.UNGUARDED_LOOP: 3.1e-4,
            partial: 4e-3,
            tuple_: 2e-3,
            ex.HAND_LOOP: 3e-4,
            ex.GUARDED_LOOP: 4.2e-4,
        },
        ratios={
            f"{ex.GUARDED_LOOP}_vs_hand": 1.31,
            f"{ex.UNGUARDED_LOOP}_vs_hand": 1.02,
            f"{loop}_vs_guarded": 1.05,
            f"{loop}_vs_hand": 1.38,
            f"{loop}_speedup_vs_native": None,
            f"{partial}_vs_hand": 12.06,
            f"{partial}_speedup_vs_native": None,
            f"{tuple_}_vs_hand": 6.13,
            f"{tuple_}_speedup_vs_native": None,
        },
    )
    cases = [
        measure.CaseResult("gcd_2", "gcd", (23305295513, 3), runs_natively),
        measure.CaseResult("modulo_1", "modulo", (43652, 7), too_deep),
    ]
    return measure.SuiteResult(strategies, [], cases, {}, measure.PROFILES["quick"])


def _ends(bars: Any) -> list[float]:
    """Where each bar of a ratio panel ends: they are drawn from 1 to the ratio."""
    return [round(bar.get_y() + bar.get_height(), 4) for bar in bars]


def test_chart_has_ratio_panels_with_the_reports_figures(plot: Any, tmp_path: Path) -> None:
    from pytailcall.bench import report

    figure = plot.figure(_suite())
    try:
        panels = {axes.get_label(): axes for axes in figure.axes}
        times, vs_hand, vs_native = (panels[name] for name in plot.PANELS)
        assert platform.python_version() in figure.get_suptitle()
        # the legend names variants as the text tables do
        # the unguarded loop next to the loop strategy, as in the text table
        variants = [
            "native",
            "loop (internal_loop)",
            "unguarded_loop",
            "partial (partial_func)",
            "return_tuple",
        ]
        references = ["hand_loop", "guarded_loop"]
        assert [t.get_text() for t in times.get_legend().get_texts()] == [*variants, *references]
        # the guarded loop's own ratio to the hand loop, last, as a reference
        legend = [t.get_text() for t in vs_hand.get_legend().get_texts()]
        assert legend == [*variants[1:], "guarded_loop"]
        assert "guarded_loop" in vs_hand.get_title()
        assert "unguarded_loop" in vs_hand.get_title() and "name_guard=False" in vs_hand.get_title()
        assert times.get_yscale() == "log"
        # each case under its call, as in the tables
        labels = [label.get_text() for label in vs_native.get_xticklabels()]
        assert labels == ["gcd_2: gcd(23305295513, 3)", "modulo_1: modulo(43652, 7)"]
        for axes, reference in ((vs_hand, "hand_loop"), (vs_native, "native")):
            assert axes.get_yscale() == "log"
            assert f" time / {reference} time" in axes.get_ylabel()
            assert report.RATIO in axes.get_title()  # the report's medians of per-round ratios
            assert any(list(line.get_ydata()) == [1.0, 1.0] for line in axes.lines)
        # per variant then the guarded loop, in legend order: the report's vs-hand ratios ...
        expected = [[1.19, 1.38], [1.03, 1.02], [7.43, 12.06], [4.3, 6.13], [1.14, 1.31]]
        assert [_ends(bars) for bars in vs_hand.containers] == expected
        # ... and 1 / its speedup over native where native ran: none for modulo_1, which says so
        assert [_ends(bars) for bars in vs_native.containers] == [[0.8696], [5.0], [2.5]]
        assert all(bar.get_x() + bar.get_width() < 0.5 for bar in vs_native.containers[0])
        notes = [text for text in vs_native.texts if text.get_text() == plot.NATIVE_OVERFLOWS]
        assert [text.get_position()[0] for text in notes] == [1]
    finally:
        plot.require().close(figure)


def test_chart_is_written_as_a_png(plot: Any, tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    plot.draw(_suite(), str(chart))
    assert chart.read_bytes().startswith(PNG_SIGNATURE)


def test_chart_leaves_out_unavailable_strategies(plot: Any) -> None:
    figure = plot.figure(_suite(strategies=("loop",)))
    try:
        panels = {axes.get_label(): axes for axes in figure.axes}
        legend = panels[plot.VS_NATIVE].get_legend().get_texts()
        assert [text.get_text() for text in legend] == ["loop (internal_loop)"]
        # loop, the unguarded loop, then the guarded loop
        assert len(panels[plot.VS_HAND].containers) == 3
        assert [t.get_text() for t in panels[plot.TIMES].get_legend().get_texts()] == [
            "native",
            "loop (internal_loop)",
            "unguarded_loop",
            "hand_loop",
            "guarded_loop",
        ]
    finally:
        plot.require().close(figure)


def test_chart_leaves_out_the_unguarded_loop_without_the_loop_strategy(plot: Any) -> None:
    figure = plot.figure(_suite(strategies=("partial",)))
    try:
        panels = {axes.get_label(): axes for axes in figure.axes}
        legend = [t.get_text() for t in panels[plot.VS_HAND].get_legend().get_texts()]
        assert legend == ["partial (partial_func)", "guarded_loop"]
        assert "unguarded_loop" not in [
            t.get_text() for t in panels[plot.TIMES].get_legend().get_texts()
        ]
    finally:
        plot.require().close(figure)


def _context_results() -> list[measure.ContextResult]:
    """Two measured modulo-context cases, the second too deep for native recursion."""
    loop = ex.LOOP
    ran = measure.Measurement(
        per_call_s={ex.NATIVE: 1.4e-4, loop: 8e-5, ex.HAND_LOOP: 7.8e-5},
        ratios={
            measure.CONTEXT_SPEEDUP: 1.6,
            measure.HAND_SPEEDUP: 2.0,
            measure.CONTEXT_VS_HAND: 1.02,
        },
    )
    too_deep = measure.Measurement(
        per_call_s={ex.NATIVE: None, loop: 5e-4, ex.HAND_LOOP: 4.6e-4},
        ratios={
            measure.CONTEXT_SPEEDUP: None,
            measure.HAND_SPEEDUP: None,
            measure.CONTEXT_VS_HAND: 1.09,
        },
    )
    return [
        measure.ContextResult("fact_mod", "fact_mod(800, 1000003)", ran),
        measure.ContextResult("length", "length(<linked list of 800 nodes>)", too_deep),
    ]


def test_chart_has_a_modulo_context_panel_under_the_examples(plot: Any) -> None:
    from pytailcall.bench import report

    suite = dataclasses.replace(_suite(), context=_context_results())
    figure = plot.figure(suite)
    try:
        assert [axes.get_label() for axes in figure.axes] == [*plot.PANELS, plot.CONTEXT]
        context = figure.axes[-1]
        legend = [text.get_text() for text in context.get_legend().get_texts()]
        assert legend == ["loop (internal_loop)", "hand_loop"]
        labels = [label.get_text() for label in context.get_xticklabels()]
        assert labels == ["fact_mod(800, 1000003)", "length(<linked list of 800 nodes>)"]
        # each variant's time over native's: 1 / the report's speedups, where native ran
        assert [_ends(bars) for bars in context.containers] == [[0.625], [0.5]]
        assert context.get_yscale() == "log" and report.RATIO in context.get_title()
        assert " time / native time" in context.get_ylabel()
        notes = [text for text in context.texts if text.get_text() == plot.NATIVE_OVERFLOWS]
        assert [text.get_position()[0] for text in notes] == [1]
        # the example panels keep their own cases
        vs_native = figure.axes[2]
        assert len(vs_native.get_xticklabels()) == 2
        assert vs_native.get_xticklabels()[0].get_text().startswith("gcd_2: ")
    finally:
        plot.require().close(figure)


def test_chart_of_modulo_context_alone(plot: Any, tmp_path: Path) -> None:
    suite = dataclasses.replace(_suite(), cases=[], context=_context_results())
    figure = plot.figure(suite)
    try:
        assert [axes.get_label() for axes in figure.axes] == [plot.CONTEXT]
    finally:
        plot.require().close(figure)
    chart = tmp_path / "context.png"
    plot.draw(suite, str(chart))
    assert chart.read_bytes().startswith(PNG_SIGNATURE)


def test_chart_without_modulo_context_has_the_example_panels_only(plot: Any) -> None:
    figure = plot.figure(_suite())
    try:
        assert [axes.get_label() for axes in figure.axes] == list(plot.PANELS)
    finally:
        plot.require().close(figure)


def _method_suite() -> measure.MethodSuite:
    """A measured methods section: walk within the recursion limit, then ping/pong at a
    depth native reaches and one it does not."""
    loop = ex.LOOP
    walk = measure.Measurement(
        per_call_s={ex.NATIVE: 8e-5, loop: 4e-5, ex.HAND_LOOP: 1.6e-5},
        ratios={
            measure.CONTEXT_SPEEDUP: 2.0,
            measure.HAND_SPEEDUP: 5.0,
            measure.CONTEXT_VS_HAND: 2.5,
        },
    )

    def run(n: int, native: float | None, ratios: dict[str, float | None]) -> Any:
        per_call = {ex.NATIVE: native, loop: 6e-7 * n, ex.HAND_LOOP: 3e-8 * n}
        return measure.BounceResult(n, 500, measure.Measurement(per_call, ratios))

    runs = [
        run(500, 6e-5, {ex.NATIVE: 1.0, loop: 4.0, ex.HAND_LOOP: 0.25}),
        run(100_000, None, {ex.NATIVE: None, loop: 4.5, ex.HAND_LOOP: 0.2}),
    ]
    bounce = measure.BounceSuite("ping/pong", 500, ex.BOUNCE_TARGET, ex.BOUNCE_AIM, runs)
    return measure.MethodSuite([measure.MethodResult("walk", "walk(500, 0)", walk)], bounce)


def test_chart_has_a_methods_panel_last(plot: Any) -> None:
    from pytailcall.bench import report

    suite = dataclasses.replace(_suite(), context=_context_results(), methods=_method_suite())
    figure = plot.figure(suite)
    try:
        labels = [axes.get_label() for axes in figure.axes]
        assert labels == [*plot.PANELS, plot.CONTEXT, plot.METHODS]
        methods = figure.axes[-1]
        legend = [text.get_text() for text in methods.get_legend().get_texts()]
        assert legend == ["loop (internal_loop)", "hand_loop"]
        ticks = [label.get_text() for label in methods.get_xticklabels()]
        assert ticks == [
            "walk(500, 0)",
            "ping/pong N=500: per bounce",
            "ping/pong N=100000: per bounce",
        ]
        # walk: 1 / the report's speedups; ping/pong: the report's vs native, per bounce
        assert [_ends(bars) for bars in methods.containers] == [[0.5, 4.0, 4.5], [0.2, 0.25, 0.2]]
        assert methods.get_yscale() == "log" and report.RATIO in methods.get_title()
        assert "per bounce over one native method call" in methods.get_title()
        assert " time / native time" in methods.get_ylabel()
        assert not [text for text in methods.texts if text.get_text() == plot.NATIVE_OVERFLOWS]
    finally:
        plot.require().close(figure)


def test_chart_of_methods_alone(plot: Any, tmp_path: Path) -> None:
    suite = dataclasses.replace(_suite(), cases=[], methods=_method_suite())
    figure = plot.figure(suite)
    try:
        assert [axes.get_label() for axes in figure.axes] == [plot.METHODS]
    finally:
        plot.require().close(figure)
    chart = tmp_path / "methods.png"
    plot.draw(suite, str(chart))
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
