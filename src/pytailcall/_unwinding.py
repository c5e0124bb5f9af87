"""The code that keeps saved contexts (see ``_contexts``) and replays them at returns.

A function with such calls gets a list at the bottom of its stack (where the loop strategy
otherwise keeps loop iterators), made at the first call whose context is saved (until then
``None`` stands there: a call that saves nothing allocates nothing). At a call whose
context is saved, the stub appends one *record* to it: a tuple of the values the context
needs, laid out so that unpacking it at a return leaves the stack exactly as the
compiler's code had it after the call. Every return of the function checks the list:
while it holds records, the most recent is popped and its context replayed on the value
being returned, innermost first, as native returns would.

Record layout, first item first: the context's number (only when the function has several
contexts), ``None`` padding to a common length, the locals the context reads, then the
saved stack values ``v0, v1, ..., v[k-1]`` (bottom of the stack first). ``UNPACK_SEQUENCE``
pushes it back to front, so the number ends on top, the locals next (stored back into
their slots), and a few ``SWAP`` (one for up to two values) put the returned value over
``v0 ... v[k-1]``. In that order, when an exception leaves the frame with records pending,
a tuple freeing its items last first releases each level's values top of the stack first,
as native unwinding does (a generator among them finalised in the same order). A record of
one value is that value, without a tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytailcall._analysis import SelfCall
from pytailcall._bytecode.assemble import Item, Label, Op
from pytailcall._bytecode.code import NO_LINE, Instr, Position

if TYPE_CHECKING:
    from pytailcall._rewrite import Rewriter

#: ``BINARY_OP``'s argument for ``-``, the same on every version.
NB_SUBTRACT = 10

#: Borrowed loads replayed as owned ones: the replayed value may outlive the next store.
_OWNED = {"LOAD_FAST_BORROW": "LOAD_FAST",
          "LOAD_FAST_BORROW_LOAD_FAST_BORROW": "LOAD_FAST_LOAD_FAST"}


class Unwinder:
    """Saving and replaying the contexts of one function's sites."""

    def __init__(self, rewriter: Rewriter, sites: Sequence[SelfCall]) -> None:
        self.rewriter = rewriter
        self.invariant = _invariant_parameters(rewriter, sites)
        self.sites = [site for site in sites if site.context is not None]
        self.numbered = len(self.sites) > 1
        self.number = {id(site): i for i, site in enumerate(self.sites)}
        self.length = max((self._own_length(site) for site in self.sites), default=0)
        #: Where every return goes while records remain: pop one and replay its context.
        self.pop = Label()
        #: Records of one value are that value itself, with no tuple around it.
        self.single = self.length == 1

    def _own_length(self, site: SelfCall) -> int:
        context = site.context
        assert context is not None
        return int(self.numbered) + len(self.reads(site)) + context.saved

    def reads(self, site: SelfCall) -> list[int]:
        """The locals a context reads that need saving: not those no call changes."""
        context = site.context
        assert context is not None
        return [slot for slot in context.reads if slot not in self.invariant]

    # -- at the call ------------------------------------------------------------------------

    def parameters_read(self, site: SelfCall) -> list[int]:
        """The parameters the context reads: binding the arguments overwrites them, so
        their values are taken before (the other locals stay as they are until the jump)."""
        context = site.context
        assert context is not None
        return [slot for slot in self.reads(site) if slot < self.rewriter.analysis.nparams]

    def capture(self, site: SelfCall, above: int) -> list[Op]:
        """Before binding: push the parameters the context reads under the callee (which
        has ``above`` items over it), where binding leaves them for :meth:`save`."""
        params = self.parameters_read(site)
        loads = [Op("LOAD_FAST", slot) for slot in params]
        now = ["callee", *[f"x{i}" for i in range(above)], *[f"p{i}" for i in range(len(params))]]
        wanted = [*[f"p{i}" for i in range(len(params))], "callee",
                  *[f"x{i}" for i in range(above)]]
        return [*loads, *_shuffle(now, wanted)]

    def save(self, site: SelfCall) -> list[Item]:
        """Over ``[list, v0 ... v[k-1], parameters read, stand-in]``, append the record and
        leave ``[list]``."""
        context = site.context
        assert context is not None
        rewriter = self.rewriter
        k = context.saved
        params = self.parameters_read(site)
        others = [slot for slot in self.reads(site) if slot not in params]
        ops: list[Item] = [Op("POP_TOP")]
        pushed: list[Op] = []
        if self.numbered:
            pushed.append(Op("LOAD_CONST", rewriter.consts.index(self.number[id(site)])))
        pads = self.length - self._own_length(site)
        pushed += [Op("LOAD_CONST", rewriter.consts.index(None))] * pads
        pushed += [Op("LOAD_FAST", slot) for slot in others]
        ops += pushed
        # Stack items, bottom to top, by name: values "v0".., parameters "L<slot>", then the
        # number and padding "a0".. and the other locals "L<slot>".
        extra = len(pushed) - len(others)
        now = ([f"v{i}" for i in range(k)] + [f"L{slot}" for slot in params]
               + [f"a{i}" for i in range(extra)] + [f"L{slot}" for slot in others])
        wanted = ([f"a{i}" for i in range(extra)] + [f"L{slot}" for slot in self.reads(site)]
                  + [f"v{i}" for i in range(k)])
        ops += _shuffle(now, wanted)
        if not self.single:
            ops.append(Op("BUILD_TUPLE", len(wanted)))
        # [list or None, record]: the first record makes the list.
        made = Label()
        return [
            *ops,
            Op("COPY", 2),
            *rewriter.branch(rewriter.facts.pop_jump_if_not_none, made),
            Op("BUILD_LIST", 0),
            Op("SWAP", 3),
            Op("POP_TOP"),
            made,
            Op("LIST_APPEND", 1),
        ]

    # -- at a return ------------------------------------------------------------------------

    def returning(self, position: Position | None) -> list[Item]:
        """Return the value on top, or, while records remain, replay the next one first:
        all at ``position``, the ``return``'s, whose line natively shows as each frame
        returns (a ``return (`` of a line of its own), once (a return after a test on no
        line would start that line again)."""
        rewriter = self.rewriter
        done = Label()
        ops: list[Item] = [
            Op("COPY", 2),
            *rewriter.truth(),
            *rewriter.branch(rewriter.facts.pop_jump_if_false, done),
            Op("JUMP_BACKWARD_NO_INTERRUPT", target=self.pop),
            done,
            Op("RETURN_VALUE"),
        ]
        for op in ops:
            if isinstance(op, Op):
                op.position = position
        return ops

    def replays(self, positions: Sequence[Position]) -> list[Item]:
        """Pop a record, put its values back, replay its context, return (or go on)."""
        rewriter = self.rewriter
        labels = [Label() for _ in self.sites]
        items: list[Item] = [self.pop]
        if rewriter.counts_jumps:
            # [count, list, value]: this level returns now, so it no longer counts as a
            # call without a frame (see Rewriter._note_handler).
            items += [Op("SWAP", 3), Op("LOAD_CONST", rewriter.consts.index(1)),
                      Op("BINARY_OP", NB_SUBTRACT), Op("SWAP", 3)]
        items += [Op("COPY", 2), *rewriter.call_method("pop", [])]
        if not self.single:
            items.append(Op("UNPACK_SEQUENCE", self.length))
        if self.numbered:  # the first context's code comes first: no test for it
            for i, label in enumerate(labels[1:], 1):
                items += [Op("COPY", 1), Op("LOAD_CONST", rewriter.consts.index(i)),
                          Op("IS_OP", 0), *rewriter.branch(rewriter.facts.pop_jump_if_true,
                                                           label)]
        for site, label in zip(self.sites, labels, strict=True):
            context = site.context
            assert context is not None
            pads = self.length - self._own_length(site)
            items.append(label)
            items += [Op("POP_TOP")] * (int(self.numbered) + pads)
            items += [Op("STORE_FAST", slot) for slot in self.reads(site)]
            k = context.saved
            items += _shuffle(["result", *[f"v{i}" for i in reversed(range(k))]],
                              [*[f"v{i}" for i in range(k)], "result"])
            items += self.replayed(site, positions)
            items += self.returning(positions[site.exit_path[-1].offset])
        for item in items:
            if isinstance(item, Op) and item.position is None:
                item.position = NO_LINE
        return items

    @staticmethod
    def replayed(site: SelfCall, positions: Sequence[Position]) -> list[Op]:
        """The context's own instructions, with their source positions (for tracebacks)."""
        context = site.context
        assert context is not None
        return [_replay(ins, positions) for ins in context.replay]


def _invariant_parameters(rewriter: Rewriter, sites: Sequence[SelfCall]) -> frozenset[int]:
    """Parameters that keep their value for the whole frame: nothing in the function
    assigns or deletes them, and every call that jumps passes them on unchanged
    (``m`` in ``return n * f(n - 1, m) % m``). A context reads them as they are.

    None where code the function calls can write its locals (``frame.f_locals``, 3.13+):
    a write at one level would reach every level's replay, where natively each level
    has its own (found by review; a trace function's writes, before 3.13, are a known
    difference)."""
    if rewriter.facts.callees_can_write_locals:
        return frozenset()
    analysis = rewriter.analysis
    touched = {slot for ins in analysis.flow.instrs
               for kind, slot in rewriter.facts.local_accesses(ins.name, ins.arg)
               if kind != "read"}
    kept = set(range(analysis.nparams)) - touched - set(analysis.cell_slots)
    for site in sites:
        if site.callee != "self":
            continue
        binding = rewriter.binding(site)
        if binding.stores is None:
            return frozenset()
        kept &= set(binding.reload)
    return frozenset(kept)


def _replay(ins: Instr, positions: Sequence[Position]) -> Op:
    return Op(_OWNED.get(ins.name, ins.name), ins.arg, position=positions[ins.offset])


def _shuffle(now: list[str], wanted: list[str]) -> list[Op]:
    """``SWAP`` instructions that turn the top of the stack from ``now`` into ``wanted``
    (both bottom to top, the same items). ``SWAP i`` exchanges the top with the i-th item."""
    stack = list(now)
    n = len(stack)
    ops: list[Op] = []

    def swap(depth: int) -> None:
        stack[-1], stack[-depth] = stack[-depth], stack[-1]
        ops.append(Op("SWAP", depth))

    for place in range(n - 1):  # fill from the bottom; the top is right at the end
        if stack[place] == wanted[place]:
            continue
        where = stack.index(wanted[place])
        if where != n - 1:
            swap(n - where)  # bring it to the top
        swap(n - place)  # and down to its place
    assert stack == wanted
    return ops
