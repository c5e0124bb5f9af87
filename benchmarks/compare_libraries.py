"""Compare pytailcall with the other tail-call libraries on PyPI: speed and semantics.

    python benchmarks/compare_libraries.py [--quick] [--json FILE] [--venv DIR]

Not part of the package and not one of its dependencies.  The script creates a virtual
environment of its own (in a temporary directory, removed afterwards, unless ``--venv DIR``
names one to create or reuse), pip-installs each library there one by one (a library that
does not install is reported, not fatal) and pytailcall from a copy of this repository, then
runs itself inside that environment (``--child``) to measure, and prints Markdown:

* speed: time per call of each library's version of the seed's examples over a hand-written
  ``while True`` loop, the median of interleaved ratios (lower is better, 1.00x is loop
  speed), after checking every result against the loop;
* semantics: whether the library keeps what the plain recursive function does, on small
  checks: closures made in each iteration, omitted default arguments, ``try``/``finally``
  around a tail call, rebinding the function's name, tail calls in conditional expressions,
  methods and mutual recursion (these three deeper than the recursion limit).

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
import subprocess
import sys
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
    Library(
        "tacopy-optimization",
        "tacopy-optimization",
        "`@tacopy` (AST rewrite)",
        "by_name",
        "tacopy:tacopy",
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
    Library("tco", "tco", "`return self(...)` (continuations)", "lib_tco"),
    Library(
        "trampoline", "trampoline", "`raise TailCall(f(...))` in a generator", "lib_trampoline"
    ),
    Library("chronotco", "chronotco", "`@chronotco` (bytecode)", "by_name", "chronotco:chronotco"),
    Library("tailopt", "tailopt", "`@tailopt` (bytecode)", "by_name", "tailopt.tailopt:tailopt"),
    Library("TailSpin", "TailSpin", "`@tail` (Cython)", "by_name", "tailspin.plain:tail"),
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
"""A case whose first call takes longer is timed by that one call, not in rounds."""

DEEP = 5000
"""Depth of the deep semantics checks: past the default recursion limit of 1000."""


# --- semantics checks ---------------------------------------------------------------------


def _rebinding(module: types.ModuleType) -> Any:
    entry = module.rebind
    name = getattr(module, "REBIND_NAME", "rebind")
    saved = getattr(module, name)
    setattr(module, name, module.rebind_other)
    try:
        return entry(3)
    finally:
        setattr(module, name, saved)


SEMANTICS: dict[str, tuple[Callable[[types.ModuleType], Any], Any]] = {
    "closures": (lambda m: m.closures(3), [3, 2, 1]),
    "omitted defaults": (lambda m: m.omitted(3), "default"),
    "try/finally": (lambda m: m.try_finally(2, []), ["base", 0, 1, 2]),
    "rebinding the name": (_rebinding, "rebound"),
    "conditional expressions": (lambda m: m.conditional(DEEP), DEEP),
    "methods": (lambda m: m.Counter().count(DEEP), DEEP),
    "mutual recursion": (lambda m: m.is_even(DEEP), True),
}
"""Check name -> (call on the library's workload module, what plain Python returns; the
deep ones would overflow natively, and a library that keeps them as real calls does too)."""


def check_semantics(module: types.ModuleType, refused: dict[str, str]) -> dict[str, list[str]]:
    """Check name -> [status, detail]: ok, wrong, not optimized, refused, fails or n/a."""
    not_expressible: dict[str, str] = getattr(module, "NOT_EXPRESSIBLE", {})
    needs = {
        "closures": "closures",
        "omitted defaults": "omitted",
        "try/finally": "try_finally",
        "rebinding the name": "rebind",
        "conditional expressions": "conditional",
        "methods": "Counter.count",
        "mutual recursion": "is_even",
    }
    results: dict[str, list[str]] = {}
    for name, (run, expected) in SEMANTICS.items():
        if name in not_expressible:
            results[name] = ["n/a", not_expressible[name]]
            continue
        if needs[name] in refused:
            results[name] = ["refused", f"at decoration: {refused[needs[name]]}"]
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = run(module)
        except RecursionError:
            results[name] = ["not optimized", f"RecursionError at depth {DEEP}"]
            continue
        except Exception as exc:
            results[name] = ["fails", f"{type(exc).__name__}: {_first_line(exc)}"]
            continue
        if got == expected:
            results[name] = ["ok", ""]
        else:
            results[name] = ["wrong", f"returned {_short(got)}, plain Python {_short(expected)}"]
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
    refused: dict[str, str] = {}
    if library.workload != "by_name":
        return _load(WORKLOADS / f"{library.workload}.py", f"_workload_{index}"), refused
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


def measure_library(library: Library, index: int, quick: bool) -> dict[str, Any]:
    """Everything about one library: version, correctness, speed ratios, semantics."""
    from pytailcall.bench import examples as ex
    from pytailcall.bench.measure import Pair, Settings, measure, time_loop

    row: dict[str, Any] = {"library": library.key, "api": library.api, "pip": library.pip}
    row["version"] = _version(library.pip or "pytailcall")
    if library.pip is None:
        strategy = library.options["*"]["strategy"]
        if strategy not in ex.available_strategies():
            row["unusable"] = f"strategy {strategy!r} not available in this pytailcall"
            return row
    try:
        module, refused = build_workload(library, index)
    except Exception as exc:
        row["unusable"] = f"{type(exc).__name__}: {_first_line(exc)}"
        return row
    settings = (
        Settings(target_ns=3_000_000, rounds=3, warmup_calls=1)
        if quick
        else Settings(target_ns=10_000_000, rounds=9, warmup_calls=2)
    )
    problems: dict[str, str] = {}
    ratios: dict[str, float | None] = {}
    single: list[str] = []
    if all(name in refused for name in EXAMPLE_FUNCTIONS):
        row["unusable"] = f"refuses every function: {refused[EXAMPLE_FUNCTIONS[0]]}"
        return row
    for case in ex.select():
        name = case.name
        progress(f"{library.key}: {name}")
        func = getattr(module, case.example.name, None)
        if case.example.name in refused or func is None:
            problems[name] = f"refused at decoration: {refused.get(case.example.name, '?')}"
            continue
        expected = case.example.hand_loop(*case.args)
        started = time.perf_counter()
        try:
            got = func(*case.args)
        except RecursionError:
            problems[name] = "RecursionError"
            continue
        except Exception as exc:
            problems[name] = f"{type(exc).__name__}: {_first_line(exc)}"
            continue
        if got != expected:
            problems[name] = "wrong result"
            continue
        took = time.perf_counter() - started
        if took > SLOW_S:  # interleaved rounds would take minutes: one call against the loop
            hand = min(time_loop(case.example.hand_loop, case.args, 1) for _ in range(3))
            ratios[name] = took * 1e9 / hand
            single.append(name)
            continue
        variants = {"library": func, "hand_loop": case.example.hand_loop}
        result = measure(variants, case.args, [Pair("ratio", "library", "hand_loop")], settings)
        ratios[name] = result.ratios["ratio"]
    timed = [r for r in ratios.values() if r is not None]
    row.update(
        problems=problems,
        ratios=ratios,
        single_call=single,
        geometric_mean=_geometric_mean(timed),
        timed=len(timed),
        cases=len(ex.select()),
        semantics=check_semantics(module, refused),
    )
    return row


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
    rows = [measure_library(lib, i, args.quick) for i, lib in enumerate(LIBRARIES)]
    doc = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "quick": args.quick,
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
    errors = [line for line in lines if line.startswith("ERROR") or "Error" in line]
    return _short((errors or lines or ["pip failed"])[-1], 160)


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def prepare(venv: Path, base_python: str) -> dict[str, str]:
    """Create (or reuse) the venv and install everything; distribution -> install error."""
    python = _python_of(venv)
    if not python.exists():
        progress(f"creating a virtual environment in {venv}")
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    failures: dict[str, str] = {}
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
    for pip_name in dict.fromkeys(lib.pip for lib in LIBRARIES if lib.pip):
        progress(f"installing {pip_name}")
        proc = _pip(python, "install", pip_name)
        if proc.returncode:
            failures[pip_name] = _install_error(proc)
    return failures


def _cell(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def markdown(doc: dict[str, Any]) -> str:
    """The report: speed table, semantics table, notes per library, unusable libraries."""
    rows = [row for row in doc["libraries"] if "unusable" not in row]
    out = [
        f"### Tail-call libraries on {doc['implementation']} {doc['python']} ({doc['machine']})",
        "",
        (
            "Time per call over a hand-written `while True` loop (median of interleaved ratios; "
            "lower is better, 1.00x = loop speed). `wrong`/`error`: the result was not the "
            f"loop's, so it was not timed. `*`: one call took over {SLOW_S:g} s, so that one "
            "call was timed against the loop's best of three."
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
            "Semantics, compared with the plain recursive function "
            f"(the last three {DEEP} calls deep):"
        ),
        "",
    ]
    checks = list(SEMANTICS)
    out += ["| library | " + " | ".join(checks) + " |", "|---|" + "---|" * len(checks)]
    for row in rows:
        marks = {
            "ok": "ok",
            "wrong": "**wrong**",
            "not optimized": "not optimized",
            "refused": "refused",
            "fails": "**fails**",
            "n/a": "n/a",
        }
        cells = [marks[row["semantics"][c][0]] for c in checks]
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
        failures = prepare(venv, args.python)
        command = [str(_python_of(venv)), str(Path(__file__).resolve()), "--child"]
        if args.quick:
            command.append("--quick")
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
    for row in doc["libraries"]:
        if row["pip"] in failures:
            row["unusable"] = f"does not install: {failures[row['pip']]}"
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
    args = parser.parse_args(argv)
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
