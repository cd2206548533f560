"""The fuzz worker process: ``python -m jaxsynth.fuzz.worker`` (spawned by :mod:`jaxsynth.fuzz.isolate`).

Configures XLA for one thread before importing JAX, then serves tasks read from stdin and answers on
stdout with length-prefixed pickles (the process's own stdout is redirected to stderr first, so
nothing XLA prints can corrupt the channel). Before each risky step it reports the oracle and step,
so the parent can attribute a crash or a hang to them.

Messages to the parent: ``("ready", toolchain)``, ``("stage", task_id, oracle, step, plan)``,
``("result", task_id, TaskResult)``, ``("internal", task_id, text)``.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jaxsynth.synth.program import Program
from jaxsynth.workers.process import die_with_parent, recv, send  # the shared isolation layer

CLEAR_EVERY = 40  # eager execution caches one executable per primitive signature: ~10 MB a program


@dataclass
class Task:
    program: Program
    inputs: list[np.ndarray]
    oracles: tuple[str, ...]
    seed: int = 0
    disabled: tuple[str, ...] = ()  #: passes disabled in every compile (triage)
    passes_off: tuple[str, ...] | None = None  #: passes the ``passes`` oracle disables (None: drawn)
    want_hlo: bool = False  #: also return the program's optimized HLO (normalized, as a corpus record's)
    special: bool = False  #: the inputs hold special values (jaxsynth.fuzz.special)
    reference_budget: float | None = None  #: reference work the oracles may take (oracles.reference_budget)
    x64: bool = False  #: sampled under ``types.x64``: every oracle runs with ``jax_enable_x64``, as its repro does


@dataclass
class TaskResult:
    verdicts: dict[str, Any]
    hlo: str | None = None
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)
    oracle_seconds: dict[str, float] = field(default_factory=dict)  #: each oracle's own time (Case.seconds)
    shared_seconds: float = 0.0  #: the program's jit and reference, shared by the oracles (Case.shared_seconds)


def handle(task: Task, stage) -> TaskResult:
    from jaxsynth import compat

    start = time.monotonic()
    with compat.enable_x64(task.x64):  # the program's dtypes and its ops' result types assume this mode
        return _handle(task, stage, start)


def _handle(task: Task, stage, start: float) -> TaskResult:
    from jaxsynth import compat
    from jaxsynth.fuzz.oracles import Case, run_oracles
    from jaxsynth.lowering.normalize import normalize_hlo

    if task.want_hlo:
        # JAX caches a traced helper (jit(silu), jax.random.split) with the frames of whichever program traced it
        # first, and XLA names instructions after them: traced afresh, the text depends on this task alone
        compat.clear_caches()
    case = Case(
        task.program,
        task.inputs,
        seed=task.seed,
        disabled=task.disabled,
        passes_off=task.passes_off,
        stage=stage,
        special=task.special,
        reference_budget=task.reference_budget,
        x64=task.x64,
    )
    if task.oracles == ("outputs",):  # a helper's job: just the jit outputs (see oracles._helper_outputs)
        case.oracle = "outputs"
        try:
            notes = {"outputs": case.jit_out}
        except Exception as exc:  # JAX's error under the helper's XLA_FLAGS: the passes oracle raises it
            notes = {"error": (type(exc).__name__, str(exc))}
        return TaskResult({}, None, time.monotonic() - start, notes)
    verdicts = run_oracles(case, task.oracles)
    hlo = None
    if task.want_hlo:
        try:
            case.oracle = "hlo"
            hlo = normalize_hlo(case.compiled.as_text())  # no stack-frame tables: no file paths
        except Exception as exc:  # the finding already says what failed
            hlo = f"(no optimized HLO: {type(exc).__name__}: {exc})"
    return TaskResult(verdicts, hlo, time.monotonic() - start, oracle_seconds=case.seconds,
                      shared_seconds=case.shared_seconds)


_prepared = False


def prepare() -> None:
    """The worker's environment and imports, without a JAX backend: run once by a fork server
    (:mod:`jaxsynth.workers.zygote`) for all the workers it forks, or by :func:`main` itself."""
    global _prepared
    if _prepared:
        return
    from jaxsynth.fuzz.metamorphic import DEVICES
    from jaxsynth.lowering import configure_jax_for_workers

    # virtual CPU devices for the sharding oracle (jit still runs on device 0 unless told otherwise)
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={DEVICES}"
    configure_jax_for_workers(1)
    import jax.numpy  # noqa: F401

    import jaxsynth.fuzz.oracles  # noqa: F401

    _prepared = True


def main() -> None:
    die_with_parent()  # a campaign killed with -9 leaves no worker behind
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # C-level prints to stdout go to the worker log, not the channel
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdout = sys.stderr

    import faulthandler

    faulthandler.enable()  # a crash leaves its Python stack in the worker log

    prepare()
    from jaxsynth import compat
    from jaxsynth.fuzz import inject
    from jaxsynth.fuzz.oracles import InternalError
    from jaxsynth.workers.faults import FaultError

    try:
        inject.install()  # test-only faults of JAXSYNTH_INJECT
    except FaultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    import jax.numpy as jnp

    jnp.zeros(()).block_until_ready()  # initialize the backend now, not inside the first task
    send(channel_out, ("ready", compat.toolchain()))
    done = 0
    while True:
        message = recv(channel_in)
        if message is None or message[0] == "exit":
            break
        _, task_id, task = message

        def stage(oracle: str, step: str, plan: dict[str, Any] | None = None, task_id=task_id) -> None:
            send(channel_out, ("stage", task_id, oracle, step, plan))

        try:
            result = handle(task, stage)
            send(channel_out, ("result", task_id, result))
        except InternalError as exc:
            send(channel_out, ("internal", task_id, str(exc)))
        except Exception:
            send(channel_out, ("internal", task_id, traceback.format_exc(limit=8)))
        done += 1
        if done % CLEAR_EVERY == 0:
            compat.clear_caches()


if __name__ == "__main__":
    # Run the copy imported under its real name, so pickled classes are ``jaxsynth.fuzz.worker.*``.
    from jaxsynth.fuzz import worker as _worker

    _worker.main()
