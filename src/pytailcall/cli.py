"""The ``pytailcall`` command line (also ``python -m pytailcall``).

Each subcommand is one entry of :data:`COMMANDS`: a function adding its options to its
parser and a ``cmd_*`` function running it.  A new subcommand is a new entry; ``main`` needs
no change.  Commands report failures by raising :class:`CliError`, which ``main`` prints as
one line; heavy imports happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
import time
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TextIO

if TYPE_CHECKING:
    from pytailcall._auto import Optimized
    from pytailcall._report import TailCallReport
    from pytailcall.bench.examples import (
        AnyFunc,
        Case,
        ContextCase,
        Example,
        MethodVariants,
        MethodWorkload,
        Mutual,
    )
    from pytailcall.bench.measure import Settings, SuiteResult

PROG = "pytailcall"


class CliError(Exception):
    """A failure to report to the user as one line, with the exit code to return."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Command(NamedTuple):
    """A subcommand: its one-line help, how to add its options, and what runs it."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _progress(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class _Steps:
    """Progress through a long run: one line rewritten in place on a terminal (with the
    time so far), one line per step anywhere else (a log, a pipe, the tests)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.start = time.monotonic()
        self.showing = False

    def __call__(self, message: str) -> None:
        if not self.live:
            _progress(message)
            return
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\r\x1b[K{PROG}: {message} ({elapsed:.0f} s)")
        self.stream.flush()
        self.showing = True

    def close(self) -> None:
        if self.showing:
            elapsed = time.monotonic() - self.start
            self.stream.write(f"\r\x1b[K{PROG}: measured in {elapsed:.0f} s\n")
            self.stream.flush()
            self.showing = False


# --- bench --------------------------------------------------------------------------------


def _configure_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter timings (well under a minute)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw the examples, modulo context and methods as a bar chart, in the format "
        "of FILE's extension (.png, .svg, .pdf, ...; needs matplotlib: "
        'pip install ".[plot]" from the clone)',
    )
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        help="only this example (gcd), case (gcd_2) or section (bounce: tail calls between "
        "functions; context: tail recursion modulo context; methods: tail calls in methods); "
        "may be repeated",
    )
    parser.add_argument(
        "--fib-n",
        metavar="N",
        type=int,
        action="append",
        help="time fib at N (may be repeated; default the seed's 5, 750 and 5000, "
        "none with --only)",
    )
    # Test-suite mode: one very short round, to exercise the whole path in well under a second.
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)


def _bench_settings(args: argparse.Namespace) -> Settings:
    from pytailcall.bench.measure import PROFILES

    if args.tiny:
        return PROFILES["tiny"]
    return PROFILES["quick" if args.quick else "full"]


def cmd_bench(args: argparse.Namespace) -> int:
    """The seed's tables: check every variant, time fib at three depths, then every example
    as native recursion, each available strategy (the loop strategy without the name guard
    too) and the hand-written loops; then ours, tail calls between functions (is_even/is_odd)
    in the same variants, tail recursion modulo context (fact_mod, length, build) natively,
    optimized and as two hand-written loops, and tail calls in methods (walk calling itself,
    ping/pong calling each other) natively, optimized and as a hand-written loop."""
    from pytailcall.bench import examples as ex
    from pytailcall.bench import measure, report

    try:
        cases = ex.select(args.only)
    except KeyError as exc:
        names = ", ".join(ex.example_names())
        raise CliError(
            f"no example, case or section named {exc.args[0]!r} (examples: {names}; "
            f"sections: {', '.join(ex.SECTIONS)})",
            2,
        ) from None
    bounce = ex.bounce_selected(args.only)
    context = ex.context_selected(args.only)
    methods = ex.methods_selected(args.only)
    fib_ns: list[int] = args.fib_n or ([] if args.only else list(ex.FIB_NS))
    negative = [n for n in fib_ns if n < 0]
    if negative:
        raise CliError(f"--fib-n {negative[0]}: must not be negative", 2)
    # Everything that could fail after the measurements is checked before them.
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path:
            _check_writable(option, path)
    if args.plot:
        if not cases and not context and not methods:
            only = ", ".join(repr(name) for name in args.only or ())
            raise CliError(
                f"--plot draws the examples, modulo context and methods, and --only {only} "
                "selects none of them",
                2,
            )
        _require_plot(args.plot)
    strategies = _strategies()
    missing = [ex.display_label(ex.label(name)) for name in ex.STRATEGIES if name not in strategies]
    if missing:
        _progress(f"not available in this pytailcall, shown as n/a: {', '.join(missing)}")
    _progress("building optimized variants")
    examples = ex.examples_of(cases)
    fib = ex.fib_example()
    if fib_ns and fib is None:
        raise CliError("--fib-n: there is no fib example", 2)
    if fib_ns and fib is not None and fib not in examples:
        examples.append(fib)
    variants = _build_variants(examples, strategies)
    settings = _bench_settings(args)
    mutual = ex.EVEN_ODD
    if settings.bounce_ns:
        mutual = dataclasses.replace(mutual, ns=settings.bounce_ns)
    bounce_variants = _build_bounce_variants(mutual, strategies) if bounce else None
    context_cases = ex.CONTEXT_CASES
    context_variants = _build_context_variants(context_cases) if context else None
    method_workload = ex.METHOD_WORKLOAD
    if settings.bounce_ns:
        method_mutual = dataclasses.replace(method_workload.mutual, ns=settings.bounce_ns)
        method_workload = dataclasses.replace(method_workload, mutual=method_mutual)
    method_variants = _build_method_variants(method_workload) if methods else None
    _check_results(
        cases,
        variants,
        fib_ns,
        bounce_variants,
        mutual,
        context_variants,
        context_cases,
        method_variants,
        method_workload,
    )
    steps = _Steps(sys.stderr)
    try:
        result = measure.run_suite(
            cases,
            variants,
            strategies,
            settings,
            steps,
            fib_ns,
            bounce_variants,
            mutual,
            context=context_variants,
            context_cases=context_cases,
            methods=method_variants,
            method_workload=method_workload,
        )
    finally:
        steps.close()
    sys.stdout.write(report.format_text(result))
    sys.stdout.flush()
    if args.json:
        _write_json(args.json, report.to_json(result))
    if args.plot:
        _draw(result, args.plot)
    return 0


def _strategies() -> tuple[str, ...]:
    """The strategies ``tail_optimize`` offers, as one-line error if asking fails."""
    from pytailcall.bench.examples import available_strategies

    try:
        return available_strategies()
    except Exception as exc:
        raise CliError(f"tail_optimize failed: {type(exc).__name__}: {exc}") from exc


def _require_plot(path: str) -> None:
    """matplotlib, and a file name whose format it writes, or a one-line error."""
    from pytailcall.bench.plot import PlotUnavailable, UnsupportedFormat, require

    try:
        require(path)
    except UnsupportedFormat as exc:
        raise CliError(str(exc), 2) from None
    except PlotUnavailable as exc:
        raise CliError(str(exc)) from None


def _draw(result: SuiteResult, path: str) -> None:
    from pytailcall.bench.plot import draw

    try:
        draw(result, path)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
    _progress(f"wrote {path}")


def _check_results(
    cases: Sequence[Case],
    variants: dict[str, dict[str, AnyFunc]],
    fib_ns: Sequence[int],
    bounce: dict[str, AnyFunc] | None = None,
    mutual: Mutual | None = None,
    context: dict[str, dict[str, AnyFunc]] | None = None,
    context_cases: Sequence[ContextCase] = (),
    methods: MethodVariants | None = None,
    method_workload: MethodWorkload | None = None,
) -> None:
    """Timing a wrong answer is pointless: compare every variant with the hand loop (and,
    for ``mutual``'s, with its expected results) first; and timing a modulo-context case
    whose call was not optimized so, an unguarded loop that checks its name, or a method
    that does not jump, is no measure of it."""
    from pytailcall.bench import examples as ex
    from pytailcall.bench.measure import check_all

    print("Testing all functions work", flush=True)
    problems = check_all(
        cases,
        variants,
        fib_ns,
        bounce,
        mutual or ex.EVEN_ODD,
        context,
        context_cases,
        methods,
        method_workload or ex.METHOD_WORKLOAD,
    )
    for problem in problems:
        print(f"{PROG}: mismatch: {problem}", file=sys.stderr)
    if problems:
        raise CliError(f"{len(problems)} result(s) differ from the expected ones")


def _build_bounce_variants(mutual: Mutual, strategies: Sequence[str]) -> dict[str, AnyFunc]:
    """``build_mutual_variants``, with a decorator failure turned into a one-line error."""
    from pytailcall.bench.examples import build_mutual_variants

    try:
        return build_mutual_variants(mutual, strategies)
    except Exception as exc:
        raise CliError(f"tail_optimize failed: {type(exc).__name__}: {exc}") from exc


def _build_context_variants(
    context_cases: Sequence[ContextCase],
) -> dict[str, dict[str, AnyFunc]]:
    """``build_context_variants``, with a decorator failure turned into a one-line error."""
    from pytailcall.bench.examples import build_context_variants

    try:
        return build_context_variants(context_cases)
    except Exception as exc:
        raise CliError(f"tail_optimize failed: {type(exc).__name__}: {exc}") from exc


def _build_method_variants(workload: MethodWorkload) -> MethodVariants:
    """``build_method_variants``, with a decorator failure turned into a one-line error."""
    from pytailcall.bench.examples import build_method_variants

    try:
        return build_method_variants(workload)
    except Exception as exc:
        raise CliError(f"tail_optimize failed: {type(exc).__name__}: {exc}") from exc


def _build_variants(
    examples: Sequence[Example], strategies: Sequence[str]
) -> dict[str, dict[str, AnyFunc]]:
    """``build_variants``, with a decorator failure turned into a one-line error."""
    from pytailcall.bench.examples import build_variants

    try:
        return build_variants(examples, strategies)
    except Exception as exc:
        raise CliError(f"tail_optimize failed: {type(exc).__name__}: {exc}") from exc


def _check_writable(option: str, path: str) -> None:
    """Fail before a long benchmark, not after it, when ``option``'s file cannot be
    written: a directory, a file in a missing or read-only one, a read-only file."""
    where = f"{option} {path!r}"
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise CliError(f"{where}: is a directory; give a file name (in it, for example)", 2)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{where}: no directory {folder}", 2)
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CliError(f"{where}: cannot write there (permission denied)")


def _write_json(path: str, document: dict[str, Any]) -> None:
    try:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
            stream.write("\n")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
    _progress(f"wrote {path}")


# --- explain and dis ----------------------------------------------------------------------

STRATEGY_NAMES = ("loop", "return_tuple", "partial")


def _configure_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="MODULE:FUNCTION",
        help="the function, as module:name, module:Class.method or path/to/file.py:name",
    )
    parser.add_argument(
        "--escape-try",
        action="store_true",
        help="as tail_optimize(escape_try=True): also optimize calls in try/except bodies",
    )
    parser.add_argument("--strategy", choices=STRATEGY_NAMES, help="as tail_optimize(strategy=...)")
    parser.add_argument(
        "--no-modulo-context",
        dest="modulo_context",
        action="store_false",
        help="as tail_optimize(modulo_context=False): leave calls whose result is still "
        "worked on (return n * f(n - 1)) as normal calls",
    )
    parser.add_argument(
        "--no-name-guard",
        dest="name_guard",
        action="store_false",
        help="as tail_optimize(name_guard=False): calls to itself jump without checking that "
        "its name still refers to it (a promise that it always will)",
    )


def _options_given(args: argparse.Namespace) -> bool:
    return bool(args.strategy or args.escape_try or not args.modulo_context
                or not args.name_guard)


def _configure_dis(parser: argparse.ArgumentParser) -> None:
    _configure_target(parser)
    parser.add_argument(
        "--stacked",
        action="store_true",
        help="original then rewritten, one after the other (default: side by side when the "
        "terminal is wide enough)",
    )


def cmd_explain(args: argparse.Namespace) -> int:
    """Print ``explain()``'s report: for a plain function what ``tail_optimize`` would do,
    for an optimized one what it did (with ``--strategy``/``--escape-try``/
    ``--no-modulo-context``: what those options do)."""
    from pytailcall import explain

    func = _resolve(args.target)
    own = _call(explain, func)
    if _options_given(args):
        made, _ = _optimize(func, args)
        print(_made_report(explain(made), own))
    else:
        print(own)
    return 0


def _made_report(report: TailCallReport, own: TailCallReport) -> str:
    """``report``, of a function the command made from the user's (whose own report is
    ``own``): headed as what ``tail_optimize`` would make (a prediction), never as the
    state of the user's function, and saying how that function is decorated if it is."""
    decoration = (f"decorated with strategy={own.strategy!r}; with the options given"
                  if own.applied else "not decorated; with tail_optimize()")
    return report._described(decoration)


def cmd_dis(args: argparse.Namespace) -> int:
    """The original bytecode and the rewritten one, with the optimized call sites and the
    appended stubs marked; for a trampoline, the rewritten implementation and then the
    driver that the public function is; for a loop function with tail calls to other
    functions, also the copy that their bounces run. For an optimized function, the code
    it runs, made with the options it was decorated with (with options given here: the
    code those would make, as ``explain``)."""
    from pytailcall import explain

    func = _resolve(args.target)
    original: types.FunctionType = func
    made, caught = func, list[str]()
    own = _call(explain, func)
    applied = own.applied
    if applied:
        # The function it was made from (not __wrapped__: for a function decorated
        # twice, that is the first decoration's result).
        from pytailcall._api import _original

        original = _original(func)
    if not applied or _options_given(args):
        made, caught = _optimize(func, args)
    report = explain(made)
    lines = {site.lineno for site in report.sites if site.optimized and site.lineno is not None}
    width = os.get_terminal_size().columns if sys.stdout.isatty() else _columns()
    parts = _rewritten_parts(original, made)
    print(_dis_report(original.__code__, parts, lines, report.strategy, width, args.stacked))
    print()
    print(report if made is func else _made_report(report, own))
    for message in caught:
        print(f"warning: {str(message).removeprefix('pytailcall: ')}")
    return 0


def _columns() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _call(function: Callable[[types.FunctionType], Any], func: types.FunctionType) -> Any:
    """``function(func)`` with pytailcall's refusals as one-line errors, without the name
    of the API function they start with (``dis`` calls ``explain()``: naming it would
    send the user to a function they did not call)."""
    from pytailcall import TailCallError

    try:
        return function(func)
    except (TypeError, ValueError, TailCallError) as exc:
        message = str(exc)
        for api in ("explain", "tail_optimize"):
            message = message.removeprefix(f"{api}() ")
        raise CliError(message) from exc


def _optimize(
    func: types.FunctionType, args: argparse.Namespace
) -> tuple[types.FunctionType, list[str]]:
    """``tail_optimize(func, ...)`` with the command's options; its warnings, as text."""
    import warnings

    from pytailcall.bench.examples import decorate

    options: dict[str, Any] = {"escape_try": args.escape_try,
                               "modulo_context": args.modulo_context,
                               "name_guard": args.name_guard}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = _call(lambda f: decorate(f, args.strategy or "loop", options), func)
    return made, [str(warning.message) for warning in caught]


def _resolve(target: str) -> types.FunctionType:
    """The function named by ``module:qualname`` (or ``file.py:qualname``), or a one-line
    error saying what is missing or what it is instead."""
    import inspect

    module_name, colon, qualname = target.partition(":")
    if not colon or not module_name or not qualname:
        raise CliError(f"expected MODULE:FUNCTION (for example mymodule:count), got {target!r}", 2)
    obj: Any = _import(module_name)
    where = module_name
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CliError(f"{where} has no attribute {part!r}") from None
        where = f"{where}:{part}" if where == module_name else f"{where}.{part}"
    if inspect.ismethod(obj):
        obj = obj.__func__
    if not isinstance(obj, types.FunctionType):
        name = type(obj).__name__
        article = "an" if name[:1].lower() in "aeiou" else "a"
        kind = "a class" if isinstance(obj, type) else f"{article} {name} object"
        raise CliError(f"{target} is {kind}, not a Python function")
    return obj


#: Numbers the modules loaded from ``file.py`` targets (see :func:`_import`).
_file_loads = itertools.count(1)


def _import(name: str) -> types.ModuleType:
    """Import a module by name, the current directory first as ``python -m`` does, or from
    a ``.py`` file under a private name; any failure is a one-line error."""
    import importlib
    import importlib.util

    try:
        if name.endswith(".py"):
            if not os.path.isfile(name):
                raise CliError(f"no file {name!r}")
            # A private name, new for each load: a file called dis.py or json.py must not
            # replace the standard module of that name for the rest of the process.  The
            # module stays registered under it, as its __name__ says, so pickling and
            # dataclasses in the file work.
            private = f"_pytailcall_target_{next(_file_loads)}"
            spec = importlib.util.spec_from_file_location(private, name)
            if spec is None or spec.loader is None:
                raise CliError(f"cannot load {name!r} as a module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[private] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(private, None)  # as a failed import leaves nothing behind
                raise
            return module
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        return importlib.import_module(name)
    except CliError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise CliError(f"no module named {name!r}") from exc
        raise CliError(f"importing {name!r} failed: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise CliError(f"importing {name!r} failed: {type(exc).__name__}: {exc}") from exc


def _dis_rows(code: types.CodeType, lines: set[int], stub_from: int | None) -> dict[int, str]:
    """Offset -> one disassembled instruction, marked ``*`` on the line of an optimized tail
    call and ``+`` in the appended stubs (offsets from ``stub_from`` on)."""
    import dis

    rows: dict[int, str] = {}
    previous: int | None = None
    for ins in dis.get_instructions(code):
        lineno = ins.positions.lineno if ins.positions else None
        mark = "+" if stub_from is not None and ins.offset >= stub_from else " "
        mark += "*" if lineno in lines else " "
        shown = str(lineno) if lineno is not None and lineno != previous else ""
        previous = lineno if lineno is not None else previous
        target = ">>" if ins.is_jump_target else "  "
        text = f"{mark} {shown:>4} {target} {ins.offset:>4} {ins.opname} {ins.argrepr}"
        rows[ins.offset] = text.rstrip()
    return rows


def _prologue(code: types.CodeType) -> int:
    """Bytes before ``RESUME``: the rewrite may add a ``COPY_FREE_VARS`` there (its extra
    free variable), which shifts every later offset by the same amount."""
    import dis

    for ins in dis.get_instructions(code):
        if ins.opname == "RESUME":
            return ins.offset
    return 0


#: Labels of the sections ``dis`` shows besides the original code.
REWRITTEN = "rewritten"
IMPLEMENTATION = "rewritten implementation"
BOUNCED = "implementation used by bounces from other optimized functions"
DRIVER = "driver (the public function: calls the implementation and follows its bounces)"
UNCHANGED = "not rewritten: nothing was optimized, so the function runs the original code above"


class _Parts(NamedTuple):
    """The code objects of a made function that ``dis`` shows, each with its label: the
    rewrite of the original (None when nothing was rewritten), shown beside the original,
    then other rewrites of it and generated code that is no rewrite (the driver)."""

    main: tuple[str, types.CodeType] | None
    rewrites: tuple[tuple[str, types.CodeType], ...] = ()
    generated: tuple[tuple[str, types.CodeType], ...] = ()


def _implementation(made: types.FunctionType) -> types.FunctionType | None:
    """The rewritten implementation that runs the bounces into ``made``: its Target's
    bounce marker names it.  None when nothing bounces into a rewrite (a loop function
    calling only itself, or nothing rewritten)."""
    from pytailcall._runtime import TARGET_KEY, Target

    target = made.__dict__.get(TARGET_KEY)
    # A function made from an optimized one copies its __dict__, Target included.
    if not isinstance(target, Target) or target.public is not made or target.marker is None:
        return None
    impl = target.marker.impl
    return impl if isinstance(impl, types.FunctionType) else None


def _holds(func: types.FunctionType, value: object) -> bool:
    """Whether one of ``func``'s closure cells holds ``value``: a driver holds the
    implementation it calls."""
    for cell in func.__closure__ or ():
        try:
            if cell.cell_contents is value:
                return True
        except ValueError:  # an empty cell
            continue
    return False


def _rewritten_parts(original: types.FunctionType, made: types.FunctionType) -> _Parts:
    """Which code of ``made`` is the rewrite of ``original``.  A trampoline's public
    function is a driver that calls the rewritten implementation; a loop function's own code
    is the rewrite, and one with tail calls to other functions has a second rewrite, which
    returns bounces, for the bounces from other optimized functions."""
    impl = _implementation(made)
    if impl is None:
        if made.__code__ == original.__code__:
            return _Parts(None)
        return _Parts((REWRITTEN, made.__code__))
    if _holds(made, impl):
        return _Parts((IMPLEMENTATION, impl.__code__), generated=((DRIVER, made.__code__),))
    return _Parts((REWRITTEN, made.__code__), rewrites=((BOUNCED, impl.__code__),))


def _dis_report(
    original: types.CodeType,
    parts: _Parts,
    lines: set[int],
    strategy: str,
    width: int,
    stacked: bool,
) -> str:
    """The original and its rewrite (see :func:`_dis_listing`), then each other section
    under its label, then the legend of the marks."""
    if parts.main is None:
        title = f"original {original.co_qualname} ({len(original.co_code)} bytes)"
        return "\n".join([title, *_dis_rows(original, set(), None).values(), "", UNCHANGED])
    label, rewritten = parts.main
    text, stub_from = _dis_listing(original, rewritten, lines, label, strategy, width, stacked)
    blocks = [text]
    for label, code in parts.rewrites:
        start = len(original.co_code) + _prologue(code) - _prologue(original)
        title = f"{label}, strategy={strategy!r} ({len(code.co_code)} bytes"
        title += ")" if start == stub_from else f"; appended stub from offset {start})"
        blocks.append("\n".join([title, *_dis_rows(code, lines, start).values()]))
    for label, code in parts.generated:
        title = f"{label}, {len(code.co_code)} bytes"
        blocks.append("\n".join([title, *_dis_rows(code, set(), None).values()]))
    legend = f"* line of an optimized tail call   + appended stub (offset {stub_from} and later)"
    return "\n\n".join([*blocks, legend])


def _dis_listing(
    original: types.CodeType,
    rewritten: types.CodeType,
    lines: set[int],
    label: str,
    strategy: str,
    width: int,
    stacked: bool,
) -> tuple[str, int]:
    """Both listings, side by side and aligned by offset when ``width`` allows (the
    rewrite patches call sites in place, so every other instruction keeps its offset, up to
    a shifted prologue); else one after the other.  Everything past the original code's
    length (after that shift) is appended stub, from the offset returned with the text."""
    shift = _prologue(rewritten) - _prologue(original)
    stub_from = len(original.co_code) + shift
    left = _dis_rows(original, lines, None)
    right = {offset - shift: row for offset, row in _dis_rows(rewritten, lines, stub_from).items()}
    titles = (
        f"original {original.co_qualname} ({len(original.co_code)} bytes)",
        f"{label}, strategy={strategy!r} ({len(rewritten.co_code)} bytes)",
    )
    column = max(len(text) for text in [*left.values(), *right.values(), *titles])
    gap = " | "
    if stacked or 2 * column + len(gap) > width:
        blocks = [titles[0], *left.values(), "", titles[1], *right.values()]
        return "\n".join(blocks), stub_from
    out = [titles[0].ljust(column) + gap + titles[1]]
    for offset in sorted(left.keys() | right.keys()):
        out.append((left.get(offset, "").ljust(column) + gap + right.get(offset, "")).rstrip())
    return "\n".join(out), stub_from


# --- run ----------------------------------------------------------------------------------


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m",
        dest="as_module",
        action="store_true",
        help="TARGET is a module (or a package with a __main__), run as python -m does",
    )
    parser.add_argument(
        "--module-pattern",
        metavar="PATTERN",
        action="append",
        default=[],
        help="also optimize the modules the program imports whose full name matches PATTERN "
        "(mypkg, mypkg.*: shell-style, * matches dots too); may be repeated",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="after the run, list the optimized functions on stderr",
    )
    parser.add_argument("target", metavar="TARGET", help="the script (or with -m, the module)")
    parser.add_argument(
        "args", nargs=argparse.REMAINDER, help="the program's own arguments (its sys.argv[1:])"
    )


def cmd_run(args: argparse.Namespace) -> int:
    """Run a program as ``__main__`` with every function it defines (and those of the
    modules matching ``--module-pattern``) optimized where ``explain`` shows something to
    optimize; nothing is changed when ``PYTAILCALL_DISABLE=1``."""
    from pytailcall import _auto, _run

    if args.module_pattern:
        _auto.install(args.module_pattern)
    try:
        if args.as_module:
            status = _run.run_module(args.target, args.args)
        else:
            status = _run.run_path(args.target, args.args)
    except _run.RunError as exc:
        raise CliError(str(exc), exc.code) from exc
    finally:
        if args.report:
            _print_optimized(_auto.optimized())
    return status


def _print_optimized(functions: Sequence[Optimized]) -> None:
    """One line per optimized function, then the count, on stderr."""
    sys.stdout.flush()
    for func in functions:
        print(
            f"{PROG}: optimized {func.qualname}() at {func.filename}:{func.lineno}", file=sys.stderr
        )
    noun = "function" if len(functions) == 1 else "functions"
    print(f"{PROG}: {len(functions)} {noun} optimized", file=sys.stderr, flush=True)


# --- dispatch -----------------------------------------------------------------------------

COMMANDS: dict[str, Command] = {
    "bench": Command(
        "compare optimized functions with native recursion and hand-written loops",
        _configure_bench,
        cmd_bench,
    ),
    "explain": Command(
        "report which calls of a function to itself are (or would be) optimized, and why not",
        _configure_target,
        cmd_explain,
    ),
    "dis": Command(
        "show a function's bytecode before and after tail_optimize, tail-call sites marked",
        _configure_dis,
        cmd_dis,
    ),
    "run": Command(
        "run a script (or -m module) with every function it defines tail-call optimized",
        _configure_run,
        cmd_run,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    from pytailcall import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, description="Tail-call optimization by bytecode rewriting."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an error"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; argparse's own exit (usage error, ``--help``) becomes a ``CliError``."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
        raise CliError("", code) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting.  For ``run``, a
    program that ended with an uncaught ``KeyboardInterrupt`` gives
    ``pytailcall._run.INTERRUPTED`` (-2, what ``subprocess`` reports for a process killed
    by SIGINT), after its traceback: :func:`console_main` turns that into the real thing."""
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except CliError as exc:
        return exc.code  # argparse has already printed its message
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return COMMANDS[args.command].run(args)
    except CliError as exc:
        if args.traceback and exc.__cause__ is not None:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(
            f"{PROG}: error: {type(exc).__name__}: {exc} (--traceback for details)", file=sys.stderr
        )
        return 1


def console_main() -> NoReturn:
    """The ``pytailcall`` command and ``python -m pytailcall``: :func:`main`, then exit
    with its status, or, for a program interrupted by Ctrl-C, end as the interpreter ends
    one (shut down, then die of SIGINT)."""
    from pytailcall import _run

    status = main()
    if status == _run.INTERRUPTED:
        _run.end_as_interrupted()
    sys.exit(status)
