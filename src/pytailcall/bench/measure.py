"""Timing that holds up on a shared, noisy machine.

Absolute times drift with whatever else the machine runs, so the figures that matter are
*ratios* measured by interleaving: within each round every variant is timed once, back to
back, and a round's ratio compares timings taken moments apart.  The median over rounds
discards the rounds a neighbour disturbed; the per-call times reported are minimums, the
least disturbed estimate of each variant's own cost.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pytailcall.bench import examples as ex

AnyFunc = Callable[..., Any]
Progress = Callable[[str], None]
Label = TypeVar("Label")


@dataclass(frozen=True)
class Settings:
    """How hard to measure: the CLI's ``--quick`` and the tests' tiny mode pick lighter ones."""

    target_ns: int = 20_000_000
    """Length of one timing; the loop count is calibrated to reach it."""
    rounds: int = 15
    """Interleaved rounds; ratios are the median over them."""
    warmup_calls: int = 5
    """Calls before calibration, so the specializing interpreter has settled."""
    decorate_runs: int = 20
    """Decorations timed per example and strategy in each of the ``rounds`` rounds."""
    bounce_ns: tuple[int, ...] | None = None
    """Depths of the tail calls between functions instead of the workload's own
    (:data:`ex.EVEN_ODD`'s): the tiny mode's deep one is just past the recursion limit."""


PROFILES: dict[str, Settings] = {
    "full": Settings(),
    "quick": Settings(target_ns=5_000_000, rounds=5, decorate_runs=10),
    "tiny": Settings(
        target_ns=100_000, rounds=1, warmup_calls=1, decorate_runs=2, bounce_ns=(500, 2_000)
    ),
}


@dataclass(frozen=True)
class Pair:
    """A ratio to report: ``candidate`` time over ``reference`` time, under ``key``."""

    key: str
    candidate: str
    reference: str


@dataclass
class Measurement:
    """Per-call seconds (min over rounds) per variant and median ratio per pair.

    A variant that overflows the stack on these arguments has ``None`` for its time, and so
    has every ratio it is part of.
    """

    per_call_s: dict[str, float | None] = field(default_factory=dict)
    ratios: dict[str, float | None] = field(default_factory=dict)
    median_s: dict[str, float | None] = field(default_factory=dict)
    """Per-call seconds, median over rounds: with ``per_call_s``, how spread the rounds were."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic collector out of the timed region, as ``timeit`` does."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def time_loop(func: AnyFunc, args: tuple[Any, ...], number: int) -> int:
    """Nanoseconds for ``number`` calls of ``func(*args)``."""
    repeat = itertools.repeat(None, number)
    with _gc_paused():
        start = time.perf_counter_ns()
        for _ in repeat:
            func(*args)
        return time.perf_counter_ns() - start


def overflows(func: AnyFunc, args: tuple[Any, ...]) -> bool:
    """Whether ``func(*args)`` hits the recursion limit (the native variant on deep inputs)."""
    try:
        func(*args)
    except RecursionError:
        return True
    return False


def calibrate(func: AnyFunc, args: tuple[Any, ...], target_ns: int) -> int:
    """A loop count for which ``time_loop`` takes about ``target_ns``."""
    number = 1
    while True:
        elapsed = max(time_loop(func, args, number), 1)
        if elapsed >= target_ns // 10:
            return max(1, round(number * target_ns / elapsed))
        number *= 10 if elapsed * 100 < target_ns else 2


def _round_order(labels: Sequence[Label], round_index: int) -> list[Label]:
    """The labels rotated by one per round, so no variant always runs first."""
    shift = round_index % len(labels)
    return list(labels[shift:]) + list(labels[:shift])


def measure(
    variants: Mapping[str, AnyFunc],
    args: tuple[Any, ...],
    pairs: Sequence[Pair],
    settings: Settings,
) -> Measurement:
    """Time every variant on ``args`` in interleaved rounds; see the module docstring."""
    live = {label: func for label, func in variants.items() if not overflows(func, args)}
    per_call = time_rounds({label: (func, args) for label, func in live.items()}, settings)
    return Measurement(
        per_call_s=_minimums(per_call, variants),
        ratios={pair.key: _median_ratio(per_call, pair) for pair in pairs},
        median_s=_medians(per_call, variants),
    )


def time_rounds(
    calls: Mapping[str, tuple[AnyFunc, tuple[Any, ...]]], settings: Settings
) -> dict[str, list[float]]:
    """Per-call seconds of every ``func(*args)`` of ``calls``, one figure per interleaved
    round, after warming up and calibrating each."""
    numbers: dict[str, int] = {}
    for label, (func, args) in calls.items():
        for _ in range(settings.warmup_calls):
            func(*args)
        numbers[label] = calibrate(func, args, settings.target_ns)
    per_call: dict[str, list[float]] = {label: [] for label in calls}
    labels = list(calls)
    for round_index in range(settings.rounds if labels else 0):
        for label in _round_order(labels, round_index):
            func, args = calls[label]
            elapsed = time_loop(func, args, numbers[label])
            per_call[label].append(elapsed / numbers[label] / 1e9)
    return per_call


def _minimums(
    per_call: Mapping[str, Sequence[float]], labels: Iterable[str]
) -> dict[str, float | None]:
    return {label: min(per_call[label]) if per_call.get(label) else None for label in labels}


def _medians(
    per_call: Mapping[str, Sequence[float]], labels: Iterable[str]
) -> dict[str, float | None]:
    return {
        label: statistics.median(per_call[label]) if per_call.get(label) else None
        for label in labels
    }


def _median_ratio(per_call: Mapping[str, Sequence[float]], pair: Pair) -> float | None:
    """Median over rounds of candidate/reference, each round's pair timed moments apart."""
    candidate = per_call.get(pair.candidate)
    reference = per_call.get(pair.reference)
    if not candidate or not reference:
        return None
    return statistics.median(c / r for c, r in zip(candidate, reference, strict=True))


def time_decorations(
    decorators: Mapping[tuple[str, str], Callable[[ex.AnyFunc], object]],
    natives: Mapping[str, ex.AnyFunc],
    settings: Settings,
) -> dict[tuple[str, str], list[float]]:
    """Microseconds of one ``decorate(f)`` call (the cost of ``tail_optimize``) for every
    (strategy, example) of ``decorators``: per interleaved round, the median of
    ``settings.decorate_runs`` decorations in a row.

    Interleaved as the calls are timed, because a neighbour that slows the machine for a
    second moved a whole block of decorations: one median of 200 in a row gave 520 to 960
    µs for ``string_merge`` on the same code within minutes (3.12.1). Each ``f`` is a copy
    of the example's native function with a code object never decorated before (made
    outside the timing): decorating the same code object again reuses its rewrite
    (``_memo``), which a function defined once never does."""
    per_round: dict[tuple[str, str], list[float]] = {key: [] for key in decorators}
    keys = list(decorators)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for round_index in range(settings.rounds if keys else 0):
            for key in _round_order(keys, round_index):
                decorate, native = decorators[key], natives[key[1]]
                samples: list[int] = []
                for _ in range(max(settings.decorate_runs, 1)):
                    fresh = ex.never_decorated(native)
                    start = time.perf_counter_ns()
                    decorate(fresh)
                    samples.append(time.perf_counter_ns() - start)
                per_round[key].append(statistics.median(samples) / 1e3)
    return per_round


# --- the whole suite ----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """The measurement of one case (an example on one parameter set)."""

    name: str
    example: str
    args: tuple[Any, ...]
    measurement: Measurement


@dataclass(frozen=True)
class FibResult:
    """The seed's fib timing at one ``n``: every variant, with its speedup over native."""

    n: int
    measurement: Measurement


@dataclass(frozen=True)
class BounceResult:
    """Tail calls between functions at one depth ``n``: every variant's time per call of
    the entry point (``n`` calls, or bounces once optimized) and, in ``ratios`` keyed by
    label, the median per-round ratio of its time per bounce (per call / ``n``) to a
    native call's (native per call / ``reference_n``, timed at ``reference_n`` in the same
    rounds: the native variant overflows the stack deeper down)."""

    n: int
    reference_n: int
    measurement: Measurement

    def per_bounce_s(self, label: str) -> float | None:
        seconds = self.measurement.per_call_s.get(label)
        return None if seconds is None else seconds / self.n


@dataclass(frozen=True)
class BounceSuite:
    """Tail calls between the functions ``title`` names, at each of their depths."""

    title: str
    reference_n: int
    target: float
    """The target for ``ratios``: a bounce at most this many native calls."""
    aim: float
    """Below the target: what a bounce aims at, in native calls."""
    results: list[BounceResult]


@dataclass(frozen=True)
class ContextResult:
    """One case of tail recursion modulo context: every variant's time per call and, in
    ``ratios``, the pairs of :func:`context_pairs`."""

    name: str
    call: str
    measurement: Measurement


@dataclass(frozen=True)
class MethodResult:
    """One method's tail call to itself: every variant's time per call and, in ``ratios``,
    the pairs of :func:`method_pairs`."""

    name: str
    call: str
    measurement: Measurement


@dataclass(frozen=True)
class MethodSuite:
    """Tail calls in methods: each method calling itself, then the methods calling each
    other (``bounce``: native, the optimized methods and the hand loop, per bounce)."""

    results: list[MethodResult]
    bounce: BounceSuite


@dataclass(frozen=True)
class SuiteResult:
    """Everything ``bench`` measured, ready for :mod:`pytailcall.bench.report`."""

    strategies: tuple[str, ...]
    """The strategies measured: those ``tail_optimize`` accepts, in :data:`ex.STRATEGIES`
    order.  The others of :data:`ex.STRATEGIES` are reported as not available."""
    fib: list[FibResult]
    cases: list[CaseResult]
    decorate_us: dict[str, dict[str, float]]
    """Strategy -> example name -> microseconds of one ``tail_optimize`` call: the median
    of a round's decorations, in the fastest round (times of calls are minimums too)."""
    settings: Settings
    bounce: BounceSuite | None = None
    """Tail calls between functions; ``None`` when not measured."""
    context: list[ContextResult] | None = None
    """Tail recursion modulo context, one result per case; ``None`` when not measured."""
    methods: MethodSuite | None = None
    """Tail calls in methods; ``None`` when not measured."""
    decorate_median_us: dict[str, dict[str, float]] = field(default_factory=dict)
    """As ``decorate_us``, the median over rounds instead of the fastest: how spread they were."""


def ratio_pairs(strategies: Sequence[str]) -> list[Pair]:
    """The ratios reported per case: the guarded loop against the hand loop, the unguarded
    loop too when the loop strategy is measured, then each strategy against the hand loop,
    the guarded loop and the native."""
    pairs = [Pair(f"{ex.GUARDED_LOOP}_vs_hand", ex.GUARDED_LOOP, ex.HAND_LOOP)]
    if "loop" in strategies:
        pairs.append(Pair(UNGUARDED_VS_HAND, ex.UNGUARDED_LOOP, ex.HAND_LOOP))
    for strategy in strategies:
        label = ex.label(strategy)
        pairs.append(Pair(f"{label}_vs_hand", label, ex.HAND_LOOP))
        pairs.append(Pair(f"{label}_vs_guarded", label, ex.GUARDED_LOOP))
        pairs.append(Pair(f"{label}_speedup_vs_native", ex.NATIVE, label))
    return pairs


def speedup_pairs(labels: Sequence[str]) -> list[Pair]:
    """The seed's fib figures: native time over each other variant's, keyed by its label."""
    return [Pair(label, ex.NATIVE, label) for label in labels if label != ex.NATIVE]


UNGUARDED_VS_HAND = f"{ex.UNGUARDED_LOOP}_vs_hand"
"""The unguarded loop's time over the hand loop's: the report's unguarded/hand."""

CONTEXT_SPEEDUP = f"{ex.LOOP}_speedup_vs_native"
HAND_SPEEDUP = f"{ex.HAND_LOOP}_speedup_vs_native"
CONTEXT_VS_HAND = f"{ex.LOOP}_vs_hand"


def context_pairs() -> list[Pair]:
    """The ratios reported per modulo-context case: native time over the optimized
    variant's and over the hand loop's (higher is better), then the optimized variant's
    over the hand loop's."""
    return [
        Pair(CONTEXT_SPEEDUP, ex.NATIVE, ex.LOOP),
        Pair(HAND_SPEEDUP, ex.NATIVE, ex.HAND_LOOP),
        Pair(CONTEXT_VS_HAND, ex.LOOP, ex.HAND_LOOP),
    ]


def method_pairs() -> list[Pair]:
    """The ratios reported per method case, under the same keys as :func:`context_pairs`:
    native time over the optimized method's and over the hand loop's, then the optimized
    method's over the hand loop's."""
    return context_pairs()


def check_all(
    cases: Sequence[ex.Case],
    variants: Mapping[str, Mapping[str, AnyFunc]],
    fib_ns: Sequence[int] = (),
    bounce: Mapping[str, AnyFunc] | None = None,
    mutual: ex.Mutual = ex.EVEN_ODD,
    context: Mapping[str, Mapping[str, AnyFunc]] | None = None,
    context_cases: Sequence[ex.ContextCase] = ex.CONTEXT_CASES,
    methods: ex.MethodVariants | None = None,
    method_workload: ex.MethodWorkload = ex.METHOD_WORKLOAD,
) -> list[str]:
    """Every problem found comparing each variant (the guarded and unguarded loops too)
    with the hand loop: on fib(50) and the fib timings' ``n`` when fib is measured, then on
    every case; then, when ``bounce`` holds ``mutual``'s variants, every one of them against
    ``mutual.expected`` at each of its depths; then, when ``context`` holds the variants of
    ``context_cases`` (by name), each case's (see :func:`ex.check_context`); then, when
    ``methods`` holds ``method_workload``'s variants, theirs (see
    :func:`ex.check_methods`)."""
    problems: list[str] = []
    fib = variants.get(ex.FIB)
    if fib is not None:
        for n in dict.fromkeys((ex.FIB_CHECK_N, *fib_ns)):
            problems.extend(ex.check_call(f"fib({n})", (n,), fib))
    for case in cases:
        problems.extend(ex.check_case(case, variants[case.example.name]))
    if bounce is not None:
        problems.extend(ex.check_mutual(mutual, bounce))
    if context is not None:
        for context_case in context_cases:
            problems.extend(ex.check_context(context_case, context[context_case.name]))
    if methods is not None:
        problems.extend(ex.check_methods(method_workload, methods))
    return problems


def reference_label(reference_n: int) -> str:
    """The label of the native entry point timed at ``reference_n`` beside a deeper run."""
    return f"{ex.NATIVE}@{reference_n}"


def measure_bounce(
    variants: Mapping[str, AnyFunc], n: int, reference_n: int, settings: Settings
) -> BounceResult:
    """Time every variant of an entry point at depth ``n``, interleaved with the native one
    at ``reference_n`` (the same timing as the native variant's when ``n`` is that depth);
    see :class:`BounceResult`."""
    live = {label: func for label, func in variants.items() if not overflows(func, (n,))}
    calls = {label: (func, (n,)) for label, func in live.items()}
    depth = dict.fromkeys(calls, n)
    reference = ex.NATIVE
    native = variants.get(ex.NATIVE)
    if n != reference_n and native is not None and not overflows(native, (reference_n,)):
        reference = reference_label(reference_n)
        calls[reference] = (native, (reference_n,))
        depth[reference] = reference_n
    per_call = time_rounds(calls, settings)
    per_bounce = {
        label: [seconds / depth[label] for seconds in times] for label, times in per_call.items()
    }
    return BounceResult(
        n,
        reference_n,
        Measurement(
            per_call_s=_minimums(per_call, variants),
            ratios={
                label: _median_ratio(per_bounce, Pair(label, label, reference))
                for label in variants
            },
            median_s=_medians(per_call, variants),
        ),
    )


def run_suite(
    cases: Sequence[ex.Case],
    variants: Mapping[str, Mapping[str, AnyFunc]],
    strategies: Sequence[str],
    settings: Settings,
    progress: Progress,
    fib_ns: Sequence[int] = (),
    bounce: Mapping[str, AnyFunc] | None = None,
    mutual: ex.Mutual = ex.EVEN_ODD,
    context: Mapping[str, Mapping[str, AnyFunc]] | None = None,
    context_cases: Sequence[ex.ContextCase] = ex.CONTEXT_CASES,
    methods: ex.MethodVariants | None = None,
    method_workload: ex.MethodWorkload = ex.METHOD_WORKLOAD,
) -> SuiteResult:
    """Measure fib at each of ``fib_ns`` (``variants`` must then hold fib's), every case,
    tail calls between functions at each of ``mutual``'s depths when ``bounce`` holds its
    variants, every case of ``context_cases`` when ``context`` holds their variants (by
    name), ``method_workload``'s cases and its methods calling each other at each depth when
    ``methods`` holds its variants, then the decoration cost of every example involved."""
    bounce_ns = mutual.ns if bounce is not None else ()
    timed_context = context_cases if context is not None else ()
    method_steps = (
        [*method_workload.cases, *method_workload.mutual.ns] if methods is not None else []
    )
    total = len(fib_ns) + len(cases) + len(bounce_ns) + len(timed_context) + len(method_steps)
    fib_results: list[FibResult] = []
    for position, n in enumerate(fib_ns, start=1):
        progress(f"[{position}/{total}] timing fib N={n}")
        fib = variants[ex.FIB]
        measurement = measure(fib, (n,), speedup_pairs(list(fib)), settings)
        fib_results.append(FibResult(n, measurement))
    pairs = ratio_pairs(strategies)
    results: list[CaseResult] = []
    for position, case in enumerate(cases, start=len(fib_ns) + 1):
        progress(f"[{position}/{total}] timing {case.name}")
        measurement = measure(variants[case.example.name], case.args, pairs, settings)
        results.append(CaseResult(case.name, case.example.name, case.args, measurement))
    bounce_suite: BounceSuite | None = None
    if bounce is not None:
        bounce_results: list[BounceResult] = []
        for position, n in enumerate(mutual.ns, start=len(fib_ns) + len(cases) + 1):
            progress(f"[{position}/{total}] timing {mutual.title} N={n}")
            bounce_results.append(measure_bounce(bounce, n, mutual.reference_n, settings))
        bounce_suite = BounceSuite(
            mutual.title, mutual.reference_n, ex.BOUNCE_TARGET, ex.BOUNCE_AIM, bounce_results
        )
    context_results: list[ContextResult] | None = None
    if context is not None:
        context_results = []
        first = len(fib_ns) + len(cases) + len(bounce_ns) + 1
        for position, context_case in enumerate(context_cases, start=first):
            progress(f"[{position}/{total}] timing {context_case.call} (modulo context)")
            measurement = measure(
                context[context_case.name], context_case.args, context_pairs(), settings
            )
            context_results.append(ContextResult(context_case.name, context_case.call, measurement))
    method_suite: MethodSuite | None = None
    if methods is not None:
        first = len(fib_ns) + len(cases) + len(bounce_ns) + len(timed_context) + 1
        method_suite = _run_methods(methods, method_workload, settings, progress, first, total)
    if cases:
        progress("timing decoration")
    examples = ex.examples_of(cases)
    decorators = {
        (strategy, example.name): _decorator_call(example, strategy)
        for strategy in strategies
        for example in examples
    }
    natives = {example.name: example.native for example in examples}
    per_round = time_decorations(decorators, natives, settings)
    decorate: dict[str, dict[str, float]] = {}
    decorate_median: dict[str, dict[str, float]] = {}
    for (strategy, name), rounds in per_round.items():
        decorate.setdefault(strategy, {})[name] = min(rounds)
        decorate_median.setdefault(strategy, {})[name] = statistics.median(rounds)
    return SuiteResult(
        tuple(strategies),
        fib_results,
        results,
        decorate,
        settings,
        bounce_suite,
        context_results,
        method_suite,
        decorate_median,
    )


def _run_methods(
    variants: ex.MethodVariants,
    workload: ex.MethodWorkload,
    settings: Settings,
    progress: Progress,
    first: int,
    total: int,
) -> MethodSuite:
    """The methods section of :func:`run_suite`, its steps numbered from ``first``."""
    position = first
    results: list[MethodResult] = []
    for case in workload.cases:
        progress(f"[{position}/{total}] timing {case.call} (methods)")
        measurement = measure(variants.cases[case.name], case.args, method_pairs(), settings)
        results.append(MethodResult(case.name, case.call, measurement))
        position += 1
    mutual = workload.mutual
    bounce_results: list[BounceResult] = []
    for n in mutual.ns:
        progress(f"[{position}/{total}] timing {mutual.title} N={n} (methods)")
        bounce_results.append(measure_bounce(variants.bounce, n, mutual.reference_n, settings))
        position += 1
    bounce = BounceSuite(mutual.title, mutual.reference_n, ex.BOUNCE_TARGET, ex.BOUNCE_AIM,
                         bounce_results)
    return MethodSuite(results, bounce)


def _decorator_call(example: ex.Example, strategy: str) -> Callable[[ex.AnyFunc], object]:
    """Decorating (a copy of) ``example.native`` as the benchmark's variants were."""
    return lambda func: ex.decorate(func, strategy, example.options)
