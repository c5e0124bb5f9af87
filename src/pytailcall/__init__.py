"""pytailcall: tail calls without stack growth for CPython 3.11 to 3.15.

``@tail_optimize`` rewrites a function's bytecode so that ``return f(args)`` calling the
function itself becomes "bind the new arguments, jump back to the start": no new frame, no
recursion limit, loop speed. ``explain(func)`` reports which calls were optimized and why
the others were not.
"""

from __future__ import annotations

from typing import Any

from pytailcall._api import explain, tail_optimize
from pytailcall._auto import install, uninstall
from pytailcall._errors import TailCallError, TailCallWarning
from pytailcall._report import CallSite, TailCallReport

__all__ = [
    "CallSite",
    "TailCallError",
    "TailCallReport",
    "TailCallWarning",
    "explain",
    "install",
    "tail_optimize",
    "uninstall",
]

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext pytailcall``: optimize every function defined in later cells where there
    is something to optimize, and add the ``%tail_explain`` line magic."""
    from pytailcall._ipython import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext pytailcall``: later cells define their functions unoptimized."""
    from pytailcall._ipython import unload_ipython_extension as unload

    unload(ipython)
