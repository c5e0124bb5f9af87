"""The public API surface: decorator forms, the returned function object, argument checks."""

from __future__ import annotations

import functools
import inspect
import sys
import types

import pytest

from pytailcall import TailCallError, TailCallWarning, explain, tail_optimize

COUNT_SRC = """
def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)
"""


def _past_limit() -> int:
    return sys.getrecursionlimit() * 5


# --- decorator forms ---------------------------------------------------------------------

DECORATOR_FORMS = {
    "bare": "@tail_optimize",
    "empty_call": "@tail_optimize()",
    "strict": "@tail_optimize(strict=True)",
    "escape_try": "@tail_optimize(escape_try=True)",
    "strategy_loop": '@tail_optimize(strategy="loop")',
    "all_options": '@tail_optimize(strategy="loop", escape_try=False, strict=False)',
}


@pytest.mark.parametrize("decorator", DECORATOR_FORMS.values(), ids=DECORATOR_FORMS.keys())
def test_decorator_form_binds_a_plain_function(make, decorator):
    count = make(decorator + COUNT_SRC)
    assert type(count) is types.FunctionType
    assert count.__name__ == "count"
    assert count(10) == 10


@pytest.mark.parametrize("decorator", DECORATOR_FORMS.values(), ids=DECORATOR_FORMS.keys())
def test_decorator_form_optimizes_self_tail_calls(make, decorator):
    count = make(decorator + COUNT_SRC)
    assert count(_past_limit()) == _past_limit()


CALL_FORMS = {
    "no_options": {},
    "escape_try": {"escape_try": True},
    "strict": {"strict": True},
    "strategy_loop": {"strategy": "loop"},
}


@pytest.mark.parametrize("options", CALL_FORMS.values(), ids=CALL_FORMS.keys())
def test_direct_call_form_returns_new_optimized_function(make, options):
    plain = make(COUNT_SRC)
    optimized = tail_optimize(plain, **options)
    assert type(optimized) is types.FunctionType
    assert optimized is not plain
    plain.__globals__["count"] = optimized
    assert optimized(_past_limit()) == _past_limit()


def test_factory_form_returns_a_decorator_usable_twice(make):
    decorator = tail_optimize(strict=True)
    first = make(COUNT_SRC)
    second = make(COUNT_SRC)
    first.__globals__["count"] = opt_first = decorator(first)
    second.__globals__["count"] = opt_second = decorator(second)
    assert opt_first is not opt_second
    assert opt_first(_past_limit()) == opt_second(_past_limit()) == _past_limit()


def test_options_are_keyword_only(make):
    plain = make(COUNT_SRC)
    with pytest.raises(TypeError):
        tail_optimize(plain, "loop")


def test_unknown_option_name_raises_type_error(make):
    plain = make(COUNT_SRC)
    with pytest.raises(TypeError):
        tail_optimize(plain, no_such_option=True)


def test_unknown_strategy_raises_value_error_in_direct_form(make):
    plain = make(COUNT_SRC)
    with pytest.raises(ValueError, match="no-such-strategy"):
        tail_optimize(plain, strategy="no-such-strategy")


def test_unknown_strategy_raises_value_error_in_factory_form(make):
    plain = make(COUNT_SRC)
    with pytest.raises(ValueError, match="no-such-strategy"):
        tail_optimize(strategy="no-such-strategy")(plain)


# --- what can be decorated ---------------------------------------------------------------


def _generator(n):
    yield n
    yield from _generator(n - 1)


async def _coroutine(n):
    return await _coroutine(n - 1)


async def _async_generator(n):
    yield n


class _Callable:
    def __call__(self, n):
        return n

    def method(self, n):
        return n


def _plain(n):
    return n if n == 0 else _plain(n - 1)


NOT_PLAIN_FUNCTIONS = {
    "builtin_function": len,
    "builtin_class": int,
    "user_class": _Callable,
    "callable_instance": _Callable(),
    "bound_method": _Callable().method,
    "staticmethod_object": staticmethod(_plain),
    "partial": functools.partial(_plain, 3),
    "generator_function": _generator,
    "coroutine_function": _coroutine,
    "async_generator_function": _async_generator,
    "string": "_plain",
    "code_object": _plain.__code__,
}


@pytest.mark.parametrize("obj", NOT_PLAIN_FUNCTIONS.values(), ids=NOT_PLAIN_FUNCTIONS.keys())
def test_non_plain_function_raises_type_error(obj):
    with pytest.raises(TypeError):
        tail_optimize(obj)


@pytest.mark.parametrize("obj", NOT_PLAIN_FUNCTIONS.values(), ids=NOT_PLAIN_FUNCTIONS.keys())
def test_non_plain_function_raises_type_error_with_options(obj):
    with pytest.raises(TypeError):
        tail_optimize(obj, escape_try=True)


@pytest.mark.parametrize("obj", NOT_PLAIN_FUNCTIONS.values(), ids=NOT_PLAIN_FUNCTIONS.keys())
def test_non_plain_function_raises_type_error_in_factory_form(obj):
    with pytest.raises(TypeError):
        tail_optimize(strict=True)(obj)


def test_generator_function_with_self_call_in_source_raises_type_error(make):
    gen = make(
        """
        def walk(n):
            yield n
            return walk(n - 1)
        """
    )
    with pytest.raises(TypeError):
        tail_optimize(gen)


# --- the returned function object ---------------------------------------------------------

RICH_SRC = '''
def outer():
    def rich(n: int, acc: int = 0, *rest: str, scale: float = 1.0, **extra: bytes) -> int:
        """Sum 1..n (scaled)."""
        if n <= 0:
            return acc
        return rich(n - 1, acc + n * scale, *rest, scale=scale, **extra)
    return rich
'''


@pytest.fixture
def rich(make):
    rich = make(RICH_SRC)()
    rich.custom_attribute = {"answer": 42}
    return rich


def test_result_is_a_new_function_object(rich):
    optimized = tail_optimize(rich)
    assert type(optimized) is types.FunctionType
    assert optimized is not rich


@pytest.mark.parametrize(
    "attribute",
    ["__name__", "__qualname__", "__doc__", "__module__", "__defaults__", "__kwdefaults__"],
)
def test_result_keeps_attribute(rich, attribute):
    optimized = tail_optimize(rich)
    assert getattr(optimized, attribute) == getattr(rich, attribute)


def test_result_keeps_qualname_of_nested_function(rich):
    assert tail_optimize(rich).__qualname__ == "outer.<locals>.rich"


def test_result_keeps_annotations(rich):
    optimized = tail_optimize(rich)
    assert optimized.__annotations__ == rich.__annotations__
    assert optimized.__annotations__["return"] is int


def test_result_keeps_dict_contents(rich):
    optimized = tail_optimize(rich)
    assert optimized.__dict__["custom_attribute"] == {"answer": 42}


def test_result_wraps_the_original(rich):
    assert tail_optimize(rich).__wrapped__ is rich


def test_result_signature_is_unchanged(rich):
    optimized = tail_optimize(rich)
    assert inspect.signature(optimized) == inspect.signature(rich)
    # The code object itself, not only __wrapped__, must expose the same signature.
    assert inspect.signature(optimized, follow_wrapped=False) == inspect.signature(rich)


def test_result_is_callable_like_the_original(rich):
    assert tail_optimize(rich)(3, 1, "x", scale=2, key=b"v") == rich(3, 1, "x", scale=2, key=b"v")


def test_input_function_is_not_mutated(make):
    count = make(COUNT_SRC)
    count.marker = "kept"
    code = count.__code__
    co_code = code.co_code
    defaults = count.__defaults__
    kwdefaults = count.__kwdefaults__
    attributes = dict(count.__dict__)
    name, qualname, doc = count.__name__, count.__qualname__, count.__doc__

    tail_optimize(count)

    assert count.__code__ is code
    assert count.__code__.co_code == co_code
    assert count.__defaults__ is defaults
    assert count.__kwdefaults__ is kwdefaults
    assert count.__dict__ == attributes
    assert (count.__name__, count.__qualname__, count.__doc__) == (name, qualname, doc)
    assert not hasattr(count, "__wrapped__")


def test_input_function_still_recurses_natively(make):
    count = make(COUNT_SRC)
    tail_optimize(count)  # the global name "count" still refers to the original
    assert count(100) == 100
    with pytest.raises(RecursionError):
        count(sys.getrecursionlimit() + 100)


# --- exported names ------------------------------------------------------------------------


def test_tail_call_warning_is_a_user_warning():
    assert issubclass(TailCallWarning, UserWarning)


def test_tail_call_error_is_an_exception():
    assert issubclass(TailCallError, Exception)


def test_explain_is_callable_on_a_plain_function(make):
    report = explain(make(COUNT_SRC))
    assert isinstance(report.sites, tuple)


@pytest.mark.parametrize("first", ["loop", "return_tuple", "partial"])
@pytest.mark.parametrize("second", ["loop", "return_tuple", "partial"])
def test_optimizing_an_optimized_function_again(make, first, second, deep):
    """The second decoration starts again from the original code, with any strategy."""
    count = make(COUNT_SRC)
    once = tail_optimize(count, strategy=first)
    twice = tail_optimize(once, strategy=second)
    count.__globals__["count"] = twice
    assert twice(deep) == deep
    assert twice.__wrapped__ is once
    assert explain(twice).strategy == second
