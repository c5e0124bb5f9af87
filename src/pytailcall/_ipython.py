"""IPython / Jupyter support: ``%load_ext pytailcall``.

Loading the extension registers an AST transformer on the shell that applies
:func:`pytailcall._auto.transform` to every later cell, so each ``def`` in a cell gets the
innermost decorator ``@__pytailcall_auto__`` (:func:`pytailcall._auto.decorate`): the
function is optimized when ``explain()`` shows something to optimize, and no warning is
ever issued.  The helper is put in the user namespace.  ``%unload_ext pytailcall`` removes
the transformer; functions already defined stay as they are.

It also registers the line magic ``%tail_explain EXPR``, which prints ``explain()`` of the
function ``EXPR`` evaluates to in the user namespace.

IPython is imported only by IPython itself: this module never imports it at import time,
and the shell is typed as ``Any`` (IPython's API is not typed for our purposes).
"""

from __future__ import annotations

import ast
import importlib
import types
from typing import Any

from pytailcall._api import disabled, explain
from pytailcall._auto import HELPER, _AddDecorator, decorate, transform

#: The name of the line magic registered by :func:`load_ipython_extension`.
MAGIC = "tail_explain"


class CellTransformer(_AddDecorator):
    """The AST transformer registered in ``shell.ast_transformers``.

    IPython calls ``visit(module)`` on each cell's parsed code.  The helper is put back in
    the user namespace each time (``%reset`` or ``del`` may have removed it), and with
    ``PYTAILCALL_DISABLE`` set the cell runs unmodified."""

    def __init__(self, shell: Any) -> None:
        super().__init__()
        self.shell = shell

    def visit(self, node: ast.AST) -> Any:
        if not isinstance(node, ast.Module):  # not a cell: leave it alone
            return node
        if disabled():
            return node
        _give_helper(self.shell)
        return transform(node)

    def __repr__(self) -> str:
        return "<pytailcall cell transformer>"


def _give_helper(shell: Any) -> None:
    # Top-level code of a cell looks names up in user_ns, the functions it defines (and
    # their nested defs) in user_global_ns; both are the same dict in a plain shell.
    for namespace in (shell.user_ns, shell.user_global_ns):
        if namespace.get(HELPER) is not decorate:
            namespace[HELPER] = decorate


def _usage_error(message: str) -> Exception:
    error: type[Exception] = importlib.import_module("IPython.core.error").UsageError
    return error(message)


def _make_magic(shell: Any) -> Any:
    def tail_explain(line: str) -> None:
        """%tail_explain EXPR: print pytailcall's explain() of the function EXPR
        evaluates to in the user namespace (which calls are, or would be, optimized).
        For a bound method, its function is explained."""
        expression = line.strip()
        if not expression:
            raise _usage_error("%tail_explain needs a function: %tail_explain f")
        func = shell.ev(expression)
        if isinstance(func, types.MethodType):  # obj.method: explain the function
            func = func.__func__
        try:
            report = explain(func)
        except TypeError as error:
            raise _usage_error(str(error)) from None
        print(report)

    tail_explain._pytailcall_magic = True  # type: ignore[attr-defined]
    return tail_explain


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext pytailcall``: optimize the functions defined in later cells
    and register ``%tail_explain``.  Loading again does not add a second transformer."""
    _give_helper(ipython)
    if not any(isinstance(t, CellTransformer) for t in ipython.ast_transformers):
        ipython.ast_transformers.append(CellTransformer(ipython))
    ipython.register_magic_function(_make_magic(ipython), magic_kind="line", magic_name=MAGIC)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by ``%unload_ext pytailcall``: later cells are no longer transformed and
    ``%tail_explain`` is removed.  The helper stays in the user namespace: functions
    defined while the extension was loaded may contain nested ``def``s that look it up
    each time they run."""
    ipython.ast_transformers[:] = [
        t for t in ipython.ast_transformers if not isinstance(t, CellTransformer)
    ]
    line_magics = getattr(getattr(ipython, "magics_manager", None), "magics", {}).get("line")
    if isinstance(line_magics, dict) and getattr(
        line_magics.get(MAGIC), "_pytailcall_magic", False
    ):
        del line_magics[MAGIC]
