"""Random tail-recursive Python programs, as source text.

A program is the source of a module that defines ``f`` (and ``g``, which ``f`` calls and
which may call ``f`` back) and ``CALLS``, the entry calls ``[(args, kwargs), ...]`` of ``f``
to make. It runs on top of :data:`PRELUDE`, which provides the side-effect log and helpers,
and with a global ``optimize``: the identity for the native run, ``tail_optimize`` with some
options for an optimized one. The program applies ``optimize`` itself, where a decorator
would go (``f = optimize(f)``, inside a factory function when ``f`` is a closure).

Termination is by construction, without hiding the recursion: every function takes ``fuel``
first and returns at once when ``fuel <= 0``; every call to ``f`` or ``g`` passes a smaller
``fuel``. Calls at full fuel (``fuel - 1``) appear only in ``return`` statements, so at most
one runs per frame; every other call passes ``min(fuel - 1, 1)``. Loops run at most a
handful of times. Native depth is thus bounded by the entry ``fuel`` (at most
:data:`MAX_FUEL`), and :data:`PRELUDE`'s ``log`` raises ``Budget`` (a ``BaseException``,
the same in both runs) past a fixed number of entries, a safety net against slow programs.

Programs are built from a stream of integer choices (:class:`Choices`): from hypothesis
(:func:`programs`, which shrinks), from a seeded ``random.Random``
(:func:`program_from_seed`), or replayed from a recorded list (:func:`program_from_choices`,
which the minimizer in ``run.py`` uses: choices past the end are 0, the simplest option).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Largest entry ``fuel``: the native recursion depth stays a few hundred frames at most.
MAX_FUEL = 120

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
    def __init__(self, choices: Choices) -> None:
        self.c = choices
        self.lines: list[str] = []
        self.counter = 0
        self.statements_left = 0
        self.fn: Fn = None  # type: ignore[assignment]
        self.other: Fn = None  # type: ignore[assignment]

    # -- choices ------------------------------------------------------------------------

    def int(self, lo: int, hi: int) -> int:
        return self.c.integer(lo, hi)

    def flag(self, percent: int) -> bool:
        """True with about ``percent``% probability; the choice 0 is False."""
        return self.c.integer(0, 99) >= 100 - percent

    def pick(self, options: Sequence[str]) -> str:
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

        if not literal and self.flag(3):  # a call that does not bind: TypeError
            return f"{fuel}, zz={value()}"
        if not literal and self.flag(10):  # everything through * and **
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

    def call(self, callee: Fn, scope: Scope, full: bool) -> str:
        fuel = self.pick(["fuel - 1", "fuel - 2"]) if full else "min(fuel - 1, 1)"
        return f"{callee.name}({self.call_args(callee, fuel, scope)})"

    # -- expressions ----------------------------------------------------------------------

    def readable(self, scope: Scope) -> list[str]:
        names = sorted(scope.defined)
        if not self.fn.shadows_k or "K" in scope.defined:
            names.append("K")
        return names

    def expr(self, scope: Scope, depth: int = 0) -> str:
        if depth >= 3:
            kind = self.weighted([(3, "lit"), (6, "var")])
        else:
            kind = self.weighted([
                (3, "lit"), (7, "var"), (5, "bin"), (2, "ifexp"), (1, "boolop"), (1, "mul"),
                (1, "div"), (2, "call"), (1, "other"), (2, "closure"), (1, "store"),
                (1, "comp"), (1, "walrus"), (1, "star"), (1, "maybe"), (1, "counter"),
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
            return self.call(self.other, scope, full=False)
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

    def statement(self, indent: int, scope: Scope, depth: int) -> None:
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
        kind = self.weighted(options)
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
            callee = self.fn if self.flag(70) else self.other
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
            source = self.weighted([(4, "range"), (1, "tuple"), (1, "args")])
            if source == "range":
                iterable = f"range({e()} % 4)"
            elif source == "tuple" or self.fn.param("varargs") is None:
                iterable = f"({e()}, {e()})"
            else:
                iterable = self.fn.param("varargs").name  # type: ignore[union-attr]
            self.emit(indent, f"for {var} in {iterable}:")
            inner = scope.copy()
            inner.loops += 1
            inner.defined.add(var)
            body, _ = self.sub_block(indent + 1, inner, depth + 1)
            if self.flag(25):
                self.emit(indent, "else:")
                other, _ = self.sub_block(indent + 1, scope, depth + 1)
                if other is not None:
                    scope.maybe |= other.defined
            if body is not None:
                scope.maybe |= (body.defined | body.maybe) - scope.defined
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
        kind = self.weighted([
            (8, "tail"), (2, "tail_if"), (1, "tail_or"), (1, "tail_and"), (2, "nontail"),
            (2, "other"), (2, "value"), (1, "other_if"),
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
        elif kind == "nontail":
            text = self.pick([f"{self.expr(scope)} + {full()}", f"{full()} % 1000",
                              f"-{full()}"])
        elif kind == "other":
            text = self.call(self.other, scope, full=True)
        elif kind == "other_if":
            text = f"{full()} if {self.cond(scope)} else {self.call(self.other, scope, True)}"
        else:
            text = self.expr(scope)
        self.emit(indent, f"return {text}")
        raise _Terminated

    # -- functions and the module ---------------------------------------------------------

    def function(self, fn: Fn, other: Fn, indent: int, statements: int) -> None:
        self.fn, self.other = fn, other
        self.emit(indent, f"def {fn.name}({fn.signature()}):")
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


def build(choices: Choices) -> str:
    """The source of one program, from ``choices``."""
    b = Builder(choices)
    f = Fn("f", b.make_params(rich=True))
    g = Fn("g", b.make_params(rich=b.flag(30)))
    f.nested = b.flag(20)
    f.uses_global = b.flag(15)
    f.shadows_k = b.flag(15)
    g.uses_global = b.flag(10)
    decorate_g = b.flag(50)
    big = b.flag(10)
    if f.nested:
        b.emit(0, "def make_f():")
        b.function(f, g, 1, b.int(1, 30 if big else 10))
        b.emit(1, "f = optimize(f)")
        b.emit(1, "return f")
        b.emit(0, "f = make_f()")
    else:
        b.function(f, g, 0, b.int(1, 30 if big else 10))
        b.emit(0, "f = optimize(f)")
    b.function(g, f, 0, b.int(0, 4))
    if decorate_g:
        b.emit(0, "g = optimize(g)")
    calls = []
    for _ in range(b.int(1, 3)):
        fuel = b.int(0, 12) if b.flag(60) else b.int(0, MAX_FUEL)
        b.fn = f
        text = b.call_args(f, str(fuel), Scope(), literal=True)
        calls.append(f"lambda: f({text})")
    b.emit(0, f"CALLS = [{', '.join(calls)}]")
    return "\n".join(b.lines) + "\n"


def program_from_choices(choices: Sequence[int]) -> str:
    return build(Choices(choices))


def program_from_seed(seed: int) -> tuple[str, list[int]]:
    """A program and the choices that make it (for :func:`program_from_choices`)."""
    choices = Choices(rng=random.Random(seed))
    source = build(choices)
    return source, choices.record


def programs():  # type: ignore[no-untyped-def]
    """Hypothesis strategy of program sources."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):  # type: ignore[no-untyped-def]
        return build(HypothesisChoices(draw))

    return strategy()
