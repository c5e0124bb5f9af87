"""Compare pytailcall with the other tail-call libraries on PyPI: speed and semantics.

    python benchmarks/compare_libraries.py [--quick] [--json FILE] [--venv DIR]

Not part of the package and not one of its dependencies.  The script creates a virtual
environment of its own (in a temporary directory, removed afterwards, unless ``--venv DIR``
names one to create or reuse), pip-installs each library there one by one (a library that
does not install is reported, not fatal) and pytailcall from a copy of this repository, then
runs itself inside that environment (``--child``) to measure, and prints Markdown:

* speed: time per call of each library's version of the seed's examples over a hand-written
  ``while True`` loop (lower is better, 1.00x is loop speed), after checking every result
  against the loop.  All libraries are timed in the same rounds: each round times every
  (library, case) once, case by case, with the hand loop timed before and after each case's
  turn; a ratio is the median over rounds of that round's time over that round's loop.  A
  change of machine load then moves a round of every library, not one library's figures;
* semantics: whether the library keeps what the plain recursive function does, on small
  checks: closures made in each iteration, omitted default arguments, ``try``/``finally``
  around a tail call, rebinding the function's name, tail calls in conditional expressions,
  methods and mutual recursion (``is_even`` and ``is_odd`` on odd and even numbers, some
  deeper than the recursion limit, as the two before it).

Each library's version of the workload is written with its own documented API: the
libraries whose tail call is a plain call by name share ``workloads/by_name.py`` (decorated
function by function here, as ``@decorator`` would); the others have a
``workloads/lib_<name>.py`` each.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKLOADS = HERE / "workloads"

AnyFunc = Callable[..., Any]


# --- the libraries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Library:
    """A library to compare: how to install it, and how its workload is written."""

    key: str
    """Row name in the tables."""
    pip: str | None
    """Distribution to pip-install; ``None`` for pytailcall, installed from the repository."""
    api: str
    """How a tail call is written, for the table."""
    workload: str
    """``by_name`` (plain recursive functions, decorated here) or a ``workloads`` module."""
    decorator: str = ""
    """For ``by_name``: ``module:attribute`` of the decorator."""
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """For ``by_name``: keyword options of the decorator per function (pytailcall only)."""
    sdist_file: str = ""
    """Instead of installing ``pip``: copy this file of its source distribution into the
    venv as the module the decorator names (a pure-Python module of a package whose
    extensions do not build)."""


_TRY = {"reverse_string": {"escape_try": True}}  # pytailcall's documented option for try/except

LIBRARIES: tuple[Library, ...] = (
    Library(
        "pytailcall (loop)",
        None,
        "`@tail_optimize`",
        "by_name",
        "pytailcall:tail_optimize",
        {"*": {"strategy": "loop"}, **_TRY},
    ),
    Library(
        "pytailcall (loop, name_guard=False)",
        None,
        "`@tail_optimize(name_guard=False)` (the name promised never rebound)",
        "by_name",
        "pytailcall:tail_optimize",
        {"*": {"strategy": "loop", "name_guard": False}, **_TRY},
    ),
    Library(
        "pytailcall (return_tuple)",
        None,
        '`@tail_optimize(strategy="return_tuple")`',
        "by_name",
        "pytailcall:tail_optimize",
        {"*": {"strategy": "return_tuple"}, **_TRY},
    ),
    Library(
        "pytailcall (partial)",
        None,
        '`@tail_optimize(strategy="partial")`',
        "by_name",
        "pytailcall:tail_optimize",
        {"*": {"strategy": "partial"}, **_TRY},
    ),
    Library("coconut", "coconut", "plain calls, compiled by Coconut", "lib_coconut"),
    Library(
        "tacopy-optimization",
        "tacopy-optimization",
        "`@tacopy` (AST rewrite)",
        "by_name",
        "tacopy:tacopy",
    ),
    Library(
        "loom-tailcalls",
        "loom-tailcalls",
        "`return await f(...)` in `async def` (AST rewrite)",
        "lib_loom_tailcalls",
    ),
    Library("tailrec", "tailrec", "`@tailrec` (exception)", "by_name", "tailrec:tailrec"),
    Library(
        "tail-recurse",
        "tail-recurse",
        "`@tail_call` (frame check + exception)",
        "by_name",
        "tail_recurse:tail_call",
    ),
    Library("tail-recursive", "tail-recursive", "`return f.tail_call(...)`", "lib_tail_recursive"),
    Library(
        "tail-recursion", "tail-recursion", "`return TailRecursion(...)`", "lib_tail_recursion"
    ),
    Library(
        "functional-recursion",
        "functional-recursion",
        "`return recur(...)`",
        "lib_functional_recursion",
    ),
    Library("expression", "expression", "`return TailCall(...)`", "lib_expression"),
    Library("unpythonic", "unpythonic", "`return jump(f, ...)`", "lib_unpythonic"),
    Library("thunctor", "thunctor", "`return Thunk(args).bind(rec)`", "lib_thunctor"),
    Library("tco", "tco", "`return self(...)` (continuations)", "lib_tco"),
    Library(
        "trampoline", "trampoline", "`raise TailCall(f(...))` in a generator", "lib_trampoline"
    ),
    Library(
        "precursion",
        "precursion",
        "`return (yield f.r(...))` (callers kept on a list)",
        "lib_precursion",
    ),
    Library(
        "iterativerecursion",
        "iterativerecursion",
        '`return FunctionReturn({...}, "f")`',
        "lib_iterativerecursion",
    ),
    Library("chronotco", "chronotco", "`@chronotco` (bytecode)", "by_name", "chronotco:chronotco"),
    Library("tailopt", "tailopt", "`@tailopt` (bytecode)", "by_name", "tailopt.tailopt:tailopt"),
    Library("TailSpin (Cython)", "TailSpin", "`@tail` (Cython)", "by_name", "tailspin.fast:tail"),
    Library(
        "TailSpin (pure Python)",
        "TailSpin",
        "`@tail` (`tailspin.plain`: nested calls return a thunk)",
        "by_name",
        "tailspin_plain:tail",
        sdist_file="src/tailspin/plain.py",
    ),
    Library(
        "bigstack",
        "bigstack",
        "plain calls on a 128 MiB thread stack (no TCO)",
        "lib_bigstack",
    ),
)

EXAMPLE_FUNCTIONS = (
    "reverse_string",
    "gcd",
    "modulo",
    "string_merge",
    "to_binary",
    "collatz",
    "fib",
)
BY_NAME_DECORATED = (
    *EXAMPLE_FUNCTIONS,
    "closures",
    "omitted",
    "try_finally",
    "rebind",
    "conditional",
    "is_even",
    "is_odd",
)
HEADLINE_CASES = (
    "reverse_string_2",
    "gcd_2",
    "modulo_1",
    "string_merge_2",
    "to_binary_2",
    "collatz_1",
    "fib_1",
    "fib_3",
)
"""The cases shown in the speed table (the README's); the geometric mean covers all 22."""

SLOW_S = 0.5
"""A (library, case) whose first call takes longer is timed by one call, in the first
round only: in every round it would take minutes."""

DEEP = 5000
"""Depth of the deep semantics checks: past the default recursion limit of 1000."""


@dataclass(frozen=True)
class Timing:
    """How hard to measure."""

    target_ns: int
    """Length of one timing; the loop count of each (library, case) is calibrated to it."""
    rounds: int
    """Rounds; a ratio is the median of the per-round ratios."""
    warmup_calls: int


TIMINGS = {
    "quick": Timing(target_ns=2_000_000, rounds=3, warmup_calls=1),
    "full": Timing(target_ns=10_000_000, rounds=11, warmup_calls=2),
}


# --- semantics checks ---------------------------------------------------------------------


Call = tuple[str, Callable[[types.ModuleType], Any], Any]
"""A check's call: what it shows as, the call on the workload module, what plain Python
returns (the deep calls would overflow natively; a library that keeps them as real calls
does too, and is "not optimized")."""


def _rebinding(module: types.ModuleType) -> Any:
    """``rebind(3)`` after the name its tail call looks up is bound to another function."""
    entry = module.rebind
    owner = getattr(module, "REBIND_MODULE", module)
    name = getattr(module, "REBIND_NAME", "rebind")
    saved = getattr(owner, name)
    setattr(owner, name, module.rebind_other)
    try:
        return entry(3)
    finally:
        setattr(owner, name, saved)


def _mutual_calls() -> list[Call]:
    """Both functions on even and odd numbers, shallow and deep: a wrong constant (``True``
    from every call, ``None``) fails at least one."""
    calls: list[Call] = []
    for n in (0, 1, 2, 7, DEEP, DEEP + 1):
        calls.append((f"is_even({n})", lambda m, n=n: m.is_even(n), n % 2 == 0))
        calls.append((f"is_odd({n})", lambda m, n=n: m.is_odd(n), n % 2 == 1))
    return calls


@dataclass(frozen=True)
class Check:
    """A semantics check: the workload functions it needs and its calls."""

    needs: tuple[str, ...]
    calls: list[Call]


SEMANTICS: dict[str, Check] = {
    "closures": Check(("closures",), [("closures(3)", lambda m: m.closures(3), [3, 2, 1])]),
    "omitted defaults": Check(("omitted",), [("omitted(3)", lambda m: m.omitted(3), "default")]),
    "try/finally": Check(
        ("try_finally",),
        [("try_finally(2, [])", lambda m: m.try_finally(2, []), ["base", 0, 1, 2])],
    ),
    "rebinding the name": Check(("rebind",), [("rebind(3), rebound", _rebinding, "rebound")]),
    "conditional expressions": Check(
        ("conditional",), [(f"conditional({DEEP})", lambda m: m.conditional(DEEP), DEEP)]
    ),
    "methods": Check(
        ("Counter.count",),
        [(f"Counter().count({DEEP})", lambda m: m.Counter().count(DEEP), DEEP)],
    ),
    "mutual recursion": Check(("is_even", "is_odd"), _mutual_calls()),
}
DEEP_CHECKS = 3
"""The last checks of :data:`SEMANTICS` run deeper than the recursion limit."""


def same(got: Any, expected: Any) -> bool:
    """Equal and of the same type: ``1`` is not ``True``, and an object whose ``__eq__``
    says yes to anything is not a result."""
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(map(same, got, expected))
    return bool(got == expected)


def check_semantics(module: types.ModuleType, refused: dict[str, str]) -> dict[str, list[str]]:
    """Check name -> [status, detail]: ok, wrong, not optimized, refused, fails or n/a.

    Every call of a check runs; a wrong result outranks an exception, and an exception a
    ``RecursionError`` (a call left native)."""
    not_expressible: dict[str, str] = getattr(module, "NOT_EXPRESSIBLE", {})
    limit = sys.getrecursionlimit()
    results: dict[str, list[str]] = {}
    for name, check in SEMANTICS.items():
        if name in not_expressible:
            results[name] = ["n/a", not_expressible[name]]
            continue
        refusals = [f"{need}: {refused[need]}" for need in check.needs if need in refused]
        if refusals:
            results[name] = ["refused", f"at decoration: {'; '.join(refusals)}"]
            continue
        wrong: list[str] = []
        failed: list[str] = []
        overflowed: list[str] = []
        for label, run, expected in check.calls:
            sys.setrecursionlimit(limit)  # a library that raised it must not pass a deep check
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = run(module)
            except RecursionError:
                overflowed.append(label)
                continue
            except Exception as exc:
                failed.append(f"{label} raised {type(exc).__name__}: {_first_line(exc)}")
                continue
            if not same(got, expected):
                wrong.append(f"{label} returned {_short(got)}, plain Python {_short(expected)}")
        sys.setrecursionlimit(limit)
        if wrong:
            results[name] = ["wrong", "; ".join(wrong[:3]) + (" ..." if len(wrong) > 3 else "")]
        elif failed:
            results[name] = ["fails", failed[0]]
        elif overflowed:
            results[name] = ["not optimized", f"RecursionError in {', '.join(overflowed)}"]
        else:
            results[name] = ["ok", ""]
    return results


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return _short(text[0] if text else "", 90)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the child: measure inside the venv ---------------------------------------------------


def _load(path: Path, name: str) -> types.ModuleType:
    """A fresh module from ``path`` under ``name`` (registered, so inspect finds its source)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _resolve(spec: str) -> AnyFunc:
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def build_workload(library: Library, index: int) -> tuple[types.ModuleType, dict[str, str]]:
    """The library's workload module, and the functions it refused to decorate (name ->
    error).  Raises when the library cannot be used at all (it does not import)."""
    if library.workload != "by_name":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = _load(WORKLOADS / f"{library.workload}.py", f"_workload_{index}")
        return module, dict(getattr(module, "REFUSED", {}))
    refused: dict[str, str] = {}
    decorator = _resolve(library.decorator)
    module = _load(WORKLOADS / "by_name.py", f"_workload_{index}")
    common = library.options.get("*", {})

    def decorate(func: AnyFunc, name: str) -> AnyFunc | None:
        options = {**common, **library.options.get(name, {})}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                made: AnyFunc = decorator(func, **options) if options else decorator(func)
                return made
        except Exception as exc:
            refused[name] = f"{type(exc).__name__}: {_first_line(exc)}"
            return None

    for name in BY_NAME_DECORATED:
        made = decorate(getattr(module, name), name)
        if made is not None:
            setattr(module, name, made)
    made = decorate(module.Counter.__dict__["count"], "Counter.count")
    if made is not None:
        module.Counter.count = made
    return module, refused


def _geometric_mean(values: list[float]) -> float | None:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


@dataclass
class Cell:
    """One (library, case) to time: the library's function on the case's arguments."""

    row: dict[str, Any]
    case: str
    func: AnyFunc
    args: tuple[Any, ...]
    first_call_s: float
    number: int = 0
    """Calls per timing; 0 for a slow cell, timed once in the first round."""
    ratios: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def prepare_row(library: Library, index: int) -> tuple[dict[str, Any], types.ModuleType | None]:
    """The library's row (version, refusals, semantics) and its workload module, or the
    row alone, saying why, when the library is unusable here."""
    from pytailcall.bench import examples as ex

    row: dict[str, Any] = {"library": library.key, "api": library.api, "pip": library.pip}
    row["version"] = _version(library.pip or "pytailcall")
    if library.pip is None:
        strategy = library.options["*"]["strategy"]
        if strategy not in ex.available_strategies():
            row["unusable"] = f"strategy {strategy!r} not available in this pytailcall"
            return row, None
    progress(f"loading the workload of {library.key}")
    try:
        module, refused = build_workload(library, index)
    except Exception as exc:
        row["unusable"] = f"{type(exc).__name__}: {_first_line(exc)}"
        return row, None
    if all(name in refused for name in EXAMPLE_FUNCTIONS):
        row["unusable"] = f"refuses every function: {refused[EXAMPLE_FUNCTIONS[0]]}"
        return row, None
    row.update(
        refused=refused,
        problems={},
        ratios={},
        single_call=[],
        cases=len(ex.select()),
        semantics=check_semantics(module, refused),
    )
    return row, module


def check_cases(row: dict[str, Any], module: types.ModuleType) -> list[Cell]:
    """The row's cells that return the loop's result; the others go to ``problems``."""
    from pytailcall.bench import examples as ex

    cells: list[Cell] = []
    for case in ex.select():
        name = case.name
        func = getattr(module, case.example.name, None)
        if case.example.name in row["refused"] or func is None:
            why = row["refused"].get(case.example.name, "not in the workload")
            row["problems"][name] = f"refused at decoration: {why}"
            continue
        expected = case.example.hand_loop(*case.args)
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = func(*case.args)
        except RecursionError:
            row["problems"][name] = "RecursionError"
            continue
        except Exception as exc:
            row["problems"][name] = f"{type(exc).__name__}: {_first_line(exc)}"
            continue
        took = time.perf_counter() - started
        if not same(got, expected):
            row["problems"][name] = "wrong result"
            continue
        cells.append(Cell(row, name, func, case.args, took))
    return cells


def time_interleaved(cells: list[Cell], timing: Timing) -> None:
    """Fill every cell's per-round ratios to the hand loop; see the module docstring."""
    from pytailcall.bench import examples as ex
    from pytailcall.bench.measure import calibrate, time_loop

    cases = {case.name: case for case in ex.select()}
    by_case: dict[str, list[Cell]] = {}
    for cell in cells:
        by_case.setdefault(cell.case, []).append(cell)
    loops: dict[str, int] = {}
    progress(f"calibrating {len(cells)} (library, case) timings")
    for name, group in by_case.items():
        case = cases[name]
        loops[name] = calibrate(case.example.hand_loop, case.args, timing.target_ns)
        for cell in group:
            if cell.first_call_s > SLOW_S:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(timing.warmup_calls):
                    cell.func(*cell.args)
                cell.number = calibrate(cell.func, cell.args, timing.target_ns)

    def loop_s(name: str) -> float:
        case = cases[name]
        return time_loop(case.example.hand_loop, case.args, loops[name]) / loops[name] / 1e9

    for round_index in range(timing.rounds):
        progress(f"round {round_index + 1} of {timing.rounds}")
        for name, group in by_case.items():
            shift = round_index % len(group)  # no library always right after the loop
            before = loop_s(name)
            spent: list[tuple[Cell, float]] = []
            for cell in group[shift:] + group[:shift]:
                if cell.number:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        elapsed = time_loop(cell.func, cell.args, cell.number)
                    spent.append((cell, elapsed / cell.number / 1e9))
                elif round_index == 0:
                    elapsed = time_loop(cell.func, cell.args, 1)
                    spent.append((cell, elapsed / 1e9))
            reference = (before + loop_s(name)) / 2
            for cell, seconds in spent:
                cell.seconds.append(seconds)
                cell.ratios.append(seconds / reference)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def progress(message: str) -> None:
    print(f"compare: {message}", file=sys.stderr, flush=True)


def child(args: argparse.Namespace) -> int:
    """Measure every installed library; print the JSON document to stdout."""
    sys.dont_write_bytecode = True  # no __pycache__ left in benchmarks/workloads
    sys.path.insert(0, str(WORKLOADS))
    timing = TIMINGS["quick" if args.quick else "full"]
    rows: list[dict[str, Any]] = []
    cells: list[Cell] = []
    for index, library in enumerate(LIBRARIES):
        if library.key in args.skip:
            continue  # the parent reports why
        row, module = prepare_row(library, index)
        rows.append(row)
        if module is not None:
            progress(f"checking {library.key} against the hand loop")
            cells += check_cases(row, module)
    time_interleaved(cells, timing)
    for cell in cells:
        cell.row["ratios"][cell.case] = statistics.median(cell.ratios)
        cell.row.setdefault("per_call_s", {})[cell.case] = min(cell.seconds)
        if not cell.number:
            cell.row["single_call"].append(cell.case)
    for row in rows:
        if "unusable" not in row:
            timed = [ratio for ratio in row["ratios"].values() if ratio is not None]
            row.update(geometric_mean=_geometric_mean(timed), timed=len(timed))
            del row["refused"]
    doc = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "quick": args.quick,
        "rounds": timing.rounds,
        "target_ns": timing.target_ns,
        "libraries": rows,
    }
    json.dump(doc, sys.stdout)
    return 0


# --- the parent: venv, installs, report ---------------------------------------------------


def _pip(python: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _install_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
    compiler = [line for line in lines if ": error:" in line]  # why a build failed
    errors = [line for line in lines if line.startswith("ERROR") or "Error" in line]
    return _short((compiler[:1] or errors[-1:] or lines[-1:] or ["pip failed"])[0], 160)


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _from_sdist(python: Path, library: Library) -> str:
    """Copy ``library.sdist_file`` of its source distribution into the venv as the module
    its decorator names; the version of that distribution.  Raises ``RuntimeError``."""
    assert library.pip is not None
    module = library.decorator.partition(":")[0]
    with tempfile.TemporaryDirectory(prefix="pytailcall-sdist-") as where:
        proc = _pip(
            python, "download", "--no-deps", "--no-binary", ":all:", "-d", where, library.pip
        )
        archives = list(Path(where).glob("*.tar.gz"))
        if proc.returncode or not archives:
            raise RuntimeError(f"no source distribution: {_install_error(proc)}")
        with tarfile.open(archives[0]) as archive:
            member = next(
                (m for m in archive.getmembers() if m.name.endswith("/" + library.sdist_file)),
                None,
            )
            source = archive.extractfile(member) if member is not None else None
            if source is None:
                raise RuntimeError(f"no {library.sdist_file} in {archives[0].name}")
            text = source.read()
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(purelib) / f"{module}.py").write_bytes(text)
        return archives[0].name.removesuffix(".tar.gz").rpartition("-")[2]


def prepare(venv: Path, base_python: str) -> tuple[dict[str, str], dict[str, str]]:
    """Create (or reuse) the venv and install everything: library key -> install error, and
    library key -> version of the libraries copied from a source distribution."""
    python = _python_of(venv)
    if not python.exists():
        progress(f"creating a virtual environment in {venv}")
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    with tempfile.TemporaryDirectory(prefix="pytailcall-src-") as copy:
        # pip builds in the source tree (egg-info, build/): build from a copy, not the repo
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (REPO / name).exists():
                shutil.copy2(REPO / name, copy)
        shutil.copytree(
            REPO / "src",
            Path(copy) / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
        progress("installing pytailcall from this repository")
        proc = _pip(python, "install", "--force-reinstall", "--no-deps", copy)
        if proc.returncode:
            raise SystemExit(f"compare: cannot install pytailcall: {_install_error(proc)}")
    failures: dict[str, str] = {}
    sdist_versions: dict[str, str] = {}
    pip_errors: dict[str, str | None] = {}
    for library in LIBRARIES:
        if library.pip is None:
            continue
        if library.sdist_file:
            progress(f"copying {library.sdist_file} of {library.pip}'s source distribution")
            try:
                sdist_versions[library.key] = _from_sdist(python, library)
            except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
                failures[library.key] = f"not copied from the sdist: {exc}"
            continue
        if library.pip not in pip_errors:
            progress(f"installing {library.pip}")
            proc = _pip(python, "install", library.pip)
            pip_errors[library.pip] = _install_error(proc) if proc.returncode else None
        error = pip_errors[library.pip]
        if error is not None:
            failures[library.key] = f"does not install: {error}"
    return failures, sdist_versions


def _cell(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


MARKS = {
    "ok": "ok",
    "wrong": "**wrong**",
    "not optimized": "not optimized",
    "refused": "refused",
    "fails": "**fails**",
    "n/a": "n/a",
}


def markdown(doc: dict[str, Any]) -> str:
    """The report: speed table, semantics table, notes per library, unusable libraries."""
    rows = [row for row in doc["libraries"] if "unusable" not in row]
    rounds = doc.get("rounds", "?")
    out = [
        f"### Tail-call libraries on {doc['implementation']} {doc['python']} ({doc['machine']})",
        "",
        (
            "Time per call over a hand-written `while True` loop (lower is better, 1.00x = "
            f"loop speed): the median over {rounds} rounds of the round's time over the "
            "round's loop, every library timed in every round. `wrong`/`error`: the result "
            f"was not the loop's, so it was not timed. `*`: one call took over {SLOW_S:g} s, "
            "so one call was timed, in the first round."
        ),
        "",
    ]
    head = ["library", "version", "tail call written as", *HEADLINE_CASES, "geo. mean (all rows)"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["library"], row["version"] or "?", row["api"]]
        for case in HEADLINE_CASES:
            problem = row["problems"].get(case)
            if problem is None:
                star = "*" if case in row["single_call"] else ""
                cells.append(_cell(row["ratios"].get(case)) + star)
            else:
                cells.append("wrong" if problem == "wrong result" else "error")
        mean = _cell(row["geometric_mean"])
        if row["timed"] < row["cases"]:
            mean += f" ({row['timed']} of {row['cases']})"
        cells.append(mean)
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        (
            "Semantics, compared with the plain recursive function (the last "
            f"{DEEP_CHECKS} {DEEP} calls deep; mutual recursion also on 0, 1, 2, 7 and "
            f"{DEEP + 1}, both functions):"
        ),
        "",
    ]
    checks = list(SEMANTICS)
    out += ["| library | " + " | ".join(checks) + " |", "|---|" + "---|" * len(checks)]
    for row in rows:
        cells = [MARKS[row["semantics"][c][0]] for c in checks]
        out.append(f"| {row['library']} | " + " | ".join(cells) + " |")
    out += ["", "Notes:", ""]
    for row in rows:
        notes = [
            f"{check}: {status}, {detail}" if detail else f"{check}: {status}"
            for check, (status, detail) in row["semantics"].items()
            if status != "ok"
        ]
        failed = sorted(row["problems"].items())
        if failed:
            shown = "; ".join(f"{case} {problem}" for case, problem in failed[:4])
            more = f" (and {len(failed) - 4} more)" if len(failed) > 4 else ""
            notes.insert(0, f"workload: {shown}{more}")
        text = "; ".join(notes) if notes else "keeps every checked behaviour"
        out.append(f"- **{row['library']}** {row['version'] or ''}: {text}")
    unusable = [row for row in doc["libraries"] if "unusable" in row]
    if unusable:
        out += ["", "Not compared (they do not work on this interpreter):", ""]
        for row in unusable:
            version = f" {row['version']}" if row.get("version") else ""
            out.append(f"- **{row['library']}**{version}: {row['unusable']}")
    return "\n".join(out) + "\n"


def parent(args: argparse.Namespace) -> int:
    venv = Path(args.venv) if args.venv else Path(tempfile.mkdtemp(prefix="pytailcall-compare-"))
    try:
        failures, sdist_versions = prepare(venv, args.python)
        command = [str(_python_of(venv)), str(Path(__file__).resolve()), "--child"]
        if args.quick:
            command.append("--quick")
        for key in failures:
            command += ["--skip", key]
        progress("measuring (progress below)")
        proc = subprocess.run(
            command, stdout=subprocess.PIPE, text=True, check=False, cwd=tempfile.gettempdir()
        )
        if proc.returncode:
            print(f"compare: the measuring run failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        doc = json.loads(proc.stdout)
    finally:
        if not args.venv:
            shutil.rmtree(venv, ignore_errors=True)
    known = {row["library"] for row in doc["libraries"]}
    for library in LIBRARIES:  # the libraries that did not install, in the table's order
        if library.key in failures and library.key not in known:
            doc["libraries"].append(
                {
                    "library": library.key,
                    "api": library.api,
                    "pip": library.pip,
                    "version": None,
                    "unusable": failures[library.key],
                }
            )
    for row in doc["libraries"]:
        if row["library"] in sdist_versions:
            row["version"] = sdist_versions[row["library"]]
    sys.stdout.write(markdown(doc))
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        progress(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter timings")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    parser.add_argument("--venv", metavar="DIR", help="create or reuse this venv (kept)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for the venv (default: this one)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
