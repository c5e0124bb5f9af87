"""The workload for ``coconut``: a compiler from Coconut (a superset of Python) to Python
that eliminates tail recursion (a self call in a ``return`` becomes a jump to the top of a
``while True`` loop, after checking that the name still refers to the function) and
optimizes other tail calls through a trampoline (``_coconut_tco``).  The functions are
``by_name``'s plain recursive ones, compiled by ``coconut.api`` for the running Python
(``--target sys``) and executed here."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from coconut.api import parse, setup

NOT_EXPRESSIBLE: dict[str, str] = {}

setup(target="sys")
with contextlib.redirect_stderr(io.StringIO()):  # style warnings about by_name's source
    _compiled = parse((Path(__file__).parent / "by_name.py").read_text("utf-8"), "exec")
exec(compile(_compiled, f"<coconut: {Path(__file__).name}>", "exec"), globals())
