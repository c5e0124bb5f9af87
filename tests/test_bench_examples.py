"""The benchmark's guarded loops: each example's hand-written loop with the identity check an
exact rewrite needs before every jump back (``if gcd_guarded is not me: return
gcd_guarded(...)``), the second reference ``bench`` measures the loop strategy against.

A guarded loop is only a fair floor if it does what the rewrite does: return the same
results as the native function, look its own name up as a *global* at run time, and hold
itself in a closure cell.  The ``bench`` command's report and JSON are covered in
``tests/test_cli.py``, the chart in ``tests/test_plot.py``.
"""

from __future__ import annotations

import dis
from typing import Any

import pytest

from pytailcall.bench import examples as ex
from pytailcall.bench import measure

EXAMPLE_NAMES = [example.name for example in ex.EXAMPLES]


def _example(name: str) -> ex.Example:
    return next(example for example in ex.EXAMPLES if example.name == name)


class Recorder:
    """A stand-in bound to a global name: records each call's arguments, returns a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> str:
        self.calls.append(args)
        return "recorded"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_guarded_loop_agrees_with_native(name: str) -> None:
    example = _example(name)
    for args in example.params:
        got = example.guarded_loop(*args)
        assert got == example.hand_loop(*args), args
        try:
            expected = example.native(*args)
        except RecursionError:  # too deep for native recursion: the hand loop said it
            continue
        assert got == expected, args


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_guarded_loop_checks_its_global_name_against_a_closure_cell(name: str) -> None:
    guarded = _example(name).guarded_loop
    own = f"{name}_guarded"
    assert guarded.__name__ == guarded.__qualname__ == guarded.__code__.co_qualname == own
    assert guarded.__module__ == ex.__name__ and getattr(ex, own) is guarded
    # ``me`` is the function itself, in the one cell of its closure ...
    assert guarded.__code__.co_freevars == ("me",)
    assert guarded.__closure__ is not None and guarded.__closure__[0].cell_contents is guarded
    # ... and its own name is only ever a global lookup: never a local or a cell
    loads = [(i.opname, i.argval) for i in dis.get_instructions(guarded)]
    assert ("LOAD_DEREF", "me") in loads
    assert {op for op, value in loads if value == own} == {"LOAD_GLOBAL"}
    assert own not in guarded.__code__.co_varnames + guarded.__code__.co_cellvars


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_guarded_loop_calls_whatever_its_global_name_holds(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rebinding the global name makes the guarded loop call the new binding, with the
    # arguments (and at the point) the native function's self call would: both are
    # compared case by case, the native's own global name rebound the same way.
    example = _example(name)
    guarded, native = example.guarded_loop, example.native
    recursed = 0
    for args in example.params:
        native_recorder, guarded_recorder = Recorder(), Recorder()
        monkeypatch.setattr(ex, native.__name__, native_recorder)
        monkeypatch.setattr(ex, guarded.__name__, guarded_recorder)
        got, expected = guarded(*args), native(*args)
        monkeypatch.undo()
        assert getattr(ex, guarded.__name__) is guarded  # restored
        assert guarded_recorder.calls == native_recorder.calls, args
        assert got == expected, args
        if guarded_recorder.calls:
            assert len(guarded_recorder.calls) == 1 and got == "recorded"
            recursed += 1
    assert recursed  # some case does recurse: the check was exercised
    assert guarded(*example.params[0]) == example.hand_loop(*example.params[0])


def test_guarded_loop_first_call_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    # One case spelled out: gcd(5, 3) tail-calls gcd(3, 2).
    recorder = Recorder()
    guarded = ex.gcd_guarded
    monkeypatch.setattr(ex, "gcd_guarded", recorder)
    assert guarded(5, 3) == "recorded"
    assert recorder.calls == [(3, 2)]


def test_variants_and_ratios_include_the_guarded_loop() -> None:
    variants = ex.build_variants([_example("gcd")], strategies=("loop",))
    assert list(variants["gcd"]) == [ex.NATIVE, ex.LOOP, ex.HAND_LOOP, ex.GUARDED_LOOP]
    assert variants["gcd"][ex.GUARDED_LOOP] is ex.gcd_guarded
    pairs = {pair.key: (pair.candidate, pair.reference) for pair in measure.ratio_pairs(["loop"])}
    assert pairs["guarded_loop_vs_hand"] == (ex.GUARDED_LOOP, ex.HAND_LOOP)
    assert pairs[f"{ex.LOOP}_vs_guarded"] == (ex.LOOP, ex.GUARDED_LOOP)
    assert pairs[f"{ex.LOOP}_vs_hand"] == (ex.LOOP, ex.HAND_LOOP)


def test_a_wrong_guarded_loop_is_a_mismatch() -> None:
    wrong = ex.Example("gcd", ex.gcd, ex.gcd_unrecursed, lambda a, b: -1, ((5, 3),))
    variants = ex.build_variants([wrong], strategies=())
    problems = ex.check_case(ex.Case(wrong, 0, (5, 3)), variants["gcd"])
    assert problems == ["gcd_0: guarded_loop returned -1, expected 1"]
