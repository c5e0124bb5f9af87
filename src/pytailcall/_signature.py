"""A function's parameters: as source, for generated functions with the same signature, and
as the slots a call's arguments bind to, where plain stores can bind them."""

from __future__ import annotations

import types

CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08


def parameter_source(func: types.FunctionType) -> tuple[str, str]:
    """The parameter list of ``func`` as source (defaults as placeholders), and its names."""
    code = func.__code__
    names = code.co_varnames
    argcount, posonly, kwonly = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    ndefaults = len(func.__defaults__ or ())
    params = []
    for i in range(argcount):
        params.append(names[i] + ("=None" if i >= argcount - ndefaults else ""))
        if posonly and i == posonly - 1:
            params.append("/")
    slot = argcount + kwonly
    if code.co_flags & CO_VARARGS:
        params.append("*" + names[slot])
        slot += 1
    elif kwonly:
        params.append("*")
    params += [names[argcount + i] + "=None" for i in range(kwonly)]
    if code.co_flags & CO_VARKEYWORDS:
        params.append("**" + names[slot])
        slot += 1
    return ", ".join(params), ", ".join(names[:slot])


#: A stack value bound to ``*args`` rather than to a named parameter.
EXTRA = -1


def direct_targets(npositional: int, kwnames: tuple[str, ...],
                   code: types.CodeType) -> list[int] | None:
    """Parameter slot of each stack value, top first; None if a binder must decide."""
    argcount, kwonly = code.co_argcount, code.co_kwonlyargcount
    named = argcount + kwonly
    if npositional > argcount and not code.co_flags & CO_VARARGS:
        return None
    filled = set(range(min(npositional, argcount)))
    keyword_slots = []
    names = code.co_varnames
    for name in kwnames:
        slot = names.index(name) if name in names[:named] else -1
        if slot < code.co_posonlyargcount or slot in filled:
            return None
        filled.add(slot)
        keyword_slots.append(slot)
    if len(filled) != named:
        return None  # an omitted default, or a missing argument: the binder knows which
    extras = [EXTRA] * max(0, npositional - argcount)
    return keyword_slots[::-1] + extras + list(range(min(npositional, argcount)))[::-1]
