"""One set of outcome types for every isolated task (a generation index, a fuzz program)."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["FAILURE_KINDS", "Outcome"]

#: ``error``: the task raised (the worker lives on); ``crash``: the worker died (signal or exit
#: status); ``hang``: no result within the timeout (the worker was killed); ``internal``: the
#: harness itself failed, not the code under test.
FAILURE_KINDS: tuple[str, ...] = ("error", "crash", "hang", "internal")


@dataclasses.dataclass
class Outcome:
    """What became of one task: ``kind`` is ``ok`` (``data`` holds the result) or a failure kind."""

    kind: str
    index: int = -1  #: the task's index, for pools that take indices
    data: Any = None  #: ``ok``: the result (an encoded record; a fuzz ``TaskResult``)
    message: str = ""  #: one line: the exception, how the worker died, the timeout
    signal: int | None = None  #: ``crash``: the signal that killed the worker
    exitcode: int | None = None  #: ``crash``: its exit status
    seconds: float = 0.0
    stderr_tail: str = ""  #: the end of the worker's stderr (a crash's Python stack)
    site: str = ""  #: ``crash``: where the worker said it aborted (:func:`~jaxsynth.workers.process.crash_site`)
    oracle: str = ""  #: the stage the worker last reported before a crash or hang (fuzz: oracle, step)
    step: str = ""
    plan: dict[str, Any] = dataclasses.field(default_factory=dict)  #: what that stage had drawn
    timings: dict[str, float] | None = None  #: seconds per stage, when profiling
    keys: tuple[str, str | None] | None = None  #: generation: ``(graph_hash, JAXPR hash)``, for dedup

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    @property
    def result(self) -> Any:
        """The fuzz name of :attr:`data`."""
        return self.data

    @property
    def describe(self) -> str:
        from jaxsynth.workers.process import signal_name

        if self.kind == "crash":
            how = f"signal {signal_name(self.signal)}" if self.signal else f"exit status {self.exitcode}"
            site = f": {self.site}" if self.site else ""
            return f"worker died ({how}) during {self.oracle or '?'}/{self.step or '?'}{site}"
        if self.kind == "hang":
            return f"no result within the timeout during {self.oracle or '?'}/{self.step or '?'}"
        return self.kind
