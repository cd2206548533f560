"""Duplicate detection: structural (``graph_hash``) and textual (JAXPR hash), in the corpus layer.

A generation run (:func:`jaxsynth.corpus.run.run_indices`) feeds it the keys the worker computed
while building each record (:meth:`Deduplicator.accept_keys`: nothing is decoded again); tools over
existing files feed it encoded records (:meth:`Deduplicator.accept`). It sees records in corpus
order and accepts the first record of each key, rejecting later ones. Its state is the set of keys
of the records it *accepted* (membership only, never iterated), so it depends on nothing but the
sequence of records offered: a run that feeds it records in index order writes the same corpus for
any worker count, and :meth:`Deduplicator.from_corpus` rebuilds exactly the state a run had after
writing that corpus (which is what resuming needs).

Modes:

- ``structural``: key is the record's ``graph_hash`` (a Weisfeiler-Lehman hash of the typed DAG;
  invariant under variable names and statement order).
- ``jaxpr``: key is a BLAKE2b hash of the JAXPR text (records without a JAXPR are an error).
- ``both``: a record is a duplicate if *either* key was seen.

Only the needed fields are decoded (a msgspec Struct holding ``graph_hash`` and ``jaxpr``), so
checking a record costs a fraction of decoding it.
"""

from __future__ import annotations

import hashlib
import os
from typing import Literal

import msgspec

from jaxsynth.corpus.record import CorpusError, field_decoders, format_for, iter_raw

__all__ = ["MODES", "DedupError", "Deduplicator", "Mode", "jaxpr_hash", "text_hash"]

Mode = Literal["structural", "jaxpr", "both"]
#: Dedup modes, in the order the CLI lists them.
MODES: tuple[str, ...] = ("structural", "jaxpr", "both")


class DedupError(CorpusError):
    """A record that cannot be checked in the chosen mode (e.g. no JAXPR in ``jaxpr`` mode)."""


class _Keys(msgspec.Struct):
    """The two fields dedup reads; every other field of the record is skipped unparsed."""

    graph_hash: str
    jaxpr: str | None = None


_decoders = field_decoders(_Keys)


def text_hash(text: str) -> str:
    """128-bit BLAKE2b hex digest of a text (used for JAXPR and optimized-HLO uniqueness)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def jaxpr_hash(text: str) -> str:
    """The textual dedup key of a JAXPR: :func:`text_hash` of the text as stored."""
    return text_hash(text)


class Deduplicator:
    """Accept the first record of each key; reject later duplicates. Deterministic in record order.

    >>> dedup = Deduplicator("structural")
    >>> dedup.accept(payload, "jsonl")   # payload: one JSON line without its newline
    True
    """

    def __init__(self, mode: str = "structural") -> None:
        if mode not in MODES:
            raise DedupError(f"unknown dedup mode {mode!r}; allowed: {', '.join(MODES)}")
        self.mode: Mode = mode  # type: ignore[assignment]
        self._structural: set[str] = set()
        self._jaxpr: set[str] = set()
        self.offered = 0
        self.accepted = 0
        self.rejected_structural = 0  #: rejections where the graph_hash was seen
        self.rejected_jaxpr = 0  #: rejections where the JAXPR hash was seen

    # ------------------------------------------------------------ keys
    def keys(self, record_bytes: bytes, fmt: str = "jsonl") -> tuple[str | None, str | None]:
        """``(graph_hash, jaxpr_hash)`` of an encoded record; a key this mode ignores is ``None``."""
        decode = _decoders.get(fmt)
        if decode is None:
            raise CorpusError(f"unknown corpus format {fmt!r}; allowed: {', '.join(_decoders)}")
        if fmt == "jsonl":
            record_bytes = record_bytes.rstrip(b"\n")
        elif record_bytes[:1] == b"\x00":  # a length prefix (a record's msgpack map never starts with 0x00)
            record_bytes = record_bytes[4:]
        try:
            keys = decode(record_bytes)
        except msgspec.DecodeError as exc:
            raise CorpusError(f"cannot read record for dedup: {exc}") from None
        return self.wanted(keys.graph_hash, None if keys.jaxpr is None else jaxpr_hash(keys.jaxpr))

    def wanted(self, graph_hash: str, jaxpr_key: str | None) -> tuple[str | None, str | None]:
        """The keys this mode uses, from a record's ``graph_hash`` and :func:`jaxpr_hash` of its JAXPR."""
        structural = graph_hash if self.mode in ("structural", "both") else None
        textual = None
        if self.mode in ("jaxpr", "both"):
            if jaxpr_key is None:
                raise DedupError(f"dedup mode {self.mode!r} needs the JAXPR, but a record has none (emit jaxpr)")
            textual = jaxpr_key
        return structural, textual

    # ------------------------------------------------------------ decisions
    def accept(self, record_bytes: bytes, fmt: str = "jsonl") -> bool:
        """True if the record is new (and remember its keys); False if it duplicates an accepted one.

        ``record_bytes`` is a record as stored in a file (``encode_record``: JSON line with its
        newline, msgpack with its length prefix) or its bare payload (``encode_payload``).
        """
        return self._decide(*self.keys(record_bytes, fmt))

    def accept_keys(self, graph_hash: str, jaxpr_key: str | None) -> bool:
        """:meth:`accept` for a record known by its keys (``graph_hash`` and :func:`jaxpr_hash` of its
        JAXPR, or None), as a generation worker hands them back."""
        return self._decide(*self.wanted(graph_hash, jaxpr_key))

    def _decide(self, structural: str | None, textual: str | None) -> bool:
        self.offered += 1
        dup_s = structural is not None and structural in self._structural
        dup_j = textual is not None and textual in self._jaxpr
        self.rejected_structural += dup_s
        self.rejected_jaxpr += dup_j
        if dup_s or dup_j:
            return False
        self._remember(structural, textual)
        self.accepted += 1
        return True

    def _remember(self, structural: str | None, textual: str | None) -> None:
        if structural is not None:
            self._structural.add(structural)
        if textual is not None:
            self._jaxpr.add(textual)

    def add(self, record_bytes: bytes, fmt: str = "jsonl") -> None:
        """Remember a record's keys without counting it as offered (for records already written)."""
        self._remember(*self.keys(record_bytes, fmt))

    @classmethod
    def from_corpus(
        cls, path: str | os.PathLike[str], mode: str = "structural", fmt: str | None = None
    ) -> Deduplicator:
        """A deduplicator that has seen every record of an existing corpus file (e.g. to resume a run).

        The counters start at zero; only the seen keys are restored.
        """
        dedup = cls(mode)
        kind = format_for(path, fmt)
        for number, payload in iter_raw(path, kind):
            try:
                dedup.add(payload, kind)
            except (CorpusError, DedupError) as exc:
                where = "line" if kind == "jsonl" else "record"
                raise CorpusError(f"{os.fspath(path)} {where} {number}: {exc}") from None
        return dedup

    @property
    def seen(self) -> int:
        """Distinct keys remembered (structural keys in ``structural``/``both``, else JAXPR keys)."""
        return len(self._structural) if self.mode != "jaxpr" else len(self._jaxpr)

    @property
    def rejected(self) -> int:
        return self.offered - self.accepted

    def stats(self) -> dict[str, int | float | str]:
        """Counters and rates; rates are fractions of the records offered (0.0 when none were)."""
        n = self.offered
        return {
            "mode": self.mode,
            "offered": n,
            "seen": self.seen,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_structural": self.rejected_structural,
            "rejected_jaxpr": self.rejected_jaxpr,
            "duplicate_rate": self.rejected / n if n else 0.0,
            "structural_duplicate_rate": self.rejected_structural / n if n else 0.0,
            "jaxpr_duplicate_rate": self.rejected_jaxpr / n if n else 0.0,
        }

    def summary(self) -> str:
        """One line for a person: ``dedup (structural): 12 of 1000 duplicates (1.2%) skipped``."""
        s = self.stats()
        return (
            f"dedup ({self.mode}): {s['rejected']} of {s['offered']} duplicates "
            f"({100 * float(s['duplicate_rate']):.1f}%) skipped"
        )
