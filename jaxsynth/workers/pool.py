"""A pool of isolated workers that survives crashes and hangs, yielding outcomes in index order.

Each worker is a process forked by a fork server (:func:`.process.fork_child`: it has imported the factory's
module, with XLA pinned to one thread, but started no JAX backend), or where none can serve a ``spawn``-ed one
(never a ``fork`` of the parent, which may have loaded JAX). It builds its task handler with ``factory(*args)``
(an object with
``outcome(index) -> Outcome``, e.g. :class:`jaxsynth.corpus.run.RecordMaker`) and then answers
indices sent over its own pipe. The parent keeps at most ``depth`` indices queued per worker and
watches every pipe and every process sentinel at once, so:

- a worker that dies (a segfault or abort inside XLA, the OOM killer) is noticed at once: the
  index it was working on becomes a ``crash`` outcome, the indices queued behind it go back to the
  front of the queue, and a fresh worker replaces it;
- a worker that has spent more than ``timeout`` seconds on one index is killed (SIGKILL) and
  replaced, and that index becomes a ``hang`` outcome (the clock starts when the worker has
  finished its start-up, so importing JAX never counts);
- an exception while running a task is the handler's to turn into an ``error`` outcome.

Outcomes are yielded strictly in the order of the indices given, so the caller writes a file that
does not depend on the number of workers or on which of them crashed. At most ``window`` indices
are in flight or finished-but-not-yet-yielded, which bounds the parent's memory. Index faults of
the one injection switch (:mod:`.faults`) act here, in the worker, before the handler runs.

This module imports no JAX.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from jaxsynth.workers import faults
from jaxsynth.workers.outcome import Outcome
from jaxsynth.workers.process import describe_exit, die_with_parent, fork_child, start_child

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

__all__ = ["DEFAULT_TIMEOUT", "MAX_START_FAILURES", "WorkerPool", "WorkerStartError"]

#: Seconds one record may take in a worker before it is declared hung (see ``--timeout``).
DEFAULT_TIMEOUT = 300.0
#: Workers that may die before finishing start-up before the pool gives up.
MAX_START_FAILURES = 3


class WorkerStartError(RuntimeError):
    """Workers keep dying before they can take work (a broken environment, not a bad program)."""


def _worker_main(
    conn: multiprocessing.connection.Connection,
    factory: Callable[..., Any],
    args: tuple[Any, ...],
    cpu: int | None = None,
) -> None:
    """Entry point of a worker: configure XLA (pinned to ``cpu`` if given), build the handler, then
    answer indices until told to stop (``None``)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from jaxsynth.lowering import configure_jax_for_workers

    configure_jax_for_workers(1, cpu=cpu)
    handler = factory(*args)
    warm = getattr(handler, "warm_up", None)
    if warm is not None:
        warm()  # e.g. import JAX and start its backend before the first task's clock starts
    try:
        _serve(conn, factory, handler, faults.index_faults())
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the parent went away or is stopping


def prepare() -> None:
    """A forked worker's environment, set once in its fork server before it imports the factory's module."""
    from jaxsynth.lowering import configure_jax_for_workers

    configure_jax_for_workers(1)


def main() -> None:
    """A forked worker (:func:`.process.fork_child`): its pipe to the pool is its stdin; the factory, its arguments
    and its CPU come first on it."""
    conn = multiprocessing.connection.Connection(os.dup(0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        factory, args, cpu = conn.recv()
    except (EOFError, OSError):
        return
    _worker_main(conn, factory, args, cpu)


def _serve(conn: multiprocessing.connection.Connection, factory: Callable[..., Any], handler: Any,
           injected: dict[int, str]) -> None:
    """Answer indices with outcomes until told to stop (``None``); ``("args", args)`` rebuilds the
    handler for the indices that follow (its ``rebuilt(previous)`` hook, if any, sees the old one)."""
    scope = getattr(handler, "worker_scope", None)
    with scope() if scope is not None else contextlib.nullcontext():
        conn.send(("ready", os.getpid()))
        while True:
            index = conn.recv()
            if index is None:
                return
            if isinstance(index, tuple):
                previous, handler = handler, factory(*index[1])
                rebuilt = getattr(handler, "rebuilt", None)
                if rebuilt is not None:
                    rebuilt(previous)
                continue
            if index in injected:
                try:
                    faults.fire(injected[index], index)
                except RuntimeError as exc:
                    conn.send(Outcome("error", index, message=f"RuntimeError: {exc}"))
                    continue
            conn.send(handler.outcome(index))


# ---------------------------------------------------------------- the parent side
def _usable_cpus() -> list[int]:
    """CPUs this process may run on, in order (empty where the OS cannot pin processes)."""
    if not hasattr(os, "sched_getaffinity") or not hasattr(os, "sched_setaffinity"):
        return []  # pragma: no cover - not Linux
    return sorted(os.sched_getaffinity(0))


class _Slot:
    """One worker process and the indices sent to it, oldest first."""

    def __init__(self, process: multiprocessing.process.BaseProcess | Any, conn: Any) -> None:
        self.process = process
        self.conn = conn
        self.queue: collections.deque[int] = collections.deque()
        self.ready = False
        self.head_started = 0.0  # when the worker began the index at the head of ``queue``

    def start_head_clock(self) -> None:
        self.head_started = time.monotonic()


class WorkerPool:
    """``workers`` isolated processes answering indices with ``factory(*args).outcome(index)``.

    Use as a context manager; :meth:`run` yields one :class:`Outcome` per index, in order.
    ``timeout`` is per record, in seconds (``None``: wait forever). With ``pin``, worker ``k`` and
    its replacements run on CPU ``k mod c`` of the ``c`` CPUs this process may use, so each worker
    keeps to one core (see ``configure_jax_for_workers``). ``pin=None`` (the default) pins only
    when the workers fill those CPUs: a smaller pool may share the machine with other runs (shards,
    Ray tasks), and pinned pools of different runs would pile onto the same first CPUs.
    """

    def __init__(
        self,
        factory: Callable[..., Any],
        args: tuple[Any, ...],
        workers: int,
        timeout: float | None = DEFAULT_TIMEOUT,
        depth: int = 2,
        pin: bool | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.factory = factory
        self.args = args
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
        process: Any = None
        if hasattr(os, "pidfd_open"):  # the pool watches a forked worker's end through a pidfd
            process = fork_child(__name__, None, (child.fileno(), 1, 2), preload=(self.factory.__module__,))
        if process is not None:
            parent.send((self.factory, self.args, cpu))
        else:
            process = self.context.Process(
                target=_worker_main, args=(child, self.factory, self.args, cpu), name="jaxsynth-worker", daemon=True
            )
            start_child(process.start)  # die_with_parent ties the worker to the thread that starts it
        child.close()
        return _Slot(process, parent)

    def __enter__(self) -> WorkerPool:
        faults.parse()  # an unknown test-only fault: a one-line FaultError, before any worker starts
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

    def set_args(self, args: tuple[Any, ...]) -> None:
        """Answer the indices given from now on with ``factory(*args)`` (e.g. a novelty epoch's config).

        Live workers get the arguments through their pipe, ahead of those indices; replacements
        start with them. Call it between runs, when no index is in flight.
        """
        if args == self.args:
            return
        self.args = args
        for slot in self.slots:
            with contextlib.suppress(OSError):
                slot.conn.send(("args", args))

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
                if isinstance(message, tuple) and message[0] == "ready":
                    slot.ready = True
                    slot.start_head_clock()
                    continue
                index = message.index
                if slot.queue and slot.queue[0] == index:
                    slot.queue.popleft()
                    slot.start_head_clock()
                done[index] = message
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
            done[index] = Outcome(kind, index, message=message)
            retry.extendleft(reversed(slot.queue))
        slot.queue.clear()
        self.replaced += 1
        self._replace(slot)
