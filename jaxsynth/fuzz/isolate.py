"""Isolation: compile and run programs in subprocess workers with timeouts.

The mechanism (the child process in its own session, its stderr tail, frames, outcome types, fault
injection) is :mod:`jaxsynth.workers`, shared with corpus generation; this module is the fuzzer's task
protocol on top of it. A :class:`Worker` owns one ``python -m jaxsynth.fuzz.worker`` process, started
with ``subprocess`` (fork + immediate exec, in a new session) from a parent that never uses JAX
itself, so nothing is ever forked after JAX is loaded. :meth:`Worker.run` sends a task and waits for its result
with a deadline:

- the process dies (a signal such as SIGSEGV or SIGABRT, or a non-zero exit) -> ``crash`` outcome;
- the deadline passes -> the process group is killed -> ``hang`` outcome;
- either way the worker is replaced before the next task, and the outcome names the oracle and
  step that were running (the worker reports each step before taking it) and the tail of the
  worker's stderr (faulthandler prints the Python stack of a crash there); a crash's outcome also
  names its site, the line where XLA said why it aborted (``file.cc:497] Check failed: ...``).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from typing import Any

from jaxsynth.fuzz.worker import Task
from jaxsynth.lowering.workers import BLAS_THREAD_VARS
from jaxsynth.workers import faults
from jaxsynth.workers.outcome import Outcome
from jaxsynth.workers.process import SITE_BYTES, TAIL_BYTES, ChildProcess, crash_site, recv, send

__all__ = ["Outcome", "Worker", "WorkerStartError"]

STARTUP_TIMEOUT = 180.0


#: Signals that come from outside a worker (the out-of-memory killer, a person, a job scheduler), never from
#: a compiler crashing: a worker dead of one is an internal error. SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL
#: and SIGTRAP are crashes.
EXTERNAL_SIGNALS = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


class WorkerStartError(RuntimeError):
    """A worker process could not start (e.g. JAX cannot be imported)."""


class _Process(ChildProcess):
    def __init__(self, env: dict[str, str] | None) -> None:
        super().__init__("jaxsynth.fuzz.worker", env, forked=True)
        self.toolchain: dict[str, str] = {}


def memory_share(workers: int) -> int:
    """Bytes a worker may hold between programs: half the machine's memory split among ``workers``, at
    least 2 GiB (0, no limit, where the machine's memory is unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
    return max(2 << 30, total // (2 * max(1, workers)))


def _rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes (0 where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Worker:
    """One isolated worker process, restarted after a crash, a hang, ``max_tasks`` tasks, or a task
    after which it holds more than ``max_rss`` bytes (0: no limit). XLA executables, JAX's caches and
    freed-but-kept heap make a worker's memory grow over hundreds of large programs; two workers that
    each kept 5-10 GB left the next large program to the out-of-memory killer.

    With ``spare=True`` a replacement process is started ahead of time, so a crash costs no JAX
    start-up on the next task (used while reducing crash findings)."""

    _ids = itertools.count()

    def __init__(self, env: dict[str, str] | None = None, max_tasks: int = 2000, spare: bool = False,
                 max_rss: int = 0) -> None:
        self.env = dict(os.environ if env is None else env)
        # One BLAS thread, as configure_jax_for_workers sets, but in the child's environment: the child loads
        # numpy (and its BLAS) when it imports jaxsynth.fuzz, before it can configure itself. With a BLAS thread
        # per core, busy workers spin in each other's way: beside a two-worker campaign on two cores, the reference
        # analysis of a models program with small matmuls took 19.6 s of CPU, and 5.1 s with one thread (seed 65,
        # program 256; its worker timed out in that analysis).
        for var in BLAS_THREAD_VARS:
            self.env.setdefault(var, "1")
        self.max_tasks = max_tasks
        self.max_rss = max_rss
        self.spare = spare
        self.id = next(self._ids)
        self._proc: _Process | None = None
        self._spare: _Process | None = None
        self._tasks = 0
        self._task_ids = itertools.count()
        self.toolchain: dict[str, str] = {}
        self.restarts = 0

    # ------------------------------------------------------------ lifecycle

    def _new(self) -> _Process:
        faults.parse(env=self.env)  # an unknown test-only fault: a one-line FaultError, before any process starts
        return _Process(self.env)

    def _ensure(self) -> _Process:
        if self._proc is not None and (self._proc.proc.poll() is not None or self._tasks >= self.max_tasks
                                       or (self.max_rss and _rss(self._proc.proc.pid) > self.max_rss)):
            self._retire()
        if self._proc is None:
            if self._spare is not None:
                self._proc, self._spare = self._spare, None
            else:
                self._proc = self._new()
            self._tasks = 0
        proc = self._proc
        if not proc.ready:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            message = recv(proc.proc.stdout) if proc.wait_readable(deadline) else None
            if not message or message[0] != "ready":
                tail = proc.tail()
                self._retire()
                last = tail.strip().splitlines()[-1] if tail.strip() else "no output"
                raise WorkerStartError(f"fuzz worker failed to start: {last}")
            proc.ready = True
            self.toolchain = message[1]
        if self.spare and self._spare is None:
            self._spare = self._new()
        return proc

    def _retire(self) -> None:
        if self._proc is not None:
            proc, self._proc = self._proc, None
            if proc.proc.poll() is None and proc.ready:
                try:
                    send(proc.proc.stdin, ("exit",))
                    proc.proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired, BrokenPipeError):
                    pass
            proc.kill()
            self.restarts += 1

    def recycle(self) -> None:
        """End the process now: the next task starts in a fresh one (whatever state the last task left behind,
        a later task does not inherit)."""
        self._retire()

    def start(self) -> dict[str, str]:
        """Start the process now (otherwise it starts with the first task); returns its toolchain."""
        self._ensure()
        return self.toolchain

    def close(self) -> None:
        self._retire()
        if self._spare is not None:
            self._spare.kill()
            self._spare = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ tasks

    def run(self, task: Task, timeout: float) -> Outcome:
        proc = self._ensure()
        task_id = next(self._task_ids)
        start = time.monotonic()
        deadline = start + timeout
        oracle = step = ""
        plan: dict[str, Any] = {}
        try:
            send(proc.proc.stdin, ("task", task_id, task))
        except (BrokenPipeError, OSError):
            return self._died(proc, oracle, step, plan, start)
        self._tasks += 1
        while True:
            if not proc.wait_readable(deadline):
                if proc.proc.poll() is not None:
                    return self._died(proc, oracle, step, plan, start)
                tail = proc.tail()
                self._proc = None
                proc.kill()
                self.restarts += 1
                return Outcome("hang", oracle=oracle, step=step, plan=plan, stderr_tail=tail,
                               seconds=time.monotonic() - start)
            try:
                message = recv(proc.proc.stdout)
            except (OSError, EOFError, ValueError):
                message = None
            if message is None:
                return self._died(proc, oracle, step, plan, start)
            kind = message[0]
            if message[1] != task_id:
                continue
            if kind == "stage":
                if message[2] != oracle:
                    plan = {}
                oracle, step = message[2], message[3]
                if message[4]:
                    plan.update(message[4])
            elif kind == "result":
                return Outcome("ok", data=message[2], seconds=time.monotonic() - start)
            elif kind == "internal":
                return Outcome("internal", oracle=oracle, step=step, message=message[2],
                               seconds=time.monotonic() - start)

    def _died(self, proc: _Process, oracle: str, step: str, plan: dict[str, Any], start: float) -> Outcome:
        try:
            code = proc.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            code = None
        site_text = proc.tail(SITE_BYTES)  # one read: the report's tail is its end
        tail = site_text[-TAIL_BYTES:]
        self._proc = None
        proc.kill()
        self.restarts += 1
        sig = -code if code is not None and code < 0 else None
        if sig in EXTERNAL_SIGNALS:
            # XLA does not kill itself with these: the kernel's out-of-memory killer (SIGKILL), a person or
            # a scheduler stopping jobs did, so it says nothing about the program's compiler: an internal
            # error, never a finding
            name = signal.Signals(sig).name
            why = "out of memory?" if sig == signal.SIGKILL else "stopped from outside"
            return Outcome("internal", oracle=oracle, step=step,
                           message=f"worker killed by {name} during {oracle}/{step} after "
                                   f"{time.monotonic() - start:.0f} s ({why}): not a crash of XLA",
                           seconds=time.monotonic() - start)
        return Outcome("crash", oracle=oracle, step=step, plan=plan, signal=sig, exitcode=code, stderr_tail=tail,
                       site=crash_site(site_text), seconds=time.monotonic() - start)
