"""Leakage-safe train/validation/test splits of a corpus file.

Records are grouped by ``graph_hash`` (the structural hash): every record of a group goes to the same
split, so no program structure is shared across splits. A group's split is a pure function of its
hash and the split seed (a BLAKE2b draw in [0, 1) against the cumulative ratios), so it does not
depend on record order, on the other records, or on how many records the corpus has: growing the
corpus never moves a structure from one split to another. The realized ratios are therefore close
to, not exactly, the requested ones; the manifest records both.

Held-out op combinations (``holdout_ops``): every record whose op set contains all ops of one of
the given combinations (e.g. ``{"add", "matmul"}``) goes to the *last* split (``test``), whatever
its hash draw says. The train and validation splits then contain no program using that combination,
which measures generalization to unseen compositions.

Output: one file per split in the input's format (``train.jsonl``, ``validation.jsonl``,
``test.jsonl``), holding the input's bytes unchanged, plus ``splits.json`` (the manifest).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from jaxsynth.corpus.record import FORMATS, CorpusError, field_decoders, frame
from jaxsynth.corpus.sources import Corpus, open_corpus

__all__ = [
    "MANIFEST",
    "SPLIT_NAMES",
    "SplitError",
    "SplitSummary",
    "assign",
    "parse_holdout",
    "parse_ratios",
    "prepare_out_dir",
    "read_manifest",
    "split_corpus",
]

#: Split names for 1, 2 and 3 ratios.
SPLIT_NAMES: dict[int, tuple[str, ...]] = {
    1: ("train",),
    2: ("train", "test"),
    3: ("train", "validation", "test"),
}
#: The manifest file written beside the splits.
MANIFEST = "splits.json"


class SplitError(ValueError):
    """Bad split arguments (ratios, op names); the message names the argument."""


class _Ops(msgspec.Struct):
    ops: list[str]


class _SplitKeys(msgspec.Struct):
    graph_hash: str
    features: _Ops


_decoders = field_decoders(_SplitKeys)


def parse_ratios(spec: str | Sequence[float]) -> tuple[float, ...]:
    """``"0.9,0.05,0.05"`` -> ``(0.9, 0.05, 0.05)``: 1 to 3 numbers in [0, 1] summing to 1."""
    if isinstance(spec, str):
        try:
            ratios = tuple(float(part) for part in spec.split(","))
        except ValueError:
            raise SplitError(f"--ratios {spec!r}: expected comma-separated numbers such as 0.9,0.05,0.05") from None
    else:
        ratios = tuple(float(r) for r in spec)
    if len(ratios) not in SPLIT_NAMES:
        raise SplitError(f"--ratios {spec!r}: give 1, 2 or 3 ratios (train[,validation],test), got {len(ratios)}")
    if not all(math.isfinite(r) and 0.0 <= r <= 1.0 for r in ratios):
        raise SplitError(f"--ratios {spec!r}: every ratio must be between 0 and 1")
    if abs(sum(ratios) - 1.0) > 1e-6:
        raise SplitError(f"--ratios {spec!r}: ratios must sum to 1, they sum to {sum(ratios):g}")
    return ratios


def parse_holdout(specs: Iterable[str], known_ops: Iterable[str] | None = None) -> tuple[frozenset[str], ...]:
    """``["add,matmul", "sin"]`` -> op combinations (unknown names are an error given ``known_ops``)."""
    known = set(known_ops) if known_ops is not None else None
    combos: list[frozenset[str]] = []
    for spec in specs:
        ops = frozenset(part.strip() for part in spec.split(",") if part.strip())
        if not ops:
            raise SplitError(f"--holdout-ops {spec!r}: names no op")
        if known is not None:
            unknown = sorted(ops - known)
            if unknown:
                raise SplitError(
                    f"--holdout-ops {spec!r}: unknown op {unknown[0]!r} (op names as in the records' "
                    "features.ops, e.g. add, matmul, sin)"
                )
        if ops not in combos:
            combos.append(ops)
    return tuple(combos)


def _draw(graph_hash: str, seed: int) -> float:
    digest = hashlib.blake2b(f"{seed}:{graph_hash}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def assign(graph_hash: str, ratios: Sequence[float], seed: int = 0) -> int:
    """Index of the split that the structure ``graph_hash`` belongs to (ignoring hold-outs)."""
    u = _draw(graph_hash, seed)
    total = 0.0
    for i, ratio in enumerate(ratios):
        total += ratio
        if u < total:
            return i
    return max(i for i, r in enumerate(ratios) if r > 0)  # rounding at the top end


class SplitSummary(msgspec.Struct, kw_only=True):
    """What :func:`split_corpus` wrote (also the content of ``splits.json``)."""

    source: str
    format: str
    records: int
    groups: int  #: distinct graph_hash values
    seed: int
    names: list[str]
    ratios: list[float]
    holdout_ops: list[list[str]]
    counts: dict[str, int]  #: records per split
    group_counts: dict[str, int]  #: distinct graph_hash values per split
    held_out: int  #: records sent to the last split by holdout_ops
    files: dict[str, str]

    def __str__(self) -> str:
        parts = ", ".join(
            f"{name} {self.counts[name]} ({100 * self.counts[name] / max(self.records, 1):.1f}%)" for name in self.names
        )
        held = f"; {self.held_out} held out by op combination" if self.holdout_ops else ""
        return f"{self.records} records, {self.groups} structures -> {parts}{held}"


def _keys(payload: bytes, kind: str, where: str) -> _SplitKeys:
    try:
        return _decoders[kind](payload)
    except msgspec.DecodeError as exc:
        raise CorpusError(f"{where}: {exc}") from None


def _output_files(out: Path) -> list[Path]:
    """Every file a split may write into ``out`` (any number of splits, either format, the manifest)."""
    names = {name for group in SPLIT_NAMES.values() for name in group}
    return [out / MANIFEST] + [out / f"{name}.{kind}" for name in sorted(names) for kind in FORMATS]


def prepare_out_dir(out_dir: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Create ``out_dir``; refuse a non-empty one unless ``overwrite``, which removes every file a
    split may have written there (other files are left alone), so no stale split survives."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SplitError(f"--out {os.fspath(out)!r} is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise SplitError(f"--out {os.fspath(out)!r} is not empty; pass --overwrite to replace a previous split")
        for path in _output_files(out):
            if path.is_file():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def split_corpus(
    corpus: str | os.PathLike[str] | Corpus,
    out_dir: str | os.PathLike[str],
    ratios: Sequence[float] | str = (0.9, 0.05, 0.05),
    seed: int = 0,
    holdout_ops: Iterable[frozenset[str]] | Iterable[str] = (),
    fmt: str | None = None,
    overwrite: bool = False,
) -> SplitSummary:
    """Split ``corpus`` (a file or a :class:`~jaxsynth.corpus.sources.Corpus`) into ``out_dir`` (see
    the module docstring); returns the summary it also writes. A non-empty ``out_dir`` is refused
    unless ``overwrite`` (see :func:`prepare_out_dir`)."""
    ratios = parse_ratios(ratios)
    combos = tuple(c if isinstance(c, frozenset) else parse_holdout([c])[0] for c in holdout_ops)
    names = SPLIT_NAMES[len(ratios)]
    source = corpus if isinstance(corpus, Corpus) else open_corpus(corpus, fmt)
    if len(source.formats) != 1:
        raise SplitError(f"{source.name}: mixes jsonl and msgpack files; split one format at a time")
    kind = source.formats[0]
    outputs = {os.path.realpath(p) for p in _output_files(Path(out_dir))}
    for file in source.files:
        if file.path is not None and os.path.realpath(file.path) in outputs:
            raise SplitError(f"--out {os.fspath(out_dir)!r} would overwrite the input {file.name!r}")
    out = prepare_out_dir(out_dir, overwrite)

    # Pass 1: the split of every structure (hold-outs win for the whole group).
    group_split: dict[str, int] = {}
    held_groups: set[str] = set()
    for _, _, keys in source.decode_fields(_decoders):
        h = keys.graph_hash
        if h not in group_split:
            group_split[h] = assign(h, ratios, seed)
        if combos and h not in held_groups:
            ops = set(keys.features.ops)
            if any(combo <= ops for combo in combos):
                held_groups.add(h)
    for h in held_groups:
        group_split[h] = len(names) - 1

    # Pass 2: copy each record's bytes to its split.
    files = {name: out / f"{name}.{kind}" for name in names}
    counts = dict.fromkeys(names, 0)
    held = 0
    streams = {name: open(path, "wb") for name, path in files.items()}  # noqa: SIM115 - closed below
    try:
        for file, number, payload in source.iter_raw():
            h = _keys(payload, kind, file.where(number)).graph_hash
            name = names[group_split[h]]
            streams[name].write(frame(payload, kind))
            counts[name] += 1
            held += h in held_groups
    finally:
        for stream in streams.values():
            stream.close()
    group_counts = dict.fromkeys(names, 0)
    for index in group_split.values():
        group_counts[names[index]] += 1
    summary = SplitSummary(
        source=source.name,
        format=kind,
        records=sum(counts.values()),
        groups=len(group_split),
        seed=seed,
        names=list(names),
        ratios=list(ratios),
        holdout_ops=[sorted(c) for c in combos],
        counts=counts,
        group_counts=group_counts,
        held_out=held,
        files={name: path.name for name, path in files.items()},
    )
    (out / MANIFEST).write_text(json.dumps(msgspec.to_builtins(summary), indent=1) + "\n")
    return summary


def read_manifest(split_dir: str | os.PathLike[str]) -> SplitSummary:
    """The :class:`SplitSummary` stored in ``split_dir/splits.json``."""
    path = Path(split_dir) / MANIFEST
    try:
        return msgspec.json.decode(path.read_bytes(), type=SplitSummary)
    except OSError as exc:
        raise CorpusError(f"cannot read split manifest {os.fspath(path)!r}: {exc.strerror}") from None
    except msgspec.MsgspecError as exc:
        raise CorpusError(f"{os.fspath(path)}: not a split manifest: {exc}") from None
