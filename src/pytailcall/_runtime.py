"""What the trampolined strategies need at run time; nothing here knows about bytecode.

A bounce is something no user value can be: for ``return_tuple`` a tuple whose first item
is the private :data:`BOUNCE` marker, for ``partial`` an instance of the private
:class:`TailCall` subclass of :class:`functools.partial`. A function that returns
``(1, None)`` or a ``functools.partial`` of its own gets it back as its result.
"""

from __future__ import annotations

import functools
from typing import Any


class _Marker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<pytailcall bounce>"


#: First item of a ``return_tuple`` bounce: ``(BOUNCE, *parameters)``.
BOUNCE: Any = _Marker()


class TailCall(functools.partial):  # type: ignore[type-arg]
    """A ``partial`` bounce: the driver calls it; a user's own partials are results."""

    __slots__ = ()
