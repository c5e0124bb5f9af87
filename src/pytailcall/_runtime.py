"""What optimized functions need at run time; nothing here knows about bytecode.

A bounce is something no user value can be: a tuple whose last item is a private
:class:`Marker` (``return_tuple``, and a tail call from one optimized function to another
that passes exactly the callee's positional parameters), or an instance of the private
:class:`TailCall` subclass of :class:`functools.partial` (``partial``, and the other tail
calls between optimized functions). A function that returns ``(1, None)`` or a
``functools.partial`` of its own gets it back as its result.

Every function pytailcall makes carries a :class:`Target` in its ``__dict__``, under
:data:`TARGET_KEY`: what it was made from, its report, and how to bounce into it. The
rewritten code checks for it inline (no Python code runs unless the callee really is an
optimized function), then reads from the target how to bounce (its ``marker``, for a tuple
bounce the code builds itself, or ``general``, which makes a ``TailCall``) or, where no
driver loop is running yet, a callable that runs the bounces to the end (``drive``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import types
import warnings
import weakref
from typing import Any

from pytailcall._errors import TailCallWarning, article

#: Where an optimized function keeps its :class:`Target`.
TARGET_KEY = "__tail_call__"


#: The note an exception gets, with ``PYTAILCALL_TRACEBACK_NOTE=1``, when it leaves a frame
#: that ran tail calls without frames of their own: ``{}`` is where, ``{{:,}}`` the count.
ELIDED_NOTE = "pytailcall: {}, tail calls elided (their frames are not shown): {{:,}}"


class _HandedOver(threading.local):
    """Per thread: calls that jumped in frames that then returned a bounce.  Natively
    those calls are frames still on the stack under the next bounce's, so the driver
    running the bounces counts them too: such a frame adds its count here as it bounces
    out (no code of ours runs: a slot of the rewritten code's), and each driver starts
    from 0 and puts back what it found.  ``count`` reads 0 in a thread that never set it."""

    count = 0


HANDED_OVER = _HandedOver()


def run_noting(result: Any) -> Any:
    """:func:`run`, counting for an exception to tell the calls that ran without frames:
    every bounce but the first (the call that started it) and the jumps handed over.  A
    separate copy, so that :func:`run` itself does no counting."""
    count = -1
    outer = HANDED_OVER.count
    HANDED_OVER.count = 0
    try:
        while True:
            kind = type(result)
            if kind is tuple and result:
                last = result[-1]
                if type(last) is not Marker:
                    return result
                count += 1
                result = last.impl(*result[:-1])
            elif kind is TailCall:
                count += 1
                result = result()
            else:
                return result
    except BaseException as exc:
        count = max(count, 0) + HANDED_OVER.count
        if count:
            # Not contextlib.suppress: tracers would see its Python code run.
            try:  # noqa: SIM105
                exc.add_note(_BETWEEN_NOTE.format(count))
            except Target.NOTE_FAILURE:  # __notes__ is not a list
                pass
        raise
    finally:
        HANDED_OVER.count = outer


_BETWEEN_NOTE = ELIDED_NOTE.format("between optimized functions")


#: How many frames a chain of tail calls between optimized functions stacks before it
#: bounces: an implementation calls the next one natively (one ``CALL``, the cost of a
#: native call) up to this depth, and the last one returns a bounce to the driver, which
#: unwinds them all. A bounce costs several native calls; one in this many is the trade
#: between speed and the frames (and stack) a chain holds at once.
NESTED_CALLS = 16


class Marker:
    """Last item of a tuple bounce ``(*parameters, marker)``; one per implementation.
    ``public`` is the optimized function whose calls it serves (set once it exists): call
    sites that bounced into it hold the marker weakly (see :data:`NOTHING_REMEMBERED`).
    ``nested`` (for a function that takes exactly positional parameters) is what a tail call
    from an implementation at level ``i`` (0: run by a driver) calls instead of returning a
    bounce: item ``i``, the implementation at level ``i + 1``, or at the last level the
    ``bound_maker``, which returns the bounce (see :data:`NESTED_CALLS`)."""

    __slots__ = ("__weakref__", "bound_maker", "impl", "nested", "public")

    def __init__(self, impl: Any) -> None:
        self.impl = impl
        self.public: Any = None
        self.bound_maker: Any = None  # (see Target)
        self.nested: tuple[Any, ...] | None = None

    def __repr__(self) -> str:
        return f"<pytailcall bounce to {self.impl.__qualname__}()>"


class TailCall(functools.partial):  # type: ignore[type-arg]
    """A ``partial`` bounce: a driver calls it; a user's own partials are results."""

    __slots__ = ()


def run(result: Any) -> Any:
    """Follow bounces until a result that is not one: the driver loop of every strategy.

    A bounce of one to three parameters is called with them spelled out: that call is a
    plain ``CALL``, which 3.11+ run in the same interpreter loop; ``f(*args)`` on 3.11 and
    3.12 enters a new one (5-9% of a bounce)."""
    while True:
        kind = type(result)
        if kind is tuple and result:
            last = result[-1]
            if type(last) is not Marker:
                return result
            size = len(result)
            if size == 2:
                result = last.impl(result[0])
            elif size == 3:
                result = last.impl(result[0], result[1])
            elif size == 4:
                result = last.impl(result[0], result[1], result[2])
            else:
                result = last.impl(*result[:-1])
        elif kind is TailCall:
            result = result()
        else:
            return result


class Remembered(weakref.ref):  # type: ignore[type-arg]
    """A call site's weak reference to the marker of its last bounce (the Target's
    ``weak_reference``). A copy of the function made by pickling it by value (as
    cloudpickle does, for Ray, Dask or joblib) starts with nothing remembered: a weak
    reference cannot be pickled, and a memory of bounces need not be."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _nothing_remembered, ()


def _nothing_remembered() -> Remembered:
    return NOTHING_REMEMBERED


#: What a call site that may bounce into another function holds before its first bounce:
#: a weak reference that returns None. Once a bounce found its callee optimized, the site
#: holds a weak reference to the marker it bounced with: the next call of the same function
#: (the marker's ``public``) bounces after one identity test, and the site keeps nothing
#: alive (a callee alive keeps its marker alive: its closure holds its Target).
NOTHING_REMEMBERED = Remembered(Marker(None))  # the marker is freed at once


#: What the rewritten code reads from every Target, set by ``Target.__init__`` (the values
#: are not constants of the code: ``marshal`` could not write them). Callees are tested by
#: exact type (``exact_type`` is ``type``, ``function_type``/``method_type``/``target_type``
#: the types); ``record_of`` (``getattr``) reads a function's record; ``weak_reference``
#: (:class:`Remembered`) makes what a call site remembers of a bounce (see
#: :data:`NOTHING_REMEMBERED`); ``as_tuple``
#: (``tuple``, which returns a tuple as it is) is the call that consumes the call site's
#: NULL as an inline tuple bounce is returned (see Rewriter._bounce_out_stub).
_HELPERS = ("exact_type", "record_of", "function_type", "method_type", "target_type",
            "as_tuple", "weak_reference")


class Target:
    """What pytailcall knows about one function it made, and how to bounce into it.

    ``marker`` ends the tuple bounce ``(*args, marker)`` of a call that passes exactly the
    implementation's ``exact_count`` positional parameters (the rewritten code builds it
    inline); ``bound_maker`` (for a function without ``*``/``**`` or keyword-only
    parameters) makes a ``TailCall`` of the implementation with the call's arguments as
    they are, in C, for a 3.13+ method call whose object may or may not be passed;
    ``general`` makes a bounce for any call (it
    is named like the function, so that errors of ``*``/``**`` arguments read as natively,
    and gives ``step``, the function with the public signature that binds, the public
    function's defaults once the call has consumed its arguments); ``drive`` runs such a
    call and every bounce after it. ``source`` is the function it was made from: a call to
    it runs the very same code, so the rewritten code treats it as a call to itself.
    ``binder`` and ``source_binder`` bind a call's arguments to the parameters, for calls to
    the public function and to ``source`` (the rewritten code first gives them the callee's
    defaults), and the star binders do the same for ``f(*iterable, **mapping)`` calls.
    ``report`` is what ``explain()`` returns. ``wrapper_checked`` becomes True once a call
    to itself found its name bound to something else.
    """

    __slots__ = ("binder", "bound_maker", "drive", "exact_count", "general", "marker",
                 "public", "report", "source", "source_binder", "source_star_binder",
                 "star_binder", "step", "wrapper_checked", *_HELPERS)

    #: What a failure to add the traceback note raises (``__notes__`` is not a list), and
    #: all it drops: anything else raised meanwhile (a signal handler's exception, a
    #: ``KeyboardInterrupt``) goes on in place of the exception that was leaving.
    NOTE_FAILURE = TypeError
    #: Where frames that bounce out hand over the count of their jumps.
    HANDED_OVER = HANDED_OVER

    def __init__(self, public: types.FunctionType, source: types.FunctionType) -> None:
        self.public = public
        self.source = source
        self.exact_count = -2
        self.marker: Marker | None = None
        self.bound_maker: Any = None
        self.step: types.FunctionType | None = None
        self.general: Any = None  # set by the builder, with drive
        self.drive: Any = None
        self.binder: types.FunctionType | None = None
        self.source_binder: types.FunctionType | None = None
        self.star_binder: types.FunctionType | None = None
        self.source_star_binder: types.FunctionType | None = None
        self.report: Any = None
        self.wrapper_checked = False
        # Instance slots, not class attributes: the interpreter specializes reading a slot.
        self.exact_type = type
        self.record_of = getattr
        self.function_type = types.FunctionType
        self.method_type = types.MethodType
        self.target_type = Target
        self.as_tuple = tuple
        self.weak_reference = Remembered

    def method_maker(self, callee: object) -> Any:
        """For a bound method of this optimized function: its bounce maker bound to the same
        object. The rewritten code found ``callee.__func__`` to be this function, but only
        this checks that ``callee`` is a bound method, not an object saying it is one
        (a proxy, which must be called itself): None then."""
        if type(callee) is not types.MethodType:
            return None
        return types.MethodType(self.general, callee.__self__)

    def method_driver(self, callee: object) -> Any:
        if type(callee) is not types.MethodType:
            return None
        return types.MethodType(self.drive, callee.__self__)

    def check_wrapper(self, callee: object) -> None:
        """Warn once if a call to itself found its name bound to a wrapper of this function:
        such calls go through the wrapper, as they must, so they are normal calls."""
        self.wrapper_checked = True
        inner: object = callee
        for _ in range(100):
            try:
                inner = getattr(inner, "__wrapped__", None)
            except Exception:  # a broken __getattr__ is not ours to report
                return
            if inner is None:
                return
            if inner is self.public or inner is self.source:
                break
        else:
            return
        code = self.source.__code__
        text = (f"pytailcall: {self.public.__qualname__}(): its name now refers to "
                f"{describe(callee)} that wraps the optimized function, so its calls to "
                "itself go through that wrapper, as they must, and are normal calls that "
                "grow the stack, not jumps.")
        # Under -W error the warning is raised: a note about speed must not fail the call.
        with contextlib.suppress(Warning):
            warnings.warn_explicit(TailCallWarning(text), TailCallWarning, code.co_filename,
                                   code.co_firstlineno,
                                   module=self.public.__module__ or code.co_filename)


def describe(obj: object) -> str:
    """``a functools._lru_cache_wrapper object``: names a value by its type only (no repr:
    that could run a user's code)."""
    kind = type(obj)
    name = kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")
    return f"{article(name)} {name} object"
