"""A function's parameter list as source, for generated functions with the same signature."""

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
