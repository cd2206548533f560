"""``GenerateSpec``: one generation run, parsed and validated once, at the edge.

Everything a run needs (config, seed, how many records, where, which IR kinds, format, dedup,
novelty, and where it runs) is one frozen object built by :meth:`GenerateSpec.build`, which parses
``emit`` and the format once and rejects combinations that cannot apply with a :class:`SpecError`
naming the options. Engines take the spec (:func:`jaxsynth.corpus.run.run_spec`), never a long list
of positional parameters. The config's ``transforms`` travel inside the config.

Options left at ``None`` were not given; :meth:`GenerateSpec.build` refuses an option the chosen
engine would ignore (``--shards`` without Ray, ``--workers`` with Ray, ...), so nothing is ever
silently dropped.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from jaxsynth.corpus.record import FORMATS, CorpusError, suffix_format
from jaxsynth.lowering.kinds import DEFAULT_EMIT, parse_emit

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from jaxsynth.grammar import GrammarConfig

__all__ = ["DEDUP_MODES", "ENGINES", "GenerateSpec", "SpecError"]

#: Where a run's records are made: local processes, or Ray tasks.
ENGINES: tuple[str, ...] = ("local", "ray")
#: Dedup modes (see :mod:`jaxsynth.corpus.dedup`).
DEDUP_MODES: tuple[str, ...] = ("structural", "jaxpr", "both")


class SpecError(CorpusError):
    """A run that cannot be made as asked (bad value, or options that do not apply together)."""


@dataclasses.dataclass(frozen=True)
class GenerateSpec:
    config: GrammarConfig
    seed: int
    n: int  #: records 0..n-1 (with ``dedup``: n distinct records)
    out: str
    emit: tuple[str, ...] = DEFAULT_EMIT
    format: str = "jsonl"
    dedup: str | None = None
    novelty: int | None = None  #: records per novelty epoch; None: plain generation
    engine: str = "local"
    workers: int = 1  #: local worker processes (1: in this process unless ``isolate``)
    isolate: bool | None = None  #: None: isolate when workers > 1 (always under Ray)
    timeout: float | None = None  #: seconds per record in an isolated worker; None: the default
    pin: bool | None = None
    shard: tuple[int, int] | None = None  #: (i, num_shards): write only that shard
    address: str | None = None  #: Ray cluster address
    num_shards: int | None = None  #: Ray tasks
    resume: bool = False
    profile: bool = False
    progress: bool = False

    @classmethod
    def build(
        cls,
        config: GrammarConfig,
        seed: int,
        n: int,
        out: str | os.PathLike[str] | None,
        *,
        emit: str | Iterable[str] = DEFAULT_EMIT,
        fmt: str | None = None,
        workers: int | None = None,
        **options: object,
    ) -> GenerateSpec:
        """Parse and check a run. Raises :class:`SpecError`.

        The format is ``fmt``, else the suffix of ``out`` (``.jsonl``, ``.msgpack``), else jsonl; a
        ``fmt`` the suffix contradicts is an error. ``out=None``: ``corpus.jsonl`` (or ``.msgpack``).
        ``workers=None``: the CPU count for local runs.
        """
        try:
            kinds = parse_emit(emit)
        except ValueError as exc:
            raise SpecError(f"emit: {exc}") from None
        named = suffix_format(out) if out is not None else None
        if fmt is not None and fmt not in FORMATS:
            raise SpecError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
        if fmt and named and fmt != named:
            raise SpecError(f"--format {fmt} does not match the suffix of {os.fspath(out)!r} (a {named} file)")
        kind = fmt or named or "jsonl"
        path = os.fspath(out) if out is not None else f"corpus.{kind}"
        spec = cls(config=config, seed=seed, n=n, out=path, emit=kinds, format=kind, workers=workers or 1,
                   **options)  # type: ignore[arg-type]
        spec._check(workers_given=workers is not None)
        if workers is None and spec.engine == "local":
            spec = dataclasses.replace(spec, workers=os.cpu_count() or 1)
        return spec

    def _check(self, workers_given: bool) -> None:
        if self.n < 0:
            raise SpecError(f"n must be >= 0, got {self.n}")
        if self.seed < 0 or self.seed >= 2**63:
            raise SpecError(f"seed must be in [0, 2**63), got {self.seed}")
        if self.workers < 1:
            raise SpecError(f"workers must be >= 1, got {self.workers}")
        if self.engine not in ENGINES:
            raise SpecError(f"unknown engine {self.engine!r}; allowed: {', '.join(ENGINES)}")
        if self.dedup is not None and self.dedup not in DEDUP_MODES:
            raise SpecError(f"unknown dedup mode {self.dedup!r}; allowed: {', '.join(DEDUP_MODES)}")
        if self.dedup in ("jaxpr", "both") and "jaxpr" not in self.emit:
            raise SpecError(f"--dedup {self.dedup} compares JAXPRs: add jaxpr to --emit")
        if self.timeout is not None and not self.timeout > 0:
            raise SpecError(f"timeout must be > 0 seconds, got {self.timeout}")
        if self.novelty is not None:
            if self.novelty < 1:
                raise SpecError(f"novelty epoch must be >= 1, got {self.novelty}")
            if "optimized_hlo" not in self.emit:
                raise SpecError("--novelty needs optimized_hlo in --emit (it reads each record's optimized HLO)")
            if self.profile:
                raise SpecError("--profile does not apply to --novelty (it reports one run, not epochs): drop it")
        ordered = [name for name, on in (("--novelty", self.novelty is not None), ("--dedup", self.dedup)) if on]
        if ordered and (self.shard is not None or self.engine != "local"):
            raise SpecError(
                f"{' and '.join(ordered)} need one writer that sees every record in order: "
                "drop --shard and --engine ray"
            )
        if self.engine == "ray":
            given = [name for name, on in (
                ("--shard", self.shard is not None), ("--workers", workers_given), ("--pin", self.pin is not None),
                ("--profile", self.profile),
            ) if on]
            if given:
                verb = "does" if len(given) == 1 else "do"
                raise SpecError(
                    f"{', '.join(given)} {verb} not apply to --engine ray (it runs every shard itself, each Ray "
                    f"task in one worker process): drop {' and '.join(given)}"
                )
        else:
            given = [name for name, on in (
                ("--address", self.address is not None), ("--shards", self.num_shards is not None)
            ) if on]
            if given:
                raise SpecError(f"{' and '.join(given)} only apply to --engine ray: add --engine ray or drop them")
        if self.isolate is False and self.workers > 1:
            raise SpecError(f"--in-process runs one worker in this process, not {self.workers}: drop --workers")
        if self.isolate is False or (self.isolate is None and self.engine == "local" and workers_given
                                     and self.workers == 1):
            given = [name for name, on in (("--timeout", self.timeout is not None), ("--pin", self.pin is not None))
                     if on]
            if given:
                raise SpecError(
                    f"{' and '.join(given)} only apply to isolated workers, and this run makes its records in "
                    f"this process: add --isolate or drop {' and '.join(given)}"
                )

    @property
    def in_process(self) -> bool:
        """Whether records are made in this process (no isolated worker)."""
        if self.engine == "ray":
            return False
        return not (self.isolate if self.isolate is not None else self.workers > 1)
