"""Running generation: index ranges -> encoded records, in-process or in a pool of spawned workers.

The unit of work is the pure ``index -> encoded record`` of :class:`RecordMaker`; because every
record depends on ``(config, seed, index)`` alone, a file written by :func:`generate` is
byte-identical for any worker count, resume point or shard split (see :mod:`.shards`).

:func:`generate` writes the records of indices ``[0, n)`` to a file, in index order:

- ``workers > 1`` (or ``isolate=True``) runs a :class:`~jaxsynth.corpus.workers.WorkerPool` of
  spawned processes: a worker that crashes or hangs past ``timeout`` is replaced and its index
  recorded as a failure; ``workers == 1`` runs in this process by default.
- A record that cannot be built is skipped and its index written to ``OUT.failures.jsonl`` (see
  :mod:`.failures`); the same failures give the same bytes. If the first few records of a run all
  fail (:data:`ABORT_AFTER`), the cause is systematic (a broken config or toolchain), not one
  unlucky program, and the run stops with :class:`GenerationError`.
- ``resume=True`` continues an interrupted run from what its files hold (see :mod:`.resume`).
- ``dedup="structural"`` (or ``"jaxpr"``, ``"both"``) drops records that duplicate an earlier one
  and keeps going past index ``n - 1`` until ``n`` records are written. The filter runs in the
  writer, in index order, so the output still does not depend on the number of workers.

This module imports no JAX at import time: spawned workers import it to find their entry point and
must configure XLA (:func:`~jaxsynth.lowering.configure_jax_for_workers`) before JAX loads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from jaxsynth.corpus.collector import tuned_collector
from jaxsynth.corpus.failures import Failure, encode_failure, failures_path, read_failures
from jaxsynth.corpus.profile import Profile
from jaxsynth.corpus.record import CorpusError, format_for
from jaxsynth.corpus.workers import DEFAULT_TIMEOUT, Outcome, WorkerPool

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.corpus.dedup import Deduplicator
    from jaxsynth.corpus.spec import GenerateSpec
    from jaxsynth.grammar import GrammarConfig

__all__ = [
    "ABORT_AFTER",
    "CLEAR_CACHES_EVERY",
    "DEFAULT_TIMEOUT",
    "GenerationError",
    "RecordMaker",
    "RunSummary",
    "chunksize_for",
    "generate",
    "generate_range",
    "progress_bar",
    "run_indices",
    "run_spec",
]

#: Records lowered between two ``clear_caches()`` calls, per process. Without it a worker's RSS
#: grows by about 40 MB per 1000 records; with it RSS stays flat (bench/bench_memory.py).
CLEAR_CACHES_EVERY = 256
#: A run whose first ``min(ABORT_AFTER, records planned)`` records all fail stops with an error.
ABORT_AFTER = 8


class GenerationError(RuntimeError):
    """Building one record failed (a bug in sampling, rendering or lowering); names the record."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _release_free_memory() -> None:
    """Return free heap pages to the OS (glibc ``malloc_trim``), so RSS tracks what is really in use."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None


class RecordMaker:
    """``index -> encoded record`` for one ``(config, seed, emit, format)``.

    Calls ``clear_caches()`` every :data:`CLEAR_CACHES_EVERY` records. With ``profile`` every
    :meth:`outcome` carries the seconds spent per stage.
    """

    def __init__(
        self, config: GrammarConfig, seed: int, emit: Iterable[str] | str, fmt: str, profile: bool = False
    ) -> None:
        from jaxsynth.lowering import parse_emit

        self.config = config
        self.seed = seed
        self.emit = parse_emit(emit)
        self.format = fmt
        self.profile = profile
        self.made = 0

    # hooks of jaxsynth.workers.pool: start-up, the scope a worker serves in, and a new config
    def warm_up(self) -> None:
        """Import JAX and start its backend (before the first record's clock starts)."""
        from jaxsynth.corpus.generate import toolchain

        toolchain()

    @staticmethod
    def worker_scope() -> contextlib.AbstractContextManager[None]:
        return tuned_collector()

    def rebuilt(self, previous: RecordMaker) -> None:
        self.made = previous.made  # the clear_caches() cadence counts records, whatever their config

    def _where(self, index: int) -> str:
        return f"record {index} (config {self.config.name} {self.config.digest}, seed {self.seed})"

    def _make(self, index: int, timings: dict[str, float] | None) -> tuple[bytes, tuple[str, str | None]]:
        from jaxsynth.corpus.dedup import jaxpr_hash
        from jaxsynth.corpus.generate import encode_record, make_record
        from jaxsynth.lowering import clear_caches

        started = time.perf_counter()
        try:
            record = make_record(self.config, self.seed, index, self.emit, timings=timings)
            built = time.perf_counter()
            data = encode_record(record, self.format)
            keys = (record.graph_hash, None if record.jaxpr is None else jaxpr_hash(record.jaxpr))
        finally:
            self.made += 1
            if self.made % CLEAR_CACHES_EVERY == 0:
                cleared = time.perf_counter()
                clear_caches()
                _release_free_memory()
                if timings is not None:
                    timings["clear_caches"] = time.perf_counter() - cleared
        if timings is not None:
            inner = sum(v for k, v in timings.items() if k != "clear_caches")
            timings["record"] = max(0.0, built - started - inner)
            timings["encode"] = time.perf_counter() - built - timings.get("clear_caches", 0.0)
        return data, keys

    def __call__(self, index: int) -> bytes:
        try:
            return self._make(index, None)[0]
        except Exception as exc:
            raise GenerationError(f"{self._where(index)}: {_one_line(exc)}") from exc

    def outcome(self, index: int) -> Outcome:
        """The record of ``index`` as an :class:`Outcome` (with its dedup keys); an exception becomes an
        ``error`` outcome."""
        timings: dict[str, float] | None = {} if self.profile else None
        try:
            data, keys = self._make(index, timings)
            return Outcome("ok", index, data, timings=timings, keys=keys)
        except Exception as exc:
            return Outcome("error", index, message=_one_line(exc), timings=timings)


def generate_range(
    config: GrammarConfig, seed: int, start: int, stop: int, emit: Iterable[str] | str, fmt: str = "jsonl"
) -> Iterator[bytes]:
    """Encoded records ``start .. stop-1`` of the corpus ``(config, seed)`` in index order, in-process.

    Raises :class:`GenerationError` for a record that cannot be built.
    """
    maker = RecordMaker(config, seed, emit, fmt)
    with tuned_collector():
        for index in range(start, stop):
            yield maker(index)


def chunksize_for(n: int, workers: int) -> int:
    """Indices per task for engines that hand out contiguous chunks: about four per worker, 1..16."""
    return max(1, min(16, n // (4 * workers)))


# ---------------------------------------------------------------- the summary
@dataclasses.dataclass(frozen=True)
class RunSummary:
    records: int  #: records in the file at the end
    seconds: float
    path: str
    bytes: int  #: size of the file at the end
    new: int = -1  #: records written by this run (-1: same as ``records``)
    failures: int = 0  #: failed indices in the failures file at the end
    new_failures: int = 0
    duplicates: int = 0  #: records dropped by dedup in this run
    replaced_workers: int = 0
    resumed_at: int | None = None  #: first index this run generated, when resuming
    skipped: bool = False  #: a completed shard found by its marker; nothing was done
    profile: str | None = None
    dedup: str | None = None  #: dedup summary line
    next_index: int = -1  #: first index the run did not consume (-1: not known)

    @property
    def written(self) -> int:
        return self.records if self.new < 0 else self.new

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else float("inf")

    @property
    def failures_path(self) -> str:
        return failures_path(self.path)

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.records} records, already complete -> {self.path}"
        text = f"{self.records} records"
        if self.resumed_at is not None:
            text += f" ({self.written} new, resumed at index {self.resumed_at})"
        text += f" in {self.seconds:.1f} s ({self.rate:.1f} records/s) -> {self.path}"
        return text

    def notes(self) -> list[str]:
        """Extra lines for people: failures, replaced workers, dedup."""
        lines = []
        if self.failures:
            lines.append(
                f"{self.failures} failed record(s) skipped ({self.new_failures} in this run), "
                f"listed in {self.failures_path}"
            )
        if self.replaced_workers:
            lines.append(f"{self.replaced_workers} worker(s) replaced after a crash or hang")
        if self.dedup:
            lines.append(self.dedup)
        return lines


# ---------------------------------------------------------------- the writer loop
def _payload(data: bytes, fmt: str) -> bytes:
    return data[:-1] if fmt == "jsonl" else data[4:]


def _check_failures_file(path: str, digest: str, seed: int) -> None:
    for failure in read_failures(path):
        if failure.config_digest != digest or failure.seed != seed:
            raise CorpusError(
                f"cannot resume: {path} lists failures of config {failure.config_digest} seed "
                f"{failure.seed}, not {digest} seed {seed}"
            )
        return


def run_indices(
    config: GrammarConfig,
    seed: int,
    out_path: str | os.PathLike[str],
    fmt: str,
    emit: tuple[str, ...],
    start: int,
    stop: int | None,
    *,
    target: int | None = None,
    workers: int = 1,
    isolate: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    resume: bool = False,
    append: bool = False,
    dedup: str | Deduplicator | None = None,
    on_record: Callable[[bytes], None] | None = None,
    profile: bool = False,
    progress: bool = False,
    pin: bool | None = None,
    pool: WorkerPool | None = None,
) -> RunSummary:
    """Write the records of indices ``start .. stop-1`` to ``out_path``: the one range runner every
    engine uses (the local pool, shards, Ray tasks and novelty epochs).

    The run ends at ``stop`` or once ``target`` records are in the file, whichever comes first
    (``stop=None``: only ``target``; with ``dedup`` a target is required, since duplicates are
    skipped). ``dedup`` is a mode or a :class:`~jaxsynth.corpus.dedup.Deduplicator` that carries its
    state from an earlier range; it judges each record by the keys its worker handed back.
    ``append`` adds to an existing file (and its failures file) as written, without scanning it
    (the caller knows its state, e.g. the previous novelty epoch); ``resume`` scans it first.
    ``on_record`` sees each written record's payload, in order. ``summary.next_index`` is the first
    index not consumed. ``pool`` is a running :class:`WorkerPool` to use (and leave open) instead of
    starting one, e.g. across novelty epochs. See the module docstring for workers, failures and resume.
    """
    from jaxsynth.corpus.dedup import Deduplicator
    from jaxsynth.corpus.resume import check_resumable, scan, scan_failures

    if stop is None and target is None:
        raise ValueError("give stop, target, or both")
    if dedup is not None and target is None:
        raise ValueError("dedup needs a target (duplicates are skipped, so stop alone does not fix the count)")
    started = time.perf_counter()
    path = os.fspath(out_path)
    fail_path = failures_path(path)
    digest = config.digest
    deduper = Deduplicator(dedup) if isinstance(dedup, str) else dedup
    existing = existing_failures = 0
    next_index = start
    resumed_at = None
    if resume:
        state = scan(path, fmt, visit=(lambda p: deduper.add(p, fmt)) if deduper is not None else None)
        check_resumable(state, path, digest, seed, emit, start, stop)
        _check_failures_file(fail_path, digest, seed)
        existing_failures, last_failure = scan_failures(fail_path)
        existing = state.records
        last = max(
            state.last.index if state.last is not None else start - 1,
            last_failure if last_failure is not None else start - 1,
        )
        next_index = max(start, last + 1)
        resumed_at = next_index
    elif not append:
        with contextlib.suppress(FileNotFoundError):
            os.remove(fail_path)

    wanted = max(0, target - existing) if target is not None else None
    if stop is not None:
        indices: Iterable[int] = range(next_index, stop)
        planned = max(0, stop - next_index) if wanted is None else min(wanted, max(0, stop - next_index))
    else:
        indices = itertools.count(next_index)
        planned = wanted or 0
    abort_after = min(ABORT_AFTER, planned) if deduper is None else ABORT_AFTER
    use_pool = pool is not None or (isolate if isolate is not None else workers > 1)
    workers = max(1, min(workers, planned)) if planned else 1
    own_pool = pool is None

    stats = Profile() if profile else None
    written = new_failures = duplicates = replaced_before = 0
    first_failure: Outcome | None = None
    failure_stream = None
    in_process = contextlib.ExitStack()
    try:
        stream = open(path, "ab" if resume or append else "wb", buffering=0)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CorpusError(f"cannot write corpus {path!r}: {exc.strerror}") from None
    try:
        if planned == 0:
            outcomes: Iterator[Outcome] = iter(())
        elif use_pool:
            if pool is None:
                pool = WorkerPool(config, seed, emit, fmt, workers, timeout=timeout, profile=profile, pin=pin)
                pool.__enter__()
            else:
                pool.set_config(config)
            replaced_before = pool.replaced
            outcomes = pool.run(indices)
        else:
            maker = RecordMaker(config, seed, emit, fmt, profile=profile)
            in_process.enter_context(tuned_collector())
            outcomes = (maker.outcome(i) for i in indices)
        with progress_bar(planned, progress) as bar:
            for outcome in outcomes:
                tick = time.perf_counter()
                next_index = outcome.index + 1
                if outcome.ok:
                    if deduper is not None and not deduper.accept_keys(*outcome.keys):  # type: ignore[misc]
                        duplicates += 1
                    else:
                        stream.write(outcome.data)
                        written += 1
                        bar.update(1)
                        if on_record is not None:
                            on_record(_payload(outcome.data, fmt))
                else:
                    failure = Failure(
                        index=outcome.index,
                        seed=seed,
                        config_digest=digest,
                        kind=outcome.kind,
                        message=outcome.message,
                    )
                    if failure_stream is None:
                        failure_stream = open(fail_path, "ab", buffering=0)  # noqa: SIM115
                    failure_stream.write(encode_failure(failure))
                    new_failures += 1
                    first_failure = first_failure or outcome
                    if deduper is None:
                        bar.update(1)
                    if written == 0 and new_failures >= abort_after:
                        raise GenerationError(
                            f"record {first_failure.index} (config {config.name} {digest}, seed {seed}): "
                            f"{first_failure.message} [the first {new_failures} record(s) of the run all "
                            f"failed, see {fail_path}]"
                        )
                if stats is not None:
                    stats.add(outcome.timings)
                    stats.add_writer("write", time.perf_counter() - tick)
                if wanted is not None and written >= wanted:
                    break
    finally:
        in_process.close()
        if pool is not None and own_pool:
            pool.close()
        stream.close()
        if failure_stream is not None:
            failure_stream.close()
    if stats is not None and pool is not None:
        stats.add_writer("wait", pool.wait_seconds)
    return RunSummary(
        records=existing + written,
        seconds=time.perf_counter() - started,
        path=path,
        bytes=os.path.getsize(path),
        new=written,
        failures=existing_failures + new_failures,
        new_failures=new_failures,
        duplicates=duplicates,
        replaced_workers=pool.replaced - replaced_before if pool is not None and planned else 0,
        resumed_at=resumed_at,
        profile=stats.table() if stats is not None else None,
        dedup=deduper.summary() if deduper is not None else None,
        next_index=next_index,
    )


def generate(
    config: GrammarConfig,
    seed: int,
    n: int,
    out_path: str | os.PathLike[str],
    workers: int = 1,
    emit: Iterable[str] | str = ("jaxpr", "stablehlo", "optimized_hlo"),
    fmt: str | None = None,
    progress: bool = True,
    *,
    resume: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
    dedup: str | None = None,
    profile: bool = False,
    pin: bool | None = None,
) -> RunSummary:
    """Write the records of indices ``0 .. n-1`` of ``(config, seed)`` to ``out_path`` in index order.

    ``workers == 1`` runs in this process unless ``isolate``; more use a pool of spawned workers
    (at most ``n``), each pinned to one CPU with ``pin`` (by default only when they fill the CPUs;
    see :class:`~jaxsynth.corpus.workers.WorkerPool`). The format comes from the suffix of
    ``out_path`` unless ``fmt`` is given. A tqdm bar goes to stderr when ``progress`` and stderr is
    a terminal. With ``dedup``, ``n`` is the number of records written (duplicates skipped). See
    the module docstring for the rest.
    """
    from jaxsynth.lowering import parse_emit

    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return run_indices(
        config,
        seed,
        out_path,
        format_for(out_path, fmt),
        parse_emit(emit),
        0,
        None if dedup else n,
        target=n if dedup else None,
        workers=workers,
        isolate=isolate,
        timeout=timeout,
        resume=resume,
        dedup=dedup,
        profile=profile,
        progress=progress,
        pin=pin,
    )


def run_spec(spec: GenerateSpec) -> RunSummary:
    """Run a plain generation spec (not novelty: :mod:`jaxsynth.dataset.novelty` drives its epochs through
    :func:`run_indices`) on its engine: Ray tasks, one shard, or the whole range locally."""
    from jaxsynth.corpus.spec import SpecError

    if spec.novelty is not None:
        raise SpecError("a novelty spec runs through jaxsynth.dataset.novelty.generate_novelty")
    timeout = spec.timeout if spec.timeout is not None else DEFAULT_TIMEOUT
    if spec.engine == "ray":
        from jaxsynth.corpus.ray_engine import generate_ray

        return generate_ray(
            spec.config, spec.seed, spec.n, spec.out, spec.emit, spec.format, address=spec.address,
            num_shards=spec.num_shards, resume=spec.resume, isolate=spec.isolate is not False, timeout=timeout,
            progress=spec.progress,
        )
    options: dict[str, Any] = dict(
        workers=spec.workers, isolate=spec.isolate, timeout=timeout, resume=spec.resume, profile=spec.profile,
        progress=spec.progress, pin=spec.pin,
    )
    if spec.shard is not None:
        from jaxsynth.corpus.shards import generate_shard

        return generate_shard(spec.config, spec.seed, *spec.shard, spec.n, spec.out, spec.emit, spec.format, **options)
    return run_indices(
        spec.config, spec.seed, spec.out, spec.format, spec.emit, 0, None if spec.dedup else spec.n,
        target=spec.n if spec.dedup else None, dedup=spec.dedup, **options,
    )


def progress_bar(total: int, enabled: bool) -> Any:
    """The one progress bar of a run: tqdm on stderr, shown only when ``enabled`` and stderr is a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="rec",
        file=sys.stderr,
        disable=not (enabled and sys.stderr.isatty()),
        dynamic_ncols=True,
        leave=False,
    )
