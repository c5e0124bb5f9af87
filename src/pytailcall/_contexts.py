"""Tail recursion modulo context: what a call to the function itself leaves to do.

``return n * fact(n - 1)`` is not a tail call, but everything that happens after the call
(the *context*: ``n * _``) is a short, straight run of instructions that only needs the
values already on the stack under the callee (``n``), a few plain locals, and the call's
result. The loop strategy can then save those values on a list, jump back to the start as
for a tail call, and at each return replay the saved contexts, innermost first: the same
operations on the same values in the same order as native recursion, without its frames
(Leijen and Lorenzen, "Tail Recursion Modulo Context", POPL 2023; OCaml's
``[@tail_mod_cons]`` is the special case of a constructor).

This module only reads bytecode: it finds a call's context and decides whether it can be
replayed exactly. ``_rewrite`` lays out the saving and the replaying.
"""

from __future__ import annotations

import linecache
import types
from collections.abc import Sequence
from dataclasses import dataclass

from pytailcall._bytecode.code import Instr, Position
from pytailcall._bytecode.facts import Facts
from pytailcall._bytecode.flow import Flow

#: Instructions a context may contain besides loads of locals and calls: operators,
#: subscripts, displays, formatting, and the stack shuffles the compiler emits with them.
#: None of them stores anything or jumps: replayed later, each does what it did natively.
_REPLAYABLE = frozenset({
    "LOAD_CONST", "LOAD_SMALL_INT", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD",
    "PUSH_NULL", "COPY", "SWAP", "POP_TOP", "POP_ITER", "NOP",
    "BINARY_OP", "BINARY_SUBSCR", "BINARY_SLICE", "BUILD_SLICE",
    "UNARY_NEGATIVE", "UNARY_INVERT", "UNARY_NOT", "TO_BOOL", "CALL_INTRINSIC_1",
    "COMPARE_OP", "IS_OP", "CONTAINS_OP",
    "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "BUILD_CONST_KEY_MAP",
    "BUILD_STRING", "LIST_EXTEND", "LIST_APPEND", "SET_ADD", "SET_UPDATE", "MAP_ADD",
    "DICT_UPDATE", "DICT_MERGE", "LIST_TO_TUPLE",
    "FORMAT_VALUE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC", "CONVERT_VALUE",
    "PRECALL", "CALL", "CALL_KW", "KW_NAMES", "CALL_FUNCTION_EX",
})
#: Passed over without replaying: they only lead to the next instruction.
_SKIPPED = frozenset({"NOP", "NOT_TAKEN", "JUMP_FORWARD"})
_LOCAL_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_BORROW", "LOAD_FAST_LOAD_FAST",
                          "LOAD_FAST_BORROW_LOAD_FAST_BORROW"})
_CALLS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION_EX"})


class Refusal:
    """Why a call whose result is used cannot keep its context on a list."""

    BRANCHES = ("not a tail call: the code after it branches (a conditional expression, "
                "``and``/``or``) before returning, which a saved context cannot replay")
    STORES = "not a tail call: the code after it assigns or deletes a variable"
    CELL = ("not a tail call: the code after it reads a variable that a nested function "
            "shares, which later calls may change")
    MAYBE_UNBOUND = ("not a tail call: the code after it reads a local variable that may be "
                     "unbound at the call")
    CALLEE_BEFORE = ("not a tail call: its result is passed to a method loaded before it, "
                     "or through ``*args`` (``obj.m(x, f(...))``): that callee's place on the "
                     "stack may hold NULL, which a saved context cannot hold (a function, as "
                     "in ``g(x, f(...)) + 1``, can be saved)")
    CALLS_ITSELF = ("not a tail call: the code after it calls the function again (that "
                    "later call may be optimized instead)")
    HANDLER = "not a tail call: the code after it is inside a try, with or except block"
    OTHER = "not a tail call: the code after it does something a saved context cannot replay ({})"


@dataclass(frozen=True)
class Context:
    """The work left after a call to the function itself, from the call to its return."""

    #: The instructions to replay, in order (exit ops of loops included; plain jumps not).
    replay: tuple[Instr, ...]
    #: Values under the callee (and its NULL) that the context consumes: saved at the call.
    saved: int
    #: Plain local slots the context reads: saved at the call, restored before replaying.
    reads: tuple[int, ...]
    #: It pops values saved from before the call unused: the iterators of the loops the
    #: call is in, which from 3.14 may be virtual (not objects a tuple can hold).
    pops_iterators: bool
    #: Where the straight run of context instructions that follows the call in the code
    #: ends (the rewriter may overwrite the call and that run with its jump).
    contiguous_end: int
    #: The context as source text with the call as ``_`` (``n * _ % m``), if available.
    text: str | None
    #: Loads before the call that also push a NULL for a callee the context calls
    #: (``g`` in ``g(x, f(n))``): the rewriter drops the NULL (a record cannot hold one),
    #: and the replayed calls, one argument shorter, call the callee as their "self".
    null_loads: tuple[Instr, ...] = ()
    #: The call the context ends with (its result is returned), if it does: a tail call
    #: of another function, which the analysis may prefer to bounce.
    final_call: int | None = None


@dataclass(frozen=True)
class Found:
    """A context, or why there is none (None: the result is not part of the expression
    returned, and the caller's own reason stands)."""

    context: Context | None
    refusal: str | None


def find(code: types.CodeType, facts: Facts, flow: Flow, depths: dict[int, int],
         call: Instr, saved: int, cells: Sequence[int], maybe_unbound: set[int],
         positions: Sequence[Position], first: Instr) -> Found:
    """The context of ``call`` (whose callee sits over ``saved`` values), or why there is none.

    Straight-line code only, from the call to ``RETURN_VALUE``; every instruction either
    replayable as it is or a read of a plain local that is bound at the call (the callee
    cannot rebind a caller's plain locals, so their values at the call are their values
    after it). Cells can change while the callee runs: refused. ``first`` is the first
    instruction of the call's own code (its callee's load).
    """
    ret = _return_of(flow, call)
    if ret is None or not _inside(positions[call.offset], positions[ret.offset]):
        return Found(None, None)  # the analysis's own reason stands
    replay: list[Instr] = []
    stack = _Ages(saved, facts)
    reads: list[int] = []
    ins = flow.instruction_at(call.end)
    contiguous_end = call.end
    contiguous = True
    joined = False  # another path joins the context's code before the return
    for _ in range(500):
        if any(h.covers(ins.offset) for h in flow.handlers):
            return Found(None, Refusal.HANDLER)
        if ins.offset in flow.jump_sources and ins.name != "RETURN_VALUE":
            joined = True
        if contiguous and ins.offset in flow.jump_sources:
            contiguous = False
        if ins.name == "RETURN_VALUE":
            if contiguous:
                contiguous_end = ins.end
            break
        depth = depths.get(ins.offset)
        if depth is None:
            return Found(None, Refusal.OTHER.format(ins.name))
        if ins.name in _SKIPPED:
            pass
        elif ins.name in _LOCAL_LOADS:
            for _kind, slot in facts.local_accesses(ins.name, ins.arg):
                if slot in cells or slot >= code.co_nlocals:
                    return Found(None, Refusal.CELL)
                if slot in maybe_unbound:
                    return Found(None, Refusal.MAYBE_UNBOUND)
                if slot not in reads:
                    reads.append(slot)
            replay.append(ins)
        elif ins.name in ("LOAD_GLOBAL", "LOAD_DEREF") and _own_name(code, facts, ins):
            return Found(None, Refusal.CALLS_ITSELF)
        elif ins.name == "LOAD_DEREF":
            if facts.local_name(code, ins.arg) not in code.co_freevars:
                return Found(None, Refusal.CELL)
            replay.append(ins)  # a free variable: the same cell at every level
        elif ins.name.startswith(("STORE_", "DELETE_")):
            return Found(None, Refusal.STORES)
        elif ins.target is not None or not facts.falls_through(ins.op):
            return Found(None, Refusal.BRANCHES)
        elif ins.name in _REPLAYABLE:
            replay.append(ins)
        else:
            return Found(None, Refusal.OTHER.format(ins.name))
        if not stack.step(ins):
            return Found(None, Refusal.CALLEE_BEFORE)
        if contiguous:
            contiguous_end = ins.end
        if ins.name == "JUMP_FORWARD":
            assert ins.target is not None
            ins = flow.instruction_at(ins.target)
            contiguous = False
            joined = True
        else:
            ins = flow.instrs[flow.index[ins.offset] + 1]
    else:
        return Found(None, Refusal.OTHER.format("too long"))
    if stack.discarded:
        return Found(None, None)  # not the value returned: the analysis's reason stands
    null_loads = []
    for slot in stack.nulls:
        load = _null_load(flow, depths, facts, first, slot)
        if load is None:
            return Found(None, Refusal.CALLEE_BEFORE)
        if _loads_own_name(code, facts, flow, load):
            # ``f(n - 1, f(m, 0))``: the outer call is a tail call, which jumps.
            return Found(None, Refusal.CALLS_ITSELF)
        null_loads.append(load)
    if null_loads:
        replay = [ins._replace(arg=ins.arg - 1) if ins.offset in stack.shortened else ins
                  for ins in replay]
    # After a jump (the join of a conditional expression), the source around the call
    # holds branches that are not part of the context: no text then.
    text = None if joined else _source_text(code, flow, positions, call, replay, ret)
    last = next((ins for ins in reversed(replay)
                 if ins.name not in ("SWAP", "POP_TOP", "POP_ITER")), None)
    final_call = last.offset if last is not None and last.name in _CALLS else None
    return Found(Context(tuple(replay), saved - len(null_loads), tuple(reads),
                         stack.popped_old, contiguous_end, text, tuple(null_loads),
                         final_call), None)


def _null_load(flow: Flow, depths: dict[int, int], facts: Facts, first: Instr,
               slot: int) -> Instr | None:
    """The instruction before ``first`` that pushed a NULL into stack ``slot``, if it is a
    ``LOAD_GLOBAL`` with its NULL or a ``PUSH_NULL``, and only a straight run of code
    (nothing jumps in or out) leads from it to the call: dropping its NULL then changes
    nothing but this call."""
    i = flow.index[first.offset]
    if first.offset in flow.jump_sources:
        return None
    while i > 0:
        i -= 1
        ins = flow.instrs[i]
        depth = depths.get(ins.offset)
        if depth is None or ins.target is not None or not facts.falls_through(ins.op):
            return None
        if depth <= slot:
            if ins.name == "PUSH_NULL" and depth == slot:
                return ins
            if ins.name == "LOAD_GLOBAL" and ins.arg & 1:
                null_at = depth if facts.null_before_callable else depth + 1
                return ins if null_at == slot else None
            return None
        if ins.offset in flow.jump_sources:
            return None
    return None


def _return_of(flow: Flow, call: Instr) -> Instr | None:
    """The ``RETURN_VALUE`` that straight-line code from ``call`` reaches, if any."""
    ins = flow.instruction_at(call.end)
    for _ in range(500):
        if ins.name == "RETURN_VALUE":
            return ins
        if ins.name == "JUMP_FORWARD" and ins.target is not None:
            ins = flow.instruction_at(ins.target)
        elif ins.target is not None or not flow.facts.falls_through(ins.op):
            return None
        else:
            ins = flow.instrs[flow.index[ins.offset] + 1]
    return None


def _inside(inner: Position, outer: Position) -> bool:
    """Does source span ``inner`` lie within ``outer`` (the call within the ``return``
    statement)? Only lines are compared when columns are missing (``-X no_debug_ranges``)."""
    if None in (inner[0], inner[1], outer[0], outer[1]):
        return False
    if None in (inner[2], inner[3], outer[2], outer[3]):
        return outer[0] <= inner[0] and inner[1] <= outer[1]  # type: ignore[operator]
    return ((outer[0], outer[2]) <= (inner[0], inner[2])
            and (inner[1], inner[3]) <= (outer[1], outer[3]))


def _loads_own_name(code: types.CodeType, facts: Facts, flow: Flow, load: Instr) -> bool:
    """Does the callee that ``load`` (a NULL's push, see ``_null_load``) goes with name the
    function itself?"""
    if load.name == "PUSH_NULL":
        i = flow.index[load.offset] + (1 if facts.null_before_callable else -1)
        if not 0 <= i < len(flow.instrs):
            return True  # (cannot tell: say yes, and refuse)
        load = flow.instrs[i]
    if load.name not in ("LOAD_GLOBAL", "LOAD_DEREF"):
        return False
    return _own_name(code, facts, load)


def _own_name(code: types.CodeType, facts: Facts, ins: Instr) -> bool:
    """Does ``ins`` (``LOAD_GLOBAL`` or ``LOAD_DEREF``) load the function's own name?"""
    if ins.name == "LOAD_GLOBAL":
        return bool(code.co_names[ins.arg >> 1] == code.co_name)
    return bool(facts.local_name(code, ins.arg) == code.co_name)


#: Instructions that only pop (the container of ``LIST_APPEND`` and kin stays in place).
_PUSH_NOTHING = frozenset({"POP_TOP", "POP_ITER", "LIST_APPEND", "SET_ADD", "MAP_ADD",
                           "LIST_EXTEND", "SET_UPDATE", "DICT_UPDATE", "DICT_MERGE", "NOP",
                           "NOT_TAKEN", "KW_NAMES", "JUMP_FORWARD"})


class _Ages:
    """Which stack items were there before the call ("old": saved with the context) and
    which the context made ("new"), followed instruction by instruction.

    Old items are their stack slot numbers. A call in the context of a callee loaded
    before the recursive call (``g(x, f(...))``) has a NULL among the old items, which a
    tuple cannot hold: its slot goes to ``nulls`` (to be dropped where it is pushed) and the
    call to ``shortened`` (its replay takes one argument less).
    """

    def __init__(self, saved: int, facts: Facts) -> None:
        self.items: list[int | str] = [*range(saved), "result"]
        #: The call's result was popped unused: the call is a statement of its own.
        self.discarded = False
        self.facts = facts
        self.nulls: list[int] = []
        self.shortened: set[int] = set()
        self.precall: Instr | None = None
        #: An old item was popped unused (a loop iterator, by the compiler's clean-up).
        self.popped_old = False

    def step(self, ins: Instr) -> bool:
        """Follow ``ins``; False if it calls an old callee."""
        items = self.items
        if ins.name == "SWAP":
            items[-1], items[-ins.arg] = items[-ins.arg], items[-1]
            return True
        if ins.name == "COPY":
            items.append(items[-ins.arg])
            return True
        if ins.name == "PRECALL":  # 3.11: its CALL takes the callee and the arguments
            self.precall = ins
            return True
        if ins.name in ("POP_TOP", "POP_ITER") and items[-1] == "result":
            self.discarded = True
        elif ins.name in ("POP_TOP", "POP_ITER") and items[-1] != "new":
            self.popped_old = True
        effect = self.facts.stack_effect(ins.op, ins.arg, jump=False)
        if ins.name == "CALL" and self.facts.has_precall:
            effect = -ins.arg - 1
        pushed = 0 if ins.name in _PUSH_NOTHING else max(1, effect)
        popped = pushed - effect
        if (ins.name in _CALLS and (popped > len(items) or isinstance(items[-popped], int))
                and not self._drops_null(ins, items[-popped:])):
            return False
        del items[len(items) - popped:]
        items += ["new"] * pushed
        return True

    def _drops_null(self, call: Instr, consumed: list[int | str]) -> bool:
        """Can this call's NULL (over or under its old callee) be dropped? Only for
        ``CALL`` and ``CALL_KW`` with the callee and NULL both old, side by side."""
        if call.name not in ("CALL", "CALL_KW") or len(consumed) < 3:
            return False
        first, second = consumed[0], consumed[1]
        if not isinstance(first, int) or second != first + 1:
            return False
        self.nulls.append(first if self.facts.null_before_callable else first + 1)
        self.shortened.add(call.offset)
        if self.facts.has_precall and self.precall is not None:
            self.shortened.add(self.precall.offset)
        return True


def _source_text(code: types.CodeType, flow: Flow, positions: Sequence[Position],
                 call: Instr, replay: Sequence[Instr], ret: Instr) -> str | None:
    """``n * _ % m`` for ``return n * fact_mod(n - 1, m) % m``: the outermost expression of
    the context, from the source, with the call replaced by ``_``. None without source or
    when the expression spans several lines."""
    call_pos = positions[call.offset]
    statement = positions[ret.offset]
    widest: Position | None = None
    for ins in replay:
        pos = positions[ins.offset]
        if None in pos or pos[0] != pos[1] or pos == statement:
            continue  # (the loop clean-up before a return has the return's position)
        if widest is None or (pos[2] <= widest[2] and pos[3] >= widest[3]):  # type: ignore
            widest = pos
    if widest is None or None in call_pos or call_pos[0] != widest[0]:
        return None
    if any(ins.target is not None and _inside(positions[ins.offset], widest)
           for ins in flow.instrs):
        return None  # a branch within it (``a if c else f(n) + 1``): not all of it is saved
    line = linecache.getline(code.co_filename, widest[0]) if widest[0] else ""
    encoded = line.encode()
    start, end = widest[2], widest[3]
    cstart, cend = call_pos[2], call_pos[3]
    assert start is not None and end is not None and cstart is not None and cend is not None
    if not (start <= cstart and cend <= end) or end > len(encoded):
        return None
    try:
        return (encoded[start:cstart] + b"_" + encoded[cend:end]).decode()
    except UnicodeDecodeError:
        return None
