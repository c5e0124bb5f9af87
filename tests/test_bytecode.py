"""The byte-level layer against CPython's own view of the same code objects.

Decoding is checked against ``dis`` and the table codecs round-trip, on every code object of
a corpus of standard-library modules; then every function of that corpus is optimized, which
runs the rewriter's own verification of the code it makes (stack depths along every path,
jump targets on instruction boundaries) on thousands of real functions.
"""

from __future__ import annotations

import dis
import importlib
import inspect
import sys
import types
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytailcall import TailCallError, TailCallWarning, explain, tail_optimize
from pytailcall._bytecode import facts as facts_module
from pytailcall._bytecode.assemble import Label, Op, assemble
from pytailcall._bytecode.code import (
    Handler,
    build_exception_table,
    decode,
    decode_indexed,
    encode,
    last_computed_line,
    location_entries,
    parse_exception_table,
    truncated_location_table,
)
from pytailcall._bytecode.flow import FlowError, _deepest_in_code_order, _depths, max_stack_depth

CORPUS = ["json.decoder", "json.encoder", "textwrap", "ast", "dataclasses", "functools",
          "argparse", "difflib", "fractions", "tokenize", "string", "shlex", "calendar",
          "pprint", "heapq", "bisect", "colorsys", "ipaddress", "statistics", "configparser"]


def _functions() -> Iterator[types.FunctionType]:
    seen: set[int] = set()
    for name in CORPUS:
        module = importlib.import_module(name)
        for value in vars(module).values():
            candidates = [value]
            if isinstance(value, type) and value.__module__ == module.__name__:
                candidates = [inspect.unwrap(v) if not isinstance(v, (staticmethod, classmethod))
                              else v.__func__ for v in vars(value).values()]
            for candidate in candidates:
                if isinstance(candidate, types.FunctionType) and id(candidate) not in seen:
                    seen.add(id(candidate))
                    yield candidate


def _code_objects() -> Iterator[types.CodeType]:
    stack = [f.__code__ for f in _functions()]
    while stack:
        code = stack.pop()
        yield code
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))


FUNCTIONS = list(_functions())
CODES = list(_code_objects())


def test_corpus_is_large_enough_to_mean_something():
    assert len(FUNCTIONS) > 500
    assert len(CODES) > len(FUNCTIONS)


def test_decoding_agrees_with_dis_on_every_instruction():
    facts = facts_module.current()
    for code in CODES:
        ours = decode(code.co_code, facts)
        theirs = [i for i in dis.get_instructions(code)
                  if i.opname not in ("CACHE", "EXTENDED_ARG")]
        assert [(2 * i.offset, i.name) for i in ours] == [(i.offset, i.opname) for i in theirs], \
            code
        for mine, real in zip(ours, theirs, strict=True):
            assert mine.arg == (real.arg or 0), (code, real)
            if mine.target is not None:
                assert 2 * mine.target == real.argval, (code, real)


def test_exception_tables_round_trip():
    for code in CODES:
        assert build_exception_table(parse_exception_table(code.co_exceptiontable)) == \
            code.co_exceptiontable


def test_location_table_end_line_matches_co_lines():
    for code in CODES:
        lines = [line for _, _, line in code.co_lines() if line is not None]
        expected = lines[-1] if lines else code.co_firstlineno
        assert last_computed_line(code.co_linetable, code.co_firstlineno) == expected, code


def test_stack_depths_agree_with_the_compiler_on_every_function():
    """The pass that verifies every function we make finds the depth the compiler found
    (3.13+ reserve one slot in functions that push nothing)."""
    facts = facts_module.current()
    suspended = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
    checked = 0
    for code in CODES:
        if code.co_flags & suspended:  # refused by design; their prologue is special
            continue
        handlers = parse_exception_table(code.co_exceptiontable)
        deepest = max_stack_depth(code.co_code, handlers, facts)
        assert deepest == code.co_stacksize or (deepest, code.co_stacksize) == (0, 1), code
        checked += 1
    assert checked > 500


def test_the_one_walk_in_code_order_finds_what_the_general_pass_finds():
    """The verification's walk in code order settles every function the general pass
    accepts, with the same deepest stack, and leaves the others to it (here generators,
    whose prologue the general pass rejects: pytailcall refuses them anyway)."""
    facts = facts_module.current()
    settled = 0
    for code in CODES:
        handlers = parse_exception_table(code.co_exceptiontable)
        walked = _deepest_in_code_order(code.co_code, handlers, facts)
        try:
            general = _depths(*decode_indexed(code.co_code, facts), handlers, facts)[1]
        except FlowError:
            assert walked is None, code
            continue
        assert walked == general, code
        settled += 1
    assert settled > 500


def test_a_block_reached_only_by_a_backward_jump_goes_to_the_general_pass():
    """Code order cannot settle it (the walk passed the block before the jump to it): the
    general pass does, and finds the depth in it."""
    facts = facts_module.current()
    jump_back = facts.op("JUMP_BACKWARD")
    back_size = 1 + facts.caches[jump_back]
    # 0: JUMP_FORWARD to 3;  1: LOAD_CONST 0;  2: RETURN_VALUE;  3: JUMP_BACKWARD to 1
    raw = (encode(facts.op("JUMP_FORWARD"), 2, facts) + encode(facts.op("LOAD_CONST"), 0, facts)
           + encode(facts.op("RETURN_VALUE"), 0, facts)
           + encode(jump_back, 3 + back_size - 1, facts))
    assert _deepest_in_code_order(raw, [], facts) is None
    assert max_stack_depth(raw, [], facts) == 1


def _laid_out(*items: Op | Label) -> bytes:
    return assemble(items, 0, facts_module.current()).code


@pytest.mark.parametrize("shape", ["back_deeper", "jump_and_fall_differ", "two_jumps_differ",
                                   "two_handlers_differ", "into_a_cache"])
def test_the_verification_rejects_jumps_that_do_not_check(shape):
    """Each check of the one walk in code order: code it must not settle, in which the
    general pass then finds the error (a walk that missed one would return a depth)."""
    facts = facts_module.current()
    there = Label()
    handlers: list[Handler] = []
    match = "stack depth"
    if shape == "back_deeper":  # back to the start with one more item than it began with
        raw = _laid_out(there, Op("LOAD_CONST", 0), Op("JUMP_BACKWARD", target=there))
    elif shape == "jump_and_fall_differ":  # 2 items by the jump, 1 falling through
        raw = _laid_out(Op("LOAD_CONST", 0), Op("LOAD_CONST", 0), Op("LOAD_CONST", 0),
                        Op(facts.pop_jump_if_false, target=there), Op("POP_TOP"), there,
                        Op("RETURN_VALUE"))
    elif shape == "two_jumps_differ":  # 0 items by the first, 1 by the second
        raw = _laid_out(Op("LOAD_CONST", 0), Op(facts.pop_jump_if_false, target=there),
                        Op("LOAD_CONST", 0), Op("JUMP_FORWARD", target=there), there,
                        Op("LOAD_CONST", 0), Op("RETURN_VALUE"))
    elif shape == "two_handlers_differ":  # into unit 2 with 1 item and with 2
        raw = _laid_out(Op("LOAD_CONST", 0), Op("NOP"), Op("RETURN_VALUE"))
        handlers = [Handler(0, 1, 2, 0, False), Handler(1, 2, 2, 1, False)]
    else:  # a jump to the first inline cache of BINARY_OP, at unit 4
        raw = (encode(facts.op("JUMP_FORWARD"), 3, facts)
               + _laid_out(Op("LOAD_CONST", 0), Op("LOAD_CONST", 0), Op("BINARY_OP", 0),
                           Op("RETURN_VALUE")))
        match = "no instruction starts at code unit 4"
    assert _deepest_in_code_order(raw, handlers, facts) is None
    with pytest.raises(FlowError, match=match):
        max_stack_depth(raw, handlers, facts)


def test_an_opcode_without_a_stack_effect_is_left_to_the_general_pass():
    """The walk does not raise where the general pass would say something else first (here
    a handler that lands on no instruction, before the opcode that has no stack effect)."""
    facts = facts_module.current()

    def has_effect(op: int) -> bool:
        try:
            facts.stack_effect(op, 0, jump=False)
        except ValueError:
            return False
        return True

    unknown = next(op for op in range(1, 256)
                   if facts.decoding[op][0] == 1 and not has_effect(op))
    raw = bytes([unknown, 0, facts.op("NOP"), 0])
    handlers = [Handler(0, 1, 7, 0, False)]
    assert _deepest_in_code_order(raw, handlers, facts) is None
    with pytest.raises(FlowError, match="no instruction starts at code unit 7"):
        max_stack_depth(raw, handlers, facts)


def _in_try(n, acc=0):
    try:
        if n == 0:
            return acc
        return _in_try(n - 1, acc + 1)
    except KeyError:
        return -1


def _in_try_twice(items, acc=()):
    try:
        if not items:
            return acc
        if items[0] is None:
            return _in_try_twice(items[1:], acc)
        return _in_try_twice(items[1:], (*acc, items[0]))
    except (KeyError, IndexError):
        return None


@pytest.mark.parametrize("func", [_in_try, _in_try_twice])
def test_escape_try_code_is_settled_in_one_walk(func):
    """``escape_try``'s interrupt check is a ``JUMP_BACKWARD 0``, which lands on the next
    instruction: the walk takes it as the forward jump it is (found by review: such code
    went through both passes)."""
    optimized = tail_optimize(func, escape_try=True)
    assert explain(optimized).optimized
    code = optimized.__code__
    handlers = parse_exception_table(code.co_exceptiontable)
    walked = _deepest_in_code_order(code.co_code, handlers, facts_module.current())
    assert walked is not None
    assert walked == _depths(*decode_indexed(code.co_code, facts_module.current()),
                             handlers, facts_module.current())[1]


def test_stack_depth_verification_rejects_broken_code():
    def add(a, b):
        return a + b

    facts = facts_module.current()
    raw = add.__code__.co_code
    assert max_stack_depth(raw, [], facts) == add.__code__.co_stacksize
    # Loading one operand fewer underflows at the addition.
    first_load = next(ins for ins in decode(raw, facts) if ins.name.startswith("LOAD_FAST"))
    nop = encode(facts.op("NOP"), 0, facts, size=first_load.size)
    broken = raw[:2 * first_load.start] + nop + raw[2 * first_load.end:]
    with pytest.raises(FlowError, match="underflow"):
        max_stack_depth(broken, [], facts)
    # A handler that enters the first instruction at another depth than the function does.
    with pytest.raises(FlowError, match="stack depth"):
        max_stack_depth(raw, [Handler(0, 1, 0, 4, False)], facts)


def test_location_tables_cut_at_any_instruction_keep_the_positions_before_it():
    """Code cut where a trailing call was, for its stub to start there, keeps the source
    positions of everything before the cut, as CPython itself reads them."""
    facts = facts_module.current()
    cuts = 0
    for code in CODES[::3]:
        positions = list(code.co_positions())
        for ins in decode(code.co_code, facts):
            table, line = truncated_location_table(code.co_linetable, ins.start,
                                                   code.co_firstlineno)
            cut = code.replace(co_code=code.co_code[:2 * ins.start], co_linetable=table)
            assert list(cut.co_positions()) == positions[:ins.start], (code, ins)
            assert line == last_computed_line(table, code.co_firstlineno), (code, ins)
            cuts += 1
    assert cuts > 10_000
    with pytest.raises(ValueError, match="covers"):
        truncated_location_table(b"", 1, 1)


_LINES = st.integers(0, 5000)
_COLUMNS = st.none() | st.integers(0, 300)
_POSITIONS = st.none() | st.just((None, None, None, None)) | st.tuples(
    _LINES, st.integers(0, 100), _COLUMNS, _COLUMNS).map(
        lambda p: (p[0], p[0] + p[1], p[2], p[3]))


@given(st.lists(st.tuples(st.integers(1, 20), _POSITIONS), max_size=8), _LINES)
def test_location_entries_read_back_as_cpython_reads_them(runs, first_line):
    """The stubs' location entries (written by hand, without a call per varint) give each
    code unit its run's position, long runs, long lines and wide columns too."""
    table, last = location_entries(runs, first_line)
    units = sum(length for length, _ in runs)
    code = (lambda: None).__code__.replace(
        co_firstlineno=first_line, co_code=bytes((dis.opmap["NOP"], 0)) * units,
        co_linetable=table)
    expected = [(None, None, None, None) if position is None else position
                for length, position in runs for _ in range(length)]
    assert list(code.co_positions()) == expected
    lines = [p[0] for _, p in runs if p is not None and p[0] is not None]
    assert last == (lines[-1] if lines else first_line)


def _saves_contexts(optimized: types.FunctionType) -> bool:
    return any(site.optimized and "modulo context" in (site.via or "")
               for site in explain(optimized).sites)


def test_every_corpus_function_decorates_without_internal_error():
    made = 0
    for func in FUNCTIONS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TailCallWarning)
            try:
                optimized = tail_optimize(func)
            except TypeError:  # generators and coroutines are refused by design
                assert func.__code__.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE
                                                 | inspect.CO_ASYNC_GENERATOR)
                continue
        assert not [w for w in caught if "please report" in str(w.message)
                    or "too short for a jump" in str(w.message)], func
        assert optimized.__wrapped__ is func
        # The code made is settled in one walk (the general pass would double its cost),
        # but where saved contexts' replays come before the returns that jump back to them.
        code = optimized.__code__
        settled = _deepest_in_code_order(code.co_code, parse_exception_table(
            code.co_exceptiontable), facts_module.current())
        assert settled is not None or _saves_contexts(optimized), func
        made += 1
    assert made > 400


@pytest.mark.parametrize("implementation, version", [
    ("cpython", (3, 10)), ("cpython", (3, 16)), ("pypy", (3, 11)), ("graalpy", (3, 12))])
def test_unknown_interpreter_gets_a_clear_error(implementation, version):
    with pytest.raises(TailCallError, match=f"this is {implementation} {version[0]}.{version[1]}"):
        facts_module.check_interpreter(implementation, version)


def test_running_interpreter_is_supported():
    facts_module.check_interpreter(sys.implementation.name, sys.version_info[:2])
