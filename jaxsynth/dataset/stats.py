"""Corpus statistics, computed in one streaming pass: counts, histograms, distributions, uniqueness.

Token lengths use :func:`tokenize`, a deliberately simple, dependency-free tokenizer: identifiers
(``[A-Za-z_][A-Za-z0-9_]*``), numbers (``\\d+(\\.\\d+)?``) and every other non-space character
as a token of its own. It is a stable yardstick for comparing corpora and IR kinds, not the
tokenizer of any particular model.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from jaxsynth.corpus.dedup import text_hash
from jaxsynth.corpus.record import Record, iter_records
from jaxsynth.corpus.sources import Corpus
from jaxsynth.dataset.deadcode import DEAD_CONSTRUCTS, dead_constructs
from jaxsynth.dataset.hlo import parse_hlo

__all__ = ["HLO_SKELETON", "IR_FIELDS", "CorpusStats", "Distribution", "StatsAccumulator", "corpus_stats", "tokenize"]

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\S")

#: Text fields of a record whose presence, uniqueness and token length are reported.
IR_FIELDS: tuple[str, ...] = ("jaxpr", "stablehlo", "optimized_hlo", "hlo", "grad_jaxpr", "vmap_jaxpr")


#: Pseudo-field: the optimized HLO's opcode sequence (:attr:`~jaxsynth.dataset.hlo.HloSummary.skeleton`).
HLO_SKELETON = "optimized_hlo_skeleton"


def tokenize(text: str) -> list[str]:
    """Split ``text`` into identifier, number and single-punctuation tokens (see the module docstring)."""
    return _TOKEN.findall(text)


def jaxpr_equations(text: str) -> int:
    """Equations in a JAXPR's text: lines ``outs = primitive ...``, those of nested bodies included."""
    return sum(1 for line in text.splitlines() if " = " in line)


def token_count(text: str) -> int:
    return sum(1 for _ in _TOKEN.finditer(text))


@dataclasses.dataclass(frozen=True)
class Distribution:
    """Summary of integer values; ``values`` are kept in record order for plotting."""

    values: tuple[int, ...]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.values)
        if not ordered:
            return math.nan
        position = q * (len(ordered) - 1)
        lo, hi = math.floor(position), math.ceil(position)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)

    def summary(self) -> dict[str, float]:
        if not self.values:
            return {}
        return {
            "min": min(self.values),
            "p10": self.quantile(0.1),
            "median": self.quantile(0.5),
            "mean": sum(self.values) / len(self.values),
            "p90": self.quantile(0.9),
            "max": max(self.values),
        }


@dataclasses.dataclass(frozen=True)
class CorpusStats:
    """Everything ``jaxsynth stats`` reports about one corpus file."""

    path: str
    records: int
    configs: Counter[str]  #: ``"name digest"`` -> records
    seeds: Counter[int]
    toolchains: Counter[str]
    present: dict[str, int]  #: IR field -> records that have it
    unique: dict[str, int]  #: ``graph_hash`` and IR fields -> distinct values among records that have it
    categories: Counter[str]  #: category -> records using it
    ops: Counter[str]  #: op -> op nodes
    op_records: Counter[str]  #: op -> records using it
    dtypes: Counter[str]  #: input dtype -> inputs
    distributions: dict[str, Distribution]
    hlo_opcodes: Counter[str]  #: optimized-HLO opcode -> instructions
    hlo_opcode_records: Counter[str]  #: optimized-HLO opcode -> records containing it
    fusion_kinds: Counter[str]  #: fusion kind -> fusion instructions
    fused_opcodes: Counter[str]  #: opcode -> instructions inside fused computations
    hlo_features: Counter[str]  #: HLO feature (see jaxsynth.dataset.hlo) -> records containing it
    dead_code: Counter[str] = dataclasses.field(default_factory=Counter)  #: dead construct -> records with it

    def dead_code_rates(self) -> dict[str, float]:
        """Fraction of records containing each dead construct (``jaxsynth.dataset.deadcode``)."""
        return {k: (self.dead_code[k] / self.records if self.records else math.nan) for k in DEAD_CONSTRUCTS}

    def unique_ratio(self, field: str) -> float:
        """Distinct values / records that have the field (NaN when none has it)."""
        distinct = self.unique.get(field, 0)
        if field == HLO_SKELETON:
            field = "optimized_hlo"
        have = self.records if field == "graph_hash" else self.present.get(field, 0)
        return distinct / have if have else math.nan

    @property
    def structural_duplicate_rate(self) -> float:
        """Fraction of records whose ``graph_hash`` occurred earlier in the file."""
        return 1.0 - self.unique_ratio("graph_hash") if self.records else math.nan

    @property
    def jaxpr_duplicate_rate(self) -> float:
        return 1.0 - self.unique_ratio("jaxpr") if self.present.get("jaxpr") else math.nan

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (sorted keys in every mapping; distributions as summaries)."""

        def ordered(counter: Counter[Any]) -> dict[str, int]:
            return {str(k): v for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))}

        return {
            "path": self.path,
            "records": self.records,
            "configs": ordered(self.configs),
            "seeds": ordered(self.seeds),
            "toolchains": ordered(self.toolchains),
            "present": dict(self.present),
            "unique": dict(self.unique),
            "unique_ratio": {k: _finite(self.unique_ratio(k)) for k in self.unique},
            "structural_duplicate_rate": _finite(self.structural_duplicate_rate),
            "jaxpr_duplicate_rate": _finite(self.jaxpr_duplicate_rate),
            "categories": ordered(self.categories),
            "ops": ordered(self.ops),
            "op_records": ordered(self.op_records),
            "dtypes": ordered(self.dtypes),
            "distributions": {k: d.summary() for k, d in self.distributions.items()},
            "hlo_opcodes": ordered(self.hlo_opcodes),
            "hlo_opcode_records": ordered(self.hlo_opcode_records),
            "fusion_kinds": ordered(self.fusion_kinds),
            "fused_opcodes": ordered(self.fused_opcodes),
            "distinct_hlo_features": len(self.hlo_features),
            "dead_code_rates": {k: _finite(v) for k, v in self.dead_code_rates().items()},
        }


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


#: Distributions, in report order: name -> description.
DISTRIBUTIONS: dict[str, str] = {
    "nodes": "op nodes in the program DAG",
    "depth": "longest input-to-output path",
    "lines": "lines of Python",
    "inputs": "function inputs",
    "outputs": "function outputs",
    "python_tokens": "Python tokens",
    "jaxpr_equations": "JAXPR equations (nested bodies included)",
    "jaxpr_tokens": "JAXPR tokens",
    "stablehlo_tokens": "StableHLO tokens",
    "optimized_hlo_tokens": "optimized-HLO tokens",
    "hlo_instructions": "optimized-HLO instructions",
    "hlo_fusions": "optimized-HLO fusions",
}


class StatsAccumulator:
    """Add records one at a time; :meth:`finish` returns the :class:`CorpusStats`."""

    def __init__(self, path: str = "") -> None:
        self.path = path
        self.n = 0
        self.configs: Counter[str] = Counter()
        self.seeds: Counter[int] = Counter()
        self.toolchains: Counter[str] = Counter()
        self.present: dict[str, int] = dict.fromkeys(IR_FIELDS, 0)
        self._hashes: dict[str, set[str]] = {k: set() for k in ("graph_hash", *IR_FIELDS, HLO_SKELETON)}
        self.categories: Counter[str] = Counter()
        self.ops: Counter[str] = Counter()
        self.op_records: Counter[str] = Counter()
        self.dtypes: Counter[str] = Counter()
        self.values: dict[str, list[int]] = {k: [] for k in DISTRIBUTIONS}
        self.hlo_opcodes: Counter[str] = Counter()
        self.hlo_opcode_records: Counter[str] = Counter()
        self.fusion_kinds: Counter[str] = Counter()
        self.fused_opcodes: Counter[str] = Counter()
        self.hlo_features: Counter[str] = Counter()
        self.dead_code: Counter[str] = Counter()

    def add(self, record: Record) -> None:
        self.n += 1
        f = record.features
        self.configs[f"{record.config_name} {record.config_digest}"] += 1
        self.seeds[record.seed] += 1
        t = record.toolchain
        self.toolchains[f"jax {t.jax}, jaxlib {t.jaxlib}, {t.backend}, jaxsynth {t.jaxsynth}"] += 1
        self._hashes["graph_hash"].add(record.graph_hash)
        for field in IR_FIELDS:
            text = getattr(record, field, None)
            if text is not None:
                self.present[field] += 1
                self._hashes[field].add(text_hash(text))
        self.categories.update(f.categories)
        self.ops.update(f.ops)
        self.op_records.update(set(f.ops))
        self.dtypes.update(sig.split("[", 1)[0] for sig in record.signature)
        v = self.values
        v["nodes"].append(f.node_count)
        v["depth"].append(f.depth)
        v["lines"].append(f.lines)
        v["inputs"].append(f.inputs)
        v["outputs"].append(f.outputs)
        v["python_tokens"].append(token_count(record.python))
        self.dead_code.update(dead_constructs(record.python).keys())
        if record.jaxpr is not None:
            v["jaxpr_equations"].append(jaxpr_equations(record.jaxpr))
        for field in ("jaxpr", "stablehlo", "optimized_hlo"):
            text = getattr(record, field)
            if text is not None:
                v[f"{field}_tokens"].append(token_count(text))
        if record.optimized_hlo is not None:
            hlo = parse_hlo(record.optimized_hlo)
            self.hlo_opcodes.update(hlo.opcodes)
            self.hlo_opcode_records.update(hlo.opcodes.keys())
            self.fusion_kinds.update(hlo.fusion_kinds)
            self.fused_opcodes.update(hlo.fused_opcodes)
            self.hlo_features.update(hlo.features)
            self._hashes[HLO_SKELETON].add(text_hash(hlo.skeleton))
            v["hlo_instructions"].append(hlo.instructions)
            v["hlo_fusions"].append(hlo.fusions)

    def finish(self) -> CorpusStats:
        return CorpusStats(
            path=self.path,
            records=self.n,
            configs=self.configs,
            seeds=self.seeds,
            toolchains=self.toolchains,
            present=dict(self.present),
            unique={k: len(s) for k, s in self._hashes.items()},
            categories=self.categories,
            ops=self.ops,
            op_records=self.op_records,
            dtypes=self.dtypes,
            distributions={k: Distribution(tuple(vals)) for k, vals in self.values.items()},
            hlo_opcodes=self.hlo_opcodes,
            hlo_opcode_records=self.hlo_opcode_records,
            fusion_kinds=self.fusion_kinds,
            fused_opcodes=self.fused_opcodes,
            hlo_features=self.hlo_features,
            dead_code=self.dead_code,
        )


def corpus_stats(source: str | os.PathLike[str] | Corpus | Iterable[Record]) -> CorpusStats:
    """Statistics of a corpus file (JSONL or msgpack), a :class:`~jaxsynth.corpus.sources.Corpus`
    or an iterable of records."""
    if isinstance(source, (str, os.PathLike)):
        acc = StatsAccumulator(os.fspath(source))
        records: Iterable[Record] = iter_records(source)
    elif isinstance(source, Corpus):
        acc, records = StatsAccumulator(source.name), source.iter_records()
    else:
        acc, records = StatsAccumulator(), source
    for record in records:
        acc.add(record)
    return acc.finish()
