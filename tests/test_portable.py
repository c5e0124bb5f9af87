"""On an interpreter whose bytecode pytailcall does not know, the default falls back to a
portable partial trampoline made from source, and says so; a named strategy is an error."""

from __future__ import annotations

import functools
import textwrap

import pytest

from pytailcall import TailCallError, TailCallWarning, explain, tail_optimize
from pytailcall._bytecode import facts as facts_module


@pytest.fixture
def unknown_interpreter(monkeypatch):
    def refuse():
        raise TailCallError("pytailcall knows CPython 3.11-3.15; this is testpython 9.9.")

    monkeypatch.setattr(facts_module, "current", refuse)


def _module(tmp_path, monkeypatch, name, source):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    return importlib.import_module(name)


COUNT = """
def count(n, acc=0, *, step=1):
    if n <= 0:
        return acc
    if n % 2:
        return count(n - step, acc + 1, step=step)
    return count(n - step, acc + 1) if n > 10 else count(n - 1, acc=acc + 1)

def total(n):
    return n and n + total(n - 1)
"""


def test_default_falls_back_to_the_portable_trampoline(tmp_path, monkeypatch,
                                                        unknown_interpreter, deep):
    module = _module(tmp_path, monkeypatch, "portable_count", COUNT)
    native = module.count
    with pytest.warns(TailCallWarning, match="testpython 9.9.*portable partial trampoline"):
        count = tail_optimize(native)
    module.count = count
    assert count(deep) == deep
    assert count(25, step=1) == native(25, step=1)
    assert count.__wrapped__ is native and count.__name__ == "count"
    report = explain(count)
    assert report.strategy == "partial (portable)"
    assert [site.optimized for site in report.sites] == [True, True, True]


def test_named_strategy_is_an_error_on_an_unknown_interpreter(unknown_interpreter):
    def f(n):
        return f(n - 1) if n else 0

    for strategy in ("loop", "return_tuple", "partial"):
        with pytest.raises(TailCallError, match="testpython"):
            tail_optimize(f, strategy=strategy)


def test_rebinding_is_honoured_by_the_portable_trampoline(tmp_path, monkeypatch,
                                                          unknown_interpreter):
    """With the name bound to a wrapper, every tail call goes through it, as natively."""
    module = _module(tmp_path, monkeypatch, "portable_rebind", COUNT)
    native = module.count
    with pytest.warns(TailCallWarning):
        count = tail_optimize(native)

    def calls_through_wrapper(func):
        calls = []

        @functools.wraps(func)
        def spy(*args, **kwargs):
            calls.append((args, kwargs))
            return func(*args, **kwargs)

        module.count = spy
        result = func(5)
        return result, calls

    assert calls_through_wrapper(count) == calls_through_wrapper(native)


def test_without_source_it_stays_a_normal_function(unknown_interpreter):
    namespace: dict = {"__name__": "no_source"}
    exec("def f(n):\n    return f(n - 1) if n else 'done'\n", namespace)
    with pytest.warns(TailCallWarning, match="source is not available"):
        f = tail_optimize(namespace["f"])
    namespace["f"] = f
    assert f(50) == "done"


def test_strict_raises_instead_of_falling_back(tmp_path, monkeypatch, unknown_interpreter):
    module = _module(tmp_path, monkeypatch, "portable_strict", COUNT)
    with pytest.raises(TailCallError, match="portable"):
        tail_optimize(module.count, strict=True)


def test_explain_predicts_the_portable_rewrite(tmp_path, monkeypatch, unknown_interpreter):
    module = _module(tmp_path, monkeypatch, "portable_explain", COUNT)
    report = explain(module.total)
    assert report.strategy == "partial (portable)" and not report.applied
    assert [site.optimized for site in report.sites] == [False]
