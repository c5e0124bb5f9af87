"""The ``pytailcall`` command line (also ``python -m pytailcall``).

Each subcommand is one entry of :data:`COMMANDS`: a function adding its options to its
parser and a ``cmd_*`` function running it.  A new subcommand is a new entry; ``main`` needs
no change.  Commands report failures by raising :class:`CliError`, which ``main`` prints as
one line; heavy imports happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pytailcall.bench.examples import AnyFunc, Case, Example
    from pytailcall.bench.measure import Settings

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


# --- bench --------------------------------------------------------------------------------


def _configure_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter timings (a few seconds in all)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        help="only this example (gcd) or case (gcd_2); may be repeated",
    )
    # Test-suite mode: one very short round, to exercise the whole path in well under a second.
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)


def _bench_settings(args: argparse.Namespace) -> Settings:
    from pytailcall.bench.measure import PROFILES

    if args.tiny:
        return PROFILES["tiny"]
    return PROFILES["quick" if args.quick else "full"]


def cmd_bench(args: argparse.Namespace) -> int:
    """Check every optimized example against its hand-written loop, then time them all."""
    from pytailcall.bench import examples as ex
    from pytailcall.bench import measure, report

    try:
        cases = ex.select(args.only)
    except KeyError as exc:
        names = ", ".join(ex.example_names())
        raise CliError(f"no example or case named {exc.args[0]!r} (examples: {names})", 2) from None
    if args.json:
        _check_writable(args.json)
    strategies = ex.STRATEGIES
    _progress("building optimized variants")
    variants = _build_variants(ex.examples_of(cases), strategies)
    _check_results(cases, variants)
    result = measure.run_suite(cases, variants, strategies, _bench_settings(args), _progress)
    sys.stdout.write(report.format_text(result))
    if args.json:
        _write_json(args.json, report.to_json(result))
    return 0


def _check_results(cases: Sequence[Case], variants: dict[str, dict[str, AnyFunc]]) -> None:
    """Timing a wrong answer is pointless: compare every variant with the hand loop first."""
    from pytailcall.bench.measure import check_all

    print("Testing all functions work", flush=True)
    problems = check_all(cases, variants)
    for problem in problems:
        print(f"{PROG}: mismatch: {problem}", file=sys.stderr)
    if problems:
        raise CliError(f"{len(problems)} result(s) differ from the hand-written loops")


def _build_variants(
    examples: Sequence[Example], strategies: Sequence[str]
) -> dict[str, dict[str, AnyFunc]]:
    """``build_variants``, with a decorator failure turned into a one-line error."""
    from pytailcall.bench.examples import build_variants

    try:
        return build_variants(examples, strategies)
    except Exception as exc:
        raise CliError(f"tail_optimize failed: {type(exc).__name__}: {exc}") from exc


def _check_writable(path: str) -> None:
    """Fail before a long benchmark, not after it, when the JSON file cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise CliError(f"cannot write {path}: {folder} is not a writable directory")


def _write_json(path: str, document: dict[str, Any]) -> None:
    try:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
            stream.write("\n")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
    _progress(f"wrote {path}")


# --- dispatch -----------------------------------------------------------------------------

COMMANDS: dict[str, Command] = {
    "bench": Command(
        "compare optimized functions with native recursion and hand-written loops",
        _configure_bench,
        cmd_bench,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Tail-call optimization by bytecode rewriting."
    )
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
    """Run the command line; return the exit status instead of exiting."""
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
