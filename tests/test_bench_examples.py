"""The benchmark's guarded loops: each example's hand-written loop with the identity check an
exact rewrite needs before every jump back (``if gcd_guarded is not me: return
gcd_guarded(...)``), the second reference ``bench`` measures the loop strategy against.

A guarded loop is only a fair floor if it does what the rewrite does: return the same
results as the native function, look its own name up as a *global* at run time, and hold
itself in a closure cell.  The ``bench`` command's report and JSON are covered in
``tests/test_cli.py``, the chart in ``tests/test_plot.py``.

Then the unguarded loop (the loop strategy with ``name_guard=False``): built for every
example in a namespace of its own, its self calls jump without the name guard, which the
check before timing insists on.

Then the modulo-context section's workload: each hand-written two-loop version returns what
native recursion does, and each optimized variant is one whose self call ``explain()`` says
is optimized modulo context, which the check before timing insists on.

Last, the methods section's: ``Walker``'s hand loops return what its methods do, and in the
optimized copy of the class ``walk``'s call to itself jumps and ``ping``/``pong`` bounce.
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
    labels = [ex.NATIVE, ex.LOOP, ex.UNGUARDED_LOOP, ex.HAND_LOOP, ex.GUARDED_LOOP]
    assert list(variants["gcd"]) == labels
    assert variants["gcd"][ex.GUARDED_LOOP] is ex.gcd_guarded
    pairs = {pair.key: (pair.candidate, pair.reference) for pair in measure.ratio_pairs(["loop"])}
    assert pairs["guarded_loop_vs_hand"] == (ex.GUARDED_LOOP, ex.HAND_LOOP)
    assert pairs["unguarded_loop_vs_hand"] == (ex.UNGUARDED_LOOP, ex.HAND_LOOP)
    assert pairs[f"{ex.LOOP}_vs_guarded"] == (ex.LOOP, ex.GUARDED_LOOP)
    assert pairs[f"{ex.LOOP}_vs_hand"] == (ex.LOOP, ex.HAND_LOOP)


def test_a_wrong_guarded_loop_is_a_mismatch() -> None:
    wrong = ex.Example("gcd", ex.gcd, ex.gcd_unrecursed, lambda a, b: -1, ((5, 3),))
    variants = ex.build_variants([wrong], strategies=())
    problems = ex.check_case(ex.Case(wrong, 0, (5, 3)), variants["gcd"])
    assert problems == ["gcd_0: guarded_loop returned -1, expected 1"]


# --- the unguarded loop: the loop strategy with name_guard=False -----------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_unguarded_loop_jumps_without_the_name_guard(name: str) -> None:
    from pytailcall import explain

    example = _example(name)
    variants = ex.build_variants([example], strategies=("loop",))[name]
    unguarded = variants[ex.UNGUARDED_LOOP]
    assert unguarded is not variants[ex.LOOP]
    report = explain(unguarded)
    assert report.applied and report.strategy == "loop" and report.optimized
    assert all(site.via and ex.UNGUARDED in site.via for site in report.optimized)
    assert not any(ex.UNGUARDED in (site.via or "") for site in explain(variants[ex.LOOP]).sites)
    # built in a namespace of its own, where its name holds it (the promise is kept) ...
    assert unguarded.__globals__[example.native.__name__] is unguarded
    assert example.native.__globals__[example.native.__name__] is example.native
    # ... and it agrees with every other variant on every case, native included
    for index, args in enumerate(example.params):
        assert ex.check_case(ex.Case(example, index, args), variants) == []


def test_unguarded_loop_needs_the_loop_strategy() -> None:
    variants = ex.build_variants([_example("gcd")], strategies=("partial",))
    assert ex.UNGUARDED_LOOP not in variants["gcd"]
    keys = {pair.key for pair in measure.ratio_pairs(["partial"])}
    assert "unguarded_loop_vs_hand" not in keys and "guarded_loop_vs_hand" in keys


def test_unguarded_loop_that_checks_its_name_is_a_problem() -> None:
    example = _example("gcd")
    variants = dict(ex.build_variants([example], strategies=("loop",))["gcd"])
    case = ex.Case(example, 0, (5, 3))
    variants[ex.UNGUARDED_LOOP] = ex.optimized(example, "loop")  # with the name guard
    assert ex.check_case(case, variants) == [
        "gcd_0: unguarded_loop checks its name (explain(): jump)"
    ]
    variants[ex.UNGUARDED_LOOP] = ex.gcd_unrecursed  # not made by pytailcall at all
    assert ex.check_case(case, variants) == [
        "gcd_0: unguarded_loop is not a function tail_optimize made"
    ]
    variants[ex.UNGUARDED_LOOP] = lambda a, b: -1
    assert "gcd_0: unguarded_loop returned -1, expected 1" in ex.check_case(case, variants)


# --- tail recursion modulo context ----------------------------------------------------------

CONTEXT_NAMES = [case.name for case in ex.CONTEXT_CASES]


def _context_case(name: str) -> ex.ContextCase:
    return next(case for case in ex.CONTEXT_CASES if case.name == name)


def test_context_cases_are_the_three_workloads() -> None:
    assert [(case.name, case.call) for case in ex.CONTEXT_CASES] == [
        ("fact_mod", "fact_mod(800, 1000003)"),
        ("length", "length(<linked list of 800 nodes>)"),
        ("build", "build(800)"),
    ]
    assert ex.length(ex.linked_list(800)) == 800
    assert ex.linked_list(2) == (1, (0, None))


@pytest.mark.parametrize("name", CONTEXT_NAMES)
def test_context_hand_loop_agrees_with_native(name: str) -> None:
    case = _context_case(name)
    assert case.hand_loop(*case.args) == case.native(*case.args)
    small = {"fact_mod": ((5, 1000003), 120), "length": ((ex.linked_list(3),), 3)}
    small["build"] = ((2,), (2, (1, None)))
    args, expected = small[name]
    assert case.native(*args) == case.hand_loop(*args) == expected


def _values(node: Any) -> list[Any]:
    """The values of a linked list of ``(value, next)`` nodes, walked without recursion."""
    values = []
    while node is not None:
        values.append(node[0])
        node = node[1]
    return values


@pytest.mark.parametrize("name", CONTEXT_NAMES)
def test_context_variant_is_optimized_modulo_context(name: str) -> None:
    from pytailcall import explain

    case = _context_case(name)
    variants = ex.build_context_variants([case])[name]
    assert list(variants) == [ex.NATIVE, ex.LOOP, ex.HAND_LOOP]
    (site,) = explain(variants[ex.LOOP]).optimized
    assert site.via is not None and ex.MODULO_CONTEXT in site.via
    assert ex.check_context(case, variants) == []
    # the optimized one finds itself under its name in a namespace of its own: far past the
    # recursion limit, and the module's native function untouched
    deep = {"fact_mod": (5000, 1000003), "length": (ex.linked_list(5000),), "build": (5000,)}
    got, expected = variants[ex.LOOP](*deep[name]), case.hand_loop(*deep[name])
    if name == "build":  # == on 5,000 nested tuples would itself overflow the stack
        got, expected = _values(got), _values(expected)
        assert expected == list(range(5000, 0, -1))
    assert got == expected
    assert case.native.__globals__[name] is case.native
    with pytest.raises(RecursionError):
        case.native(*deep[name])


def test_context_call_not_optimized_modulo_context_is_a_problem() -> None:
    import warnings

    from pytailcall import TailCallWarning, tail_optimize

    case = _context_case("length")
    variants = dict(ex.build_context_variants([case])["length"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        variants[ex.LOOP] = tail_optimize(ex.length, modulo_context=False)
    where = "length(<linked list of 800 nodes>): loop (internal_loop)"
    problems = ex.check_context(case, variants)
    assert problems == [f"{where} optimized no call (explain() lists none)"]
    variants[ex.LOOP] = ex.length_unrecursed  # not made by pytailcall at all
    assert ex.check_context(case, variants) == [f"{where} is not a function tail_optimize made"]


def test_context_wrong_hand_loop_is_a_mismatch() -> None:
    wrong = ex.ContextCase("build", ex.build, lambda n: None, (3,), "build(3)")
    variants = ex.build_context_variants([wrong])["build"]
    assert ex.check_context(wrong, variants) == [
        "build(3): native returned (3, (2, (1, None))), expected None",
        "build(3): internal_loop returned (3, (2, (1, None))), expected None",
    ]


def test_context_pairs_are_speedups_over_native_and_loop_over_hand() -> None:
    pairs = {pair.key: (pair.candidate, pair.reference) for pair in measure.context_pairs()}
    assert pairs == {
        f"{ex.LOOP}_speedup_vs_native": (ex.NATIVE, ex.LOOP),
        f"{ex.HAND_LOOP}_speedup_vs_native": (ex.NATIVE, ex.HAND_LOOP),
        f"{ex.LOOP}_vs_hand": (ex.LOOP, ex.HAND_LOOP),
    }


def test_context_is_a_section() -> None:
    assert ex.select([ex.CONTEXT]) == []
    assert ex.context_selected(None) and ex.context_selected([ex.CONTEXT, "gcd"])
    assert not ex.context_selected(["gcd"]) and not ex.context_selected([ex.BOUNCE])


# --- tail calls in methods ------------------------------------------------------------------


def test_methods_workload_is_walk_then_ping_pong() -> None:
    workload = ex.METHOD_WORKLOAD
    assert workload.cls is ex.Walker
    assert [(case.name, case.call, case.args) for case in workload.cases] == [
        ("walk", "walk(500, 0)", (500, 0))
    ]
    assert workload.mutual.title == "ping/pong"
    assert workload.mutual.natives == (ex.Walker.ping, ex.Walker.pong)
    assert workload.mutual.ns == ex.EVEN_ODD.ns and workload.mutual.reference_n == 500
    assert workload.optimized == ("walk", "ping", "pong")


def test_methods_hand_loops_agree_with_native() -> None:
    walker = ex.Walker()
    for n in (0, 1, 7, 500):
        assert walker.walk_unrecursed(n, 3) == walker.walk(n, 3) == n + 3
        assert walker.ping_unrecursed(n) == walker.ping(n) == (n % 2 == 0)
        assert walker.pong(n) == (n % 2 == 1)


def test_method_variants_jump_and_bounce_in_a_copy_of_the_class() -> None:
    from pytailcall import explain

    variants = ex.build_method_variants()
    walk = variants.cases["walk"]
    assert list(walk) == list(variants.bounce) == [ex.NATIVE, ex.LOOP, ex.HAND_LOOP]
    # bound methods: native and hand loop of one Walker, optimized of the class's copy
    made = walk[ex.LOOP].__self__
    assert type(walk[ex.NATIVE].__self__) is ex.Walker is type(walk[ex.HAND_LOOP].__self__)
    assert type(made) is not ex.Walker and type(made).__qualname__ == "Walker"
    assert variants.bounce[ex.LOOP].__self__ is made
    (site,) = explain(walk[ex.LOOP].__func__).optimized
    assert site.via is not None and site.via.startswith(ex.METHOD_JUMP)
    (out,) = explain(variants.bounce[ex.LOOP].__func__).calls_out
    assert out.optimized and out.target == "pong"
    assert ex.check_methods(ex.METHOD_WORKLOAD, variants) == []
    # far past the recursion limit, and the module's class left native
    assert walk[ex.LOOP](100_000, 0) == 100_000
    assert variants.bounce[ex.LOOP](100_001) is False
    assert not hasattr(ex.Walker.walk, "__wrapped__")
    with pytest.raises(RecursionError):
        ex.Walker().walk(100_000, 0)


def test_method_that_does_not_jump_or_bounce_is_a_problem() -> None:
    import warnings

    from pytailcall import TailCallWarning, tail_optimize

    workload = ex.METHOD_WORKLOAD
    variants = ex.build_method_variants(workload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailCallWarning)
        bouncing = tail_optimize(ex.Walker.walk, strategy="return_tuple")
    walk = variants.cases["walk"]
    walk[ex.LOOP] = bouncing.__get__(walk[ex.LOOP].__self__)
    variants.bounce[ex.LOOP] = variants.bounce[ex.NATIVE]  # not made by pytailcall
    problems = ex.check_methods(workload, variants)
    assert problems[0].startswith(
        "walk(500, 0): loop (internal_loop) does not jump (explain(): bounce (return_tuple) "
        "when the method found is this function"
    )
    assert problems[1:] == [
        "ping(...): loop (internal_loop) is not a method tail_optimize made",
        "ping(100000): internal_loop raised RecursionError",
    ]


def test_method_pairs_are_the_context_ratios() -> None:
    pairs = {pair.key: (pair.candidate, pair.reference) for pair in measure.method_pairs()}
    assert pairs == {
        f"{ex.LOOP}_speedup_vs_native": (ex.NATIVE, ex.LOOP),
        f"{ex.HAND_LOOP}_speedup_vs_native": (ex.NATIVE, ex.HAND_LOOP),
        f"{ex.LOOP}_vs_hand": (ex.LOOP, ex.HAND_LOOP),
    }


def test_methods_is_a_section() -> None:
    assert ex.METHODS in ex.SECTIONS and ex.select([ex.METHODS]) == []
    assert ex.methods_selected(None) and ex.methods_selected([ex.METHODS, "gcd"])
    assert not ex.methods_selected(["gcd"]) and not ex.methods_selected([ex.CONTEXT])
