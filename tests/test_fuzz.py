"""Differential fuzzing: random tail-recursive programs behave the same optimized and native.

The generator and runner live in ``tests/fuzz`` (see docs/fuzzing.md). Here CI checks a
bounded number of programs on every interpreter: a seeded batch (in a worker subprocess, so
a crash is caught and pinned on its program; in process under Pyodide, which has no
subprocesses) and hypothesis examples (in process; hypothesis shrinks a failure).
``PYTEST_PYTAILCALL_FUZZ_EXAMPLES=N`` (and ``..._SEED``; ``..._LINES=1`` compares line
events too) runs an N-program campaign in process instead, the way to run one under
Pyodide.

The seeded batch and the hypothesis examples use ``generate.CI_MIX``: every shape except
those the library is known to get wrong today (``generate.KNOWN_FAILING``);
``PYTEST_PYTAILCALL_FUZZ_MIX`` changes the weights (``default`` for all shapes, or
``name=weight,...``). Campaigns start from ``DEFAULT_MIX``.

Failures found by the fuzzer become the regression tests at the end of this file, or are
kept as minimized programs in ``tests/fuzz/found/``, each checked against native.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from pytailcall import TailCallWarning, explain, tail_optimize  # noqa: E402
from tests.fuzz.generate import (  # noqa: E402
    CI_MIX,
    DEFAULT_MIX,
    KNOWN_FAILING,
    Mix,
    program_from_seed,
    programs,
)
from tests.fuzz.run import (  # noqa: E402
    IN_PROCESS_ONLY,
    _line_difference,
    available_modes,
    campaign,
    check_batch,
    check_program,
)

CAMPAIGN = int(os.environ.get("PYTEST_PYTAILCALL_FUZZ_EXAMPLES", "0"))
CAMPAIGN_SEED = int(os.environ.get("PYTEST_PYTAILCALL_FUZZ_SEED", "0"))
CAMPAIGN_SECONDS = float(os.environ.get("PYTEST_PYTAILCALL_FUZZ_SECONDS", "0")) or None
CAMPAIGN_LINES = bool(os.environ.get("PYTEST_PYTAILCALL_FUZZ_LINES"))
_MIX_CHANGES = os.environ.get("PYTEST_PYTAILCALL_FUZZ_MIX", "")
CI_BATCH_MIX = CI_MIX.updated(_MIX_CHANGES)
CAMPAIGN_MIX = DEFAULT_MIX.updated(_MIX_CHANGES)
BATCH = 40 if IN_PROCESS_ONLY else 120
FOUND = sorted((_ROOT / "tests" / "fuzz" / "found").glob("*.py"))


def _explain_failures(results) -> str:
    parts = []
    for result in results:
        if not result.ok:
            parts.append("\n".join(str(f) for f in result.failures) + "\n" + result.source)
    return "\n\n".join(parts)


def test_every_mode_is_checked():
    names = {(m["strategy"], m["escape_try"]) for m in available_modes()}
    assert ("loop", False) in names and ("loop", True) in names


def test_seeded_programs():
    sources = [program_from_seed(7_000 + i, CI_BATCH_MIX)[0] for i in range(BATCH)]
    if IN_PROCESS_ONLY:
        results = [check_program(source) for source in sources]
    else:
        results = check_batch(sources)
    assert all(r.ok for r in results), _explain_failures(results)
    assert sum(r.modes for r in results) >= len(sources)  # something was compared


def test_seeded_programs_show_native_line_events():
    """Tracers see the lines native code runs, in every mode; with the loop (but for saved
    contexts), in native order (``run._line_difference``)."""
    count = 15 if IN_PROCESS_ONLY else 40
    sources = [program_from_seed(9_000 + i, CI_BATCH_MIX)[0] for i in range(count)]
    if IN_PROCESS_ONLY:
        results = [check_program(source, lines=True) for source in sources]
    else:
        results = check_batch(sources, lines=True)
    assert all(r.ok for r in results), _explain_failures(results)
    assert sum(r.lines_compared for r in results) >= len(sources)


def test_line_comparison_is_not_vacuous():
    """A line native code runs and the optimized code does not, and lines in another
    order, are differences; the lines of ``return`` and ``pass`` statements natively seen
    only as frames return, seen earlier, are not."""
    source = "def f(n):\n    x = n\n    y = x\n    return (\n        f(n - 1))\n"
    native = [[("line", "f", 2), ("line", "f", 3), ("line", "f", 2), ("line", "f", 3),
               ("return", "f", 3), ("line", "f", 4), ("return", "f", 4)]]
    assert _line_difference(source, native, native, True) is None
    carried = [[("line", "f", 2), ("line", "f", 3), ("line", "f", 4), ("line", "f", 2),
                ("line", "f", 3), ("return", "f", 3)]]
    assert _line_difference(source, native, carried, True) is None
    missing = [[("line", "f", 2), ("line", "f", 3), ("line", "f", 2), ("line", "f", 3),
                ("return", "f", 3)]]
    assert "natively only: [('f', 4)]" in str(_line_difference(source, native, missing, True))
    swapped = [[("line", "f", 3), ("line", "f", 2), ("line", "f", 2), ("line", "f", 3),
                ("return", "f", 3), ("line", "f", 4)]]
    assert "differ from event 0" in str(_line_difference(source, native, swapped, True))
    assert _line_difference(source, native, swapped, False) is None  # (lines only)


@settings(max_examples=15 if IN_PROCESS_ONLY else 30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(CI_BATCH_MIX))
def test_hypothesis_programs(source):
    result = check_program(source)
    assert result.ok, _explain_failures([result])


@pytest.mark.skipif(not CAMPAIGN, reason="set PYTEST_PYTAILCALL_FUZZ_EXAMPLES=N for a campaign")
def test_campaign():
    summary = campaign(CAMPAIGN, CAMPAIGN_SEED, batch=100, in_process=True,
                       minimize_failures=True, log=lambda text: print(text, flush=True),
                       time_limit=CAMPAIGN_SECONDS, mix=CAMPAIGN_MIX, lines=CAMPAIGN_LINES)
    print({k: v for k, v in summary.items() if k not in ("failures", "internal")})
    print("internal refusals:", summary["internal"])
    for failure in summary["failures"]:
        print("\n".join(failure["failures"]))
        print(failure["program"])
    assert not summary["failures"]


def test_runner_detects_a_difference():
    """The comparison is not vacuous: a program whose behaviour depends on the stack."""
    source = (
        "import sys\n"
        "def f(fuel):\n"
        "    log('depth', len([1 for _ in iter(lambda fr=[sys._getframe()]: "
        "fr.__setitem__(0, fr[0].f_back) or fr[0], None)]))\n"
        "    if fuel <= 0:\n"
        "        return 0\n"
        "    return f(fuel - 1)\n"
        "f = optimize(f)\n"
        "def g(fuel):\n"
        "    return fuel\n"
        "CALLS = [lambda: f(5)]\n"
    )
    result = check_program(source)
    assert not result.ok
    assert {f.kind for f in result.failures} == {"log"}


DEEP_THROUGH_A_PLAIN_FUNCTION = """
def f(fuel):
    log('f', fuel)
    if fuel <= 0:
        return 0
    return g(fuel - 1)
f = optimize(f)
def g(fuel):
    return f(fuel - 1)
CALLS = [lambda: f(5)]
DEEP = [lambda: f(1000)]
"""


def test_deep_calls_catch_native_recursion():
    """A DEEP call that recurses natively in an optimized run is a failure: here through g,
    which is not optimized (explain(f) cannot know)."""
    result = check_program(DEEP_THROUGH_A_PLAIN_FUNCTION)
    assert result.deep and {f.kind for f in result.failures} == {"deep"}
    fixed = check_program(DEEP_THROUGH_A_PLAIN_FUNCTION.replace("CALLS", "g = optimize(g)\nCALLS"))
    assert fixed.ok and fixed.deep, _explain_failures([fixed])


def test_deep_calls_are_skipped_when_a_full_fuel_call_is_refused():
    source = DEEP_THROUGH_A_PLAIN_FUNCTION.replace(
        "    return g(fuel - 1)\n", "    try:\n        return f(fuel - 1)\n    finally:\n"
        "        log('out')\n")
    result = check_program(source)
    assert result.ok and result.deep == 0, _explain_failures([result])


def test_mix():
    assert DEFAULT_MIX.updated("ci") == CI_MIX
    assert CI_MIX.updated("default,plain=0").plain == 0
    assert all(getattr(CI_MIX, name) == 0 for name in KNOWN_FAILING)
    assert Mix().updated({"tail": 1}).tail == 1
    with pytest.raises(ValueError, match="unknown"):
        DEFAULT_MIX.updated("tails=3")
    with pytest.raises(ValueError, match="negative"):
        DEFAULT_MIX.updated("tail=-1")
    with pytest.raises(ValueError, match="add up to 0"):
        DEFAULT_MIX.updated("classic=0,tail=0,plain=0")


def test_generator_makes_every_shape():
    """Each kind of program and each shape of the default mix turns up in 300 programs."""
    sources = [program_from_seed(9_000 + i)[0] for i in range(300)]
    text = "\n".join(sources)
    for kind in ("classic", "tail", "plain"):
        assert f"# fuzz program: {kind}" in text, kind
    for shape in ("in gen((", "in It((", "except E as a:", "fast = optimize(f)",
                  "class Obj:", "return self.m(", "return OBJ.m(", "def u(", "DEEP = [",
                  "*(x", "return int(", "return len(", "return str(", "1 + f(",
                  "min(fuel - 1, 8)", "del a\n", "f(fuel - 1, a"):
        assert shape in text, shape


@pytest.mark.parametrize("path", FOUND, ids=[path.stem for path in FOUND])
def test_found_programs(path):
    """Minimized programs on which the library differed from native, or left calls native
    with "please report this" (each file says how): they must now match native, with no
    such gap."""
    result = check_program(path.read_text())
    assert result.ok, str(result.failures[0])[:300]
    assert not result.internal, result.internal[0][:300]


# -- regression tests: minimized programs the fuzzer found ---------------------------------

_LONG_BODY = "\n".join(f"    x{i} = n + {i}" for i in range(150))
STAR_CALL_IN_LONG_FUNCTION = f"""
def f(n, *rest):
    if n > 0:
        return f(*(n - 1,))
{_LONG_BODY}
    return n
"""


def test_star_call_in_a_long_function_is_optimized():
    """Found by the fuzzer (program 45 of seed 0, 3.11-3.13): ``return f(*(...))`` followed
    by a long body is refused with "could not analyse ... please report this", and so are
    all the other calls of that function."""
    namespace: dict = {"__name__": "regression"}
    exec(STAR_CALL_IN_LONG_FUNCTION, namespace)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", TailCallWarning)
        optimized = tail_optimize(namespace["f"])
    assert all(site.optimized for site in explain(optimized).sites), explain(optimized)
    namespace["f"] = optimized
    assert optimized(100_000) == 0


def test_star_call_in_a_long_function_still_behaves_natively():
    result = check_program(
        STAR_CALL_IN_LONG_FUNCTION.replace("def f(n, *rest):", "def f(fuel, *rest):")
        .replace("n > 0", "fuel > 0").replace("n - 1", "fuel - 1").replace("n +", "fuel +")
        .replace("return n\n", "return fuel\n")
        + "f = optimize(f)\nCALLS = [lambda: f(50), lambda: f(0, 1)]\n")
    assert result.ok, _explain_failures([result])


CONDITIONAL_LAST_ARGUMENT = """
def f(n, a=0):
    if n == 0:
        return a
    return f(n - 1, a + 1 if n < 3 else a)
"""


def test_conditional_expression_as_last_argument_is_optimized():
    """From 3.12 the compiler copies the call and its return into both arms of a
    conditional last argument; both copies share the callee's load."""
    namespace: dict = {"__name__": "regression"}
    exec(CONDITIONAL_LAST_ARGUMENT, namespace)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", TailCallWarning)
        optimized = tail_optimize(namespace["f"])
    assert all(site.optimized for site in explain(optimized).sites), explain(optimized)
    namespace["f"] = optimized
    assert optimized(100_000) == 2


KEYWORD_CALL_FAR_FROM_ITS_STUB = """
def f(fuel, a=0, b=0, *, k):
    log('f', fuel, a, b, k)
    if fuel <= 0:
        return 0
    match 0:
        case 0:
            if 0 < ((0 * 0 % 101) if 0 < 0 else (0 * 0 % 101)):
                if 0 % 2 == 0:
                    return f(fuel - 1, (lambda y: y + 0)(0), (0 if 0 < 0 else 0), k=(lambda y: y + (a if k <= a else 7))(0))
                elif ((lambda y: y + 0)(a) ^ (k if b == k else K)) % 2 == 1:
                    v1 = ((lambda y: y + fuel)(fuel) + fuel)
                    v1 = f(min(fuel - 1, 1), a=(sum(5 for x1 in range(3 % 4)) + (lambda y: y + 7)(K)), b=((K ^ K) + K), k=7)
                elif k < b:
                    v1 = K
                    log('s2', 1)
        case 1 | 2:
            pass
    return f(fuel - 2, sum(fuel for x3 in range((K or fuel) % 4)), k=a) if (v2 := (a + 0)) % 2 == 0 else g(fuel - 1)
f = optimize(f)
def g(fuel):
    log('g', fuel)
    if fuel <= 0:
        return 0
    pass
    return g(fuel - 1)
CALLS = [lambda: f(0, -3, -3, k=-3), lambda: f(30, 2, 1, k=3)]
"""  # noqa: E501


def test_keyword_call_far_from_its_stub_behaves_natively():
    result = check_program(KEYWORD_CALL_FAR_FROM_ITS_STUB)
    assert result.ok, _explain_failures([result])


def test_keyword_call_far_from_its_stub_is_optimized():
    """Was refused on 3.12: 'no room for a jump to unit 343 in 5 code units'."""
    result = check_program(KEYWORD_CALL_FAR_FROM_ITS_STUB)
    assert not result.internal, result.internal


OPTIMIZING_THE_ORIGINAL = """
def f(fuel):
    log('f', fuel)
    if fuel <= 0:
        return 0
    return f(fuel - 1)
fast = optimize(f)
CALLS = [lambda: fast(3)]
DEEP = [lambda: fast(1000)]
"""


def test_optimizing_the_original_keeps_deep_calls_flat():
    """Found by the fuzzer (shape slow_form, 3.11-3.13, against 5375eaa): with
    ``fast = tail_optimize(f)`` the body's calls to ``f``, the original, stayed normal calls,
    and the DEEP call ``fast(1000)`` raised RecursionError in every mode."""
    result = check_program(OPTIMIZING_THE_ORIGINAL)
    assert result.ok, _explain_failures([result])
    assert result.deep == result.modes
