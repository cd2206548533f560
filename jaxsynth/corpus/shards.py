"""Shards: cover ``[0, n)`` with ``num_shards`` contiguous index ranges, one file each.

:func:`generate_shard` is pure and idempotent: shard ``i`` of ``num_shards`` holds exactly the
records of indices :func:`shard_bounds` ``(n, i, num_shards)``, so concatenating the shard files in
order gives the bytes of a single run over ``[0, n)`` (and likewise their failures files). Any
external scheduler (a Slurm array, a Kubernetes job, a shell loop) can run the shards; executors
only decide *where* a shard runs, never what it holds.

Files, for ``-o DIR/corpus.jsonl`` and shard 3 of 16::

    DIR/corpus-00003-of-00016.jsonl                  the records
    DIR/corpus-00003-of-00016.jsonl.failures.jsonl   failed indices (only if any)
    DIR/corpus-00003-of-00016.jsonl.done             completion marker (JSON)

The marker is written (atomically, by rename) only after the shard file is complete; it names the
command (config digest, seed, n, shard, emit, format), the record and failure counts and the file
size. A rerun finds a matching marker and a file of that size and skips the shard; a shard without
a marker is regenerated, or continued with ``resume``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from jaxsynth.corpus.failures import failures_path
from jaxsynth.corpus.record import format_for
from jaxsynth.corpus.run import RunSummary, run_indices
from jaxsynth.corpus.workers import DEFAULT_TIMEOUT

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.grammar import GrammarConfig

__all__ = [
    "MARKER_SUFFIX",
    "completed_marker",
    "generate_shard",
    "marker_path",
    "merge_shards",
    "parse_shard",
    "read_marker",
    "shard_bounds",
    "shard_identity",
    "shard_path",
    "write_marker",
]

MARKER_SUFFIX = ".done"


def shard_bounds(n: int, shard: int, num_shards: int) -> tuple[int, int]:
    """``(start, stop)`` of shard ``shard`` of ``num_shards`` over indices ``[0, n)``: contiguous,
    in order, sizes differing by at most one."""
    if num_shards < 1 or not 0 <= shard < num_shards:
        raise ValueError(f"shard must be in 0..{num_shards - 1} of num_shards >= 1, got {shard}/{num_shards}")
    return shard * n // num_shards, (shard + 1) * n // num_shards


def parse_shard(text: str) -> tuple[int, int]:
    """``"3/16"`` -> ``(3, 16)``; shards count from 0."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"expected I/N such as 0/4, got {text!r}")
    shard, num_shards = int(match[1]), int(match[2])
    if num_shards < 1 or shard >= num_shards:
        raise ValueError(f"shard {shard} of {num_shards}: need 0 <= I < N")
    return shard, num_shards


def shard_path(out_path: str | os.PathLike[str], shard: int, num_shards: int) -> str:
    """``corpus.jsonl`` -> ``corpus-00003-of-00016.jsonl`` (names sort in shard order)."""
    path = Path(out_path)
    width = max(5, len(str(num_shards - 1)))
    return os.fspath(path.with_name(f"{path.stem}-{shard:0{width}d}-of-{num_shards:0{width}d}{path.suffix}"))


def marker_path(shard_file: str | os.PathLike[str]) -> str:
    return os.fspath(shard_file) + MARKER_SUFFIX


def shard_identity(
    config: GrammarConfig, seed: int, n: int, shard: int, num_shards: int, emit: tuple[str, ...], fmt: str
) -> dict[str, object]:
    return {
        "config_digest": config.digest,
        "config_name": config.name,
        "seed": seed,
        "n": n,
        "shard": shard,
        "num_shards": num_shards,
        "emit": list(emit),
        "format": fmt,
    }


def read_marker(shard_file: str | os.PathLike[str]) -> dict[str, object] | None:
    """The completion marker of a shard file, or None if there is none (or it is unreadable)."""
    try:
        with open(marker_path(shard_file), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def completed_marker(shard_file: str, identity: dict[str, object]) -> dict[str, object] | None:
    marker = read_marker(shard_file)
    if marker is None or any(marker.get(k) != v for k, v in identity.items()):
        return None
    try:
        if os.path.getsize(shard_file) != marker.get("bytes"):
            return None
    except OSError:
        return None
    return marker


def write_marker(shard_file: str, data: dict[str, object]) -> None:
    tmp = marker_path(shard_file) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, marker_path(shard_file))


def generate_shard(
    config: GrammarConfig,
    seed: int,
    shard: int,
    num_shards: int,
    n: int,
    out_path: str | os.PathLike[str],
    emit: Iterable[str] | str = ("jaxpr", "stablehlo", "optimized_hlo"),
    fmt: str | None = None,
    *,
    workers: int = 1,
    isolate: bool | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    resume: bool = False,
    profile: bool = False,
    progress: bool = False,
    exact_path: bool = False,
    pin: bool | None = None,
) -> RunSummary:
    """Write shard ``shard`` of ``num_shards`` of the corpus ``(config, seed)`` over ``[0, n)``.

    The shard file is :func:`shard_path` ``(out_path, ...)`` (or ``out_path`` itself with
    ``exact_path``). A shard whose completion marker matches is skipped (``summary.skipped``).
    """
    from jaxsynth.lowering import parse_emit

    kinds = parse_emit(emit)
    kind = format_for(out_path, fmt)
    start, stop = shard_bounds(n, shard, num_shards)
    path = os.fspath(out_path) if exact_path else shard_path(out_path, shard, num_shards)
    identity = shard_identity(config, seed, n, shard, num_shards, kinds, kind)
    done = completed_marker(path, identity)
    if done is not None:
        return RunSummary(
            records=int(done["records"]),  # type: ignore[call-overload]
            seconds=0.0,
            path=path,
            bytes=int(done["bytes"]),  # type: ignore[call-overload]
            new=0,
            failures=int(done["failures"]),  # type: ignore[call-overload]
            skipped=True,
        )
    if os.path.exists(marker_path(path)):
        os.remove(marker_path(path))  # stale: another command or a changed file
    summary = run_indices(
        config,
        seed,
        path,
        kind,
        kinds,
        start,
        stop,
        workers=workers,
        isolate=isolate,
        timeout=timeout,
        resume=resume,
        profile=profile,
        progress=progress,
        pin=pin,
    )
    write_marker(
        path,
        {**identity, "start": start, "stop": stop, "records": summary.records, "failures": summary.failures,
         "bytes": summary.bytes},
    )
    return summary


@dataclasses.dataclass(frozen=True)
class MergeResult:
    records: int
    failures: int
    bytes: int


def merge_shards(parts: list[str], out_path: str | os.PathLike[str]) -> MergeResult:
    """Concatenate shard files (in the order given) into ``out_path``, and their failures files
    into ``out_path``'s failures file (written only if any shard has failures). Atomic per file."""
    out = os.fspath(out_path)
    size = 0
    tmp = out + ".tmp"
    with open(tmp, "wb") as sink:
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, sink, 1 << 20)
        size = sink.tell()
    os.replace(tmp, out)
    fails = [failures_path(p) for p in parts if os.path.exists(failures_path(p))]
    failure_count = 0
    fail_out = failures_path(out)
    if fails:
        with open(fail_out + ".tmp", "wb") as sink:
            for part in fails:
                with open(part, "rb") as source:
                    data = source.read()
                    failure_count += data.count(b"\n")
                    sink.write(data)
        os.replace(fail_out + ".tmp", fail_out)
    elif os.path.exists(fail_out):
        os.remove(fail_out)
    records = 0
    for part in parts:
        marker = read_marker(part)
        records += int(marker["records"]) if marker else 0  # type: ignore[call-overload]
    return MergeResult(records=records, failures=failure_count, bytes=size)
