"""Random tail-recursive Python programs, as source text.

A program is the source of a module that defines ``f`` (and ``g``, which ``f`` calls and
which may call ``f`` back; sometimes a third function ``u`` and a class ``Obj`` with a
method ``m``) and ``CALLS``, the entry calls to make (and sometimes ``DEEP``, entry calls
that only optimized code can survive, see ``run.py``). It runs on top of :data:`PRELUDE`,
which provides the side-effect log and helpers, and with a global ``optimize``: the
identity for the native run, ``tail_optimize`` with some options for an optimized one. The
program applies ``optimize`` itself, where a decorator would go (``f = optimize(f)``,
inside a factory function when ``f`` is a closure, or ``fast = optimize(f)`` with the
entry calls going to ``fast`` while ``f``'s body still calls ``f``).

What kinds of program and which shapes are generated, and how often, is a :class:`Mix` of
weights: ``classic`` programs use every construct and put calls anywhere; ``tail`` and
``plain`` programs are biased towards optimizable tail calls (``plain`` ones have no
``try``/``with`` and optimize every function, so they can run ``DEEP``). See
docs/fuzzing.md for the figures.

Termination is by construction, without hiding the recursion: every function takes ``fuel``
first and returns at once when ``fuel <= 0``; every call to a generated function passes a
smaller ``fuel``. Calls at full fuel (``fuel - 1``) appear only in ``return`` statements, so
at most one runs per frame; every other call passes ``min(fuel - 1, 1)`` (``min(fuel - 1,
8)`` for the non-tail returns of ``plain`` programs). Loops run at most a handful of times.
Native depth is thus bounded by the entry ``fuel`` (at most :data:`MAX_FUEL`), and
:data:`PRELUDE`'s ``log`` raises ``Budget`` (a ``BaseException``, the same in both runs)
past a fixed number of entries, a safety net against slow programs.

Programs are built from a stream of integer choices (:class:`Choices`): from hypothesis
(:func:`programs`, which shrinks), from a seeded ``random.Random``
(:func:`program_from_seed`), or replayed from a recorded list (:func:`program_from_choices`,
which the minimizer in ``run.py`` uses: choices past the end are 0, the simplest option).
The same choices make the same program only under the same :class:`Mix`.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

T = TypeVar("T")

#: Largest entry ``fuel``: the native recursion depth stays a few hundred frames at most.
MAX_FUEL = 120

#: Entry ``fuel`` of ``DEEP`` calls: far more frames than the runner allows them.
DEEP_FUEL = 1000


@dataclass(frozen=True)
class Mix:
    """Relative weights of what is generated; 0 switches a kind or a shape off.

    The first three choose the kind of each program. The shape weights apply to ``tail``
    and ``plain`` programs (``classic`` ones are what the generator made before the mix
    existed): ``gen_loop``, ``del_param`` and ``except_param`` are statement weights (a
    plain assignment weighs 6), ``star_gen`` an argument-form weight (the ordinary form
    weighs 20), the others percentages of programs.
    """

    classic: int = 30  #: the original generator: every construct, calls anywhere
    tail: int = 45  #: biased towards optimizable tail calls, with all the shapes below
    plain: int = 25  #: ``tail`` without try/with, every function optimized: may run DEEP
    #: ``for`` over a generator or an iterator that logs its finalisation (finally, __del__)
    gen_loop: int = 3
    del_param: int = 2  #: ``del a`` of a parameter (passing it on must raise natively)
    except_param: int = 2  #: ``except E as a`` where ``a`` is a parameter (unbound after)
    star_gen: int = 3  #: arguments as ``f(*(x for x in (...)))``, defaults omitted
    slow_form: int = 20  #: % of programs: ``fast = optimize(f)``, entry calls go to fast
    method: int = 25  #: % of programs with ``class Obj`` and its method ``m``
    third: int = 30  #: % of programs with a third function ``u`` (mutual recursion of 3)
    deep: int = 80  #: % of plain programs that also define DEEP (optimized runs only)
    #: % of ``return`` statements written ``return (``, the expression on a line of its
    #: own, ``)``: a call's return on another line than the call (tracers see it)
    multi_return: int = 10

    def updated(self, changes: str | dict[str, int]) -> Mix:
        """A copy with ``changes``: a dict, or text ``"name=weight,..."``; the text may
        start with a named mix (``default`` or ``ci``), as in ``"ci,del_param=2"``."""
        base: Mix = self
        if isinstance(changes, str):
            parsed: dict[str, int] = {}
            for item in filter(None, (part.strip() for part in changes.split(","))):
                if "=" not in item:
                    if item not in MIXES:
                        raise ValueError(f"unknown mix {item!r}; known: {', '.join(MIXES)}")
                    base = MIXES[item]
                    continue
                name, _, value = item.partition("=")
                parsed[name.strip()] = int(value)
            changes = parsed
        known = {f.name for f in fields(Mix)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown mix weights {sorted(unknown)}; known: {sorted(known)}")
        mix = replace(base, **changes)
        if any(getattr(mix, f.name) < 0 for f in fields(Mix)):
            raise ValueError(f"negative weight in {mix}")
        if mix.classic + mix.tail + mix.plain <= 0:
            raise ValueError("the weights of classic, tail and plain add up to 0")
        return mix

    def __str__(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(Mix))


DEFAULT_MIX = Mix()

#: Shapes whose programs fail against the library as committed (160ab59 and 61ea6a1):
#: ``gen_loop`` (a loop's iterator is finalised before a tail call's jump or bounce instead
#: of after the call returns; tests/fuzz/found/iterator_finalised_*.py). They are switched
#: off in the seeded batch and the hypothesis examples CI runs (tests/test_fuzz.py) until
#: the library is fixed; there ``PYTEST_PYTAILCALL_FUZZ_MIX=default`` (or ``ci,gen_loop=3``)
#: switches them back on. Campaigns use :data:`DEFAULT_MIX`. Once fixed, empty this tuple.
#: (``slow_form`` was here too until 160ab59 fixed ``fast = tail_optimize(f)``.)
KNOWN_FAILING: tuple[str, ...] = ()
CI_MIX = replace(DEFAULT_MIX, **{name: 0 for name in KNOWN_FAILING})
MIXES = {"default": DEFAULT_MIX, "ci": CI_MIX}

#: Runs first in every program's namespace.
PRELUDE = '''\
LOG = []
LIMIT = 4000
class Budget(BaseException):
    pass
def log(*items):
    if len(LOG) >= LIMIT:
        raise Budget(len(LOG))
    LOG.append(items)
class E(Exception):
    pass
class CM:
    def __init__(self, tag, suppress=False):
        self.tag = tag
        self.suppress = suppress
    def __enter__(self):
        log('enter', self.tag)
        return self.tag
    def __exit__(self, t, v, tb):
        log('exit', self.tag, t.__name__ if t else None)
        return self.suppress and t is not None and issubclass(t, Exception)
K = 3
COUNTER = 0
STORE = []
def note(*items):
    if len(LOG) < LIMIT:
        LOG.append(items)
def gen(tag, n):
    try:
        for i in range(n):
            yield i
    finally:
        note('fin', tag)
class It:
    def __init__(self, tag, n):
        self.tag = tag
        self.n = n
        self.i = 0
    def __iter__(self):
        return self
    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.i - 1
    def __del__(self):
        note('del', self.tag, self.i)
'''


class Choices:
    """A stream of integer choices: replayed from ``prefix``, then random or 0."""

    def __init__(self, prefix: Sequence[int] = (), rng: random.Random | None = None) -> None:
        self.prefix = list(prefix)
        self.rng = rng
        self.record: list[int] = []

    def integer(self, lo: int, hi: int) -> int:
        span = hi - lo
        i = len(self.record)
        if i < len(self.prefix):
            value = self.prefix[i]
            if value > span:
                value %= span + 1
        elif self.rng is not None:
            value = self.rng.randint(0, span)
        else:
            value = 0
        self.record.append(value)
        return lo + value


class HypothesisChoices(Choices):
    def __init__(self, draw: Callable[..., int]) -> None:
        super().__init__()
        from hypothesis import strategies as st

        self._draw = draw
        self._st = st

    def integer(self, lo: int, hi: int) -> int:
        value: int = self._draw(self._st.integers(lo, hi))
        self.record.append(value - lo)
        return value


@dataclass
class Param:
    name: str
    kind: str  # "posonly", "pos", "kwonly", "varargs", "varkw"
    default: str | None = None


@dataclass
class Fn:
    name: str
    params: list[Param]
    nested: bool = False  # defined in a factory, calls itself through its closure
    uses_global: bool = False  # declares ``global COUNTER``
    shadows_k: bool = False  # assigns the global name K, which makes it a local
    method: bool = False  # ``m`` of ``class Obj``: called as ``self.m`` inside, ``OBJ.m`` out
    decorated: bool = True  # passed to optimize

    def param(self, kind: str) -> Param | None:
        return next((p for p in self.params if p.kind == kind), None)

    @property
    def int_params(self) -> list[str]:
        return [p.name for p in self.params if p.kind in ("posonly", "pos", "kwonly")]

    def signature(self) -> str:
        parts: list[str] = []
        posonly = [p for p in self.params if p.kind == "posonly"]
        for p in posonly:
            parts.append(p.name + (f"={p.default}" if p.default else ""))
        if posonly:
            parts.append("/")
        for p in self.params:
            if p.kind == "pos":
                parts.append(p.name + (f"={p.default}" if p.default else ""))
        var = self.param("varargs")
        kwonly = [p for p in self.params if p.kind == "kwonly"]
        if var:
            parts.append("*" + var.name)
        elif kwonly:
            parts.append("*")
        for p in kwonly:
            parts.append(p.name + (f"={p.default}" if p.default else ""))
        varkw = self.param("varkw")
        if varkw:
            parts.append("**" + varkw.name)
        return ", ".join(parts)


@dataclass
class Scope:
    """What the code being generated at one point may read."""

    defined: set[str] = field(default_factory=set)  # definitely bound locals
    maybe: set[str] = field(default_factory=set)  # possibly bound (read rarely)
    closures: list[str] = field(default_factory=list)  # one-argument local functions
    loops: int = 0
    nested: int = 0  # inside a lambda or comprehension: no walrus
    calls: bool = True  # may call f or g (not in the base case)

    def copy(self) -> Scope:
        return Scope(set(self.defined), set(self.maybe), list(self.closures), self.loops,
                     self.nested, self.calls)


class _Terminated(Exception):
    pass


class Builder:
    def __init__(self, choices: Choices, mix: Mix = DEFAULT_MIX) -> None:
        self.c = choices
        self.mix = mix
        #: "classic" (the original generator), "tail" or "plain" (see :class:`Mix`)
        self.profile = "classic"
        self.lines: list[str] = []
        self.counter = 0
        self.statements_left = 0
        self.fn: Fn = None  # type: ignore[assignment]
        self.others: list[Fn] = []  # functions the current one calls with bounded fuel
        self.full_others: list[Fn] = []  # ... and with full fuel, in return statements

    # -- choices ------------------------------------------------------------------------

    def int(self, lo: int, hi: int) -> int:
        return self.c.integer(lo, hi)

    def flag(self, percent: int) -> bool:
        """True with about ``percent``% probability; the choice 0 is False."""
        return self.c.integer(0, 99) >= 100 - percent

    def pick(self, options: Sequence[T]) -> T:
        return options[self.c.integer(0, len(options) - 1)]

    def weighted(self, options: Sequence[tuple[int, str]]) -> str:
        total = sum(w for w, _ in options)
        x = self.c.integer(0, total - 1)
        for w, name in options:
            if x < w:
                return name
            x -= w
        raise AssertionError

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    # -- signatures -----------------------------------------------------------------------

    def make_params(self, rich: bool) -> list[Param]:
        params = [Param("fuel", "posonly" if self.flag(15) else "pos")]
        names = iter(["a", "b", "c"])
        n_pos = self.int(0, 3 if rich else 1)
        defaulted = False
        for _ in range(n_pos):
            kind = "posonly" if params[-1].kind == "posonly" and self.flag(30) else "pos"
            has_default = defaulted or self.flag(40)
            defaulted = defaulted or has_default
            params.append(Param(next(names), kind, str(self.int(0, 5)) if has_default else None))
        if rich and self.flag(30):
            params.append(Param("args", "varargs"))
        if rich:
            for name in ("k", "m")[: self.int(0, 2)]:
                params.append(Param(name, "kwonly", str(self.int(0, 5)) if self.flag(70) else None))
        if rich and self.flag(25):
            params.append(Param("kw", "varkw"))
        return params

    def call_args(self, callee: Fn, fuel: str, scope: Scope, literal: bool = False) -> str:
        """Arguments for a call of ``callee`` that binds (almost always) without error."""

        def value() -> str:
            return str(self.int(-3, 9)) if literal else self.expr(scope, 1)

        if literal:
            form = "normal"
        elif self.profile == "classic":
            form = "nobind" if self.flag(3) else "star" if self.flag(10) else "normal"
        else:
            form = self.weighted([(20, "normal"), (1, "nobind"), (2, "star"),
                                  (self.mix.star_gen, "star_gen")])
        if form == "nobind":  # a call that does not bind: TypeError
            return f"{fuel}, zz={value()}"
        if form == "star_gen":
            return self.star_gen_args(callee, fuel, scope)
        if form == "star":  # everything through * and **
            pos = [fuel] + [value() for p in callee.params[1:] if p.kind in ("posonly", "pos")]
            kws = [f"{p.name!r}: {value()}" for p in callee.params if p.kind == "kwonly"
                   and (p.default is None or self.flag(50))]
            if callee.param("varargs") and self.flag(50):
                pos.append(value())
            if callee.param("varkw") and self.flag(50):
                kws.append(f"'z': {value()}")
            star = f"*({', '.join(pos)},)"
            return star + (f", **{{{', '.join(kws)}}}" if kws else "")
        positional: list[str] = []
        keywords: list[str] = []
        first = callee.params[0]
        if first.kind == "pos" and self.flag(15):
            keywords.append(f"fuel={fuel}")
        else:
            positional.append(fuel)
        all_positional = not keywords
        for p in callee.params[1:]:
            if p.kind in ("posonly", "pos"):
                how = self.weighted([(6, "pos"), (2, "kw"), (2 if p.default else 0, "omit")])
                if p.kind == "posonly":
                    if all_positional and (how != "omit" or p.default is None):
                        positional.append(value())
                    else:
                        all_positional = False  # omitted: it has a default, as all after it
                elif how == "pos" and all_positional:
                    positional.append(value())
                elif how == "omit":
                    all_positional = False
                else:
                    keywords.append(f"{p.name}={value()}")
                    all_positional = False
            elif p.kind == "varargs":
                if all_positional:
                    positional += [value() for _ in range(self.int(0, 2))]
            elif p.kind == "kwonly":
                if p.default is None or self.flag(50):
                    keywords.append(f"{p.name}={value()}")
            elif p.kind == "varkw" and self.flag(50):
                keywords.append(f"z={value()}")
        if keywords and self.flag(10):
            keywords = keywords[::-1]
        return ", ".join(positional + keywords)

    def star_gen_args(self, callee: Fn, fuel: str, scope: Scope) -> str:
        """``*(x for x in (fuel, ...))``: positional arguments from a generator expression,
        trailing defaulted parameters often omitted; keyword-only ones as keywords."""
        inner = scope.copy()
        inner.nested += 1  # no walrus in a comprehension's iterable
        pos = [fuel]
        omitting = False
        for p in callee.params[1:]:
            if p.kind in ("posonly", "pos"):
                if p.default is not None and (omitting or self.flag(40)):
                    omitting = True
                    continue
                pos.append(self.expr(inner, 1))
        if callee.param("varargs") and not omitting and self.flag(50):
            pos += [self.expr(inner, 1) for _ in range(self.int(1, 2))]
        keywords = [f"{p.name}={self.expr(scope, 1)}" for p in callee.params
                    if p.kind == "kwonly" and (p.default is None or self.flag(50))]
        if callee.param("varkw") and self.flag(40):
            keywords.append(f"z={self.expr(scope, 1)}")
        var = self.fresh("x")
        items = ", ".join(pos)
        style = self.int(0, 2)
        if style == 0:
            star = f"({var} for {var} in ({items},))"
        elif style == 1:
            star = f"({var} for {var} in [{items}])"
        else:  # the items are evaluated lazily, while the call consumes the generator
            star = f"(({items},)[{var}] for {var} in range({len(pos)}))"
        return ", ".join([f"*{star}", *keywords])

    def passthrough_args(self, scope: Scope) -> str:
        """Arguments of a self call passing the parameters on, mostly unchanged
        (``f(fuel - 1, a, *args, k=k, **kw)``): a deleted parameter must raise natively."""
        fn = self.fn
        positional = [self.pick(["fuel - 1", "fuel - 2"])]
        keywords: list[str] = []

        def value(name: str) -> str:
            return name if self.flag(75) else self.expr(scope, 1)

        for p in fn.params[1:]:
            if p.kind == "posonly":
                positional.append(value(p.name))
            elif p.kind == "pos":
                if keywords or self.flag(20):
                    keywords.append(f"{p.name}={value(p.name)}")
                else:
                    positional.append(value(p.name))
            elif p.kind == "varargs":
                if not keywords:
                    positional.append(f"*{p.name}")
            elif p.kind == "kwonly":
                keywords.append(f"{p.name}={value(p.name)}")
            else:
                keywords.append(f"**{p.name}")
        return ", ".join(positional + keywords)

    def ref(self, callee: Fn) -> str:
        """How the current function names ``callee`` in a call."""
        if callee.method:
            return "self.m" if callee is self.fn else "OBJ.m"
        return callee.name

    def other_callee(self, full: bool) -> Fn:
        options = self.full_others if full else self.others
        return options[0] if len(options) == 1 else self.pick(options)

    def call(self, callee: Fn, scope: Scope, full: bool, fuel: str | None = None) -> str:
        if fuel is None:
            fuel = self.pick(["fuel - 1", "fuel - 2"]) if full else "min(fuel - 1, 1)"
        return f"{self.ref(callee)}({self.call_args(callee, fuel, scope)})"

    # -- expressions ----------------------------------------------------------------------

    def readable(self, scope: Scope) -> list[str]:
        names = sorted(scope.defined)
        if not self.fn.shadows_k or "K" in scope.defined:
            names.append("K")
        return names

    def expr(self, scope: Scope, depth: int = 0) -> str:
        if depth >= 3:
            kind = self.weighted([(3, "lit"), (6, "var")])
        elif self.profile == "classic":
            kind = self.weighted([
                (3, "lit"), (7, "var"), (5, "bin"), (2, "ifexp"), (1, "boolop"), (1, "mul"),
                (1, "div"), (2, "call"), (1, "other"), (2, "closure"), (1, "store"),
                (1, "comp"), (1, "walrus"), (1, "star"), (1, "maybe"), (1, "counter"),
            ])
        else:  # the same, with a quarter of the (non-tail, bounded) calls
            kind = self.weighted([
                (6, "lit"), (14, "var"), (10, "bin"), (4, "ifexp"), (2, "boolop"), (2, "mul"),
                (2, "div"), (1, "call"), (1, "other"), (4, "closure"), (2, "store"),
                (2, "comp"), (2, "walrus"), (2, "star"), (2, "maybe"), (2, "counter"),
            ])
        if not scope.calls and kind in ("call", "other", "closure", "store"):
            kind = "lit"
        if kind == "lit":
            return str(self.int(0, 7))
        if kind == "var" or (kind == "maybe" and not scope.maybe):
            names = self.readable(scope)
            return self.pick(names)
        if kind == "maybe":
            return self.pick(sorted(scope.maybe))
        sub = depth + 1
        if kind == "bin":
            op = self.pick(["+", "-", "+", "^", "&", "|"])
            return f"({self.expr(scope, sub)} {op} {self.expr(scope, sub)})"
        if kind == "mul":
            return f"({self.expr(scope, sub)} * {self.expr(scope, sub)} % 101)"
        if kind == "div":
            safe = "+ 1" if self.flag(70) else ""
            return f"({self.expr(scope, sub)} // ({self.expr(scope, sub)} % 3 {safe}))"
        if kind == "ifexp":
            then, test, other = self.expr(scope, sub), self.cond(scope, sub), self.expr(scope, sub)
            return f"({then} if {test} else {other})"
        if kind == "boolop":
            op = self.pick(["and", "or"])
            return f"({self.expr(scope, sub)} {op} {self.expr(scope, sub)})"
        if kind == "call":
            return self.call(self.fn, scope, full=False)
        if kind == "other":
            return self.call(self.other_callee(full=False), scope, full=False)
        if kind == "closure":
            if scope.closures:
                return f"{self.pick(scope.closures)}({self.expr(scope, sub)})"
            return f"(lambda y: y + {self.expr(scope, sub)})({self.expr(scope, sub)})"
        if kind == "store":
            return f"(STORE[-1]({self.expr(scope, sub)}) if STORE else 0)"
        if kind == "comp":
            inner = scope.copy()
            inner.nested += 1
            var = self.fresh("x")
            inner.defined.add(var)
            outer = scope.copy()
            outer.nested += 1  # no walrus in a comprehension's iterable either
            bound = f"range({self.expr(outer, sub)} % 4)"
            body = self.expr(inner, sub)
            if self.flag(50):
                return f"sum([{body} for {var} in {bound}])"
            return f"sum({body} for {var} in {bound})"
        if kind == "walrus" and not scope.nested:
            var = self.pick(["v1", "v2", "v3"])
            value = self.expr(scope, sub)
            scope.maybe.add(var)
            return f"({var} := {value})"
        if kind == "star":
            p = self.fn.param("varargs")
            kw = self.fn.param("varkw")
            if p is not None:
                return self.pick([f"len({p.name})", f"sum({p.name})"])
            if kw is not None:
                return self.pick([f"len({kw.name})", f"{kw.name}.get('z', 0)"])
            return "fuel"
        if kind == "counter":
            return self.pick(["COUNTER", "len(STORE)", "(len(LOG) % 5)"])
        return "fuel"

    def cond(self, scope: Scope, depth: int = 0) -> str:
        kind = self.weighted([(5, "cmp"), (2, "mod"), (1, "not"), (1, "and"), (1, "in")])
        sub = depth + 1
        if kind == "cmp" or depth >= 2:
            op = self.pick(["<", "<=", "==", "!=", ">", ">="])
            return f"{self.expr(scope, sub)} {op} {self.expr(scope, sub)}"
        if kind == "mod":
            return f"{self.expr(scope, sub)} % {self.int(2, 4)} == {self.int(0, 1)}"
        if kind == "not":
            return f"not ({self.cond(scope, sub)})"
        if kind == "and":
            return f"({self.cond(scope, sub)} {self.pick(['and', 'or'])} {self.cond(scope, sub)})"
        return f"{self.expr(scope, sub)} in ({self.int(0, 3)}, {self.int(2, 6)})"

    # -- statements -----------------------------------------------------------------------

    @staticmethod
    def mutable(scope: Scope) -> list[str]:
        """Defined names a statement may change: not K, not while-loop counters."""
        return sorted(n for n in scope.defined
                      if n not in ("K", "fuel") and not n.startswith("w"))

    def assign_target(self, scope: Scope) -> str:
        if self.fn.shadows_k and self.flag(20):
            return "K"
        return self.pick(["v1", "v2", "v3", "v1"])

    def block(self, indent: int, scope: Scope, depth: int, count: int) -> Scope:
        """Emit ``count`` statements (at least ``pass``). Raises _Terminated if it returns."""
        start = len(self.lines)
        try:
            for _ in range(count):
                if self.statements_left <= 0:
                    break
                self.statements_left -= 1
                self.statement(indent, scope, depth)
        finally:
            if len(self.lines) == start:
                self.emit(indent, "pass")
        return scope

    def sub_block(self, indent: int, scope: Scope, depth: int) -> tuple[Scope | None, bool]:
        """A nested block on a copy of ``scope``: (its scope or None if it returned)."""
        inner = scope.copy()
        try:
            self.block(indent, inner, depth, self.int(1, 3))
        except _Terminated:
            return None, True
        return inner, False

    @staticmethod
    def join(before: Scope, branches: list[Scope | None], exhaustive: bool) -> None:
        """Update ``before`` in place to what is known after branching."""
        live = [b for b in branches if b is not None]
        maybe = set(before.maybe)
        for b in live:
            maybe |= b.maybe | b.defined
        if exhaustive and live:
            defined = set.intersection(*(b.defined for b in live))
        else:
            defined = set(before.defined)
        before.defined = defined
        before.maybe = maybe - defined

    def statement_options(self, scope: Scope, depth: int) -> list[tuple[int, str]]:
        if self.profile == "classic":
            options = [
                (6, "assign"), (2, "augassign"), (3, "log"), (2, "nontail"), (1, "del"),
                (2, "closure"), (1, "nonlocal"), (1, "inner"), (1, "store"), (1, "raise"),
                (1, "counter"), (3, "return"),
            ]
            if depth < 3:
                options += [(4, "if"), (3, "for"), (2, "while"), (2, "try"), (2, "with"),
                            (1, "match")]
            if scope.loops:
                options += [(2, "break"), (2, "continue")]
            return options
        # tail and plain: more returns (mostly tail calls), branches and loops; try and
        # with rarely (never in plain programs); the new shapes by the mix's weights.
        mix = self.mix
        options = [
            (6, "assign"), (2, "augassign"), (3, "log"), (1, "nontail"), (1, "del"),
            (1, "closure"), (1, "nonlocal"), (1, "inner"), (1, "store"), (1, "raise"),
            (1, "counter"), (5, "return"), (mix.del_param, "del_param"),
            (mix.except_param, "except_param"),
        ]
        if depth < 3:
            options += [(6, "if"), (4, "for"), (mix.gen_loop, "gen_loop"), (1, "while"),
                        (1, "match")]
            if self.profile == "tail":
                options += [(1, "try"), (1, "with")]
        if scope.loops:
            options += [(1, "break"), (1, "continue")]
        return options

    def tail_exit(self, indent: int, scope: Scope) -> None:
        """``if cond: return ...`` (a return, most often a tail call)."""
        self.emit(indent, f"if {self.cond(scope)}:")
        with contextlib.suppress(_Terminated):
            self.ret(indent + 1, scope.copy())

    def loop_body(self, indent: int, scope: Scope, inner: Scope, depth: int) -> None:
        """The body of a ``for`` loop (``inner`` has its variables), then maybe ``else``."""
        body, _ = self.sub_block(indent + 1, inner, depth + 1)
        if body is not None and self.profile != "classic" and self.flag(40):
            self.tail_exit(indent + 1, body)
        if self.flag(25 if self.profile == "classic" else 15):
            self.emit(indent, "else:")
            other, _ = self.sub_block(indent + 1, scope, depth + 1)
            if other is not None:
                scope.maybe |= other.defined
        if body is not None:
            scope.maybe |= (body.defined | body.maybe) - scope.defined

    def statement(self, indent: int, scope: Scope, depth: int) -> None:
        kind = self.weighted(self.statement_options(scope, depth))
        e = lambda: self.expr(scope)  # noqa: E731
        if kind == "assign":
            target = self.assign_target(scope)
            value = e()
            self.emit(indent, f"{target} = {value}")
            scope.defined.add(target)
            scope.maybe.discard(target)
        elif kind == "augassign" and self.mutable(scope):
            target = self.pick(self.mutable(scope))
            self.emit(indent, f"{target} {self.pick(['+=', '-=', '^='])} {e()}")
        elif kind == "log" or kind == "augassign":
            self.emit(indent, f"log({self.fresh('s')!r}, {e()})")
        elif kind == "nontail":
            callee = self.fn if self.flag(70) else self.other_callee(full=False)
            target = self.assign_target(scope)
            self.emit(indent, f"{target} = {self.call(callee, scope, full=False)}")
            scope.defined.add(target)
            scope.maybe.discard(target)
        elif kind == "del":
            names = [n for n in self.mutable(scope) if n not in self.fn.int_params]
            if names:
                name = self.pick(names)
                self.emit(indent, f"del {name}")
                scope.defined.discard(name)
            else:
                self.emit(indent, "pass")
        elif kind == "closure":
            name = self.fresh("h")
            inner = scope.copy()
            inner.nested += 1
            inner.defined.add("y")
            body = self.expr(inner, 1)
            if self.flag(50):
                self.emit(indent, f"{name} = lambda y: {body}")
            else:
                self.emit(indent, f"def {name}(y):")
                self.emit(indent + 1, f"return {body}")
            scope.closures.append(name)
        elif kind == "nonlocal":
            names = [n for n in self.mutable(scope) if n not in self.fn.int_params]
            if not names:
                self.emit(indent, "pass")
                return
            var = self.pick(names)
            name = self.fresh("h")
            self.emit(indent, f"def {name}(y):")
            self.emit(indent + 1, f"nonlocal {var}")
            self.emit(indent + 1, f"{var} = {var} + y")
            self.emit(indent + 1, f"return {var}")
            scope.closures.append(name)
        elif kind == "inner":
            name = self.fresh("loop")
            captured = self.expr(scope, 2)
            self.emit(indent, f"cap{name} = {captured}")
            self.emit(indent, f"def {name}(n, acc=0):")
            self.emit(indent + 1, "if n <= 0:")
            self.emit(indent + 2, "return acc")
            self.emit(indent + 1, f"return {name}(n - 1, acc + cap{name})")
            self.emit(indent, f"{name} = optimize({name})")
            target = self.assign_target(scope)
            self.emit(indent, f"{target} = {name}({self.int(0, 5)})")
            scope.defined.add(target)
            scope.maybe.discard(target)
        elif kind == "store":
            name = self.fresh("h")
            captured = self.pick(self.readable(scope))
            self.emit(indent, f"{name} = lambda y: y * 2 + {captured}")
            self.emit(indent, f"STORE.append({name})")
            self.emit(indent, "del STORE[:-3]")
        elif kind == "raise":
            self.emit(indent, f"if {self.cond(scope)}:")
            exc = self.pick(["E", "E", "ValueError", "KeyError"])
            self.emit(indent + 1, f"raise {exc}({e()})")
        elif kind == "counter":
            if self.fn.uses_global:
                self.emit(indent, f"COUNTER += {self.int(1, 3)}")
            else:
                self.emit(indent, "log('counter', COUNTER)")
        elif kind in ("break", "continue"):
            self.emit(indent, f"if {self.cond(scope)}:")
            self.emit(indent + 1, kind)
        elif kind == "return":
            self.ret(indent, scope)
        elif kind == "if":
            self.emit(indent, f"if {self.cond(scope)}:")
            branches = [self.sub_block(indent + 1, scope, depth + 1)[0]]
            for _ in range(self.int(0, 2)):
                self.emit(indent, f"elif {self.cond(scope)}:")
                branches.append(self.sub_block(indent + 1, scope, depth + 1)[0])
            has_else = self.flag(50)
            if has_else:
                self.emit(indent, "else:")
                branches.append(self.sub_block(indent + 1, scope, depth + 1)[0])
            if has_else and all(b is None for b in branches):
                raise _Terminated
            if not has_else:
                branches.append(scope.copy())
            self.join(scope, branches, exhaustive=True)
        elif kind == "for":
            var = self.fresh("i")
            sources = [(4, "range"), (1, "tuple"), (1, "args")]
            if self.profile != "classic":
                sources.append((2, "list"))
            source = self.weighted(sources)
            if source == "range":
                iterable = f"range({e()} % 4)"
            elif source == "list":
                iterable = f"[{', '.join(e() for _ in range(self.int(1, 3)))}]"
            elif source == "tuple" or self.fn.param("varargs") is None:
                iterable = f"({e()}, {e()})"
            else:
                iterable = self.fn.param("varargs").name  # type: ignore[union-attr]
            self.emit(indent, f"for {var} in {iterable}:")
            inner = scope.copy()
            inner.loops += 1
            inner.defined.add(var)
            self.loop_body(indent, scope, inner, depth)
        elif kind == "gen_loop":
            # The loop's iterator logs when it is finalised: natively when the frame drops
            # it (after a returned call returns, at a break, when the loop ends).
            var, other_var = self.fresh("i"), self.fresh("j")
            tag = f"({self.fresh('it')!r}, fuel)"
            count = f"{e()} % 4"
            how = self.weighted([(3, "gen"), (2, "It"), (1, "enumerate"), (1, "zip")])
            names = [var]
            if how == "gen":
                head = f"{var} in gen({tag}, {count})"
            elif how == "It":
                head = f"{var} in It({tag}, {count})"
            elif how == "enumerate":
                head = f"{other_var}, {var} in enumerate(gen({tag}, {count}))"
                names.append(other_var)
            else:
                head = (f"{var}, {other_var} in zip(It({tag}, {count}), "
                        f"gen(({self.fresh('it')!r}, fuel), {self.int(1, 3)}))")
                names.append(other_var)
            self.emit(indent, f"for {head}:")
            inner = scope.copy()
            inner.loops += 1
            inner.defined.update(names)
            self.loop_body(indent, scope, inner, depth)
        elif kind == "del_param":
            names = [n for n in self.fn.int_params if n != "fuel" and n in scope.defined]
            names += [p.name for p in self.fn.params
                      if p.kind in ("varargs", "varkw") and p.name not in scope.maybe]
            if not names:
                self.emit(indent, "pass")
                return
            name = self.pick(names)
            self.emit(indent, f"del {name}")
            scope.defined.discard(name)
            scope.maybe.add(name)
        elif kind == "except_param":
            names = [p.name for p in self.fn.params if p.name != "fuel"]
            if not names:
                self.emit(indent, "pass")
                return
            name = self.pick(names)
            raised, caught = self.pick([("E", "E"), ("E", "Exception"), ("ValueError",
                                                                         "ValueError")])
            self.emit(indent, "try:")
            self.emit(indent + 1, f"if {self.cond(scope)}:")
            self.emit(indent + 2, f"raise {raised}({e()})")
            self.emit(indent + 1, f"log({self.fresh('s')!r}, {e()})")
            self.emit(indent, f"except {caught} as {name}:")  # unbinds it when it ends
            self.emit(indent + 1, f"log('caught', type({name}).__name__, str({name}))")
            scope.defined.discard(name)
            scope.maybe.add(name)
        elif kind == "while":
            var = self.fresh("w")
            self.emit(indent, f"{var} = 0")
            scope.defined.add(var)
            self.emit(indent, f"while {var} < {self.int(1, 3)}:")
            self.emit(indent + 1, f"{var} += 1")
            inner = scope.copy()
            inner.loops += 1
            body, _ = self.sub_block(indent + 1, inner, depth + 1)
            if body is not None:
                scope.maybe |= (body.defined | body.maybe) - scope.defined
        elif kind == "try":
            self.emit(indent, "try:")
            body, _ = self.sub_block(indent + 1, scope, depth + 1)
            handlers = self.int(0 if True else 1, 2)
            branches: list[Scope | None] = []
            partial = scope.copy()
            if body is not None:
                partial.maybe |= body.defined | body.maybe
            for _ in range(handlers):
                exc = self.pick(["E", "Exception", "ZeroDivisionError", "(E, KeyError)",
                                 "UnboundLocalError", "TypeError", "ValueError"])
                var = self.fresh("ex")
                self.emit(indent, f"except {exc} as {var}:")
                self.emit(indent + 1, f"log('caught', type({var}).__name__, str({var}))")
                branches.append(self.sub_block(indent + 1, partial, depth + 1)[0])
            if handlers and self.flag(30):
                self.emit(indent, "else:")
                branches[0:0] = [self.sub_block(indent + 1, body or partial, depth + 1)[0]]
                if body is None:
                    branches[0] = None
            else:
                branches.append(body)
            if not handlers or self.flag(30):
                self.emit(indent, "finally:")
                fin, _ = self.sub_block(indent + 1, partial, depth + 1)
                if fin is None:
                    raise _Terminated
            if all(b is None for b in branches):
                raise _Terminated
            self.join(scope, branches, exhaustive=True)
        elif kind == "with":
            tag = self.fresh("w")
            suppress = ", True" if self.flag(30) else ""
            var = self.fresh("t")
            self.emit(indent, f"with CM({tag!r}{suppress}) as {var}:")
            self.emit(indent + 1, f"log('in', {var})")
            body, _ = self.sub_block(indent + 1, scope, depth + 1)
            if body is None and not suppress:
                raise _Terminated
            if body is not None:
                scope.maybe |= body.defined | body.maybe
                if not suppress:
                    self.join(scope, [body], exhaustive=True)
        elif kind == "match":
            self.emit(indent, f"match {e()}:")
            branches = []
            for pattern in ("0", "1 | 2")[: self.int(1, 2)]:
                self.emit(indent + 1, f"case {pattern}:")
                branches.append(self.sub_block(indent + 2, scope, depth + 1)[0])
            if self.flag(40):
                q = self.fresh("q")
                self.emit(indent + 1, f"case int({q}) if {q} > {self.int(2, 6)}:")
                inner = scope.copy()
                inner.defined.add(q)
                branches.append(self.sub_block(indent + 2, inner, depth + 1)[0])
            if self.flag(50):
                self.emit(indent + 1, "case _:")
                branches.append(self.sub_block(indent + 2, scope, depth + 1)[0])
                if all(b is None for b in branches):
                    raise _Terminated
            else:
                branches.append(scope.copy())
            self.join(scope, branches, exhaustive=True)
        else:
            self.emit(indent, "pass")

    def ret(self, indent: int, scope: Scope) -> None:
        """A return statement; always raises _Terminated (the block ends here)."""
        if self.profile == "classic":
            kind = self.weighted([
                (8, "tail"), (2, "tail_if"), (1, "tail_or"), (1, "tail_and"), (2, "nontail"),
                (2, "other"), (2, "value"), (1, "other_if"),
            ])
        else:
            has_others = 1 if self.full_others else 0
            kind = self.weighted([
                (10, "tail"), (4, "tail_if"), (1, "tail_or"), (1, "tail_and"), (3, "params"),
                (4, "nontail"), (4 * has_others, "other"), (1 * has_others, "other_if"),
                (3, "builtin"), (1, "value"),
            ])
        full = lambda: self.call(self.fn, scope, full=True)  # noqa: E731
        if kind == "tail":
            text = full()
        elif kind == "tail_if":
            if self.flag(50):
                text = f"{full()} if {self.cond(scope)} else {self.expr(scope)}"
            else:
                text = f"{self.expr(scope)} if {self.cond(scope)} else {full()}"
        elif kind == "tail_or":
            text = f"{self.expr(scope)} or {full()}"
        elif kind == "tail_and":
            text = f"{self.cond(scope)} and {full()}"
        elif kind == "params":
            text = f"{self.ref(self.fn)}({self.passthrough_args(scope)})"
        elif kind == "nontail":
            if self.profile == "plain":  # bounded: DEEP calls must not recurse natively
                call = self.call(self.fn, scope, full=True, fuel="min(fuel - 1, 8)")
            else:
                call = full()
            shapes = [f"{self.expr(scope)} + {call}", f"{call} % 1000", f"-{call}",
                      f"1 + {call}"]
            if self.profile != "classic":
                # Contexts the loop strategy saves (tail recursion modulo context), one
                # whose callee comes first (refused), and one that may divide by zero.
                shapes = [
                    *shapes,
                    f"({self.expr(scope)}, {call})[1]", f"{call} * {self.expr(scope)} % 997",
                    f"abs({call}) - {self.expr(scope)}", f"max({self.expr(scope)}, {call})",
                    f"{call} // ({self.expr(scope)} % 5)"]
            text = self.pick(shapes if self.profile != "classic" else shapes[:3])
        elif kind == "other":
            text = self.call(self.other_callee(full=True), scope, full=True)
        elif kind == "other_if":
            text = (f"{full()} if {self.cond(scope)} else "
                    f"{self.call(self.other_callee(full=True), scope, True)}")
        elif kind == "builtin":
            text = self.builtin_call(scope)
        else:
            text = self.expr(scope)
        if self.flag(self.mix.multi_return):
            self.emit(indent, "return (")
            self.emit(indent + 1, text)
            self.emit(indent, ")")
        else:
            self.emit(indent, f"return {text}")
        raise _Terminated

    def builtin_call(self, scope: Scope) -> str:
        """A tail call out of the generated functions: a builtin or a local closure."""
        e = lambda: self.expr(scope, 1)  # noqa: E731
        kind = self.weighted([(3, "int"), (3, "len"), (1, "str"), (1, "abs"), (1, "max"),
                              (2 if scope.closures else 0, "closure")])
        if kind == "int":
            return f"int({e()})"
        if kind == "len":
            options = ["list", "str", "range"]
            options += [p.name for p in self.fn.params if p.kind in ("varargs", "varkw")]
            what = self.pick(options)
            if what == "list":
                return f"len([{', '.join(e() for _ in range(self.int(0, 3)))}])"
            if what == "str":
                return f"len(str({e()}))"
            if what == "range":
                return f"len(range({e()} % 5))"
            return f"len({what})"
        if kind == "str":
            return f"str({e()})"
        if kind == "abs":
            return f"abs({e()})"
        if kind == "max":
            return f"max({e()}, {e()})"
        return f"{self.pick(scope.closures)}({e()})"

    # -- functions and the module ---------------------------------------------------------

    def function(self, fn: Fn, others: list[Fn], full_others: list[Fn], indent: int,
                 statements: int) -> None:
        self.fn, self.others, self.full_others = fn, others, full_others
        receiver = "self, " if fn.method else ""
        self.emit(indent, f"def {fn.name}({receiver}{fn.signature()}):")
        body = indent + 1
        if fn.uses_global:
            self.emit(body, "global COUNTER")
        logged = ", ".join(p.name for p in fn.params if p.kind != "varkw")
        varkw = fn.param("varkw")
        if varkw:
            logged += f", sorted({varkw.name}.items())"
        self.emit(body, f"log({fn.name!r}, {logged})")
        scope = Scope(defined=set(fn.int_params))
        for p in fn.params:
            if p.kind in ("varargs", "varkw"):
                scope.defined.discard(p.name)
        self.emit(body, "if fuel <= 0:")
        base = scope.copy()
        base.calls = False
        self.emit(body + 1, f"return {self.expr(base, 1)}")
        self.statements_left = statements
        try:
            self.block(body, scope, 0, statements)
            self.ret(body, scope)
        except _Terminated:
            pass

    def entry_calls(self, fn: Fn, name: str, fuels: Sequence[int]) -> str:
        calls = []
        self.fn = fn
        for fuel in fuels:
            calls.append(f"lambda: {name}({self.call_args(fn, str(fuel), Scope(), literal=True)})")
        return f"[{', '.join(calls)}]"


def build(choices: Choices, mix: Mix = DEFAULT_MIX) -> str:
    """The source of one program, from ``choices`` under ``mix``."""
    b = Builder(choices, mix)
    kind = b.weighted([(mix.classic, "classic"), (mix.tail, "tail"), (mix.plain, "plain")])
    if kind == "classic":
        return _build_classic(b)
    return _build_tail(b, kind)


def _build_classic(b: Builder) -> str:
    """The original generator's programs: f and g, calls anywhere, every construct."""
    f = Fn("f", b.make_params(rich=True))
    g = Fn("g", b.make_params(rich=b.flag(30)))
    f.nested = b.flag(20)
    f.uses_global = b.flag(15)
    f.shadows_k = b.flag(15)
    g.uses_global = b.flag(10)
    decorate_g = b.flag(50)
    big = b.flag(10)
    b.emit(0, "# fuzz program: classic")
    if f.nested:
        b.emit(0, "def make_f():")
        b.function(f, [g], [g], 1, b.int(1, 30 if big else 10))
        b.emit(1, "f = optimize(f)")
        b.emit(1, "return f")
        b.emit(0, "f = make_f()")
    else:
        b.function(f, [g], [g], 0, b.int(1, 30 if big else 10))
        b.emit(0, "f = optimize(f)")
    b.function(g, [f], [f], 0, b.int(0, 4))
    if decorate_g:
        b.emit(0, "g = optimize(g)")
    fuels = [b.int(0, 12) if b.flag(60) else b.int(0, MAX_FUEL) for _ in range(b.int(1, 3))]
    b.emit(0, f"CALLS = {b.entry_calls(f, 'f', fuels)}")
    return "\n".join(b.lines) + "\n"


def _build_tail(b: Builder, kind: str) -> str:
    """A program biased towards optimizable tail calls: f, g, maybe u and Obj.m."""
    mix = b.mix
    b.profile = kind
    plain = kind == "plain"
    f = Fn("f", b.make_params(rich=True))
    g = Fn("g", b.make_params(rich=b.flag(30)))
    fns = [f, g]
    if b.flag(mix.third):
        fns.append(Fn("u", b.make_params(rich=b.flag(30))))
    deep = plain and b.flag(mix.deep)
    if b.flag(mix.method):
        fns.append(Fn("m", b.make_params(rich=b.flag(30)), method=True))
    f.nested = b.flag(20)
    f.uses_global = b.flag(15)
    f.shadows_k = b.flag(15)
    g.uses_global = b.flag(10)
    slow = b.flag(mix.slow_form)
    for fn in fns[1:]:
        fn.decorated = plain or b.flag(85)
    big = b.flag(10)
    features = [name for name, on in (
        ("third", any(fn.name == "u" for fn in fns)), ("method", fns[-1].method),
        ("slow_form", slow), ("nested", f.nested), ("deep", deep)) if on]
    b.emit(0, f"# fuzz program: {kind}" + (f" ({', '.join(features)})" if features else ""))

    def others(fn: Fn) -> list[Fn]:
        return [x for x in fns if x is not fn]

    def full_others(fn: Fn) -> list[Fn]:
        # With fast = optimize(f), f itself stays a plain function: a DEEP call reaching it
        # from another function would recurse natively.
        return [x for x in others(fn) if not (plain and slow and x is f)]

    entry = "fast" if slow else "f"
    statements = b.int(1, 30 if big else 10)
    if f.nested:
        b.emit(0, "def make_f():")
        b.function(f, others(f), full_others(f), 1, statements)
        b.emit(1, f"{entry} = optimize(f)")
        b.emit(1, f"return {entry}")
        b.emit(0, f"{entry} = make_f()")
        if slow:
            b.emit(0, "f = fast")
    else:
        b.function(f, others(f), full_others(f), 0, statements)
        b.emit(0, f"{entry} = optimize(f)")
    for fn in fns[1:]:
        if fn.method:
            b.emit(0, "class Obj:")
            b.function(fn, others(fn), full_others(fn), 1, b.int(0, 4))
            if fn.decorated:
                b.emit(1, "m = optimize(m)")
            b.emit(0, "OBJ = Obj()")
        else:
            b.function(fn, others(fn), full_others(fn), 0, b.int(0, 4))
            if fn.decorated:
                b.emit(0, f"{fn.name} = optimize({fn.name})")
    fuels = [b.int(0, 12) if b.flag(60) else b.int(0, MAX_FUEL) for _ in range(b.int(1, 3))]
    b.emit(0, f"CALLS = {b.entry_calls(f, entry, fuels)}")
    if deep:
        b.emit(0, f"DEEP = {b.entry_calls(f, entry, [DEEP_FUEL])}")
    return "\n".join(b.lines) + "\n"


def program_from_choices(choices: Sequence[int], mix: Mix = DEFAULT_MIX) -> str:
    return build(Choices(choices), mix)


def program_from_seed(seed: int, mix: Mix = DEFAULT_MIX) -> tuple[str, list[int]]:
    """A program and the choices that make it (for :func:`program_from_choices`)."""
    choices = Choices(rng=random.Random(seed))
    source = build(choices, mix)
    return source, choices.record


def programs(mix: Mix = DEFAULT_MIX):  # type: ignore[no-untyped-def]
    """Hypothesis strategy of program sources."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):  # type: ignore[no-untyped-def]
        return build(HypothesisChoices(draw), mix)

    return strategy()
