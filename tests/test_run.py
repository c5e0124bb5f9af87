"""``pytailcall run`` and the import hook: a program runs with every function it defines
optimized, without editing it.

The subprocess tests run real scripts with ``python -m pytailcall run`` and compare with
plain ``python``; the in-process tests cover the transform, the decorator it adds and
``install()`` one behaviour at a time.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import traceback
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pytailcall
from pytailcall import _api, _auto, explain

needs_subprocess = pytest.mark.skipif(
    sys.platform == "emscripten", reason="no subprocesses under Pyodide"
)

DEEP = 100_000

COUNT = """\
import sys

def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)

if __name__ == "__main__":
    print(count(int(sys.argv[1])))
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def python(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``sys.executable`` with ``args``, PYTAILCALL_DISABLE unset unless given, warnings
    shown every time (so a stray TailCallWarning cannot hide behind a filter)."""
    environ = {k: v for k, v in os.environ.items() if k != _api.DISABLE_VARIABLE}
    environ.pop("PYTHONWARNINGS", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-W", "always", *map(str, args)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def without_addresses(text: str) -> str:
    return re.sub(r"0x[0-9a-fA-F]+", "0x...", text)


def run(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return python("-m", "pytailcall", "run", *args, cwd=cwd, **env)


# --- subprocesses -------------------------------------------------------------------------


@needs_subprocess
def test_deep_tail_recursion_runs_and_natively_overflows(tmp_path: Path) -> None:
    script = write(tmp_path, "count.py", COUNT)
    done = run(script, str(DEEP), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{DEEP}\n", "")
    native = python(script, str(DEEP), cwd=tmp_path)
    assert native.returncode == 1
    assert "RecursionError" in native.stderr


SHOW = """\
import json, sys
print(json.dumps({"name": __name__, "argv": sys.argv, "file": __file__,
                  "path0": sys.path[0], "spec": repr(__spec__), "package": __package__,
                  "main": sys.modules["__main__"].__dict__ is globals()}))
"""


@needs_subprocess
def test_argv_name_file_and_path_are_as_with_plain_python(tmp_path: Path) -> None:
    write(tmp_path, "sub/show.py", SHOW)
    args = ("sub/show.py", "a", "--report", "-m", "x y")
    done = run(*args, cwd=tmp_path)
    native = python(*args, cwd=tmp_path)
    assert done.returncode == native.returncode == 0, done.stderr
    assert done.stdout == native.stdout
    assert '"argv": ["sub/show.py", "a", "--report", "-m", "x y"]' in done.stdout
    assert '"main": true' in done.stdout and '"name": "__main__"' in done.stdout


@needs_subprocess
def test_exit_status_of_sys_exit(tmp_path: Path) -> None:
    script = write(tmp_path, "leave.py", "import sys\nprint('bye')\nsys.exit(3)\n")
    done = run(script, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (3, "bye\n", "")
    message = write(tmp_path, "message.py", "import sys\nsys.exit('no good')\n")
    done = run(message, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, "no good\n")


BOOM = """\
def descend(n):
    if n == 0:
        raise ValueError("bottom reached")
    return descend(n - 1)

descend(50_000)
"""


@needs_subprocess
def test_uncaught_exception_prints_the_users_traceback_and_exits_1(tmp_path: Path) -> None:
    script = write(tmp_path, "boom.py", BOOM)
    done = run(script, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert f'  File "{script}", line 6, in <module>' in lines
    assert f'  File "{script}", line 3, in descend' in lines
    assert lines[-1] == "ValueError: bottom reached"
    assert "pytailcall" not in done.stderr.replace(str(tmp_path), "")  # none of our frames


INTERRUPTED = """\
import atexit, threading

class Farewell:
    def __del__(self):
        print("__del__ at shutdown", flush=True)

def suspended():
    try:
        yield
    finally:
        print("generator finalised", flush=True)

keep = Farewell()
paused = suspended()
next(paused)
unflushed = open("buffered.txt", "w")  # still open at the interrupt: shutdown closes it
unflushed.write("written at shutdown\\n")
atexit.register(lambda: print("atexit handler ran", flush=True))
printed = threading.Event()
threading.Thread(target=lambda: printed.wait() and print("thread finished", flush=True)).start()
print("before the interrupt", end="")
printed.set()

def spin(n):
    if n == 0:
        raise KeyboardInterrupt
    return spin(n - 1)

spin(20)
"""


@needs_subprocess
@pytest.mark.skipif(os.name != "posix", reason="a process dies of SIGINT on POSIX only")
def test_uncaught_keyboard_interrupt_ends_the_process_as_natively(tmp_path: Path) -> None:
    """Natively the interpreter prints the traceback, shuts down as usual (threads, atexit,
    objects and generators finalised, files flushed and closed) and then kills itself with
    SIGINT: a parent sees a signal (returncode -2), not an exit status."""
    script = write(tmp_path, "interrupted.py", INTERRUPTED)
    native = python(script, cwd=tmp_path)
    written_natively = (tmp_path / "buffered.txt").read_text()
    (tmp_path / "buffered.txt").unlink()
    optimized = run(script, cwd=tmp_path)
    assert native.returncode == -2
    first = "before the interrupt" + "thread finished\natexit handler ran\n"
    assert native.stdout.startswith(first)
    assert {"__del__ at shutdown", "generator finalised"} <= set(native.stdout.splitlines())
    assert written_natively == "written at shutdown\n"
    assert (optimized.returncode, optimized.stdout) == (native.returncode, native.stdout)
    assert (tmp_path / "buffered.txt").read_text() == written_natively
    assert "KeyboardInterrupt" in optimized.stderr.splitlines()
    # after the traceback: the same shutdown (-W always shows the file closed there)
    assert optimized.stderr.splitlines()[-1] == native.stderr.splitlines()[-1]
    assert optimized.stderr.count(", in spin") == 1  # the elided calls leave no frames


@needs_subprocess
def test_a_subclass_of_keyboard_interrupt_exits_with_1_as_natively(tmp_path: Path) -> None:
    script = write(tmp_path, "sub.py", "class Stop(KeyboardInterrupt):\n    pass\n\nraise Stop\n")
    native = python(script, cwd=tmp_path)
    optimized = run(script, cwd=tmp_path)
    assert native.returncode == optimized.returncode == 1
    assert optimized.stderr.splitlines()[-1] == native.stderr.splitlines()[-1]
    assert native.stderr.splitlines()[-1].endswith("Stop")


@needs_subprocess
def test_main_returns_the_status_of_an_interrupted_program_and_leaves_the_caller_alone(
    tmp_path: Path,
) -> None:
    """Only the entry points end the process; ``main()`` called from a program returns."""
    write(tmp_path, "interrupted.py", "raise KeyboardInterrupt\n")
    host = write(tmp_path, "host.py", """\
        import atexit
        from pytailcall.cli import main
        atexit.register(lambda: print("host atexit", flush=True))
        print("main returned", main(["run", "interrupted.py"]), flush=True)
        """)
    done = python(host, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "main returned -2\nhost atexit\n")
    assert done.stderr.splitlines()[-1] == "KeyboardInterrupt"


LOOP_UNTIL_INTERRUPTED = """\
import sys

def forever(n):
    if n == 1000:
        print("ready", flush=True)  # from inside the loop: the signal cannot land outside it
    return forever(n + 1)

forever(0)
"""


@needs_subprocess
@pytest.mark.skipif(os.name != "posix", reason="a process dies of SIGINT on POSIX only")
def test_ctrl_c_stops_an_endless_optimized_loop(tmp_path: Path) -> None:
    """SIGINT reaches an optimized loop that never returns (it checks for signals as a call
    would) and the process ends as an interrupted program.  No timing: the signal is sent
    once the program has said it is running."""
    script = write(tmp_path, "forever.py", LOOP_UNTIL_INTERRUPTED)
    environ = {k: v for k, v in os.environ.items() if k != _api.DISABLE_VARIABLE}
    with subprocess.Popen(
        [sys.executable, "-m", "pytailcall", "run", str(script)],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A test run started in the background (``nohup cmd &``) ignores SIGINT, and the
        # child would inherit that: Python only handles SIGINT it finds at its default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()  # (or leaving the with block would wait for it forever)
            raise
    assert process.returncode == -2
    assert stderr.splitlines()[-1] == "KeyboardInterrupt"
    assert ", in forever" in stderr


@needs_subprocess
def test_missing_script_is_one_line_and_status_2(tmp_path: Path) -> None:
    done = run("nowhere.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("pytailcall: error: can't open file")


@needs_subprocess
def test_module_form_runs_a_module_of_a_package(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/count.py", COUNT)
    write(tmp_path, "pkg/show.py", SHOW)
    write(tmp_path, "pkg/__main__.py", "from pkg.count import count\nprint(count(5))\n")
    done = run("-m", "pkg.count", str(DEEP), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{DEEP}\n", "")
    done = run("-m", "pkg.show", "a", cwd=tmp_path)
    native = python("-m", "pkg.show", "a", cwd=tmp_path)
    assert done.returncode == native.returncode == 0, done.stderr
    assert without_addresses(done.stdout) == without_addresses(native.stdout)
    assert '"argv": ["' + str(tmp_path / "pkg" / "show.py") + '", "a"]' in done.stdout
    done = run("-m", "pkg", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "5\n"), done.stderr
    missing = run("-m", "pkg.nothing", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == "pytailcall: error: no module named 'pkg.nothing'\n"


CAPTURED = """\
import functools, pickle, sys
from pytailcall import explain

registry = []

def register(func):
    registry.append(func)
    return func

@register
def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)

table = {"count": count}

def _less(a, b):
    return a < b

@functools.total_ordering
class Version:
    def __init__(self, v):
        self.v = v
    def __eq__(self, other):
        return self.v == other.v
    def __lt__(self, other):
        return _less(self.v, other.v)

print(explain(registry[0]).applied, registry[0] is count, table["count"] is count)
print(explain(Version.__lt__).applied, Version(1) <= Version(2))
print(pickle.loads(pickle.dumps(count)) is count, table["count"](DEEP))
"""


@needs_subprocess
def test_functions_captured_at_definition_are_the_optimized_ones(tmp_path: Path) -> None:
    script = write(tmp_path, "captured.py", CAPTURED.replace("DEEP", str(DEEP)))
    done = run(script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"True True True\nTrue True\nTrue {DEEP}\n"
    assert done.stderr == ""


NOTHING = """\
import functools

def add(a, b):
    x = a + b
    return x

def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1) or 1

def mixed(n):
    if n > 10:
        return mixed(n - 1)
    return n + mixed(n - 1) if n > 0 else 0

def numbers():
    yield from range(3)

async def later():
    return add(1, 2)

@functools.lru_cache
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Point:
    def __init__(self, x):
        self.x = x
    @property
    def double(self):
        return self.x * 2

print(add(1, 2), factorial(5), mixed(12), list(numbers()), fib(20), Point(2).double)
"""


@needs_subprocess
def test_program_with_nothing_to_optimize_runs_without_warnings(tmp_path: Path) -> None:
    script = write(tmp_path, "nothing.py", NOTHING)
    done = run("--report", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == python(script, cwd=tmp_path).stdout == "3 120 55 [0, 1, 2] 6765 4\n"
    # factorial()'s call is followed by a branch (`or`): refused, and no warning about it.
    # fib()'s second call would save its context, but the name is the lru_cache wrapper:
    # its calls are normal calls, and no warning says so either (the user did not ask).
    assert done.stderr == (
        f"pytailcall: optimized mixed() at {script}:10\n"
        f"pytailcall: optimized fib() at {script}:21\npytailcall: 2 functions optimized\n"
    )


REPORTED = """\
import sys

def count(n):
    return n if n == 0 else count(n - 1)

def is_even(n):
    return True if n == 0 else is_odd(n - 1)

def is_odd(n):
    return False if n == 0 else is_even(n - 1)

def outer(n):
    def inner(k):
        return k if k == 0 else inner(k - 1)
    return inner(n) + 1

print(count(10), is_even(DEEP), outer(3), outer(4))
sys.exit(4)
"""


@needs_subprocess
def test_report_lists_the_optimized_functions_after_the_run(tmp_path: Path) -> None:
    script = write(tmp_path, "reported.py", REPORTED.replace("DEEP", str(DEEP)))
    done = run("--report", script, cwd=tmp_path)
    assert done.returncode == 4
    assert done.stdout == "0 True 1 1\n"
    assert done.stderr.splitlines() == [
        f"pytailcall: optimized count() at {script}:3",
        f"pytailcall: optimized is_even() at {script}:6",
        f"pytailcall: optimized is_odd() at {script}:9",
        f"pytailcall: optimized outer.<locals>.inner() at {script}:13",
        "pytailcall: 4 functions optimized",
    ]
    silent = run(script, cwd=tmp_path)
    assert (silent.returncode, silent.stderr) == (4, "")


HOOKED = """\
import mine, other
from pytailcall import explain
print(explain(mine.count).applied, hasattr(other.count, "__wrapped__"))
print(mine.count(DEEP))
"""


@needs_subprocess
def test_module_pattern_optimizes_the_named_modules_only(tmp_path: Path) -> None:
    write(tmp_path, "mine.py", COUNT)
    write(tmp_path, "other.py", COUNT)
    script = write(tmp_path, "main.py", HOOKED.replace("DEEP", str(DEEP)))
    done = run("--module-pattern", "mine", "--report", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"True False\n{DEEP}\n"
    assert f"pytailcall: optimized count() at {tmp_path / 'mine.py'}:3" in done.stderr
    assert "other.py" not in done.stderr
    assert not (tmp_path / "__pycache__").exists() or not any(
        path.name.startswith("mine.") for path in (tmp_path / "__pycache__").iterdir()
    )


@needs_subprocess
def test_disable_variable_runs_everything_native(tmp_path: Path) -> None:
    script = write(tmp_path, "count.py", COUNT)
    done = run("--report", script, str(DEEP), cwd=tmp_path, PYTAILCALL_DISABLE="1")
    assert done.returncode == 1
    assert "RecursionError" in done.stderr
    assert done.stderr.endswith("pytailcall: 0 functions optimized\n")
    write(tmp_path, "mine.py", COUNT)
    write(tmp_path, "other.py", COUNT)
    hooked = write(tmp_path, "main.py", HOOKED.replace("DEEP", "10"))
    done = run("--module-pattern", "mine", hooked, cwd=tmp_path, PYTAILCALL_DISABLE="1")
    assert (done.returncode, done.stdout) == (0, "False False\n10\n"), done.stderr
    shallow = run(script, "10", cwd=tmp_path, PYTAILCALL_DISABLE="0")
    assert (shallow.returncode, shallow.stdout) == (0, "10\n")


# --- in process ---------------------------------------------------------------------------


def load(source: str, filename: str = "<auto-test>") -> dict[str, Any]:
    """``source`` transformed and executed in a fresh module namespace."""
    source = textwrap.dedent(source)
    namespace: dict[str, Any] = {"__name__": "auto_test"}
    code = _auto.compile_source(source, filename)
    _auto.prepare(namespace, code)
    exec(code, namespace)
    return namespace


def test_transform_adds_the_decorator_innermost_at_every_level() -> None:
    tree = ast.parse(
        textwrap.dedent("""\
        @outer
        def f():
            def g():
                pass
        class C:
            @staticmethod
            def m():
                pass
        async def a():
            def inside():
                pass
        lam = lambda: 0
    """)
    )
    text = ast.unparse(_auto.transform(tree))
    helper = f"@{_auto.HELPER}"
    assert f"@outer\n{helper}\ndef f():\n\n    {helper}\n    def g():" in text
    assert f"@staticmethod\n    {helper}\n    def m():" in text
    assert f"async def a():\n\n    {helper}\n    def inside():" in text
    assert text.count(helper) == 4


def test_transform_keeps_line_numbers() -> None:
    namespace = load("""\
        import functools

        @functools.wraps(print)
        def decorated(n):
            return decorated(n - 1) if n else 0

        def fail(n):
            if n == 0:
                raise KeyError(n)
            return fail(n - 1)
    """)
    fail = namespace["fail"]
    assert explain(fail).applied
    assert fail.__code__.co_firstlineno == 7
    assert namespace["decorated"].__code__.co_firstlineno == 3
    with pytest.raises(KeyError) as info:
        fail(3)
    lines = [frame.lineno for frame in traceback.extract_tb(info.value.__traceback__)]
    assert lines[-1] == 9


def test_decorate_optimizes_a_tail_recursive_function() -> None:
    count = load(COUNT)["count"]
    assert explain(count).applied
    assert count(DEEP) == DEEP


def test_decorate_drops_the_name_guard_only_when_the_variable_asks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = load("""
    def count(n, acc=0):
        return acc if n == 0 else count(n - 1, acc + 1)
    """)
    guarded = explain(namespace["count"]).sites[0].via
    assert guarded == "jump"
    monkeypatch.setenv(_api.NO_NAME_GUARD_VARIABLE, "1")
    namespace = load("""
    def count(n, acc=0):
        return acc if n == 0 else count(n - 1, acc + 1)
    """)
    assert explain(namespace["count"]).sites[0].via == (
        "jump, without the name guard (name_guard=False)")
    assert namespace["count"](DEEP) == DEEP


def test_decorate_returns_the_same_object_when_nothing_is_optimizable() -> None:
    namespace = load("""\
        def add(a, b):
            return a + b
        def factorial(n):
            return 1 if n <= 1 else n * factorial(n - 1) or 1
        def gen(n):
            if n:
                yield n
                return gen(n - 1)
        async def coro(n):
            return await coro(n - 1)
    """)
    for name in ("add", "factorial", "gen", "coro"):
        assert "__wrapped__" not in namespace[name].__dict__, name
    assert _auto.decorate(len) is len
    assert _auto.decorate(int) is int


def load_recording_warnings(source: str) -> tuple[dict[str, Any], list[Any]]:
    """``load(source)``, and every warning it raised (the suite turns TailCallWarning into
    an error: a warning would otherwise fail the load)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        namespace = load(source)
    return namespace, caught


def test_decorate_never_warns() -> None:
    namespace, caught = load_recording_warnings("""\
            def mixed(n):
                if n > 10:
                    return mixed(n - 1)
                return n + mixed(n - 1) if n > 0 else 0
            def wrapper(*args):
                return print(*args)
        """)
    assert caught == []
    assert explain(namespace["mixed"]).applied and namespace["mixed"](12) == 55
    assert explain(namespace["wrapper"]).applied


@needs_subprocess
def test_a_finalizer_defining_a_function_while_one_is_decorated(tmp_path: Path) -> None:
    """On 3.12+ the collector runs finalizers where the interpreter checks for pending work,
    which may be in the middle of decorating a function; a finalizer that defines one gets
    it decorated there, in the same thread (it waited for itself, found by review)."""
    script = write(tmp_path, "finalizers.py", """\
        import faulthandler, gc
        faulthandler.dump_traceback_later(30, exit=True)
        gc.set_threshold(1)

        class Node:
            def __init__(self):
                self.me = self  # a cycle: freed by the collector, which runs __del__

            def __del__(self):
                def walk(n, acc=0):
                    return acc if n == 0 else walk(n - 1, acc + 1)
                walk(3)

        def work():
            def inner(n, acc=0):
                return acc if n == 0 else inner(n - 1, acc + n)
            Node()
            return inner(5)

        print(sum(work() for _ in range(5000)))
        """)
    done = run(script, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "75000\n", "")


def test_decorate_never_warns_of_a_refused_call_or_a_broken_promise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``@tail_optimize`` warns about (a call left normal, ``name_guard=False`` not
    applied where the name is rebound) the hook keeps quiet about, and does all the same."""
    monkeypatch.setenv(_api.NO_NAME_GUARD_VARIABLE, "1")
    namespace, caught = load_recording_warnings("""\
            def partly(n):
                if n > 100:
                    return partly(n - 1)
                try:
                    return partly(n - 1) if n else 0
                finally:
                    pass
            def rebinds(n):
                global rebinds
                if n == 3:
                    rebinds = lambda m: ("rebound", m)
                return rebinds(n - 1) if n else 0
        """)
    assert caught == []
    sites = explain(namespace["partly"]).sites
    assert [site.optimized for site in sites] == [True, False]
    assert namespace["partly"](150) == 0
    assert explain(namespace["rebinds"]).sites[0].via.startswith(
        "jump, with the name guard: name_guard=False is not applied")
    assert namespace["rebinds"](6) == ("rebound", 2)


NESTED = """\
def outer(n):
    def inner(k, acc):
        return acc if k == 0 else inner(k - 1, acc + 1)
    return inner
"""


def test_nested_functions_are_optimized_each_time_they_are_defined() -> None:
    outer = load(NESTED)["outer"]
    first, second = outer(1), outer(2)
    assert first is not second
    assert explain(first).applied and explain(second).applied
    assert second(DEEP, 0) == DEEP


def test_optimized_functions_are_listed_once_per_code_object() -> None:
    outer = load(NESTED, filename="<listed-once>")["outer"]
    outer(1), outer(2)  # one inner() defined twice: one function, listed once
    entries = [entry for entry in _auto.optimized() if entry.filename == "<listed-once>"]
    assert entries == [_auto.Optimized("outer.<locals>.inner", "<listed-once>", 2)]
    load(NESTED, filename="<listed-once>")["outer"](3)  # compiled again: another function
    assert len([e for e in _auto.optimized() if e.filename == "<listed-once>"]) == 2


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[Path]:
    """A folder first on ``sys.path`` for the test's modules, and everything the hook or
    the imports added removed afterwards."""
    before = set(sys.modules)
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    try:
        yield tmp_path
    finally:
        _auto.uninstall()
        sys.path.remove(str(tmp_path))
        for name in set(sys.modules) - before:
            del sys.modules[name]


def test_install_optimizes_matching_modules_only(hook: Path) -> None:
    write(hook, "auto_pkg/__init__.py", COUNT)
    write(hook, "auto_pkg/sub/__init__.py", "")
    write(hook, "auto_pkg/sub/deep.py", COUNT)
    write(hook, "auto_plain.py", COUNT)
    pytailcall.install(["auto_pkg.*"])
    deep = importlib.import_module("auto_pkg.sub.deep")
    package = importlib.import_module("auto_pkg")
    plain = importlib.import_module("auto_plain")
    assert explain(deep.count).applied and deep.count(DEEP) == DEEP
    assert not explain(package.count).applied  # "pkg.*" is the submodules only
    assert not explain(plain.count).applied
    assert not (hook / "auto_pkg/sub/__pycache__").exists()  # nothing cached


def test_uninstall_removes_the_hook(hook: Path) -> None:
    write(hook, "auto_later.py", COUNT)
    pytailcall.install(["auto_later"])
    assert any(isinstance(finder, _auto._Finder) for finder in sys.meta_path)
    pytailcall.uninstall()
    assert not any(isinstance(finder, _auto._Finder) for finder in sys.meta_path)
    module = importlib.import_module("auto_later")
    assert not explain(module.count).applied


def test_install_honours_the_disable_variable(hook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(hook, "auto_disabled.py", COUNT)
    monkeypatch.setenv(_api.DISABLE_VARIABLE, "1")
    pytailcall.install(["auto_disabled"])
    module = importlib.import_module("auto_disabled")
    assert not explain(module.count).applied
    assert _auto.HELPER not in vars(module)


def test_install_wants_a_list_of_names() -> None:
    with pytest.raises(TypeError, match="not one string"):
        pytailcall.install("mypackage")
    with pytest.raises(TypeError, match="non-empty string"):
        pytailcall.install([""])
    assert not any(isinstance(finder, _auto._Finder) for finder in sys.meta_path)


def test_helper_is_the_only_name_added_to_globals() -> None:
    namespace = load("x = 1\ndef f():\n    pass\n")
    assert set(namespace) == {"__name__", "__builtins__", _auto.HELPER, "x", "f"}
    assert isinstance(namespace[_auto.HELPER], types.FunctionType)


@pytest.mark.parametrize("where", ["module", "class"])
def test_a_module_without_a_def_gets_no_helper(hook: Path, where: str) -> None:
    """Code that lists a module's callables (toolz's tests do) finds nothing of ours in a
    module the hook decorated nothing in; where a def is (in a class body too: code nested
    in the module's), the helper is."""
    defined = {"module": "def f():\n    pass\n",
               "class": "x = [lambda: 0 for _ in ()]\nclass C:\n    def m(self):\n"
                        "        pass\n"}[where]
    write(hook, f"auto_none_{where}.py", "import operator\nadd = operator.add\n")
    write(hook, f"auto_some_{where}.py", defined)
    pytailcall.install([f"auto_none_{where}", f"auto_some_{where}"])
    assert _auto.HELPER not in vars(importlib.import_module(f"auto_none_{where}"))
    assert _auto.HELPER in vars(importlib.import_module(f"auto_some_{where}"))
