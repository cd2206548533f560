"""Run the shards of a corpus as Ray tasks (``jaxsynth generate --engine ray``; extra ``jaxsynth[ray]``).

The driver splits ``[0, n)`` into shards (:func:`~jaxsynth.corpus.shards.shard_bounds`) and runs
:func:`~jaxsynth.corpus.shards.generate_shard` for each as a Ray task on any node of the cluster:
the task writes the shard to a node-local temporary file (with a worker process of its own, so a
crash or hang inside XLA becomes a failure line, not a lost task) and returns the bytes. The driver
stores each finished shard under ``OUT.parts/`` with its completion marker, and at the end
concatenates the parts in shard order into ``OUT`` (and ``OUT.failures.jsonl``) and removes the
parts. Because a shard's bytes depend only on ``(config, seed, n, shard)``, the result is
byte-identical to a local run. A driver that dies can be rerun with ``--resume``: finished parts
are kept and skipped.

Every node needs the same versions of jaxsynth, jax and jaxlib (records name them); a task on a
node with other versions fails with a message naming both.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import shutil
import socket
import tempfile
import time
from typing import TYPE_CHECKING, Any

from jaxsynth.corpus.failures import failures_path
from jaxsynth.corpus.record import CorpusError
from jaxsynth.corpus.run import RunSummary
from jaxsynth.corpus.shards import (
    completed_marker,
    generate_shard,
    merge_shards,
    shard_bounds,
    shard_identity,
    shard_path,
    write_marker,
)
from jaxsynth.corpus.workers import DEFAULT_TIMEOUT

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.grammar import GrammarConfig

__all__ = ["ADDRESS_TIMEOUT", "SHARD_RECORDS", "check_address", "generate_ray", "worker_env"]

#: Default shard size in records (at least four shards per cluster CPU are made when n allows).
SHARD_RECORDS = 1000
#: Seconds a Ray address may take to accept a TCP connection before the run gives up.
ADDRESS_TIMEOUT = 10.0


def check_address(address: str | None, timeout: float = ADDRESS_TIMEOUT) -> None:
    """Fail fast, in one line, when nothing answers at a Ray cluster address.

    ``ray.init`` at an address where nothing listens prints connection warnings for minutes and
    never gives up; this tries one TCP connection first. ``None`` falls back to ``RAY_ADDRESS``;
    no address, ``auto`` and ``local`` are not probed. Raises :class:`CorpusError`.
    """
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None or address in ("auto", "local"):
        return
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    if not sep or not port.isdigit():
        raise CorpusError(f"Ray address {address!r}: expected HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CorpusError(f"no Ray cluster answers at {address!r}: {reason}") from None


def worker_env() -> dict[str, str]:
    """Environment of Ray workers: CPU platform, one XLA thread (what configure_jax_for_workers sets)."""
    from jaxsynth.lowering.workers import _merge_xla_flags
    from jaxsynth.workers.faults import INJECT_ENV

    env = {
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": _merge_xla_flags(os.environ.get("XLA_FLAGS", ""), {"--xla_cpu_multi_thread_eigen": "false"}),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    if INJECT_ENV in os.environ:  # the testing hook reaches workers on every node
        env[INJECT_ENV] = os.environ[INJECT_ENV]
    return env


def _versions() -> dict[str, str]:
    import jaxsynth

    return {
        "jax": importlib.metadata.version("jax"),
        "jaxlib": importlib.metadata.version("jaxlib"),
        "jaxsynth": jaxsynth.__version__,
    }


def _ray_shard(
    config: GrammarConfig,
    seed: int,
    shard: int,
    num_shards: int,
    n: int,
    emit: tuple[str, ...],
    fmt: str,
    isolate: bool,
    timeout: float | None,
    versions: dict[str, str],
) -> tuple[bytes, bytes, dict[str, Any]]:
    """The Ray task: one shard, generated on this node; returns (records, failures lines, summary)."""
    import warnings

    here = _versions()
    if here != versions:
        raise RuntimeError(f"node {socket.gethostname()} has {here}, the driver has {versions}")
    from jaxsynth.lowering import configure_jax_for_workers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a reused Ray worker: already configured
        configure_jax_for_workers(1)
    suffix = ".jsonl" if fmt == "jsonl" else ".msgpack"
    with tempfile.TemporaryDirectory(prefix="jaxsynth-shard-") as tmp:
        path = os.path.join(tmp, f"shard{suffix}")
        summary = generate_shard(
            config, seed, shard, num_shards, n, path, emit, fmt,
            workers=1, isolate=isolate, timeout=timeout, exact_path=True,
        )
        with open(path, "rb") as f:
            data = f.read()
        fails = b""
        if os.path.exists(failures_path(path)):
            with open(failures_path(path), "rb") as f:
                fails = f.read()
    info = {
        "records": summary.records,
        "failures": summary.failures,
        "replaced_workers": summary.replaced_workers,
        "host": socket.gethostname(),
    }
    return data, fails, info


def generate_ray(
    config: GrammarConfig,
    seed: int,
    n: int,
    out_path: str | os.PathLike[str],
    emit: tuple[str, ...],
    fmt: str,
    *,
    address: str | None = None,
    num_shards: int | None = None,
    resume: bool = False,
    isolate: bool = True,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> RunSummary:
    """Generate ``[0, n)`` of ``(config, seed)`` into ``out_path`` with Ray tasks, one per shard.

    ``address`` is passed to ``ray.init`` (``None``: join the cluster named by ``RAY_ADDRESS`` or
    start a local one; ``"auto"``: the cluster this machine belongs to). If Ray is already
    initialized in this process, that connection is used and left open.
    """
    check_address(address)
    try:
        import ray
    except ImportError:
        raise CorpusError("--engine ray needs Ray: pip install 'jaxsynth[ray]'") from None
    from jaxsynth.corpus.run import progress_bar

    started = time.perf_counter()
    out = os.fspath(out_path)
    parts_dir = out + ".parts"
    if not resume and os.path.isdir(parts_dir):
        shutil.rmtree(parts_dir)
    os.makedirs(parts_dir, exist_ok=True)
    owns_ray = not ray.is_initialized()
    if owns_ray:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    try:
        if num_shards is None:
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            num_shards = max(min(n, 4 * cpus), math.ceil(n / SHARD_RECORDS), 1)
        base = os.path.join(parts_dir, os.path.basename(out))
        parts = [shard_path(base, i, num_shards) for i in range(num_shards)]
        identities = [shard_identity(config, seed, n, i, num_shards, emit, fmt) for i in range(num_shards)]
        task = ray.remote(num_cpus=1, max_retries=2, runtime_env={"env_vars": worker_env()})(_ray_shard)
        versions = _versions()
        pending: dict[Any, int] = {}
        replaced = 0
        for i in range(num_shards):
            if completed_marker(parts[i], identities[i]) is None:
                ref = task.remote(config, seed, i, num_shards, n, emit, fmt, isolate, timeout, versions)
                pending[ref] = i
        with progress_bar(num_shards, progress) as bar:
            bar.update(num_shards - len(pending))
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    i = pending.pop(ref)
                    data, fails, info = ray.get(ref)
                    replaced += int(info["replaced_workers"])
                    with open(parts[i], "wb") as f:
                        f.write(data)
                    if fails:
                        with open(failures_path(parts[i]), "wb") as f:
                            f.write(fails)
                    elif os.path.exists(failures_path(parts[i])):
                        os.remove(failures_path(parts[i]))
                    start, stop = shard_bounds(n, i, num_shards)
                    write_marker(
                        parts[i],
                        {**identities[i], "start": start, "stop": stop, "records": info["records"],
                         "failures": info["failures"], "bytes": len(data)},
                    )
                    bar.update(1)
    finally:
        if owns_ray:
            ray.shutdown()
    merged = merge_shards(parts, out)
    shutil.rmtree(parts_dir)
    return RunSummary(
        records=merged.records,
        seconds=time.perf_counter() - started,
        path=out,
        bytes=merged.bytes,
        failures=merged.failures,
        new_failures=merged.failures,
        replaced_workers=replaced,
    )
