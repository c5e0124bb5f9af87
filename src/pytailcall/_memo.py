"""What decorating a code object again can reuse: its analysis, and the code made from it.

A nested ``def`` makes a new function from the same code object each time it runs, and the
import hook (``pytailcall run``, :func:`pytailcall.install`) optimizes every one of them as
it is made; it also explains each function before optimizing it. The analysis and the code
made depend on the code object and the options only (and on whether the function's
namespaces are plain dicts, which the caller puts in the key), never on the closure, the
defaults or the globals, so the rewriting is done once and every later function of that
code only gets its own function objects around the same code.

Keyed by the code object's identity, not by equality: two files' equal code objects are
two functions, with two file names. An entry holds its code object, so that its ``id`` is
not reused while the entry lives. Bounded: the least recently used entries are dropped.
"""

from __future__ import annotations

import threading
import types
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByCode(Generic[V]):
    """Values computed from a code object and a hashable key (the options), at most
    ``size`` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, Hashable], tuple[types.CodeType, V]] = (
            OrderedDict())
        # Reentrant: a finalizer or a signal handler that runs between two steps here (on
        # 3.12+ the collector runs finalizers where the interpreter checks for pending work)
        # may define a function under the import hook, which decorates it and comes back
        # here; a plain lock waited for itself there (found by review). Each step is one
        # operation of the OrderedDict, whole; an entry dropped meanwhile is no error, and
        # one being moved last is never missing (not a pop and a set: a step between the
        # two missed it, found by review).
        self._lock = threading.RLock()

    def get(self, code: types.CodeType, key: Hashable) -> V | None:
        at = (id(code), key)
        with self._lock:
            entry = self._entries.get(at)
            if entry is None:
                return None
            # (Not contextlib.suppress: three calls of its own at every decoration.)
            try:  # noqa: SIM105
                self._entries.move_to_end(at)
            except KeyError:
                pass
            return entry[1]

    def put(self, code: types.CodeType, key: Hashable, value: V) -> None:
        at = (id(code), key)
        with self._lock:
            self._entries[at] = (code, value)
            try:  # noqa: SIM105
                self._entries.move_to_end(at)
            except KeyError:
                pass
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
