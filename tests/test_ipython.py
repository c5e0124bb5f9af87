"""``%load_ext pytailcall`` in a real IPython shell, in process.

Each test runs cells in one ``InteractiveShell`` (history in memory, no colours) with the
extension unloaded and the user namespace reset around it.  Skipped where IPython cannot be
imported (Pyodide has none).
"""

from __future__ import annotations

import builtins
import re
import sys
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("IPython")

from pytailcall import TailCallWarning, _auto
from pytailcall._ipython import CellTransformer

DEEP = 100_000

COUNT = """\
def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)
"""

PLAIN = """\
def plain(n):
    return n + 1
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def _shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One shell for the module.  Creating it changes process-wide state (it installs its
    namespace as ``sys.modules["__main__"]`` and adds ``__IPYTHON__`` and ``display`` to
    builtins), which is put back afterwards so that the other test files do not run "in
    IPython"."""
    mp = pytest.MonkeyPatch()
    mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    main = sys.modules.get("__main__")
    path = list(sys.path)
    hooks = sys.excepthook, sys.displayhook
    builtin_names = set(vars(builtins))
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    shell = InteractiveShell.instance(config=config)
    try:
        yield shell
    finally:
        InteractiveShell.clear_instance()
        if main is not None:
            sys.modules["__main__"] = main
        sys.path[:] = path
        sys.excepthook, sys.displayhook = hooks
        for name in set(vars(builtins)) - builtin_names:
            delattr(builtins, name)
        mp.undo()


@pytest.fixture
def shell(_shell: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("PYTAILCALL_DISABLE", raising=False)
    _shell.run_line_magic("unload_ext", "pytailcall")
    _shell.reset(new_session=False)
    yield _shell
    _shell.run_line_magic("unload_ext", "pytailcall")
    _shell.reset(new_session=False)


def run(shell: Any, source: str) -> Any:
    """Run one cell; fail the test with the cell's exception if it raised."""
    result = shell.run_cell(source)
    if not result.success:
        error = result.error_before_exec or result.error_in_exec
        raise AssertionError(f"cell failed: {error!r}\n{source}")
    return result.result


def load(shell: Any) -> None:
    run(shell, "%load_ext pytailcall")


def test_later_cells_are_optimized(shell: Any) -> None:
    load(shell)
    run(shell, COUNT)
    assert hasattr(shell.user_ns["count"], "__wrapped__")
    assert run(shell, f"count({DEEP})") == DEEP
    assert run(shell, "__pytailcall_auto__") is _auto.decorate


def test_functions_defined_before_loading_are_left_alone(shell: Any) -> None:
    run(shell, COUNT)
    load(shell)
    assert not hasattr(shell.user_ns["count"], "__wrapped__")


def test_nothing_to_optimize_is_left_as_is_without_warnings(shell: Any) -> None:
    load(shell)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(shell, PLAIN)
        # A self call that is not a tail call: nothing to optimize, and no warning.
        run(shell, "def fact(n):\n    return 1 if n == 0 else n * fact(n - 1) or 1\n")
    assert not hasattr(shell.user_ns["plain"], "__wrapped__")
    assert not hasattr(shell.user_ns["fact"], "__wrapped__")
    assert run(shell, "plain(1), fact(5)") == (2, 120)
    assert not [w for w in caught if issubclass(w.category, TailCallWarning)]


def test_methods_nested_functions_and_other_decorators(shell: Any) -> None:
    load(shell)
    run(
        shell,
        """\
import functools

@functools.lru_cache(maxsize=None)
def cached(n, acc=0):
    return acc if n == 0 else cached(n - 1, acc + 1)

def outer(n):
    def inner(n, acc=0):
        return acc if n == 0 else inner(n - 1, acc + 1)
    return inner(n)

class K:
    @staticmethod
    def down(n):
        return n if n == 0 else K.down(n - 1)
""",
    )
    assert hasattr(shell.user_ns["cached"].__wrapped__, "__wrapped__")
    assert run(shell, f"outer({DEEP})") == DEEP
    assert run(shell, "K.down(10)") == 0


def test_helper_survives_reset(shell: Any) -> None:
    load(shell)
    shell.reset(new_session=False)
    assert "__pytailcall_auto__" not in shell.user_ns
    run(shell, COUNT)
    assert run(shell, f"count({DEEP})") == DEEP


def test_loading_twice_adds_one_transformer(shell: Any) -> None:
    load(shell)
    load(shell)
    from pytailcall import load_ipython_extension

    load_ipython_extension(shell)
    assert sum(isinstance(t, CellTransformer) for t in shell.ast_transformers) == 1


def test_unload_makes_later_definitions_native(shell: Any) -> None:
    load(shell)
    run(
        shell,
        "def nested_later(n):\n    def f(n):\n        return n if n == 0 else f(n - 1)\n"
        "    return f(n)\n",
    )
    run(shell, "%unload_ext pytailcall")
    assert not any(isinstance(t, CellTransformer) for t in shell.ast_transformers)
    run(shell, COUNT)
    assert not hasattr(shell.user_ns["count"], "__wrapped__")
    result = shell.run_cell(f"count({DEEP})")
    assert isinstance(result.error_in_exec, RecursionError)
    # A function defined while loaded still finds the helper for its nested def.
    assert run(shell, f"nested_later({DEEP})") == 0
    assert "tail_explain" not in shell.magics_manager.magics["line"]


def test_disabled_by_environment(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    load(shell)
    monkeypatch.setenv("PYTAILCALL_DISABLE", "1")
    run(shell, COUNT)
    assert not hasattr(shell.user_ns["count"], "__wrapped__")


def test_tail_explain(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    load(shell)
    run(shell, COUNT)
    run(shell, PLAIN)
    capsys.readouterr()
    run(shell, "%tail_explain count")
    out = capsys.readouterr().out
    assert "count()" in out
    assert "[optimized" in out
    assert "line 4: count(...) -> jump (optimized)" in out
    # Any expression, evaluated in the user namespace.
    run(shell, "%tail_explain [plain][0]")
    out = capsys.readouterr().out
    assert "plain()" in out
    assert "no calls to itself" in out
    # A bound method: its function is explained.
    run(
        shell,
        "class C:\n    def down(self, n):\n        return n if n == 0 else self.down(n - 1)\n",
    )
    run(shell, "%tail_explain C().down")
    assert "C.down()" in capsys.readouterr().out


def test_tail_explain_without_extension_transform(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(shell, COUNT)  # defined before loading: explain() says what it would do
    load(shell)
    capsys.readouterr()
    run(shell, "%tail_explain count")
    assert "not decorated; with tail_optimize()" in capsys.readouterr().out


def test_tail_explain_errors(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    load(shell)
    capsys.readouterr()
    shell.run_cell("%tail_explain 3")
    captured = capsys.readouterr()
    assert "UsageError" in captured.err
    assert "needs a Python function" in captured.err
    shell.run_cell("%tail_explain")
    assert "%tail_explain needs a function" in capsys.readouterr().err
    result = shell.run_cell("%tail_explain no_such_name")
    assert isinstance(result.error_in_exec, NameError)


def test_tracebacks_name_the_cells_lines(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    load(shell)
    run(
        shell,
        """\
# a comment line first
def boom(n):
    if n == 0:
        raise ValueError("bottom")
    return boom(n - 1)
""",
    )
    assert hasattr(shell.user_ns["boom"], "__wrapped__")
    capsys.readouterr()
    result = shell.run_cell("boom(1000)")
    assert isinstance(result.error_in_exec, ValueError)
    frames = traceback.extract_tb(result.error_in_exec.__traceback__)
    last = frames[-1]
    assert (last.name, last.lineno) == ("boom", 4)
    assert last.filename == shell.user_ns["boom"].__wrapped__.__code__.co_filename
    assert last.line == 'raise ValueError("bottom")'
    shown = _ANSI.sub("", capsys.readouterr().out)
    assert 'raise ValueError("bottom")' in shown
    assert "ValueError: bottom" in shown


def test_syntax_error_cells_still_report(shell: Any) -> None:
    load(shell)
    result = shell.run_cell("def broken(:\n    pass\n")
    assert isinstance(result.error_before_exec, SyntaxError)
    assert any(isinstance(t, CellTransformer) for t in shell.ast_transformers)
