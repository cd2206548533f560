"""A pool of spawned generation workers that survives crashes and hangs, yielding outcomes in index order.

Each worker is a ``spawn``-ed process (never ``fork``: the parent may have loaded JAX) that pins XLA
to one thread before JAX loads, builds one :class:`~jaxsynth.corpus.run.RecordMaker` and then
answers indices sent over its own pipe. The parent keeps at most ``depth`` indices queued per
worker and watches every pipe and every process sentinel at once, so:

- a worker that dies (a segfault or abort inside XLA, the OOM killer) is noticed at once: the
  index it was working on becomes a ``crash`` outcome, the indices queued behind it go back to the
  front of the queue, and a fresh worker replaces it;
- a worker that has spent more than ``timeout`` seconds on one index is killed (SIGKILL) and
  replaced, and that index becomes a ``hang`` outcome (the clock starts when the worker has
  finished its start-up, so importing JAX never counts);
- an exception while building a record is caught in the worker and becomes an ``error`` outcome.

Outcomes are yielded strictly in the order of the indices given, so the caller writes a file that
does not depend on the number of workers or on which of them crashed. At most ``window`` indices
are in flight or finished-but-not-yet-yielded, which bounds the parent's memory.

This module imports no JAX.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from jaxsynth.corpus.collector import tuned_collector

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.corpus.run import RecordMaker
    from jaxsynth.grammar import GrammarConfig

__all__ = ["DEFAULT_TIMEOUT", "Outcome", "WorkerPool", "WorkerStartError"]

#: Seconds one record may take in a worker before it is declared hung (see ``--timeout``).
DEFAULT_TIMEOUT = 300.0
#: Workers that may die before finishing start-up before the pool gives up.
MAX_START_FAILURES = 3
#: Testing hook, read by workers only: ``"3:crash,5:hang,7:error"`` makes the worker that gets
#: index 3 die of SIGSEGV, hang on 5 and raise on 7 (tests/test_scale.py uses it).
INJECT_FAULTS_ENV = "JAXSYNTH_INJECT_FAULTS"


class WorkerStartError(RuntimeError):
    """Workers keep dying before they can take work (a broken environment, not a bad program)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What became of one index: ``kind`` is ``ok`` (``data`` holds the encoded record) or a failure
    kind, ``error`` | ``crash`` | ``hang``, with a one-line ``message``."""

    index: int
    kind: str
    data: bytes = b""
    message: str = ""
    timings: dict[str, float] | None = None
    keys: tuple[str, str | None] | None = None  #: ``(graph_hash, JAXPR hash)`` of an ``ok`` record, for dedup

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def signal_name(number: int) -> str:
    with contextlib.suppress(ValueError):
        return signal.Signals(number).name
    return f"signal {number}"


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker vanished"
    if exitcode < 0:
        return f"worker killed by {signal_name(-exitcode)}"
    return f"worker exited with status {exitcode}"


# ---------------------------------------------------------------- the worker process
def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker when its parent dies (e.g. ``kill -9`` of the run)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl
            os._exit(0)


def _injected_faults() -> dict[int, str]:
    spec = os.environ.get(INJECT_FAULTS_ENV, "")
    faults = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        index, _, kind = item.partition(":")
        faults[int(index)] = kind
    return faults


def _inject(kind: str, index: int) -> None:
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif kind == "abort":
        os.abort()
    elif kind == "hang":
        while True:
            time.sleep(3600)
    raise RuntimeError(f"injected error at index {index}")


def _worker_main(
    conn: multiprocessing.connection.Connection,
    config: GrammarConfig,
    seed: int,
    emit: tuple[str, ...],
    fmt: str,
    profile: bool,
    cpu: int | None = None,
) -> None:
    """Entry point of a worker: configure XLA (pinned to ``cpu`` if given), then answer indices
    until told to stop (``None``)."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from jaxsynth.lowering import configure_jax_for_workers

    configure_jax_for_workers(1, cpu=cpu)
    from jaxsynth.corpus.generate import toolchain
    from jaxsynth.corpus.run import RecordMaker

    toolchain()  # import JAX and start its backend before the first record's clock starts
    maker = RecordMaker(config, seed, emit, fmt, profile=profile)
    faults = _injected_faults()
    try:
        _serve(conn, maker, faults)
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the parent went away or is stopping


def _serve(conn: multiprocessing.connection.Connection, maker: RecordMaker, faults: dict[int, str]) -> None:
    """Answer indices with outcomes until told to stop (``None``)."""
    with tuned_collector():
        conn.send(("ready", os.getpid()))
        while True:
            index = conn.recv()
            if index is None:
                return
            if isinstance(index, tuple):  # ("config", config): the indices that follow use it
                made = maker.made
                maker = type(maker)(index[1], maker.seed, maker.emit, maker.format, profile=maker.profile)
                maker.made = made  # the clear_caches() cadence counts records, whatever their config
                continue
            if index in faults:
                try:
                    _inject(faults[index], index)
                except RuntimeError as exc:
                    conn.send((index, "error", b"", f"RuntimeError: {exc}", None, None))
                    continue
            outcome = maker.outcome(index)
            conn.send((outcome.index, outcome.kind, outcome.data, outcome.message, outcome.timings, outcome.keys))


# ---------------------------------------------------------------- the parent side
def _usable_cpus() -> list[int]:
    """CPUs this process may run on, in order (empty where the OS cannot pin processes)."""
    if not hasattr(os, "sched_getaffinity") or not hasattr(os, "sched_setaffinity"):
        return []  # pragma: no cover - not Linux
    return sorted(os.sched_getaffinity(0))


class _Slot:
    """One worker process and the indices sent to it, oldest first."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Any) -> None:
        self.process = process
        self.conn = conn
        self.queue: collections.deque[int] = collections.deque()
        self.ready = False
        self.head_started = 0.0  # when the worker began the index at the head of ``queue``

    def start_head_clock(self) -> None:
        self.head_started = time.monotonic()


class WorkerPool:
    """``workers`` spawned processes making records of ``(config, seed, emit, fmt)``.

    Use as a context manager; :meth:`run` yields one :class:`Outcome` per index, in order.
    ``timeout`` is per record, in seconds (``None``: wait forever). With ``pin``, worker ``k`` and
    its replacements run on CPU ``k mod c`` of the ``c`` CPUs this process may use, so each worker
    keeps to one core (see ``configure_jax_for_workers``). ``pin=None`` (the default) pins only
    when the workers fill those CPUs: a smaller pool may share the machine with other runs (shards,
    Ray tasks), and pinned pools of different runs would pile onto the same first CPUs.
    """

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
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.args = (config, seed, emit, fmt, profile)
        usable = _usable_cpus()
        self.cpus = usable if (pin if pin is not None else workers >= len(usable)) else []
        self.workers = workers
        self.timeout = timeout
        self.depth = depth
        self.context = multiprocessing.get_context("spawn")
        self.slots: list[_Slot] = []
        self.replaced = 0  #: workers replaced after a crash or hang
        self.start_failures = 0
        self.wait_seconds = 0.0  #: parent time spent waiting for workers

    # ------------------------------------------------------------ lifecycle
    def _spawn(self, position: int) -> _Slot:
        parent, child = self.context.Pipe(duplex=True)
        cpu = self.cpus[position % len(self.cpus)] if self.cpus else None
        process = self.context.Process(
            target=_worker_main, args=(child, *self.args, cpu), name="jaxsynth-worker", daemon=True
        )
        process.start()
        child.close()
        return _Slot(process, parent)

    def __enter__(self) -> WorkerPool:
        self.slots = [self._spawn(position) for position in range(self.workers)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker: a polite ``None``, then SIGKILL for any still alive after a moment."""
        for slot in self.slots:
            with contextlib.suppress(OSError):
                slot.conn.send(None)
        deadline = time.monotonic() + 2.0
        for slot in self.slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
        self.slots = []

    def set_config(self, config: GrammarConfig) -> None:
        """Make the indices given from now on with ``config`` (e.g. a novelty epoch's weights).

        Live workers get it through their pipe, ahead of those indices; replacements start with
        it. Call it between runs, when no index is in flight.
        """
        if config is self.args[0]:
            return
        self.args = (config, *self.args[1:])
        for slot in self.slots:
            with contextlib.suppress(OSError):
                slot.conn.send(("config", config))

    def _replace(self, slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join()
        slot.conn.close()
        position = self.slots.index(slot)
        self.slots[position] = self._spawn(position)

    # ------------------------------------------------------------ scheduling
    def run(self, indices: Iterable[int], window: int | None = None) -> Iterator[Outcome]:
        """Outcomes for ``indices`` (increasing, possibly endless), in the same order.

        The generator may be abandoned early (e.g. once enough records are written); work still in
        flight is then discarded when the pool closes.
        """
        window = window or max(16, 4 * self.workers * self.depth)
        source = iter(indices)
        exhausted = False
        retry: collections.deque[int] = collections.deque()  # indices rescued from dead workers
        order: collections.deque[int] = collections.deque()  # issued, not yet yielded
        done: dict[int, Outcome] = {}

        def next_index() -> int | None:
            nonlocal exhausted
            if retry:
                return retry.popleft()
            if exhausted or (order and len(order) >= window):
                return None
            try:
                index = next(source)
            except StopIteration:
                exhausted = True
                return None
            order.append(index)
            return index

        while True:
            while order and order[0] in done:
                yield done.pop(order.popleft())
            if exhausted and not order and not retry:
                return
            # keep every live worker fed
            for slot in self.slots:
                while len(slot.queue) < self.depth:
                    index = next_index()
                    if index is None:
                        break
                    if not slot.queue and slot.ready:
                        slot.start_head_clock()
                    slot.queue.append(index)
                    try:
                        slot.conn.send(index)
                    except OSError:
                        break  # dead: noticed below through its sentinel
            self._wait_and_collect(done, retry)

    def _wait_and_collect(self, done: dict[int, Outcome], retry: collections.deque[int]) -> None:
        busy = [s for s in self.slots if s.queue]
        if not busy:
            return
        timeout = None
        if self.timeout is not None:
            now = time.monotonic()
            remaining = [s.head_started + self.timeout - now for s in busy if s.ready]
            timeout = max(0.0, min(remaining)) if remaining else self.timeout
        handles: dict[Any, _Slot] = {}
        for slot in busy:
            handles[slot.conn] = slot
            handles[slot.process.sentinel] = slot
        started = time.perf_counter()
        ready = multiprocessing.connection.wait(list(handles), timeout)
        self.wait_seconds += time.perf_counter() - started
        dead: list[_Slot] = []
        for handle in ready:
            slot = handles[handle]
            if handle is slot.conn:
                if not self._drain(slot, done):
                    dead.append(slot)
            elif slot not in dead:
                self._drain(slot, done)  # results sent just before dying still count
                dead.append(slot)
        for slot in dict.fromkeys(dead):
            self._lost(slot, done, retry, kind="crash", message=describe_exit(self._exitcode(slot)))
        if self.timeout is not None:
            now = time.monotonic()
            for slot in list(self.slots):
                if slot.queue and slot.ready and now - slot.head_started > self.timeout:
                    self._lost(
                        slot, done, retry, kind="hang", message=f"no result after {self.timeout:g} s"
                    )

    @staticmethod
    def _exitcode(slot: _Slot) -> int | None:
        slot.process.join(1.0)
        return slot.process.exitcode

    def _drain(self, slot: _Slot, done: dict[int, Outcome]) -> bool:
        """Read every message waiting on a worker's pipe; False if the pipe is closed (worker gone)."""
        try:
            while slot.conn.poll():
                message = slot.conn.recv()
                if message[0] == "ready":
                    slot.ready = True
                    slot.start_head_clock()
                    continue
                index, kind, data, text, timings, keys = message
                if slot.queue and slot.queue[0] == index:
                    slot.queue.popleft()
                    slot.start_head_clock()
                done[index] = Outcome(index, kind, data, text, timings, keys)
        except (EOFError, OSError):
            return False
        return True

    def _lost(
        self,
        slot: _Slot,
        done: dict[int, Outcome],
        retry: collections.deque[int],
        kind: str,
        message: str,
    ) -> None:
        """A worker crashed or hung: blame its current index, requeue the rest, replace it."""
        if not slot.ready:
            self.start_failures += 1
            if self.start_failures >= MAX_START_FAILURES:
                raise WorkerStartError(
                    f"{self.start_failures} workers died while starting ({message}); giving up"
                )
            retry.extendleft(reversed(slot.queue))
        elif slot.queue:
            index = slot.queue.popleft()
            done[index] = Outcome(index, kind, message=message)
            retry.extendleft(reversed(slot.queue))
        slot.queue.clear()
        self.replaced += 1
        self._replace(slot)
