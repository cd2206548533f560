"""The generation worker pool: :class:`jaxsynth.workers.pool.WorkerPool` answering indices with records.

The mechanism (spawn, pipes, timeouts, crash and hang detection, fault injection) lives in
:mod:`jaxsynth.workers`, shared with the fuzzer; this module only binds it to
:class:`~jaxsynth.corpus.run.RecordMaker`. Imports no JAX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxsynth.workers import pool as _pool
from jaxsynth.workers.faults import INJECT_ENV
from jaxsynth.workers.outcome import Outcome
from jaxsynth.workers.pool import DEFAULT_TIMEOUT, WorkerStartError

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.grammar import GrammarConfig

__all__ = ["DEFAULT_TIMEOUT", "INJECT_FAULTS_ENV", "Outcome", "WorkerPool", "WorkerStartError"]

#: The fault-injection switch (``"3:crash,5:hang,7:error"``), see :mod:`jaxsynth.workers.faults`.
INJECT_FAULTS_ENV = INJECT_ENV


class WorkerPool(_pool.WorkerPool):
    """``workers`` spawned processes making records of ``(config, seed, emit, fmt)``; see
    :class:`jaxsynth.workers.pool.WorkerPool` for crashes, hangs, timeouts and pinning."""

    def __init__(
        self,
        config: GrammarConfig,
        seed: int,
        emit: tuple[str, ...],
        fmt: str,
        workers: int,
        timeout: float | None = DEFAULT_TIMEOUT,
        profile: bool = False,
        depth: int = 2,
        pin: bool | None = None,
    ) -> None:
        from jaxsynth.corpus.run import RecordMaker

        super().__init__(RecordMaker, (config, seed, emit, fmt, profile), workers, timeout=timeout, depth=depth,
                         pin=pin)

    def set_config(self, config: GrammarConfig) -> None:
        """Make the indices given from now on with ``config`` (e.g. a novelty epoch's weights)."""
        self.set_args((config, *self.args[1:]))
