"""What ``explain()`` returns: one entry per call of a function to itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallSite:
    """A call of the function to itself, and what pytailcall did with it."""

    lineno: int | None
    target: str
    optimized: bool
    reason: str | None  #: why the call was left as a normal call; None when optimized
    #: How an optimized call runs: "jump" (loop), "bounce (return_tuple)" or
    #: "bounce (partial)" (a trampoline's driver makes the next call), or for a call to
    #: another function, a bounce when that function is optimized; None when not optimized.
    via: str | None = None

    def __str__(self) -> str:
        where = f"line {self.lineno}" if self.lineno is not None else "unknown line"
        if self.optimized and self.via is not None and self.via.startswith("bounce to it"):
            return f"{where}: {self.target}(...) -> {self.via}, else a normal call"
        if self.optimized:
            return f"{where}: {self.target}(...) -> {self.via} (optimized)"
        return f"{where}: {self.target}(...) -> normal call: {self.reason}"


@dataclass(frozen=True)
class TailCallReport:
    """Which calls of ``function`` to itself are optimized, and why the others are not."""

    function: str  #: qualified name
    filename: str
    strategy: str
    applied: bool  #: True for an optimized function, False for a prediction on a plain one
    sites: tuple[CallSite, ...]
    #: Tail calls to other functions and methods: each bounces (constant stack) when its
    #: callee is an optimized function at the moment of the call, and is a normal call if not.
    calls_out: tuple[CallSite, ...] = ()

    @property
    def optimized(self) -> tuple[CallSite, ...]:
        return tuple(site for site in self.sites if site.optimized)

    def __str__(self) -> str:
        return self._described()

    def _described(self, decoration: str | None = None) -> str:
        """The report; ``decoration``, when given, says instead of ``applied`` what the
        report is of (the command line's, for a function it made with options given)."""
        if decoration is not None:
            state = decoration
        elif not self.applied:
            state = "not decorated; with tail_optimize()"
        elif self.optimized:
            state = "optimized"
        elif any(site.optimized for site in self.calls_out):
            state = "decorated; no calls to itself optimized"
        else:
            state = "decorated; nothing optimized"
        lines = [f"{self.function}() in {self.filename} [{state}, strategy={self.strategy!r}]"]
        if not self.sites:
            lines.append("  no calls to itself")
        lines += [f"  {site}" for site in self.sites]
        if self.calls_out:
            lines.append("  tail calls to other functions:")
            lines += [f"    {site}" for site in self.calls_out]
        return "\n".join(lines)
