"""Every fact about CPython bytecode that differs between the versions pytailcall supports.

Nothing else in pytailcall reads ``sys.version_info`` or the private tables of ``opcode``
and ``dis``, whose shapes change between releases. Facts are named by what they mean
("is NULL pushed before the callable"), not by version number, and an interpreter that is
not in :data:`SUPPORTED` gets a clear :class:`~pytailcall.TailCallError` instead of a guess.
"""

from __future__ import annotations

import dis
import opcode
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property

from pytailcall._errors import TailCallError

#: CPython versions whose bytecode the rewriter has been read against and tested on.
SUPPORTED: tuple[tuple[int, int], ...] = ((3, 11), (3, 12), (3, 13), (3, 14), (3, 15))

#: Instructions after which execution never falls through to the next one.
_NO_FALLTHROUGH = frozenset(
    {
        "JUMP_FORWARD",
        "JUMP_BACKWARD",
        "JUMP_BACKWARD_NO_INTERRUPT",
        "RETURN_VALUE",
        "RETURN_CONST",
        "RAISE_VARARGS",
        "RERAISE",
    }
)


@dataclass(frozen=True)
class Facts:
    """What the rewriter needs to know about the running interpreter's bytecode."""

    version: tuple[int, int]
    opmap: Mapping[str, int]
    opname: tuple[str, ...]
    #: Inline cache entries (code units) following each opcode.
    caches: tuple[int, ...]
    #: 3.11 and 3.12 lay out a call as ``NULL, callable, args``; 3.13+ as ``callable, NULL, args``.
    null_before_callable: bool
    #: 3.11 prefixes every call with ``PRECALL``.
    has_precall: bool
    #: 3.11 and 3.12 pass keyword names with a ``KW_NAMES`` instruction before the call;
    #: 3.13+ push them as a constant consumed by ``CALL_KW``.
    kw_names_instruction: bool
    #: 3.12+ encode "also push the method/self slot" in bit 0 of ``LOAD_ATTR``'s argument.
    load_attr_method_bit: bool
    #: Names of the forward "pop and jump if ..." instructions (3.11 spells them
    #: ``POP_JUMP_FORWARD_IF_...``).
    pop_jump_if_false: str
    pop_jump_if_true: str
    pop_jump_if_none: str
    pop_jump_if_not_none: str
    #: 3.13+ lay out a method call as ``callable, self_or_NULL``: the callable is never NULL.
    #: (The same order as ``callable, NULL`` for plain calls: ``not null_before_callable``.)
    #: Before, ``method_or_NULL, self_or_callable``: the first slot cannot be inspected.
    method_callable_first: bool
    #: 3.11-3.13 keep one object per ``for`` loop on the stack; 3.14+ may keep a virtual
    #: iterator (a sequence and an index) that only ``POP_ITER`` releases.
    loop_iterator_is_an_object: bool
    #: 3.13+ jump on exact booleans only: a condition is first converted with ``TO_BOOL``.
    conditions_need_bool: bool
    #: 3.14+ follow each conditional jump with ``NOT_TAKEN`` (a marker for branch monitoring).
    not_taken_after_branch: bool
    #: 3.14+ borrowed loads, each mapped to the load that takes its own reference. A borrowed
    #: value must not be on the stack when the local it was borrowed from is overwritten.
    owned_load_for: Mapping[int, int]
    #: 3.13+ store two locals (slots below 16) in one ``STORE_FAST_STORE_FAST``, as the
    #: compiler does for ``a, b = ...``.
    stores_fast_in_pairs: bool
    #: 3.13+ (PEP 667): ``frame.f_locals`` writes through to the frame's locals, so any
    #: code the function calls can change a caller's parameter (before, only a trace
    #: function's writes reached the frame it was called for).
    callees_can_write_locals: bool
    #: ``container[index]`` with both on the stack: ``BINARY_SUBSCR`` before 3.14, then a
    #: ``BINARY_OP`` (``NB_SUBSCR``).
    subscript: tuple[str, int]
    #: Opcodes that take an argument, and those that are relative jumps.
    has_arg: frozenset[int] = field(default_factory=frozenset)
    relative_jumps: frozenset[int] = field(default_factory=frozenset)

    def op(self, name: str) -> int:
        return self.opmap[name]

    def name(self, op: int) -> str:
        return self.opname[op]

    @cached_property
    def backward_jumps(self) -> frozenset[int]:
        """The relative jumps whose argument counts back from the end of the instruction."""
        return frozenset(op for op in self.relative_jumps if "BACKWARD" in self.opname[op])

    @cached_property
    def decoding(self) -> tuple[tuple[int, str, int], ...]:
        """(code units with the inline caches, name, jump direction: 1 forward, -1 backward,
        0 none) by opcode byte: what decoding asks of every instruction, in one look-up."""
        return tuple((1 + self.caches[op], self.opname[op], 0 if op not in self.relative_jumps
                      else -1 if op in self.backward_jumps else 1) for op in range(256))

    def falls_through(self, op: int) -> bool:
        return op not in self.never_falls_through

    @cached_property
    def never_falls_through(self) -> frozenset[int]:
        """The opcodes of :data:`_NO_FALLTHROUGH` (a set, for passes over every instruction)."""
        return frozenset(self.opmap[name] for name in _NO_FALLTHROUGH if name in self.opmap)

    def stack_effect(self, op: int, arg: int | None, *, jump: bool | None = None) -> int:
        return _stack_effect(op, arg if op in self.has_arg else None, jump)

    @cached_property
    def depth_moves(self) -> dict[tuple[int, int], tuple[bool, int, int]]:
        """(falls through, stack effect when it does, stack effect when it jumps) by
        (opcode, argument): what the stack-depth pass asks of every instruction, filled by
        :meth:`depth_move` on first use. A plain dict: the interpreter specializes look-ups
        in an exact dict, and this is read for every instruction of every function made."""
        return {}

    def depth_move(self, op: int, arg: int) -> tuple[bool, int, int]:
        """The entry of :attr:`depth_moves` for an instruction not seen yet."""
        moves = (self.falls_through(op), self.stack_effect(op, arg, jump=False),
                 self.stack_effect(op, arg, jump=True))
        self.depth_moves[op, arg] = moves
        return moves

    def load_attr_arg(self, name_index: int) -> int:
        return name_index << 1 if self.load_attr_method_bit else name_index

    def load_method(self, name_index: int) -> tuple[str, int]:
        """The instruction that loads a method for a call: 3.11's ``LOAD_METHOD``, later
        ``LOAD_ATTR`` with its low bit set. Either pushes two items for ``CALL``."""
        if self.load_attr_method_bit:
            return "LOAD_ATTR", name_index << 1 | 1
        return "LOAD_METHOD", name_index

    @staticmethod
    def local_name(code: types.CodeType, index: int) -> str:
        """Name of the fast-locals slot ``index`` (locals, then cells, then free variables)."""
        return code._varname_from_oparg(index)  # type: ignore[attr-defined,no-any-return]

    def local_accesses(self, name: str, arg: int) -> tuple[tuple[str, int], ...]:
        """The fast-local slots an instruction touches, in order, as ("read"|"write"|"clear", i).

        "clear" is a delete or a save-and-clear: afterwards the slot may be unbound.
        """
        kinds = _LOCAL_ACCESSES.get(name)
        if kinds is None:  # (most instructions: one look-up, as passes ask of every one)
            return ()
        if len(kinds) == 1:
            return ((kinds[0], arg),)
        return ((kinds[0], arg >> 4), (kinds[1], arg & 15))  # a pair: two slots below 16


#: What :meth:`Facts.local_accesses` reports for each instruction that touches fast locals.
_LOCAL_ACCESSES: dict[str, tuple[str, ...]] = {
    "LOAD_FAST": ("read",),
    "LOAD_FAST_CHECK": ("read",),
    "LOAD_FAST_BORROW": ("read",),
    "LOAD_FAST_LOAD_FAST": ("read", "read"),
    "LOAD_FAST_BORROW_LOAD_FAST_BORROW": ("read", "read"),
    "STORE_FAST": ("write",),
    "STORE_FAST_LOAD_FAST": ("write", "read"),
    "STORE_FAST_STORE_FAST": ("write", "write"),
    "DELETE_FAST": ("clear",),
    "LOAD_FAST_AND_CLEAR": ("clear",),
}


@cache
def _stack_effect(op: int, arg: int | None, jump: bool | None) -> int:
    return dis.stack_effect(op, arg, jump=jump)


def _cache_table() -> tuple[int, ...]:
    raw = opcode._inline_cache_entries  # type: ignore[attr-defined]
    if isinstance(raw, list):  # 3.11, 3.12: indexed by opcode number
        return tuple(raw) + (0,) * (256 - len(raw))
    table = [0] * 512  # 3.13+: keyed by name
    for name, count in raw.items():
        if name in opcode.opmap:
            table[opcode.opmap[name]] = count
    return tuple(table)


def _has_arg_set() -> frozenset[int]:
    if hasattr(opcode, "hasarg"):
        return frozenset(opcode.hasarg)
    return frozenset(op for op in range(256) if op >= opcode.HAVE_ARGUMENT)


def _forward_pop_jump(condition: str, opmap: Mapping[str, int]) -> str:
    name = f"POP_JUMP_IF_{condition}"
    return name if name in opmap else f"POP_JUMP_FORWARD_IF_{condition}"


def _subscript(opmap: Mapping[str, int]) -> tuple[str, int]:
    if "BINARY_SUBSCR" in opmap:
        return "BINARY_SUBSCR", 0
    operators = [name for name, _ in dis._nb_ops]  # type: ignore[attr-defined]
    return "BINARY_OP", operators.index("NB_SUBSCR")


def _build(version: tuple[int, int]) -> Facts:
    opmap = dict(opcode.opmap)
    borrows = {
        "LOAD_FAST_BORROW": "LOAD_FAST",
        "LOAD_FAST_BORROW_LOAD_FAST_BORROW": "LOAD_FAST_LOAD_FAST",
    }
    return Facts(
        version=version,
        opmap=opmap,
        opname=tuple(opcode.opname),
        caches=_cache_table(),
        null_before_callable=version < (3, 13),
        has_precall="PRECALL" in opmap,
        kw_names_instruction="KW_NAMES" in opmap,
        load_attr_method_bit=version >= (3, 12),
        pop_jump_if_false=_forward_pop_jump("FALSE", opmap),
        pop_jump_if_true=_forward_pop_jump("TRUE", opmap),
        pop_jump_if_none=_forward_pop_jump("NONE", opmap),
        pop_jump_if_not_none=_forward_pop_jump("NOT_NONE", opmap),
        method_callable_first=version >= (3, 13),
        conditions_need_bool="TO_BOOL" in opmap,
        not_taken_after_branch="NOT_TAKEN" in opmap,
        loop_iterator_is_an_object="POP_ITER" not in opmap,
        owned_load_for={opmap[b]: opmap[o] for b, o in borrows.items() if b in opmap},
        stores_fast_in_pairs="STORE_FAST_STORE_FAST" in opmap,
        callees_can_write_locals=version >= (3, 13),
        subscript=_subscript(opmap),
        has_arg=_has_arg_set(),
        relative_jumps=frozenset(dis.hasjrel),
    )


def check_interpreter(implementation: str, version: tuple[int, int]) -> None:
    """Raise :class:`TailCallError` unless pytailcall knows this interpreter's bytecode."""
    if implementation != "cpython" or version not in SUPPORTED:
        supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED)
        raise TailCallError(
            f"pytailcall rewrites CPython bytecode and knows CPython {supported}; this is "
            f"{implementation} {version[0]}.{version[1]}, whose bytecode it has not been "
            "checked against. Run the function undecorated, or use a supported CPython."
        )


@cache
def current() -> Facts:
    """Facts for the running interpreter; :class:`TailCallError` if it is not supported."""
    version = (sys.version_info.major, sys.version_info.minor)
    check_interpreter(sys.implementation.name, version)
    return _build(version)
