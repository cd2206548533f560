"""Corpus quality and dataset tooling: dedup, statistics and reports, splits, export, novelty guidance.

Modules (each imported on its own; none imports JAX at import time):

- ``dedup``: :class:`~jaxsynth.dataset.dedup.Deduplicator`, structural (``graph_hash``) and textual
  (JAXPR hash) duplicate detection over encoded records; used by ``jaxsynth generate --dedup``.
- ``hlo``: a small reader of optimized-HLO text (opcodes, fusions, feature sets).
- ``stats``, ``report``, ``plots``: ``jaxsynth stats`` (plots need matplotlib, the ``dataset`` extra).
- ``split``: leakage-safe splits by structure, with held-out op combinations (``jaxsynth split``).
- ``export``: Parquet + HuggingFace dataset card (``jaxsynth export``; needs pyarrow).
- ``novelty``: novelty-guided op weights (``jaxsynth generate --novelty``).
"""
