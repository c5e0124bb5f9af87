"""Differential fuzzing: random tail-recursive programs behave the same optimized and native.

The generator and runner live in ``tests/fuzz`` (see docs/fuzzing.md). Here CI checks a
bounded number of programs on every interpreter: a seeded batch (in a worker subprocess, so
a crash is caught and pinned on its program; in process under Pyodide, which has no
subprocesses) and hypothesis examples (in process; hypothesis shrinks a failure).
``PYTEST_PYTAILCALL_FUZZ_EXAMPLES=N`` (and ``..._SEED``) runs an N-program campaign in
process instead, the way to run one under Pyodide.

Failures found by the fuzzer become the regression tests at the end of this file.
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
from tests.fuzz.generate import program_from_seed, programs  # noqa: E402
from tests.fuzz.run import (  # noqa: E402
    IN_PROCESS_ONLY,
    available_modes,
    campaign,
    check_batch,
    check_program,
)

CAMPAIGN = int(os.environ.get("PYTEST_PYTAILCALL_FUZZ_EXAMPLES", "0"))
CAMPAIGN_SEED = int(os.environ.get("PYTEST_PYTAILCALL_FUZZ_SEED", "0"))
CAMPAIGN_SECONDS = float(os.environ.get("PYTEST_PYTAILCALL_FUZZ_SECONDS", "0")) or None
BATCH = 40 if IN_PROCESS_ONLY else 120


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
    sources = [program_from_seed(7_000 + i)[0] for i in range(BATCH)]
    if IN_PROCESS_ONLY:
        results = [check_program(source) for source in sources]
    else:
        results = check_batch(sources)
    assert all(r.ok for r in results), _explain_failures(results)
    assert sum(r.modes for r in results) >= len(sources)  # something was compared


@settings(max_examples=15 if IN_PROCESS_ONLY else 30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_hypothesis_programs(source):
    result = check_program(source)
    assert result.ok, _explain_failures([result])


@pytest.mark.skipif(not CAMPAIGN, reason="set PYTEST_PYTAILCALL_FUZZ_EXAMPLES=N for a campaign")
def test_campaign():
    summary = campaign(CAMPAIGN, CAMPAIGN_SEED, batch=100, in_process=True,
                       minimize_failures=True, log=lambda text: print(text, flush=True),
                       time_limit=CAMPAIGN_SECONDS)
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
