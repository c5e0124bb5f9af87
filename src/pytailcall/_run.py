"""``pytailcall run``: a script or module run as ``__main__``, as ``python script.py`` or
``python -m module`` would, with every function it defines optimized (see
:mod:`pytailcall._auto`).

:func:`run_path` and :func:`run_module` take over the process as the interpreter does for
its main module (``sys.argv``, ``sys.path[0]``, ``sys.modules["__main__"]``) and do not
restore it: they are meant for the command line.  They return the exit status for an
uncaught exception (its traceback is printed by ``sys.excepthook``, as natively) and let
``SystemExit`` through; an uncaught ``KeyboardInterrupt`` returns :data:`INTERRUPTED`, and
the command line's entry point then ends the process the way the interpreter would
(:func:`end_as_interrupted`).
"""

from __future__ import annotations

import builtins
import importlib.machinery
import importlib.util
import os
import signal
import sys
import types
from collections.abc import Sequence
from typing import Any, NoReturn

from pytailcall import _api, _auto

INTERRUPTED = -int(signal.SIGINT)
"""The status of a program that ended with an uncaught ``KeyboardInterrupt``: what
``subprocess`` reports for a process killed by SIGINT, which is how such a program ends
natively (see :func:`end_as_interrupted`)."""


class RunError(Exception):
    """The program could not be started (no such file or module, no source); exit status
    ``code``, as Python's own for the same failure."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def run_path(path: str, args: Sequence[str]) -> int:
    """Run the file ``path`` as ``python path args...`` would."""
    filename = os.path.abspath(path)
    try:
        with open(filename, "rb") as stream:
            source = stream.read()
    except OSError as exc:
        raise RunError(f"can't open file {filename!r}: {exc.strerror or exc}", 2) from exc
    loader = importlib.machinery.SourceFileLoader("__main__", filename)
    namespace: dict[str, Any] = {
        "__file__": filename,
        "__cached__": None,
        "__loader__": loader,
        "__spec__": None,
        "__package__": None,
    }
    _set_path(os.path.dirname(os.path.realpath(filename)))
    sys.argv[:] = [path, *args]
    return _execute(source, filename, namespace)


def run_module(name: str, args: Sequence[str]) -> int:
    """Run the module ``name`` (a package: its ``__main__``) as ``python -m name args...``
    would, the current directory first on ``sys.path``."""
    _set_path(os.getcwd())
    spec = _find(name)
    if spec.submodule_search_locations is not None:
        spec = _find(f"{name}.__main__", package=name)
    loader = spec.loader
    get_source = getattr(loader, "get_source", None)
    source = get_source(spec.name) if get_source is not None else None
    if source is None or spec.origin is None:
        raise RunError(f"no Python source for module {spec.name!r} ({spec.origin})", 1)
    namespace: dict[str, Any] = {
        "__file__": spec.origin,
        "__cached__": spec.cached,
        "__loader__": loader,
        "__spec__": spec,
        "__package__": spec.parent,
    }
    sys.argv[:] = [spec.origin, *args]
    return _execute(source, spec.origin, namespace)


def _find(name: str, package: str | None = None) -> importlib.machinery.ModuleSpec:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise RunError(
            f"error while finding module specification for {name!r} ({type(exc).__name__}: {exc})",
            1,
        ) from exc
    if spec is None:
        if package is not None:
            raise RunError(
                f"no module named {name!r}; {package!r} is a package and cannot "
                "be directly executed",
                1,
            )
        raise RunError(f"no module named {name!r}", 1)
    return spec


def _set_path(folder: str) -> None:
    """What the interpreter puts first on ``sys.path`` for its main module, in place of what
    it put there for ``pytailcall`` (nothing under ``-P``/``PYTHONSAFEPATH``)."""
    if sys.flags.safe_path:
        return
    if sys.path:
        sys.path[0] = folder
    else:
        sys.path.insert(0, folder)


def _execute(source: str | bytes, filename: str, namespace: dict[str, Any]) -> int:
    """Compile (transformed), register as ``__main__`` and run; the exit status."""
    optimize = not _api.disabled()
    try:
        code = _auto.compile_source(source, filename, optimize=optimize)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, on 3.11
        exc.__traceback__ = None  # the error is in the user's file, not in our frames
        sys.excepthook(type(exc), exc, None)
        return 1
    main = types.ModuleType("__main__")
    main.__dict__.update(namespace, __builtins__=builtins)
    if optimize:
        _auto.prepare(main.__dict__, code)
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        # Drop this frame: the traceback starts in the user's module, as natively.
        tb = exc.__traceback__
        exc.__traceback__ = tb.tb_next if tb is not None else None
        sys.excepthook(type(exc), exc, exc.__traceback__)
        # Exactly KeyboardInterrupt, as the interpreter checks: a subclass exits with 1.
        return INTERRUPTED if type(exc) is KeyboardInterrupt else 1
    return 0


def end_as_interrupted() -> NoReturn:
    """End the process as CPython ends one whose main module let a ``KeyboardInterrupt``
    escape: by letting one escape.  The interpreter then shuts down as usual (threads,
    ``atexit``, ``__del__``, buffered files) and dies of SIGINT, so that a parent process
    or shell sees an interrupted program (it checks for exactly ``KeyboardInterrupt``, in
    ``python script.py``, ``python -m`` and console scripts alike).  The program's own
    traceback was printed already: ``sys.excepthook`` is silenced so that this one, which
    would only show pytailcall's frames, is not.  For entry points only, never for a
    caller of :func:`pytailcall.cli.main` (which returns :data:`INTERRUPTED`)."""
    sys.excepthook = _silent
    raise KeyboardInterrupt


def _silent(*exc_info: object) -> None:
    """The excepthook of :func:`end_as_interrupted`: prints nothing."""
