"""Novelty-guided generation: op weights biased toward the optimized-HLO features seen least so far.

The corpus is generated in *epochs* of ``epoch`` consecutive indices. Epoch 0 uses the config as
given; the op weights of epoch ``k`` are a pure function of the records of epochs ``0..k-1``, read
in index order:

1. For every record ``r``, ``F(r)`` is its set of optimized-HLO features
   (:func:`jaxsynth.dataset.hlo.hlo_features`: opcodes, opcode x type, fusion kinds, fusion roots,
   opcode edges) and ``c(f)`` the number of records so far that contain feature ``f``.
2. A record's novelty is ``sum(1 / c(f) for f in F(r))``: a feature seen once counts 1, a common
   one almost nothing.
3. An op's score ``s(op)`` is the mean novelty of the records that use it; ops not used yet get the
   highest multiplier.
4. The op's weight is its configured weight times ``clip((s(op) / mean score) ** strength, 1/4, 4)``
   (``strength`` defaults to :data:`DEFAULT_STRENGTH`), rounded to 3 significant digits.

Within an epoch records are independent (``record(i) = F(config_k, seed, i)``), so the output is
byte-identical for any worker count, as with plain generation; every epoch runs through the corpus
layer's one range runner (:func:`jaxsynth.corpus.run.run_indices`). Each epoch's records carry the
digest of that epoch's derived config; ``<out>.novelty.json`` lists every epoch's index range, digest
and op weights, and the base config's settings, so :func:`manifest_configs` rebuilds every epoch's
config from the manifest alone (``jaxsynth replay`` finds it beside the corpus).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from jaxsynth.corpus.record import field_decoders, iter_raw
from jaxsynth.dataset.hlo import hlo_features

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.corpus.dedup import Deduplicator
    from jaxsynth.corpus.spec import GenerateSpec
    from jaxsynth.grammar import GrammarConfig

__all__ = [
    "DEFAULT_EPOCH",
    "DEFAULT_STRENGTH",
    "MAX_MULTIPLIER",
    "NoveltyError",
    "NoveltyState",
    "NoveltySummary",
    "derived_config",
    "epoch_configs",
    "generate_novelty",
    "manifest_configs",
    "manifest_path",
]

#: Records per epoch when not given.
DEFAULT_EPOCH = 500
#: Exponent applied to an op's relative novelty score.
DEFAULT_STRENGTH = 2.0
#: Bound on how far an op's weight moves from its configured weight (both ways).
MAX_MULTIPLIER = 4.0


class NoveltyError(ValueError):
    """Novelty-guided generation cannot run as asked (no optimized HLO, a run that cannot be resumed)."""


class _Hlo(msgspec.Struct):
    ops: list[str]


class _NoveltyKeys(msgspec.Struct):
    index: int
    features: _Hlo
    optimized_hlo: str | None = None


_decoders = field_decoders(_NoveltyKeys)


def _round(x: float) -> float:
    return float(f"{x:.3g}")


class NoveltyState:
    """Feature counts of the records seen so far, and the op multipliers they imply."""

    def __init__(self, strength: float = DEFAULT_STRENGTH) -> None:
        self.strength = strength
        self.records = 0
        self.feature_counts: Counter[str] = Counter()  #: feature -> records containing it
        self.op_records: Counter[str] = Counter()  #: op -> records using it
        #: op -> feature -> records using the op that contain the feature (bounded by ops x features)
        self.cooccurrence: dict[str, Counter[str]] = {}

    def add(self, ops: Iterable[str], features: Iterable[str]) -> None:
        feats = frozenset(features)
        self.records += 1
        self.feature_counts.update(feats)
        for op in set(ops):
            self.op_records[op] += 1
            self.cooccurrence.setdefault(op, Counter()).update(feats)

    def add_encoded(self, payload: bytes, fmt: str) -> None:
        """Add one encoded record (a payload without newline / length prefix)."""
        keys = _decoders[fmt](payload.rstrip(b"\n") if fmt == "jsonl" else payload)
        if keys.optimized_hlo is None:
            raise NoveltyError("novelty guidance needs optimized_hlo in every record (emit optimized_hlo)")
        self.add(keys.features.ops, hlo_features(keys.optimized_hlo))

    @property
    def distinct_features(self) -> int:
        return len(self.feature_counts)

    def multipliers(self, ops: Sequence[str]) -> dict[str, float]:
        """Weight multiplier of each op in ``ops`` (sorted keys); all 1.0 before any record."""
        if not self.records:
            return dict.fromkeys(sorted(ops), 1.0)
        counts = self.feature_counts
        # s(op) = mean over records r using op of sum(1 / c(f) for f in F(r))
        #       = sum over features f of cooccurrence(op, f) / c(f), divided by the records using op
        scores = {
            op: sum(n / counts[f] for f, n in sorted(self.cooccurrence[op].items())) / self.op_records[op]
            for op in sorted(self.op_records)
        }
        mean = sum(scores.values()) / len(scores) if scores else 0.0
        result: dict[str, float] = {}
        for op in sorted(ops):
            if op not in scores or mean <= 0.0:
                m = MAX_MULTIPLIER if op not in scores else 1.0
            else:
                m = (scores[op] / mean) ** self.strength if scores[op] > 0 else 1.0 / MAX_MULTIPLIER
            result[op] = _round(min(MAX_MULTIPLIER, max(1.0 / MAX_MULTIPLIER, m)))
        return result


def derived_config(base: GrammarConfig, multipliers: dict[str, float]) -> GrammarConfig:
    """``base`` with ``weights.ops[op] = base weight * multiplier`` (unchanged when all multipliers are 1)."""
    from jaxsynth.grammar.config import validate

    if all(m == 1.0 for m in multipliers.values()):
        return base
    ops = {op: _round(base.weights.ops.get(op, 1.0) * m) for op, m in sorted(multipliers.items())}
    weights = msgspec.structs.replace(base.weights, ops=ops)
    return validate(msgspec.structs.replace(base, weights=weights, name=f"{base.name}+novelty"))


@dataclasses.dataclass(frozen=True)
class NoveltySummary:
    records: int
    seconds: float
    path: str
    epochs: int
    distinct_features: int
    manifest: str
    curve: tuple[tuple[int, int], ...]  #: (records written, distinct HLO features) after each epoch
    failures: int = 0  #: indices that failed (listed in OUT.failures.jsonl), as in plain generation
    replaced_workers: int = 0

    def __str__(self) -> str:
        rate = self.records / self.seconds if self.seconds > 0 else float("inf")
        return (
            f"{self.records} records in {self.seconds:.1f} s ({rate:.1f} records/s) -> {self.path}; "
            f"novelty over {self.epochs} epochs: {self.distinct_features} distinct optimized-HLO features"
            + (f"; {self.failures} failed record(s) skipped" if self.failures else "")
        )


def manifest_path(out_path: str | os.PathLike[str]) -> Path:
    """Where :func:`generate_novelty` writes its per-epoch manifest: ``<out>.novelty.json``."""
    return Path(os.fspath(out_path) + ".novelty.json")


def manifest_configs(manifest: str | os.PathLike[str]) -> list[GrammarConfig]:
    """The config of every epoch of a novelty run, from its manifest alone (the base config's settings
    are stored in it), e.g. for ``jaxsynth replay``; checked against the stored digests."""
    from jaxsynth.grammar import ConfigError, GrammarConfig
    from jaxsynth.grammar.config import validate

    try:
        data = json.loads(Path(manifest).read_text())
        base = validate(msgspec.convert(data["base_settings"], type=GrammarConfig))
    except (OSError, ValueError, KeyError, TypeError, msgspec.ValidationError, ConfigError) as exc:
        raise NoveltyError(f"cannot read the novelty manifest {os.fspath(manifest)}: {exc}") from None
    return epoch_configs(base, manifest)


def epoch_configs(base: GrammarConfig, manifest: str | os.PathLike[str]) -> list[GrammarConfig]:
    """The config of every epoch listed in a novelty manifest (checked against the stored digests)."""
    from jaxsynth.grammar import REGISTRY

    data = json.loads(Path(manifest).read_text())
    configs = []
    for epoch in data["epochs"]:
        config = derived_config(base, dict.fromkeys(sorted(REGISTRY), 1.0) | epoch["multipliers"])
        if config.digest != epoch["digest"]:
            raise NoveltyError(
                f"{manifest}: epoch {epoch['epoch']} has digest {epoch['digest']}, but {base.name!r} "
                f"with its multipliers gives {config.digest}; pass the base config the run used"
            )
        configs.append(config)
    return configs


def generate_novelty(
    config: GrammarConfig | GenerateSpec,
    seed: int | None = None,
    n: int | None = None,
    out_path: str | os.PathLike[str] | None = None,
    workers: int = 1,
    emit: Iterable[str] | str = ("jaxpr", "stablehlo", "optimized_hlo"),
    fmt: str | None = None,
    epoch: int = DEFAULT_EPOCH,
    strength: float = DEFAULT_STRENGTH,
    progress: bool = True,
    dedup: Deduplicator | None = None,
    resume: bool = False,
) -> NoveltySummary:
    """Write records ``0 .. n-1`` of ``(config, seed)`` with novelty-guided op weights (module docstring).

    Takes a :class:`~jaxsynth.corpus.spec.GenerateSpec` with ``novelty`` set (its epoch length),
    or the same settings as arguments. Every epoch runs through the one range runner
    (:func:`jaxsynth.corpus.run.run_indices`) in one pool of isolated workers kept across epochs (or
    in this process for one worker), with the same failures file, crash/hang isolation and progress
    as plain generation. With ``dedup``, duplicates are skipped (and do not count toward the feature
    statistics) and, as in plain generation, ``n`` is the number of records written: indices run on
    until it is reached. With ``resume``, the records already in ``out_path`` (from a run with the
    same config, seed, epoch and strength, per its manifest) are kept and the run continues after
    them, giving the same bytes as an uninterrupted run; ``n`` may be larger than the first run's.
    """
    from jaxsynth.corpus.spec import GenerateSpec, SpecError

    if isinstance(config, GenerateSpec):
        spec = config
    else:
        if seed is None or n is None or out_path is None:
            raise TypeError("generate_novelty(config, seed, n, out_path, ...) or generate_novelty(spec)")
        if n < 0 or workers < 1 or epoch < 1:
            raise NoveltyError(f"need n >= 0, workers >= 1 and epoch >= 1, got {n}, {workers}, {epoch}")
        try:
            spec = GenerateSpec.build(
                config, seed, n, out_path, emit=emit, fmt=fmt, workers=workers, novelty=epoch,
                dedup=dedup.mode if dedup is not None else None, resume=resume, progress=progress,
            )
        except SpecError as exc:
            raise NoveltyError(str(exc)) from None
    if spec.novelty is None:
        raise NoveltyError("the spec has no novelty epoch")
    if dedup is None and spec.dedup is not None:
        from jaxsynth.corpus.dedup import Deduplicator

        dedup = Deduplicator(spec.dedup)
    return _run(spec, strength, dedup)


def _run(spec: GenerateSpec, strength: float, dedup: Deduplicator | None) -> NoveltySummary:
    from jaxsynth.corpus.failures import failures_path
    from jaxsynth.corpus.run import DEFAULT_TIMEOUT, progress_bar, run_indices
    from jaxsynth.corpus.workers import WorkerPool
    from jaxsynth.grammar import REGISTRY

    config, seed, n, epoch, kind = spec.config, spec.seed, spec.n, spec.novelty, spec.format
    assert epoch is not None
    if "optimized_hlo" not in spec.emit:
        raise NoveltyError("novelty-guided generation needs optimized_hlo in emit")
    out_path = spec.out
    existing = _existing(out_path, kind, config, seed, epoch, strength) if spec.resume else []
    if (len(existing) if dedup is not None else existing[-1][0] + 1 if existing else 0) > n:
        raise NoveltyError(f"cannot resume {os.fspath(out_path)} to n={n}: it already holds more records")
    if not existing:  # a fresh run: start from empty files, as plain generation does
        with open(out_path, "wb"):
            pass
        with contextlib.suppress(FileNotFoundError):
            os.remove(failures_path(out_path))
    op_names = sorted(REGISTRY)
    state = NoveltyState(strength)
    epochs: list[dict[str, object]] = []
    curve: list[tuple[int, int]] = []
    started = time.perf_counter()
    workers = max(1, min(spec.workers, n))
    timeout = spec.timeout if spec.timeout is not None else DEFAULT_TIMEOUT
    isolated = spec.isolate if spec.isolate is not None else workers > 1
    pool = WorkerPool(config, seed, spec.emit, kind, workers, timeout=timeout, pin=spec.pin) if isolated else None
    kept = failures = replaced = 0  # existing records consumed; failed indices; replaced workers
    written = 0  # records in the file: kept + new

    def observe(payload: bytes) -> None:
        state.add_encoded(payload, kind)

    try:
        if pool is not None:
            pool.__enter__()
        with progress_bar(n, spec.progress) as bar:
            k = 0
            while (written < n) if dedup is not None else (k * epoch < n):
                start = k * epoch
                stop = start + epoch if dedup is not None else min(n, start + epoch)
                multipliers = state.multipliers(op_names)
                epoch_config = derived_config(config, multipliers)
                epochs.append(
                    {
                        "epoch": k,
                        "start": start,
                        "stop": stop,
                        "digest": epoch_config.digest,
                        "multipliers": {op: m for op, m in multipliers.items() if m != 1.0},
                    }
                )
                first = start  # first index still to generate in this epoch
                while kept < len(existing) and existing[kept][0] < stop and written < n:
                    index, body = existing[kept]
                    if dedup is not None:
                        dedup.add(body, kind)
                    state.add_encoded(body, kind)
                    kept += 1
                    written += 1
                    first = index + 1
                    bar.update(1)
                if first < stop and written < n:
                    summary = run_indices(
                        epoch_config, seed, out_path, kind, spec.emit, first, stop,
                        target=n - written if dedup is not None else None, append=True, dedup=dedup,
                        on_record=observe, workers=workers, isolate=isolated, timeout=timeout, pin=spec.pin,
                        pool=pool,
                    )
                    written += summary.new
                    failures += summary.new_failures
                    replaced += summary.replaced_workers
                    bar.update(summary.new)
                    if dedup is not None and written >= n:
                        epochs[-1]["stop"] = summary.next_index  # the rest of the last epoch is not needed
                curve.append((state.records, state.distinct_features))
                k += 1
    finally:
        if pool is not None:
            pool.close()
    manifest = manifest_path(out_path)
    manifest.write_text(
        json.dumps(
            {
                "base_config": config.name,
                "base_digest": config.digest,
                "base_settings": msgspec.to_builtins(config),
                "seed": seed,
                "n": n,
                "epoch": epoch,
                "strength": strength,
                "max_multiplier": MAX_MULTIPLIER,
                "epochs": epochs,
                "curve": curve,
            },
            indent=1,
            sort_keys=False,
        )
        + "\n"
    )
    return NoveltySummary(
        records=written,
        seconds=time.perf_counter() - started,
        path=os.fspath(out_path),
        epochs=len(epochs),
        distinct_features=state.distinct_features,
        manifest=os.fspath(manifest),
        curve=tuple(curve),
        failures=failures,
        replaced_workers=replaced,
    )


def _existing(
    out_path: str | os.PathLike[str], kind: str, config: GrammarConfig, seed: int, epoch: int, strength: float
) -> list[tuple[int, bytes]]:
    """``(index, payload)`` of the records a resumed run keeps, after checking its manifest."""
    path = Path(out_path)
    if not path.exists():
        return []
    try:
        manifest = json.loads(manifest_path(path).read_text())
    except (OSError, ValueError):
        raise NoveltyError(f"cannot resume {os.fspath(path)}: its novelty manifest is missing or unreadable") from None
    ours = {"base_digest": config.digest, "seed": seed, "epoch": epoch, "strength": strength}
    theirs = {key: manifest.get(key) for key in ours}
    if theirs != ours:
        raise NoveltyError(f"cannot resume {os.fspath(path)}: it was made with {theirs}, this run has {ours}")
    decode = _decoders[kind]
    records = []
    for number, body in iter_raw(path, kind):
        try:
            records.append((decode(body).index, body))
        except msgspec.DecodeError as exc:
            raise NoveltyError(f"cannot resume {os.fspath(path)}: record {number} is unreadable ({exc})") from None
    return records
