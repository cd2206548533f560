"""Moved: duplicate detection is part of the corpus layer, :mod:`jaxsynth.corpus.dedup` (same names)."""

from jaxsynth.corpus.dedup import MODES, DedupError, Deduplicator, Mode, jaxpr_hash, text_hash

__all__ = ["MODES", "DedupError", "Deduplicator", "Mode", "jaxpr_hash", "text_hash"]
