"""What the trampolines need at run time; nothing here knows about bytecode.

A bounce is something no user value can be: a tuple whose first item is a private
:class:`Marker` (``return_tuple``), or an instance of the private :class:`TailCall`
subclass of :class:`functools.partial` (``partial``, and every tail call from one optimized
function to another). A function that returns ``(1, None)`` or a ``functools.partial`` of its
own gets it back as its result.

An optimized function that others can bounce to carries a :class:`Target` in its
``__dict__``, under :data:`TARGET_KEY`; the rewritten tail calls ask :func:`bounce_maker`
for it when the call runs.
"""

from __future__ import annotations

import functools
import types
from typing import Any

#: Where an optimized function keeps its :class:`Target`.
TARGET_KEY = "__tail_call__"


class Marker:
    """First item of a ``return_tuple`` bounce ``(marker, *parameters)``; one per function."""

    __slots__ = ("impl",)

    def __init__(self, impl: Any) -> None:
        self.impl = impl

    def __repr__(self) -> str:
        return f"<pytailcall bounce to {self.impl.__qualname__}()>"


class TailCall(functools.partial):  # type: ignore[type-arg]
    """A ``partial`` bounce: a driver calls it; a user's own partials are results."""

    __slots__ = ()


class Target:
    """How to bounce into one optimized function instead of calling it.

    ``exact`` makes ``TailCall(implementation, *args)`` and serves calls that pass exactly
    the implementation's positional parameters; ``general`` binds any call through ``step``,
    a function with the public signature whose defaults follow the public function's.
    """

    __slots__ = ("exact", "exact_count", "general", "public", "step")

    def __init__(self, public: types.FunctionType, exact_count: int, exact: Any, general: Any,
                 step: types.FunctionType | None) -> None:
        self.public = public
        self.exact_count = exact_count
        self.exact = exact
        self.general = general
        self.step = step

    def maker(self, npositional: int) -> Any:
        if npositional == self.exact_count:
            return self.exact
        if self.step is not None:
            self.step.__defaults__ = self.public.__defaults__
            self.step.__kwdefaults__ = self.public.__kwdefaults__
        return self.general


def bounce_maker(callee: Any, npositional: int) -> Any:
    """A callable making the bounce for ``callee(*args)``, or None to call it normally.

    ``npositional`` is the number of positional arguments, or -1 when the call has keywords,
    star arguments or an implicit ``self``.
    """
    kind = type(callee)
    if kind is types.FunctionType:
        target = callee.__dict__.get(TARGET_KEY)
        if type(target) is Target and target.public is callee:
            return target.maker(npositional)
    elif kind is types.MethodType:
        func = callee.__func__
        if type(func) is types.FunctionType:
            target = func.__dict__.get(TARGET_KEY)
            if type(target) is Target and target.public is func:
                return types.MethodType(target.maker(-1), callee.__self__)
    return None
