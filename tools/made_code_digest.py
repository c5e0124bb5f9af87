"""A digest of all the code pytailcall makes for a range of fuzz programs.

    python tools/made_code_digest.py 0 100        # programs 0 to 99, every option set

Why: a fuzz campaign checks the code of the commit it ran on.  A later commit that must
not change what the rewriter makes (a refactoring, a speed-up of decoration, an opt-in
mode that is off) can show that it does not: run this on both commits, with the same
interpreter, and compare the two lines.  Equal digests mean that every code object made
for those programs (the public function, its implementation, drivers, step function and
bounce entries: bytecode, exception table, location table, constants, names, stack size,
flags) is the same, byte for byte, so the campaign holds for the later commit too.

Run it from the root of the checkout to compare (``tests.fuzz`` must be importable), with
that checkout's ``src`` first on the path, e.g.
``PYTHONPATH=src:. python tools/made_code_digest.py 0 100``.  Prints the number of
functions made, then the digest.
"""

from __future__ import annotations

import argparse
import hashlib
import types
import warnings
from typing import Any

from pytailcall import tail_optimize
from pytailcall._runtime import TARGET_KEY
from tests.fuzz.generate import program_from_seed
from tests.fuzz.run import PRELUDE, available_modes

#: The Target slots that hold functions pytailcall made (bound methods: their ``__self__``).
MADE_ENTRIES = ("exact", "general", "drive", "step")


def _add_code(digest: Any, code: types.CodeType) -> None:
    digest.update(code.co_code)
    digest.update(code.co_exceptiontable)
    digest.update(code.co_linetable)
    constants = [c for c in code.co_consts if not isinstance(c, types.CodeType)]
    digest.update(repr(constants).encode())
    digest.update(repr((code.co_names, code.co_varnames, code.co_freevars,
                        code.co_stacksize, code.co_flags)).encode())


def _add_function(digest: Any, func: types.FunctionType) -> None:
    _add_code(digest, func.__code__)
    target = func.__dict__.get(TARGET_KEY)
    for slot in MADE_ENTRIES:
        entry = getattr(target, slot, None)
        if isinstance(entry, types.MethodType):
            entry = entry.__self__
        if isinstance(entry, types.FunctionType):
            _add_code(digest, entry.__code__)


def digest_programs(first: int, stop: int) -> tuple[int, str]:
    """(functions made, hex digest) for fuzz programs ``first`` to ``stop - 1``."""
    digest = hashlib.sha256()
    made = 0
    modes = available_modes()
    for seed in range(first, stop):
        source, _ = program_from_seed(seed)
        for mode in modes:
            def optimize(func: types.FunctionType, mode: dict[str, Any] = mode) -> Any:
                nonlocal made
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        new = tail_optimize(func, **mode)
                    except Exception as exc:  # a refusal is part of what is compared
                        digest.update(repr(exc).encode())
                        return func
                made += 1
                _add_function(digest, new)
                return new

            namespace: dict[str, Any] = {"__name__": "fuzzprogram", "optimize": optimize}
            exec(PRELUDE, namespace)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(source, "<program>", "exec", dont_inherit=True), namespace)
    return made, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=int, help="the first fuzz program (its seed)")
    parser.add_argument("stop", type=int, help="one past the last")
    args = parser.parse_args()
    made, hexdigest = digest_programs(args.first, args.stop)
    print(made, hexdigest)


if __name__ == "__main__":
    main()
