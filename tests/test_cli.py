"""The ``pytailcall`` command line: dispatch, exit codes and the ``bench --json`` document.

The benchmark runs in its hidden ``--tiny`` mode on a few cases (tail calls between
functions only just past the recursion limit), which exercises the whole path (strategy
discovery, variants, correctness check, interleaved timing, report, JSON) in a fraction of a
second; the real figures come from ``python -m pytailcall bench``.
``explain`` and ``dis`` run on a module each test writes to its own temporary directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import pytailcall
from pytailcall.bench import examples as ex
from pytailcall.bench import measure
from pytailcall.cli import main

SEED_EXAMPLE_KEYS = {"native", "internal_loop", "partial_func", "return_tuple"}
SEED_FIB_KEYS = {"fib", "fib_unrecursed", "partial_func", "return_tuple", "internal_loop"}


def test_bench_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    # gcd never overflows natively; modulo_1 (6,000 frames deep) always does; so does fib(1500).
    argv = ["bench", "--tiny", "--only", "gcd", "--only", "modulo_1", "--json", str(out)]
    code = main([*argv, "--fib-n", "5", "--fib-n", "1500"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("Testing all functions work\n")
    assert "Testing with N=5 so we can see overheads" in captured.out
    assert "Testing with N=1500 (greater than recursion limit)" in captured.out
    assert "gcd_2" in captured.out and "decoration time" in captured.out
    # the report shows each case's call beside its id, and the strategies under both names
    row = next(line for line in captured.out.splitlines() if line.startswith("gcd_2 "))
    assert re.split(r"\s{2,}", row)[:2] == ["gcd_2", "gcd(23305295513, 3)"]
    header = next(line for line in captured.out.splitlines() if line.startswith("case "))
    # the loop strategy without the name guard next to the loop strategy
    assert re.split(r"\s{2,}", header)[:7] == [
        "case",
        "call",
        "native",
        "loop (internal_loop)",
        "unguarded_loop",
        "partial (partial_func)",
        "return_tuple",
    ]
    # then the two references, the ratios of each loop to the hand loop and the loop
    # strategy's ratios
    assert re.split(r"\s{2,}", header)[7:] == [
        "hand_loop",
        "guarded_loop",
        "guarded/hand",
        "unguarded/hand",
        "loop/hand",
        "loop/guarded",
        "loop speedup",
    ]
    assert all(cell.endswith("x") for cell in re.split(r"\s{2,}", row)[9:14])
    assert not re.split(r"\s{2,}", row)[4].endswith("x")  # unguarded_loop's time
    assert "loop (internal_loop)  : " in captured.out  # fib's rows too
    assert "guarded_loop          : " in captured.out
    assert "unguarded_loop        : " in captured.out
    assert "examples, us per call (min over rounds); ratios (median over rounds" in captured.out
    assert "loop/guarded (loop over guarded_loop)" in captured.out
    assert "unguarded/hand (unguarded_loop over hand_loop)" in captured.out
    assert "unguarded_loop: loop with name_guard=False" in captured.out

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema"] == 3
    assert doc["python"] == platform.python_version()
    assert doc["implementation"] == platform.python_implementation()
    # Figures name the processor and the commit they were taken on (the test runs from a
    # checkout, but CI's clean clone and an installed copy may lack git: a string either way).
    assert isinstance(doc["processor"], str) and doc["processor"]
    assert isinstance(doc["commit"], str) and doc["commit"]
    available = set(doc["strategies"].values())
    assert "internal_loop" in available
    assert available | set(doc["unavailable"]) == SEED_EXAMPLE_KEYS - {"native"}

    assert [f["n"] for f in doc["fib"]] == [5, 1500]
    fib_5, fib_1500 = doc["fib"]
    assert set(fib_5["results"]) == SEED_FIB_KEYS
    assert fib_5["results"]["fib"] > 0 and fib_5["speedup"]["internal_loop"] > 0
    assert fib_5["guarded_loop"] > 0 and fib_5["speedup"]["guarded_loop"] > 0
    assert fib_5["unguarded_loop"] > 0 and fib_5["speedup"]["unguarded_loop"] > 0
    assert set(fib_5["median"]) == SEED_FIB_KEYS | {"guarded_loop", "unguarded_loop"}
    assert fib_1500["unguarded_loop"] > 0 and "unguarded_loop" not in fib_1500["notes"]
    assert fib_1500["results"]["fib"] is None and fib_1500["notes"]["fib"] == "RecursionError"
    assert fib_1500["results"]["internal_loop"] > 0

    assert [e["name"] for e in doc["examples"]] == ["gcd_0", "gcd_1", "gcd_2", "modulo_1"]
    gcd_0, modulo_1 = doc["examples"][0], doc["examples"][3]
    assert gcd_0["args"] == [5, 3]
    for entry in doc["examples"]:
        assert set(entry["results"]) == SEED_EXAMPLE_KEYS
        for label, seconds in entry["results"].items():
            if label in doc["unavailable"]:
                assert seconds is None and entry["notes"][label] == "strategy not available"
    assert all(gcd_0["results"][label] > 0 for label in available | {"native"})
    assert gcd_0["hand_loop"] > 0 and gcd_0["guarded_loop"] > 0 and gcd_0["unguarded_loop"] > 0
    assert set(gcd_0["median"]) == SEED_EXAMPLE_KEYS | {
        "unguarded_loop",
        "hand_loop",
        "guarded_loop",
    }
    assert gcd_0["ratios"]["unguarded_loop_vs_hand"] > 0
    assert gcd_0["ratios"]["internal_loop_vs_hand"] > 0
    assert gcd_0["ratios"]["internal_loop_vs_guarded"] > 0
    assert gcd_0["ratios"]["guarded_loop_vs_hand"] > 0
    assert gcd_0["ratios"]["internal_loop_speedup_vs_native"] > 0
    assert modulo_1["results"]["native"] is None
    assert modulo_1["notes"]["native"] == "RecursionError"
    assert (
        modulo_1["results"]["internal_loop"] > 0 and modulo_1["ratios"]["internal_loop_vs_hand"] > 0
    )
    assert modulo_1["ratios"]["internal_loop_speedup_vs_native"] is None
    assert modulo_1["guarded_loop"] > 0 and modulo_1["ratios"]["internal_loop_vs_guarded"] > 0
    assert modulo_1["unguarded_loop"] > 0 and modulo_1["ratios"]["unguarded_loop_vs_hand"] > 0
    assert set(doc["decorate_us"]["loop"]) == {"gcd", "modulo"}
    assert set(doc["decorate_median_us"]["loop"]) == {"gcd", "modulo"}
    assert 0 < doc["decorate_us"]["loop"]["gcd"] <= doc["decorate_median_us"]["loop"]["gcd"]
    assert doc["settings"]["decorate_runs"] >= 1
    # --only picks examples: tail calls between functions are not measured unless named,
    # nor is tail recursion modulo context, nor are tail calls in methods.
    assert doc["bounce"] is None and "Tail calls between functions" not in captured.out
    assert doc["context"] is None and "Tail recursion modulo context" not in captured.out
    assert doc["methods"] is None and "Tail calls in methods" not in captured.out


def test_decorations_are_timed_in_interleaved_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A neighbour that slows the machine for a while moves every decoration timed in that
    while: each round times every (strategy, example) once, in a rotated order, and keeps
    the median of its decorations; each decoration gets a code object never decorated."""
    clock = [0]
    monkeypatch.setattr(measure.time, "perf_counter_ns", lambda: clock[0])
    order: list[tuple[str, str]] = []
    codes: list[types.CodeType] = []  # kept alive, so that their ids are distinct

    def decorator(key: tuple[str, str], costs: list[int]) -> Callable[[Any], object]:
        def decorate(func: Any) -> object:
            order.append(key)
            assert func.__code__ is not gcd_native.__code__
            codes.append(func.__code__)
            clock[0] += costs[len(order) % len(costs)]
            return func
        return decorate

    def gcd_native(a: int, b: int) -> int:
        return a if not b else gcd_native(b, a % b)

    keys = [("loop", "gcd"), ("partial", "gcd")]
    decorators = {key: decorator(key, [1_000, 5_000, 3_000]) for key in keys}
    settings = measure.Settings(rounds=4, decorate_runs=3)
    per_round = measure.time_decorations(decorators, {"gcd": gcd_native}, settings)

    rounds = [order[i:i + 6] for i in range(0, len(order), 6)]
    assert len(rounds) == 4
    assert [r[0] for r in rounds] == [keys[0], keys[1], keys[0], keys[1]]  # rotated
    assert all(sorted(r) == sorted(keys * 3) for r in rounds)  # each key once, 3 in a row
    assert all(r[0] == r[1] == r[2] for r in rounds)
    assert len({id(code) for code in codes}) == 24  # a code object per decoration
    # Each round's three costs are 1, 5 and 3 µs in some order: their median is 3 µs.
    assert per_round == {key: [3.0] * 4 for key in keys}


def test_bench_bounce_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "--tiny", "--only", ex.BOUNCE, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Testing all functions work\n")
    assert "Tail calls between functions (is_even/is_odd)" in captured.out
    assert "examples, us per call" not in captured.out and "decoration time" not in captured.out
    assert "Testing with N=" not in captured.out  # no fib timings either

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["fib"] == [] and doc["examples"] == [] and doc["decorate_us"] == {}
    bounce = doc["bounce"]
    assert bounce["functions"] == "is_even/is_odd"
    assert bounce["reference_n"] == 500 and bounce["target_vs_native"] == 2.0
    assert bounce["aim_vs_native"] == 1.2
    # the tiny mode's deep run is just past the recursion limit (the real one is 100,000)
    assert [run["n"] for run in bounce["runs"]] == [500, 2000]
    available = set(doc["strategies"].values())
    labels = SEED_EXAMPLE_KEYS | {"hand_loop"}
    shallow, deep = bounce["runs"]
    for run in bounce["runs"]:
        for key in ("results", "median", "per_bounce", "vs_native"):
            assert set(run[key]) == labels
        for label in available | {"hand_loop"}:
            assert run["results"][label] > 0 and run["vs_native"][label] > 0
            assert run["per_bounce"][label] == pytest.approx(run["results"][label] / run["n"])
    assert shallow["results"]["native"] > 0 and shallow["vs_native"]["native"] == 1.0
    assert shallow["notes"] == {}
    assert deep["results"]["native"] is None and deep["vs_native"]["native"] is None
    assert deep["notes"] == {"native": "RecursionError"}

    row = next(line for line in captured.out.splitlines() if line.startswith("native"))
    assert "recursion error" in row and "1.00x" in row
    # the 2x target (and 1.2x aim) is said to be a target, and the ratios medians, unlike the times
    assert "(target, not a result: vs native at most 2x, aiming at 1.2x)" in captured.out
    assert "vs native: median over rounds of per-round ratios" in captured.out
    assert "us/call: min over rounds" in captured.out
    assert any(line.startswith("loop (internal_loop) ") for line in captured.out.splitlines())


def test_bench_bounce_after_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tiny", "--only", "gcd_0", "--only", ex.BOUNCE]) == 0
    out = capsys.readouterr().out
    examples = out.index("examples, us per call")
    assert examples < out.index("Tail calls between functions") < out.index("decoration time")


def test_bench_bounce_wrong_result_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = dataclasses.replace(ex.EVEN_ODD, expected=lambda n: n % 2 == 1)
    monkeypatch.setattr(ex, "EVEN_ODD", wrong)
    assert main(["bench", "--tiny", "--only", ex.BOUNCE]) == 1
    captured = capsys.readouterr()
    assert "mismatch: is_even(500): internal_loop returned True, expected False" in captured.err
    assert "mismatch: is_even(500): hand_loop returned True, expected False" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_bench_bounce_variants_call_each_other_optimized() -> None:
    # Each strategy's is_even finds the optimized is_odd under its global name, in a
    # namespace of its own: far past the recursion limit, and the real module untouched.
    variants = ex.build_mutual_variants(strategies=ex.available_strategies())
    for label, func in variants.items():
        if label != ex.NATIVE:
            assert func(100_001) is False, label
    assert ex.is_odd.__globals__["is_odd"] is ex.is_odd
    with pytest.raises(RecursionError):
        ex.is_even(100_000)


CONTEXT_LABELS = {"native", "internal_loop", "hand_loop"}
CONTEXT_RATIOS = {
    "internal_loop_speedup_vs_native",
    "hand_loop_speedup_vs_native",
    "internal_loop_vs_hand",
}


def test_bench_context_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "--tiny", "--only", ex.CONTEXT, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Testing all functions work\n")
    assert "Tail recursion modulo context" in captured.out
    assert "loop (internal_loop): tail_optimize with its default options" in captured.out
    assert "x faster than native, higher is better" in captured.out
    assert "examples, us per call" not in captured.out and "decoration time" not in captured.out
    assert "Tail calls between functions" not in captured.out
    assert "Testing with N=" not in captured.out
    lines = captured.out.splitlines()
    header = next(line for line in lines if line.startswith("case "))
    assert re.split(r"\s{2,}", header) == [
        "case",
        "call",
        "native",
        "loop (internal_loop)",
        "hand_loop",
        "loop speedup",
        "hand speedup",
        "loop/hand",
    ]
    rows = [re.split(r"\s{2,}", line) for line in lines[lines.index(header) + 1 :] if line]
    assert [row[:2] for row in rows] == [
        ["fact_mod", "fact_mod(800, 1000003)"],
        ["length", "length(<linked list of 800 nodes>)"],
        ["build", "build(800)"],
    ]
    assert all(len(row) == 8 and all(cell.endswith("x") for cell in row[5:]) for row in rows)
    assert "timing fact_mod(800, 1000003) (modulo context)" in captured.err

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema"] == 3
    assert doc["fib"] == [] and doc["examples"] == [] and doc["bounce"] is None
    assert doc["methods"] is None and "Tail calls in methods" not in captured.out
    cases = doc["context"]["cases"]
    assert [(case["name"], case["call"]) for case in cases] == [(row[0], row[1]) for row in rows]
    for case in cases:
        assert set(case["results"]) == set(case["median"]) == CONTEXT_LABELS
        assert set(case["ratios"]) == CONTEXT_RATIOS
        assert all(seconds > 0 for seconds in case["results"].values())
        assert all(ratio > 0 for ratio in case["ratios"].values())
        assert case["notes"] == {}


def test_bench_context_after_bounce(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tiny", "--only", ex.CONTEXT, "--only", ex.BOUNCE]) == 0
    out = capsys.readouterr().out
    assert out.index("Tail calls between functions") < out.index("Tail recursion modulo context")


def test_bench_context_not_optimized_modulo_context_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # tail_optimize with modulo context turned off leaves every self call a normal call
    def without_context(func: ex.AnyFunc) -> ex.AnyFunc:
        return ex.decorate(func, "loop", {"modulo_context": False})

    monkeypatch.setattr(ex, "optimized_default", without_context)
    with pytest.warns(pytailcall.TailCallWarning):
        assert main(["bench", "--tiny", "--only", ex.CONTEXT]) == 1
    captured = capsys.readouterr()
    for call in ("fact_mod(800, 1000003)", "length(<linked list of 800 nodes>)", "build(800)"):
        assert f"mismatch: {call}: loop (internal_loop) optimized no call" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_bench_context_wrong_result_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = ex.ContextCase("length", ex.length, lambda node: -1, (ex.linked_list(3),), "length(3)")
    monkeypatch.setattr(ex, "CONTEXT_CASES", (wrong,))
    assert main(["bench", "--tiny", "--only", ex.CONTEXT]) == 1
    captured = capsys.readouterr()
    assert "mismatch: length(3): native returned 3, expected -1" in captured.err
    assert "mismatch: length(3): internal_loop returned 3, expected -1" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_bench_methods_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "--tiny", "--only", ex.METHODS, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Testing all functions work\n")
    assert "Tail calls in methods (walk: self.walk(...); ping: self.pong(...)" in captured.out
    assert "walk's call jumps when the" in captured.out
    assert "x faster than" in captured.out and "higher is better" in captured.out
    assert "examples, us per call" not in captured.out and "decoration time" not in captured.out
    assert "Tail calls between functions" not in captured.out
    assert "Tail recursion modulo context" not in captured.out
    assert "Testing with N=" not in captured.out
    lines = captured.out.splitlines()
    header = next(line for line in lines if line.startswith("case "))
    assert re.split(r"\s{2,}", header) == [
        "case",
        "call",
        "native",
        "loop (internal_loop)",
        "hand_loop",
        "loop speedup",
        "hand speedup",
        "loop/hand",
    ]
    row = re.split(r"\s{2,}", lines[lines.index(header) + 1])
    assert row[:2] == ["walk", "walk(500, 0)"] and len(row) == 8
    assert all(cell.endswith("x") for cell in row[5:])
    # then the methods calling each other, per bounce, as the functions' table
    bounce = captured.out[captured.out.index("Tail calls between methods (ping/pong)") :]
    assert "(target, not a result: vs native at most 2x, aiming at 1.2x)" in bounce
    variants = [line.split("  ")[0] for line in bounce.splitlines()[5:8]]
    assert variants == ["native", "loop (internal_loop)", "hand_loop"]
    assert "timing walk(500, 0) (methods)" in captured.err
    assert "timing ping/pong N=2000 (methods)" in captured.err

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema"] == 3
    assert doc["fib"] == [] and doc["examples"] == [] and doc["decorate_us"] == {}
    assert doc["bounce"] is None and doc["context"] is None
    methods = doc["methods"]
    (case,) = methods["cases"]
    assert (case["name"], case["call"]) == ("walk", "walk(500, 0)")
    assert set(case["results"]) == set(case["median"]) == CONTEXT_LABELS
    assert set(case["ratios"]) == CONTEXT_RATIOS
    assert all(seconds > 0 for seconds in case["results"].values())
    assert all(ratio > 0 for ratio in case["ratios"].values())
    assert case["notes"] == {}
    pingpong = methods["bounce"]
    assert pingpong["functions"] == "ping/pong"
    assert pingpong["reference_n"] == 500 and pingpong["target_vs_native"] == 2.0
    assert pingpong["aim_vs_native"] == 1.2
    assert [run["n"] for run in pingpong["runs"]] == [500, 2000]  # the tiny mode's depths
    shallow, deep = pingpong["runs"]
    for run in pingpong["runs"]:
        for key in ("results", "median", "per_bounce", "vs_native"):
            assert set(run[key]) == CONTEXT_LABELS
        for label in ("internal_loop", "hand_loop"):
            assert run["results"][label] > 0 and run["vs_native"][label] > 0
            assert run["per_bounce"][label] == pytest.approx(run["results"][label] / run["n"])
    assert shallow["vs_native"]["native"] == 1.0 and shallow["notes"] == {}
    assert deep["results"]["native"] is None and deep["notes"] == {"native": "RecursionError"}


def test_bench_methods_after_context(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--tiny", "--only", ex.METHODS, "--only", ex.CONTEXT, "--only", "gcd_0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    context = out.index("Tail recursion modulo context")
    assert out.index("examples, us per call") < context < out.index("Tail calls in methods")
    assert out.index("Tail calls in methods") < out.index("decoration time")


def test_bench_method_that_does_not_jump_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # methods optimized by a trampoline: walk's call to itself bounces instead of jumping
    def bouncing_class(cls: type, names: Sequence[str]) -> type:
        namespace = {key: value for key, value in vars(cls).items() if not key.startswith("__")}
        for name in names:
            namespace[name] = ex.decorate(namespace[name], "return_tuple", {})
        return type(cls.__name__, (), namespace)

    monkeypatch.setattr(ex, "optimized_class", bouncing_class)
    assert main(["bench", "--tiny", "--only", ex.METHODS]) == 1
    captured = capsys.readouterr()
    assert "mismatch: walk(500, 0): loop (internal_loop) does not jump" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_bench_methods_wrong_result_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workload = ex.METHOD_WORKLOAD
    wrong = dataclasses.replace(workload.mutual, expected=lambda n: n % 2 == 1)
    monkeypatch.setattr(ex, "METHOD_WORKLOAD", dataclasses.replace(workload, mutual=wrong))
    assert main(["bench", "--tiny", "--only", ex.METHODS]) == 1
    captured = capsys.readouterr()
    assert "mismatch: ping(500): internal_loop returned True, expected False" in captured.err
    assert "mismatch: ping(2000): hand_loop returned True, expected False" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_bench_unguarded_loop_that_checks_its_name_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an unguarded loop built with the name guard after all
    optimized = ex.optimized

    def guarded(example: ex.Example, strategy: str, name_guard: bool = True) -> ex.AnyFunc:
        return optimized(example, strategy)

    monkeypatch.setattr(ex, "optimized", guarded)
    assert main(["bench", "--tiny", "--only", "gcd_0"]) == 1
    captured = capsys.readouterr()
    assert "mismatch: gcd_0: unguarded_loop checks its name (explain(): jump)" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_bench_plot_needs_an_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tiny", "--only", ex.BOUNCE, "--plot", str(tmp_path / "b.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--plot draws the examples" in err
    assert "--only 'bounce' selects none" in err


def test_bench_shows_unavailable_strategies_as_na(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ex, "available_strategies", lambda: ("loop",))
    out = tmp_path / "bench.json"
    argv = ["bench", "--tiny", "--only", "gcd_0", "--only", ex.BOUNCE, "--fib-n", "5"]
    assert main([*argv, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "partial (partial_func): n/a (strategy not available)" in captured.out
    assert "(n/a): partial (partial_func), return_tuple" in captured.out
    row = next(line for line in captured.out.splitlines() if line.startswith("gcd_0"))
    assert re.split(r"\s{2,}", row)[5:7] == ["n/a", "n/a"]  # partial_func, return_tuple
    assert not re.split(r"\s{2,}", row)[4].startswith("n/a")  # the loop's, without guard
    bounce_table = captured.out[captured.out.index("Tail calls between functions") :]
    row = next(line for line in bounce_table.splitlines() if line.startswith("return_tuple"))
    assert row.split()[1:] == ["n/a"] * 6  # us/call, ns/bounce, vs native at both depths
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["unavailable"] == ["partial_func", "return_tuple"]
    assert doc["examples"][0]["results"]["partial_func"] is None
    assert doc["fib"][0]["results"]["return_tuple"] is None
    run = doc["bounce"]["runs"][0]
    assert run["results"]["partial_func"] is None
    assert run["notes"]["partial_func"] == "strategy not available"


def test_strategies_are_discovered() -> None:
    # ``loop`` always exists; a name tail_optimize refuses with ValueError is left out.
    assert ex.available_strategies(["loop", "no-such-strategy"]) == ("loop",)


@pytest.fixture
def no_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any measurement fail the test: the error must come before it."""

    def run_suite(*args: object, **kwargs: object) -> None:
        raise AssertionError("the benchmark started measuring")

    monkeypatch.setattr(measure, "run_suite", run_suite)


def _refused_at_once(capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line error of a bench refused before building, checking or timing anything."""
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("pytailcall: error: ")
    assert "Traceback" not in captured.err and "timing" not in captured.err
    assert "building optimized variants" not in captured.err
    assert captured.out == ""  # not even "Testing all functions work"
    return str(captured.err)


def test_plot_without_matplotlib_is_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_timing: None,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes ``import matplotlib`` fail
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert main(["bench", "--tiny", "--only", "gcd_0", "--plot", str(tmp_path / "b.png")]) == 1
    err = _refused_at_once(capsys)
    assert "--plot needs matplotlib, which is not installed" in err
    assert 'pip install ".[plot]" from the pytailcall clone' in err
    assert not (tmp_path / "b.png").exists()


@pytest.mark.parametrize("name", ["chart.txt", "chart.json", "chart"])
@pytest.mark.parametrize("matplotlib", [False, True])
def test_plot_to_a_format_matplotlib_cannot_write_is_refused_at_once(
    name: str,
    matplotlib: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_timing: None,
) -> None:
    if matplotlib:
        _fake_matplotlib(monkeypatch, {"png", "svg", "pdf"})
    else:
        monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = str(tmp_path / name)
    assert main(["bench", "--tiny", "--only", "gcd_0", "--plot", path]) == 2
    err = _refused_at_once(capsys)
    assert f"--plot {path!r}" in err and "needs matplotlib" not in err
    if name == "chart":
        assert "has no extension" in err and ".png" in err
    else:
        assert f"matplotlib cannot write .{name.split('.')[1]} files" in err
        assert ".png" in err and ".svg" in err


def test_plot_formats_are_matplotlibs_own(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_timing: None,
) -> None:
    # .webp is a format matplotlib writes, unless the installed one says otherwise
    _fake_matplotlib(monkeypatch, {"png", "svg"})
    path = str(tmp_path / "chart.WEBP")
    assert main(["bench", "--tiny", "--only", "gcd_0", "--plot", path]) == 2
    err = _refused_at_once(capsys)
    assert "cannot write .webp files; use one of: .png, .svg" in err


def _fake_matplotlib(monkeypatch: pytest.MonkeyPatch, formats: set[str]) -> None:
    """An importable matplotlib that writes only ``formats``, as its canvas reports them."""

    class FigureCanvasBase:
        @classmethod
        def get_supported_filetypes(cls) -> dict[str, str]:
            return {name: f"{name} image" for name in formats}

    package = types.ModuleType("matplotlib")
    package.use = lambda backend: None  # type: ignore[attr-defined]
    backend_bases = types.ModuleType("matplotlib.backend_bases")
    backend_bases.FigureCanvasBase = FigureCanvasBase  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", types.ModuleType("matplotlib.pyplot"))
    monkeypatch.setitem(sys.modules, "matplotlib.backend_bases", backend_bases)


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_bench_output_to_a_directory_is_refused_at_once(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_timing: None
) -> None:
    folder = tmp_path / "results.png"  # named like a chart, still a directory
    folder.mkdir()
    assert main(["bench", "--tiny", "--only", "gcd_0", option, str(folder)]) == 2
    err = _refused_at_once(capsys)
    assert f"{option} {str(folder)!r}: is a directory" in err


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_bench_output_in_a_missing_directory_is_refused_at_once(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_timing: None
) -> None:
    path = tmp_path / "missing" / "bench.png"
    assert main(["bench", "--tiny", "--only", "gcd_0", option, str(path)]) == 2
    err = _refused_at_once(capsys)
    assert f"{option} {str(path)!r}: no directory {tmp_path / 'missing'}" in err


def test_negative_fib_n_is_echoed(capsys: pytest.CaptureFixture[str], no_timing: None) -> None:
    assert main(["bench", "--tiny", "--fib-n", "5", "--fib-n", "-3"]) == 2
    err = _refused_at_once(capsys)
    assert "--fib-n -3: must not be negative" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"pytailcall {pytailcall.__version__}\n" and captured.err == ""


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses under Pyodide")
def test_version_from_the_command_line() -> None:
    src = str(Path(pytailcall.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytailcall", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"pytailcall {pytailcall.__version__}\n"


def test_plot_draws_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "bench.png"
    assert (
        main(["bench", "--tiny", "--only", "gcd_0", "--only", "modulo_1", "--plot", str(out)]) == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_draws_modulo_context_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "context.png"
    assert main(["bench", "--tiny", "--only", ex.CONTEXT, "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_draws_methods_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "methods.png"
    assert main(["bench", "--tiny", "--only", ex.METHODS, "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wrong_result_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = ex.Example("gcd", ex.gcd, lambda a, b: -1, ex.gcd_guarded, ((5, 3),))
    monkeypatch.setattr(ex, "EXAMPLES", (wrong,))
    assert main(["bench", "--tiny", "--only", "gcd"]) == 1
    captured = capsys.readouterr()
    assert "mismatch: gcd_0: internal_loop returned 1, expected -1" in captured.err
    assert "mismatch: gcd_0: guarded_loop returned 1, expected -1" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_unknown_example_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tiny", "--only", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nosuch'" in err and "Traceback" not in err
    assert "sections: bounce, context, methods" in err


def test_unknown_subcommand_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses under Pyodide")
def test_module_without_subcommand_prints_help() -> None:
    src = str(Path(pytailcall.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytailcall"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "usage: pytailcall" in proc.stderr and "bench" in proc.stderr


# --- explain and dis ----------------------------------------------------------------------

TARGET = """\
from pytailcall import tail_optimize


def count(n, acc=0):
    if n == 0:
        return acc
    return count(n - 1, acc + 1)


@tail_optimize
def countdown(n):
    if n == 0:
        return "done"
    return countdown(n - 1)


def factorial(n):
    if n <= 1:
        return 1
    return n * factorial(n - 1) or 1


def guarded(n):
    try:
        return guarded(n - 1) if n else 0
    except ValueError:
        return -1


class Walker:
    def walk(self, n):
        return n


NUMBER = 3


def hop(n):
    if n > 1:
        return hop(n - 2)
    return land(n)


def land(n):
    return n


def product(n):
    if n <= 1:
        return 1
    return n * product(n - 1)


@tail_optimize(strategy="partial")
def bounced(n):
    if n == 0:
        return "done"
    return bounced(n - 1)


@tail_optimize(name_guard=False)
def unguarded(n):
    if n == 0:
        return "done"
    return unguarded(n - 1)


def twice(n):
    return "done" if n == 0 else twice(n - 1)


twice = tail_optimize(tail_optimize(twice), strategy="partial")


def numbers(n):
    yield n
    return numbers(n - 1)
"""


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module to explain, importable under a name unique to the test."""
    name = f"cli_target_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(TARGET, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_explain_plain_function(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", f"{target}:count"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("count() in ") and "not decorated" in out
    assert "line 7: count(...) -> jump (optimized)" in out


def test_explain_optimized_function(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", f"{target}:countdown"]) == 0
    out = capsys.readouterr().out
    assert "[optimized, strategy='loop']" in out and "line 14: countdown(...) -> jump" in out


def test_explain_reports_refusals_and_escape_try(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", f"{target}:factorial"]) == 0
    assert "normal call: not a tail call" in capsys.readouterr().out
    assert main(["explain", f"{target}:guarded"]) == 0
    assert "normal call" in capsys.readouterr().out
    assert main(["explain", "--escape-try", f"{target}:guarded"]) == 0
    assert "-> jump (optimized)" in capsys.readouterr().out


def test_explain_and_dis_of_a_saved_context_and_without_it(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", f"{target}:product"]) == 0
    assert "line 51: product(...) -> jump, saving `n * _` for the return (modulo context)" in (
        capsys.readouterr().out)
    assert main(["explain", "--no-modulo-context", f"{target}:product"]) == 0
    assert "line 51: product(...) -> normal call: not a tail call" in capsys.readouterr().out
    assert main(["dis", "--stacked", f"{target}:product"]) == 0
    out = capsys.readouterr().out
    assert "LIST_APPEND" in out and "(modulo context)" in out


def test_dis_side_by_side(
    target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["dis", f"{target}:count"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("original count (") and " | rewritten, strategy='loop'" in lines[0]
    assert any(
        "RESUME" in line.split(" | ")[0] and "RESUME" in line.split(" | ")[1] for line in lines
    )
    # the call site is marked on both sides, the appended stubs on the right only
    # (a row of the original alone, past the rewrite's end, has no separator)
    call_rows = [line for line in lines[1:] if "CALL" in line.split(" | ")[0]]
    assert call_rows and all(row.lstrip().startswith("*") for row in call_rows)
    assert any(" | +" in line for line in lines)
    # the jump back: in place of the call, which ends the function (on 3.14+ its stub from
    # the callee's load on is shorter than the original), or appended
    assert any("JUMP_BACKWARD" in line.split(" | ")[1] for line in lines if " | " in line)
    assert "+ appended stub" in out and "line 7: count(...) -> jump (optimized)" in out


def test_dis_stacked_on_a_narrow_terminal(
    target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    assert main(["dis", f"{target}:count"]) == 0
    out = capsys.readouterr().out
    assert " | " not in out
    original = out.index("original count (")
    assert original == 0 and out.index("rewritten, strategy='loop'") > original


def test_dis_of_a_function_with_nothing_optimized_says_so_and_warns(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dis", f"{target}:factorial"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("original factorial (") and "CALL" in out
    assert "not rewritten: nothing was optimized, so the function runs the original code" in out
    # the original is listed once, with nothing beside it
    assert " | " not in out and "rewritten," not in out and "driver" not in out
    assert out.count("RESUME") == 1
    assert "warning: factorial(): the call to factorial() on line 20 is not optimized" in out


def _blocks(out: str) -> dict[str, str]:
    """``dis --stacked`` output as its blank-line separated blocks, by their first line."""
    blocks = [block for block in out.split("\n\n") if block.strip()]
    return {block.splitlines()[0]: block for block in blocks}


def _block(blocks: dict[str, str], title: str) -> str:
    """The one block whose title starts with ``title``."""
    found = [block for first, block in blocks.items() if first.startswith(title)]
    assert len(found) == 1, (title, list(blocks))
    return found[0]


def _instructions(block: str) -> list[str]:
    """``OPNAME argument`` of each instruction row of a block: without the marks, line
    number, jump-target arrow and offset."""
    rows = []
    for line in block.splitlines()[1:]:
        words = line[2:].split()
        while words and (words[0].isdigit() or words[0] == ">>"):
            words.pop(0)
        rows.append(" ".join(words))
    return rows


DRIVER_TITLE = "driver (the public function: calls the implementation and follows its bounces)"
BOUNCED_TITLE = "implementation used by bounces from other optimized functions, strategy='loop'"


@pytest.mark.parametrize("strategy", ["return_tuple", "partial"])
def test_dis_of_a_trampoline_shows_the_rewritten_implementation_then_the_driver(
    strategy: str, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dis", "--stacked", "--strategy", strategy, f"{target}:count"]) == 0
    out = capsys.readouterr().out
    blocks = _blocks(out)
    impl = _block(blocks, f"rewritten implementation, strategy={strategy!r} (")
    driver = _block(blocks, DRIVER_TITLE)
    assert out.index(impl) < out.index(driver)
    assert "rewritten, strategy=" not in out
    # the implementation is the rewrite: the original's code with the tail call made a
    # bounce in an appended stub, which returns it
    code = _instructions(impl)
    assert "LOAD_FAST acc" in code and any(row.startswith("COMPARE_OP") for row in code)
    bounce = code.index("LOAD_DEREF .tail_call_bounce")
    made = "BUILD_TUPLE" if strategy == "return_tuple" else "CALL"
    assert made in code[bounce:] and "RETURN_VALUE" in code[bounce:]
    stub_rows = [row for row in impl.splitlines()[1:] if row.startswith("+")]
    assert any(".tail_call_bounce" in row for row in stub_rows)
    assert "_pytailcall_impl_" not in impl
    # the driver calls the implementation and loops while it gets bounces
    driver_code = _instructions(driver)
    assert "LOAD_DEREF _pytailcall_impl_" in driver_code
    assert any(row.startswith("JUMP_BACKWARD") for row in driver_code)
    # (none of count's own arithmetic: the driver is not a copy of the implementation)
    assert ".tail_call_bounce" not in driver
    # (3.14+ writes subscripts as BINARY_OP too: only + and - are count's)
    assert not any(row.startswith(("BINARY_OP +", "BINARY_OP -")) for row in driver_code)
    assert any(row.startswith(("BINARY_OP +", "BINARY_OP -")) for row in code)
    assert not any(row.startswith(("+", "*")) for row in driver.splitlines()[1:])
    assert f"line 7: count(...) -> bounce ({strategy}) (optimized)" in out


def test_dis_of_a_trampoline_side_by_side(
    target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["dis", "--strategy", "return_tuple", f"{target}:count"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("original count (")
    assert " | rewritten implementation, strategy='return_tuple' (" in lines[0]
    # aligned by offset: the original's comparison beside the implementation's
    assert any(
        "COMPARE_OP" in line.split(" | ")[0] and "COMPARE_OP" in line.split(" | ")[1]
        for line in lines
        if " | " in line
    )
    assert any(" | +" in line and "BUILD_TUPLE" in line for line in lines)
    driver = lines.index(next(line for line in lines if line.startswith(DRIVER_TITLE)))
    assert all(" | " not in line for line in lines[driver:])


def test_dis_of_a_loop_function_has_no_driver(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dis", "--stacked", f"{target}:count"]) == 0
    out = capsys.readouterr().out
    rewritten = _block(_blocks(out), "rewritten, strategy='loop' (")
    jumps = [row for row in _instructions(rewritten) if row.startswith("JUMP_BACKWARD")]
    assert jumps, rewritten
    assert "driver" not in out and "implementation" not in out
    assert ".tail_call_bounce" not in out


def test_dis_of_a_loop_function_calling_out_shows_the_implementation_bounces_run(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dis", "--stacked", f"{target}:hop"]) == 0
    out = capsys.readouterr().out
    blocks = _blocks(out)
    public = _block(blocks, "rewritten, strategy='loop' (")
    bounced = _block(blocks, BOUNCED_TITLE)
    assert out.index(public) < out.index(bounced) and DRIVER_TITLE not in out
    for code in (public, bounced):
        # both are rewrites of hop: its call to itself jumps, in an appended stub
        rows = _instructions(code)
        assert "LOAD_FAST n" in rows and any(row.startswith("JUMP_BACKWARD") for row in rows)
        assert any(row.startswith("+") for row in code.splitlines()[1:])
    # for the call to land(), the public function runs the callee's driver; the copy
    # returns a bounce (a tuple ending with the callee's marker, or made by its general
    # maker) to the driver that bounced into it
    public_names = {word for row in _instructions(public) for word in row.split()}
    bounced_names = {word for row in _instructions(bounced) for word in row.split()}
    assert "drive" in public_names and not {"marker", "general"} & public_names
    assert {"marker", "general"} <= bounced_names and "drive" not in bounced_names
    assert "line 41: land(...) -> bounce to it" in out


def test_dis_of_an_optimized_function_shows_its_original(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dis", "--stacked", f"{target}:countdown"]) == 0
    out = capsys.readouterr().out
    original = out[: out.index("rewritten")]
    assert "CALL" in original and "tail_call_self" not in original
    assert "tail_call_self" in out[out.index("rewritten") :]


def test_dis_of_an_optimized_function_shows_the_code_it_runs(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As it was made, with its own options (dis once made it again with the defaults: a
    guarded loop, where the function runs a trampoline or no guard); with options given,
    the code those would make, as explain does."""
    assert main(["dis", "--stacked", f"{target}:unguarded"]) == 0
    out = capsys.readouterr().out
    rewritten = out[out.index("rewritten") :]
    assert "tail_call_self" not in rewritten and "JUMP_BACKWARD" in rewritten
    assert "without the name guard" in out
    assert main(["dis", "--stacked", f"{target}:bounced"]) == 0
    out = capsys.readouterr().out
    assert "strategy='partial'" in out and DRIVER_TITLE in out
    assert main(["dis", "--stacked", "--strategy", "loop", f"{target}:bounced"]) == 0
    out = capsys.readouterr().out
    assert "strategy='loop'" in out and DRIVER_TITLE not in out
    # decorated twice: the original is the user's function, not the first decoration
    assert main(["dis", "--stacked", f"{target}:twice"]) == 0
    out = capsys.readouterr().out
    original = out[: out.index("rewritten")]
    assert "CALL" in original and "tail_call_self" not in original
    assert "strategy='partial'" in out and DRIVER_TITLE in out


def test_a_report_of_what_the_command_made_is_not_headed_as_the_functions_state(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dis`` of a plain function, and either command with options, report a function the
    command made: a prediction, not "[optimized, ...]" (which the function is not, or not
    with those options)."""
    assert main(["dis", "--stacked", f"{target}:count"]) == 0
    report = capsys.readouterr().out.splitlines()[-2]
    assert report.endswith("[not decorated; with tail_optimize(), strategy='loop']")
    assert main(["explain", "--strategy", "partial", f"{target}:count"]) == 0
    out = capsys.readouterr().out
    assert "[not decorated; with tail_optimize(), strategy='partial']" in out
    for command in (["explain"], ["dis", "--stacked"]):
        assert main([*command, "--strategy", "partial", f"{target}:countdown"]) == 0
        out = capsys.readouterr().out
        assert ("[decorated with strategy='loop'; with the options given, strategy='partial']"
                in out and "optimized, strategy" not in out)
    assert main(["explain", f"{target}:countdown"]) == 0  # without options: its own state
    assert "[optimized, strategy='loop']" in capsys.readouterr().out


def test_no_name_guard_option(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--no-name-guard", f"{target}:count"]) == 0
    assert "jump, without the name guard (name_guard=False)" in capsys.readouterr().out
    assert main(["dis", "--stacked", "--no-name-guard", f"{target}:count"]) == 0
    out = capsys.readouterr().out
    assert "tail_call_self" not in out[out.index("rewritten") :]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_xyz:f", "no module named 'no_such_module_xyz'"),
        ("{target}:missing", "{target} has no attribute 'missing'"),
        ("{target}:NUMBER", "{target}:NUMBER is an int object, not a Python function"),
        ("{target}:Walker", "{target}:Walker is a class, not a Python function"),
        ("{target}", "expected MODULE:FUNCTION"),
        ("{target}:Walker.nope", "{target}:Walker has no attribute 'nope'"),
        # (dis asks explain(): the error names neither)
        ("{target}:numbers", "error: cannot optimize numbers(): it is a generator function"),
    ],
)
def test_target_errors_are_one_line(
    target: str, spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("explain", "dis"):
        assert main([command, spec.format(target=target)]) != 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert message.format(target=target) in err


def test_import_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cli_broken_target.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["explain", "cli_broken_target:f"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "importing 'cli_broken_target' failed: ModuleNotFoundError" in err


def test_method_and_file_targets(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", f"{target}:Walker.walk"]) == 0
    assert "no calls to itself" in capsys.readouterr().out
    path = tmp_path / f"{target}.py"
    assert main(["explain", f"{path}:count"]) == 0
    assert "count(...) -> jump" in capsys.readouterr().out


def test_unknown_strategy_is_refused_by_argparse(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", "--strategy", "bogus", f"{target}:count"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "'bogus'" in err
    assert all(name in err for name in ("loop", "return_tuple", "partial"))


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses under Pyodide")
def test_explain_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "cli_sub_target.py").write_text(TARGET, encoding="utf-8")
    src = str(Path(pytailcall.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    run = [sys.executable, "-m", "pytailcall"]
    ok = subprocess.run(
        [*run, "explain", "cli_sub_target:count"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "count(...) -> jump (optimized)" in ok.stdout
    bad = subprocess.run(
        [*run, "dis", "cli_sub_target:NUMBER"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


# --- file targets named like standard modules ---------------------------------------------

SHADOW_TARGET = """\
def f(n, acc=0):
    if n == 0:
        return acc
    return f(n - 1, acc + 1)
"""


@pytest.mark.parametrize("stem", ["dis", "warnings"])
@pytest.mark.parametrize("command", ["dis", "explain"])
def test_file_target_named_like_a_standard_module_shadows_nothing(
    stem: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standard = sys.modules[stem]
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / f"{stem}.py"
    path.write_text(SHADOW_TARGET, encoding="utf-8")
    options = ["--stacked"] if command == "dis" else []
    for _ in range(2):  # the second run loads the file again, under another name
        try:
            code = main([command, *options, f"{path}:f"])
            after = sys.modules[stem]
        finally:
            sys.modules[stem] = standard  # at once: pytest itself needs the real module
        captured = capsys.readouterr()
        assert after is standard
        assert code == 0 and captured.err == ""
        assert "line 4: f(...) -> jump (optimized)" in captured.out
        if command == "dis":
            assert captured.out.startswith("original f (")
            assert "rewritten, strategy='loop'" in captured.out
            assert "RESUME" in captured.out and "JUMP_BACKWARD" in captured.out


PICKLING_TARGET = """\
from __future__ import annotations

import dataclasses
import pickle
import sys


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


def f(n, acc=0):
    if n == 0:
        return acc
    return f(n - 1, acc + 1)


# dataclasses (string annotations) and pickle find this module as sys.modules[__name__]
assert __name__ != "json" and sys.modules[__name__].f is f
assert pickle.loads(pickle.dumps(Point(1, 2))) == Point(1, 2)
assert pickle.loads(pickle.dumps(f)) is f
"""


def test_file_target_is_registered_under_its_own_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standard = sys.modules["json"]
    path = tmp_path / "json.py"
    path.write_text(PICKLING_TARGET, encoding="utf-8")
    try:
        code = main(["explain", f"{path}:f"])
        after = sys.modules["json"]
    finally:
        sys.modules["json"] = standard
    captured = capsys.readouterr()
    assert after is standard
    assert code == 0, captured.err
    assert "line 17: f(...) -> jump (optimized)" in captured.out
    # a file that fails to load leaves no module behind
    before = set(sys.modules)
    bad = tmp_path / "broken.py"
    bad.write_text("raise RuntimeError('no')\n", encoding="utf-8")
    assert main(["explain", f"{bad}:f"]) == 1
    assert "importing" in capsys.readouterr().err
    assert set(sys.modules) == before


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses under Pyodide")
def test_dis_of_a_file_named_dis_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "dis.py"
    path.write_text(SHADOW_TARGET, encoding="utf-8")
    src = str(Path(pytailcall.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    env["COLUMNS"] = "200"
    proc = subprocess.run(
        [sys.executable, "-m", "pytailcall", "dis", f"{path}:f"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("original f (") and " | rewritten, strategy='loop'" in lines[0]
    assert any("RESUME" in line.split(" | ")[0] for line in lines if " | " in line)
    assert any(" | +" in line and "JUMP_BACKWARD" in line for line in lines)
    assert "line 4: f(...) -> jump (optimized)" in proc.stdout
