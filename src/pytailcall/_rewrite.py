"""Rewriting a function's tail calls to itself: the mechanism every strategy shares.

For each tail call the analysis accepted, the call sequence is replaced in place by a jump
to a stub appended after the function's code (a call sequence that ends the code is replaced
by its stub itself: no jump). The stub checks, at run time, that the
callee is still the optimized function (the name may have been rebound); if so it binds
the arguments to the parameters and hands over to the strategy's *continuation*: the loop
strategy replays the compiler's own stack clean-up, gives the iteration fresh cells and
unbound locals and jumps back past RESUME; the trampolines return a bounce for their driver
loop. If the callee is something else, the stub makes the original call and rejoins the
code after it.

The identity check loads the optimized function from one extra free variable, so the
function object, its closure and the cell form an ordinary collectable cycle.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Any

from pytailcall import _runtime
from pytailcall._analysis import (
    LINE_ONLY,
    Analysis,
    Reason,
    SelfCall,
    method_binds_with_stores,
)
from pytailcall._bytecode.assemble import (
    Assembled,
    Item,
    Label,
    NoRoomForJump,
    Op,
    assemble,
    jump_in_place,
)
from pytailcall._bytecode.code import (
    NO_LINE,
    Handler,
    Instr,
    Position,
    build_exception_table,
    encode,
    encoded_size,
    last_computed_line,
    location_entries,
    parse_exception_table,
    truncated_location_table,
)
from pytailcall._bytecode.facts import Facts
from pytailcall._bytecode.flow import max_stack_depth
from pytailcall._memo import ByCode
from pytailcall._signature import CO_VARARGS as _CO_VARARGS
from pytailcall._signature import CO_VARKEYWORDS as _CO_VARKEYWORDS
from pytailcall._signature import EXTRA, direct_targets, parameter_source
from pytailcall._unwinding import Unwinder

#: The free variable through which the rewritten code finds its own function object.
SELF_NAME = ".tail_call_self"
#: The free variable through which the rewritten code finds the function's Target (not
#: through its ``__dict__``, which a user's ``functools.wraps`` may overwrite).
TARGET_NAME = ".tail_call_target"
#: The free variables through which calls out remember the last callee they bounced into
#: (see ``Rewriter._plan_bounce_caches``), numbered from 0.
BOUNCE_CACHE_NAME = ".tail_call_bounced_{}"
#: The free variable, last of all, through which an implementation that nests calls
#: (see ``Rewriter._nested_call``) knows its level: one cell per level's function.
LEVEL_NAME = ".tail_call_level"


@dataclass(frozen=True)
class Binding:
    """How a site's arguments become parameter values.

    ``stores`` is None when the arguments cannot be bound by plain stores known at
    decoration time (omitted defaults, ``*``/``**`` at the call site, errors); a *binder*
    (a function with the same signature that returns its parameters) is then called with the
    very same arguments, so every rule and every error of a real call applies.

    Trailing arguments that only reload the parameter they bind (``div`` in
    ``return modulo(val - div, div)``) are not loaded at all: the jump keeps the parameter as
    it is, and the normal call loads it again (``reload``), as nothing stored to it since.
    """

    drop_null: bool  #: the callee was loaded without its NULL; calls use it as "self"
    stores: tuple[Op, ...] | None
    #: Argument loads to remove, with what replaces each (a NOP or the other half of a pair).
    elided: tuple[tuple[Instr, str, int], ...] = ()
    #: Parameter slots the normal call pushes again, bottom to top.
    reload: tuple[int, ...] = ()


#: ``BINARY_OP``'s argument for ``+`` (``NB_ADD``), the same on every version.
NB_ADD = 0

_PLAIN = (int, str, tuple, type(None))


class _Pool:
    """Appends constants or names to a code object's tuple, reusing equal entries."""

    def __init__(self, existing: tuple[Any, ...]) -> None:
        self.items = list(existing)

    def index(self, value: Any) -> int:
        for i, item in enumerate(self.items):
            # Equal plain values may share an entry (not 1 and True: types must match).
            if item is value or (type(item) is type(value) and type(value) in _PLAIN
                                 and item == value):
                return i
        self.items.append(value)
        return len(self.items) - 1


def plan_binding(site: SelfCall, analysis: Analysis) -> Binding:
    shape = site.shape
    assert shape is not None
    code = analysis.code
    # A callee load shared with a copy of the call (see _argument_code) must keep its NULL:
    # the other copy may stay a normal call.
    if site.own_method:
        if not method_binds_with_stores(shape, code):
            return Binding(False, None)  # the binder binds (see Rewriter._bind_method)
        # The bound object goes to the first parameter (see Rewriter._method_stub), the
        # values on the stack to the others.
        targets = direct_targets(shape.npositional + 1, shape.kwnames, code)
        assert targets is not None
        return Binding(False, _store_ops(targets[:-1], code))
    drop_null = (shape.kind != "CALL_FUNCTION_EX" and shape.npositional >= 1
                 and site.contiguous)
    if not drop_null:
        return Binding(False, None)
    targets = direct_targets(shape.npositional, shape.kwnames, code)
    if targets is None:
        return Binding(True, None)
    elided, reload = _identity_suffix(site, targets, analysis)
    return Binding(True, _store_ops(targets[len(reload):], code), elided, reload)


def _store_ops(targets: list[int], code: types.CodeType) -> tuple[Op, ...]:
    extras = targets.count(EXTRA)
    ops = []
    for i, slot in enumerate(targets):
        if slot != EXTRA:
            ops.append(Op("STORE_FAST", slot))
        elif i == targets.index(EXTRA):  # the extras are contiguous: collect them at once
            varargs_slot = code.co_argcount + code.co_kwonlyargcount
            ops += [Op("BUILD_TUPLE", extras), Op("STORE_FAST", varargs_slot)]
    return tuple(ops)


#: Instructions a stub may not run in place of the function's own: they belong where the
#: compiler put them (frame set-up, generators' suspension points).
_NOT_MOVABLE = frozenset({"RESUME", "COPY_FREE_VARS", "MAKE_CELL", "RETURN_GENERATOR",
                          "YIELD_VALUE", "SEND", "END_SEND", "GET_AWAITABLE", "SETUP_ANNOTATIONS"})

_SINGLE_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_BORROW"})
_PAIR_LOADS = frozenset({"LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW"})


def _identity_suffix(site: SelfCall, targets: list[int], analysis: Analysis
                     ) -> tuple[tuple[tuple[Instr, str, int], ...], tuple[int, ...]]:
    """The trailing argument loads that reload the very parameter they bind."""
    if not site.contiguous:
        return (), ()
    facts = analysis.facts
    jump_targets = analysis.flow.jump_sources
    written = {slot for ins in site.arguments
               for kind, slot in facts.local_accesses(ins.name, ins.arg) if kind != "read"}
    # The stack values the last argument instructions push, top first, with their load.
    values: list[tuple[Instr, int]] = []
    for ins in reversed(site.arguments):
        if ins.offset in jump_targets or len(values) >= len(targets):
            break
        if ins.name in _SINGLE_LOADS:
            values.append((ins, ins.arg))
        elif ins.name in _PAIR_LOADS:
            values += [(ins, ins.arg & 15), (ins, ins.arg >> 4)]
        else:
            break
    if site.region[0].offset in jump_targets:
        return (), ()
    # Natively the call has its own copy of a value once loaded: where a line starts
    # between the first of these loads and the call (a call over several lines), a trace
    # function can write the parameter there (a debugger's ``!x = ...``), which the elided
    # load would let through. Only loads on the call's own line are elided.
    call_line = analysis.positions[site.call.offset][0]
    while values and any(analysis.positions[ins.offset][0] != call_line
                         for ins in _from(values[-1][0], site)):
        values.pop()
    # A load is also the check that the parameter is bound (``del x`` or ``except E as x``
    # unbinds it): keep the loads of any parameter the function can unbind. (``unbinds``, a
    # pass over the code, is asked last: most calls end with an argument that is no load.)
    reload: list[int] = []
    for (_, slot), target in zip(values, targets, strict=False):
        if (slot != target or slot in written or slot in analysis.cell_slots
                or slot in analysis.unbinds):
            break
        reload.append(slot)
    elided_loads = [ins for ins, _ in values[:len(reload)]]
    elided: list[tuple[Instr, str, int]] = []
    for ins in dict.fromkeys(elided_loads):
        if ins.name in _PAIR_LOADS and elided_loads.count(ins) == 1:
            elided.append((ins, "LOAD_FAST", ins.arg >> 4))  # keep the lower half
        else:
            elided.append((ins, "NOP", 0))
    return tuple(elided), tuple(reversed(reload))


def _from(first: Instr, site: SelfCall) -> list[Instr]:
    """The instructions of ``site`` from its argument ``first`` to its call, both included."""
    arguments = list(site.arguments)
    return [*arguments[arguments.index(first):], *site.region]


def _empty_collectors(code: types.CodeType, npositional: int, pool: _Pool) -> list[Op]:
    """Fresh ``*args``/``**kwargs`` values when the call passes nothing to them."""
    ops = []
    slot = code.co_argcount + code.co_kwonlyargcount
    if code.co_flags & _CO_VARARGS:
        if npositional <= code.co_argcount:
            ops += [Op("LOAD_CONST", pool.index(())), Op("STORE_FAST", slot)]
        slot += 1
    if code.co_flags & _CO_VARKEYWORDS:
        ops += [Op("BUILD_MAP", 0), Op("STORE_FAST", slot)]
    return ops


#: The file name of the code pytailcall generates (binders, drivers, bounce entries) until
#: a function made from it is named like the user's (``renamed_factory``). Not the user's file:
#: the generated module and its factory run as a function is decorated, and under a tracer
#: their line events would count lines of the user's file as run (coverage).
GENERATED_FILENAME = "<pytailcall generated>"


@functools.lru_cache(maxsize=256)
def compiled(source: str) -> types.CodeType:
    """``source`` (generated: binders, drivers, bounce entries) compiled as a module; once
    per source, since compiling is most of what decorating costs otherwise and equal
    sources are common (same signature). Code objects are immutable and hold no user
    objects, so sharing one between functions changes nothing."""
    return compile(source, GENERATED_FILENAME, "exec")


#: Factories of generated code, with the functions they make renamed like a code object's
#: (see ``renamed_factory``): a few per code object (entries, step, driver, binders).
_renamed_factories: ByCode[types.CodeType] = ByCode(1024)


def renamed_factory(code: types.CodeType, key: Hashable, text: Callable[[], str], *,
                    on_def_line: bool = True) -> types.CodeType:
    """The code of the factory ``text()`` defines first, the functions it makes renamed like
    ``code``'s (``renamed_like``); by ``code`` and ``key`` (what ``text()`` and
    ``on_def_line`` depend on besides the code): the same for every function of that code
    object, so made once (a nested ``def`` run again under the import hook makes a function
    each time; renaming its step function and entries was a sixth of that). The factory
    itself keeps ``GENERATED_FILENAME``: it runs as a function is made."""
    factory = _renamed_factories.get(code, key)
    if factory is None:
        module = compiled(text())
        factory = next(c for c in module.co_consts if isinstance(c, types.CodeType))
        factory = factory.replace(co_consts=tuple(
            renamed_like(c, code, on_def_line=on_def_line) if isinstance(c, types.CodeType)
            else c for c in factory.co_consts))
        _renamed_factories.put(code, key, factory)
    return factory


def named_like(made: types.FunctionType, func: types.FunctionType) -> types.FunctionType:
    """Give ``made`` (made of code that ``renamed_factory`` named like ``func``'s) the names
    of ``func`` itself, which may differ from its code's (a class factory that sets
    ``__qualname__``), and return it."""
    made.__name__ = func.__name__
    made.__qualname__ = func.__qualname__
    made.__module__ = func.__module__
    return made


def make_binder(func: types.FunctionType) -> types.FunctionType:
    """A function with ``func``'s signature that returns its parameters as a tuple; named
    like the function, for identical binding errors, without lines of its own, as its
    source is not the user's."""
    def text() -> str:
        signature, names = parameter_source(func)
        values = f"({names},)" if names else "()"
        return (f"def factory():\n    def binder({signature}):\n        return {values}\n"
                "    return binder\n")

    factory = renamed_factory(func.__code__, ("binder", len(func.__defaults__ or ())), text,
                              on_def_line=False)
    binder = named_like(types.FunctionType(factory, {})(), func)
    binder.__defaults__ = func.__defaults__
    binder.__kwdefaults__ = func.__kwdefaults__
    return binder


_STAR_BINDER = """\
def factory(binder, callee):
    def star_binder(*args, **kwargs):
        binder.__defaults__ = callee.__defaults__
        binder.__kwdefaults__ = callee.__kwdefaults__
        return binder(*args, **kwargs)
    return star_binder
"""


def make_star_binder(func: types.FunctionType, binder: types.FunctionType,
                     callee: types.FunctionType) -> types.FunctionType:
    """What ``f(*iterable, **mapping)`` calls in place of the callee: the call consumes the
    iterable and the mapping (errors name ``func``, as natively), then the binder binds with
    the callee's defaults as they are at that moment."""
    factory = renamed_factory(func.__code__, "star_binder", lambda: _STAR_BINDER,
                              on_def_line=False)
    return named_like(types.FunctionType(factory, {})(binder, callee), func)


@functools.lru_cache(maxsize=64)
def one_line_table(units: int, on_def_line: bool) -> bytes:
    """A location table putting ``units`` code units on the first line, or on none: the
    same for every function (lines are relative to ``co_firstlineno``)."""
    position = (1, 1, None, None) if on_def_line else None
    return location_entries([(units, position)], 1)[0]


def renamed_like(generated: types.CodeType, code: types.CodeType, *,
                 on_def_line: bool) -> types.CodeType:
    """``generated`` with ``code``'s names (error messages name the callable) and file, and
    either no lines at all or every instruction on ``code``'s ``def`` line."""
    units = len(generated.co_code) // 2
    return generated.replace(
        co_name=code.co_name, co_qualname=code.co_qualname, co_filename=code.co_filename,
        co_firstlineno=code.co_firstlineno, co_linetable=one_line_table(units, on_def_line))


class OwnVariablesNeeded(Exception):
    """Raised by a rewrite made without its own free variables (``own_variables=False``)
    whose code turned out to need them: make it again with them.

    Without the name guard, a loop function whose calls to itself all jump needs neither
    the self-reference nor the Target; leaving them out leaves it without a closure (or
    with the one it had), and its calls without the cost of ``COPY_FREE_VARS``: the
    function entry of the hand-written loop."""


def has_plain_namespaces(func: types.FunctionType) -> bool:
    """Are ``func``'s globals and builtins exact dicts, whose lookups run no user code?"""
    return (type(func.__globals__) is dict
            and type(getattr(func, "__builtins__", None)) is dict)


class Rewriter:
    """Builds the rewritten code object for one function from its analysis."""

    def __init__(self, analysis: Analysis, continuation: Continuation, *,
                 plain_namespaces: bool, drive_calls_out: bool = False,
                 nests_calls_out: bool = False, note_elided: bool = False,
                 name_guard: bool = True, own_variables: bool = True) -> None:
        #: The function's globals and builtins are exact dicts (``plain_namespaces``): their
        #: lookups run no code of the user's. With the code and the options, all the code
        #: made depends on (so it is the same for every function of one code object).
        self.plain_namespaces = plain_namespaces
        #: False: calls to itself jump without checking that the name still refers to
        #: this function (the user promised it always will).
        self.name_guard = name_guard
        #: Asked for (``PYTAILCALL_TRACEBACK_NOTE``): count the calls that jumped in this frame
        #: and note the count on an exception leaving it (see ``_plan_frame``).
        self.note_elided = note_elided
        self.counts_jumps = False
        #: Tail calls to other optimized functions run a driver (public code) rather than
        #: return a bounce (an implementation that a driver runs).
        self.drive_calls_out = drive_calls_out
        #: Tail calls to other optimized functions that would return a tuple bounce call
        #: the callee's implementation instead (see ``_nested_call``).
        self.nests_calls_out = nests_calls_out
        #: Set when a site binds through the Target's binder, which the builder then makes.
        self.uses_binder = False
        self.continuation = continuation
        self.analysis = analysis
        self.code = analysis.code
        #: Source positions of the function's own instructions, by code unit.
        self.positions = analysis.positions
        self.facts: Facts = analysis.facts
        self.consts = _Pool(self.code.co_consts)
        self.names = _Pool(self.code.co_names)
        cells_only = [c for c in self.code.co_cellvars if c not in self.code.co_varnames]
        #: The slot of the first free variable this rewrite adds.
        self.first_added_slot = (self.code.co_nlocals + len(cells_only)
                                 + len(self.code.co_freevars))
        #: Free variables this rewrite adds: the self-reference and the function's Target
        #: (unless ``own_variables`` is False: see ``OwnVariablesNeeded``), then the
        #: continuation's.
        own = (SELF_NAME, TARGET_NAME) if own_variables else ()
        self.added_free: tuple[str, ...] = (*own, *continuation.free_variables)
        #: The free variable of each call out that remembers its last bounce, by site id.
        self.bounce_caches: dict[int, int] = {}
        #: The free variable holding this implementation's level (see ``LEVEL_NAME``).
        self.level_slot = -1
        #: Whether calls out use those, and on 3.13+ the C-level maker of method bounces:
        #: longer stubs, left out when they leave some call without room for its jump.
        self.fast_bounces = True
        #: Whether calls to itself may have stubs from the callee's load (see
        #: ``_starts_at_load``): longer, left out like the fast bounces.
        self.stubs_from_load = True
        #: The first of the continuation's free variables.
        self.bounce_slot = self.first_added_slot + len(own)
        self.keeps_iterators = False
        self._bindings: dict[int, Binding] = {}
        self._inline_restarts: dict[int, Assembled | None] = {}
        self._from_load: dict[int, bool] = {}
        #: Instructions taken into a call's stub, by the call's offset (see ``_widen``).
        self._widened: dict[int, list[Instr]] = {}
        self._arguments: dict[int, tuple[Op, ...]] = {}
        #: Saves the contexts of calls whose result is used (see ``_unwinding``), or None.
        self.unwinder: Unwinder | None = None
        #: How much deeper than the compiler's the stack is everywhere (the iterator list).
        self.stack_base = 0
        self.prefix = b""
        #: Whether the compiler's COPY_FREE_VARS counts ours too (``_plan_frame``).
        self.copies_free_vars_in_place = False
        self.shift = 0

    def _plan_frame(self, sites: Sequence[SelfCall]) -> None:
        """What runs before the function's own first instruction: copying the closure's free
        variables (ours included), and for a jump out of a ``for`` loop, a list at the
        bottom of the stack for the iterators that a return would have kept alive until
        the call returned. The stack is emptied as a call ends, so the list, and with it
        the iterators, go innermost first (lists free their items from the end) when the
        frame returns or an exception leaves it, as they would natively.

        With ``note_elided``, a count of the jumps lies under everything (an int, replaced
        at each jump), and every instruction no handler covers gets :meth:`_note_handler`.
        Without it, the code is exactly what it would be if the option did not exist."""
        self.keeps_iterators = self.continuation.keeps_iterators and any(
            site.iterators for site in sites if site.callee == "self")
        if self.continuation.jumps_in_frame and any(site.context for site in sites):
            if self.keeps_iterators:  # (the analysis refuses one or the other)
                raise RuntimeError("contexts and kept iterators would share one list")
            self.unwinder = Unwinder(self, sites)
        self.counts_jumps = self.note_elided and self.continuation.jumps_in_frame and any(
            site.may_jump for site in sites)
        self.stack_base = int(self.counts_jumps) + int(self.has_list)
        self.copies_free_vars_in_place = self._copies_free_vars_in_place()
        prefix = [] if not self.added_free or self.copies_free_vars_in_place else [
            Op("COPY_FREE_VARS", len(self.code.co_freevars) + len(self.added_free))]
        if self.counts_jumps:
            prefix.append(Op("LOAD_CONST", self.consts.index(0)))  # under the list, if any
        if self.keeps_iterators:
            prefix.append(Op("BUILD_LIST", 0))
        elif self.unwinder is not None:
            prefix.append(Op("LOAD_CONST", self.consts.index(None)))  # (see _unwinding)
        # (No jumps, no positions: encoded as they are, without the assembler's passes.)
        self.prefix = b"".join(encode(self.facts.op(op.name), op.arg, self.facts)
                               for op in prefix)
        self.shift = len(self.prefix) // 2

    def _plan_bounce_caches(self, calls_out: Sequence[SelfCall]) -> None:
        """A free variable for each call out that may bounce without a binding function
        (``_remembers_bounces``), holding the marker of its last bounce (see
        ``_runtime.NOTHING_REMEMBERED`` and ``_recalled``). Every rewrite of one function adds
        the same ones: the public function and its implementation share one closure."""
        cached = [site for site in calls_out if _remembers_bounces(site)]
        level = (LEVEL_NAME,) if self.nests_calls_out and calls_out else ()
        first = self.first_added_slot + len(self.added_free)
        self.added_free = (*self.added_free,
                           *(BOUNCE_CACHE_NAME.format(i) for i in range(len(cached))), *level)
        self.bounce_caches = {id(site): first + i for i, site in enumerate(cached)}
        self.level_slot = first + len(cached) if level else -1

    @property
    def self_slot(self) -> int:
        """The free variable holding the public function (what the name guard compares)."""
        return self._own_slot(SELF_NAME)

    @property
    def target_slot(self) -> int:
        """The free variable holding the function's :class:`~pytailcall._runtime.Target`."""
        return self._own_slot(TARGET_NAME)

    def _own_slot(self, name: str) -> int:
        if name not in self.added_free:
            raise OwnVariablesNeeded(name)
        return self.first_added_slot + self.added_free.index(name)

    def binding(self, site: SelfCall) -> Binding:
        """``plan_binding`` for a call to itself, planned once per site."""
        planned = self._bindings.get(id(site))
        if planned is None:
            planned = self._bindings[id(site)] = plan_binding(site, self.analysis)
        return planned

    @property
    def has_list(self) -> bool:
        """A list lies at the bottom of the stack (under the jump count, if any)."""
        return self.keeps_iterators or self.unwinder is not None

    def rewrite(self, sites: Sequence[SelfCall],
                calls_out: Sequence[SelfCall] = ()) -> types.CodeType:
        """Code where ``sites`` (calls to itself) continue as the strategy says and
        ``calls_out`` (tail calls to other names) bounce when their callee is optimized."""
        self._plan_bounce_caches(calls_out)
        self._plan_frame(sites)
        moved: set[int] = set()
        in_place = chosen_in_place = self._stub_in_place([*sites, *calls_out])
        for _ in range(len(self.analysis.flow.instrs) + 4):
            try:
                return self._rewrite(sites, calls_out, moved, in_place)
            except _ReturnTooFar as far:
                if far.ret.offset not in moved:
                    moved.add(far.ret.offset)
                    continue
                problem = f"a return on unit {far.ret.offset} is too far from the added code"
            except NoRoomForJump as exc:
                if exc.site is not None and self._widen(exc.sites or (exc.site,),
                                                        [*sites, *calls_out]):
                    continue
                if exc.site is not None and in_place is not None:
                    # A stub in place of the last call comes before the others, and may
                    # have put one out of a short call's reach: lay them all out after.
                    in_place = None
                    continue
                if exc.site is not None and self.fast_bounces and calls_out:
                    # So may the longer stubs of fast bounces: without them, both layouts
                    # again, so that no call is refused that would fit without them.
                    self.fast_bounces = False
                    in_place = chosen_in_place
                    continue
                if exc.site is not None and self.stubs_from_load and any(
                        self._from_load.values()):
                    # And the stubs from the load, which run the arguments twice: without
                    # them (and with the fast bounces back), every layout again.
                    self.stubs_from_load = False
                    self.fast_bounces = True
                    in_place = chosen_in_place
                    continue
                if exc.site is not None and self.nests:
                    # And the nested calls, a little longer than the bounces they replace:
                    # without them, every layout again (the level's free variable stays).
                    self.nests_calls_out = False
                    self.stubs_from_load = self.fast_bounces = True
                    in_place = chosen_in_place
                    continue
                if exc.site is not None or self.unwinder is None:
                    raise
                problem = str(exc)
            # Leave the saved contexts out, one at a time; the tail calls may still jump.
            assert self.unwinder is not None  # (only returns through contexts move)
            no_room = NoRoomForJump(problem)
            no_room.site = self.unwinder.sites[0]
            no_room.reason = Reason.RETURN_TOO_FAR
            raise no_room
        raise RuntimeError("returns could not be laid out")  # pragma: no cover

    def _rewrite(self, sites: Sequence[SelfCall], calls_out: Sequence[SelfCall],
                 moved: set[int], stub_in_place: SelfCall | None) -> types.CodeType:
        facts = self.facts
        body = bytearray(self.code.co_code)
        self._patch_copy_free_vars(body)
        # The stubs follow the function's own code, or start where that site's call was.
        cut = len(body) // 2 if stub_in_place is None else self._overwritten(stub_in_place)[0]
        base = self.shift + cut
        items: list[Item] = []
        stub_labels: list[tuple[SelfCall, Binding, Label, Label]] = []
        return_labels: list[tuple[Instr, int, Label, str]] = []
        # Inline restarts, and jumps to stubs put on one line: positions to write over.
        relocated: list[tuple[int, list[tuple[int, Position | None]]]] = []
        if self.unwinder is not None:
            positions = self.positions
            items += self.unwinder.replays(positions)
            for ret, first, label, ops, jump in self._return_stubs([*sites, *calls_out], moved,
                                                                   positions):
                items += [label, *ops]
                return_labels.append((ret, first, label, jump))
            self._own_borrowed_loads(body)
        for site in sorted([*sites, *calls_out], key=lambda s: s.call.offset):
            binding = self.binding(site) if site.may_jump else Binding(False, None)
            inline = self._inline_restart(site, binding)
            if inline is not None:
                self._patch_site(body, site, binding)
                self._drop_callee(body, site)
                first, last = self._overwritten(site)
                body[2 * first:2 * last] = inline.code
                relocated.append((first, inline.locations))
                continue
            start, end = Label(), Label()
            if site.callee == "self" and self._starts_at_load(site, binding):
                stub = self._stub_from_load(site, binding)  # (its arguments carry their lines)
            else:
                jumped_from = None if site is stub_in_place else self._overwritten(site)[0]
                stub = [*self._line_carriers(binding, jumped_from=jumped_from),
                        *self._taken_along(site),
                        *(self._stub(site, binding) if site.callee == "self" else
                          self._method_stub(site, binding) if site.own_method else
                          self._bounce_out_stub(site, binding))]
            if site is stub_in_place:
                items[:0] = [start, *stub, end]
            else:
                items += [start, *stub, end]
                stub_labels.append((site, binding, start, end))
            self._patch_site(body, site, binding)
        note, adding, added, failed = Label(), Label(), Label(), Label()
        if self.counts_jumps:
            handler_ops, adding, added, failed = self._note_handler()
            items += [note, *handler_ops]
        stubs = assemble(items, base, facts)
        shallower = {h for site in [*sites, *calls_out] for h in site.shallower_handlers}
        handlers = [(replace(h, depth=h.depth - 1) if h in shallower else h).moved(
            self.shift, self.stack_base) for h in parse_exception_table(
            self.code.co_exceptiontable)]
        too_short: list[NoRoomForJump] = []
        for site, _binding, start, end in stub_labels:
            # The jump takes the place of the call sequence and of the elided loads before it.
            first, last = self._overwritten(site)
            try:
                to_stub = jump_in_place("JUMP_FORWARD", first + self.shift, last - first,
                                        stubs.labels[start], facts)
            except NoRoomForJump as exc:
                exc.site = site
                too_short.append(exc)  # (all of them at once: see ``rewrite``)
                continue
            body[2 * first:2 * last] = to_stub
            relocated += self._jump_on_one_line(first, to_stub)
            if site.handler is not None:
                h = site.handler.moved(self.shift, self.stack_base)
                handlers.append(Handler(stubs.labels[start], stubs.labels[end], h.target,
                                        h.depth, h.lasti))
        if too_short:
            too_short[0].sites = tuple(exc.site for exc in too_short)
            raise too_short[0]
        for ret, first, label, jump in return_labels:
            try:
                to_stub = jump_in_place(jump, first + self.shift, ret.end - first,
                                        stubs.labels[label], facts)
            except NoRoomForJump:
                raise _ReturnTooFar(ret) from None
            body[2 * first:2 * ret.end] = to_stub
            relocated += self._jump_on_one_line(first, to_stub)
        if self.counts_jumps:
            handlers = _covering_the_rest(handlers, self.shift, stubs.labels[note],
                                          stubs.labels[note], self.stack_base)
            handlers.append(Handler(stubs.labels[adding], stubs.labels[added],
                                    stubs.labels[failed], self.stack_base + 2, False))
        own_lines = self.code.co_linetable
        if stub_in_place is not None:
            del body[2 * cut:]
        if relocated:
            own_lines, line = self._relocated_lines(relocated, cut)
        elif stub_in_place is not None:
            own_lines, line = truncated_location_table(own_lines, cut, self.code.co_firstlineno)
        else:
            line = last_computed_line(own_lines, self.code.co_firstlineno)
        raw = self.prefix + bytes(body) + stubs.code
        appended, _ = location_entries(stubs.locations, line)
        prefix_lines, _ = location_entries([(self.shift, None)], line)
        linetable = prefix_lines + own_lines + appended
        exceptiontable = build_exception_table(handlers)
        # (The saved contexts' replays come before the returns that jump back to them.)
        stacksize = _verified_stack_size(raw, handlers, facts,
                                         in_code_order=self.unwinder is None)
        code = self.code.replace(
            co_code=raw,
            co_consts=tuple(self.consts.items),
            co_names=tuple(self.names.items),
            co_freevars=(*self.code.co_freevars, *self.added_free),
            co_stacksize=max(stacksize, self.code.co_stacksize),
            co_linetable=linetable,
            co_exceptiontable=exceptiontable,
        )
        self._check_free_slots(code)
        return code

    def _jump_on_one_line(self, first: int, jump: bytes
                          ) -> list[tuple[int, list[tuple[int, Position | None]]]]:
        """A jump written in place at ``first`` (padded by NOPs), all on the line of its
        first unit, where its ``EXTENDED_ARG`` prefix took units of other lines (elided
        argument loads), as the compiler writes one instruction: 3.11's settrace reports
        the first unit's line but counts the last's as seen, and then hides a stub's event
        for that line (which the stub shows as the native load did)."""
        extended_arg = self.facts.op("EXTENDED_ARG")
        width = 1 + next(i for i in range(0, len(jump), 2) if jump[i] != extended_arg) // 2
        lines = {position[0] for position in self.positions[first:first + width]}
        if len(lines) == 1:
            return []
        return [(first, [(width, self.positions[first])])]

    def _relocated_lines(self, relocated: list[tuple[int, list[tuple[int, Position | None]]]],
                         cut: int) -> tuple[bytes, int]:
        """The location table of the function's own first ``cut`` units, with the positions
        of the inline restarts and of jumps to stubs on one line (each: its first unit, its
        runs) in place of those of the units they overwrite; and the line it reaches.
        Encoded again from the positions of every unit: only functions with either (an
        inline restart, ``name_guard=False``; a jump with a prefix over lines) pay it."""
        units: list[Position | None] = list(self.positions)
        for first, runs in relocated:
            at = first
            for length, position in runs:
                units[at:at + length] = [position] * length
                at += length
        runs = [(len(list(same)), position) for position, same in groupby(units[:cut])]
        return location_entries(runs, self.code.co_firstlineno)

    def _check_free_slots(self, code: types.CodeType) -> None:
        """The free variables the stubs load by slot number, each slot computed on its own,
        must be the ones added under those names: a wrong slot would read another variable,
        or past the frame's end (a crash), where this refuses the function instead."""
        expected = {self._own_slot(name): name for name in (SELF_NAME, TARGET_NAME)
                    if name in self.added_free}
        if self.continuation.free_variables:
            expected[self.bounce_slot] = self.continuation.free_variables[0]
        for i, slot in enumerate(self.bounce_caches.values()):
            expected[slot] = BOUNCE_CACHE_NAME.format(i)
        if self.level_slot >= 0:
            expected[self.level_slot] = LEVEL_NAME
        for slot, name in expected.items():
            try:
                found = self.facts.local_name(code, slot)
            except IndexError:
                found = None
            if found != name:
                raise RuntimeError(f"the free variable {name} is not where the stubs load it "
                                   f"from (slot {slot})")

    def _stub_in_place(self, sites: Sequence[SelfCall]) -> SelfCall | None:
        """The site whose call sequence ends the function's code, if its stub can start
        right there instead of after that code: one jump fewer each time it runs (a loop's
        back edge, for a function ending in ``return f(...)``). Not with saved contexts or
        a jump count (their code and handlers are laid out after the function's own), nor
        under a handler."""
        if self.unwinder is not None or self.counts_jumps:
            return None
        units = len(self.code.co_code) // 2
        for site in sites:
            binding = self.binding(site) if site.may_jump else Binding(False, None)
            if self._inline_restart(site, binding) is not None:
                continue
            first, last = self._overwritten(site)
            if last != units or site.handler is not None:
                continue
            if any(h.end > first or h.target >= first for h in self.analysis.flow.handlers):
                return None
            return site
        return None

    def _inline_restart(self, site: SelfCall, binding: Binding) -> Assembled | None:
        """Without the name guard (``name_guard=False``), a jump that needs nothing but
        stores is written where the call and its return were, and the callee is not even
        loaded: the loop of a hand-written ``while``. None where that does not apply or fit
        (the stub then jumps, unchecked, from there). Made once per site: the choice of
        the stub in place and every layout tried ask for it.

        Its instructions carry the positions a stub's would (the call's, the jump back
        none), not those of the units they overwrite: an elided argument's line there
        would name the wrong line in a traceback, and a ``return`` on a line of its own an
        extra line event to tracers at each jump."""
        if id(site) not in self._inline_restarts:
            self._inline_restarts[id(site)] = self._make_inline_restart(site, binding)
        return self._inline_restarts[id(site)]

    def _make_inline_restart(self, site: SelfCall, binding: Binding) -> Assembled | None:
        if self.name_guard or not self._restarts_by_stores(site, binding):
            return None
        if self._starts_at_load(site, binding):
            return None  # its stub, from the load on, ends the code: not even a jump
        loader = site.loader
        assert loader is not None
        flow = self.analysis.flow
        first_load = min(loader.offset, site.null_push.offset if site.null_push else loader.offset)
        base = flow.stack_depths[first_load]
        inside = {ins.offset for ins in site.arguments}
        if any(h.depth > base and any(h.covers(offset) for offset in inside)
               for h in flow.handlers):
            return None  # (their depths would move with the callee's removal)
        first, last = self._overwritten(site)
        check = Restart.interrupt_check(self, site)
        if check and not self._handler_covers_check(site, first):
            return None
        lead, stores = self._carrying(self._elided_lines(binding),
                                      self.bind(site, binding, 0), checked=bool(check))
        ops = [*lead, *check, *stores, *Restart.restart(self, site, escaping=bool(check))]
        made = assemble(_positioned(ops, site), first + self.shift, self.facts)
        fill = last - first - len(made.code) // 2
        if fill < 0:
            return None
        made.code += encode(self.facts.op("NOP"), 0, self.facts) * fill
        made.locations.append((fill, NO_LINE))  # (never run)
        return made

    def _elided_lines(self, binding: Binding) -> list[Position]:
        """The positions at which lines start among the argument loads ``binding`` elides
        (not the line before them): natively tracers see those lines before the call's,
        where the code that replaces the call shows the call's (see ``_line_carriers``)."""
        elided = sorted((ins for ins, name, _ in binding.elided if name == "NOP"),
                        key=lambda ins: ins.offset)
        found: list[Position] = []
        line = self.positions[elided[0].start - 1][0] if elided and elided[0].start else None
        for ins in elided:
            position = self.positions[ins.offset]
            if position[0] is not None and position[0] != line:
                found.append(position)
                line = position[0]
        return found

    def _line_carriers(self, binding: Binding, *, jumped_from: int | None) -> list[Op]:
        """A NOP at each line of the elided argument loads, for a stub: but the line of the
        unit ``jumped_from``, whose jump to the stub, in place, shows it already."""
        lines = self._elided_lines(binding)
        if (lines and jumped_from is not None
                and self.positions[jumped_from][0] == lines[0][0]):
            lines = lines[1:]
        return [Op("NOP", position=position) for position in lines]

    @staticmethod
    def _carrying(lines: list[Position], stores: list[Op], *, checked: bool
                  ) -> tuple[list[Op], list[Op]]:
        """What comes before an interrupt check, if any, and the stores, so that the elided
        loads' ``lines`` are seen before the call's: the first stores take them where one
        store is left for the call's line and no check (at the call's line) comes before
        them; else a NOP each, first (where they leave no room, the call gets a stub, whose
        jump in place keeps the first of those lines)."""
        if not lines:
            return [], stores
        if not checked and len(stores) > len(lines):
            borrowed = zip(stores, lines, strict=False)
            return [], [*(replace(op, position=position) for op, position in borrowed),
                        *stores[len(lines):]]
        return [Op("NOP", position=position) for position in lines], stores

    def _handler_covers_check(self, site: SelfCall, first: int) -> bool:
        """Does the handler of a call under ``escape_try`` cover an interrupt check written
        at unit ``first`` where the call was, and the unit it jumps to? Wherever a version
        reports the check (the jump, or the unit before its target), that handler must see
        what arrives there, as it sees what arrives as the call starts natively."""
        handler = site.handler
        assert handler is not None
        check_units = 1 + self.facts.caches[self.facts.op("JUMP_BACKWARD")]
        return all(handler.covers(unit) for unit in range(first, first + check_units + 1))

    def _restarts_by_stores(self, site: SelfCall, binding: Binding) -> bool:
        """Can a call to itself go on with nothing but stores and the loop's restart (no
        callee to drop, no context, iterators or count; under a handler, after the
        interrupt check of ``escape_try``), written as a jump that starts a new line?
        sys.monitoring reports no LINE event for an instruction of the line before it: a
        jump from the call's line to a start on that same line would hide one. What the
        inline restart and the stub from the callee's load both need (the latter refuses
        code under a handler itself)."""
        start = self.analysis.body_start
        return (site.callee == "self" and isinstance(self.continuation, Restart)
                and binding.stores is not None and binding.drop_null and site.context is None
                and not site.exit_ops and not self.counts_jumps
                and self.positions[start.offset][0] != self.positions[site.call.offset][0])

    def _paired(self, ops: list[Op]) -> list[Op]:
        """Two ``STORE_FAST`` in a row as one ``STORE_FAST_STORE_FAST`` (3.13+), as the
        compiler writes the stores of ``a, b = ...``."""
        if not self.facts.stores_fast_in_pairs:
            return ops
        out: list[Op] = []
        for op in ops:
            last = out[-1] if out else None
            if (op.name == "STORE_FAST" and last is not None and last.name == "STORE_FAST"
                    and last.arg < 16 and op.arg < 16):
                out[-1] = Op("STORE_FAST_STORE_FAST", last.arg << 4 | op.arg)
            else:
                out.append(op)
        return out

    def _drop_callee(self, body: bytearray, site: SelfCall) -> None:
        """Skip the callee's load (its NULL is already gone: ``binding.drop_null``)."""
        loader = site.loader
        assert loader is not None
        if loader.size == 1:
            self._put(body, loader.start, 1, "NOP", 0)
        else:
            body[2 * loader.start:2 * loader.end] = jump_in_place(
                "JUMP_FORWARD", loader.start + self.shift, loader.size, loader.end + self.shift,
                self.facts)

    def _end_of_return(self, site: SelfCall) -> int:
        """Where the straight run from the call to its RETURN_VALUE ends, short of anything
        another path jumps to: the stub returns by itself, so all of it can be overwritten."""
        if site.context is not None:
            return site.context.contiguous_end
        flow = self.analysis.flow
        end = site.call.end
        while end in flow.at:
            ins = flow.at[end]
            if ins.offset in flow.jump_sources or ins.name not in (
                    "SWAP", "POP_TOP", "POP_ITER", "NOP", "RETURN_VALUE"):
                break
            end = ins.end
            if ins.name == "RETURN_VALUE":
                break
        return end

    def _overwritten(self, site: SelfCall) -> tuple[int, int]:
        """The code units a site's jump to its stub takes the place of."""
        binding = self.binding(site) if site.may_jump else None
        if binding is not None and site.callee == "self" and self._starts_at_load(site, binding):
            return self._callee_start(site), self._end_of_return(site)
        elided = binding.elided if binding is not None else ()
        taken_along = self._widened.get(site.call.offset)
        first = min([site.region[0].start] + [ins.start for ins, name, _ in elided
                                              if name == "NOP"]
                    + ([taken_along[0].start] if taken_along else []))
        return first, self._end_of_return(site)

    def _taken_along(self, site: SelfCall) -> list[Op]:
        """The instructions ``_widen`` moved into a call's stub, at their own positions.
        Under a handler, after a NOP: where one of them runs a Python frame that raises
        (``*h(n)``, a ``__getitem__``), 3.13 looks for the handler at the unit before it
        (found by review: the exception left the ``try`` when that unit was the end of
        the function's code), which the NOP puts under the stub's handler."""
        run = self._widened.get(site.call.offset, ())
        if not run:
            return []
        moved = [Op(one.name, one.arg, position=self.positions[one.offset]) for one in run]
        if site.handler is None:
            return moved
        return [Op("NOP", position=self.positions[run[0].offset]), *moved]

    def _widen(self, too_short: Sequence[Any], sites: Sequence[SelfCall]) -> bool:
        """Make room for the jumps of calls too short for them: the instructions that end
        a call's arguments (one, or a whole call sequence) run first in its stub instead,
        and the jump starts where they did. A call with ``*args`` (``CALL_FUNCTION_EX``, one
        code unit before 3.14) whose ``return`` is shared with another path (``return x and
        f(*a)``) has a single unit, too few for a jump past 255 units. Not where those
        instructions cannot move (see ``_movable_before``), nor where the rewrite changes
        them or the call binds by stores. False if none of them can widen (again)."""
        widened = [self._widen_one(site, sites) for site in too_short]
        return any(widened)

    def _widen_one(self, site: SelfCall, sites: Sequence[SelfCall]) -> bool:
        if site.call.offset in self._widened:
            return False
        binding = self.binding(site) if site.may_jump else Binding(False, None)
        if binding.stores is not None or (site.callee == "self"
                                          and self._starts_at_load(site, binding)):
            return False
        flow = self.analysis.flow
        taken = [self._overwritten(other) for other in sites]
        run = self._movable_before(flow.index[site.region[0].offset], taken,
                                   covered_like=site.call.offset)
        call = site.call.offset
        if run is None:
            return False
        if site.handler is None and any(h.covers(call) for h in flow.handlers):
            return False  # (its stub would not be covered)
        patched = {id(ins) for ins in (site.loader, site.null_push) if ins is not None}
        patched |= {id(ins) for ins in (site.context.null_loads if site.context else ())}
        if any(id(one) in patched for one in run):
            return False
        self._widened[call] = run
        return True

    def _return_stubs(self, sites: Sequence[SelfCall], moved: set[int],
                      positions: Sequence[Position]
                      ) -> list[tuple[Instr, int, Label, list[Item], str]]:
        """For each return the sites' jumps leave in place: where its jump starts, a stub
        that returns as the unwinder says, and the jump. A return too far from its stub for
        a one-unit jump (``moved``) takes the instruction before it along, for room, or,
        after a conditional jump over it alone, turns that jump into one to the stub."""
        assert self.unwinder is not None
        flow = self.analysis.flow
        taken = [self._overwritten(site) for site in sites]
        stubs = []
        for i, ins in enumerate(flow.instrs):
            if ins.name not in ("RETURN_VALUE", "RETURN_CONST") or any(
                    first <= ins.offset < last for first, last in taken):
                continue
            ops: list[Item] = []
            first = ins.start
            jump = "JUMP_FORWARD"
            before = flow.instrs[i - 1] if i else None
            if ins.offset in moved and self._skips_return(before, ins, taken):
                # ``if c: return x`` (3.12+: one unit): branch the other way, to the stub.
                assert before is not None
                jump = self._inverse_branch[before.name]
                first = before.start
            elif ins.offset in moved:
                run = self._movable_before(i, taken)
                if run is None:
                    raise NoRoomForJump(f"a return on unit {ins.offset} is too far from the "
                                        "added code, and the instruction before it cannot move")
                ops += [Op(one.name, one.arg, position=positions[one.offset]) for one in run]
                first = run[0].start
            if ins.name == "RETURN_CONST":
                ops.append(Op("LOAD_CONST", ins.arg, position=positions[ins.offset]))
            ops += self.unwinder.returning(positions[ins.offset])
            stubs.append((ins, first, Label(), ops, jump))
        return stubs

    def _movable_before(self, i: int, taken: Sequence[tuple[int, int]], *,
                        covered_like: int | None = None) -> list[Instr] | None:
        """The instructions right before the return ``instrs[i]`` that its stub may run in
        its place: one, or a whole call sequence (3.11's specialised ``PRECALL`` runs the
        call and skips the ``CALL`` it expects right after it; ``KW_NAMES`` goes with its
        ``CALL``). None if they cannot move: something jumps to the return or into them, or
        they jump, are covered by a handler (given ``covered_like``, a call's unit: by other
        handlers than it, whose stub its handler covers), or belong to a site's call; nor
        may the end of a loop (an exhausted ``FOR_ITER`` lands one instruction *past* its
        target, which would then be the middle of the jump put there)."""
        flow = self.analysis.flow
        ret = flow.instrs[i]
        if i == 0 or ret.offset in flow.jump_sources:
            return None
        run = [flow.instrs[i - 1]]
        while (run[0].name in ("CALL", "PRECALL") and flow.index[run[0].offset] > 0
               and flow.instrs[flow.index[run[0].offset] - 1].name in ("PRECALL", "KW_NAMES")):
            run.insert(0, flow.instrs[flow.index[run[0].offset] - 1])
        for one in run:
            if (one.target is not None or not self.facts.falls_through(one.op)
                    or one.name in ("RESUME", "COPY_FREE_VARS", "MAKE_CELL", "END_FOR",
                                    "END_SEND")
                    or any(flow.at[source].name in ("FOR_ITER", "SEND")
                           for source in flow.jump_sources.get(one.offset, ()))
                    or any(h.covers(one.offset) != (covered_like is not None
                                                    and h.covers(covered_like))
                           for h in flow.handlers)
                    or any(first <= one.offset < last for first, last in taken)
                    or (one is not run[0] and one.offset in flow.jump_sources)):
                return None
        if any(run[0].start < unit < ret.end for unit in self._loop_exits):
            return None
        return run

    @functools.cached_property
    def _loop_exits(self) -> frozenset[int]:
        """Where an exhausted ``FOR_ITER`` may land: its target, an ``END_FOR`` that it skips
        (3.12), and the instruction after that, which 3.13 skips too. A jump patched over
        one of them must start there, not run through it."""
        flow = self.analysis.flow
        exits: set[int] = set()
        for ins in flow.instrs:
            if ins.name == "FOR_ITER" and ins.target is not None:
                j = flow.index[flow.instruction_at(ins.target).offset]
                exits.update(one.start for one in flow.instrs[j:j + 3])
        return frozenset(exits)

    @property
    def _inverse_branch(self) -> dict[str, str]:
        f = self.facts
        return {f.pop_jump_if_false: f.pop_jump_if_true, f.pop_jump_if_true: f.pop_jump_if_false,
                f.pop_jump_if_none: f.pop_jump_if_not_none,
                f.pop_jump_if_not_none: f.pop_jump_if_none}

    def _skips_return(self, before: Instr | None, ret: Instr,
                      taken: Sequence[tuple[int, int]]) -> bool:
        """Is ``before`` a conditional jump over ``ret`` alone, that may be turned around?"""
        flow = self.analysis.flow
        return (before is not None and before.name in self._inverse_branch
                and before.target == ret.end and ret.offset not in flow.jump_sources
                and not any(before.start < unit < ret.end for unit in self._loop_exits)
                and not any(h.covers(before.offset) for h in flow.handlers)
                and not any(first <= before.offset < last for first, last in taken))

    def _own_borrowed_loads(self, body: bytearray) -> None:
        """A saved context keeps values that were on the stack when the parameters were
        rebound: none of them may be borrowed from a local (3.14+)."""
        for ins in self.analysis.flow.instrs:
            owned = self.facts.owned_load_for.get(ins.op)
            if owned is not None:
                body[2 * ins.offset] = owned

    def _note_handler(self) -> tuple[list[Item], Label, Label, Label]:
        """Where an exception leaving the frame goes when the jumps are counted: over
        ``[count, (iterator list,) lasti, exception]``, add a note with the count when it
        is not 0, and re-raise as the compiler's own clean-up does. ``str.format`` and
        ``add_note`` are C methods: no Python code of pytailcall's runs; no line events.

        Also the labels around the note's adding, and the handler for them (``failed``):
        ``Target.NOTE_FAILURE`` raised there (``add_note``'s ``TypeError`` when
        ``__notes__`` is not a list) is dropped, and the exception that was leaving leaves
        unchanged; anything else (a signal handler's exception or a ``KeyboardInterrupt``,
        which the interpreter checks for at those calls) leaves in its place, as it would
        have a moment later from the caller."""
        reraise, adding, added, failed, other = Label(), Label(), Label(), Label(), Label()
        count = self.stack_base + 2  # depth of the count under [lasti, exception]
        template = _runtime.ELIDED_NOTE.format(f"{self.code.co_qualname}()")
        ops: list[Item] = [
            Op("COPY", count),
            Op("LOAD_CONST", self.consts.index(0)),
            Op("IS_OP", 0),  # the count only ever equals 0 as the cached 0 itself
            *self.branch(self.facts.pop_jump_if_true, reraise),
            adding,
            Op("COPY", 1),
            Op(*self.facts.load_method(self.names.index("add_note"))),
            Op("LOAD_CONST", self.consts.index(template)),
            # the count, under the exception's copy and two method loads (two items each)
            *self.call_method("format", [Op("COPY", count + 4)]),
            *self.call_value(2),
            added,
            Op("POP_TOP"),  # add_note's None
            reraise,
            Op("RERAISE", 1),
            failed,  # [..., lasti, exception, what adding the note raised]
            *self.load_target(),
            self.load_attr("NOTE_FAILURE"),
            Op("CHECK_EXC_MATCH"),
            *self.branch(self.facts.pop_jump_if_false, other),
            Op("POP_TOP"),
            Op("RERAISE", 1),
            other,
            Op("RERAISE", 0),
        ]
        for op in ops:
            if isinstance(op, Op):
                op.position = NO_LINE
        return ops, adding, added, failed

    # -- patches in place -------------------------------------------------------------------

    def _put(self, body: bytearray, unit: int, size: int, name: str, arg: int) -> None:
        body[2 * unit:2 * (unit + size)] = encode(self.facts.op(name), arg, self.facts,
                                                  size=size)

    def _own_copy_free_vars(self) -> Instr | None:
        """The compiler's ``COPY_FREE_VARS`` (in the prologue), if the code has free
        variables."""
        if not self.code.co_freevars:
            return None
        for ins in self.analysis.flow.instrs:
            if ins.name == "COPY_FREE_VARS":
                return ins
        raise RuntimeError("code with free variables has no COPY_FREE_VARS")

    def _copies_free_vars_in_place(self) -> bool:
        """Whether the compiler's ``COPY_FREE_VARS`` can count ours too. A count past 255
        needs an ``EXTENDED_ARG`` the compiler did not leave room for (a closure over at
        most 255 variables that ours bring past it): the prefix then copies them all and
        the compiler's becomes a ``NOP``."""
        own = self._own_copy_free_vars()
        if own is None:
            return False
        count = own.arg + len(self.added_free)
        return encoded_size(self.facts.op(own.name), count, self.facts) <= own.size

    def _patch_copy_free_vars(self, body: bytearray) -> None:
        own = self._own_copy_free_vars()
        if own is None:
            return
        if self.copies_free_vars_in_place:
            self._put(body, own.start, own.size, own.name, own.arg + len(self.added_free))
        else:
            body[2 * own.start:2 * own.end] = bytes([self.facts.op("NOP"), 0]) * own.size

    def _patch_site(self, body: bytearray, site: SelfCall, binding: Binding) -> None:
        if site.bound_method:
            # ``LOAD_METHOD name`` (3.11) or ``LOAD_ATTR`` with the method bit (3.12+) becomes
            # a plain ``LOAD_ATTR`` (``LOAD_SUPER_ATTR`` loses the bit): the stack holds the
            # bound method, never NULL.
            loader = site.loader
            assert loader is not None
            if loader.name == "LOAD_SUPER_ATTR":  # the same, bit 0 cleared
                self._put(body, loader.start, loader.size, loader.name, loader.arg & ~1)
            else:
                index = loader.arg >> int(self.facts.load_attr_method_bit)
                self._put(body, loader.start, loader.size, "LOAD_ATTR",
                          self.facts.load_attr_arg(index))
        for load in site.context.null_loads if site.context is not None else ():
            # The context calls this callee without its NULL (see Context.null_loads).
            if load.name == "PUSH_NULL":
                self._put(body, load.start, load.size, "NOP", 0)
            else:
                self._put(body, load.start, load.size, "LOAD_GLOBAL", load.arg & ~1)
        if binding.drop_null:
            if site.null_push is not None:
                self._put(body, site.null_push.start, site.null_push.size, "NOP", 0)
            else:
                loader = site.loader
                assert loader is not None and loader.name == "LOAD_GLOBAL"
                self._put(body, loader.start, loader.size, "LOAD_GLOBAL", loader.arg & ~1)
        if binding.stores is not None:
            # Values still on the stack when a parameter is overwritten must be owned.
            for ins in site.arguments:
                owned = self.facts.owned_load_for.get(ins.op)
                if owned is not None:
                    body[2 * ins.offset] = owned
            for ins, name, arg in binding.elided:
                self._put(body, ins.start, ins.size, name, arg)

    # -- the stub ---------------------------------------------------------------------------

    def _call_ops(self, site: SelfCall, binding: Binding) -> list[Op]:
        """The original call sequence; with the NULL dropped, the callee becomes "self"."""
        ops = [Op("LOAD_FAST", slot) for slot in binding.reload]
        # A bound method with arguments takes the first argument's place as "the method",
        # the first argument then stands in for "self": the call is the same.
        drop_null = _callee_alone(site, binding)
        assert site.shape is not None
        if site.bound_method and site.shape.nargs == 0:
            # No argument to stand in for "self": the NULL goes back where the layout has it.
            ops += [Op("PUSH_NULL"), Op("SWAP", 2)] if self.facts.null_before_callable else [
                Op("PUSH_NULL")]
            drop_null = False
        for ins in site.region:
            arg = ins.arg
            if drop_null and ins.name in ("PRECALL", "CALL", "CALL_KW"):
                arg -= 1
            ops.append(Op(ins.name, arg))
        return ops

    def _callee_depth(self, site: SelfCall, binding: Binding) -> int:
        """1-based depth of the callee on the stack when the stub starts."""
        shape = site.shape
        assert shape is not None
        if _callee_alone(site, binding):
            return shape.nargs - len(binding.reload) + 1
        return shape.nargs + (1 if self.facts.null_before_callable else 2)

    def _stub(self, site: SelfCall, binding: Binding) -> list[Item]:
        """The callee is the optimized function, or the function it was made from (the same
        code): continue as the strategy says. Anything else: the original call, after a
        one-time look at whether it wraps this function (see ``Target.check_wrapper``)."""
        depth = self._callee_depth(site, binding)
        # A call bound by a binder gets the callee's own (see _bind_with_binder).
        binder = None if binding.stores is not None else (
            "star_binder" if self._binds_through_star_binder(site, binding) else "binder")
        other = Label()
        if not self.name_guard:
            return _positioned([
                *([*self.load_target(), self.load_attr(binder)] if binder is not None else []),
                *self.continuation.continue_from(self, site, binding, depth),
            ], site)
        ops: list[Item] = [
            Op("COPY", depth),
            Op("LOAD_DEREF", self.self_slot),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, other),
        ]
        if binder is not None:
            ops += [*self.load_target(), self.load_attr(binder)]
        ops += self.continuation.continue_from(self, site, binding, depth)
        ops += [other, *self._not_this_function(site, binding, depth, binder)]
        # The whole stub stands for the call: tracebacks name its line, and as the call site
        # jumps here from that same line, tracing and monitoring see no extra line event.
        return _positioned(ops, site)

    def _not_this_function(self, site: SelfCall, binding: Binding, depth: int,
                           binder: str | None) -> list[Item]:
        """With a callee other than the optimized function at ``depth``: continue all the
        same if it is the function this one was made from (the same code); else make the
        original call, after a one-time look at whether it wraps this function."""
        not_source, normal, normal_pop = Label(), Label(), Label()
        return [
            *self.load_target(),
            Op("COPY", 1),
            self.load_attr("source"),
            Op("COPY", depth + 2),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, not_source),
            self.load_attr("source_" + binder) if binder is not None else Op("POP_TOP"),
            # The same again, not a jump back to it: sys.settrace sees a line event at the
            # target of every backward jump.
            *self.continuation.continue_from(self, site, binding, depth),
            not_source,
            Op("COPY", 1),
            self.load_attr("wrapper_checked"),
            *self.branch(self.facts.pop_jump_if_true, normal_pop),
            *self.call_method("check_wrapper", [Op("COPY", depth + 2)]),
            Op("POP_TOP"),
            Op("JUMP_FORWARD", target=normal),
            normal_pop,
            Op("POP_TOP"),
            normal,
            *self._call_ops(site, binding),
            *self.return_result(site),
        ]

    def _starts_at_load(self, site: SelfCall, binding: Binding) -> bool:
        """Does the stub of this call to itself start at the callee's load, rather than
        after the arguments? Then the name guard tests the callee as it is loaded, and a
        call that goes on has nothing to drop from the stack: load, test, arguments,
        stores and the jump back, what a guarded hand-written loop runs (``if f is not me:
        return f(...)``), two instructions fewer than a test of a copy of the callee kept
        under the arguments. Without the guard, for a call that ends the code: the
        arguments, stores and jump back, in place (no jump over the callee's load).

        A call that does not go on loads the callee again and then its arguments (again
        from their own instructions, at their own positions). Nothing runs between the two
        loads (no interrupt check either: only calls and backward jumps make one), so the
        second finds what the first found: a cell, or exact dicts for the globals and
        builtins, whose lookups run no code of the user's.

        Only where ``_restarts_by_stores``, with the arguments one straight run (no jumps
        into or out of them, no handler). Decided once per site; none when a layout with
        them left some call without room for its jump (see ``rewrite``)."""
        if not self.stubs_from_load:
            return False
        decided = self._from_load.get(id(site))
        if decided is None:
            decided = self._from_load[id(site)] = self._can_start_at_load(site, binding)
        return decided

    def _can_start_at_load(self, site: SelfCall, binding: Binding) -> bool:
        loader = site.loader
        if (not self._restarts_by_stores(site, binding) or self.unwinder is not None
                or loader is None):
            return False
        if loader.name == "LOAD_GLOBAL":
            if self.name_guard and not self.plain_namespaces:
                return False
        elif loader.name != "LOAD_DEREF":
            return False
        if not self.name_guard and self._end_of_return(site) != len(self.code.co_code) // 2:
            return False  # (elsewhere the inline restart, in place, is as short)
        flow = self.analysis.flow
        first = flow.index_at[self._callee_start(site)]
        call = flow.index_at[site.call.offset]
        sources, stops, handlers = flow.jump_sources, self.facts.never_falls_through, flow.handlers
        for ins in flow.instrs[first:call + 1]:
            if ((ins is not flow.instrs[first] and ins.offset in sources)
                    or ins.target is not None or ins.op in stops or ins.name in _NOT_MOVABLE
                    or (handlers and any(h.covers(ins.offset) for h in handlers))):
                return False
        return True

    @staticmethod
    def _callee_start(site: SelfCall) -> int:
        """The first code unit of the callee's load (and of its NULL, when separate)."""
        loader = site.loader
        assert loader is not None
        return min(loader.start, site.null_push.start if site.null_push else loader.start)

    def _stub_from_load(self, site: SelfCall, binding: Binding) -> list[Item]:
        """See ``_starts_at_load``."""
        arguments = [*self._argument_ops(site, binding),
                     *self._line_carriers(binding, jumped_from=None)]
        going_on = [*arguments, *self.bind(site, binding, 0), *Restart.restart(self, site)]
        loader = site.loader
        assert loader is not None
        at_load = self.positions[loader.offset]
        if not self.name_guard:
            # No load: its line, where the arguments start another (``return f(`` alone), by
            # a NOP (which shows no event where the line before is the same, as the load).
            first_line = arguments[0].position[0] if arguments and arguments[0].position else None
            alone = at_load[0] is not None and at_load[0] != first_line
            return _positioned([*([Op("NOP", position=at_load)] if alone else []), *going_on],
                               site)
        other = Label()
        test = [Op("LOAD_DEREF", self.self_slot), Op("IS_OP", 0),
                *self.branch(self.facts.pop_jump_if_false, other)]
        for op in test:  # the load's line: no line event between it and the arguments
            op.position = at_load
        ops: list[Item] = [
            self._callee_load(site),
            *test,
            *going_on,
            other,
            self._callee_load(site),
            *arguments,
            *self._not_this_function(site, binding, self._callee_depth(site, binding), None),
        ]
        return _positioned(ops, site)

    def _callee_load(self, site: SelfCall) -> Op:
        """The callee's load without its NULL, at its own position."""
        loader = site.loader
        assert loader is not None
        arg = loader.arg & ~1 if loader.name == "LOAD_GLOBAL" else loader.arg
        return Op(loader.name, arg, position=self.positions[loader.offset])

    def _argument_ops(self, site: SelfCall, binding: Binding) -> tuple[Op, ...]:
        """The argument code of a call, to run again elsewhere: at its own positions,
        without the loads ``binding`` elides, and with loads of its own (3.14+): the
        parameters are overwritten while the values are on the stack. Made once per site,
        the same Ops each time (both copies in the stub, every layout): none is a jump
        (``_can_start_at_load``) and each has its position, so nothing changes them."""
        made = self._arguments.get(id(site))
        if made is None:
            elided = {ins.offset: (name, arg) for ins, name, arg in binding.elided}
            owned_load_for, positions = self.facts.owned_load_for, self.positions
            ops = []
            for ins in site.arguments:
                if ins is site.null_push:
                    continue
                name, arg = elided.get(ins.offset, (ins.name, ins.arg))
                if name == "NOP":
                    continue
                owned = owned_load_for.get(self.facts.op(name)) if owned_load_for else None
                if owned is not None:
                    name = self.facts.name(owned)
                ops.append(Op(name, arg, position=positions[ins.offset]))
            made = self._arguments[id(site)] = tuple(ops)
        return made

    def _method_stub(self, site: SelfCall, binding: Binding) -> list[Item]:
        """``x.name(...)`` in the function ``name``, with the bound method on the stack: when
        it is exactly a method of this very function, bind its object and the arguments and
        continue as a call to itself does; anything else goes on as a tail call to another
        function (a bounce when that is optimized). An override in a subclass is another
        function, called (or bounced to) as natively.

        The type test comes first, a ``type()`` call (a C function; ``MATCH_CLASS`` would
        believe an object that says it is a method, and costs more): on an exact bound
        method, ``__func__`` and ``__self__`` are plain reads that run no user code."""
        depth = self._callee_depth(site, binding)
        other = Label()
        ops: list[Item] = [
            *self.call_helper("exact_type", [Op("COPY", depth + 2)]),
            *self._is_exactly("method_type", other),
            Op("COPY", depth),
            self.load_attr("__func__"),
            Op("LOAD_DEREF", self.self_slot),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, other),
        ]
        if binding.stores is not None:  # (a binder gets the object with the arguments)
            ops += [Op("COPY", depth), self.load_attr("__self__"), Op("STORE_FAST", 0)]
        ops += [
            *self.continuation.continue_from(self, site, binding, depth),
            other,
            *self._bounce_out_stub(site, binding),
        ]
        return _positioned(ops, site)

    def _bounce_out_stub(self, site: SelfCall, binding: Binding) -> list[Item]:
        """A tail call to another name. When the callee is an optimized function, ask its
        Target for a bounce (``maker``: in an implementation, which a driver runs) or for a
        driver (``driver``: in a public function, which so stays one frame until such a
        call happens); otherwise make the call as it was.

        The test is inline, by exact type: ``type(callee)`` must be the function type (or
        the bound-method type, and then its ``__func__`` is tested), its ``__tail_call__``
        record (``getattr`` with a default) exactly a Target, and that Target's public
        function this very callee. Neither type can be subclassed, and on those exact
        types these reads run no user code; an object that merely says it is a function
        (a mock, a proxy) is called as it was. ``type`` and ``getattr`` are C functions: no
        frame of ours, but profilers see them (``MATCH_CLASS`` would read ``__class__`` of
        such objects, and costs several times more).
        """
        shape = site.shape
        assert shape is not None
        depth = self._callee_depth(site, binding)
        exact = site.callee != "method" and shape.kind == "CALL" and not shape.kwnames
        npositional = shape.npositional if exact else -1
        # A bound method alone on the stack, its arguments all there: the function gets
        # its object and those.
        method_exact = (_callee_alone(site, binding) and not binding.reload
                        and shape.kind == "CALL" and not shape.kwnames)
        method_npositional = shape.nargs + 1 if method_exact else -1
        not_function, replace, tuple_bounce = Label(), Label(), Label()
        method_tuple_bounce = Label()
        normal = [Label(), Label()]  # the normal call, with 0 or 1 item to drop
        cache = self._bounce_cache(site, npositional >= 0)
        method_cache = self._bounce_cache(site, method_npositional >= 0)
        maker_cache = self._bounce_cache(site, self._self_or_null_below(site, self.facts))
        ops: list[Item] = [
            *self._cached_bounce(site, binding, cache, npositional, depth),
            *self._cached_method_bounce(site, method_cache, method_npositional, depth),
            *self._cached_bound_maker(maker_cache, depth, replace),
            *self._type_of(depth),
            Op("COPY", 1),
            *self._is_exactly("function_type", not_function),
            Op("POP_TOP"),
            *self._record_of(depth, normal[0]),
            *self._bounce_or_drive(site, "", npositional, depth, tuple_bounce,
                                   cache if maker_cache is None else maker_cache),
            Op("JUMP_FORWARD", target=replace),
            # A bound method whose function is optimized: the same test on ``__func__``.
            not_function,
            *self._is_exactly("method_type", normal[0]),
            Op("COPY", depth),
            self.load_attr("__func__"),
            *self._type_of(1),
            *self._is_exactly("function_type", normal[1]),
            *self._record_of(1, normal[1]),
            # [.., function, Target]
            Op("SWAP", 2),
            Op("POP_TOP"),
            *self._bounce_or_drive(site, "method_", method_npositional, depth,
                                   method_tuple_bounce, method_cache),
            Op("COPY", 1),
            *self.branch(self.facts.pop_jump_if_none, normal[1]),
            # What the Target gave takes the callee's place, with the same arguments.
            replace,
            Op("SWAP", depth + 1),
            Op("POP_TOP"),
            *self._hand_over_jumps(site),
            *self._call_ops(site, binding),
            *self.return_result(site),
            *self._tuple_bounce(site, binding, tuple_bounce, npositional, depth),
            *self._method_tuple_bounce(site, method_tuple_bounce, method_npositional),
            normal[1],
            Op("POP_TOP"),
            normal[0],
            *self._call_ops(site, binding),
            *self.return_result(site),
        ]
        return _positioned(ops, site)

    def _bounce_cache(self, site: SelfCall, usable: bool) -> int | None:
        """The free variable where this call out remembers its last bounce, if it uses
        one: where ``usable`` (its shape bounces without a binding function) and this code
        returns bounces (an implementation without saved contexts, whose driver follows
        them)."""
        if (not usable or self.drive_calls_out or self.unwinder is not None
                or not self.fast_bounces):
            return None
        return self.bounce_caches.get(id(site))

    def _recalled(self, cache: int | None, same: list[Item], then: list[Item],
                  stale: Label) -> list[Item]:
        """With the call on the stack: if this site remembers the marker of a bounce
        (``cache``: see ``_remember_bounce``) and ``same`` (with that marker on top, which
        it leaves; to ``stale`` if not) finds the call's callee to be that marker's
        function, go on with ``then``; else go on with nothing pushed.

        The full test (``_record_of``) stays what decides: a site only remembers its
        answer for one callee, through a weak reference (it keeps nothing alive), and the
        same callee gets the same answer (its Target, exact count and marker never
        change)."""
        if cache is None:
            return []
        return [
            Op("LOAD_DEREF", cache),
            *self.call_top(),  # the marker, or None
            Op("COPY", 1),
            *self.branch(self.facts.pop_jump_if_none, stale),
            *same,
            *then,
            stale,
            Op("POP_TOP"),
        ]

    def _is_public_of_marker(self, callee: int, stale: Label) -> list[Item]:
        """With a marker on top and a function at ``callee`` under it: go on if the marker
        serves that function, else to ``stale`` (the marker stays either way)."""
        return [
            Op("COPY", 1),
            self.load_attr("public"),
            Op("COPY", callee + 1),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, stale),
        ]

    def _cached_bounce(self, site: SelfCall, binding: Binding, cache: int | None,
                       npositional: int, depth: int) -> list[Item]:
        """A function called (its callee at ``depth``) with exactly the positional
        parameters of the function this site last bounced into: return the tuple bounce."""
        stale = Label()
        return self._recalled(
            cache, self._is_public_of_marker(depth + 1, stale),
            self._tuple_bounce(site, binding, Label(), npositional, depth), stale)

    def _cached_method_bounce(self, site: SelfCall, cache: int | None, npositional: int,
                              depth: int) -> list[Item]:
        """A bound method alone on the stack (at ``depth``): tested by exact type before its
        ``__func__`` is read, which then must be the function this site last bounced into."""
        stale = Label()
        same = [
            *self._type_of(depth + 1),
            *self._is_exactly("method_type", stale),
            Op("COPY", depth + 1),
            self.load_attr("__func__"),
            Op("COPY", 2),
            self.load_attr("public"),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, stale),
        ]
        return self._recalled(cache, same,
                              self._method_tuple_bounce(site, Label(), npositional), stale)

    def _cached_bound_maker(self, cache: int | None, depth: int, replace: Label
                            ) -> list[Item]:
        """A 3.13+ method call (see ``_bound_maker_entry``) of the function this site last
        bounced into, which has no defaults now: its marker's ``bound_maker`` takes its
        place (at ``replace``)."""
        stale = Label()
        same = [
            *self._is_public_of_marker(depth + 1, stale),
            Op("COPY", depth + 1),
            self.load_attr("__defaults__"),
            *self.branch(self.facts.pop_jump_if_not_none, stale),
        ]
        maker = self.load_nested() if self.nests else [self.load_attr("bound_maker")]
        return self._recalled(cache, same, [*maker, Op("JUMP_FORWARD", target=replace)],
                              stale)

    def _remember_bounce(self, cache: int | None) -> list[Op]:
        """With the marker of the callee on top: make it what this site remembers (see
        ``_recalled``), one reference stored at once (threads never see half of it)."""
        if cache is None:
            return []
        return [*self.call_helper("weak_reference", [Op("COPY", 3)]), Op("STORE_DEREF", cache)]

    def _is_exactly(self, slot: str, otherwise: Label) -> list[Item]:
        """With a ``type()`` on top: go on if it is the type in the Target's ``slot``, else
        to ``otherwise`` (the type is consumed either way)."""
        return [
            *self.load_target(),
            self.load_attr(slot),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, otherwise),
        ]

    def _type_of(self, depth: int) -> list[Op]:
        """Push ``type()`` of the value at ``depth``."""
        return self.call_helper("exact_type", [Op("COPY", depth + 2)])

    def _record_of(self, depth: int, normal: Label) -> list[Item]:
        """With a function (exactly) at ``depth``: push its Target, when it has one that
        names it; else go to ``normal`` with nothing pushed."""
        drop_record = Label()
        done = Label()
        return [
            *self.call_helper("record_of", [
                Op("COPY", depth + 2),
                Op("LOAD_CONST", self.consts.index(_runtime.TARGET_KEY)),
                Op("LOAD_CONST", self.consts.index(None)),
            ]),
            *self._type_of(1),
            *self._is_exactly("target_type", drop_record),
            Op("COPY", 1),
            self.load_attr("public"),
            Op("COPY", depth + 2),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_true, done),
            drop_record,
            Op("POP_TOP"),
            Op("JUMP_FORWARD", target=normal),
            done,
        ]

    def _tuple_bounce(self, site: SelfCall, binding: Binding, label: Label, npositional: int,
                      depth: int) -> list[Item]:
        """At ``label``, with the Target's marker on top of the call (its callee, NULL and
        ``npositional`` arguments, exactly the callee's parameters): return the bounce
        ``(*arguments, marker)``, built inline. The NULL cannot just be dropped, so a call
        of ``tuple`` (which returns a tuple as it is) takes the callee's place to consume it."""
        if npositional < 0 or self.drive_calls_out:  # (no maker: see _bounce_or_drive)
            return []
        assert not _callee_alone(site, binding) and not binding.reload
        if self.nests:
            return [label, *self._nested_call(site, npositional, depth)]
        callee = depth - npositional + 1  # its depth once the arguments are one tuple
        return [
            label,
            *self._hand_over_jumps(site, above=1),
            Op("BUILD_TUPLE", npositional + 1),
            *self.load_target(),
            self.load_attr("as_tuple"),
            Op("SWAP", callee + 1),
            Op("POP_TOP"),
            *self.call(1),
            *self.return_result(site),
        ]

    @property
    def nests(self) -> bool:
        """Calls out that would return a bounce without a binding function call the callee's
        implementation instead (see ``_nested_call``): asked for, and no frame count or
        saved contexts that a bounce's return would have to account for."""
        return (self.nests_calls_out and self.level_slot >= 0 and not self.counts_jumps
                and self.unwinder is None)

    def load_nested(self) -> list[Op]:
        """With a marker on top: what a nested call from this level calls in its place
        (the marker's ``nested`` tuple, read at this implementation's level)."""
        return [self.load_attr("nested"), Op("LOAD_DEREF", self.level_slot),
                Op(*self.facts.subscript)]

    def _nested_call(self, site: SelfCall, npositional: int, depth: int) -> list[Item]:
        """With the marker on top of the call (as for ``_tuple_bounce``): call the callee's
        implementation one level deeper, natively, with the same arguments, and return
        its result. What is called is read off the marker at this implementation's level
        (``load_nested``): at the last level, the callee's ``bound_maker``, whose result is a
        bounce, so a chain of such calls holds at most ``_runtime.NESTED_CALLS`` frames
        before the driver unwinds them. Natively the call is one frame too: the same
        result, exception and traceback through it."""
        return [
            *self.load_nested(),
            Op("SWAP", depth + 1),
            Op("POP_TOP"),
            *self.call(npositional),
            *self.return_result(site),
        ]

    def _method_tuple_bounce(self, site: SelfCall, label: Label,
                             npositional: int) -> list[Item]:
        """At ``label``, with the marker of the Target of a bound method's function on top of
        the bound method alone and its arguments (``npositional``, with its object, is
        exactly the function's positional parameters): return ``(object, *arguments,
        marker)``. The object takes the bound method's place (an exact bound method:
        ``__self__`` is a plain read)."""
        if npositional < 0 or self.drive_calls_out:  # (no maker: see _bounce_or_drive)
            return []
        nargs = npositional - 1
        if self.nests:
            # [bound method, arguments, marker] -> [implementation, object, arguments]: the
            # call's method form, the same on every version (see _nested_call).
            return [
                label,
                *self.load_nested(),
                Op("SWAP", nargs + 2),
                self.load_attr("__self__"),
                *(Op("SWAP", i) for i in range(nargs + 1, 1, -1)),
                *self.call(nargs),
                *self.return_result(site),
            ]
        return [
            label,
            *self._hand_over_jumps(site, above=1),
            Op("COPY", nargs + 2),
            self.load_attr("__self__"),
            Op("SWAP", nargs + 3),
            Op("POP_TOP"),
            Op("BUILD_TUPLE", npositional + 1),
            *self.return_result(site),
        ]

    def _bounce_or_drive(self, site: SelfCall, kind: str, npositional: int,
                         depth: int, tuple_bounce: Label | None,
                         cache: int | None = None) -> list[Item]:
        """Replace the Target on top by what replaces the callee: a driver (in public code,
        which must return the callee's result) or a bounce maker (in an implementation,
        which returns the bounce to its driver). An implementation holding saved contexts
        asks for a driver too: the contexts apply to the result, not to a bounce.

        For a function (``kind`` ""), both are read from the Target inline: no frame of
        ours per bounce; a call of exactly the callee's positional parameters goes to
        ``tuple_bounce`` with the Target's marker instead (see ``_tuple_bounce``). For a
        bound method (``kind`` "method_", ``depth`` below the Target), a method of the
        Target binds its object."""
        if self.drive_calls_out or self.unwinder is None:
            return self._entry(site, kind, "driver" if self.drive_calls_out else "maker",
                               npositional, depth, tuple_bounce, cache)
        assert site.shape is not None
        # [count?, list, the compiler's stack at the call, Target]
        below = self._depth_at_call(site) + 2
        drive, done = Label(), Label()
        return [
            Op("COPY", below),
            *self.truth(),
            *self.branch(self.facts.pop_jump_if_true, drive),
            *self._entry(site, kind, "maker", npositional, depth, tuple_bounce),
            Op("JUMP_FORWARD", target=done),
            drive,
            *self._entry(site, kind, "driver", npositional, depth, tuple_bounce),
            done,
        ]

    def _entry(self, site: SelfCall, kind: str, how: str, npositional: int, depth: int,
               tuple_bounce: Label | None, cache: int | None = None) -> list[Item]:
        """With the callee's Target on top: what replaces the callee (see _bounce_or_drive);
        for a tuple bounce, its marker (remembered in ``cache``, if any), and on to
        ``tuple_bounce``."""
        def binding_entry() -> list[Item]:
            if kind == "method_":  # (a COPY's depth counts the two items the load leaves)
                return [*self.call_method(kind + how, [Op("COPY", depth + 2)])]
            return [self.load_attr("drive" if how == "driver" else "general")]

        if (how == "maker" and kind == "" and self.fast_bounces
                and self._self_or_null_below(site, self.facts)):
            return self._bound_maker_entry(depth, cache)
        if how == "driver" or npositional < 0:
            return binding_entry()
        assert tuple_bounce is not None
        general = Label()
        return [
            # A tuple bounce serves exactly ``exact_count`` positional arguments. Small ints
            # are cached, so ``is`` is ``==`` here; a count over 256 (never equal) takes
            # ``general``, which serves every call.
            Op("COPY", 1),
            self.load_attr("exact_count"),
            Op("LOAD_CONST", self.consts.index(npositional)),
            Op("IS_OP", 0),
            *self.branch(self.facts.pop_jump_if_false, general),
            self.load_attr("marker"),
            *self._remember_bounce(cache),
            Op("JUMP_FORWARD", target=tuple_bounce),
            general,
            *binding_entry(),
        ]

    @staticmethod
    def _self_or_null_below(site: SelfCall, facts: Facts) -> bool:
        """A method call (3.13+) with positional arguments only, its function found by the
        method load: the slot above it holds the object or NULL, and no test can tell."""
        shape = site.shape
        return (facts.method_callable_first and site.callee == "method"
                and not site.bound_method and shape is not None and shape.kind == "CALL"
                and not shape.kwnames)

    def _bound_maker_entry(self, depth: int, cache: int | None) -> list[Item]:
        """With the Target of a function on top (the callee, at ``depth`` under it, called
        with the object or NULL above it): what makes its bounce. The call then passes the
        object, or not, as natively, to the Target's ``bound_maker``: a C-level
        ``partial(TailCall, implementation)``, where the implementation takes the
        function's positional parameters as they are. So only for a function with no
        defaults (read now, as a call would): otherwise ``general``, which binds them."""
        no_maker, done = Label(), Label()
        return [
            Op("COPY", 1),
            self.load_attr("bound_maker"),
            Op("COPY", 1),
            *self.branch(self.facts.pop_jump_if_none, no_maker),
            Op("COPY", depth + 2),
            self.load_attr("__defaults__"),
            *self.branch(self.facts.pop_jump_if_not_none, no_maker),
            *self._maker_in_place(cache),
            Op("JUMP_FORWARD", target=done),
            no_maker,
            Op("POP_TOP"),
            self.load_attr("general"),
            done,
        ]

    def _maker_in_place(self, cache: int | None) -> list[Op]:
        """[Target, its bound maker] -> the bound maker, or where calls nest, what the
        marker's slot holds for this level (the callee's implementation, called as the
        maker is: see ``_nested_call``); the marker remembered in ``cache``, if any."""
        if self.nests:
            return [Op("POP_TOP"), self.load_attr("marker"), *self._remember_bounce(cache),
                    *self.load_nested()]
        return [
            *([Op("COPY", 2), self.load_attr("marker"), *self._remember_bounce(cache),
               Op("POP_TOP")] if cache is not None else []),
            Op("SWAP", 2),
            Op("POP_TOP"),
        ]

    def _depth_at_call(self, site: SelfCall) -> int:
        """The compiler's stack depth where the call sequence starts, as rewritten."""
        return self.analysis.flow.stack_depths[site.region[0].offset] - int(site.bound_method)

    def _hand_over_jumps(self, site: SelfCall, *, above: int = 0) -> list[Op]:
        """When jumps are counted in a frame that is about to return a bounce (an
        implementation run by a driver), add its count to ``Target.HANDED_OVER.count`` for
        that driver: natively those calls are frames still on the stack. Slot reads and
        writes of a thread-local object: no code of ours runs. ``above``: items on top of
        the call sequence."""
        if not self.counts_jumps or self.drive_calls_out:
            return []
        # Everything on the stack, down to the count at the bottom: the compiler's depth
        # before the call sequence, and the frame's own items under it.
        total = self._depth_at_call(site) + self.stack_base + above
        return [
            *self.load_target(),
            self.load_attr("HANDED_OVER"),
            Op("COPY", 1),
            self.load_attr("count"),
            Op("COPY", total + 2),
            Op("BINARY_OP", NB_ADD),
            Op("SWAP", 2),
            Op("STORE_ATTR", self.names.index("count")),
        ]

    # -- small pieces of stub code ------------------------------------------------------

    def branch(self, name: str, target: Label) -> list[Op]:
        """A conditional forward jump, with the marker that 3.14+ put after each one."""
        ops = [Op(name, target=target)]
        if self.facts.not_taken_after_branch:
            ops.append(Op("NOT_TAKEN"))
        return ops

    def load_attr(self, attribute: str) -> Op:
        return Op("LOAD_ATTR", self.facts.load_attr_arg(self.names.index(attribute)))

    def load_target(self) -> list[Op]:
        """The optimized function's own :class:`~pytailcall._runtime.Target`."""
        return [Op("LOAD_DEREF", self.target_slot)]

    def call_helper(self, slot: str, arguments: list[Op]) -> list[Op]:
        """Call the C function in the Target's ``slot`` with the values ``arguments`` push
        (each counted as one; a COPY's depth counts the two items pushed before them)."""
        load = [*self.load_target(), self.load_attr(slot)]
        null = [Op("PUSH_NULL")]
        first = [*null, *load] if self.facts.null_before_callable else [*load, *null]
        return [*first, *arguments, *self.call_value(len(arguments) + 1)]

    def call_method(self, name: str, arguments: list[Op]) -> list[Op]:
        """Call method ``name`` of the value on top with the values ``arguments`` push
        (each counted as one; a COPY's depth counts the two items the method load leaves)."""
        load, arg = self.facts.load_method(self.names.index(name))
        return [Op(load, arg), *arguments, *self.call_value(len(arguments) + 1)]

    def bind(self, site: SelfCall, binding: Binding, depth: int) -> list[Op]:
        """Store the arguments into the parameters (in pairs where the compiler would pair
        them); leave one value where the callee was."""
        shape = site.shape
        assert shape is not None
        if binding.stores is not None:
            return [*self._paired(list(binding.stores)),
                    *_empty_collectors(self.code, shape.npositional, self.consts)]
        if site.own_method:
            return self._bind_method(site, depth)
        return self._bind_with_binder(site, binding, depth)

    def _bind_method(self, site: SelfCall, depth: int) -> list[Op]:
        """A method's call to its own name that plain stores cannot bind (a default left
        out, values for ``*args`` or ``**kwargs``), its bound method found to be this very
        function at ``depth`` over its arguments: the function's binder, with this
        function's defaults of now, binds the bound object and the arguments, as the call
        would (and raises its ``TypeError`` where the call would); one value is left where
        the callee was."""
        self.uses_binder = True
        shape = site.shape
        assert shape is not None and shape.kind in ("CALL", "CALL_KW")
        nargs = shape.nargs  # (keyword values included: the call's own sequence names them)
        ops = [Op("COPY", depth), self.load_attr("__self__"),
               *(Op("SWAP", i) for i in range(nargs + 1, 1, -1)),  # under the arguments
               *self.load_target(), self.load_attr("binder"),
               *self._defaults_onto_binder(("LOAD_DEREF", self.self_slot))]
        # [bound method, object, arguments, binder] -> [binder, object, arguments]: the
        # call's method form, the same on every version (the binder gets the object first),
        # called by the call's own sequence (its keyword names too).
        return [*ops, Op("SWAP", nargs + 3), Op("POP_TOP"),
                *(Op(ins.name, ins.arg) for ins in site.region),
                *self._parameters_from_binder()]

    def _defaults_onto_binder(self, callee: tuple[str, int]) -> list[Op]:
        """With a binder on top: the ``__defaults__`` and ``__kwdefaults__`` of the callee
        that the instruction ``callee`` pushes, copied onto it (read as the call runs)."""
        ops: list[Op] = []
        for attribute in ("__defaults__", "__kwdefaults__"):
            name = self.names.index(attribute)
            ops += [Op(*callee), Op("LOAD_ATTR", self.facts.load_attr_arg(name)),
                    Op("COPY", 2), Op("STORE_ATTR", name)]
        return ops

    def _parameters_from_binder(self) -> list[Op]:
        """With the binder's tuple on top: every parameter stored from it, and one value
        left standing in for the callee."""
        nparams = self.analysis.nparams
        return [Op("UNPACK_SEQUENCE", nparams),
                *(Op("STORE_FAST", slot) for slot in range(nparams)),
                Op("LOAD_CONST", self.consts.index(None))]

    def _binds_through_star_binder(self, site: SelfCall, binding: Binding) -> bool:
        """``f(*iterable, **mapping)`` with values that are not yet a tuple and a dict: the
        call consumes them, and only then may the callee's defaults be read. The star binder
        (named like the function, for the same error messages) reads them when it runs."""
        shape = site.shape
        assert shape is not None
        return binding.stores is None and shape.kind == "CALL_FUNCTION_EX"

    def _bind_with_binder(self, site: SelfCall, binding: Binding, depth: int) -> list[Op]:
        # The stub pushed the binder of the callee it found (the function or its source:
        # one each, so that threads calling both never share one binder's defaults).
        self.uses_binder = True
        ops: list[Op] = []
        if not self._binds_through_star_binder(site, binding):
            # The callee's own: this function's or, as it runs the same code, its source's.
            ops += self._defaults_onto_binder(("COPY", depth + 1))
        ops += [Op("SWAP", depth + 1), Op("POP_TOP")]
        return [*ops, *self._call_ops(site, binding), *self._parameters_from_binder()]

    def return_result(self, site: SelfCall) -> list[Item]:
        """Return the value on top, cleaning the stack as the compiler's own return does
        (and for a call with a context, doing that work first; see ``_unwinding``).

        Stubs return themselves rather than jump back to the code after the call, so that
        code may be overwritten when the call sequence alone is too short for the jump.
        """
        if site.context is None:
            # As the compiler's own return: the clean-up and the return at their positions,
            # and a NOP at each other line, so that tracers see a ``return (`` of its own
            # line, or an empty ``finally``, as natively; where other calls save contexts,
            # the return replays them first (at the return's position too).
            ops: list[Item] = []
            for ins, position, starts_line in self._exit_steps(site):
                if ins.name == "RETURN_VALUE" and self.unwinder is not None:
                    ops += self.unwinder.returning(position)
                elif ins.name not in LINE_ONLY:
                    ops.append(Op(ins.name, ins.arg, position=position))
                elif starts_line:
                    ops.append(Op("NOP", position=position))
            return ops
        # (A call with a context has no clean-up of its own: its exit path is the work.)
        items: list[Item] = [*Unwinder.replayed(site, self.positions)]
        at_return = self._exit_steps(site)[-1][1]
        if self.unwinder is None:
            return [*items, Op("RETURN_VALUE", position=at_return)]
        return [*items, *self.unwinder.returning(at_return)]

    def _exit_steps(self, site: SelfCall) -> list[tuple[Instr, Position, bool]]:
        """Each instruction of ``site.exit_path``, its position, and whether it natively
        starts a line after the call's (a line event as the frame returns)."""
        if not site.exit_path:
            raise RuntimeError(f"no return after the call at unit {site.call.offset}")
        steps = []
        line = self.positions[site.call.offset][0]
        for ins in site.exit_path:
            position = self.positions[ins.offset]
            starts_line = position[0] is not None and position[0] != line
            line = position[0] if starts_line else line
            steps.append((ins, position, starts_line))
        return steps

    def exit_lines(self, site: SelfCall) -> list[Op]:
        """A NOP at each line natively seen after a tail call returns, before its frame
        does (a ``return (`` above the call, the ``pass`` of an empty ``finally``), for a
        stub that jumps back instead: without them, coverage tools would report those lines
        never run. Before the next iteration's lines, where natively they follow the
        innermost call's; none for a call with a context (its replay shows its line)."""
        if site.context is not None:
            return []
        return [Op("NOP", position=position)
                for _, position, starts_line in self._exit_steps(site) if starts_line]

    def truth(self) -> list[Op]:
        """What makes the value on top a condition for a conditional jump."""
        return [Op("TO_BOOL")] if self.facts.conditions_need_bool else []

    def call_top(self) -> list[Op]:
        """Call the value on top with no arguments."""
        swap = [Op("SWAP", 2)] if self.facts.null_before_callable else []
        return [Op("PUSH_NULL"), *swap, *self.call_value(1)]

    def call(self, oparg: int) -> list[Op]:
        """``CALL oparg``, after 3.11's ``PRECALL``."""
        return [*([Op("PRECALL", oparg)] if self.facts.has_precall else []), Op("CALL", oparg)]

    def call_value(self, nargs: int) -> list[Op]:
        """Call the value under ``nargs`` arguments, the first of which stands in for NULL."""
        return self.call(nargs - 1)

    def fresh_frame_state(self) -> list[Op]:
        """Unbind locals the function could see unbound, and give it fresh cells."""
        ops = []
        nparams = self.analysis.nparams
        for slot in self.analysis.reset_slots:
            ops += [Op("PUSH_NULL"), Op("STORE_FAST", slot)]
        for slot in self.analysis.cell_slots:
            if slot >= nparams:
                ops += [Op("PUSH_NULL"), Op("STORE_FAST", slot)]
            ops.append(Op("MAKE_CELL", slot))
        return ops


def _remembers_bounces(site: SelfCall) -> bool:
    """A call out that may bounce without a binding function: a function (``f(...)``) or
    a method (``x.name(...)``: the bound method before 3.13, its function and the object
    or NULL from 3.13), called with positional arguments only (see
    ``Rewriter._tuple_bounce``, ``_method_tuple_bounce`` and ``_bound_maker_entry``)."""
    shape = site.shape
    return (site.callee in ("other", "method") and not site.own_method
            and shape is not None and shape.kind == "CALL" and not shape.kwnames)


def _callee_alone(site: SelfCall, binding: Binding) -> bool:
    """The callee has no NULL slot beside it: dropped for a call to itself, or a method
    loaded as a bound method."""
    return binding.drop_null or site.bound_method


def _positioned(ops: list[Item], site: SelfCall) -> list[Item]:
    """Give every instruction of a stub the call's source position (but those that have
    none: :data:`NO_LINE`)."""
    for op in ops:
        if isinstance(op, Op) and op.position is None:
            op.position = site.position
    return ops


class Continuation:
    """What a stub does once the arguments are bound to the parameters.

    After binding, the stack holds the frame's own items (loop iterators) and, on top, one value
    standing in for the call's result.
    """

    #: Free variables the continuation adds after the function's self-reference.
    free_variables: tuple[str, ...] = ()
    #: Does it keep loop iterators alive (it stays in the frame), or refuse calls in loops?
    keeps_iterators = False
    #: Do calls to itself continue in the same frame (and so can be counted there)?
    jumps_in_frame = False

    def continue_from(self, rewriter: Rewriter, site: SelfCall, binding: Binding,
                      depth: int) -> list[Item]:
        """Everything after the identity check, given the callee at ``depth`` (1-based)."""
        return [*rewriter.bind(site, binding, depth), *self.after_binding(rewriter, site)]

    def after_binding(self, rewriter: Rewriter, site: SelfCall) -> list[Item]:
        raise NotImplementedError


class Restart(Continuation):
    """The loop strategy: clean the stack as a return would, then jump to the start.

    Loop iterators the return would have released are kept (see ``Rewriter._plan_frame``):
    those of one level go into one tuple, outermost first, so that freeing it releases them
    innermost first, as the compiler's own clean-up does.
    """

    keeps_iterators = True
    jumps_in_frame = True

    def continue_from(self, rewriter: Rewriter, site: SelfCall, binding: Binding,
                      depth: int) -> list[Item]:
        capture = []
        if site.context is not None:
            assert rewriter.unwinder is not None
            # Over the callee (or the NULL under it, 3.11 and 3.12): its arguments (and
            # NULL), and the binder if one was pushed.
            null_under = rewriter.facts.null_before_callable and not binding.drop_null
            above = depth - 1 + int(null_under) + int(binding.stores is None)
            capture = rewriter.unwinder.capture(site, above)
        return [*self.interrupt_check(rewriter, site), *capture,
                *super().continue_from(rewriter, site, binding, depth)]

    @staticmethod
    def interrupt_check(rewriter: Rewriter, site: SelfCall) -> list[Item]:
        """Under a handler (``escape_try``), check for signals and asynchronous exceptions
        here, before binding, where that handler covers the stub: natively they arrive as
        the call starts, inside its ``try``. The jump back then does not check again (3.11
        and 3.12 check after a backward jump and report its target, outside the ``try``).

        The check is a backward jump to the next instruction: every version checks at a
        backward jump (before or after jumping), and the handler covers the jump and what
        follows it, so an interrupt meets that handler wherever a version reports it
        (tested with one sent from another thread). It costs less than the call of a C
        function it replaces (``tuple()``: a tenth of a short iteration's instructions),
        and, going nowhere, shows no backward edge or line event to ``sys.settrace``.
        """
        if site.handler is None:
            return []
        here = Label()
        return [Op("JUMP_BACKWARD", target=here), here]

    def after_binding(self, rewriter: Rewriter, site: SelfCall) -> list[Item]:
        ops: list[Item]
        if site.context is not None:
            assert rewriter.unwinder is not None
            ops = rewriter.unwinder.save(site)
        elif rewriter.keeps_iterators and site.iterators:
            # [list, iterators..., stand-in]: the list is right under the iterators.
            ops = [Op("POP_TOP"), Op("BUILD_TUPLE", site.iterators), Op("LIST_APPEND", 1)]
        else:
            ops = [*(Op(name, arg) for name, arg in site.exit_ops), Op("POP_TOP")]
        if rewriter.counts_jumps:
            # [count, (list)]: one more call that jumped.
            above = [Op("SWAP", 2)] if rewriter.has_list else []
            ops += [*above, Op("LOAD_CONST", rewriter.consts.index(1)),
                    Op("BINARY_OP", NB_ADD), *above]
        return [*ops, *self.restart(rewriter, site, escaping=site.handler is not None)]

    @staticmethod
    def restart(rewriter: Rewriter, site: SelfCall, *, escaping: bool = False) -> list[Item]:
        """With the parameters bound and the stack empty: a new call's state, the lines
        natively seen as the call returns (``Rewriter.exit_lines``), and back to the start
        (without an interrupt check when ``interrupt_check`` made one)."""
        start = rewriter.analysis.body_start.start + rewriter.shift
        jump = "JUMP_BACKWARD_NO_INTERRUPT" if escaping else "JUMP_BACKWARD"
        # Lineless, so that the restart's first line is a new line, as in a new frame:
        # sys.monitoring hides a LINE event after an instruction of the same line.
        return [*rewriter.fresh_frame_state(), *rewriter.exit_lines(site),
                Op(jump, target=start, position=NO_LINE)]


class _ReturnTooFar(Exception):
    """A return is too far from its stub for a one-unit jump (see ``_return_stubs``)."""

    def __init__(self, ret: Instr) -> None:
        super().__init__(ret)
        self.ret = ret


def _covering_the_rest(handlers: list[Handler], start: int, end: int, target: int,
                       depth: int) -> list[Handler]:
    """``handlers`` plus entries sending every unit of ``[start, end)`` that none of them
    covers to ``target`` (with ``lasti``), in the order the interpreter searches them."""
    covered = bytearray(end - start)
    for h in handlers:
        for unit in range(max(h.start, start), min(h.end, end)):
            covered[unit - start] = 1
    added, unit = [], start
    while unit < end:
        if covered[unit - start]:
            unit += 1
            continue
        first = unit
        while unit < end and not covered[unit - start]:
            unit += 1
        added.append(Handler(first, unit, target, depth, True))
    return sorted([*handlers, *added], key=lambda h: h.start)


def _verified_stack_size(raw: bytes, handlers: list[Handler], facts: Facts, *,
                         in_code_order: bool) -> int:
    """Check the new code's stack discipline the way the compiler would; return its maximum."""
    return max_stack_depth(raw, handlers, facts, in_code_order=in_code_order)
