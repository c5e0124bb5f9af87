"""Facts that follow control flow: stack depths and which locals may be read unbound.

Both are standard forward data-flow passes over the instructions, with exception handlers
as extra entry points (a handler starts at the depth its table entry records, plus the
saved offset when ``lasti`` is set, plus the exception).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

from pytailcall._bytecode.code import Fields, Handler, Instr, decode_indexed
from pytailcall._bytecode.facts import Facts


class FlowError(Exception):
    """The bytecode does not have the shape a CPython compiler produces."""


class Flow:
    """Instructions indexed by offset, with their successors."""

    def __init__(self, instrs: Sequence[Instr], handlers: Sequence[Handler], facts: Facts,
                 fields: Sequence[Fields], index_at: dict[int, int]) -> None:
        self.instrs = instrs
        #: The same instructions as plain tuples (:func:`decode_indexed`): the stack-depth
        #: pass unpacks every one, and a NamedTuple unpacks slowly.
        self.fields = fields
        self.handlers = handlers
        self.facts = facts
        # Jumps land on an instruction's first EXTENDED_ARG prefix, if it has one: both that
        # unit and the opcode's map to the instruction (``index`` by its offset, as callers
        # use it, is the same table; ``decode_indexed`` makes it with the fields).
        self.index_at = self.index = index_at
        self.at = {unit: instrs[i] for unit, i in self.index_at.items()}
        # Each instruction's, by index, made when first asked (often many times by a pass
        # over the graph; most instructions never are: no table for all of them).
        self._successors: dict[int, list[tuple[Instr, bool]]] = {}

    def instruction_at(self, unit: int) -> Instr:
        ins = self.at.get(unit)
        if ins is None:
            raise FlowError(f"no instruction starts at code unit {unit}")
        return ins

    def successors(self, ins: Instr) -> list[tuple[Instr, bool]]:
        """(next instruction, taken-as-jump) pairs along normal control flow."""
        i = self.index[ins.offset]
        found = self._successors.get(i)
        if found is None:
            found = [] if ins.target is None else [(self.instruction_at(ins.target), True)]
            if i + 1 < len(self.instrs) and ins.op not in self.facts.never_falls_through:
                found.append((self.instrs[i + 1], False))
            self._successors[i] = found
        return found

    def handler_entries(self) -> Iterator[tuple[Instr, int]]:
        for h in self.handlers:
            yield self.instruction_at(h.target), h.depth + int(h.lasti) + 1

    @cached_property
    def stack_depths(self) -> dict[int, int]:
        """Stack depth before each reachable instruction, by offset (computed once: the
        analysis and the rewriter both read it; do not modify it).

        Raises :class:`FlowError` where two paths disagree or the stack would underflow:
        the same checks CPython's compiler relies on, used here to verify our own output.
        """
        by_index, _ = _depths(self.fields, self.index_at, self.handlers, self.facts)
        return {ins.offset: d for ins, d in zip(self.instrs, by_index, strict=True)
                if d is not None}

    def predecessors(self, ins: Instr) -> Iterator[Instr]:
        """The instructions control can come from: the jumps that land on ``ins`` and the
        instruction before it, when that one falls through. (Asked of few instructions:
        no table for the whole function.)"""
        for source in self.jump_sources.get(ins.offset, ()):
            yield self.at[source]
        i = self.index[ins.offset]
        if i > 0:
            before = self.instrs[i - 1]
            if before.op not in self.facts.never_falls_through:
                yield before

    @cached_property
    def jump_sources(self) -> dict[int, list[int]]:
        """Offsets of the jumps that land on each instruction (by the instruction's offset)."""
        sources: dict[int, list[int]] = {}
        for ins in self.instrs:
            if ins.target is not None:
                sources.setdefault(self.instruction_at(ins.target).offset, []).append(ins.offset)
        return sources

    def maybe_unbound_reads(self, bound_at_entry: frozenset[int]) -> set[int]:
        """Local slots that some path from the entry may read, delete or clear while unbound.

        A must-analysis of "definitely bound" slots. Handlers start from ``bound_at_entry``
        only, which is conservative: it can only add slots to the answer.
        """
        risky: set[int] = set()
        state: dict[int, frozenset[int]] = {}
        work: list[tuple[Instr, frozenset[int]]] = [(self.instrs[0], bound_at_entry)]
        work += [(ins, bound_at_entry) for ins, _ in self.handler_entries()]
        while work:
            ins, bound = work.pop()
            seen = state.get(ins.offset)
            if seen is not None:
                if seen <= bound:
                    continue
                bound = seen & bound
            state[ins.offset] = bound
            for kind, slot in self.facts.local_accesses(ins.name, ins.arg):
                if kind == "write":
                    bound = bound | {slot}
                else:
                    if slot not in bound or kind == "clear":
                        risky.add(slot)
                    if kind == "clear":
                        bound = bound - {slot}
            for succ, _ in self.successors(ins):
                work.append((succ, bound))
        return risky


def max_stack_depth(raw: bytes, handlers: Sequence[Handler], facts: Facts, *,
                    in_code_order: bool = True) -> int:
    """The deepest stack ``raw`` reaches, with the checks of :attr:`Flow.stack_depths`.

    The verification of every rewritten function: without building a :class:`Flow` (its
    tables cost a fifth of a decoration's time there), and, unless the caller knows some
    code is reached only by jumping back to it (``in_code_order=False``), first in one walk
    that decodes and follows the stack at once (:func:`_deepest_in_code_order`); code that
    walk does not settle, broken code among it, goes through the general pass, which says
    why."""
    deepest = _deepest_in_code_order(raw, handlers, facts) if in_code_order else None
    if deepest is None:
        instrs, index_at = decode_indexed(raw, facts)
        deepest = _depths(instrs, index_at, handlers, facts)[1]
    return deepest


def _deepest_in_code_order(raw: bytes, handlers: Sequence[Handler], facts: Facts
                           ) -> int | None:
    """:func:`max_stack_depth` in one walk in code order, decoding as it goes; None where
    that order cannot settle it and the general pass must (which then also finds any error).

    An instruction's depth comes from the one before it, when that falls through, and from
    the forward jumps and handlers to it, all seen before it is (``JUMP_BACKWARD 0``, the
    interrupt check of ``escape_try``, lands on the next instruction: forward too); a
    backward jump only checks the depth its target had. The compiler lays code out so (and
    the stubs follow it): a block reached only by a backward jump would be reached after
    this walk passed it, and is left to the general pass, as is anything that does not
    check (a depth that differs, an underflow, a jump to no instruction, no such opcode).
    Every function pytailcall makes goes through here at each decoration: decoding it into
    tuples for the general pass, then walking them, cost twice as much (3.12)."""
    extended_op = facts.op("EXTENDED_ARG")
    decoding, moves = facts.decoding, facts.depth_moves
    ops, args = raw[::2], raw[1::2]
    units = len(ops)
    # Depth before each reached instruction, at its first unit and at its opcode's.
    seen: list[int | None] = [None] * units
    pending: dict[int, int] = {}  # by code unit: the depth forward jumps and handlers bring
    for h in handlers:
        entry = h.depth + int(h.lasti) + 1
        if pending.setdefault(h.target, entry) != entry:
            return None
    depth: int | None = 0
    deepest = i = start = ext = 0
    while i < units:
        op = ops[i]
        if op == extended_op:
            ext = (args[i] | ext) << 8
            i += 1
            continue
        arg, ext = args[i] | ext, 0
        size, _, direction = decoding[op]
        end = i + size
        if pending and (start in pending or i in pending):
            for unit in (start, i) if start != i else (start,):
                brought = pending.pop(unit, None)
                if brought is not None:
                    if depth is None:
                        depth = brought
                    elif brought != depth:
                        return None
        if depth is not None:
            seen[start] = seen[i] = depth
            if depth > deepest:
                deepest = depth
            try:
                falls, on_falling, on_jumping = moves[op, arg]
            except KeyError:
                try:
                    falls, on_falling, on_jumping = facts.depth_move(op, arg)
                except ValueError:  # no such opcode: the general pass says what it meets first
                    return None
            if direction:
                target, after = end + direction * arg, depth + on_jumping
                if after < 0:
                    return None
                if target >= end:  # forward, or back by nothing (an interrupt check)
                    if pending.setdefault(target, after) != after:
                        return None
                elif target < 0 or seen[target] != after:
                    return None
            depth += on_falling
            if depth < 0:
                return None
            if not falls:
                depth = None
        i = start = end
    return None if pending else deepest


def _depths(instrs: Sequence[Fields], index_at: dict[int, int], handlers: Sequence[Handler],
            facts: Facts) -> tuple[list[int | None], int]:
    """Stack depth before each instruction (None: unreachable), by index, and the deepest
    the stack gets; :class:`FlowError` where two paths disagree or the stack underflows.

    Runs of falling-through instructions are walked in a plain loop; only jump targets and
    handlers go on the work list (this pass verifies every function we make, so its speed is
    a good part of a decoration's)."""
    moves, count = facts.depth_moves, len(instrs)

    def index_of(unit: int) -> int:
        i = index_at.get(unit)
        if i is None:
            raise FlowError(f"no instruction starts at code unit {unit}")
        return i

    by_index: list[int | None] = [None] * count
    work = [(0, 0)] + [(index_of(h.target), h.depth + int(h.lasti) + 1) for h in handlers]
    deepest = 0
    while work:
        i, depth = work.pop()
        while True:
            seen = by_index[i]
            if seen is not None:
                if seen != depth:
                    _, offset, _, _, name, _, _ = instrs[i]
                    raise FlowError(f"stack depth {depth} != {seen} at {name} (unit {offset})")
                break
            by_index[i] = depth
            if depth > deepest:
                deepest = depth
            _, offset, _, op, name, arg, target = instrs[i]
            try:
                falls, on_falling, on_jumping = moves[op, arg]
            except KeyError:
                falls, on_falling, on_jumping = facts.depth_move(op, arg)
            if target is not None:
                after = depth + on_jumping
                if after < 0:
                    raise FlowError(f"stack underflow after {name} (unit {offset})")
                work.append((index_of(target), after))
            depth += on_falling  # checked even where nothing follows: a return pops too
            if depth < 0:
                raise FlowError(f"stack underflow after {name} (unit {offset})")
            if not falls or i + 1 == count:
                break
            i += 1
    return by_index, deepest
