"""Running generation: index ranges -> encoded records, in-process or in a pool of spawned workers.

The unit of work is the pure :func:`generate_range` (indices ``[start, stop)`` -> encoded records in
index order). :func:`generate` writes ``[0, n)`` to a file with one or more workers; because every
record depends on ``(config, seed, index)`` alone, the file is byte-identical for any worker count.
Shards, resume and other engines are other ways of covering index ranges with the same function.

This module imports no JAX at import time: spawned workers import it to find their initializer and
must configure XLA (:func:`~jaxsynth.lowering.configure_jax_for_workers`) before JAX loads.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from jaxsynth.corpus.record import format_for, open_writer

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.grammar import GrammarConfig

__all__ = [
    "CLEAR_CACHES_EVERY",
    "GenerationError",
    "RecordMaker",
    "RunSummary",
    "chunksize_for",
    "generate",
    "generate_range",
]

#: Records lowered between two ``clear_caches()`` calls, per process.
CLEAR_CACHES_EVERY = 256


class GenerationError(RuntimeError):
    """Building one record failed (a bug in sampling, rendering or lowering); names the record."""


class RecordMaker:
    """``index -> encoded record`` for one ``(config, seed, emit, format)``.

    Calls ``clear_caches()`` every :data:`CLEAR_CACHES_EVERY` records.
    """

    def __init__(self, config: GrammarConfig, seed: int, emit: Iterable[str] | str, fmt: str) -> None:
        from jaxsynth.lowering import parse_emit

        self.config = config
        self.seed = seed
        self.emit = parse_emit(emit)
        self.format = fmt
        self.made = 0

    def __call__(self, index: int) -> bytes:
        from jaxsynth.corpus.generate import encode_record, make_record
        from jaxsynth.lowering import clear_caches

        try:
            data = encode_record(make_record(self.config, self.seed, index, self.emit), self.format)
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise GenerationError(
                f"record {index} (config {self.config.name} {self.config.digest}, seed {self.seed}): "
                f"{type(exc).__name__}: {message}"
            ) from exc
        self.made += 1
        if self.made % CLEAR_CACHES_EVERY == 0:
            clear_caches()
        return data


def generate_range(
    config: GrammarConfig, seed: int, start: int, stop: int, emit: Iterable[str] | str, fmt: str = "jsonl"
) -> Iterator[bytes]:
    """Encoded records ``start .. stop-1`` of the corpus ``(config, seed)`` in index order, in-process."""
    maker = RecordMaker(config, seed, emit, fmt)
    for index in range(start, stop):
        yield maker(index)


# ---------------------------------------------------------------- worker processes
_maker: RecordMaker | None = None


def _init_worker(config: GrammarConfig, seed: int, emit: tuple[str, ...], fmt: str) -> None:
    """Pool initializer: pin XLA to CPU and one thread *before* JAX is imported, then build the maker."""
    from jaxsynth.lowering import configure_jax_for_workers

    configure_jax_for_workers(1)
    global _maker
    _maker = RecordMaker(config, seed, emit, fmt)


def _work(index: int) -> bytes:
    assert _maker is not None, "worker not initialized"
    return _maker(index)


def chunksize_for(n: int, workers: int) -> int:
    """imap chunk size: about four chunks per worker, between 1 and 16 records."""
    return max(1, min(16, n // (4 * workers)))


def _imap_pool(
    config: GrammarConfig, seed: int, start: int, stop: int, emit: tuple[str, ...], fmt: str, workers: int
) -> Iterator[bytes]:
    context = multiprocessing.get_context("spawn")  # never fork a process that may have loaded JAX
    with context.Pool(workers, initializer=_init_worker, initargs=(config, seed, emit, fmt)) as pool:
        yield from pool.imap(_work, range(start, stop), chunksize=chunksize_for(stop - start, workers))


# ---------------------------------------------------------------- the local runner
@dataclasses.dataclass(frozen=True)
class RunSummary:
    records: int
    seconds: float
    path: str
    bytes: int

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        return f"{self.records} records in {self.seconds:.1f} s ({self.rate:.1f} records/s) -> {self.path}"


def generate(
    config: GrammarConfig,
    seed: int,
    n: int,
    out_path: str | os.PathLike[str],
    workers: int = 1,
    emit: Iterable[str] | str = ("jaxpr", "stablehlo", "optimized_hlo"),
    fmt: str | None = None,
    progress: bool = True,
) -> RunSummary:
    """Write records ``0 .. n-1`` of ``(config, seed)`` to ``out_path`` in index order.

    ``workers == 1`` runs in this process; more use a spawn pool (at most ``n`` processes). The
    format comes from the suffix of ``out_path`` unless ``fmt`` is given. A tqdm bar goes to stderr
    when ``progress`` and stderr is a terminal.
    """
    from jaxsynth.lowering import parse_emit

    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    kinds = parse_emit(emit)
    kind = format_for(out_path, fmt)
    workers = max(1, min(workers, n))
    started = time.perf_counter()
    if workers == 1:
        chunks = generate_range(config, seed, 0, n, kinds, kind)
    else:
        chunks = _imap_pool(config, seed, 0, n, kinds, kind, workers)
    size = 0
    with open_writer(out_path, kind) as writer, _progress(n, progress) as bar:
        for data in chunks:
            writer.write_encoded(data)
            size += len(data)
            bar.update(1)
        count = writer.count
    return RunSummary(
        records=count, seconds=time.perf_counter() - started, path=os.fspath(out_path), bytes=size
    )


def _progress(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="rec",
        file=sys.stderr,
        disable=not (enabled and sys.stderr.isatty()),
        dynamic_ncols=True,
        leave=False,
    )
