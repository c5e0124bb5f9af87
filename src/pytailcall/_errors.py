"""The exceptions and warnings pytailcall raises."""

from __future__ import annotations


class TailCallWarning(UserWarning):
    """A call of a function to itself that pytailcall left as a normal call.

    Issued at decoration time; the message names the function, the line and the reason.
    """


class TailCallError(Exception):
    """A tail call could not be optimized and ``strict=True`` was asked for, or the
    running interpreter's bytecode is not one pytailcall knows how to rewrite."""


def article(word: str) -> str:
    """``a`` or ``an``, as spoken before ``word`` (by its first letter, which is enough for
    the type and kind names pytailcall's messages use)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
