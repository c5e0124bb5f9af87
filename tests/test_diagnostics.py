"""Decoration-time diagnostics: TailCallWarning, strict=True / TailCallError, explain()."""

from __future__ import annotations

import re
import textwrap
import warnings

import pytest

from pytailcall import TailCallError, TailCallWarning, explain, tail_optimize

REFUSED = "# <- refused"


def _line(func, src: str, marker: str = REFUSED) -> int:
    """Absolute line number of the (first) source line containing ``marker``."""
    lines = textwrap.dedent(src).splitlines()
    # co_firstlineno is the line of the first decorator, or of the def.
    def_index = next(i for i, line in enumerate(lines) if line.startswith(("def ", "@")))
    marker_index = next(i for i, line in enumerate(lines) if marker in line)
    return func.__code__.co_firstlineno + (marker_index - def_index)


def _mentions_line(text: str, lineno: int) -> bool:
    return re.search(rf"(?<!\d){lineno}(?!\d)", text) is not None


# Each case: source whose function has exactly one self call that cannot be optimized with
# the given options (marked REFUSED), the options, and a call that works natively.
REFUSED_CASES = {
    "not_tail_multiplication": (
        """
        def fact_mul(n):
            if n <= 1:
                return 1
            return n * fact_mul(n - 1)  # <- refused
        """,
        {"modulo_context": False},
        ((10,), 3628800),
    ),
    "result_assigned_then_returned": (
        """
        def assigned(n):
            if n == 0:
                return "end"
            result = assigned(n - 1)  # <- refused
            return result
        """,
        {},
        ((30,), "end"),
    ),
    "expression_statement": (
        """
        def statement(n, log):
            log.append(n)
            if n > 0:
                statement(n - 1, log)  # <- refused
            return log
        """,
        {},
        ((3, []), [3, 2, 1, 0]),
    ),
    "inside_try_except_body": (
        """
        def in_try(n):
            try:
                if n == 0:
                    return "end"
                return in_try(n - 1)  # <- refused
            except KeyError:
                return "handled"
        """,
        {},
        ((30,), "end"),
    ),
    "inside_try_finally": (
        """
        def in_finally(n):
            try:
                if n == 0:
                    return "end"
                return in_finally(n - 1)  # <- refused
            finally:
                note(n)
        """,
        {},
        ((30,), "end"),
    ),
    "inside_try_finally_with_escape_try": (
        """
        def in_finally_escape(n):
            try:
                if n == 0:
                    return "end"
                return in_finally_escape(n - 1)  # <- refused
            finally:
                note(n)
        """,
        {"escape_try": True},
        ((30,), "end"),
    ),
    "inside_try_except_finally_with_escape_try": (
        """
        def in_try_finally_escape(n):
            try:
                if n == 0:
                    return "end"
                return in_try_finally_escape(n - 1)  # <- refused
            except KeyError:
                return "handled"
            finally:
                note(n)
        """,
        {"escape_try": True},
        ((30,), "end"),
    ),
    "inside_with": (
        """
        def in_with(n):
            with nullcontext():
                if n == 0:
                    return "end"
                return in_with(n - 1)  # <- refused
        """,
        {},
        ((30,), "end"),
    ),
    "inside_with_with_escape_try": (
        """
        def in_with_escape(n):
            with nullcontext():
                if n == 0:
                    return "end"
                return in_with_escape(n - 1)  # <- refused
        """,
        {"escape_try": True},
        ((30,), "end"),
    ),
    "inside_except_body": (
        """
        def in_handler(n):
            try:
                raise KeyError(n)
            except KeyError:
                if n == 0:
                    return "end"
                return in_handler(n - 1)  # <- refused
        """,
        {},
        ((30,), "end"),
    ),
}


def _build(make, src):
    from contextlib import nullcontext

    return make(src, nullcontext=nullcontext, note=lambda value: None)


def _refused_names():
    return [re.search(r"def (\w+)", src).group(1) for src, _, _ in REFUSED_CASES.values()]


@pytest.mark.parametrize("case", REFUSED_CASES.values(), ids=REFUSED_CASES.keys())
def test_unoptimizable_self_call_warns_with_name_and_line(make, case):
    src, options, _ = case
    func = _build(make, src)
    with pytest.warns(TailCallWarning, match=re.escape(func.__name__)) as record:
        tail_optimize(func, **options)
    messages = [str(w.message) for w in record if issubclass(w.category, TailCallWarning)]
    lineno = _line(func, src)
    assert any(
        func.__name__ in message and _mentions_line(message, lineno) for message in messages
    ), messages


@pytest.mark.parametrize("case", REFUSED_CASES.values(), ids=REFUSED_CASES.keys())
def test_warned_function_still_works_natively(make, case):
    src, options, (args, expected) = case
    func = _build(make, src)
    with pytest.warns(TailCallWarning, match=re.escape(func.__name__)):
        optimized = tail_optimize(func, **options)
    func.__globals__[func.__name__] = optimized
    assert optimized(*args) == expected


@pytest.mark.parametrize("case", REFUSED_CASES.values(), ids=REFUSED_CASES.keys())
def test_strict_raises_tail_call_error_with_name_and_line(make, case):
    src, options, _ = case
    func = _build(make, src)
    with pytest.raises(TailCallError, match=re.escape(func.__name__)) as info:
        tail_optimize(func, strict=True, **options)
    assert _mentions_line(str(info.value), _line(func, src))


@pytest.mark.parametrize("case", REFUSED_CASES.values(), ids=REFUSED_CASES.keys())
def test_strict_factory_form_raises_tail_call_error(make, case):
    src, options, _ = case
    func = _build(make, src)
    with pytest.raises(TailCallError, match=re.escape(func.__name__)):
        tail_optimize(strict=True, **options)(func)


@pytest.mark.parametrize("case", REFUSED_CASES.values(), ids=REFUSED_CASES.keys())
def test_explain_reports_refused_site_with_reason(make, case):
    src, options, _ = case
    func = _build(make, src)
    with pytest.warns(TailCallWarning):
        optimized = tail_optimize(func, **options)
    for report in (explain(optimized), explain(func, **options)):
        (site,) = report.sites
        assert site.lineno == _line(func, src)
        assert site.target == func.__name__
        assert site.optimized is False
        assert isinstance(site.reason, str) and site.reason.strip()


def test_decorator_form_warns_at_decoration(make):
    with pytest.warns(TailCallWarning, match="fact_decorated"):
        fact = make(
            """
            @tail_optimize
            def fact_decorated(n):
                return 1 if n <= 1 else fact_decorated(n - 1) * n or 1
            """
        )
    assert fact(10) == 3628800


def test_decorator_form_strict_raises_at_decoration(make):
    with pytest.raises(TailCallError, match="fact_strict"):
        make(
            """
            @tail_optimize(strict=True)
            def fact_strict(n):
                return 1 if n <= 1 else fact_strict(n - 1) * n or 1
            """
        )


NO_SELF_CALL = """
def lonely(x):
    return helper(x) + 1

def helper(x):
    return x
"""


def test_function_without_self_tail_call_warns(make):
    func = make(NO_SELF_CALL)
    with pytest.warns(TailCallWarning, match="lonely"):
        optimized = tail_optimize(func)
    assert optimized(1) == 2


def test_function_without_self_tail_call_is_refused_by_strict(make):
    func = make(NO_SELF_CALL)
    with pytest.raises(TailCallError, match="lonely"):
        tail_optimize(func, strict=True)


def test_explain_reports_no_sites_for_function_without_self_call(make):
    assert explain(make(NO_SELF_CALL)).sites == ()


CALL_IN_DEAD_CODE = """
def f(n):
    try:
        pass
    finally:
        v = f(0) if n > 5 else n
    if n <= 0:
        return v
    return f(n - 1)
"""


def test_a_call_in_dead_code_the_compiler_keeps_is_not_reported(make):
    """The exception path of a ``finally`` after an empty ``try`` is code that never runs,
    which the compiler keeps: its copy of the call was reported as one "the rewriter does
    not recognise", a gap the fuzzer counts (found on 3.13; the same on 3.11 and 3.12).
    The copy that runs is reported once, and the tail call optimized."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)  # (the call stored in v)
        report = explain(tail_optimize(make(CALL_IN_DEAD_CODE)))
    assert [(site.lineno - report.sites[0].lineno, site.optimized, site.reason)
            for site in report.sites] == [
        (0, False, "not a tail call: its result is not returned"), (3, True, None)]


TWO_REFUSED = """
def twice(n):
    if n <= 1:
        return 1
    first = twice(n - 1)  # <- refused first
    second = twice(n - 2)  # <- refused second
    return first + second
"""


def test_each_refused_site_is_reported(make):
    func = make(TWO_REFUSED)
    with pytest.warns(TailCallWarning, match="twice") as record:
        tail_optimize(func)
    text = "\n".join(str(w.message) for w in record)
    assert _mentions_line(text, _line(func, TWO_REFUSED, "refused first"))
    assert _mentions_line(text, _line(func, TWO_REFUSED, "refused second"))


CLEAN_CASES = {
    "plain": (
        """
        def clean(n, acc=1):
            if n <= 1:
                return acc
            return clean(n - 1, acc * n)
        """,
        {},
    ),
    "try_except_with_escape_try": (
        """
        def clean(n, acc=1):
            try:
                if n <= 1:
                    return acc
                return clean(n - 1, acc * n)
            except KeyError:
                return None
        """,
        {"escape_try": True},
    ),
}


@pytest.mark.parametrize("options", [{}, {"strict": True}], ids=["default", "strict"])
@pytest.mark.parametrize("case", CLEAN_CASES.values(), ids=CLEAN_CASES.keys())
def test_fully_optimizable_function_does_not_warn(make, case, options):
    src, case_options = case
    func = make(src)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        optimized = tail_optimize(func, **case_options, **options)
    assert [w for w in record if issubclass(w.category, TailCallWarning)] == []
    assert optimized(5) == 120


# --- explain -------------------------------------------------------------------------------

MIXED = """
def mixed(n, acc):
    if n <= 1:
        return acc
    if n % 2:
        return mixed(n - 1, acc + n)  # <- tail
    return mixed(n - 1, acc) * n or acc  # <- refused
"""


def _sorted_sites(report):
    return sorted(report.sites, key=lambda site: site.lineno)


def _check_mixed_report(report, func):
    tail, refused = _sorted_sites(report)
    assert len(report.sites) == 2
    assert (tail.lineno, tail.target, tail.optimized, tail.reason) == (
        _line(func, MIXED, "# <- tail"),
        "mixed",
        True,
        None,
    )
    assert (refused.lineno, refused.target, refused.optimized) == (
        _line(func, MIXED),
        "mixed",
        False,
    )
    assert isinstance(refused.reason, str) and refused.reason.strip()


def test_explain_plain_function_reports_what_would_be_done(make):
    func = make(MIXED)
    _check_mixed_report(explain(func), func)


def test_explain_optimized_function_reports_what_was_done(make):
    func = make(MIXED)
    with pytest.warns(TailCallWarning, match="mixed"):
        optimized = tail_optimize(func)
    _check_mixed_report(explain(optimized), func)


def test_explain_does_not_change_the_function(make):
    func = make(MIXED)
    code = func.__code__
    explain(func)
    assert func.__code__ is code
    assert func(5, 0) == 64  # mixed(4, 5) = 4 * mixed(3, 5) = 4 * mixed(2, 8) = 4 * 2 * 8


def test_explain_str_mentions_function_and_each_site_line(make):
    func = make(MIXED)
    text = str(explain(func))
    assert "mixed" in text
    assert len(text.splitlines()) >= 2
    assert _mentions_line(text, _line(func, MIXED, "# <- tail"))
    assert _mentions_line(text, _line(func, MIXED))


ESCAPABLE = """
def escapable(n):
    try:
        if n == 0:
            return "end"
        return escapable(n - 1)  # <- site
    except KeyError:
        return "handled"
"""


def test_explain_reflects_the_options_used(make):
    func = make(ESCAPABLE)
    optimized = tail_optimize(func, escape_try=True)
    (done,) = explain(optimized).sites
    (would_be,) = explain(func).sites
    assert done.lineno == would_be.lineno == _line(func, ESCAPABLE, "# <- site")
    assert (done.optimized, done.reason) == (True, None)
    assert would_be.optimized is False and would_be.reason


def test_explain_lists_only_calls_to_the_function_itself(make):
    src = """
    def selective(n):
        if n == 0:
            return helper(len([n]))
        helper(n)
        return selective(helper(n) - 1)  # <- site

    def helper(x):
        return x
    """
    func = make(src)
    (site,) = explain(func).sites
    expected = (_line(func, src, "# <- site"), "selective", True)
    assert (site.lineno, site.target, site.optimized) == expected


def test_explain_nested_closure_function(make):
    src = """
    def outer(k):
        def loop(n, acc):
            if n == 0:
                return acc
            return loop(n - 1, acc + k)  # <- site
        return loop
    """
    outer = make(src)
    loop = outer(3)
    (site,) = explain(loop).sites
    assert site.target == "loop"
    assert site.optimized is True
    assert site.lineno == _line(outer, src, "# <- site")
    assert site.lineno == outer.__code__.co_firstlineno + 4
    assert "loop" in str(explain(loop))


def test_function_listing_its_own_locals_is_left_native(make_pair):
    """locals() would show the hidden self-reference of a rewritten function: not rewritten."""
    src = """
    def snap(n, seen):
        seen.append(sorted(locals()))
        if n == 0:
            return seen
        return snap(n - 1, seen)
    """
    with pytest.warns(TailCallWarning, match=r"snap\(\).*locals\(\)"):
        native, snap = make_pair(src)
    assert snap(2, []) == native(2, []) == [["n", "seen"]] * 3
    assert not any(site.optimized for site in explain(snap).sites)
