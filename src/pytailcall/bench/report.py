"""Turn a :class:`~pytailcall.bench.measure.SuiteResult` into a plain-text table or JSON.

Plain text with no third-party dependency, so the benchmark runs on any bare interpreter.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from typing import Any

from pytailcall.bench import examples as ex
from pytailcall.bench.measure import CaseResult, Settings, SuiteResult

SCHEMA = 1


def environment() -> dict[str, str]:
    """The interpreter the figures belong to: they mean little without it."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
    }


# --- text ---------------------------------------------------------------------------------


def _us(seconds: float | None) -> str:
    """Microseconds with about four significant digits; ``-`` for a stack overflow."""
    if seconds is None:
        return "overflow"
    us = seconds * 1e6
    if us >= 1000:
        return f"{us:,.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.3f}"


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _columns(strategies: Sequence[str]) -> list[str]:
    time_columns = [ex.NATIVE, *strategies, ex.HAND_LOOP]
    ratio_columns = [title for s in strategies for title in (f"{s}/hand", f"{s} speedup")]
    return ["case", *time_columns, *ratio_columns]


def _row(case: CaseResult, strategies: Sequence[str]) -> list[str]:
    times = case.measurement.per_call_s
    ratios = case.measurement.ratios
    cells = [case.name, _us(times.get(ex.NATIVE))]
    cells += [_us(times.get(s)) for s in strategies]
    cells.append(_us(times.get(ex.HAND_LOOP)))
    for s in strategies:
        cells.append(_times(ratios.get(f"{s}_vs_hand")))
        cells.append(_times(ratios.get(f"{s}_speedup_vs_native")))
    return cells


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers, two spaces between columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _header(settings: Settings) -> list[str]:
    env = environment()
    return [
        f"pytailcall benchmark: {env['implementation']} {env['python']} ({env['machine']})",
        f"{settings.rounds} interleaved rounds of ~{settings.target_ns / 1e6:g} ms per variant;",
        "times are us per call (min over rounds); ratios are medians over rounds",
        "",
    ]


def _decoration_lines(decorate_us: dict[str, dict[str, float]]) -> list[str]:
    lines = []
    for strategy, per_example in decorate_us.items():
        figures = ", ".join(f"{name} {us:.1f}" for name, us in per_example.items())
        lines.append(f"decoration time, strategy={strategy} (median us): {figures}")
    return lines


def format_text(result: SuiteResult) -> str:
    """The human-readable report ``bench`` prints."""
    rows = [_columns(result.strategies)]
    rows += [_row(case, result.strategies) for case in result.cases]
    lines = _header(result.settings) + _table(rows) + [""]
    lines += _decoration_lines(result.decorate_us)
    return "\n".join(lines) + "\n"


# --- JSON ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Arguments as JSON: strings, numbers and sequences as they are, anything else as repr."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return repr(value)


def _case_json(case: CaseResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": case.name,
        "example": case.example,
        "args": _jsonable(case.args),
        "results": dict(case.measurement.per_call_s),
    }
    entry.update(case.measurement.ratios)
    return entry


def to_json(result: SuiteResult) -> dict[str, Any]:
    """The ``--json`` document, schema 1.

    ``examples[].results`` holds seconds per call per variant (``null`` where the variant
    overflows the stack); ``<strategy>_vs_hand`` and ``<strategy>_speedup_vs_native`` are
    median interleaved ratios; ``decorate_us`` maps strategy -> example -> microseconds.
    """
    settings = result.settings
    return {
        "schema": SCHEMA,
        **environment(),
        "strategies": list(result.strategies),
        "settings": {"target_ms": settings.target_ns / 1e6, "rounds": settings.rounds},
        "examples": [_case_json(case) for case in result.cases],
        "decorate_us": result.decorate_us,
    }
