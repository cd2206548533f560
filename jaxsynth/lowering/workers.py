"""Environment set-up for lowering worker processes (imports no JAX itself).

XLA reads ``XLA_FLAGS`` once, when JAX initializes its backend (the first
device query, ``jit`` execution or compilation), and ``JAX_PLATFORMS`` is read
when ``jax`` is imported. So :func:`configure_jax_for_workers` must run at the
top of a freshly spawned worker, before anything touches a JAX backend.
Calling it later has no effect on the running backend (a ``RuntimeWarning``
says so).

The flags chosen do not change any emitted IR text: the lowering tests compare
a configured process against an unconfigured one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

__all__ = ["BLAS_THREAD_VARS", "backend_initialized", "configure_jax_for_workers"]

#: What sets the number of threads of numpy's BLAS; read once, when numpy loads it.
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _merge_xla_flags(existing: str, flags: dict[str, str]) -> str:
    """Append ``--name=value`` flags to ``existing`` unless the caller set that flag already."""
    tokens = existing.split()
    names = {t.split("=", 1)[0] for t in tokens}
    for name, value in flags.items():
        if name not in names:
            tokens.append(f"{name}={value}")
    return " ".join(tokens)


def backend_initialized() -> bool:
    """Whether this process has started a JAX backend (after which XLA_FLAGS no longer take effect)."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:  # pragma: no cover - private API moved
        return True


def _pin_every_thread(cpu: int) -> None:
    """Pin every thread of this process to ``cpu`` (on Linux affinity is per thread; threads started
    later inherit it). Threads may exist already: numpy's BLAS starts its pool on import."""
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # pragma: no cover - no /proc: the calling thread only
        threads = [0]
    for tid in threads:
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(tid, {cpu})


def configure_jax_for_workers(threads: int = 1, cpu: int | None = None) -> dict[str, str]:
    """Configure the environment of a worker process so XLA:CPU uses ``threads`` threads.

    Sets ``JAX_PLATFORMS=cpu``; with ``threads == 1`` adds
    ``--xla_cpu_multi_thread_eigen=false`` to ``XLA_FLAGS`` (flags the caller
    already put in ``XLA_FLAGS`` win); and sets ``OMP_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` to ``threads`` unless they
    are already set (the numpy reference runs in the same workers).

    With ``cpu``, every thread of the process is also pinned to that CPU
    (``os.sched_setaffinity``; ignored where the OS has no such call), and so is every thread
    it starts afterwards. That is what
    makes a worker use one core: XLA:CPU compiles on a thread pool sized by the machine's core
    count whatever the flags say, and without the pin a lone worker keeps 1.2 cores busy.

    Only effective before JAX initializes its backend; call it first thing in a
    spawned worker. If ``jax`` is already imported but no backend exists yet,
    the platform is also set through ``jax.config``. Returns the environment
    variables applied, as a dict.
    """
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        _pin_every_thread(cpu)
    if backend_initialized():
        warnings.warn(
            "configure_jax_for_workers() called after JAX initialized its backend; "
            "XLA_FLAGS and JAX_PLATFORMS no longer take effect in this process",
            RuntimeWarning,
            stacklevel=2,
        )
    flags: dict[str, str] = {}
    if threads == 1:
        flags["--xla_cpu_multi_thread_eigen"] = "false"
    applied: dict[str, str] = {
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": _merge_xla_flags(os.environ.get("XLA_FLAGS", ""), flags),
    }
    for var in BLAS_THREAD_VARS:
        applied[var] = os.environ.get(var, str(threads))
    os.environ.update(applied)
    if "jax" in sys.modules and not backend_initialized():
        import jax

        jax.config.update("jax_platforms", "cpu")
    return applied

