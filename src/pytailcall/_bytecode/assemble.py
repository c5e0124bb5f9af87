"""Laying out new instructions after a function's own code.

The rewriter never moves the compiler's instructions: it patches some in place (same size)
and appends stubs after the last one (or, for a call sequence that ends the code, from where
that sequence starts), so every original offset, line-table entry and exception-table entry
before them stays as the compiler made it. Stub jumps point at labels or at
absolute offsets; offsets are settled here by a bounded loop, as sizes of ``EXTENDED_ARG``
prefixes depend on the distances they encode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from pytailcall._bytecode.code import Position, encode, encoded_size
from pytailcall._bytecode.facts import Facts


class Label:
    """A place in the stubs that jumps can name before its offset is known."""

    __slots__ = ()


@dataclass(slots=True)  # (stubs are made of many: slots make and read them faster)
class Op:
    name: str
    arg: int = 0
    #: Jump target: a Label in the stubs, or an absolute code-unit offset in the final code.
    target: Label | int | None = None
    #: Source position for tracebacks and tracing; None means "no line".
    position: Position | None = None


Item = Op | Label


@dataclass
class Assembled:
    code: bytes
    #: (code units, position) runs, for the location table.
    locations: list[tuple[int, Position | None]] = field(default_factory=list)
    labels: dict[Label, int] = field(default_factory=dict)


def assemble(items: Sequence[Item], base: int, facts: Facts) -> Assembled:
    """Encode ``items`` to start at code unit ``base``.

    Every stub instruction goes through here at each decoration, so the passes are few:
    one sorts Ops from Labels and finds each Op's opcode and size, offsets are running
    sums, jump arguments are settled in place (no call per jump), and one pass writes the
    opcodes and arguments into zeroed code (the caches stay zero) and gathers the location
    runs."""
    opmap, caches = facts.opmap, facts.caches
    ops: list[Op] = []
    codes: list[int] = []
    sizes: list[int] = []
    jumps: list[int] = []  # the indices of the Ops that jump
    labelled: list[tuple[Label, int]] = []  # each Label, and how many Ops come before it
    for item in items:
        if isinstance(item, Op):
            code = opmap[item.name]
            if item.target is not None:
                jumps.append(len(ops))
            ops.append(item)
            codes.append(code)
            sizes.append(1 + caches[code] if item.arg < 256
                         else encoded_size(code, item.arg, facts))
        else:
            labelled.append((item, len(ops)))
    backward = facts.backward_jumps
    for _ in range(10):
        starts = list(accumulate(sizes, initial=base))  # each Op's start, then the end
        labels = {label: starts[before] for label, before in labelled}
        changed = False
        for i in jumps:
            op, code, end = ops[i], codes[i], starts[i + 1]
            target = labels[op.target] if isinstance(op.target, Label) else op.target
            assert target is not None
            distance = end - target if code in backward else target - end
            if distance < 0:
                raise RuntimeError(f"{op.name} cannot reach unit {target} from {end}")
            op.arg = distance
            size = 1 + caches[code] if distance < 256 else encoded_size(code, distance, facts)
            if size != sizes[i]:
                sizes[i] = size
                changed = True
        if not changed:
            break
    else:  # pragma: no cover - sizes only grow, so this settles in a few rounds
        raise RuntimeError("stub layout did not settle")
    raw = bytearray(2 * (starts[-1] - base))
    locations: list[tuple[int, Position | None]] = []  # one run per equal positions
    position: Position | None = None
    run = 0  # code units in the run of ``position`` so far
    for code, op, start, size in zip(codes, ops, starts, sizes, strict=False):  # (+ the end)
        at, arg = 2 * (start - base), op.arg
        if arg < 256:
            raw[at] = code
            raw[at + 1] = arg
        else:
            raw[at:at + 2 * size] = encode(code, arg, facts)
        if op.position != position or not run:
            if run:
                locations.append((run, position))
            position, run = op.position, 0
        run += size
    if run:
        locations.append((run, position))
    return Assembled(bytes(raw), locations, labels)


def jump_in_place(name: str, start: int, size: int, target: int, facts: Facts) -> bytes:
    """A forward jump at ``start`` padded with NOPs to exactly ``size`` code units."""
    op = facts.op(name)
    for width in range(1, size + 1):
        arg = target - (start + width)
        if encoded_size(op, arg, facts) <= width:  # pad with EXTENDED_ARG 0 to the width
            nop = encode(facts.op("NOP"), 0, facts)
            return encode(op, arg, facts, size=width) + nop * (size - width)
    raise NoRoomForJump(f"no room for a jump to unit {target} in {size} code units")


class NoRoomForJump(RuntimeError):
    """A call sequence too short for a jump as far as its stub (the rewriter names the
    site it was patching in ``site``, so that only that call is left normal)."""

    site: object = None
    #: Every site found too short in the same layout, ``site`` first.
    sites: tuple[object, ...] = ()
    #: Why, when not the call's own shortness (a ``Reason`` text).
    reason: str | None = None
