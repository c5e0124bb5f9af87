"""Shared helpers for the pytailcall test suite.

Most tests define the functions under test from source strings with the ``make`` /
``make_pair`` fixtures: each source is executed in a fresh module-like namespace, so a test
controls (and may rebind) the globals the function sees, and the "native" (undecorated)
and the optimized version of the same source never share a global name. The source is
registered with :mod:`linecache`, so tracebacks of these functions show their source text.
"""

from __future__ import annotations

import itertools
import linecache
import re
import signal
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from pytailcall import tail_optimize

# Deep enough to be far past any recursion limit, small enough to keep the suite fast
# (it also runs under WebAssembly, where code is several times slower).
DEEP = 100_000
VERY_DEEP = 1_000_000

_source_ids = itertools.count()
_FIRST_DEF = re.compile(r"^(?:async\s+)?def\s+(\w+)", re.MULTILINE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "threads: the test starts threads (skipped where threads cannot start)"
    )
    # An unexpected TailCallWarning (a function the tests expect to be fully optimized
    # warned at decoration) fails the test that caused it instead of scrolling by in the
    # summary. Tests that expect the warning use ``pytest.warns``, which records it.
    config.addinivalue_line("filterwarnings", "error::pytailcall.TailCallWarning")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if sys.platform != "emscripten":
        return
    skip = pytest.mark.skip(reason="threads cannot be started under Pyodide (emscripten)")
    for item in items:
        if "threads" in item.keywords:
            item.add_marker(skip)


def _make(src: str, name: str | None = None, **env: Any) -> Callable[..., Any]:
    """Execute ``src`` in a fresh namespace and return the function ``name`` from it.

    ``name`` defaults to the first top-level ``def`` in ``src``. ``env`` adds globals;
    ``tail_optimize`` is always available. The namespace is ``result.__globals__``.
    """
    src = textwrap.dedent(src)
    if name is None:
        match = _FIRST_DEF.search(src)
        assert match is not None, "no top-level def in source"
        name = match.group(1)
    filename = f"<pytailcall-test-{next(_source_ids)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {
        "__name__": "pytailcall_testns",
        "tail_optimize": tail_optimize,
        **env,
    }
    # dont_inherit: the source must not pick up this module's ``from __future__`` imports.
    exec(compile(src, filename, "exec", dont_inherit=True), namespace)
    return namespace[name]


def _make_pair(
    src: str, name: str | None = None, env: dict[str, Any] | None = None, **options: Any
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return ``(native, optimized)`` built from the same undecorated source.

    Each lives in its own namespace; in the optimized one the function's global name is
    rebound to ``tail_optimize(func, **options)``, exactly as the decorator form would.
    """
    native = _make(src, name, **(env or {}))
    plain = _make(src, name, **(env or {}))
    optimized = tail_optimize(plain, **options)
    plain.__globals__[plain.__name__] = optimized
    return native, optimized


def is_driver(code: Any) -> bool:
    """Is ``code`` the driver loop of a trampolined strategy (not the user's code)?"""
    return "_pytailcall_impl_" in getattr(code, "co_freevars", ())


def _outcome(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """What calling ``func`` does: ``("ok", value)`` or ``("raise", type, str(exc))``."""
    try:
        return ("ok", func(*args, **kwargs))
    except Exception as exc:
        return ("raise", type(exc), str(exc))


def _frame_depth() -> int:
    """Number of frames on the calling thread's stack (including the caller's)."""
    frame = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


@pytest.fixture(scope="session")
def make() -> Callable[..., Callable[..., Any]]:
    return _make


#: Every test that builds its functions with ``make_pair`` runs once per strategy.
STRATEGIES = ("loop", "return_tuple", "partial")


@pytest.fixture(params=STRATEGIES)
def strategy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_pair(strategy: str) -> Callable[..., tuple[Callable[..., Any], Callable[..., Any]]]:
    """``_make_pair`` with the test's strategy unless the test names one."""

    def make_pair_with_strategy(
        src: str, name: str | None = None, env: dict[str, Any] | None = None, **options: Any
    ) -> tuple[Callable[..., Any], Callable[..., Any]]:
        options.setdefault("strategy", strategy)
        return _make_pair(src, name, env, **options)

    return make_pair_with_strategy


@pytest.fixture(scope="session")
def outcome() -> Callable[..., tuple[Any, ...]]:
    return _outcome


@pytest.fixture(scope="session")
def frame_depth() -> Callable[[], int]:
    return _frame_depth


@pytest.fixture(scope="session")
def deep() -> int:
    """A depth far past the recursion limit (checked, in case a platform raises it)."""
    assert sys.getrecursionlimit() * 10 < DEEP
    return DEEP


@pytest.fixture(scope="session")
def very_deep() -> int:
    return VERY_DEEP


@pytest.fixture
def sigint_raises() -> Any:
    """SIGINT (and ``_thread.interrupt_main()``) raises KeyboardInterrupt in this test, as in
    an interactive Python, even where the suite inherited SIGINT ignored (a background job
    of a non-interactive shell): then Python installs no handler, and the interrupt the
    test sends would be dropped."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
