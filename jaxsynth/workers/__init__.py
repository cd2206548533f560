"""Process isolation for anything that may crash or hang inside XLA: one layer for generation and fuzzing.

Modules (none imports JAX):

- ``outcome``: :class:`Outcome`, what became of one task: ``ok``, or a failure kind (``error``,
  ``crash``, ``hang``, ``internal``), with the exit status or signal and a one-line message.
- ``process``: the mechanism: spawned children that die with their parent, exit descriptions, a
  child process in its own session with a captured stderr tail, length-prefixed pickle frames.
- ``pool``: :class:`WorkerPool`, ``spawn``-ed workers fed indices over pipes, answered in index order;
  a crash or hang becomes an outcome and the worker is replaced (used by :mod:`jaxsynth.corpus`).
- ``faults``: the one test-only fault-injection switch (``JAXSYNTH_INJECT``) and its one parser: index
  faults (``3:crash``) for pools, JAX faults (``wrong-add``, ``abort:sin``, ``wrong-export``...) for
  fuzz workers (installed by :mod:`jaxsynth.fuzz.inject`); an unknown fault is a one-line ``FaultError``.

The fuzzer's :class:`jaxsynth.fuzz.isolate.Worker` runs its task protocol on ``process``; the corpus
pool is ``pool`` with :class:`jaxsynth.corpus.run.RecordMaker` as the task handler.
"""

from __future__ import annotations

from jaxsynth.workers.faults import INJECT_ENV, FaultError
from jaxsynth.workers.outcome import FAILURE_KINDS, Outcome
from jaxsynth.workers.pool import DEFAULT_TIMEOUT, WorkerPool, WorkerStartError
from jaxsynth.workers.process import ChildProcess, describe_exit, recv, send, signal_name

__all__ = [
    "DEFAULT_TIMEOUT",
    "FAILURE_KINDS",
    "INJECT_ENV",
    "FaultError",
    "ChildProcess",
    "Outcome",
    "WorkerPool",
    "WorkerStartError",
    "describe_exit",
    "recv",
    "send",
    "signal_name",
]
