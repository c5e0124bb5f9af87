"""On an interpreter whose bytecode pytailcall does not know, the default falls back to a
portable partial trampoline made from source, and says so; a named strategy is an error."""

from __future__ import annotations

import doctest
import functools
import inspect
import sys
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


def _pair(tmp_path, monkeypatch, name, source, func="count"):
    """``(native, optimized)`` from two modules of the same source; in the second the name
    is rebound to the optimized function, as the decorator would."""
    native = getattr(_module(tmp_path, monkeypatch, f"{name}_native", source), func)
    module = _module(tmp_path, monkeypatch, name, source)
    with pytest.warns(TailCallWarning, match="portable partial trampoline"):
        optimized = tail_optimize(getattr(module, func))
    setattr(module, func, optimized)
    return native, optimized


def _outcome(func, *args, **kwargs):
    try:
        return ("ok", func(*args, **kwargs))
    except TypeError as exc:
        return ("raise", str(exc))


def test_every_call_uses_the_current_defaults(tmp_path, monkeypatch, unknown_interpreter):
    """Defaults changed after decoration count for the first call and for every bounce."""
    native, count = _pair(tmp_path, monkeypatch, "portable_defaults", COUNT)
    for defaults, kwdefaults in [((100,), {"step": 1}), ((7,), {"step": 2}),
                                 ((0,), {"step": 3}), (None, {"step": 1}), ((5,), None)]:
        for func in (native, count):
            func.__defaults__, func.__kwdefaults__ = defaults, kwdefaults
        for args, kwargs in [((3,), {}), ((12,), {}), ((25,), {"step": 1}), ((4, 1), {})]:
            assert _outcome(count, *args, **kwargs) == _outcome(native, *args, **kwargs)
    count.__defaults__, count.__kwdefaults__ = (100,), {"step": 1}
    assert count(3) == 103


DEFAULTS_ONCE = """
from __future__ import annotations

calls = []

def note(value):
    calls.append(value)
    return value

class Gone:
    pass

def count(n, seen=note([]), *, tag: note("annotation") = note("tag")) -> Gone:
    seen.append(n)
    return seen if n <= 0 else count(n - 1)
"""

EVALUATED_ANNOTATIONS = DEFAULTS_ONCE.replace("from __future__ import annotations\n", "")


@pytest.mark.parametrize("deleted", [False, True], ids=["names_kept", "names_deleted"])
@pytest.mark.parametrize("source", [DEFAULTS_ONCE, EVALUATED_ANNOTATIONS],
                         ids=["future_annotations", "evaluated_annotations"])
def test_defaults_and_annotations_are_not_evaluated_again(tmp_path, monkeypatch,
                                                          unknown_interpreter, source, deleted):
    name = f"portable_once_{len(source)}_{deleted}"
    module = _module(tmp_path, monkeypatch, name, source)
    native = module.count
    before = list(module.calls)
    assert [] in before and "tag" in before  # the def ran them once, at import
    if deleted:
        del module.Gone, module.note  # names the default and annotation expressions used
    with pytest.warns(TailCallWarning, match="portable partial trampoline"):
        count = tail_optimize(native)
    module.count = count
    assert module.calls == before
    assert count.__defaults__[0] is native.__defaults__[0]
    assert count.__kwdefaults__["tag"] is native.__kwdefaults__["tag"]
    # (From 3.14 annotations are evaluated when first read: with the names gone, reading
    # them raises for both alike.)
    assert _annotations(count) == _annotations(native)
    shared = native.__defaults__[0]
    assert count(2) is shared and shared == [2, 1, 0]
    assert count(1) is shared and shared == [2, 1, 0, 1, 0]


def _annotations(func):
    try:
        return func.__annotations__
    except NameError as exc:
        return ("NameError", str(exc))


@pytest.mark.parametrize("lister", ["locals()", "vars()", "dir()", "vars(*())"])
def test_a_function_listing_its_locals_stays_native(tmp_path, monkeypatch,
                                                     unknown_interpreter, lister):
    source = f"""
    def names(n):
        if n <= 0:
            return sorted({lister})
        return names(n - 1)
    """
    name = "portable_lists_" + lister.replace("*", "star").strip("()").replace("(", "_")
    module = _module(tmp_path, monkeypatch, name, source)
    native = module.names
    with pytest.warns(TailCallWarning, match=r"cannot be used either: .*locals\(\)"):
        names = tail_optimize(native)
    module.names = names
    assert names(3) == ["n"]
    assert explain(names).applied and not any(site.optimized for site in explain(names).sites)


SIGNATURES = '''
def count(n, acc=0, *, step=1):
    """Counts down.

    >>> count(3)
    3
    """
    return acc if n <= 0 else count(n - step, acc + 1, step=step)

def shapes(a, b=2, /, c=3, *rest, d, e=5, **more):
    """Every kind of parameter.

    >>> shapes(1, d=4)
    (1, 2, 3, (), 4, 5, {})
    """
    if a > 0:
        return shapes(a - 1, b, c, *rest, d=d, e=e, **more)
    return (a + 1, b, c, rest, d, e, more)

def empty():
    return None if calls.pop() else empty()

calls = []
'''


@pytest.mark.parametrize("name", ["count", "shapes", "empty"])
def test_the_public_function_has_the_original_code_signature(tmp_path, monkeypatch,
                                                             unknown_interpreter, name):
    native, public = _pair(tmp_path, monkeypatch, f"portable_sig_{name}", SIGNATURES, name)
    code, original = public.__code__, native.__code__
    for attribute in ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount",
                      "co_firstlineno", "co_name", "co_qualname"):
        assert getattr(code, attribute) == getattr(original, attribute), attribute
    assert code.co_flags & 0x0C == original.co_flags & 0x0C  # *args, **kwargs
    nparams = (code.co_argcount + code.co_kwonlyargcount
               + bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08))
    assert code.co_varnames[:nparams] == original.co_varnames[:nparams]
    assert code.co_filename == original.co_filename.replace("_native", "")
    assert {line for *_, line in code.co_lines() if line is not None} == {code.co_firstlineno}
    assert public.__name__ == native.__name__ and public.__qualname__ == native.__qualname__
    assert inspect.signature(public, follow_wrapped=False) == inspect.signature(native)
    assert public.__globals__ is sys.modules[f"portable_sig_{name}"].__dict__


def test_doctest_finds_the_examples_on_their_lines(tmp_path, monkeypatch, unknown_interpreter):
    _pair(tmp_path, monkeypatch, "portable_doctest", SIGNATURES)
    module = sys.modules["portable_doctest"]
    with pytest.warns(TailCallWarning, match="portable partial trampoline"):
        module.shapes = tail_optimize(module.shapes)
    found = {test.name.rsplit(".", 1)[1]: test for test in doctest.DocTestFinder().find(module)
             if test.examples}
    native = {test.name.rsplit(".", 1)[1]: test for test in
              doctest.DocTestFinder().find(sys.modules["portable_doctest_native"])
              if test.examples}
    assert sorted(found) == ["count", "shapes"]
    for name, test in found.items():
        assert test.lineno is not None and test.lineno == native[name].lineno
        assert test.filename == module.__file__
        runner = doctest.DocTestRunner()
        runner.run(test)
        assert runner.failures == 0 and runner.tries == 1


BINDING = """
def count(n, acc=0, /, *, step=1):
    return acc if n <= 0 else count(n - step, acc + 1, step=step)

def wrong_keyword(n):
    return n if n <= 0 else wrong_keyword(n - 1, nope=1)

def too_many(n):
    return n if n <= 0 else too_many(n - 1, 2)

def too_few(n, m):
    return n if n <= 0 else too_few(n - 1)
"""


def test_binding_errors_read_as_natively(tmp_path, monkeypatch, unknown_interpreter):
    native, count = _pair(tmp_path, monkeypatch, "portable_binding", BINDING)
    for args, kwargs in [((), {}), ((1, 2, 3), {}), ((1,), {"bogus": 1}), ((1,), {"n": 1}),
                         ((1,), {"acc": 2}), ((1, 2), {"step": 1, "other": 2})]:
        expected = _outcome(native, *args, **kwargs)
        assert expected[0] == "raise"
        assert _outcome(count, *args, **kwargs) == expected
    for name, args in [("wrong_keyword", (3,)), ("too_many", (3,)), ("too_few", (3, 1))]:
        native, func = _pair(tmp_path, monkeypatch, f"portable_binding_{name}", BINDING, name)
        expected = _outcome(native, *args)
        assert expected[0] == "raise" and name in expected[1]
        assert _outcome(func, *args) == expected
