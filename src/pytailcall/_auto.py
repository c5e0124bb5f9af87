"""Optimize every function a program defines, without editing it (``pytailcall run`` and
:func:`install`).

The source of a module is parsed and every ``def`` (at module level, in class bodies and
nested in functions) gets one more decorator, innermost, directly on the function::

    @user_decorator
    @__pytailcall_auto__      # added
    def f(...): ...

so the function is optimized as it is defined, before anything (another decorator, a
dispatch table, ``functools.total_ordering``, pickling by reference) can capture the
original.  :func:`decorate` optimizes a function only when ``explain()`` shows something to
optimize, and never warns.  The module's globals hold :data:`HELPER` (set before its code
runs, where a ``def`` looks it up); a dunder name is not mangled in class bodies and
``from module import *`` skips it.

:func:`install` adds a ``sys.meta_path`` finder that applies the same transform to the
modules whose names match its patterns, as they are imported.

``PYTAILCALL_DISABLE`` set to anything but ``""`` or ``"0"`` turns both off: programs run,
and modules import, unmodified.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import importlib.abc
import importlib.machinery
import sys
import threading
import types
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from pytailcall._api import (
    _target_of,
    automatic_name_guard,
    disabled,
    explain,
    optimize_quietly,
)

#: The global name the added decorators look up.
HELPER = "__pytailcall_auto__"

_F = TypeVar("_F")

#: Code flags of generator, coroutine and async generator functions, left unchanged.
_NOT_A_FRAME = 0x20 | 0x80 | 0x100 | 0x200




# --- the decorator ------------------------------------------------------------------------


class Optimized(NamedTuple):
    """A function :func:`decorate` optimized: what ``--report`` prints."""

    qualname: str
    filename: str
    lineno: int


#: Whether a code object has something to optimize (``explain`` depends on the code only,
#: so a nested function defined again and again is analysed once).
_worth: weakref.WeakKeyDictionary[types.CodeType, bool] = weakref.WeakKeyDictionary()
#: Every function optimized so far, once per code object, in the order they were defined:
#: by identity (equal code objects of two files are two functions), holding the code alive
#: so that its id is not reused.
_optimized: dict[int, tuple[types.CodeType, Optimized]] = {}
#: Reentrant: a finalizer run while it is held may define a function (see ``_memo``).
_lock = threading.RLock()


def _has_something_to_optimize(func: types.FunctionType) -> bool:
    code = func.__code__
    known = _worth.get(code)
    if known is not None:
        return known
    try:
        report = explain(func)
    except RecursionError:
        raise  # (too near the limit to tell: not kept, see decorate)
    except Exception:  # anything explain() refuses stays as it is
        worth = False
    else:
        worth = any(site.optimized for site in (*report.sites, *report.calls_out))
    _worth[code] = worth
    return worth


def decorate(func: _F) -> _F:
    """``tail_optimize(func)`` when ``explain(func)`` shows a call it would optimize (to
    itself, or a tail call to another function); else ``func`` itself.  The name guard
    stays unless ``PYTAILCALL_NO_NAME_GUARD`` asks the whole program to drop it.  Never warns:
    the user did not ask for this function to be optimized.  Anything that is not a plain
    function, and generator, coroutine and async generator functions, are returned as is.

    Never fails either: a ``def`` run too near the recursion limit for decorating (it takes
    about 20 frames) gets the function as it is, as natively, and the next ``def`` of the
    same code is optimized."""
    try:
        return _decorated(func)
    except RecursionError:
        return func


def _decorated(func: _F) -> _F:
    if not isinstance(func, types.FunctionType) or func.__code__.co_flags & _NOT_A_FRAME:
        return func
    if not _has_something_to_optimize(func):
        return func
    try:
        made: Any = optimize_quietly(func, name_guard=automatic_name_guard())
    except RecursionError:
        raise
    except Exception:
        return func
    target = _target_of(made)
    if target is not None:
        # Nor later: a decorator over the def (``functools.lru_cache``) that rebinds the
        # name makes the calls to itself normal calls, which natively they are anyway.
        target.wrapper_checked = True
    code = func.__code__
    if id(code) not in _optimized:
        with _lock:
            entry = Optimized(func.__qualname__, code.co_filename, code.co_firstlineno)
            _optimized.setdefault(id(code), (code, entry))
    result: _F = made
    return result


def optimized() -> list[Optimized]:
    """The functions :func:`decorate` has optimized in this process, each once."""
    with _lock:
        return [entry for _, entry in _optimized.values()]


# --- the transform ------------------------------------------------------------------------


class _AddDecorator(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)  # nested functions and classes first
        helper = ast.copy_location(ast.Name(id=HELPER, ctx=ast.Load()), node)
        # Decorators apply bottom-up: the last one is applied first, to the plain function.
        node.decorator_list.append(helper)
        return node


def transform(tree: ast.Module) -> ast.Module:
    """Add ``@__pytailcall_auto__`` as the innermost decorator of every ``def`` in ``tree``
    (in place; ``async def`` is skipped, not what it contains).  The added nodes take the
    ``def``'s location, so line numbers and tracebacks are the user's."""
    result = _AddDecorator().visit(tree)
    assert isinstance(result, ast.Module)
    return ast.fix_missing_locations(result)


def compile_source(source: str | bytes, filename: str, *, optimize: bool = True) -> types.CodeType:
    """``source`` compiled as a module, transformed when ``optimize``.  Bytes are decoded
    as Python decodes a source file (its coding cookie, else UTF-8)."""
    if not optimize:
        return compile(source, filename, "exec", dont_inherit=True)
    tree = ast.parse(source, filename)
    return compile(transform(tree), filename, "exec", dont_inherit=True)


def prepare(namespace: dict[str, Any], code: types.CodeType) -> None:
    """Give a module's globals the helper the transformed ``code`` looks up, if it does:
    a module without a ``def`` is left as it is (code that lists a module's callables, as
    toolz's tests do, finds nothing of ours there)."""
    if _decorates(code):
        namespace[HELPER] = decorate


def _decorates(code: types.CodeType) -> bool:
    """Does ``code``, or code nested in it, look up the helper?"""
    return HELPER in code.co_names or any(
        isinstance(const, types.CodeType) and _decorates(const) for const in code.co_consts)


# --- the import hook ----------------------------------------------------------------------


class _Loader(importlib.machinery.SourceFileLoader):
    """The normal source loader, but the code is the transformed source.  It never reads or
    writes the bytecode cache: a cached transformed module would otherwise be loaded later
    without the hook."""

    def get_code(self, fullname: str) -> types.CodeType:
        compiled = self._compiled.pop(fullname, None)  # (exec_module's, just made)
        if compiled is not None:
            return compiled
        path = self.get_filename(fullname)
        return compile_source(self.get_data(path), path)

    def exec_module(self, module: types.ModuleType) -> None:
        code = self.get_code(module.__name__)
        prepare(module.__dict__, code)
        self._compiled[module.__name__] = code
        super().exec_module(module)  # (which gets the code again, from _compiled)

    @functools.cached_property
    def _compiled(self) -> dict[str, types.CodeType]:
        return {}


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the modules whose names match one of ``patterns`` with the finders after it,
    and swaps their source loader for :class:`_Loader`."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)

    def matches(self, fullname: str) -> bool:
        return any(fnmatch.fnmatchcase(fullname, pattern) for pattern in self.patterns)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if disabled() or not self.matches(fullname):
            return None
        for finder in _finders_after(self):
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is None:
                continue
            loader = spec.loader
            if type(loader) is importlib.machinery.SourceFileLoader:
                spec.loader = _Loader(loader.name, loader.path)
            return spec  # not a source file (an extension, a zip): imported as usual
        return None

    def __repr__(self) -> str:
        return f"<pytailcall import hook for {', '.join(self.patterns)}>"


def _finders_after(finder: object) -> Iterable[object]:
    seen = False
    for other in list(sys.meta_path):
        if other is finder:
            seen = True
        elif seen:
            yield other


_installed: list[_Finder] = []


def install(patterns: Iterable[str]) -> None:
    """Optimize every function of the modules named by ``patterns`` as they are imported.

    A pattern is a module name (``"mypackage"``) or a shell-style pattern matched against
    the full name, ``*`` matching dots too: ``"mypackage.*"`` is every submodule of
    mypackage, at any depth, but not mypackage itself.  Only modules imported afterwards,
    from source files, are affected.  Installing again adds the patterns; :func:`uninstall`
    removes the hook.  ``PYTAILCALL_DISABLE=1`` in the environment makes the hook import
    everything unmodified."""
    if isinstance(patterns, str):
        raise TypeError("install() takes a list of module names or patterns, not one string")
    wanted = list(patterns)
    for pattern in wanted:
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"install(): a pattern must be a non-empty string, got {pattern!r}")
    finder = _Finder(wanted)
    _installed.append(finder)
    sys.meta_path.insert(0, finder)


def uninstall() -> None:
    """Remove what :func:`install` added.  Modules already imported stay as they are."""
    while _installed:
        finder = _installed.pop()
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
