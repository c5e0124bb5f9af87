"""Find a function's calls to itself and decide which are tail calls that can become jumps.

The analysis is conservative: it recognises the shapes CPython's compiler emits for
``return name(args)`` and refuses everything else with a reason and a line number.
It reads bytecode only, so it works without source code.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Container, Sequence
from dataclasses import dataclass, replace

from pytailcall import _contexts
from pytailcall._bytecode.code import (
    Fields,
    Handler,
    Instr,
    Position,
    decode_fields,
    decode_indexed,
    instructions,
    parse_exception_table,
)
from pytailcall._bytecode.facts import Facts
from pytailcall._bytecode.flow import Flow, FlowError
from pytailcall._signature import EXTRA, direct_targets

CALL_INSTRUCTIONS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION_EX"})

#: Instructions the compiler places between a returned call and its ``RETURN_VALUE`` to pop
#: loop iterators; replaying them empties the stack before jumping back to the start.
_EXIT_OPS = frozenset({"SWAP", "POP_TOP", "POP_ITER"})
#: Instructions between a returned call and its ``RETURN_VALUE`` that do no work: they
#: only carry lines (which the rewriter shows as natively, see ``SelfCall.exit_path``).
LINE_ONLY = frozenset({"NOP", "NOT_TAKEN", "JUMP_FORWARD", "JUMP_BACKWARD",
                       "JUMP_BACKWARD_NO_INTERRUPT"})

#: Names whose use lets a function see its own unbound locals by other means than reading
#: them; such functions get every local reset at each iteration.
_INTROSPECTION = frozenset({"locals", "vars", "dir", "eval", "exec", "_getframe",
                            "currentframe"})


class Reason:
    """Why a call to the function itself was left as a normal call."""

    IN_TRY = ("inside a try block: the except clauses would no longer see exceptions from "
              "the call (escape_try=True optimizes it anyway)")
    IN_FINALLY = "inside a try block with a finally clause: the finally block runs after the call"
    IN_WITH = "inside a with block: __exit__ runs after the call"
    IN_HANDLER = ("inside an except block: the handled exception is restored after the call")
    IN_FINALLY_BODY = ("inside a finally block, which the compiler copies for the normal and "
                       "the exceptional exit; the exceptional copy cannot jump")
    ENCLOSING_CLEANUP = "an enclosing finally or with block runs after the call"
    RESULT_USED = "not a tail call: its result is used before the function returns"
    NOT_RETURNED = "not a tail call: its result is not returned"
    UNRECOGNISED = "the rewriter does not recognise the bytecode of this call"
    METHOD_BOUND_FORM = ("a method tail call on CPython 3.11 or 3.12 whose method load "
                         "also serves another call, or whose argument code has an exception "
                         "handler shared with other code: the call is rewritten to load a "
                         "bound method, one stack item fewer, and that code cannot follow")
    SHOWS_LOCALS = ("the function can list its own local variables (locals(), vars() or dir() "
                    "without arguments, eval() or exec(), a frame's "
                    "f_locals), which would also show the hidden variables of the rewritten code")
    NOT_UNDERSTOOD = "the rewriter could not analyse this function's bytecode"
    RETURN_TOO_FAR = ("a return of this function is too far from the code added for "
                      "returning through saved contexts, and shared by two paths (or after a "
                      "jump), so its one unit cannot reach it")
    CONTEXT_TRAMPOLINE = ("not a tail call: its result is used before the function returns; "
                          "only the loop strategy keeps that work on a list (modulo context)")
    CONTEXT_OFF = ("not a tail call: its result is used before the function returns "
                   "(modulo_context=False)")
    CONTEXT_KEPT_ITERATORS = ("not a tail call: its result is used before the function "
                              "returns, and the function also jumps to itself from inside a "
                              "for loop, whose kept iterators would have to be released in "
                              "between the saved work")
    CONTEXT_BEFORE_TAIL_CALL = ("not a tail call: its result goes to a tail call of another "
                                "function, which bounces in constant stack when that function "
                                "is optimized")
    CONTEXT_VIRTUAL_ITERATOR = ("not a tail call: its result is used inside a for loop, whose "
                                "iterator from CPython 3.14 may be virtual and cannot be saved")
    NO_ROOM = ("the call's bytecode is too short for a jump as far as its rewritten form, "
               "past the end of this long function (a known limit: a call with *args whose "
               "return another path shares, and whose arguments' last instruction cannot "
               "move, such as the join of two branches)")
    IN_FOR_LOOP_BOUNCE = ("inside a for loop: a bounce returns from the frame, which would "
                          "finalise the loop's iterator (a generator's finally block) before "
                          "the call instead of after it (a jump of the loop strategy to the "
                          "function itself keeps it)")
    IN_FOR_LOOP_VIRTUAL = ("inside a for loop: from CPython 3.14 a loop may keep a virtual "
                           "iterator that only its own clean-up can release, so the iterator "
                           "cannot be kept alive until the calls return, as natively")
    KEEPS_ITERATORS = ("the function jumps to itself from inside a for loop, keeping that "
                       "loop's iterator until the function returns, as natively: a bounce "
                       "out of the frame would finalise it before this call runs")
    ESCAPE_TRY_BOUNCE = ("inside a try block: with escape_try, only a jump of the loop "
                         "strategy to the function itself keeps asynchronous exceptions "
                         "(KeyboardInterrupt) inside the handlers of the iteration they arrive "
                         "in; a bounce leaves the frame")
    ESCAPE_TRY_METHOD = ("inside a try block: with escape_try, a call of the method through "
                         "its object (self.name(...)) is not made a jump, only a call by the "
                         "function's bare name is; and a bounce would leave the frame, where "
                         "asynchronous exceptions (KeyboardInterrupt) must meet the handlers "
                         "of the iteration they arrive in")


@dataclass(frozen=True)
class CallShape:
    """How the arguments of a call sit on the stack."""

    kind: str  #: CALL, CALL_KW or CALL_FUNCTION_EX
    nargs: int  #: argument values (CALL, CALL_KW) or argument containers (CALL_FUNCTION_EX)
    kwnames: tuple[str, ...]

    @property
    def npositional(self) -> int:
        return self.nargs - len(self.kwnames) if self.kind != "CALL_FUNCTION_EX" else 0


@dataclass(frozen=True)
class SelfCall:
    """A call whose callee is the function's own name, or, for ``callee="other"``, any
    other name or method: a tail call that may bounce to another optimized function."""

    lineno: int | None
    target: str
    position: Position | None
    loader: Instr | None  #: LOAD_GLOBAL / LOAD_DEREF of the name
    null_push: Instr | None  #: a separate PUSH_NULL paired with the loader, if any
    region: tuple[Instr, ...]  #: [KW_NAMES | kwnames LOAD_CONST] [PRECALL] CALL*
    shape: CallShape | None
    arguments: tuple[Instr, ...]  #: instructions between the callee load and the call
    exit_ops: tuple[tuple[str, int], ...]  #: the compiler's stack clean-up before returning
    handler: Handler | None  #: the exception handler covering the call, if any
    refusal: str | None  #: None when the call can become a jump
    #: "self" (the function's own name), "other" (another name) or "method" (``x.name(...)``)
    callee: str = "self"
    #: The argument code is one straight run right before the call (not shared with a copy).
    contiguous: bool = True
    #: For a call whose result is used before it is returned: the work left to do then,
    #: which the loop strategy saves and replays (tail recursion modulo context).
    context: _contexts.Context | None = None
    #: A method call whose stack holds a slot that may be NULL, which cannot be looked at
    #: (``method_or_NULL, self_or_callable`` before 3.13; from 3.13 the ``self_or_NULL`` an
    #: own-method jump needs): the rewriter loads a bound method instead (a plain attribute
    #: load, one item), and these exception-table entries of the argument code, now one item
    #: shallower, move down with it.
    bound_method: bool = False
    shallower_handlers: tuple[Handler, ...] = ()
    #: ``x.name(...)`` inside the function called ``name``, loaded as a bound method, whose
    #: arguments (with the bound object first) plain stores or the function's binder can
    #: bind: when the method found is this function, the call jumps like a call to itself;
    #: else it bounces.
    own_method: bool = False
    #: What runs natively from the end of the call to its ``RETURN_VALUE`` (included),
    #: plain jumps followed: the clean-up, instructions that only carry lines (a ``return
    #: (`` of its own line, an empty ``finally``), a context's work. Empty if none follows.
    exit_path: tuple[Instr, ...] = ()

    @property
    def may_jump(self) -> bool:
        return self.callee == "self" or self.own_method

    @property
    def call(self) -> Instr:
        return self.region[-1]

    @property
    def iterators(self) -> int:
        """Loop iterators the compiler's clean-up releases before returning the result."""
        return sum(name in ("POP_TOP", "POP_ITER") for name, _ in self.exit_ops)


@dataclass(frozen=True)
class Analysis:
    code: types.CodeType
    facts: Facts
    flow: Flow
    sites: tuple[SelfCall, ...]
    #: Tail calls to other names and methods: they bounce when the callee is optimized.
    calls_out: tuple[SelfCall, ...]
    #: Plain (non-parameter, non-cell) local slots to unbind at the start of each iteration.
    reset_slots: tuple[int, ...]
    #: Cell slots created by MAKE_CELL in the prologue (parameters among them).
    cell_slots: tuple[int, ...]
    #: First instruction after RESUME: where each iteration restarts.
    body_start: Instr
    nparams: int
    #: Source positions of the code's units (``co_positions``, made once: the rewriter
    #: reads them too).
    positions: tuple[Position, ...]

    @functools.cached_property
    def unbinds(self) -> frozenset[int]:
        """Local slots some instruction unbinds (``del x``, the end of ``except E as x``)."""
        return frozenset(slot for ins in self.flow.instrs
                         for kind, slot in self.facts.local_accesses(ins.name, ins.arg)
                         if kind == "clear")

    def self_rebinding(self) -> tuple[int, str] | None:
        """(line, name) of the first store or delete, in the function's code or code
        nested in it, of the variable its calls to itself load their callee from (what
        ``name_guard=False`` promises never happens). A global counts wherever
        ``STORE_GLOBAL`` names it; a closure variable where ``STORE_DEREF`` reaches the
        same free variable (not a cell of an inner function's own)."""
        globals_: set[str] = set()
        free: set[str] = set()
        for site in self.sites:
            if site.callee == "self" and not site.own_method and site.loader is not None:
                (free if site.loader.name == "LOAD_DEREF" else globals_).add(site.target)
        if not globals_ and not free:
            return None
        # (code, its decoded instructions (the function's own: already), and the closure
        # variables that are still the function's own there)
        codes: list[tuple[types.CodeType, Sequence[Fields] | None, set[str]]] = [
            (self.code, self.flow.instrs, free & set(self.code.co_freevars))]
        while codes:
            code, instrs, own = codes.pop()
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    codes.append((const, None, own & set(const.co_freevars)))
            for fields in decode_fields(code.co_code, self.facts) if instrs is None else instrs:
                opname, arg = fields[4], fields[5]
                if opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
                    name, names = code.co_names[arg], globals_
                elif opname in ("STORE_DEREF", "DELETE_DEREF"):
                    name, names = self.facts.local_name(code, arg), own
                else:
                    continue
                if name in names:
                    return _line_at(code, 2 * fields[1]), name
        return None


def _line_at(code: types.CodeType, offset: int) -> int:
    for start, end, line in code.co_lines():
        if start <= offset < end and line is not None:
            return line
    return code.co_firstlineno


def parameter_count(code: types.CodeType) -> int:
    flags = code.co_flags
    return (code.co_argcount + code.co_kwonlyargcount
            + bool(flags & 0x04) + bool(flags & 0x08))  # CO_VARARGS, CO_VARKEYWORDS


def analyse(code: types.CodeType, facts: Facts, *, escape_try: bool) -> Analysis:
    fields, index_at = decode_indexed(code.co_code, facts)
    instrs = instructions(fields)
    flow = Flow(instrs, parse_exception_table(code.co_exceptiontable), facts, fields, index_at)
    positions: tuple[Position, ...] = tuple(code.co_positions())
    resume = next(i for i, ins in enumerate(instrs) if ins.name == "RESUME")
    cells = tuple(ins.arg for ins in instrs[:resume] if ins.name == "MAKE_CELL")
    nparams = parameter_count(code)
    try:
        depths = flow.stack_depths
    except FlowError:
        sites = tuple(_unmatched(code, facts, instrs, positions, set(), Reason.NOT_UNDERSTOOD))
        return Analysis(code, facts, flow, sites, (), (), cells, instrs[resume + 1], nparams,
                        positions)
    finder = _SiteFinder(code, facts, flow, depths, positions, escape_try, cells)
    sites, calls_out = finder.find()
    return Analysis(code, facts, flow, sites, calls_out, _reset_slots(finder), cells,
                    instrs[resume + 1], nparams, positions)


def _reset_slots(finder: _SiteFinder) -> tuple[int, ...]:
    """Plain locals whose unboundness the function can observe at the start of a call."""
    code = finder.code
    plain = [slot for slot in range(parameter_count(code), code.co_nlocals)
             if slot not in finder.cells]
    if _INTROSPECTION & set(code.co_names):
        return tuple(plain)
    return tuple(slot for slot in plain if slot in finder.maybe_unbound)


def _unmatched(code: types.CodeType, facts: Facts, instrs: Sequence[Instr],
               positions: Sequence[Position], matched: set[int],
               reason: str, reachable: Container[int] | None = None) -> list[SelfCall]:
    """Loads of the function's own name set up for a call that no recognised call consumes
    (among the ``reachable`` offsets, if known: the compiler keeps some dead code, such as
    the exception path of a ``finally`` after an empty ``try``, and nothing there runs)."""
    found = []
    for i, ins in enumerate(instrs):
        if (ins.name not in _SELF_LOADS or ins.offset in matched  # (most: no call below)
                or (reachable is not None and ins.offset not in reachable)
                or not _loads_self_for_call(code, facts, instrs, i)):
            continue
        position = positions[ins.offset]
        found.append(SelfCall(position[0], code.co_name, position, None, None, (ins,), None,
                              (), (), None, reason))
    return found


_LOCALS_LISTERS = frozenset({"locals", "vars", "dir"})

#: Loads of a callee by name that a separate PUSH_NULL accompanies.
_NAME_LOADS = frozenset({"LOAD_DEREF", "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW"})


#: Attribute names through which code reads a frame's locals.
_FRAME_LOCALS = frozenset({"f_locals", "getargvalues"})
_NAMESPACE_RUNNERS = frozenset({"eval", "exec"})


def _lists_own_locals(code: types.CodeType, instrs: Sequence[Instr]) -> bool:
    """Can the function list its own locals, and so see the hidden free variables?

    ``locals()``, ``vars()`` and ``dir()`` without arguments, any other use of those names
    (``show = vars``), ``eval``/``exec`` (with only a source they run in this frame's
    namespace), and reading a frame's ``f_locals`` or ``inspect.getargvalues``.
    """
    if _FRAME_LOCALS & set(code.co_names):
        return True
    for i, ins in enumerate(instrs[:-1]):
        if ins.name not in ("LOAD_GLOBAL", "LOAD_NAME"):
            continue
        name = code.co_names[ins.arg >> 1 if ins.name == "LOAD_GLOBAL" else ins.arg]
        if name in _LOCALS_LISTERS:
            after = instrs[i + 1]  # PRECALL 0 (3.11) or CALL 0, or anything else: an alias
            if after.name not in ("PRECALL", "CALL") or after.arg == 0:
                return True
        elif name in _NAMESPACE_RUNNERS:
            return True  # (with only a source they see this frame's; any use is refused)
    return False


def method_binds_with_stores(shape: CallShape, code: types.CodeType) -> bool:
    """A method call's arguments, after the bound object, bind to parameters by plain
    stores, the object to the first (a jump then stores it there)."""
    if shape.kind == "CALL_FUNCTION_EX":
        return False
    targets = direct_targets(shape.npositional + 1, shape.kwnames, code)
    return targets is not None and EXTRA not in targets and targets[-1] == 0


def _method_jumps(shape: CallShape, code: types.CodeType) -> bool:
    """A method call to its own name can jump: its arguments bind by plain stores, or the
    function's binder binds them (positional and keyword values, not ``*``/``**``
    unpacking) with the object before them, to a first positional parameter (a default
    left out, values for ``*args`` or ``**kwargs``; see ``Rewriter._bind_method``). A
    function without one (``def nextfile():`` calling ``_state.nextfile()``) bounces."""
    return method_binds_with_stores(shape, code) or (
        shape.kind in ("CALL", "CALL_KW") and code.co_argcount >= 1)


def _mark_shared_callees(sites: list[SelfCall], calls_out: list[SelfCall]
                         ) -> tuple[list[SelfCall], list[SelfCall]]:
    """Copies of one call (see ``_argument_code``) share the callee's load: none of them may
    change it, so none counts as having argument code of its own."""
    loaders = [site.loader.offset for site in (*sites, *calls_out) if site.loader is not None]
    shared = {offset for offset in loaders if loaders.count(offset) > 1}

    def mark(group: list[SelfCall]) -> list[SelfCall]:
        return [replace(site, contiguous=False)
                if site.loader is not None and site.loader.offset in shared else site
                for site in group]

    return mark(sites), mark(calls_out)


def _prefer_tail_calls_out(sites: list[SelfCall], calls_out: list[SelfCall]) -> list[SelfCall]:
    """A context that ends with a tail call of another function (``g(x, f(n))``) is not
    saved: that call bounces when ``g`` is optimized, in constant stack (mutual recursion),
    where a replayed context would call it and nest."""
    bouncing = {site.call.offset for site in calls_out if site.refusal is None}
    return [replace(site, context=None, refusal=Reason.CONTEXT_BEFORE_TAIL_CALL)
            if site.context is not None and site.context.final_call in bouncing else site
            for site in sites]


def _refuse_finally_copies(sites: list[SelfCall]) -> list[SelfCall]:
    """Refuse every copy of a call the compiler duplicated out of a ``finally`` block.

    A finally body is compiled once for the normal exit and once inside the exception
    handler; copies share their source position, and the handler's copy is never a tail
    call. Optimizing only the normal copy would make the two exits behave differently.
    """
    by_position: dict[object, list[SelfCall]] = {}
    for site in sites:
        by_position.setdefault(site.position, []).append(site)
    duplicated = {position for position, group in by_position.items()
                  if len(group) > 1 and any(s.refusal == Reason.IN_HANDLER for s in group)}
    return [replace(site, refusal=Reason.IN_FINALLY_BODY) if site.position in duplicated
            else site for site in sites]


#: Instructions that push without popping: the first instruction of a call's argument code
#: runs with the callee on top, and must leave it there (``g.table[0](x)`` calls
#: ``g.table[0]``, not ``g``). ``BUILD_*`` count only with no items.
PURE_PUSHES = frozenset({
    "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW", "LOAD_FAST_LOAD_FAST",
    "LOAD_FAST_BORROW_LOAD_FAST_BORROW", "LOAD_FAST_AND_CLEAR", "LOAD_CONST",
    "LOAD_SMALL_INT", "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_CLOSURE", "LOAD_NAME",
    "LOAD_ASSERTION_ERROR", "LOAD_BUILD_CLASS", "LOAD_LOCALS", "PUSH_NULL", "COPY", "NOP",
    "NOT_TAKEN", "KW_NAMES", "BUILD_LIST", "BUILD_TUPLE", "BUILD_MAP", "BUILD_SET",
    "BUILD_STRING",
})


def _pushes_nothing(ins: Instr) -> bool:
    """Instructions that only pop (or jump): back at the callee's depth, they left it."""
    return (ins.name.startswith(("POP_", "STORE_", "DELETE_", "JUMP"))
            or ins.name in ("NOP", "NOT_TAKEN", "END_FOR", "LIST_APPEND", "SET_ADD",
                            "MAP_ADD", "LIST_EXTEND", "SET_UPDATE", "DICT_UPDATE",
                            "DICT_MERGE"))


def pushes_only(ins: Instr) -> bool:
    return ins.name in PURE_PUSHES and (not ins.name.startswith("BUILD_") or ins.arg == 0)


def def_binds_global(code: types.CodeType) -> bool:
    """The ``def`` binds the function's name as a global: at module level, or under a
    ``global`` declaration (the qualified name is then the bare name too). A ``def`` in a
    class body binds a class attribute, one in a function a local: the global of the same
    name is another function there (``def sorted(self): return sorted(self.rows)``)."""
    return code.co_qualname == code.co_name


def def_binds_enclosing_local(code: types.CodeType) -> bool:
    """The ``def`` binds a local of the enclosing function, which the function reads as a
    free variable to call itself. In a class body (``class Runner: def run(self): return
    run(...)`` inside a function), the free variable of that name is the function's."""
    scope, _, _ = code.co_qualname.rpartition(".")
    return scope.endswith("<locals>")


#: The loads :func:`_loads_self_for_call` looks at.
_SELF_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_DEREF"})


def _loads_self_for_call(code: types.CodeType, facts: Facts, instrs: Sequence[Instr],
                         i: int) -> bool:
    """Does ``instrs[i]`` load the function's own name as the callee of a call (not as the
    start of an expression such as ``f.table[0]`` whose value is called)?"""
    ins = instrs[i]
    if ins.name == "LOAD_GLOBAL":
        loads = (bool(ins.arg & 1) and code.co_names[ins.arg >> 1] == code.co_name
                 and def_binds_global(code))
        after = i + 1
    elif (ins.name == "LOAD_DEREF" and facts.local_name(code, ins.arg) == code.co_name
          and def_binds_enclosing_local(code)):
        neighbour = i - 1 if facts.null_before_callable else i + 1
        loads = 0 <= neighbour < len(instrs) and instrs[neighbour].name == "PUSH_NULL"
        after = max(i, neighbour) + 1
    else:
        return False
    if not loads or after >= len(instrs):
        return loads
    following = instrs[after]
    return pushes_only(following) or following.name in (*CALL_INSTRUCTIONS, "PRECALL")


class _SiteFinder:
    def __init__(self, code: types.CodeType, facts: Facts, flow: Flow, depths: dict[int, int],
                 positions: Sequence[Position], escape_try: bool,
                 cells: tuple[int, ...]) -> None:
        self.code = code
        self.facts = facts
        self.flow = flow
        self.instrs = flow.instrs
        self.depths = depths
        self.positions = positions
        self.escape_try = escape_try
        self.jump_sources = flow.jump_sources
        self.cells = cells

    @functools.cached_property
    def maybe_unbound(self) -> set[int]:
        """Local slots some path may read while unbound (parameters are bound on entry)."""
        nparams = parameter_count(self.code)
        plain = {slot for slot in range(nparams, self.code.co_nlocals)
                 if slot not in self.cells}
        everything = frozenset(range(self.code.co_nlocals + len(self.code.co_cellvars)
                                     + len(self.code.co_freevars)))
        return self.flow.maybe_unbound_reads(everything - plain)

    def find(self) -> tuple[tuple[SelfCall, ...], tuple[SelfCall, ...]]:
        sites = []
        calls_out = []
        matched: set[int] = set()
        for i, ins in enumerate(self.instrs):
            if ins.name in CALL_INSTRUCTIONS and ins.offset in self.depths:
                site = self._site(i)
                if site is None or site.loader is None:
                    continue
                if site.callee == "self" or site.target == self.code.co_name:
                    sites.append(site)
                    matched.add(site.loader.offset)
                elif site.refusal is None or site.refusal == Reason.METHOD_BOUND_FORM:
                    calls_out.append(site)  # (a method left a call is reported)
        sites, calls_out = _mark_shared_callees(sites, calls_out)
        sites = _prefer_tail_calls_out(sites, calls_out)
        sites += _unmatched(self.code, self.facts, self.instrs, self.positions, matched,
                            Reason.UNRECOGNISED, reachable=self.depths)
        sites.sort(key=lambda s: s.call.offset)
        sites = _refuse_finally_copies(sites)
        if _lists_own_locals(self.code, self.instrs):
            sites = [site if site.refusal else replace(site, refusal=Reason.SHOWS_LOCALS)
                     for site in sites]
            calls_out = []
        return tuple(sites), tuple(_refuse_finally_copies(calls_out))

    # -- the call and its callee ------------------------------------------------------------

    def _region(self, i: int) -> tuple[list[Instr], tuple[str, ...]] | None:
        call = self.instrs[i]
        region = [call]
        kwnames: tuple[str, ...] = ()
        j = i - 1
        if self.facts.has_precall and call.name == "CALL":
            if j < 0 or self.instrs[j].name != "PRECALL":
                return None
            region.insert(0, self.instrs[j])
            j -= 1
        if call.name in ("CALL", "CALL_KW") and j >= 0:
            prev = self.instrs[j]
            if self.facts.kw_names_instruction and prev.name == "KW_NAMES":
                kwnames = self.code.co_consts[prev.arg]
                region.insert(0, prev)
            elif call.name == "CALL_KW":
                if prev.name != "LOAD_CONST" or not isinstance(self.code.co_consts[prev.arg],
                                                               tuple):
                    return None
                kwnames = self.code.co_consts[prev.arg]
                region.insert(0, prev)
        # Nothing may jump into the middle of the call sequence.
        if any(ins.offset in self.jump_sources for ins in region[1:]):
            return None
        return region, kwnames

    def _consumed(self, region: Sequence[Instr]) -> int:
        """Stack items a call sequence consumes: callee, NULL or self, and arguments."""
        return 1 - sum(self.facts.stack_effect(ins.op, ins.arg, jump=False) for ins in region)

    def _site(self, i: int) -> SelfCall | None:
        found = self._region(i)
        if found is None:
            return None
        region, kwnames = found
        first = self.flow.index[region[0].offset]
        consumed = self._consumed(region)
        base = self.depths[region[0].offset] - consumed  # depth below the callable and NULL
        traced = self._argument_code(region[0], base)
        if traced is None:
            return None
        arguments, last = traced
        pair = self._callee_pair(self.flow.index[last.offset], base)
        if pair is None:
            return None
        loader, null_push, callee, target = pair
        if not self._arguments_are_closed(arguments, base):
            return None
        # 3.11 calls ``module.function(...)`` as NULL + module, then LOAD_ATTR: the value
        # called is the attribute, another function than the name's.
        attributes = [self.code.co_names[ins.arg >> int(self.facts.load_attr_method_bit)]
                      for ins in arguments
                      if self.depths.get(ins.offset) == base + 2 and self._plain_attribute(ins)]
        if attributes:
            callee, target = "other", ".".join([target, *attributes])
        call = region[-1]
        if call.name == "CALL_FUNCTION_EX":
            shape = CallShape(call.name, consumed - 2, ())
        else:
            shape = CallShape(call.name, call.arg, tuple(kwnames))
        position = self.positions[call.offset]
        handler = next((h for h in self.flow.handlers if h.covers(call.offset)), None)
        exit_ops, exit_path, refusal = self._classify(call, handler)
        context = None
        if refusal == Reason.RESULT_USED and callee == "self" and handler is None:
            first_of_call = loader if null_push is None or not self.facts.null_before_callable \
                else null_push
            saving = _contexts.find(self.code, self.facts, self.flow, self.depths, call, base,
                                    self.cells, self.maybe_unbound, self.positions,
                                    first_of_call)
            if saving.context is not None or saving.refusal is not None:
                context, refusal = saving.context, saving.refusal
        # Before 3.13 every method call is loaded as a bound method (the stack may hold NULL
        # otherwise); from 3.13, only a call to a method of the function's own name, which
        # then may jump.
        own_method = (callee == "method" and target == self.code.co_name
                      and _method_jumps(shape, self.code))
        bound_method = callee == "method" and (own_method
                                               or not self.facts.method_callable_first)
        shallower: tuple[Handler, ...] = ()
        if bound_method:
            moved = self._handlers_inside(arguments, base)
            if moved is None or not self._sole_consumer(loader, call, base):
                if not self.facts.method_callable_first:
                    refusal = refusal or Reason.METHOD_BOUND_FORM
                bound_method = own_method = False
            else:
                shallower = moved
        contiguous = arguments == tuple(self.instrs[self.flow.index[last.offset] + 1:first])
        return SelfCall(position[0], target, position, loader, null_push, tuple(region), shape,
                        arguments, exit_ops, handler, refusal, callee, contiguous, context,
                        bound_method, shallower, own_method and refusal is None, exit_path)

    def _sole_consumer(self, loader: Instr, call: Instr, base: int) -> bool:
        """Every path from the method load keeps its two items on the stack until ``call``
        (no copy of the call elsewhere consumes them: all consumers would need the new
        form, and a copy may be left a normal call)."""
        seen: set[int] = set()
        work = [loader]
        while work:
            ins = work.pop()
            if ins.offset in seen or ins.offset == call.offset:
                continue
            seen.add(ins.offset)
            for succ, _ in self.flow.successors(ins):
                depth = self.depths.get(succ.offset)
                if depth is None or depth < base + 2:
                    return False
                work.append(succ)
        return True

    def _handlers_inside(self, arguments: Sequence[Instr], base: int
                         ) -> tuple[Handler, ...] | None:
        """The exception-table entries the argument code pushes (deeper than the callee
        pair: a comprehension inlined in the arguments, 3.12), or None if one of them also
        covers, or lands in, code that is not argument code or its own handler."""
        inside = {ins.offset for ins in arguments}
        entries = [h for h in self.flow.handlers
                   if h.depth >= base + 2 and any(h.covers(offset) for offset in inside)]
        for h in entries:
            covered = [ins for ins in self.instrs if h.covers(ins.offset)]
            if any(ins.offset not in inside for ins in covered):
                return None
            if not self._reached_only_from(h, entries):
                return None
        return tuple(entries)

    def _reached_only_from(self, handler: Handler, entries: Sequence[Handler]) -> bool:
        """The handler's code runs only after an exception in one of ``entries``: no other
        entry and no jump or fall-through leads into it (its depths move with them)."""
        target = self.flow.instruction_at(handler.target)
        if any(h.target == handler.target and h not in entries for h in self.flow.handlers):
            return False
        return next(self.flow.predecessors(target), None) is None

    def _argument_code(self, start: Instr, base: int
                       ) -> tuple[tuple[Instr, ...], Instr] | None:
        """The instructions that compute a call's arguments, found by walking back along
        control flow while the stack stays above the callee, and the one instruction where
        every such path begins (the end of the callee's load).

        From 3.12 the compiler may copy a call into both arms of a conditional last
        argument; each copy's arguments then share the code before the branch.
        """
        arguments: dict[int, Instr] = {}
        ends: set[int] = set()
        work = [start]
        depths, predecessors = self.depths, self.flow.predecessors
        while work:
            ins = work.pop()
            for pred in predecessors(ins):
                depth = depths.get(pred.offset)
                if depth is None:
                    continue
                if depth < base + 2 or (pred.name == "LOAD_SUPER_ATTR"  # (one test, no call)
                                        and self._loads_super_method(pred, base)):
                    ends.add(pred.offset)
                elif pred.offset not in arguments:
                    arguments[pred.offset] = pred
                    work.append(pred)
        if len(ends) != 1:
            return None
        ordered = tuple(sorted(arguments.values(), key=lambda ins: ins.offset))
        return ordered, self.flow.at[ends.pop()]

    def _loads_super_method(self, ins: Instr, base: int) -> bool:
        """``super().name`` loading the method pair over ``base`` (from super, the class and
        self above it, 3.12+)."""
        return (ins.name == "LOAD_SUPER_ATTR" and bool(ins.arg & 1)
                and self.depths.get(ins.offset) == base + 3)

    def _callee_pair(self, j: int, base: int
                     ) -> tuple[Instr, Instr | None, str, str] | None:
        """The instruction(s) that pushed the callable and NULL (or self), ending at ``j``.

        Returns them with the kind of callee ("self", "other" or "method") and its name.
        """
        if j < 0:
            return None
        last = self.instrs[j]
        depth = self.depths.get(last.offset)
        if last.name == "LOAD_GLOBAL" and last.arg & 1 and depth == base:
            return self._named(last, None, self.code.co_names[last.arg >> 1])
        if depth == base + 1 and self._is_method_load(last):
            name = self.code.co_names[last.arg >> int(self.facts.load_attr_method_bit)]
            return last, None, "method", name
        if self._loads_super_method(last, base):
            # ``super().name(...)`` (3.12+): super, the class and self make the method pair.
            return last, None, "method", self.code.co_names[last.arg >> 2]
        if j < 1 or depth != base + 1 or last.offset in self.jump_sources:
            return None
        before = self.instrs[j - 1]
        loader, null = (before, last) if not self.facts.null_before_callable else (last, before)
        if null.name != "PUSH_NULL" or self._after(before) != base + 1:
            return None
        if loader.name in _NAME_LOADS:
            return self._named(loader, null, self.facts.local_name(self.code, loader.arg))
        if loader.name == "LOAD_ATTR" and not self.facts.null_before_callable:
            # ``module.function(...)`` on 3.13+: the attribute, then NULL.
            name = self.code.co_names[loader.arg >> int(self.facts.load_attr_method_bit)]
            return self._named(loader, null, name)
        return None

    def _after(self, ins: Instr) -> int | None:
        """Stack depth after ``ins`` falls through."""
        depth = self.depths.get(ins.offset)
        if depth is None:
            return None
        return depth + self.facts.stack_effect(ins.op, ins.arg, jump=False)

    def _named(self, loader: Instr, null: Instr | None,
               name: str) -> tuple[Instr, Instr | None, str, str]:
        return loader, null, "self" if self._is_self(loader) else "other", name

    def _is_self(self, ins: Instr) -> bool:
        name = self.code.co_name
        if ins.name == "LOAD_GLOBAL":
            return bool(self.code.co_names[ins.arg >> 1] == name) and def_binds_global(self.code)
        if ins.name == "LOAD_DEREF":
            return (name in self.code.co_freevars and def_binds_enclosing_local(self.code)
                    and self.facts.local_name(self.code, ins.arg) == name)
        return False

    def _plain_attribute(self, ins: Instr) -> bool:
        """``LOAD_ATTR`` of a plain attribute (not the method form)."""
        return ins.name == "LOAD_ATTR" and not (self.facts.load_attr_method_bit and ins.arg & 1)

    def _is_method_load(self, ins: Instr) -> bool:
        if ins.name == "LOAD_METHOD":  # 3.11
            return True
        return ins.name == "LOAD_ATTR" and self.facts.load_attr_method_bit and bool(ins.arg & 1)

    def _arguments_are_closed(self, arguments: Sequence[Instr], base: int) -> bool:
        """The argument code stays above the callee, and leaves only into a call sequence
        that consumes this callee or into argument code of a copy of the call."""
        inside = {ins.offset for ins in arguments}
        depths, stops = self.depths, self.facts.never_falls_through
        for ins in arguments:
            depth = depths.get(ins.offset)
            if depth is None:
                return False
            if depth == base + 2:
                if not pushes_only(ins) and not self._plain_attribute(ins):
                    return False  # it consumes the callee: the value called is another
            elif (depth + self.facts.stack_effect(ins.op, ins.arg, jump=False) == base + 2
                  and not _pushes_nothing(ins)):
                return False  # back down to the callee with a result: it consumed it
            if ins.name in ("SWAP", "COPY") and ins.arg > depth - (base + 2):
                return False
            if ins.op in stops and ins.target is None:
                return False
            for succ, _ in self.flow.successors(ins):
                after = depths.get(succ.offset)
                if succ.offset in inside or (after is not None and after >= base + 2):
                    continue  # its own argument code, or a copy's: the callee stays put
                if self._call_base(succ) != base:
                    return False
        return True

    def _call_base(self, ins: Instr) -> int | None:
        """The callee's depth if ``ins`` starts a call sequence, else None."""
        i = self.flow.index[ins.offset]
        for j in range(i, min(i + 3, len(self.instrs))):
            if self.instrs[j].name in CALL_INSTRUCTIONS:
                found = self._region(j)
                if found is None or found[0][0].offset != ins.offset:
                    return None
                return self.depths[ins.offset] - self._consumed(found[0])
        return None

    # -- tail position ----------------------------------------------------------------------

    def _classify(self, call: Instr, handler: Handler | None
                  ) -> tuple[tuple[tuple[str, int], ...], tuple[Instr, ...], str | None]:
        """The call's clean-up before returning, the path to its return (see ``SelfCall``),
        and why it cannot become a jump (None if it can)."""
        path, pure = self._exit_path(call)
        exit_ops = tuple((ins.name, ins.arg) for ins in path if ins.name in _EXIT_OPS)
        kind = self._handler_kind(handler) if handler is not None else None
        if pure:
            if kind is None:
                return exit_ops, path, None
            if kind == "except":
                return exit_ops, path, None if self.escape_try else Reason.IN_TRY
        if kind == "with":
            return (), path, Reason.IN_WITH
        if kind == "cleanup":
            return (), path, Reason.IN_HANDLER
        if kind == "finally":
            return (), path, Reason.IN_FINALLY
        if kind == "except":
            return (), path, Reason.ENCLOSING_CLEANUP
        return (), path, Reason.RESULT_USED if path else Reason.NOT_RETURNED

    def _exit_path(self, call: Instr) -> tuple[tuple[Instr, ...], bool]:
        """What runs from the end of the call to its ``RETURN_VALUE`` (included), plain
        jumps followed (empty if no return follows in straight-line code); and is it pure
        (only the compiler's clean-up and instructions that carry lines)."""
        path: list[Instr] = []
        pure = True
        ins = self.flow.instruction_at(call.end)
        for _ in range(200):
            path.append(ins)
            if ins.name == "RETURN_VALUE":
                return tuple(path), pure
            if ins.name not in _EXIT_OPS and ins.name not in LINE_ONLY:
                pure = False
                if not self.facts.falls_through(ins.op) or ins.target is not None:
                    return (), False
            if ins.target is not None and not self.facts.falls_through(ins.op):
                ins = self.flow.instruction_at(ins.target)
            else:
                nxt = self.flow.index[ins.offset] + 1
                if nxt >= len(self.instrs):
                    break
                ins = self.instrs[nxt]
        return (), False

    def _handler_kind(self, handler: Handler) -> str:
        start = self.flow.index[self.flow.instruction_at(handler.target).offset]
        first = self.instrs[start]
        if first.name != "PUSH_EXC_INFO":
            return "cleanup"
        following = self.instrs[start + 1:start + 40]
        if following and following[0].name == "POP_TOP":
            return "except"  # a bare ``except:`` drops the exception at once
        for ins in following:
            if ins.name == "WITH_EXCEPT_START":
                return "with"
            if ins.name in ("CHECK_EXC_MATCH", "CHECK_EG_MATCH"):
                return "except"
            if ins.name == "RERAISE":
                break
        return "finally"
