"""The portable fallback: a ``partial`` trampoline made from source, for interpreters whose
bytecode pytailcall does not know (another implementation, a future CPython).

It reads the function's source with :mod:`inspect`, rewrites each ``return name(args)`` in
tail position (not inside ``try``, ``with``, a handler or a nested scope) into
``return bounce(name, args)`` with :mod:`ast`, and compiles it again. ``bounce`` checks
when the call runs that ``name`` is still the optimized function: if so it returns a
:class:`~pytailcall._runtime.TailCall` for the driver loop, if not it makes the call. The
callee is evaluated before the arguments, as in the call it replaces.

The public function is a driver generated with the original signature, file, first line,
names and globals (so ``inspect.signature``, tracebacks and doctest see the original); it
binds each call with its own current defaults and passes every parameter positionally to
the rewritten copy, so a bounce binds the same way, through a twin of the driver. The copy
is compiled without defaults and annotations: their expressions run once, at the original
``def``, and the public function keeps the original's objects. Functions without source,
closures (whose cells a recompiled function cannot share) and functions that call
``locals()``, ``vars()`` or ``dir()`` without arguments (which would list the hidden
bounce name) are not rewritten.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from typing import Any

from pytailcall._runtime import TailCall
from pytailcall._signature import CO_VARARGS, CO_VARKEYWORDS, parameter_source

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
    """A driver with ``func``'s signature running a source-rewritten copy of it until it
    stops bouncing."""
    if func.__closure__:
        raise NotPortable("it is a closure; a function compiled again cannot share its cells")
    tree = _definition(func)
    if _lists_own_locals(tree):
        raise NotPortable("it calls locals(), vars() or dir() without arguments, which would "
                          "also list the hidden name through which its tail calls bounce")
    finder = _TailCalls(func.__name__)
    finder.visit_body(tree.body)
    if not finder.lines:
        raise NotPortable("it has no tail calls to itself")
    tree.decorator_list = []
    # The driver binds every call with the public function's current defaults and passes
    # all parameters positionally, so the copy needs no defaults; without them and the
    # annotations, compiling it evaluates none of their expressions a second time.
    tree.args = _all_positional(tree.args)
    tree.returns = None
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

    own = func.__code__
    # Exactly this many positional arguments bind one to one to the parameters.
    exact = -1 if own.co_kwonlyargcount or own.co_flags & (CO_VARARGS | CO_VARKEYWORDS) \
        else own.co_argcount

    def bounce(callee: Any, /, *args: Any, **kwargs: Any) -> Any:
        if callee is driver:
            if not kwargs and len(args) == exact:
                return TailCall(impl, *args)
            # Bind as a call of the public function would, with its current defaults.
            step.__defaults__ = callee.__defaults__
            step.__kwdefaults__ = callee.__kwdefaults__
            return step(*args, **kwargs)
        return callee(*args, **kwargs)

    impl: types.FunctionType = types.FunctionType(factory_code, func.__globals__)(bounce)
    impl.__name__, impl.__qualname__ = func.__name__, func.__qualname__
    impl.__code__ = impl.__code__.replace(co_name=func.__code__.co_name,
                                          co_qualname=func.__code__.co_qualname)
    driver = _generated(func, _DRIVER_BODY, impl)
    step = _generated(func, _STEP_BODY, impl)
    functools.update_wrapper(driver, func)
    driver.__defaults__ = func.__defaults__
    driver.__kwdefaults__ = dict(func.__kwdefaults__) if func.__kwdefaults__ else None
    return driver


#: Call the implementation, then keep calling while it returns bounces.
_DRIVER_BODY = """\
_pytailcall_result_ = _pytailcall_impl_({arguments})
while _pytailcall_type_(_pytailcall_result_) is _pytailcall_tailcall_:
    _pytailcall_result_ = _pytailcall_result_()
return _pytailcall_result_
"""
#: The bounce for a call bound to the public signature.
_STEP_BODY = "return _pytailcall_tailcall_(_pytailcall_impl_, {arguments})\n"


def _generated(func: types.FunctionType, body: str,
               impl: types.FunctionType) -> types.FunctionType:
    """A function with ``func``'s signature, name, qualified name, file and globals running
    ``body``, which reaches the implementation and the runtime names through the closure of
    a factory (nothing is added to the module's globals). Every instruction has the ``def``
    line, which is where tracebacks and doctest place it."""
    code = func.__code__
    signature, arguments = parameter_source(func)
    names = ("_pytailcall_impl_", "_pytailcall_type_", "_pytailcall_tailcall_")
    text = (f"def _pytailcall_factory_({', '.join(names)}):\n"
            f"    def _pytailcall_generated_({signature}):\n"
            + textwrap.indent(body.replace("{arguments}", arguments), " " * 8)
            + "    return _pytailcall_generated_\n")
    tree = ast.parse(text)
    first = code.co_firstlineno
    for node in ast.walk(tree):
        if isinstance(node, (ast.stmt, ast.expr, ast.arg, ast.keyword)):
            # -1 columns: no column information, as for code the compiler adds itself.
            node.lineno = node.end_lineno = first
            node.col_offset = node.end_col_offset = -1
    module_code = compile(tree, code.co_filename, "exec", dont_inherit=True)
    factory_code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    factory = types.FunctionType(factory_code, func.__globals__)
    made: types.FunctionType = factory(impl, type, TailCall)
    made.__code__ = made.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname)
    made.__name__, made.__qualname__ = func.__name__, func.__qualname__
    made.__defaults__ = func.__defaults__
    made.__kwdefaults__ = func.__kwdefaults__
    return made


def _all_positional(args: ast.arguments) -> ast.arguments:
    """Every parameter as a plain positional one, in the order of ``co_varnames`` (the order
    of :func:`~pytailcall._signature.parameter_source`), without annotations or defaults."""
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs,
              *([args.vararg] if args.vararg else []), *([args.kwarg] if args.kwarg else [])]
    plain = [ast.copy_location(ast.arg(arg=param.arg, annotation=None), param)
             for param in params]
    return ast.arguments(posonlyargs=[], args=plain, vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])


_LOCALS_LISTERS = frozenset({"locals", "vars", "dir"})


def _lists_own_locals(tree: ast.FunctionDef) -> bool:
    """Does the body call ``locals()``, ``vars()`` or ``dir()`` without arguments (or with
    only ``*`` and ``**`` ones, which may be empty)? Nested scopes count too: a comprehension
    is inlined in its function from Python 3.12."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
               and node.func.id in _LOCALS_LISTERS
               and all(isinstance(arg, ast.Starred) for arg in node.args)
               and all(keyword.arg is None for keyword in node.keywords)
               for statement in tree.body for node in ast.walk(statement))


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
