"""The decorator and ``explain()``: validate input, analyse, rewrite, report."""

from __future__ import annotations

import functools
import inspect
import operator
import os
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, ParamSpec, TypeVar, cast, overload

from pytailcall import _portable, _runtime, _strategies
from pytailcall._analysis import Analysis, Reason, SelfCall, analyse
from pytailcall._bytecode import facts as _facts
from pytailcall._bytecode.assemble import NoRoomForJump
from pytailcall._bytecode.flow import FlowError
from pytailcall._errors import TailCallError, TailCallWarning, article
from pytailcall._memo import ByCode
from pytailcall._report import CallSite, TailCallReport
from pytailcall._rewrite import has_plain_namespaces

P = ParamSpec("P")
R = TypeVar("R")

Strategy = Literal["loop", "return_tuple", "partial"]


class _DefaultStrategy(str):
    """``"loop"`` when the caller did not name a strategy: on an interpreter whose bytecode
    pytailcall does not know, only then may it fall back to the portable trampoline."""

    __slots__ = ()


_DEFAULT_STRATEGY = cast(Strategy, _DefaultStrategy("loop"))
#: The strategies' names (see ``_strategies``).
_STRATEGIES = ("loop", "return_tuple", "partial")


@dataclass(frozen=True)
class Options:
    strategy: str = "loop"
    escape_try: bool = False
    strict: bool = False
    modulo_context: bool = True
    name_guard: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, str) or self.strategy not in _STRATEGIES:
            known = ", ".join(repr(name) for name in _STRATEGIES)
            raise ValueError(f"unknown tail_optimize strategy {self.strategy!r}; known: {known}")
        for name in ("escape_try", "strict", "modulo_context", "name_guard"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"tail_optimize option {name} must be True or False")


def _target_of(func: object) -> _runtime.Target | None:
    """The Target of a function pytailcall made (not of a wrapper that copied its
    ``__dict__``): state about a made function lives on it, so it is collected with it."""
    if not isinstance(func, types.FunctionType):
        return None
    target = func.__dict__.get(_runtime.TARGET_KEY)
    if type(target) is _runtime.Target and target.public is func:
        return target
    return None


#: Default of ``func``: tells ``@tail_optimize(...)`` apart from ``tail_optimize(None)``.
class _DecoratorForm:
    def __repr__(self) -> str:  # what help(tail_optimize) shows as the default
        return "<the function to optimize; omitted: return a decorator>"


_DECORATOR_FORM: Any = _DecoratorForm()


@overload
def tail_optimize(func: Callable[P, R], /, *, strategy: Strategy = ..., escape_try: bool = ...,
                  strict: bool = ..., modulo_context: bool = ..., name_guard: bool = ...
                  ) -> Callable[P, R]: ...
@overload
def tail_optimize(*, strategy: Strategy = ..., escape_try: bool = ..., strict: bool = ...,
                  modulo_context: bool = ..., name_guard: bool = ...
                  ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def tail_optimize(func: Callable[P, R] = _DECORATOR_FORM, /, *,
                  strategy: Strategy = _DEFAULT_STRATEGY,
                  escape_try: bool = False, strict: bool = False, modulo_context: bool = True,
                  name_guard: bool = True
                  ) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a copy of ``func`` whose tail calls to itself do not grow the stack.

    ``return func(args)`` becomes "bind args to the parameters, jump to the start" when the
    name still refers to the optimized function at the moment of the call; otherwise the
    call is made normally. Calls that are not tail calls, or that sit inside ``try``,
    ``with`` or exception handlers, stay normal calls and are reported with a
    :class:`TailCallWarning` (with ``strict=True``, a :class:`TailCallError`).

    ``escape_try=True`` also optimizes tail calls inside a ``try`` body that has only
    ``except`` clauses: the handlers of the calling iteration then no longer see exceptions
    raised by later iterations.

    A call to itself whose result only goes through a few operations before being returned
    (``return n * f(n - 1)``, ``return (x, f(rest))``) is optimized too, with the loop
    strategy: the values that work needs are kept on a list, the call jumps, and each
    return does the kept work, innermost first, as native returns would (tail recursion
    modulo context). ``modulo_context=False`` leaves such calls as normal calls.

    ``name_guard=False`` is a promise that the function's name will always refer to the
    optimized function (never rebound, e.g. by a later decorator or a mock): calls to itself
    then jump without checking it, at the speed of a hand-written loop. Broken, the promise
    makes such calls run the optimized function where native code would call the new value.

    ``strategy`` chooses what a tail call to itself becomes: ``"loop"`` a jump in the same
    frame, ``"return_tuple"`` or ``"partial"`` a bounce for a driver loop. Tail calls to
    *other* optimized functions bounce with every strategy, so mutual recursion runs in
    constant stack too. On an interpreter whose bytecode pytailcall does not know, the
    default falls back to a source-rewriting trampoline with a warning.
    """
    options = Options(strategy, escape_try, strict, modulo_context, name_guard)
    if func is _DECORATOR_FORM:
        return lambda f: _optimize(f, options)
    return _optimize(func, options)


def explain(func: Callable[..., object], *, strategy: Strategy = _DEFAULT_STRATEGY,
            escape_try: bool = False, modulo_context: bool = True,
            name_guard: bool = True) -> TailCallReport:
    """Which calls of ``func`` to itself are (or, undecorated, would be) optimized, and why not.

    ``str()`` of the result is a readable report. For a function ``tail_optimize`` made,
    it is what was done, so options cannot be given (explain ``func.__wrapped__`` with them
    to see what another choice would do).
    """
    target = _target_of(func)
    if target is not None:
        if (escape_try or not modulo_context or not name_guard
                or not isinstance(strategy, _DefaultStrategy)):
            raise ValueError(
                f"explain(): {func.__qualname__}() is already optimized, and its report says "
                "what was done; to see what other options would do, explain "
                f"{func.__qualname__}.__wrapped__ with them")
        return cast(TailCallReport, target.report)
    plain = _checked_function(func, "explain")
    try:
        facts = _facts.current()
    except TailCallError:
        return _portable_report(plain, applied=False)
    options = Options(strategy, escape_try, modulo_context=modulo_context,
                      name_guard=name_guard)  # validates them
    analysis = _within_limits(_analysed(plain.__code__, facts, escape_try), options)
    options, broken = _kept_promise(analysis, options)
    return _report(plain, _call_sites(analysis, options, broken), options, applied=False)


def _checked_function(func: object, caller: str) -> types.FunctionType:
    if not isinstance(func, types.FunctionType):
        name = type(func).__name__
        kind = "a class" if isinstance(func, type) else f"{article(name)} {name} object"
        hint = ""
        if isinstance(func, staticmethod | classmethod):
            hint = f"; put @{caller} below @{name}, directly above the def"
        raise TypeError(f"{caller}() needs a Python function defined with def or lambda, "
                        f"got {kind}: {func!r}{hint}")
    for check, what in ((inspect.isgeneratorfunction, "generator function"),
                        (inspect.iscoroutinefunction, "coroutine function"),
                        (inspect.isasyncgenfunction, "async generator function")):
        if check(func):
            raise TypeError(f"{caller}() cannot optimize {func.__qualname__}(): it is "
                            f"{article(what)} {what}, "
                            "whose calls create a new generator or coroutine, not a frame to reuse")
    return func


def _source_view(func: types.FunctionType) -> types.FunctionType:
    """The function to analyse: for one pytailcall made, a copy of the function it was made
    from, with the made function's current defaults."""
    target = _target_of(func)
    if target is None:
        return func
    source = target.source
    plain = types.FunctionType(source.__code__, source.__globals__, source.__name__,
                               func.__defaults__, source.__closure__)
    plain.__kwdefaults__ = func.__kwdefaults__
    plain.__qualname__ = func.__qualname__
    return plain


#: Set to anything but "" or "0", every function is left as it is (to compare, or to get
#: full tracebacks, without editing code); ``pytailcall run`` and the import hook obey it too.
DISABLE_VARIABLE = "PYTAILCALL_DISABLE"


def _switched_on(variable: str) -> bool:
    """An environment switch is on when set to anything but "" or "0"."""
    return os.environ.get(variable, "") not in ("", "0")


def disabled() -> bool:
    return _switched_on(DISABLE_VARIABLE)


#: Set to anything but "" or "0" when functions are decorated, it makes an exception that
#: leaves an optimized frame say, in a note, how many tail calls ran there without frames.
NOTE_VARIABLE = "PYTAILCALL_TRACEBACK_NOTE"


def notes_elided() -> bool:
    return _switched_on(NOTE_VARIABLE)


#: Set to anything but "" or "0", the functions ``pytailcall run``, the import hook and the
#: IPython extension optimize get ``name_guard=False``: the user's promise, for a whole
#: program, that no function's name is ever rebound. Explicit ``@tail_optimize`` ignores it.
NO_NAME_GUARD_VARIABLE = "PYTAILCALL_NO_NAME_GUARD"


def automatic_name_guard() -> bool:
    """The name guard of functions optimized without being asked to be (see above)."""
    return not _switched_on(NO_NAME_GUARD_VARIABLE)


def _optimize(func: object, options: Options) -> types.FunctionType:
    return _optimize_checked(_checked_function(func, "tail_optimize"), options, warn=True)


#: The options of the functions the import hook optimizes, by ``name_guard``: made once.
_QUIET_OPTIONS = {guard: Options(name_guard=guard) for guard in (True, False)}


def optimize_quietly(func: types.FunctionType, *, name_guard: bool) -> types.FunctionType:
    """``tail_optimize(func, name_guard=name_guard)`` without its warnings, for a function
    the user did not ask to optimize (the import hook's: a plain function, neither a
    generator nor a coroutine, just defined). Not a ``catch_warnings`` around it: that and
    looking for what to warn about were a sixth of what a nested ``def`` defined again
    cost under the hook."""
    return _optimize_checked(func, _QUIET_OPTIONS[name_guard], warn=False)


def _optimize_checked(given: types.FunctionType, options: Options, *,
                      warn: bool) -> types.FunctionType:
    if disabled():
        return given
    source = _source_view(given)
    try:
        facts = _facts.current()
    except TailCallError as unknown:
        if not isinstance(options.strategy, _DefaultStrategy):
            raise
        return _portable_fallback(given, str(unknown), options, warn=warn)
    note_elided = notes_elided()
    key = (options, note_elided, has_plain_namespaces(source))
    outcome = _outcomes.get(source.__code__, key)
    if outcome is None:
        outcome = _outcome(source.__code__, facts, *key)
        _outcomes.put(source.__code__, key, outcome)
    made = _made_function(outcome, source, given, note_elided)
    entries = outcome.entries
    if made is None:
        made = _copy(source, given)
        entries = _all_refused(entries, f"{Reason.NOT_UNDERSTOOD}; please report this")
    if warn:
        broken = _promise_warning(source, outcome.broken_promise)
        _diagnose(source, entries, outcome.options, wrapper=_is_wrapper(given),
                  also=() if broken is None else (broken,))
    _record(made, _original(given), _report(given, entries, outcome.options, applied=True))
    return made


#: What a report lists: the calls to itself, then the tail calls to other functions.
_Entries = tuple[tuple[CallSite, ...], tuple[CallSite, ...]]


@dataclass(frozen=True)
class _Outcome:
    """What optimizing one code object with some options came to: the report's entries
    (a call too short to jump from refused), the options applied, and the code made (None:
    the function is copied as it is). The same for every function of that code object, so
    it is kept (``_outcomes``) and the functions are made around it; it keeps nothing of
    the analysis, whose many objects the garbage collector would walk again and again."""

    entries: _Entries
    #: As applied: the name guard back where the promise is visibly broken.
    options: Options
    #: (line, name) of a rebinding that breaks the promise of ``name_guard=False``.
    broken_promise: tuple[int, str] | None
    made: _strategies.Made | None


#: Outcomes by code object and (options, ``notes_elided()``, ``has_plain_namespaces``), for
#: the running interpreter: a nested function defined again is not rewritten again.
_outcomes: ByCode[_Outcome] = ByCode(256)
#: Analyses by code object and ``escape_try``, for the running interpreter: a function is
#: explained, then optimized (the import hook), or optimized again with other options.
#: (Few: an analysis holds every instruction of its code.)
_analyses: ByCode[Analysis] = ByCode(2)


def _analysed(code: types.CodeType, facts: _facts.Facts, escape_try: bool) -> Analysis:
    analysis = _analyses.get(code, escape_try)
    if analysis is None:
        analysis = analyse(code, facts, escape_try=escape_try)
        _analyses.put(code, escape_try, analysis)
    return analysis


def _outcome(code: types.CodeType, facts: _facts.Facts, options: Options, note_elided: bool,
             plain_namespaces: bool) -> _Outcome:
    analysis = _within_limits(_analysed(code, facts, options.escape_try), options)
    options, broken = _kept_promise(analysis, options)
    made, analysis = _made_code(analysis, options, note_elided, plain_namespaces)
    return _Outcome(_call_sites(analysis, options, broken), options, broken, made)


def _made_code(analysis: Analysis, options: Options, note_elided: bool,
               plain_namespaces: bool) -> tuple[_strategies.Made | None, Analysis]:
    """The code made (None: the function is copied as it is), and the analysis as it
    turned out: a call too short to jump from stays a normal call (the others are still
    optimized); any other failure of our own verification leaves the whole function as it
    was."""
    for _ in range(len(analysis.sites) + len(analysis.calls_out) + 1):
        sites = _optimizable(analysis.sites)
        calls_out = _optimizable(analysis.calls_out)
        if not sites and not calls_out:
            return None, analysis
        try:
            return _strategies.rewrite(options.strategy, analysis, sites, calls_out,
                                       plain_namespaces=plain_namespaces,
                                       note_elided=note_elided,
                                       name_guard=options.name_guard), analysis
        except NoRoomForJump as exc:
            if exc.site is None:
                break
            analysis = _refuse_site(analysis, exc.site, f"{exc.reason or Reason.NO_ROOM} ({exc})")
        except RecursionError:
            raise  # (decorating near the recursion limit: not the code's fault, not kept)
        except (FlowError, RuntimeError, ValueError) as exc:  # our own verification failed
            internal = f"{Reason.NOT_UNDERSTOOD} ({exc}); please report this"
            return None, _refuse_all(analysis, internal)
    internal = f"{Reason.NOT_UNDERSTOOD}; please report this"
    return None, _refuse_all(analysis, internal)


def _made_function(outcome: _Outcome, source: types.FunctionType, given: types.FunctionType,
                   note_elided: bool) -> types.FunctionType | None:
    """The function made of the outcome's code for ``source`` (with ``given``'s metadata);
    None if making it failed (our own fault: the function is then copied as it is)."""
    if outcome.made is None:
        return _copy(source, given)
    try:
        return _strategies.build(outcome.made, source, _wrapper_of(given), _original(given),
                                 note_elided=note_elided)
    except RecursionError:
        raise
    except (RuntimeError, ValueError):
        return None


def _refuse_site(analysis: Analysis, site: object, reason: str) -> Analysis:
    def refuse(sites: tuple[SelfCall, ...]) -> tuple[SelfCall, ...]:
        return tuple(replace(s, refusal=reason) if s is site else s for s in sites)

    return replace(analysis, sites=refuse(analysis.sites), calls_out=refuse(analysis.calls_out))


def _original(given: types.FunctionType) -> types.FunctionType:
    """The user's function: for one pytailcall made, the one it was made from."""
    target = _target_of(given)
    return given if target is None else target.source


def _record(made: types.FunctionType, original: types.FunctionType,
            report: TailCallReport) -> None:
    target = _target_of(made)
    if target is None:  # nothing was rewritten: bouncing into it is calling it
        target = _runtime.Target(made, original)
        _strategies.add_entries(target, original)
        made.__dict__[_runtime.TARGET_KEY] = target
    target.report = report


def _is_wrapper(func: types.FunctionType) -> bool:
    """Made by ``functools.wraps`` (or anything that sets ``__wrapped__``)."""
    return "__wrapped__" in func.__dict__ and _target_of(func) is None


def _portable_fallback(given: types.FunctionType, unknown: str, options: Options, *,
                       warn: bool) -> types.FunctionType:
    """On an unknown interpreter: the source-rewriting partial trampoline, with a warning."""
    code = given.__code__
    try:
        made = _portable.build(given)
    except _portable.NotPortable as exc:
        text = (f"{given.__qualname__}(): {unknown} The portable fallback cannot be used "
                f"either: {exc}. Left as a normal function.")
        made = _copy(given, given)
        lines: tuple[list[int], list[int]] = ([], [])
    else:
        text = (f"{given.__qualname__}(): {unknown} Using the portable partial trampoline "
                "instead (a rewrite of the source).")
        lines = _portable.tail_call_lines(given)
    if options.strict:
        raise TailCallError(PREFIX + text)
    if warn:
        warnings.warn_explicit(TailCallWarning(PREFIX + text), TailCallWarning,
                               code.co_filename, code.co_firstlineno,
                               module=given.__module__ or code.co_filename)
    _record(made, given, _portable_report(given, applied=True, lines=lines))
    return made


def _portable_report(func: types.FunctionType, *, applied: bool,
                     lines: tuple[list[int], list[int]] | None = None) -> TailCallReport:
    code = func.__code__
    if lines is None:
        try:
            lines = _portable.tail_call_lines(func)
        except _portable.NotPortable:
            lines = ([], [])
    optimized, others = lines
    sites = sorted(
        [CallSite(line, code.co_name, True, None, "bounce (portable partial)")
         for line in optimized]
        + [CallSite(line, code.co_name, False, "not a tail call the source rewrite handles")
           for line in others], key=lambda site: site.lineno or 0)
    return TailCallReport(func.__qualname__, code.co_filename, "partial (portable)", applied,
                          tuple(sites))


def _optimizable(sites: tuple[SelfCall, ...]) -> tuple[SelfCall, ...]:
    return tuple(site for site in sites if site.refusal is None)


def _within_limits(analysis: Analysis, options: Options) -> Analysis:
    """Refuse what these options (or this interpreter) cannot do exactly: iterators of
    ``for`` loops live until the call returns, and under ``escape_try`` asynchronous
    exceptions meet the handlers of the iteration they arrive in."""
    strategy = options.strategy
    bounce = strategy != "loop"

    def limit(site: SelfCall) -> SelfCall:
        if site.refusal is not None:
            return site
        if site.context is not None:
            if not options.modulo_context:
                return replace(site, refusal=Reason.CONTEXT_OFF)
            if bounce:
                return replace(site, refusal=Reason.CONTEXT_TRAMPOLINE)
            if site.context.pops_iterators and not analysis.facts.loop_iterator_is_an_object:
                return replace(site, refusal=Reason.CONTEXT_VIRTUAL_ITERATOR)
            return site
        if site.callee != "self":  # a bounce leaves the frame, whatever the strategy
            if site.iterators:
                return replace(site, refusal=Reason.IN_FOR_LOOP_BOUNCE)
            if site.handler is not None:
                return replace(site, refusal=Reason.ESCAPE_TRY_METHOD if site.own_method
                               else Reason.ESCAPE_TRY_BOUNCE)
            return site
        if site.iterators and not analysis.facts.loop_iterator_is_an_object:
            return replace(site, refusal=Reason.IN_FOR_LOOP_VIRTUAL)
        if bounce and site.iterators:
            return replace(site, refusal=Reason.IN_FOR_LOOP_BOUNCE)
        if bounce and site.handler is not None:
            return replace(site, refusal=Reason.ESCAPE_TRY_BOUNCE)
        return site

    sites = tuple(map(limit, analysis.sites))
    calls_out = tuple(map(limit, analysis.calls_out))
    if strategy == "loop" and any(site.iterators and site.refusal is None for site in sites
                                  if site.callee == "self"):
        # One list at the bottom of the frame holds kept iterators or saved contexts.
        sites = tuple(replace(site, refusal=Reason.CONTEXT_KEPT_ITERATORS)
                      if site.refusal is None and site.context is not None else site
                      for site in sites)
        # The frame keeps earlier iterations' loop iterators until it ends: a bounce out
        # of it would finalise them before the callee runs.
        calls_out = tuple(replace(site, refusal=Reason.KEEPS_ITERATORS)
                          if site.refusal is None else site for site in calls_out)
    if _same_items(sites, analysis.sites) and _same_items(calls_out, analysis.calls_out):
        return analysis  # (most: a copy of a frozen dataclass costs ~4 µs)
    return replace(analysis, sites=sites, calls_out=calls_out)


def _same_items(these: tuple[SelfCall, ...], those: tuple[SelfCall, ...]) -> bool:
    return len(these) == len(those) and all(map(operator.is_, these, those))


def _refuse_all(analysis: Analysis, reason: str) -> Analysis:
    sites = tuple(site if site.refusal else replace(site, refusal=reason)
                  for site in analysis.sites)
    return replace(analysis, sites=sites, calls_out=())


def _all_refused(entries: _Entries, reason: str) -> _Entries:
    """``_refuse_all`` of a report's entries."""
    return tuple(entry if not entry.optimized else CallSite(entry.lineno, entry.target, False,
                                                            reason)
                 for entry in entries[0]), ()


def _wrapper_of(given: types.FunctionType) -> Callable[[types.FunctionType], None]:
    def wrap(new: types.FunctionType) -> None:
        functools.update_wrapper(new, given)
        new.__kwdefaults__ = dict(given.__kwdefaults__) if given.__kwdefaults__ else None
    return wrap


def _copy(source: types.FunctionType, given: types.FunctionType) -> types.FunctionType:
    new = types.FunctionType(source.__code__, source.__globals__, source.__name__,
                             source.__defaults__, source.__closure__)
    _wrapper_of(given)(new)
    return new


def _report(func: types.FunctionType, entries: _Entries, options: Options, *,
            applied: bool) -> TailCallReport:
    return TailCallReport(func.__qualname__, func.__code__.co_filename, options.strategy,
                          applied, *entries)


def _call_sites(analysis: Analysis, options: Options,
                broken_promise: tuple[int, str] | None = None) -> _Entries:
    """The report's entries for the analysis's calls (the same for every function of its
    code: they name no function)."""
    strategy = options.strategy
    unguarded = "" if options.name_guard else ", without the name guard (name_guard=False)"
    if broken_promise is not None:
        unguarded = (", with the name guard: name_guard=False is not applied, as the name is "
                     f"rebound on line {broken_promise[0]}")

    def entry(site: SelfCall) -> CallSite:
        if site.refusal is not None:
            return CallSite(site.lineno, site.target, False, site.refusal)
        if site.own_method:
            how = "jump" if strategy == "loop" else f"bounce ({strategy})"
            via = (f"{how} when the method found is this function; else a bounce to it when "
                   "it is an optimized function, else a normal call")
        elif site.callee != "self":
            via = "bounce to it when it is an optimized function"
        elif site.context is not None:
            work = f"`{site.context.text}`" if site.context.text else "the work after it"
            via = f"jump, saving {work} for the return (modulo context)"
        else:
            via = ("jump" if strategy == "loop" else f"bounce ({strategy})") + unguarded
        return CallSite(site.lineno, site.target, True, None, via)

    return (tuple(entry(site) for site in analysis.sites),
            tuple(entry(site) for site in analysis.calls_out))


#: Every warning and error message starts with it, so that ``-W "ignore:pytailcall"`` and
#: ``PYTHONWARNINGS`` can name pytailcall's warnings before pytailcall is imported.
PREFIX = "pytailcall: "


def _refusal_message(func: types.FunctionType, site: CallSite) -> str:
    return (f"{func.__qualname__}(): the call to {site.target}() on line {site.lineno} is not "
            f"optimized: {site.reason}")


def _kept_promise(analysis: Analysis,
                  options: Options) -> tuple[Options, tuple[int, str] | None]:
    """``options``, with the name guard back where the function's own code visibly breaks
    the promise of ``name_guard=False`` (``Analysis.self_rebinding``), and (line, name) of
    that rebinding."""
    broken = None if options.name_guard else analysis.self_rebinding()
    return (options if broken is None else replace(options, name_guard=True)), broken


def _promise_warning(func: types.FunctionType,
                     broken: tuple[int, str] | None) -> tuple[int, str] | None:
    """(line, text) of the warning that says so."""
    if broken is None:
        return None
    line, name = broken
    return line, (
        f"{func.__qualname__}(): name_guard=False is not applied: the name {name!r} it calls "
        f"itself by is rebound on line {line}, so its calls to itself keep checking it")


def _diagnose(func: types.FunctionType, entries: _Entries, options: Options, *,
              wrapper: bool = False, also: tuple[tuple[int, str], ...] = ()) -> None:
    """Warn (or with strict=True, raise) about every call to itself left as a normal call,
    and about a function with nothing of its own to optimize (and the problems ``also``
    names)."""
    code = func.__code__
    sites, calls_out = entries
    # (dict.fromkeys: the compiler's copies of one call, 3.12+, are one problem)
    problems = list(dict.fromkeys((site.lineno or code.co_firstlineno,
                                   _refusal_message(func, site))
                                  for site in sites if not site.optimized))
    problems += also
    where = f"{func.__qualname__}() (line {code.co_firstlineno})"
    if wrapper and not sites:
        problems.append((code.co_firstlineno, (
            f"{where} is a wrapper made by another decorator (it has __wrapped__): it has no "
            "calls to itself, and the function it wraps calls the wrapper by name, so nothing "
            "is optimized. Put @tail_optimize directly above the def, below the other "
            "decorators")))
    elif not sites and not calls_out:
        problems.append((code.co_firstlineno, f"{where} has no calls to itself to optimize"))
    if options.strict and problems:
        raise TailCallError("\n".join(f"{PREFIX}{code.co_filename}:{line}: {text}"
                                      for line, text in problems))
    for line, text in problems:
        # warn_explicit drops a warning whose module is None (functions made by exec).
        warnings.warn_explicit(TailCallWarning(PREFIX + text), TailCallWarning,
                               code.co_filename, line,
                               module=func.__module__ or code.co_filename)
