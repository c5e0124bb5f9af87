"""The ``pytailcall`` command line: dispatch, exit codes and the ``bench --json`` document.

The benchmark runs in its hidden ``--tiny`` mode on a few cases, which exercises the whole
path (variants, correctness check, interleaved timing, report, JSON) in a fraction of a
second; the real figures come from ``python -m pytailcall bench``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import pytailcall
from pytailcall.bench import examples as ex
from pytailcall.cli import main


def test_bench_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    # gcd never overflows natively; modulo_2 (7,000 frames deep) always does.
    code = main(["bench", "--tiny", "--only", "gcd", "--only", "modulo_2", "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("Testing all functions work\n")
    assert "gcd_3" in captured.out and "decoration time" in captured.out

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema"] == 1
    assert doc["python"] == platform.python_version()
    assert doc["implementation"] == platform.python_implementation()
    assert [e["name"] for e in doc["examples"]] == ["gcd_1", "gcd_2", "gcd_3", "modulo_2"]
    gcd_1, modulo_2 = doc["examples"][0], doc["examples"][3]
    assert gcd_1["args"] == [5, 3]
    assert set(gcd_1["results"]) == {"native", "loop", "hand_loop"}
    assert all(isinstance(s, float) and s > 0 for s in gcd_1["results"].values())
    assert gcd_1["loop_vs_hand"] > 0 and gcd_1["loop_speedup_vs_native"] > 0
    assert modulo_2["results"]["native"] is None
    assert modulo_2["results"]["loop"] > 0 and modulo_2["loop_vs_hand"] > 0
    assert modulo_2["loop_speedup_vs_native"] is None
    assert set(doc["decorate_us"]["loop"]) == {"gcd", "modulo"}


def test_wrong_result_fails_before_timing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = ex.Example("gcd", ex.gcd, lambda a, b: -1, ((5, 3),))
    monkeypatch.setattr(ex, "EXAMPLES", (wrong,))
    assert main(["bench", "--tiny", "--only", "gcd"]) == 1
    captured = capsys.readouterr()
    assert "mismatch: gcd_1: loop returned 1, expected -1" in captured.err
    assert "timing" not in captured.err and "Traceback" not in captured.err


def test_unknown_example_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--tiny", "--only", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nosuch'" in err and "Traceback" not in err


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
