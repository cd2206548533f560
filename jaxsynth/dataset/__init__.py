"""Corpus quality and dataset tooling: dedup, statistics and reports, splits, export, novelty guidance.

Modules (each imported on its own; none imports JAX at import time):

- ``dedup``: moved to :mod:`jaxsynth.corpus.dedup` (the corpus layer dedups while generating); this
  name re-exports it.
- ``hlo``: a small reader of optimized-HLO text (opcodes, fusions, feature sets).
- ``stats``, ``report``, ``plots``: ``jaxsynth stats`` (plots need matplotlib, the ``dataset`` extra).
- ``split``: leakage-safe splits by structure, with held-out op combinations (``jaxsynth split``).
- ``export``: Parquet + HuggingFace dataset card (``jaxsynth export``; needs pyarrow).
- ``novelty``: novelty-guided op weights (``jaxsynth generate --novelty``).
"""
