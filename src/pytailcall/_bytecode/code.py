"""Decoding and encoding the raw parts of a code object.

All offsets here are in code units (two bytes), the unit of jump arguments and of the
exception table. Formats: ``Objects/locations.md`` and ``Objects/exception_handling_notes.txt``
in CPython.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import NamedTuple

from pytailcall._bytecode.facts import Facts


class Instr(NamedTuple):
    """One instruction, with its ``EXTENDED_ARG`` prefixes and inline caches."""

    start: int  #: first code unit, the first EXTENDED_ARG prefix if there is one
    offset: int  #: code unit of the opcode itself
    end: int  #: first code unit after the inline caches
    op: int
    name: str
    arg: int
    target: int | None  #: jump target, for relative jumps

    @property
    def size(self) -> int:
        return self.end - self.start


#: An instruction's fields in the order of :class:`Instr`, as a plain tuple.
Fields = tuple[int, int, int, int, str, int, int | None]


def decode(raw: bytes, facts: Facts) -> list[Instr]:
    """All instructions of ``raw`` (a ``co_code``), in order."""
    return instructions(decode_fields(raw, facts))


def instructions(fields: Iterable[Fields]) -> list[Instr]:
    """:class:`Instr` objects of the plain fields that :func:`decode_fields` gives."""
    # tuple.__new__ makes the same tuple as Instr(...), without its generated __new__'s frame.
    return list(map(tuple.__new__, repeat(Instr), fields))


def decode_fields(raw: bytes, facts: Facts) -> list[Fields]:
    """All instructions of ``raw`` as plain tuples, for a pass that reads nothing else.

    Making an :class:`Instr` (a tuple subclass) costs as much again as decoding it; the
    verification of every function pytailcall makes needs only the fields."""
    return decode_indexed(raw, facts)[0]


def decode_indexed(raw: bytes, facts: Facts) -> tuple[list[Fields], dict[int, int]]:
    """:func:`decode_fields`, and the index of the instruction a jump to each code unit
    lands on (its first ``EXTENDED_ARG`` prefix, or the opcode itself), made on the way:
    a table built apart from the fields cost more than the decoding (3.12)."""
    extended_op = facts.op("EXTENDED_ARG")
    decoding = facts.decoding
    instrs: list[Fields] = []
    append = instrs.append
    index_at: dict[int, int] = {}
    ops, args = raw[::2], raw[1::2]  # (read by unit: no offset arithmetic per instruction)
    units = len(ops)
    i = start = ext = n = 0
    while i < units:
        op, arg = ops[i], args[i] | ext
        if op == extended_op:
            ext = arg << 8
            i += 1
            continue
        size, name, direction = decoding[op]
        end = i + size
        append((start, i, end, op, name, arg, end + direction * arg if direction else None))
        index_at[start] = n
        if start != i:
            index_at[i] = n
        n += 1
        i = start = end
        ext = 0
    return instrs, index_at


def encode(op: int, arg: int, facts: Facts, *, size: int | None = None) -> bytes:
    """One instruction with its prefixes and zeroed caches.

    With ``size``, pad with leading ``EXTENDED_ARG 0`` to exactly that many code units, so an
    instruction can be replaced in place without moving any other.
    """
    if arg < 256 and size is None:  # the common case, without building prefixes
        return bytes((op, arg)) + b"\0\0" * facts.caches[op]
    prefixes: list[int] = []
    rest = arg >> 8
    while rest:
        prefixes.insert(0, rest & 0xFF)
        rest >>= 8
    natural = len(prefixes) + 1 + facts.caches[op]
    if size is not None:
        if size < natural:
            raise ValueError(f"{facts.name(op)} {arg} needs {natural} code units, has {size}")
        prefixes = [0] * (size - natural) + prefixes
    out = bytearray()
    for prefix in prefixes:
        out += bytes((facts.op("EXTENDED_ARG"), prefix))
    out += bytes((op, arg & 0xFF))
    out += b"\0\0" * facts.caches[op]
    return bytes(out)


def encoded_size(op: int, arg: int, facts: Facts) -> int:
    extra = 0
    while arg > 0xFF:
        arg >>= 8
        extra += 1
    return extra + 1 + facts.caches[op]


# -- exception table ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handler:
    """An exception-table entry: code units ``[start, end)`` go to ``target``."""

    start: int
    end: int
    target: int
    depth: int
    lasti: bool

    def covers(self, unit: int) -> bool:
        return self.start <= unit < self.end

    def moved(self, by: int, deeper: int = 0) -> Handler:
        """The same entry for code shifted by ``by`` units, over a stack ``deeper`` deeper."""
        return Handler(self.start + by, self.end + by, self.target + by, self.depth + deeper,
                       self.lasti)


def _read_exception_varint(data: Iterator[int]) -> int:
    byte = next(data)
    value = byte & 63
    while byte & 64:
        byte = next(data)
        value = (value << 6) | (byte & 63)
    return value


def parse_exception_table(table: bytes) -> list[Handler]:
    handlers = []
    data = iter(table)
    try:
        while True:
            start = _read_exception_varint(data)
            length = _read_exception_varint(data)
            target = _read_exception_varint(data)
            depth_lasti = _read_exception_varint(data)
            handlers.append(
                Handler(start, start + length, target, depth_lasti >> 1, bool(depth_lasti & 1))
            )
    except StopIteration:
        return handlers


def _write_exception_varint(value: int, first: bool) -> bytes:
    chunks = [value & 63]
    value >>= 6
    while value:
        chunks.insert(0, value & 63)
        value >>= 6
    out = bytearray(chunk | 64 for chunk in chunks[:-1])
    out.append(chunks[-1])
    if first:
        out[0] |= 128
    return bytes(out)


def build_exception_table(handlers: Iterable[Handler]) -> bytes:
    out = bytearray()
    for h in handlers:
        out += _write_exception_varint(h.start, True)
        out += _write_exception_varint(h.end - h.start, False)
        out += _write_exception_varint(h.target, False)
        out += _write_exception_varint((h.depth << 1) | int(h.lasti), False)
    return bytes(out)


# -- location table -------------------------------------------------------------------------

#: Location-table entry codes (``Objects/locations.md``).
_NO_COLUMNS = 13
_LONG = 14
_NONE = 15

Position = tuple[int | None, int | None, int | None, int | None]
#: The position of an instruction that belongs to no line.
NO_LINE: Position = (None, None, None, None)


def _varint_at(table: bytes, i: int) -> tuple[int, int]:
    """The varint starting at byte ``i``, and the byte after it."""
    byte = table[i]
    value, shift = byte & 63, 0
    while byte & 64:
        i += 1
        byte = table[i]
        shift += 6
        value |= (byte & 63) << shift
    return value, i + 1


def _entries(table: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Each entry of a location table as (first byte, byte after it, code units, line
    delta): the one walk over the format that the functions below share."""
    i = 0
    while i < len(table):
        header = table[i]
        code, units = (header >> 3) & 15, (header & 7) + 1
        end, delta = i + 1, 0
        if code in (_LONG, _NO_COLUMNS):  # a signed line delta, then (long form) 3 more
            raw, end = _varint_at(table, end)
            delta = -(raw >> 1) if raw & 1 else raw >> 1
            if code == _LONG:
                for _ in range(3):
                    _, end = _varint_at(table, end)
        elif code >= 10 and code != _NONE:  # one-line forms: the delta is in the code
            delta, end = code - 10, end + 2
        elif code != _NONE:  # short form: same line, one byte of columns
            end += 1
        yield i, end, units, delta
        i = end


def last_computed_line(table: bytes, first_line: int) -> int:
    """The line the location table's deltas have reached at its end.

    Entries appended after it are relative to this line.
    """
    return first_line + sum(delta for _, _, _, delta in _entries(table))


def truncated_location_table(table: bytes, units: int, first_line: int) -> tuple[bytes, int]:
    """The entries of ``table`` for its first ``units`` code units: an entry across the cut
    is shortened, the ones after it dropped (for code cut there and continued by stubs);
    and the line they reach from ``first_line`` (:func:`last_computed_line` of the cut
    table, found in the same walk). The entries before it are kept as one slice, not copied
    one by one: most functions ending in a tail call are cut so, at each decoration."""
    if units <= 0:
        return b"", first_line
    covered, line = 0, first_line
    for start, end, length, delta in _entries(table):
        line += delta
        if covered + length >= units:  # the last entry kept: the ones before stay as they are
            header = (table[start] & ~7) | (units - covered - 1)
            return table[:start] + bytes((header,)) + table[start + 1:end], line
        covered += length
    raise ValueError(f"the location table covers {covered} code units, not {units}")


def _write_varint(out: bytearray, value: int) -> None:
    while value >= 64:
        out.append(64 | (value & 63))
        value >>= 6
    out.append(value)


_LONG_HEADER = 128 | (_LONG << 3)
_NONE_HEADER = 128 | (_NONE << 3)


def location_entries(
    units: Iterable[tuple[int, Position | None]], line: int
) -> tuple[bytes, int]:
    """Encode runs of ``(length_in_units, position or None)``; return the table and last line.

    ``line`` is the line the table being extended has reached (:func:`last_computed_line`).
    An entry covers at most 8 units: the entries after a run's first differ from it only in
    their line delta (0), so they repeat its bytes. Every stub instruction passes through
    here at each decoration: values under 64 (nearly all) are written as the one byte they
    are, without a call.
    """
    out = bytearray()
    append = out.append
    for length, position in units:
        start_line = None if position is None else position[0]
        if position is None or start_line is None:
            while length > 8:
                append(_NONE_HEADER | 7)
                length -= 8
            if length > 0:
                append(_NONE_HEADER | (length - 1))
            continue
        _, end_line, col, end_col = position
        delta = start_line - line
        line = start_line
        if length <= 0:
            continue
        append(_LONG_HEADER | (length - 1 if length < 8 else 7))
        signed = (-delta << 1) | 1 if delta < 0 else delta << 1
        if signed < 64:
            append(signed)
        else:
            _write_varint(out, signed)
        rest = len(out)  # the end line and the columns, the same in every entry of the run
        value = 0 if end_line is None else end_line - start_line
        append(value) if value < 64 else _write_varint(out, value)
        value = 0 if col is None else col + 1
        append(value) if value < 64 else _write_varint(out, value)
        value = 0 if end_col is None else end_col + 1
        append(value) if value < 64 else _write_varint(out, value)
        length -= 8
        if length > 0:
            later = b"\0" + out[rest:]  # (a line delta of 0)
            while length > 0:
                append(_LONG_HEADER | (length - 1 if length < 8 else 7))
                out += later
                length -= 8
    return bytes(out), line
