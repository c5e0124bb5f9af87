"""The import hook on real code nobody here wrote: the standard library (issue 11).

    python tools/stdlib_hook.py                 # count, then run the default test modules
    python tools/stdlib_hook.py --quick         # count, then test_json and test_email only
    python tools/stdlib_hook.py --all           # count, then every test module it knows
    python tools/stdlib_hook.py --count-only    # the count alone (about 15 s)
    python tools/stdlib_hook.py --tests test_json,test_email --top 30
    python tools/stdlib_hook.py --all --executed   # also: how many optimized functions ran
    python tools/stdlib_hook.py --use cpu       # libregrtest resources, in both runs
    python tools/stdlib_hook.py --list          # the test modules it knows and what they hook

Run it with the interpreter to measure (``/work/venv-3.12/bin/python tools/stdlib_hook.py``):
the counts and the test results are those of that interpreter's bytecode and standard
library.  It needs CPython's ``test`` package (``python -m test``), which some distributions
ship separately.  Not part of the default test suite: a full run takes minutes of CPU.

Why: :func:`pytailcall.install` rewrites every ``def`` of the modules it matches so that the
function is optimized as it is defined (see ``src/pytailcall/_auto.py``).  Our own tests use
code written for pytailcall; this script checks it on code that was not, in two steps.

1. **Count.**  For every ``.py`` file of the running interpreter's standard library
   (``sysconfig`` ``stdlib``; without ``test/`` and other ``test``/``tests`` directories,
   ``idlelib``, ``tkinter``, ``turtledemo``, ``site-packages``, and files that do not
   compile), how many ``def`` functions (methods and nested ones included) the hook would
   optimize.  The files are compiled, not imported: importing the whole standard library
   runs its side effects (``antigravity`` opens a browser, ``this`` prints, some modules
   exist only on other platforms).  The decision is the hook's own, :func:`_auto.decorate`,
   applied to a function made from each ``def``'s code object (empty globals, empty closure
   cells).  That is exact because what ``decorate`` looks at is the code only: its flags
   (generators and coroutines are left alone) and ``explain()``, whose analysis reads
   ``func.__code__`` alone; ``tail_optimize`` then rewrites that code.  The code of a
   ``def`` is the same whether or not the hook added its decorator.  A code object is a
   ``def``'s when it is a function's (``CO_OPTIMIZED``) and its name and first line are
   those of a ``def`` in the module's syntax tree: lambdas, comprehensions and the lazy
   scopes of ``type`` aliases are function code too; a ``def`` under ``if False:`` has none.
2. **Run CPython's own tests.**  Each chosen test module runs twice, in a fresh process,
   through ``python -m test`` (``test.libregrtest``, sequentially, in-process):
   natively, and with ``pytailcall.install([mod, mod + ".*", ...])`` for the modules it
   exercises.  Both runs start from the same small bootstrap (it imports pytailcall in
   both, so that they differ only by the hook), which installs the hook *before*
   ``test.libregrtest`` is imported, records which matching modules were imported before
   that point (none must be: the hook only affects later imports, and pytailcall itself
   imports ``ast``, ``inspect``, ``re``, ``textwrap``... which is why ``test_ast`` and
   ``test_textwrap`` are not in the list), and at exit writes the functions the hook
   optimized.  Results come from libregrtest's ``--junit-xml`` (one entry per test method;
   a test whose subtests failed has no status there and counts as failed).  Modules that a
   test imports afresh (``import_fresh_module``, e.g. the pure-Python ``json`` of
   ``test_json``) go through the hook too; subprocesses a test starts
   (``python -m json.tool``) do not.  ``test_unittest`` hooks ``unittest``, so the
   framework running every test of that module is optimized too.  By hand, for one module:
   ``python -m pytailcall run --report --module-pattern json --module-pattern 'json.*'
   -m test test_json`` (``--report`` lists a function once per import).

The exit status is 1 when a hooked run does worse than the native one (a test that fails
only with the hook, fewer tests run, a worse libregrtest status) or is not valid (a module
under test was imported before the hook, or none of its functions the count says could be
optimized was), else 0.  The logs and junit files of such a run are kept (``--keep DIR``
keeps them always).
"""

from __future__ import annotations

import argparse
import ast
import collections
import dataclasses
import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
import types
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

from pytailcall import _auto, explain

#: Directories of the standard library that are not counted (tests, GUI, demos, third party).
EXCLUDED_DIRS = frozenset({"test", "tests", "idlelib", "tkinter", "turtledemo", "site-packages"})

#: ``co_flags`` bit set on the code of functions (not on module or class bodies).
CO_OPTIMIZED = 0x1
#: Code flags of coroutines and async generators: ``async def``, which the hook leaves alone.
ASYNC_FLAGS = 0x80 | 0x100 | 0x200


@dataclasses.dataclass(frozen=True)
class TestModule:
    """A CPython test module and the standard-library modules it exercises (each hooked
    with its submodules)."""

    name: str
    modules: tuple[str, ...]

    @property
    def patterns(self) -> list[str]:
        return [pattern for module in self.modules for pattern in (module, f"{module}.*")]


#: Test modules that exercise modules with many functions to optimize, run in well under a
#: minute natively, and whose modules pytailcall (or the interpreter) does not import itself.
KNOWN_TESTS = {
    test.name: test
    for test in (
        TestModule("test_json", ("json",)),
        TestModule("test_email", ("email",)),
        TestModule("test_pprint", ("pprint",)),
        TestModule("test_tomllib", ("tomllib",)),
        TestModule("test_difflib", ("difflib",)),
        TestModule("test_argparse", ("argparse",)),
        TestModule("test_configparser", ("configparser",)),
        TestModule("test_decimal", ("decimal", "_pydecimal")),
        TestModule("test_statistics", ("statistics", "fractions")),
        TestModule("test_zipfile", ("zipfile",)),
        TestModule("test_calendar", ("calendar",)),
        TestModule("test_xml_etree", ("xml",)),
        TestModule("test_datetime", ("datetime", "_pydatetime")),
        TestModule("test_base64", ("base64",)),
        TestModule("test_mailbox", ("mailbox",)),
        TestModule("test_unittest", ("unittest",)),
        TestModule("test_logging", ("logging",)),
        TestModule("test_imaplib", ("imaplib",)),
        TestModule("test_urllib2", ("urllib.request",)),
        TestModule("test_io", ("_pyio",)),
    )
}
#: The modules with the most functions to optimize, and test_json (named in the issue).
DEFAULT_TESTS = ("test_decimal", "test_email", "test_datetime", "test_statistics",
                 "test_zipfile", "test_json")
QUICK_TESTS = ("test_json", "test_email")


# --- 1. the count -------------------------------------------------------------------------


@dataclasses.dataclass
class ModuleCount:
    """The ``def`` functions of one standard-library file and what the hook does to them."""

    module: str
    defs: int = 0  # every def, async def included
    optimized: int = 0  # decorate() returned an optimized function
    self_calls: int = 0  # ... of which with a call to itself made a jump (recursion)
    own_methods: int = 0  # ... with ``self.name(...)`` in ``name``, a jump when it is itself
    contexts: int = 0  # ... of which with a call to itself whose work after it is saved
    refused: int = 0  # explain() shows something to optimize but decorate() left it


def stdlib_files(stdlib: Path) -> Iterator[Path]:
    """The ``.py`` files of the standard library to count, in a stable order."""
    for path in sorted(stdlib.rglob("*.py")):
        if not EXCLUDED_DIRS.intersection(path.relative_to(stdlib).parts[:-1]):
            yield path


def module_name(stdlib: Path, path: Path) -> str:
    parts = list(path.relative_to(stdlib).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and every code object nested in it, depth first."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


def def_starts(tree: ast.Module) -> set[tuple[str, int]]:
    """The name and first line (its first decorator's, as in ``co_firstlineno``) of every
    ``def`` and ``async def`` in ``tree``."""
    return {(node.name, min([node.lineno, *(d.lineno for d in node.decorator_list)]))
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def is_def(code: types.CodeType, starts: set[tuple[str, int]]) -> bool:
    """Whether ``code`` is the code of a ``def`` or ``async def``: a function's (not a
    module's or class body's), named and placed as one of ``starts`` (not a lambda, a
    comprehension, or the lazily evaluated scope of a ``type`` alias or a type parameter's
    bound, which are function code too)."""
    return bool(code.co_flags & CO_OPTIMIZED) and (code.co_name, code.co_firstlineno) in starts


def function_of(code: types.CodeType) -> types.FunctionType:
    """A function with ``code``, as the ``def`` would make it, minus globals and cell
    contents, which the hook's decision does not read."""
    closure = tuple(types.CellType() for _ in code.co_freevars)
    return types.FunctionType(code, {}, code.co_name, None, closure)


def count_file(stdlib: Path, path: Path) -> ModuleCount | None:
    """What the hook would do to the ``def``\\ s of ``path``; None if it does not compile."""
    try:
        tree = ast.parse(path.read_bytes(), str(path))
        module_code = compile(tree, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    starts = def_starts(tree)
    count = ModuleCount(module_name(stdlib, path))
    for code in code_objects(module_code):  # a def compiled away (if False:) has no code
        if not is_def(code, starts):
            continue
        count.defs += 1
        if code.co_flags & ASYNC_FLAGS:
            continue  # async def: no decorator added
        func = function_of(code)
        if _auto.decorate(func) is not func:  # the hook's own decision, and its rewrite
            count.optimized += 1
            vias = [site.via or "" for site in explain(func).sites]
            if "jump" in vias:
                count.self_calls += 1
            if any(via.startswith("jump when the method found") for via in vias):
                count.own_methods += 1
            if any("modulo context" in via for via in vias):
                count.contexts += 1
        elif _auto._has_something_to_optimize(func):
            count.refused += 1  # explain() said yes, tail_optimize() raised
    return count


@dataclasses.dataclass
class StdlibCount:
    stdlib: Path
    modules: list[ModuleCount]
    not_compiled: list[str]
    seconds: float

    def total(self, field: str) -> int:
        return sum(getattr(module, field) for module in self.modules)


def count_stdlib() -> StdlibCount:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    start = time.perf_counter()
    modules: list[ModuleCount] = []
    not_compiled: list[str] = []
    for path in stdlib_files(stdlib):
        count = count_file(stdlib, path)
        if count is None:
            not_compiled.append(module_name(stdlib, path))
        else:
            modules.append(count)
    return StdlibCount(stdlib, modules, not_compiled, time.perf_counter() - start)


def print_count(result: StdlibCount, top: int) -> None:
    defs, optimized = result.total("defs"), result.total("optimized")
    print(f"## Standard library of Python {sys.version.split()[0]} ({result.stdlib})\n")
    print(f"{len(result.modules)} modules, {defs} def functions, {optimized} optimized by the "
          f"hook ({optimized / max(defs, 1):.1%}); {result.total('self_calls')} of them with a "
          f"tail call to itself made a jump, {result.total('own_methods')} with a method tail "
          f"call to its own name that jumps when the method found is itself, "
          f"{result.total('contexts')} with a call to itself "
          f"whose remaining work is saved for the return (modulo context), the others only "
          f"with tail calls that bounce when the callee is an optimized function or a method "
          f"bound to one. "
          f"{result.total('refused')} that explain() accepts but tail_optimize() refuses. "
          f"Not compiled: {', '.join(result.not_compiled) or 'none'}. "
          f"({result.seconds:.0f} s)\n")
    print("| module | defs | optimized | with a jump | with a saved context |")
    print("|---|---:|---:|---:|---:|")
    ranked = sorted(result.modules, key=lambda module: (-module.optimized, module.module))
    for module in ranked[:top]:
        print(f"| {module.module} | {module.defs} | {module.optimized} | {module.self_calls} "
              f"| {module.contexts} |")
    print()


# --- 2. CPython's tests, natively and hooked -----------------------------------------------


#: Runs ``python -m test ARGS`` in the same process, optionally after installing the hook:
#: ``python -c BOOTSTRAP OUTPUT native|hooked|executed PATTERN... -- ARGS``.  It imports
#: nothing that a test module may want to hook (no json: the output is tab-separated text).
#: ``executed`` is ``hooked`` plus a ``sys.monitoring`` tool (3.12+) that records which
#: optimized functions start at least once: each code object's first start, then DISABLE.
BOOTSTRAP = r"""
import sys
output, mode, *rest = sys.argv[1:]
split = rest.index("--")
patterns, test_args = rest[:split], rest[split + 1:]
import atexit, fnmatch, runpy
import pytailcall
from pytailcall import _auto
early = sorted(name for name in sys.modules
               if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns))
executed = set()
if mode == "executed":
    made_codes = {}
    optimize = _auto.tail_optimize

    def recording_optimize(func, *args, **kwargs):
        made = optimize(func, *args, **kwargs)
        code = func.__code__
        made_codes[made.__code__] = (func.__qualname__, code.co_filename, code.co_firstlineno)
        return made

    def started(code, offset):
        entry = made_codes.get(code)
        if entry is not None:
            executed.add(entry)
        return sys.monitoring.DISABLE

    _auto.tail_optimize = recording_optimize
    TOOL = 4
    sys.monitoring.use_tool_id(TOOL, "stdlib_hook")
    sys.monitoring.register_callback(TOOL, sys.monitoring.events.PY_START, started)
    sys.monitoring.set_events(TOOL, sys.monitoring.events.PY_START)
if mode != "native":
    pytailcall.install(patterns)

def write_what_was_optimized():
    with open(output, "w", encoding="utf-8") as stream:
        for name in early:
            print("early", name, sep="\t", file=stream)
        for entry in _auto.optimized():
            print("optimized", entry.qualname, entry.filename, entry.lineno, sep="\t",
                  file=stream)
        for qualname, filename, lineno in executed:
            print("executed", qualname, filename, lineno, sep="\t", file=stream)

atexit.register(write_what_was_optimized)
sys.argv[:] = ["test", *test_args]
runpy.run_module("test", run_name="__main__", alter_sys=True)
"""


@dataclasses.dataclass
class Outcome:
    """One run of one test module."""

    mode: str
    returncode: int
    seconds: float
    counts: collections.Counter[str]
    failing: set[str]
    early: list[str]  # modules under test already imported when the hook was installed
    optimized: int  # distinct functions of the modules under test the hook optimized
    executed: int  # ... that ran (mode "executed" only)
    log: Path

    def summary(self) -> str:
        counts = self.counts
        text = (f"{counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['skipped']} skipped")
        if counts["expected failure"] or counts["unexpected success"]:
            text += (f", {counts['expected failure']} xfail, "
                     f"{counts['unexpected success']} xpass")
        return text


def read_junit(path: Path) -> tuple[collections.Counter[str], set[str]]:
    """Counts of the test methods by result, and the ids of those that failed."""
    counts: collections.Counter[str] = collections.Counter()
    failing: set[str] = set()
    if not path.exists():
        return counts, failing
    for case in ET.parse(path).iter("testcase"):
        name = case.get("name", "?")
        # A test whose subtests failed has no status: addSubTest() never reports the case.
        if (case.find("error") is not None or case.find("failure") is not None
                or case.get("status") is None):
            result = "failed"
        elif case.find("skipped") is not None:
            result = "skipped"
        elif case.find("output") is not None:
            result = "expected failure"
        elif case.find("outcome") is not None:
            result = "unexpected success"
        else:
            result = "passed"
        counts[result] += 1
        if result == "failed":
            failing.add(name)
    return counts, failing


def source_paths(modules: Sequence[str]) -> list[str]:
    """The file of each module, or the directory of each package (found, not imported);
    none for a module this version does not have (``_pydatetime`` before 3.12)."""
    paths = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        paths.append(str(origin.parent) + os.sep if spec.submodule_search_locations
                      else str(origin))
    return paths


def static_count(modules: Sequence[str]) -> int:
    """How many functions of these modules' files (a package: every file under it) the hook
    would optimize, counted as in step 1: what a hooked run can optimize at most."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    total = 0
    for path in source_paths(modules):
        files = sorted(Path(path).rglob("*.py")) if path.endswith(os.sep) else [Path(path)]
        for file in files:
            count = count_file(stdlib, file)
            total += 0 if count is None else count.optimized
    return total


def run_test(test: TestModule, mode: str, workdir: Path, timeout: float,
             regrtest_options: Sequence[str] = ()) -> Outcome:
    junit = workdir / f"{test.name}-{mode}.xml"
    report = workdir / f"{test.name}-{mode}.tsv"
    log = workdir / f"{test.name}-{mode}.log"
    command = [sys.executable, "-c", BOOTSTRAP, str(report), mode, *test.patterns, "--",
               "--junit-xml", str(junit), *regrtest_options, test.name]
    env = dict(os.environ)
    env.pop("PYTAILCALL_DISABLE", None)
    start = time.perf_counter()
    with open(log, "wb") as stream:
        try:
            returncode = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT,
                                        env=env, cwd=workdir, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            returncode = -1
    seconds = time.perf_counter() - start
    counts, failing = read_junit(junit)
    early: list[str] = []
    # A module imported afresh (import_fresh_module) is optimized again: count it once.
    found: dict[str, set[tuple[str, ...]]] = {"optimized": set(), "executed": set()}
    paths = tuple(source_paths(test.modules))
    if report.exists():
        for line in report.read_text(encoding="utf-8").splitlines():
            kind, *fields = line.split("\t")
            if kind == "early":
                early.append(fields[0])
            elif kind in found and fields[1].startswith(paths):
                found[kind].add(tuple(fields))
    return Outcome(mode, returncode, seconds, counts, failing, early,
                   len(found["optimized"]), len(found["executed"]), log)


def problems_of(native: Outcome, hooked: Outcome, static: int) -> list[str]:
    """Why the hooked run is worse than the native one, or not a valid comparison."""
    problems = []
    if hooked.early:
        problems.append(f"imported before the hook: {', '.join(hooked.early)}")
    if hooked.optimized == 0 and static > 0:
        problems.append(f"the hook optimized none of the {static} functions it could")
    if native.returncode == 0 and hooked.returncode != 0:
        problems.append(f"exit status {hooked.returncode} (native 0)")
    only_hooked = sorted(hooked.failing - native.failing)
    if only_hooked:
        problems.append(f"fail only with the hook: {', '.join(only_hooked)}")
    ran_native = sum(native.counts.values())
    ran_hooked = sum(hooked.counts.values())
    if ran_hooked < ran_native:
        problems.append(f"{ran_hooked} tests reported, {ran_native} natively")
    return problems


def run_tests(tests: Sequence[TestModule], workdir: Path, timeout: float,
              regrtest_options: Sequence[str] = (), executed: bool = False) -> bool:
    """Run each test natively then hooked, print a table; True if no hooked run is worse."""
    print(f"## CPython's tests, Python {sys.version.split()[0]}, natively and with the hook\n")
    print("| test module | hooked modules | native | hooked | optimized of possible "
          "| native s | hooked s |")
    print("|---|---|---|---|---:|---:|---:|")
    all_good = True
    notes = []
    start = time.perf_counter()
    for test in tests:
        native = run_test(test, "native", workdir, timeout, regrtest_options)
        hooked = run_test(test, "executed" if executed else "hooked", workdir, timeout,
                          regrtest_options)
        static = static_count(test.modules)
        ran = f", {hooked.executed} ran" if executed else ""
        hooked_modules = ", ".join(f"{module}, {module}.*" for module in test.modules)
        print(f"| {test.name} | {hooked_modules} | {native.summary()} | {hooked.summary()} "
              f"| {hooked.optimized} of {static}{ran} "
              f"| {native.seconds:.0f} | {hooked.seconds:.0f} |", flush=True)
        problems = problems_of(native, hooked, static)
        if problems:
            all_good = False
            notes.append(f"- **{test.name}**: {'; '.join(problems)} (logs: {native.log}, "
                         f"{hooked.log})")
    print(f"\n{len(tests)} test modules run twice in {time.perf_counter() - start:.0f} s.")
    for note in notes:
        print(note)
    if not notes:
        print("Every hooked run did as well as the native one.")
    return all_good


# --- the command line ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"run only {' and '.join(QUICK_TESTS)}")
    parser.add_argument("--all", action="store_true", help="run every known test module")
    parser.add_argument("--tests", help="comma-separated test modules to run "
                        f"(default: {','.join(DEFAULT_TESTS)}; see --list)")
    parser.add_argument("--count-only", action="store_true", help="count, run no tests")
    parser.add_argument("--tests-only", action="store_true", help="run the tests, no count")
    parser.add_argument("--use", metavar="RESOURCES",
                        help="libregrtest resources to enable in both runs (its -u, e.g. cpu)")
    parser.add_argument("--executed", action="store_true",
                        help="also count the optimized functions the tests ran (Python 3.12+:"
                        " a sys.monitoring tool in the hooked run)")
    parser.add_argument("--top", type=int, default=20, help="modules listed (default: 20)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds allowed per run of a test module (default: 900)")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="keep the logs and junit files in DIR (default: a temporary "
                        "directory, removed unless a run does worse)")
    parser.add_argument("--list", action="store_true", help="list the known test modules")
    args = parser.parse_args(argv)

    if args.list:
        for test in KNOWN_TESTS.values():
            print(f"{test.name}: {', '.join(test.patterns)}")
        return 0
    names = QUICK_TESTS if args.quick else tuple(KNOWN_TESTS) if args.all else DEFAULT_TESTS
    if args.tests:
        names = tuple(name.strip() for name in args.tests.split(",") if name.strip())
    unknown = [name for name in names if name not in KNOWN_TESTS]
    if unknown:
        parser.error(f"unknown test modules {', '.join(unknown)}; known: "
                     f"{', '.join(KNOWN_TESTS)}")

    if not args.tests_only:
        print_count(count_stdlib(), args.top)
    if args.count_only:
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        workdir = args.keep.resolve()
    else:
        workdir = Path(tempfile.mkdtemp(prefix="stdlib_hook-"))
    options = ["-u", args.use] if args.use else []
    if args.executed and sys.version_info < (3, 12):
        parser.error("--executed needs sys.monitoring: Python 3.12 or later")
    good = run_tests([KNOWN_TESTS[name] for name in names], workdir, args.timeout, options,
                     args.executed)
    if good and not args.keep:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
