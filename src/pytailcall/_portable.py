"""The portable fallback: a ``partial`` trampoline made from source, for interpreters whose
bytecode pytailcall does not know (another implementation, a future CPython).

It reads the function's source with :mod:`inspect`, rewrites each ``return name(args)`` in
tail position (not inside ``try``, ``with``, a handler or a nested scope) into
``return bounce(name, args)`` with :mod:`ast`, and compiles it again. ``bounce`` checks
when the call runs that ``name`` is still the optimized function: if so it returns a
:class:`~pytailcall._runtime.TailCall` for the driver loop, if not it makes the call. The
callee is evaluated before the arguments, as in the call it replaces. Functions without
source, and closures (whose cells a recompiled function cannot share), are not rewritten.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from typing import Any

from pytailcall._runtime import TailCall

_BOUNCE = "_pytailcall_bounce_"
#: Compiler flags of ``from __future__`` imports, which the recompiled code must keep.
_FUTURE_FLAGS = 0x1000000 | 0x2000000 | 0x200000 | 0x400000 | 0x800000


class NotPortable(Exception):
    """The function cannot be rewritten from source; the message says why."""


def tail_call_lines(func: types.FunctionType) -> tuple[list[int], list[int]]:
    """Lines of the calls to itself that the fallback turns into bounces, and of the others."""
    tree = _definition(func)
    finder = _TailCalls(func.__name__)
    finder.visit_body(tree.body)
    others = [node.lineno for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == func.__name__ and node.lineno not in finder.lines]
    return finder.lines, others


def build(func: types.FunctionType) -> types.FunctionType:
    """A driver running a source-rewritten copy of ``func`` until it stops bouncing."""
    if func.__closure__:
        raise NotPortable("it is a closure; a function compiled again cannot share its cells")
    tree = _definition(func)
    finder = _TailCalls(func.__name__)
    finder.visit_body(tree.body)
    if not finder.lines:
        raise NotPortable("it has no tail calls to itself")
    tree.decorator_list = []
    # Under its own name inside the factory, the function's name would become a closure
    # variable of the factory; renamed, it stays a global, looked up when the call runs.
    tree.name = "_pytailcall_impl_"
    factory = ast.parse(f"def _pytailcall_factory_({_BOUNCE}): pass").body[0]
    assert isinstance(factory, ast.FunctionDef)
    factory.body = [tree, ast.Return(ast.Name(tree.name, ast.Load()))]
    module = ast.Module([factory], type_ignores=[])
    ast.copy_location(factory, tree)
    ast.fix_missing_locations(module)
    code = compile(module, func.__code__.co_filename, "exec",
                   flags=func.__code__.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    public: list[Any] = []

    def bounce(callee: Any, /, *args: Any, **kwargs: Any) -> Any:
        if public and callee is public[0]:
            impl.__defaults__ = callee.__defaults__
            impl.__kwdefaults__ = callee.__kwdefaults__
            return TailCall(impl, *args, **kwargs)
        return callee(*args, **kwargs)

    impl: types.FunctionType = types.FunctionType(factory_code, func.__globals__)(bounce)
    impl.__name__, impl.__qualname__ = func.__name__, func.__qualname__
    impl.__code__ = impl.__code__.replace(co_name=func.__code__.co_name,
                                          co_qualname=func.__code__.co_qualname)
    impl.__defaults__ = func.__defaults__
    impl.__kwdefaults__ = func.__kwdefaults__

    def driver(*args: Any, **kwargs: Any) -> Any:
        result = impl(*args, **kwargs)
        while type(result) is TailCall:
            result = result()
        return result

    functools.update_wrapper(driver, func)
    driver.__defaults__ = func.__defaults__
    driver.__kwdefaults__ = dict(func.__kwdefaults__) if func.__kwdefaults__ else None
    public.append(driver)
    return driver  # type: ignore[return-value]


def _definition(func: types.FunctionType) -> ast.FunctionDef:
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise NotPortable(f"its source is not available ({exc})") from None
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, first - 1)
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or node.name != func.__name__:
        raise NotPortable("its source is not a plain def statement")
    return node


class _TailCalls(ast.NodeTransformer):
    """Rewrites ``return name(...)`` (also in either arm of ``x if c else y``) in tail
    position; never descends into try, with, handlers or nested scopes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[int] = []

    def visit_body(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.visit(statement)

    def visit_Return(self, node: ast.Return) -> ast.Return:
        if node.value is not None:
            node.value = self._tail(node.value)
        return node

    def _tail(self, expr: ast.expr) -> ast.expr:
        if isinstance(expr, ast.IfExp):
            expr.body, expr.orelse = self._tail(expr.body), self._tail(expr.orelse)
            return expr
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) \
                and expr.func.id == self.name:
            self.lines.append(expr.lineno)
            bounce = ast.Call(ast.Name(_BOUNCE, ast.Load()), [expr.func, *expr.args],
                              expr.keywords)
            return ast.copy_location(bounce, expr)
        return expr

    def _skip(self, node: ast.AST) -> ast.AST:
        return node

    visit_Try = visit_With = visit_AsyncWith = visit_FunctionDef = _skip
    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_TryStar = _skip
