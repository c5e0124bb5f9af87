"""Turn a :class:`~pytailcall.bench.measure.SuiteResult` into plain text or JSON.

Plain text with no third-party dependency, so the benchmark runs on any bare interpreter.
The text follows the seed write-up's two tables (fib at three depths, then the examples),
with ours added: the loop strategy without the name guard beside the loop strategy, the
hand-written loop and the guarded one (the hand loop with the identity check exact semantics
needs), their ratios to the hand loop, and loop/hand and loop/guarded; then our tables of
tail calls between functions, of tail recursion modulo context and of tail calls in methods;
:mod:`pytailcall.bench.plot` draws the seed's chart.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from pytailcall.bench import examples as ex
from pytailcall.bench.measure import (
    CONTEXT_SPEEDUP,
    CONTEXT_VS_HAND,
    HAND_SPEEDUP,
    UNGUARDED_VS_HAND,
    BounceResult,
    BounceSuite,
    CaseResult,
    ContextResult,
    FibResult,
    MethodResult,
    MethodSuite,
    Settings,
    SuiteResult,
)

SCHEMA = 3

RECURSION_ERROR = "recursion error"
NOT_AVAILABLE = "n/a"

FIB_NAMES = {ex.NATIVE: "fib", ex.HAND_LOOP: "fib_unrecursed"}
"""The seed's names for fib's native and hand-written variants in its fib timings."""

PER_CALL = "min over rounds"
RATIO = "median over rounds of per-round ratios"
"""How the text report's times and ratios are made (see :mod:`pytailcall.bench.measure`),
said in its header and repeated over each table."""


def environment() -> dict[str, str]:
    """The interpreter, processor and code the figures belong to: they mean little without
    them (ratios between variants moved by half between two x86_64 machines, December
    2026). ``processor`` and ``commit`` are ``"unknown"`` where they cannot be read."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "processor": processor_name(),
        "commit": source_commit(),
    }


@cache
def processor_name() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux), else what ``platform``
    says, else ``"unknown"``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@cache
def source_commit() -> str:
    """The git commit of the checkout pytailcall is imported from (``+`` when its tracked
    files have changes), or ``"unknown"``: no git, no subprocesses (Pyodide), or a copy
    that no checkout tracks (installed, even in a venv inside another project's checkout,
    whose commit would otherwise be reported). Read once per process: the text report, the
    JSON and the chart each name it, and each read is three git commands."""
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*args: str) -> bytes:
        return subprocess.run(["git", "--no-optional-locks", "-C", here, *args],
                              capture_output=True, timeout=10, check=True).stdout

    try:
        git("ls-files", "--error-unmatch", "--", os.path.basename(__file__))
        commit = git("rev-parse", "--short", "HEAD").decode("ascii").strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    except (OSError, ValueError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+" if dirty else "")


def example_labels() -> list[str]:
    """The seed's examples-table columns: native, then every strategy, available or not."""
    return [ex.NATIVE, *ex.STRATEGIES.values()]


def table_labels() -> list[str]:
    """The examples table's variant columns: the seed's, with the loop strategy without the
    name guard next to the loop strategy."""
    labels = example_labels()
    position = labels.index(ex.LOOP) + 1
    return [*labels[:position], ex.UNGUARDED_LOOP, *labels[position:]]


def fib_labels() -> list[str]:
    """The seed's fib-timing rows, in its order, under our variant labels, with our guarded
    loop after the hand-written one and our unguarded loop after the loop strategy."""
    return [
        ex.NATIVE,
        ex.HAND_LOOP,
        ex.GUARDED_LOOP,
        ex.STRATEGIES["partial"],
        ex.STRATEGIES["return_tuple"],
        ex.LOOP,
        ex.UNGUARDED_LOOP,
    ]


def bounce_labels() -> list[str]:
    """The rows of the tail-calls-between-functions table: native, every strategy
    (available or not), then the hand-written loop as the floor."""
    return [ex.NATIVE, *ex.STRATEGIES.values(), ex.HAND_LOOP]


def context_labels() -> list[str]:
    """The variants of the modulo-context table: native, the optimized function (default
    options, so the loop strategy's label) and the two hand-written loops."""
    return [ex.NATIVE, ex.LOOP, ex.HAND_LOOP]


def method_labels() -> list[str]:
    """The variants of the methods tables: native, the optimized methods (default options,
    so the loop strategy's label) and the hand-written loop."""
    return [ex.NATIVE, ex.LOOP, ex.HAND_LOOP]


def unavailable(result: SuiteResult) -> list[str]:
    """Labels of the strategies ``tail_optimize`` does not offer (yet)."""
    return [label for name, label in ex.STRATEGIES.items() if name not in result.strategies]


def missing_variants(result: SuiteResult) -> list[str]:
    """Labels of the variants not built: the strategies not available, and the unguarded
    loop when the loop strategy is one of them."""
    missing = unavailable(result)
    return [*missing, ex.UNGUARDED_LOOP] if ex.LOOP in missing else missing


# --- text ---------------------------------------------------------------------------------


def _us(seconds: float | None) -> str:
    """Microseconds with about four significant digits."""
    if seconds is None:
        return RECURSION_ERROR
    us = seconds * 1e6
    if us >= 1000:
        return f"{us:,.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.3f}"


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _fib_title(n: int, native_overflows: bool) -> str:
    if native_overflows:
        return f"Testing with N={n} (greater than recursion limit)"
    if n < 100:
        return f"Testing with N={n} so we can see overheads"
    return f"Testing with N={n} so we can compare with real recursion"


def _fib_lines(fib: FibResult, missing: Sequence[str]) -> list[str]:
    """One of the seed's fib blocks: ms per call, and the speedup over native fib.

    Where native fib overflows the stack the seed leaves out its line and every speedup;
    so do we.
    """
    times = fib.measurement.per_call_s
    native_overflows = times.get(ex.NATIVE) is None
    lines = [_fib_title(fib.n, native_overflows)]
    for label in fib_labels():
        name = FIB_NAMES.get(label) or ex.display_label(label)
        if label in missing:
            lines.append(f"{name:<22}: {NOT_AVAILABLE} (strategy not available)")
            continue
        seconds = times.get(label)
        if seconds is None:
            if label != ex.NATIVE:  # native's absence is the seed's way to say it overflowed
                lines.append(f"{name:<22}: {RECURSION_ERROR}")
            continue
        text = f"{name:<22}: {seconds * 1e3:.4g} ms/call"
        speedup = fib.measurement.ratios.get(label)
        if label != ex.NATIVE and not native_overflows and speedup is not None:
            text += f" ({speedup:.3g}x speedup)"
        lines.append(text)
    return lines


LOOP_RATIOS = {
    "loop/hand": f"{ex.LOOP}_vs_hand",
    "loop/guarded": f"{ex.LOOP}_vs_guarded",
    "loop speedup": f"{ex.LOOP}_speedup_vs_native",
}
"""The examples table's columns of the loop strategy's ratios -> their ``ratios`` keys."""


def _example_columns() -> list[str]:
    labels = [ex.display_label(label) for label in table_labels()]
    references = [ex.HAND_LOOP, ex.GUARDED_LOOP, "guarded/hand", "unguarded/hand"]
    return ["case", "call", *labels, *references, *LOOP_RATIOS]


def _example_legend() -> list[str]:
    """What the examples table's times, ratios, unguarded and guarded loops are."""
    hand, guarded, unguarded = ex.HAND_LOOP, ex.GUARDED_LOOP, ex.UNGUARDED_LOOP
    return [
        f"examples, us per call ({PER_CALL}); ratios ({RATIO}):",
        f"guarded/hand ({guarded} over {hand}), unguarded/hand ({unguarded} over {hand}),",
        f"loop/hand (loop over {hand}), loop/guarded (loop over {guarded}),",
        "loop speedup (native over loop);",
        f"{unguarded}: loop with name_guard=False (the promise that the name always holds the",
        "function: its self calls jump without checking it);",
        f"{guarded}: {hand} checking before each jump back that its global name still holds it,",
        "as exact semantics must (the floor of an exact rewrite):",
    ]


def _example_row(case: CaseResult, missing: Sequence[str]) -> list[str]:
    times = case.measurement.per_call_s
    ratios = case.measurement.ratios
    cells = [case.name, ex.call_text(case.example, case.args)]
    cells += [
        NOT_AVAILABLE if label in missing else _us(times.get(label)) for label in table_labels()
    ]
    cells.append(_us(times.get(ex.HAND_LOOP)))
    cells.append(_us(times.get(ex.GUARDED_LOOP)))
    cells.append(_times(ratios.get(f"{ex.GUARDED_LOOP}_vs_hand")))
    if ex.UNGUARDED_LOOP in missing:
        cells.append(NOT_AVAILABLE)
    else:
        cells.append(_times(ratios.get(UNGUARDED_VS_HAND)))
    if ex.LOOP in missing:
        return cells + [NOT_AVAILABLE] * len(LOOP_RATIOS)
    return cells + [_times(ratios.get(key)) for key in LOOP_RATIOS.values()]


def _table(rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Left-aligned first ``left`` columns (names), right-aligned numbers, two spaces
    between columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:left], widths[:left], strict=True)]
        cells += [cell.rjust(width) for cell, width in zip(row[left:], widths[left:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _header(settings: Settings, missing: Sequence[str]) -> list[str]:
    env = environment()
    rounds = "round" if settings.rounds == 1 else "rounds"
    length = f"~{settings.target_ns / 1e6:g} ms"
    lines = [
        (f"pytailcall benchmark: {env['implementation']} {env['python']} ({env['machine']}, "
        f"{env['processor']}), commit {env['commit']}"),
        f"{settings.rounds} interleaved {rounds}, each timing of a variant calibrated to {length};",
        f"times are per call ({PER_CALL}); ratios are medians over rounds (of per-round ratios)",
    ]
    if missing:
        shown = ", ".join(ex.display_label(label) for label in missing)
        lines.append(f"not available in this pytailcall ({NOT_AVAILABLE}): {shown}")
    return [*lines, ""]


def _ns(seconds: float | None) -> str:
    """Nanoseconds with about four significant digits; ``-`` when there is no figure."""
    if seconds is None:
        return "-"
    ns = seconds * 1e9
    return f"{ns:,.0f}" if ns >= 1000 else f"{ns:.1f}"


def _bounce_columns(results: Sequence[BounceResult]) -> list[str]:
    columns = ["variant"]
    for result in results:
        columns += [f"N={result.n} us/call", "ns/bounce", "vs native"]
    return columns


def _bounce_row(label: str, results: Sequence[BounceResult], missing: Sequence[str]) -> list[str]:
    cells = [ex.display_label(label)]
    for result in results:
        if label in missing:
            cells += [NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE]
            continue
        cells.append(_us(result.measurement.per_call_s.get(label)))
        cells.append(_ns(result.per_bounce_s(label)))
        cells.append(_times(result.measurement.ratios.get(label)))
    return cells


def _bounce_lines(
    bounce: BounceSuite,
    missing: Sequence[str],
    labels: Sequence[str] | None = None,
    between: str = "functions",
) -> list[str]:
    """Per call of the entry point at each depth, per bounce (per call / N), and per
    bounce as a multiple of one native call; a row per label (:func:`bounce_labels` unless
    given)."""
    reference = bounce.reference_n
    lines = [
        f"Tail calls between {between} ({bounce.title}), N calls (bounces) per call:",
        f"us/call: {PER_CALL}; ns/bounce = us/call / N;",
        f"vs native: {RATIO}, a variant's ns/bounce over native's at N={reference}",
        f"(target, not a result: vs native at most {bounce.target:g}x, aiming at {bounce.aim:g}x)",
    ]
    rows = [_bounce_columns(bounce.results)]
    shown = bounce_labels() if labels is None else labels
    rows += [_bounce_row(label, bounce.results, missing) for label in shown]
    return [*lines, *_table(rows), ""]


CONTEXT_RATIOS = {
    "loop speedup": CONTEXT_SPEEDUP,
    "hand speedup": HAND_SPEEDUP,
    "loop/hand": CONTEXT_VS_HAND,
}
"""The modulo-context table's ratio columns -> their ``ratios`` keys."""


def _context_lines(results: Sequence[ContextResult]) -> list[str]:
    """Per call of each variant of each modulo-context case, native over each (x faster
    than native), and the optimized variant over the hand loop."""
    loop, hand = ex.display_label(ex.LOOP), ex.HAND_LOOP
    lines = [
        "Tail recursion modulo context (the work after a self call saved, then replayed):",
        f"{loop}: tail_optimize with its default options; {hand}: two hand-written loops",
        f"(push what each level leaves to do, then fold it); us per call ({PER_CALL});",
        f"ratios ({RATIO}): loop speedup (native over loop) and hand speedup",
        f"(native over {hand}): x faster than native, higher is better;",
        f"loop/hand (loop over {hand}): lower is better:",
    ]
    return [*lines, *_call_table(results, context_labels(), CONTEXT_RATIOS), ""]


def _call_table(
    results: Sequence[ContextResult | MethodResult],
    labels: Sequence[str],
    ratio_columns: dict[str, str],
) -> list[str]:
    """A row per result: its name and call, each variant's time, then the ratios of
    ``ratio_columns`` (column -> ``ratios`` key)."""
    rows = [["case", "call", *(ex.display_label(label) for label in labels), *ratio_columns]]
    for result in results:
        times, ratios = result.measurement.per_call_s, result.measurement.ratios
        rows.append(
            [
                result.name,
                result.call,
                *(_us(times.get(label)) for label in labels),
                *(_times(ratios.get(key)) for key in ratio_columns.values()),
            ]
        )
    return _table(rows, left=2)


METHOD_RATIOS = CONTEXT_RATIOS
"""The methods table's ratio columns -> their ``ratios`` keys: the modulo-context table's."""


def _methods_lines(methods: MethodSuite) -> list[str]:
    """Per call of each variant of each method calling itself, native over each (x faster
    than native) and the optimized method over the hand loop; then the methods calling
    each other, per bounce, as the table of tail calls between functions."""
    loop, hand = ex.display_label(ex.LOOP), ex.HAND_LOOP
    lines = [
        "Tail calls in methods (walk: self.walk(...); ping: self.pong(...); pong: self.ping(...)):",
        f"{loop}: tail_optimize on each method, default options (walk's call jumps when the",
        f"method found is this function; ping's and pong's bounce); {hand}: a loop in a method;",
        f"us per call ({PER_CALL}); ratios ({RATIO}):",
        f"loop speedup (native over loop) and hand speedup (native over {hand}): x faster than",
        f"native, higher is better; loop/hand (loop over {hand}): lower is better:",
    ]
    table = _call_table(methods.results, method_labels(), METHOD_RATIOS)
    bounce = _bounce_lines(methods.bounce, [], method_labels(), between="methods")
    return [*lines, *table, "", *bounce]


def _decoration_lines(result: SuiteResult) -> list[str]:
    settings = result.settings
    how = (f"us; median of {settings.decorate_runs} in a row, in the fastest of "
           f"{settings.rounds} interleaved rounds [median over rounds]")
    lines = []
    for strategy, per_example in result.decorate_us.items():
        medians = result.decorate_median_us.get(strategy, {})
        figures = ", ".join(
            f"{name} {us:.1f}" + (f" [{medians[name]:.1f}]" if name in medians else "")
            for name, us in per_example.items())
        lines.append(f"decoration time, strategy={strategy} ({how}): {figures}")
    return lines


def format_text(result: SuiteResult) -> str:
    """The human-readable report ``bench`` prints."""
    missing = missing_variants(result)
    lines = _header(result.settings, unavailable(result))
    if result.fib:
        lines.append(f"fib: ms per call ({PER_CALL}); speedup over fib: {RATIO}")
    for fib in result.fib:
        lines += _fib_lines(fib, missing)
    if result.fib:
        lines.append("")
    if result.cases:
        lines += _example_legend()
        rows = [_example_columns()] + [_example_row(case, missing) for case in result.cases]
        lines += [*_table(rows, left=2), ""]
    if result.bounce is not None:
        lines += _bounce_lines(result.bounce, missing)
    if result.context is not None:
        lines += _context_lines(result.context)
    if result.methods is not None:
        lines += _methods_lines(result.methods)
    lines += _decoration_lines(result)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- JSON ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Arguments as JSON: strings, numbers and sequences as they are, anything else as repr."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return repr(value)


def _notes(
    times: dict[str, float | None],
    labels: Sequence[str],
    missing: Sequence[str],
    names: dict[str, str],
) -> dict[str, str]:
    """Why a result is ``null``: the variant raised RecursionError, or does not exist."""
    notes = {}
    for label in labels:
        if label in missing:
            notes[names.get(label, label)] = "strategy not available"
        elif times.get(label) is None:
            notes[names.get(label, label)] = "RecursionError"
    return notes


def _fib_json(fib: FibResult, missing: Sequence[str]) -> dict[str, Any]:
    times = fib.measurement.per_call_s
    median = fib.measurement.median_s
    labels = fib_labels()
    seed = [label for label in labels if label not in (ex.GUARDED_LOOP, ex.UNGUARDED_LOOP)]
    return {
        "n": fib.n,
        "results": {FIB_NAMES.get(label, label): times.get(label) for label in seed},
        "guarded_loop": times.get(ex.GUARDED_LOOP),
        "unguarded_loop": times.get(ex.UNGUARDED_LOOP),
        "median": {FIB_NAMES.get(label, label): median.get(label) for label in labels},
        "speedup": {
            FIB_NAMES.get(label, label): fib.measurement.ratios.get(label)
            for label in labels
            if label != ex.NATIVE
        },
        "notes": _notes(times, labels, missing, FIB_NAMES),
    }


def _case_json(case: CaseResult, missing: Sequence[str]) -> dict[str, Any]:
    times = case.measurement.per_call_s
    labels = example_labels()
    return {
        "name": case.name,
        "args": _jsonable(case.args),
        "results": {label: times.get(label) for label in labels},
        "example": case.example,
        "unguarded_loop": times.get(ex.UNGUARDED_LOOP),
        "hand_loop": times.get(ex.HAND_LOOP),
        "guarded_loop": times.get(ex.GUARDED_LOOP),
        "median": {
            label: case.measurement.median_s.get(label)
            for label in [*labels, ex.UNGUARDED_LOOP, ex.HAND_LOOP, ex.GUARDED_LOOP]
        },
        "ratios": dict(case.measurement.ratios),
        "notes": _notes(times, [*labels, ex.UNGUARDED_LOOP], missing, {}),
    }


def _bounce_json(
    bounce: BounceSuite, missing: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    labels = bounce_labels() if labels is None else labels
    runs = []
    for result in bounce.results:
        measurement = result.measurement
        runs.append(
            {
                "n": result.n,
                "results": {label: measurement.per_call_s.get(label) for label in labels},
                "median": {label: measurement.median_s.get(label) for label in labels},
                "per_bounce": {label: result.per_bounce_s(label) for label in labels},
                "vs_native": {label: measurement.ratios.get(label) for label in labels},
                "notes": _notes(measurement.per_call_s, labels, missing, {}),
            }
        )
    return {
        "functions": bounce.title,
        "reference_n": bounce.reference_n,
        "target_vs_native": bounce.target,
        "aim_vs_native": bounce.aim,
        "runs": runs,
    }


def _context_json(results: Sequence[ContextResult]) -> dict[str, Any]:
    return {"cases": _calls_json(results, context_labels(), CONTEXT_RATIOS.values())}


def _calls_json(
    results: Sequence[ContextResult | MethodResult], labels: Sequence[str], keys: Iterable[str]
) -> list[dict[str, Any]]:
    """One entry per result: its name and call, each variant's seconds per call (min and
    median), the ratios of ``keys`` and ``notes``."""
    cases = []
    for result in results:
        measurement = result.measurement
        cases.append(
            {
                "name": result.name,
                "call": result.call,
                "results": {label: measurement.per_call_s.get(label) for label in labels},
                "median": {label: measurement.median_s.get(label) for label in labels},
                "ratios": {key: measurement.ratios.get(key) for key in keys},
                "notes": _notes(measurement.per_call_s, labels, [], {}),
            }
        )
    return cases


def _methods_json(methods: MethodSuite) -> dict[str, Any]:
    labels = method_labels()
    return {
        "cases": _calls_json(methods.results, labels, METHOD_RATIOS.values()),
        "bounce": _bounce_json(methods.bounce, [], labels),
    }


def to_json(result: SuiteResult) -> dict[str, Any]:
    """The ``--json`` document, schema 3.

    The seed's keys: ``python``; ``fib[]`` with ``n`` and ``results`` (seconds per call of
    ``fib``, ``fib_unrecursed``, ``partial_func``, ``return_tuple``, ``internal_loop``);
    ``examples[]`` with ``name``, ``args`` and ``results`` (seconds per call of ``native``,
    ``internal_loop``, ``partial_func``, ``return_tuple``).  A ``null`` result raised
    RecursionError or belongs to a strategy not available; ``notes`` says which.

    Ours, alongside: ``schema``, ``implementation``, ``machine``, ``processor``, ``commit``
    (see :func:`environment`), ``strategies`` (available
    -> label) and ``unavailable``, ``settings``; per fib entry ``guarded_loop`` seconds,
    ``median`` and ``speedup`` (median interleaved native/variant ratio), both with a
    ``guarded_loop`` key too; per example ``hand_loop`` and ``guarded_loop`` seconds,
    ``median`` seconds, ``ratios`` (``guarded_loop_vs_hand``, ``<label>_vs_hand``,
    ``<label>_vs_guarded``, ``<label>_speedup_vs_native``: median interleaved ratios);
    ``decorate_us``: strategy -> example -> microseconds of one decoration (the median of
    ``settings["decorate_runs"]`` in a row, in the fastest of the interleaved rounds;
    schema 3, where schema 2 had one median of 200 in a row), ``decorate_median_us``: the
    same, the median over rounds.  The loop strategy with
    ``name_guard=False`` beside them: per fib entry and per example ``unguarded_loop``
    seconds, an ``unguarded_loop`` key in ``median`` (in fib's ``speedup`` and ``notes``
    too), per example ``ratios["unguarded_loop_vs_hand"]``; ``null`` (noted ``strategy not
    available``) when the loop strategy is.

    ``bounce``: tail calls between functions, ``null`` when not measured; else
    ``functions`` (``"is_even/is_odd"``), ``reference_n``, ``target_vs_native`` and
    ``runs[]``, one per depth, with ``n``, ``results`` and ``median`` (seconds per call of
    the entry point: ``native``, every strategy label, ``hand_loop``), ``per_bounce``
    (``results`` / ``n``), ``vs_native`` (median interleaved ratio of a variant's time per
    bounce to native's time per call at ``reference_n`` / ``reference_n``) and ``notes``.

    ``context``: tail recursion modulo context, ``null`` when not measured; else ``cases[]``
    with ``name``, ``call``, ``results`` and ``median`` (seconds per call of ``native``,
    ``internal_loop``, ``hand_loop``), ``ratios`` (``internal_loop_speedup_vs_native``,
    ``hand_loop_speedup_vs_native``, ``internal_loop_vs_hand``) and ``notes``.

    ``methods``: tail calls in methods, ``null`` when not measured; else ``cases[]`` as
    ``context``'s (a method calling itself: ``walk``) and ``bounce`` as the top-level one
    (methods calling each other: ``"ping/pong"``), with the variants ``native``,
    ``internal_loop`` (the methods optimized with default options) and ``hand_loop``.
    """
    settings = result.settings
    missing = missing_variants(result)
    env = environment()
    return {
        "python": env["python"],
        "fib": [_fib_json(fib, missing) for fib in result.fib],
        "examples": [_case_json(case, missing) for case in result.cases],
        "schema": SCHEMA,
        "implementation": env["implementation"],
        "machine": env["machine"],
        "processor": env["processor"],
        "commit": env["commit"],
        "strategies": {name: ex.label(name) for name in result.strategies},
        "unavailable": unavailable(result),
        "settings": {
            "target_ms": settings.target_ns / 1e6,
            "rounds": settings.rounds,
            "warmup_calls": settings.warmup_calls,
            "decorate_runs": settings.decorate_runs,
        },
        "decorate_us": result.decorate_us,
        "decorate_median_us": result.decorate_median_us,
        "bounce": None if result.bounce is None else _bounce_json(result.bounce, missing),
        "context": None if result.context is None else _context_json(result.context),
        "methods": None if result.methods is None else _methods_json(result.methods),
    }
