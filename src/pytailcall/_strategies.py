"""The strategies: how a rewritten function object is assembled.

``loop`` needs no driver: its tail calls jump inside one frame, so the rewritten function is
the public one. ``return_tuple`` and ``partial`` are trampolines: the public function is a
*driver* with the original signature, which calls the rewritten *implementation* and keeps
calling it while it returns bounces. The implementation takes every parameter positionally
(``*args`` as a tuple, ``**kwargs`` as a dict), so a bounce is just the parameter values.
"""

from __future__ import annotations

import types
from collections.abc import Callable

from pytailcall import _runtime
from pytailcall._analysis import Analysis, SelfCall
from pytailcall._bytecode.assemble import Op
from pytailcall._bytecode.code import location_entries
from pytailcall._rewrite import (
    Binding,
    Continuation,
    Restart,
    Rewriter,
)
from pytailcall._signature import CO_VARARGS as _CO_VARARGS
from pytailcall._signature import CO_VARKEYWORDS as _CO_VARKEYWORDS
from pytailcall._signature import parameter_source

Wrap = Callable[[types.FunctionType], None]


def build_loop(source: types.FunctionType, analysis: Analysis, sites: list[SelfCall],
               wrap: Wrap) -> types.FunctionType:
    code = Rewriter(source, analysis, Restart()).rewrite(sites)
    cell = types.CellType()
    new = types.FunctionType(code, source.__globals__, source.__name__, source.__defaults__,
                             (*(source.__closure__ or ()), cell))
    wrap(new)
    cell.cell_contents = new
    return new


# -- trampolines ------------------------------------------------------------------------


class _Bounce(Continuation):
    """Return a bounce carrying the bound parameters; the driver makes the next call."""

    def continue_from(self, rewriter: Rewriter, site: SelfCall, binding: Binding,
                      depth: int) -> list[Op]:
        if _in_parameter_order(binding, rewriter.analysis.nparams, rewriter.code):
            # The arguments already sit on the stack as the parameters, in order.
            ops = self.from_stack(rewriter, depth - 1)
        else:
            ops = rewriter.bind(site, binding, depth)
            ops.append(Op("POP_TOP"))
            ops += self.from_parameters(rewriter)
        # Return the bounce from here, cleaning the stack as the compiler's return would.
        return [*ops, *[Op(name, arg) for name, arg in site.exit_ops], Op("RETURN_VALUE")]

    def from_stack(self, rewriter: Rewriter, nargs: int) -> list[Op]:
        raise NotImplementedError

    def from_parameters(self, rewriter: Rewriter) -> list[Op]:
        raise NotImplementedError


def _in_parameter_order(binding: Binding, nparams: int, code: types.CodeType) -> bool:
    expected = tuple(Op("STORE_FAST", slot) for slot in reversed(range(nparams)))
    return (binding.stores == expected and not binding.reload
            and not code.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS))


class _TupleBounce(_Bounce):
    """``(BOUNCE, *parameters)``, built with one BUILD_TUPLE."""

    def from_stack(self, rewriter: Rewriter, nargs: int) -> list[Op]:
        marker = rewriter.consts.index(_runtime.BOUNCE)
        return [Op("LOAD_CONST", marker), Op("SWAP", nargs + 2), Op("POP_TOP"),
                Op("BUILD_TUPLE", nargs + 1)]

    def from_parameters(self, rewriter: Rewriter) -> list[Op]:
        n = rewriter.analysis.nparams
        return [Op("LOAD_CONST", rewriter.consts.index(_runtime.BOUNCE)),
                *[Op("LOAD_FAST", slot) for slot in range(n)], Op("BUILD_TUPLE", n + 1)]


class _PartialBounce(_Bounce):
    """``TailCall(implementation, *parameters)``, made by calling a prepared bound method."""

    #: Holds ``TailCall`` bound to the implementation, set once the implementation exists.
    free_variables = (".tail_call_bounce",)

    def from_stack(self, rewriter: Rewriter, nargs: int) -> list[Op]:
        return [Op("LOAD_DEREF", rewriter.self_slot + 1), Op("SWAP", nargs + 2), Op("POP_TOP"),
                *rewriter.call_value(nargs)]

    def from_parameters(self, rewriter: Rewriter) -> list[Op]:
        n = rewriter.analysis.nparams
        make = Op("LOAD_DEREF", rewriter.self_slot + 1)
        if n == 0:
            null = Op("PUSH_NULL")
            ops = [null, make] if rewriter.facts.null_before_callable else [make, null]
            precall = [Op("PRECALL", 0)] if rewriter.facts.has_precall else []
            return [*ops, *precall, Op("CALL", 0)]
        return [make, *[Op("LOAD_FAST", slot) for slot in range(n)], *rewriter.call_value(n)]


def _driver_loop(kind: str, nparams: int) -> str:
    """The driver's loop: call the implementation again while it returns a bounce."""
    if kind == "return_tuple":
        # Index the bounce instead of slicing it: no new tuple, and a plain call.
        unpacked = ", ".join(f"r[{i}]" for i in range(1, nparams + 1))
        return ("    while _pytailcall_type_(r) is _pytailcall_tuple_ and r and r[0] is "
                "_pytailcall_bounce_:\n"
                f"        r = _pytailcall_impl_({unpacked})\n")
    return ("    while _pytailcall_type_(r) is _pytailcall_tailcall_:\n"
            "        r = r()\n")


_CONTINUATIONS: dict[str, Callable[[], _Bounce]] = {
    "return_tuple": _TupleBounce,
    "partial": _PartialBounce,
}


def build_trampoline(kind: str, source: types.FunctionType, analysis: Analysis,
                     sites: list[SelfCall], wrap: Wrap) -> types.FunctionType:
    code = Rewriter(source, analysis, _CONTINUATIONS[kind]()).rewrite(sites)
    code = _positional_convention(code, analysis.nparams)
    cells = [types.CellType() for _ in range(len(code.co_freevars)
                                              - len(source.__code__.co_freevars))]
    impl = types.FunctionType(code, source.__globals__, source.__name__, None,
                              (*(source.__closure__ or ()), *cells))
    driver = _make_driver(kind, source, impl, analysis.nparams)
    wrap(driver)
    cells[0].cell_contents = driver
    if kind == "partial":
        # Calling it makes TailCall(impl, *args); a bound method prepends impl for free.
        cells[1].cell_contents = types.MethodType(_runtime.TailCall, impl)
    return driver


def _positional_convention(code: types.CodeType, nparams: int) -> types.CodeType:
    """The implementation takes every parameter positionally, in slot order."""
    return code.replace(co_argcount=nparams, co_posonlyargcount=0, co_kwonlyargcount=0,
                        co_flags=code.co_flags & ~(_CO_VARARGS | _CO_VARKEYWORDS))


def _make_driver(kind: str, source: types.FunctionType, impl: types.FunctionType,
                 nparams: int) -> types.FunctionType:
    """A function with ``source``'s signature that runs ``impl`` until it stops bouncing."""
    code = source.__code__
    signature, arguments = parameter_source(source)
    text = (
        "def _pytailcall_factory_(_pytailcall_impl_, _pytailcall_bounce_, _pytailcall_type_,"
        " _pytailcall_tuple_, _pytailcall_tailcall_):\n"
        f"  def {code.co_name}({signature}):\n"
        f"    r = _pytailcall_impl_({arguments})\n"
        + _driver_loop(kind, nparams)
        + "    return r\n"
        f"  return {code.co_name}\n"
    )
    module_code = compile(text, code.co_filename, "exec")
    factory_code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    driver_code = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType))
    units = len(driver_code.co_code) // 2
    first = code.co_firstlineno
    driver_code = driver_code.replace(
        co_qualname=code.co_qualname, co_firstlineno=first,
        co_linetable=location_entries([(units, (first, first, None, None))], first)[0])
    factory_code = factory_code.replace(co_consts=tuple(
        driver_code if isinstance(c, types.CodeType) else c for c in factory_code.co_consts))
    factory = types.FunctionType(factory_code, source.__globals__)
    driver: types.FunctionType = factory(impl, _runtime.BOUNCE, type, tuple, _runtime.TailCall)
    driver.__defaults__ = source.__defaults__
    driver.__kwdefaults__ = source.__kwdefaults__
    return driver
