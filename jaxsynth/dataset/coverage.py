"""How much of *your* code's IR a corpus covers: ``jaxsynth coverage``.

A :class:`Profile` counts what a set of IR texts contains, in four families:

- ``jaxpr``: JAXPR primitives (``sin``, ``dot_general``, ``custom_jvp_call``, nested bodies included);
- ``jaxpr_dtype``: (primitive, dtype of its first result) pairs, written ``sin:f32``;
- ``stablehlo``: StableHLO (MLIR) ops, ``stablehlo.sine``;
- ``hlo``: optimized-HLO opcodes, ``fusion``, ``dot``.

The corpus profile reads every record's ``jaxpr``, ``grad_jaxpr`` and ``vmap_jaxpr`` (all JAXPR
families), ``stablehlo`` and ``optimized_hlo`` texts (nothing is executed). The target profile comes
from functions lowered here (``--against FILE.py:FUNC``, ``--against-list MANIFEST.py``) or from the
texts of existing records (``--against-records``). Coverage of a family is

- *distinct*: the fraction of the target's distinct items that occur somewhere in the corpus;
- *weighted*: the fraction of the target's item occurrences whose item occurs in the corpus.

The report lists what is missing, most frequent in the target first (ties by name), and how many
targets have every JAXPR primitive covered. Everything is counted in a fixed order, so the same
inputs give the same report.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from jaxsynth.corpus.record import field_decoders
from jaxsynth.corpus.sources import Corpus, open_corpus
from jaxsynth.dataset.hlo import parse_hlo
from jaxsynth.lowering.irtext import jaxpr_equations, stablehlo_ops

__all__ = [
    "FAMILIES",
    "CoverageReport",
    "FamilyCoverage",
    "Profile",
    "corpus_profile",
    "coverage",
    "function_profile",
    "records_profiles",
    "texts_profile",
]

#: Family key -> what the report calls it, in report order.
FAMILIES: dict[str, str] = {
    "jaxpr": "JAXPR primitives",
    "jaxpr_dtype": "(primitive, dtype) pairs",
    "stablehlo": "StableHLO ops",
    "hlo": "optimized-HLO opcodes",
}


@dataclasses.dataclass
class Profile:
    """Occurrences per item of each family (see the module docstring)."""

    counts: dict[str, Counter[str]] = dataclasses.field(default_factory=lambda: {f: Counter() for f in FAMILIES})

    def add(self, other: Profile) -> None:
        for family in FAMILIES:
            self.counts[family].update(other.counts[family])


def texts_profile(
    jaxprs: Iterable[str | None] = (), stablehlo: str | None = None, optimized_hlo: str | None = None
) -> Profile:
    """The profile of IR texts: any number of JAXPRs, one StableHLO and one optimized-HLO text."""
    profile = Profile()
    for text in jaxprs:
        if text:
            for primitive, dtype in jaxpr_equations(text):
                profile.counts["jaxpr"][primitive] += 1
                profile.counts["jaxpr_dtype"][f"{primitive}:{dtype}"] += 1
    if stablehlo:
        profile.counts["stablehlo"].update(stablehlo_ops(stablehlo))
    if optimized_hlo:
        profile.counts["hlo"].update(parse_hlo(optimized_hlo).opcodes)
    return profile


class _Texts(msgspec.Struct):
    id: str
    jaxpr: str | None = None
    stablehlo: str | None = None
    optimized_hlo: str | None = None
    grad_jaxpr: str | None = None
    vmap_jaxpr: str | None = None


_decoders = field_decoders(_Texts)


def corpus_profile(corpus: Corpus) -> tuple[Profile, int]:
    """``(profile, records)`` of a corpus: every JAXPR text of a record counts (forward, grad, vmap)."""
    profile, records = Profile(), 0
    for _, _, texts in corpus.decode_fields(_decoders):
        profile.add(texts_profile((texts.jaxpr, texts.grad_jaxpr, texts.vmap_jaxpr), texts.stablehlo,
                                  texts.optimized_hlo))
        records += 1
    return profile, records


def records_profiles(corpus: Corpus) -> list[tuple[str, Profile]]:
    """One ``(record id, profile)`` per record, from its forward texts (``jaxpr``, ``stablehlo``,
    ``optimized_hlo``): the targets of ``--against-records``."""
    return [
        (texts.id, texts_profile((texts.jaxpr,), texts.stablehlo, texts.optimized_hlo))
        for _, _, texts in corpus.decode_fields(_decoders)
    ]


def function_profile(fn: Callable, arg_types: Sequence[Any]) -> Profile:
    """The profile of ``fn`` lowered at ``arg_types`` (JAXPR, StableHLO and optimized HLO)."""
    from jaxsynth.lowering import lower

    texts = lower(fn, arg_types, emit=("jaxpr", "stablehlo", "optimized_hlo"))
    return texts_profile((texts.jaxpr,), texts.stablehlo, texts.optimized_hlo)


@dataclasses.dataclass(frozen=True)
class FamilyCoverage:
    """Coverage of one family."""

    family: str
    distinct: int  #: distinct items in the target
    distinct_covered: int
    occurrences: int  #: item occurrences in the target
    occurrences_covered: int
    missing: tuple[tuple[str, int], ...]  #: (item, occurrences in the target), most frequent first

    @property
    def distinct_ratio(self) -> float | None:
        return self.distinct_covered / self.distinct if self.distinct else None

    @property
    def weighted_ratio(self) -> float | None:
        return self.occurrences_covered / self.occurrences if self.occurrences else None


@dataclasses.dataclass(frozen=True)
class CoverageReport:
    """Coverage of the pooled targets by a corpus, per family, plus per-target completeness."""

    corpus: str
    records: int
    targets: tuple[str, ...]
    families: tuple[FamilyCoverage, ...]
    complete: tuple[str, ...]  #: targets whose JAXPR primitives all occur in the corpus

    def family(self, key: str) -> FamilyCoverage:
        return next(f for f in self.families if f.family == key)

    def to_json(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus,
            "records": self.records,
            "targets": list(self.targets),
            "complete_targets": list(self.complete),
            "families": {
                f.family: {
                    "name": FAMILIES[f.family],
                    "distinct": f.distinct,
                    "distinct_covered": f.distinct_covered,
                    "distinct_ratio": f.distinct_ratio,
                    "occurrences": f.occurrences,
                    "occurrences_covered": f.occurrences_covered,
                    "weighted_ratio": f.weighted_ratio,
                    "missing": dict(f.missing),
                }
                for f in self.families
            },
        }

    def text(self, top: int = 20) -> str:
        """The report for a person: a table, then the missing items of each family."""

        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"

        lines = [
            f"coverage of {len(self.targets)} target{'s' if len(self.targets) != 1 else ''} by {self.corpus} "
            f"({self.records} records)",
            f"{'':<26}{'distinct':>22}{'weighted':>24}",
        ]
        for f in self.families:
            lines.append(
                f"{FAMILIES[f.family]:<26}{f'{f.distinct_covered}/{f.distinct}':>14} {pct(f.distinct_ratio):>7}"
                f"{f'{f.occurrences_covered}/{f.occurrences}':>16} {pct(f.weighted_ratio):>7}"
            )
        lines.append(f"targets with every JAXPR primitive covered: {len(self.complete)}/{len(self.targets)}")
        for f in self.families:
            if f.missing:
                shown = ", ".join(f"{item} ({n})" for item, n in f.missing[:top])
                more = f", ... {len(f.missing) - top} more" if len(f.missing) > top else ""
                lines.append(f"missing {FAMILIES[f.family]}: {shown}{more}")
        return "\n".join(lines) + "\n"


Target = tuple[str, Profile] | tuple[str, Callable, Sequence[Any]]


def coverage(
    corpus: Corpus | Profile | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    targets: Sequence[Target],
    corpus_name: str = "",
    records: int = 0,
) -> CoverageReport:
    """Coverage of ``targets`` (pooled) by ``corpus``.

    ``corpus`` is a :class:`~jaxsynth.corpus.sources.Corpus`, corpus sources (files, globs, folders),
    or an already computed :class:`Profile` (then pass ``corpus_name`` and ``records`` for the report).
    Each target is ``(name, profile)`` or ``(name, function, arg_types)``, where ``arg_types`` are
    ``ShapeDtypeStruct`` pytrees or ``--arg`` spec strings (``"f32[8,4]"``); a function is lowered here.

    >>> report = coverage("corpus.jsonl", [("relu", jax.nn.relu, ["f32[8,16]"])])
    >>> report.family("jaxpr").distinct_ratio
    """
    if isinstance(corpus, Profile):
        have = corpus
    else:
        if not isinstance(corpus, Corpus):
            corpus = open_corpus(corpus)
        corpus_name = corpus.name
        have, records = corpus_profile(corpus)
    profiles: list[tuple[str, Profile]] = []
    for target in targets:
        if len(target) == 2:
            profiles.append(target)  # type: ignore[arg-type]
            continue
        name, fn, arg_types = target  # type: ignore[misc]
        from jaxsynth.lowering import parse_arg

        parsed = [parse_arg(a) if isinstance(a, str) else a for a in arg_types]
        profiles.append((name, function_profile(fn, parsed)))
    targets = profiles
    pooled = Profile()
    for _, profile in targets:
        pooled.add(profile)
    families = []
    for family in FAMILIES:
        want, got = pooled.counts[family], have.counts[family]
        covered = [item for item in want if got[item] > 0]
        missing = sorted(((item, n) for item, n in want.items() if got[item] == 0), key=lambda kv: (-kv[1], kv[0]))
        families.append(
            FamilyCoverage(
                family=family,
                distinct=len(want),
                distinct_covered=len(covered),
                occurrences=sum(want.values()),
                occurrences_covered=sum(want[item] for item in covered),
                missing=tuple(missing),
            )
        )
    complete = tuple(
        name for name, profile in targets if all(have.counts["jaxpr"][p] > 0 for p in profile.counts["jaxpr"])
    )
    return CoverageReport(
        corpus=corpus_name,
        records=records,
        targets=tuple(name for name, _ in targets),
        families=tuple(families),
        complete=complete,
    )
