"""The workload for ``iterativerecursion`` (``from iterativerecursion import
IterativeRecursionEngine, FunctionReturn``): functions registered on an engine return
``FunctionReturn(returned_values={param: value}, next_function_to_call="name")`` to
tail-call a registered function by name, and ``FunctionReturn({RESULT: value})`` to stop;
the engine keeps the values in its environment, where the caller reads the result.  The
names the checks call start the engine (a fresh environment per call)."""

from __future__ import annotations

from typing import Any

from iterativerecursion import FunctionReturn, IterativeRecursionEngine

NOT_EXPRESSIBLE = {
    "rebinding the name": "the tail call names a registered function by a string, not a variable",
}

RESULT = "returned"
_ENGINE = IterativeRecursionEngine()


def _start(name: str, engine: IterativeRecursionEngine = _ENGINE, **arguments: Any) -> Any:
    engine.environment_variables = {}
    final = engine.start_function_caller(name, arguments, {key: key for key in arguments})
    return final[RESULT]


def _done(value: Any) -> FunctionReturn:
    return FunctionReturn(returned_values={RESULT: value})


@_ENGINE.register
def _reverse_string(normal: str, reverse: str = "") -> FunctionReturn:
    try:
        return FunctionReturn(
            {"normal": normal[:-1], "reverse": reverse + normal[-1]}, "_reverse_string"
        )
    except IndexError:
        return _done(reverse)


@_ENGINE.register
def _gcd(a: int, b: int) -> FunctionReturn:
    remainder = a % b
    if remainder:
        return FunctionReturn({"a": b, "b": remainder}, "_gcd")
    return _done(b)


@_ENGINE.register
def _modulo(val: int, div: int) -> FunctionReturn:
    if val < div:
        return _done(val)
    return FunctionReturn({"val": val - div, "div": div}, "_modulo")


@_ENGINE.register
def _string_merge(a: str, b: str, merge: str = "") -> FunctionReturn:
    if not a:
        return _done(merge + b)
    if not b:
        return _done(merge + a)
    if a[0] > b[0]:
        return FunctionReturn({"a": a, "b": b[1:], "merge": merge + b[0]}, "_string_merge")
    return FunctionReturn({"a": a[1:], "b": b, "merge": merge + a[0]}, "_string_merge")


@_ENGINE.register
def _to_binary(n: int, result: str = "") -> FunctionReturn:
    if n < 2:
        return _done(str(n) + result)
    return FunctionReturn({"n": n // 2, "result": str(n % 2) + result}, "_to_binary")


@_ENGINE.register
def _collatz(n: int, i: int = 0) -> FunctionReturn:
    if n == 1:
        return _done(i)
    if n % 2 == 0:
        return FunctionReturn({"n": n // 2, "i": i + 1}, "_collatz")
    return FunctionReturn({"n": 3 * n + 1, "i": i + 1}, "_collatz")


@_ENGINE.register
def _fib(i: int, current: int = 0, next: int = 1) -> FunctionReturn:
    if i == 0:
        return _done(current)
    return FunctionReturn({"i": i - 1, "current": next, "next": current + next}, "_fib")


@_ENGINE.register
def _closures(n: int, acc: tuple[Any, ...] = ()) -> FunctionReturn:
    if n == 0:
        return _done([f() for f in acc])
    return FunctionReturn({"n": n - 1, "acc": (*acc, lambda: n)}, "_closures")


@_ENGINE.register
def _omitted(n: int, tag: str = "default") -> FunctionReturn:
    if n == 0:
        return _done(tag)
    if n == 1:
        return FunctionReturn({"n": n - 1}, "_omitted")
    return FunctionReturn({"n": n - 1, "tag": "explicit"}, "_omitted")


@_ENGINE.register
def _try_finally(n: int, log: list[Any]) -> FunctionReturn:
    try:
        if n == 0:
            log.append("base")
            return _done(log)
        return FunctionReturn({"n": n - 1, "log": log}, "_try_finally")
    finally:
        log.append(n)


@_ENGINE.register
def _conditional(n: int, acc: int = 0) -> FunctionReturn:
    return _done(acc) if n == 0 else FunctionReturn({"n": n - 1, "acc": acc + 1}, "_conditional")


@_ENGINE.register
def _is_even(n: int) -> FunctionReturn:
    if n == 0:
        return _done(True)
    return FunctionReturn({"n": n - 1}, "_is_odd")


@_ENGINE.register
def _is_odd(n: int) -> FunctionReturn:
    if n == 0:
        return _done(False)
    return FunctionReturn({"n": n - 1}, "_is_even")


class Counter:
    def _count(self, n: int, acc: int = 0) -> FunctionReturn:
        if n == 0:
            return _done(acc)
        return FunctionReturn({"n": n - 1, "acc": acc + 1}, "_count")

    def count(self, n: int, acc: int = 0) -> Any:
        engine = IterativeRecursionEngine()  # registers this instance's bound method
        engine.add_function(self._count)
        return _start("_count", engine, n=n, acc=acc)


def reverse_string(normal: str, reverse: str = "") -> Any:
    return _start("_reverse_string", normal=normal, reverse=reverse)


def gcd(a: int, b: int) -> Any:
    return _start("_gcd", a=a, b=b)


def modulo(val: int, div: int) -> Any:
    return _start("_modulo", val=val, div=div)


def string_merge(a: str, b: str, merge: str = "") -> Any:
    return _start("_string_merge", a=a, b=b, merge=merge)


def to_binary(n: int, result: str = "") -> Any:
    return _start("_to_binary", n=n, result=result)


def collatz(n: int, i: int = 0) -> Any:
    return _start("_collatz", n=n, i=i)


def fib(i: int, current: int = 0, next: int = 1) -> Any:
    return _start("_fib", i=i, current=current, next=next)


def closures(n: int, acc: tuple[Any, ...] = ()) -> Any:
    return _start("_closures", n=n, acc=acc)


def omitted(n: int) -> Any:
    return _start("_omitted", n=n)


def try_finally(n: int, log: list[Any]) -> Any:
    return _start("_try_finally", n=n, log=log)


def conditional(n: int) -> Any:
    return _start("_conditional", n=n)


def is_even(n: int) -> Any:
    return _start("_is_even", n=n)


def is_odd(n: int) -> Any:
    return _start("_is_odd", n=n)
