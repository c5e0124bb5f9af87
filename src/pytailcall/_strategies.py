"""The strategies: how a rewritten function object is assembled.

``loop`` needs no driver: its tail calls to itself jump inside one frame, so the rewritten
function is the public one. ``return_tuple`` and ``partial`` are trampolines, and so is any
function with tail calls to *other* names: the public function is then a *driver* with the
original signature, which calls the rewritten *implementation* and keeps going while it
gets bounces back. The implementation takes every parameter positionally (``*args`` as a
tuple, ``**kwargs`` as a dict), so a bounce is just the parameter values.

Every optimized function carries a :class:`~pytailcall._runtime.Target`, so that tail calls
from other optimized functions bounce into it instead of calling it: mutual recursion and
state machines of several functions run in constant stack.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pytailcall import _runtime
from pytailcall._analysis import Analysis, SelfCall, parameter_count
from pytailcall._bytecode.assemble import Item, Op
from pytailcall._rewrite import (
    BOUNCE_CACHE_NAME,
    LEVEL_NAME,
    SELF_NAME,
    TARGET_NAME,
    Binding,
    Continuation,
    OwnVariablesNeeded,
    Restart,
    Rewriter,
    make_binder,
    make_star_binder,
    named_like,
    renamed_factory,
)
from pytailcall._signature import CO_VARARGS, CO_VARKEYWORDS, parameter_source

Wrap = Callable[[types.FunctionType], None]


class _Bounce(Continuation):
    """Return a bounce carrying the bound parameters; the driver makes the next call."""

    #: Holds what the bounce is made with, set once the implementation exists.
    free_variables = (".tail_call_bounce",)

    def continue_from(self, rewriter: Rewriter, site: SelfCall, binding: Binding,
                      depth: int) -> list[Item]:
        if _in_parameter_order(binding, rewriter.analysis.nparams, rewriter.code):
            # The arguments already sit on the stack as the parameters, in order.
            ops = self.from_stack(rewriter, depth - 1)
        else:
            ops = rewriter.bind(site, binding, depth)
            ops.append(Op("POP_TOP"))
            ops += self.from_parameters(rewriter)
        return [*ops, *rewriter.return_result(site)]

    def from_stack(self, rewriter: Rewriter, nargs: int) -> list[Op]:
        raise NotImplementedError

    def from_parameters(self, rewriter: Rewriter) -> list[Op]:
        raise NotImplementedError


def _in_parameter_order(binding: Binding, nparams: int, code: types.CodeType) -> bool:
    expected = tuple(Op("STORE_FAST", slot) for slot in reversed(range(nparams)))
    return (binding.stores == expected and not binding.reload
            and not code.co_flags & (CO_VARARGS | CO_VARKEYWORDS))


class _TupleBounce(_Bounce):
    """``(*parameters, marker)``, built with one BUILD_TUPLE; the cell holds the marker."""

    def from_stack(self, rewriter: Rewriter, nargs: int) -> list[Op]:
        return [Op("LOAD_DEREF", rewriter.bounce_slot), Op("BUILD_TUPLE", nargs + 1),
                Op("SWAP", 2), Op("POP_TOP")]

    def from_parameters(self, rewriter: Rewriter) -> list[Op]:
        n = rewriter.analysis.nparams
        return [*[Op("LOAD_FAST", slot) for slot in range(n)],
                Op("LOAD_DEREF", rewriter.bounce_slot), Op("BUILD_TUPLE", n + 1)]


class _PartialBounce(_Bounce):
    """``TailCall(implementation, *parameters)``; the cell holds TailCall bound to it."""

    def from_stack(self, rewriter: Rewriter, nargs: int) -> list[Op]:
        return [Op("LOAD_DEREF", rewriter.bounce_slot), Op("SWAP", nargs + 2), Op("POP_TOP"),
                *rewriter.call_value(nargs)]

    def from_parameters(self, rewriter: Rewriter) -> list[Op]:
        n = rewriter.analysis.nparams
        make = Op("LOAD_DEREF", rewriter.bounce_slot)
        if n == 0:
            null = Op("PUSH_NULL")
            ops = [null, make] if rewriter.facts.null_before_callable else [make, null]
            return [*ops, *rewriter.call(0)]
        return [make, *[Op("LOAD_FAST", slot) for slot in range(n)], *rewriter.call_value(n)]


_CONTINUATIONS: dict[str, Callable[[], Continuation]] = {
    "loop": Restart,
    "return_tuple": _TupleBounce,
    "partial": _PartialBounce,
}


@dataclass(frozen=True)
class Made:
    """The code a strategy made for one code object. It depends on the code, the options
    and ``has_plain_namespaces`` only, so every function of that code object (a nested
    ``def`` run again) can share it: :func:`build` makes the function objects around it."""

    kind: str
    #: The public function's code (``loop``), or the implementation's (trampolines), which
    #: takes every parameter positionally.
    code: types.CodeType
    #: Whether the trampolines' implementation, or the code other functions bounce into
    #: (loop functions with calls out), makes nested calls (see ``_implementations``).
    nests: bool
    #: Whether some site binds through the Target's binders, which ``build`` then makes.
    uses_binder: bool
    #: For a loop function with calls out: the implementation other optimized functions
    #: bounce into, positional like a trampoline's.
    bouncing: types.CodeType | None = None


def rewrite(kind: str, analysis: Analysis, sites: Sequence[SelfCall],
            calls_out: Sequence[SelfCall], *, plain_namespaces: bool,
            note_elided: bool = False, name_guard: bool = True) -> Made:
    """The code of a function rewritten with strategy ``kind`` (see :func:`build`). Raises
    what the rewriter raises (``NoRoomForJump`` for a call too short to jump from)."""
    # Nested calls (see _runtime.NESTED_CALLS) are left out where frames are counted: the
    # note counts bounces, and a nested call's frame is shown.
    nests = not note_elided

    def rewriter(own_variables: bool) -> Rewriter:
        return Rewriter(analysis, _CONTINUATIONS[kind](), plain_namespaces=plain_namespaces,
                        drive_calls_out=kind == "loop",
                        nests_calls_out=nests and kind != "loop", note_elided=note_elided,
                        name_guard=name_guard, own_variables=own_variables)

    # Without the name guard, a loop function may need none of its own (see
    # OwnVariablesNeeded); the rewrite tells.
    made = rewriter(own_variables=name_guard or kind != "loop" or bool(calls_out))
    try:
        code = made.rewrite(sites, calls_out)
    except OwnVariablesNeeded:
        made = rewriter(own_variables=True)
        code = made.rewrite(sites, calls_out)
    if kind != "loop":
        return Made(kind, _positional_convention(code), made.nests, made.uses_binder)
    if not any(site.callee != "self" for site in (*sites, *calls_out)):
        return Made(kind, code, False, made.uses_binder)
    # What other optimized functions bounce into: calls out return bounces (but while
    # contexts are saved: see Rewriter._bounce_or_drive).
    bouncing = Rewriter(analysis, Restart(), plain_namespaces=plain_namespaces,
                        nests_calls_out=nests, note_elided=note_elided, name_guard=name_guard)
    bouncing_code = _positional_convention(bouncing.rewrite(sites, calls_out))
    return Made(kind, code, bouncing.nests, made.uses_binder or bouncing.uses_binder,
                bouncing_code)


def build(made: Made, source: types.FunctionType, wrap: Wrap,
          original: types.FunctionType, *, note_elided: bool = False) -> types.FunctionType:
    """The public function for ``source`` made of ``made``'s code, carrying its
    :class:`~pytailcall._runtime.Target` (the caller adds the report). ``original`` is the
    user's function, which the rewritten code treats as itself. With ``note_elided`` (as
    ``made`` was rewritten), an exception leaving a frame that ran calls without frames of
    their own (jumps, bounces) gets a note with their count."""
    kind, code = made.kind, made.code
    # One cell per free variable the rewrite added, shared by every function made; but
    # the level of nested calls, one per implementation (see _implementations).
    added = code.co_freevars[len(source.__code__.co_freevars):]
    cells = {name: types.CellType() for name in added if name != LEVEL_NAME}
    for name, cell in cells.items():
        if name.startswith(BOUNCE_CACHE_NAME.format("")):
            cell.cell_contents = _runtime.NOTHING_REMEMBERED
    closure = (*(source.__closure__ or ()), *cells.values())
    if kind == "loop":
        # One frame, like the original: self calls jump, and calls out run a driver only
        # when they reach an optimized function.
        public = types.FunctionType(code, source.__globals__, source.__name__,
                                    source.__defaults__, closure or None)
        wrap(public)
        target = _runtime.Target(public, original)
        if made.bouncing is not None:
            levels = _implementations(made.bouncing, source, closure, nested=made.nests)
            _bounce_into(target, levels, source, _runtime.Marker(levels[0]))
    else:
        levels = _implementations(code, source, closure, nested=made.nests)
        impl = levels[0]
        marker = _runtime.Marker(impl)
        cells[_Bounce.free_variables[0]].cell_contents = (
            marker if kind == "return_tuple" else types.MethodType(_runtime.TailCall, impl))
        # (the implementation takes every parameter positionally: co_argcount is them all)
        body = _driver_body(kind, code.co_argcount, counted=note_elided)
        if note_elided:
            body = _noting(body, f"{source.__code__.co_qualname}()")
        public = _generated(source, body, impl, marker)
        wrap(public)
        target = _runtime.Target(public, original)
        _bounce_into(target, levels, source, marker)
    if SELF_NAME in cells:
        cells[SELF_NAME].cell_contents = public
        cells[TARGET_NAME].cell_contents = target
    add_entries(target, source, run=_runtime.run_noting if note_elided else _runtime.run)
    if made.uses_binder:
        _add_binders(target, source, public, original)
    public.__dict__[_runtime.TARGET_KEY] = target
    return public


#: The cells of the nested-call levels, shared by every implementation: the code only reads
#: them (``Rewriter.load_nested``).
_LEVEL_CELLS = tuple(types.CellType(level) for level in range(_runtime.NESTED_CALLS))


def _implementations(code: types.CodeType, source: types.FunctionType,
                     closure: tuple[types.CellType, ...], *,
                     nested: bool) -> list[types.FunctionType]:
    """The rewritten code (positional: ``_positional_convention``) as a function of its own
    per level of nested calls (``_runtime.NESTED_CALLS``; the first is run by drivers): the
    same code, each with its level in a cell (``_LEVEL_CELLS``; see ``Rewriter.load_nested``).
    Where the code makes no nested call (``nested``, as the rewriter decided), one function
    serves every level, with a level cell if the code has the variable (kept when nesting
    gave way for room). Named as ``source`` is (errors of a bad call that a driver makes
    name it, as a call names the function: by ``__qualname__``, which class factories may
    have changed from the code's)."""
    has_level = LEVEL_NAME in code.co_freevars
    levels: list[types.FunctionType] = []
    for level in range(_runtime.NESTED_CALLS if nested else 1):
        own = (_LEVEL_CELLS[level],) if has_level else ()
        impl = types.FunctionType(code, source.__globals__, source.__name__, None,
                                  (*closure, *own))
        impl.__qualname__ = source.__qualname__
        levels.append(impl)
    return levels * (1 if nested else _runtime.NESTED_CALLS)


def _bounce_into(target: _runtime.Target, levels: Sequence[types.FunctionType],
                 source: types.FunctionType, marker: _runtime.Marker) -> None:
    """Bounces run the implementation (``levels[0]``): directly for exactly its positional
    parameters (a tuple bounce ending with ``marker``, whose ``impl`` it is), otherwise
    through a step function with the public signature. Nested calls of exactly its
    positional parameters run the deeper ``levels``, and at the deepest, the bound maker,
    which returns a bounce."""
    impl = levels[0]
    code = source.__code__
    simple = not (code.co_kwonlyargcount or code.co_flags & (CO_VARARGS | CO_VARKEYWORDS))
    step = _generated(source, "    return _pytailcall_impl_({arguments})\n", impl, None)
    target.exact_count = code.co_argcount if simple else -2
    target.marker = marker
    marker.public = target.public
    if simple:
        target.bound_maker = marker.bound_maker = functools.partial(_runtime.TailCall, impl)
        marker.nested = (*levels[1:], marker.bound_maker)
    target.step = step


_ENTRIES = """\
def factory(TailCall, run, step, public, dest):
    def general(*args, **kwargs):
        if step is not None:
            step.__defaults__ = public.__defaults__
            step.__kwdefaults__ = public.__kwdefaults__
        return TailCall(dest, *args, **kwargs)
    def drive(*args, **kwargs):
        return run(general(*args, **kwargs))
    return general, drive
"""


def add_entries(target: _runtime.Target, source: types.FunctionType,
                run: Callable[[Any], Any] = _runtime.run) -> None:
    """The Target's ``general`` and ``drive``: they take any call, so they are named like the
    function (a ``*``/``**`` argument is consumed as they are called, and its errors name
    the callable) and read the defaults only then; their code stands on the ``def`` line.
    ``drive`` follows the bounces with ``run``."""
    factory = types.FunctionType(renamed_factory(source.__code__, "entries", lambda: _ENTRIES),
                                 {})
    dest = target.step if target.step is not None else target.public
    entries = factory(_runtime.TailCall, run, target.step, target.public, dest)
    target.general, target.drive = (named_like(entry, source) for entry in entries)


def _add_binders(target: _runtime.Target, source: types.FunctionType,
                 public: types.FunctionType, original: types.FunctionType) -> None:
    target.binder = make_binder(source)
    target.source_binder = make_binder(source)
    target.star_binder = make_star_binder(source, target.binder, public)
    target.source_star_binder = make_star_binder(source, target.source_binder, original)


def _positional_convention(code: types.CodeType) -> types.CodeType:
    """The implementation takes every parameter positionally, in slot order."""
    nparams = parameter_count(code)
    return code.replace(co_argcount=nparams, co_posonlyargcount=0, co_kwonlyargcount=0,
                        co_flags=code.co_flags & ~(CO_VARARGS | CO_VARKEYWORDS))


def _driver_body(kind: str, nparams: int, *, counted: bool = False) -> str:
    """Call the implementation, then keep calling while it returns bounces; ``counted``,
    add one to ``_pytailcall_count_`` for each bounce followed (see :func:`_noting`)."""
    own = ", ".join(f"r[{i}]" for i in range(nparams))
    count = "            _pytailcall_count_ += 1\n" if counted else ""
    tail_call = ("        if _pytailcall_type_(r) is _pytailcall_tailcall_:\n"
                 + count + "            r = r()\n")
    # Our own bounces have a known length: index them from the start (the interpreter
    # specializes that, not ``r[-1]``) and call the implementation with their items (no
    # new tuple). Any other tuple ending with a marker is a bounce into another function.
    own_bounce = (
        "        if (_pytailcall_type_(r) is _pytailcall_tuple_\n"
        f"                and _pytailcall_len_(r) == {nparams + 1}\n"
        f"                and r[{nparams}] is _pytailcall_marker_):\n"
        + count + f"            r = _pytailcall_impl_({own})\n"
    )
    # (Spelled out for a few parameters: see _runtime.run.)
    tuple_bounce = (
        "        if (_pytailcall_type_(r) is _pytailcall_tuple_ and r\n"
        "                and _pytailcall_type_(r[-1]) is _pytailcall_marker_type_):\n"
        + count
        + "            if _pytailcall_len_(r) == 2:\n"
        "                r = r[1].impl(r[0])\n"
        "            elif _pytailcall_len_(r) == 3:\n"
        "                r = r[2].impl(r[0], r[1])\n"
        "            else:\n"
        "                r = r[-1].impl(*r[:-1])\n"
    )
    checks = ((own_bounce, tuple_bounce, tail_call) if kind == "return_tuple"
              else (tail_call, tuple_bounce))
    return ("    r = _pytailcall_impl_({arguments})\n"
            "    while True:\n"
            + checks[0] + "".join("        el" + check[8:] for check in checks[1:])
            + "        else:\n            return r\n")


def _noting(body: str, where: str) -> str:
    """``body`` (a driver's, made ``counted``) adding to its count the jumps handed over to
    it (see :class:`~pytailcall._runtime.HANDED_OVER`), and noting the count on an
    exception that leaves it, inline: no other function of ours runs (tracers would see
    it, and at the recursion limit its call would fail)."""
    note = _runtime.ELIDED_NOTE.format(where)
    lines = body.splitlines(keepends=True)
    return ("    _pytailcall_count_ = 0\n"
            "    _pytailcall_outer_ = _pytailcall_handed_over_.count\n"
            "    _pytailcall_handed_over_.count = 0\n"
            "    try:\n"
            + "".join("    " + line for line in lines)
            + "    except BaseException as _pytailcall_exception_:\n"
            "        _pytailcall_count_ += _pytailcall_handed_over_.count\n"
            "        if _pytailcall_count_:\n"
            "            try:\n"
            f"                _pytailcall_exception_.add_note({note!r}.format(\n"
            "                    _pytailcall_count_))\n"
            "            except _pytailcall_note_failure_:\n"
            "                pass\n"
            "        raise\n"
            "    finally:\n"
            "        _pytailcall_handed_over_.count = _pytailcall_outer_\n")


_GENERATED_NAMES = ("_pytailcall_impl_", "_pytailcall_marker_", "_pytailcall_type_",
                    "_pytailcall_tuple_", "_pytailcall_tailcall_", "_pytailcall_marker_type_",
                    "_pytailcall_handed_over_", "_pytailcall_note_failure_", "_pytailcall_len_")


def _generated(source: types.FunctionType, body: str, impl: types.FunctionType,
               marker: _runtime.Marker | None) -> types.FunctionType:
    """A function with ``source``'s signature, name and globals running ``body``.

    ``body`` refers to ``_pytailcall_impl_`` and the runtime's names, which reach it through
    the closure of a factory, so nothing is added to the module's globals; every instruction
    has the ``def`` line, which is what tracebacks through it show.
    """
    def text() -> str:
        signature, arguments = parameter_source(source)
        return (f"def _pytailcall_factory_({', '.join(_GENERATED_NAMES)}):\n"
                f"  def _pytailcall_generated_({signature}):\n"
                + body.replace("{arguments}", arguments)
                + "  return _pytailcall_generated_\n")

    # (the parameter list depends on the code, and on how many defaults there are)
    factory_code = renamed_factory(source.__code__, (body, len(source.__defaults__ or ())),
                                   text)
    factory = types.FunctionType(factory_code, source.__globals__)
    made: types.FunctionType = factory(impl, marker, type, tuple, _runtime.TailCall,
                                       _runtime.Marker, _runtime.HANDED_OVER,
                                       _runtime.Target.NOTE_FAILURE, len)
    made.__name__ = source.__name__
    made.__qualname__ = source.__qualname__  # (see _implementation)
    made.__defaults__ = source.__defaults__
    made.__kwdefaults__ = source.__kwdefaults__
    return made
