"""Corpus: records (msgspec), record generation, and running generation over workers.

Public API::

    from jaxsynth.corpus import generate_corpus, iter_records, make_record
    generate_corpus(load_config("default"), seed=0, n=100, out_path="corpus.jsonl", workers=2)
    for record in iter_records("corpus.jsonl"):
        ...

Modules: ``record`` (the Struct and file formats), ``generate`` (one record), ``spec``
(:class:`GenerateSpec`, a run parsed once), ``run`` (the one range runner, :func:`run_spec`),
``workers`` (the generation pool on :mod:`jaxsynth.workers`), ``dedup``, ``shards``, ``ray_engine``.
Importing this package does not import JAX (``make_record`` and ``toolchain`` load it on first
use), so spawned workers can configure XLA first. ``generate_corpus`` is
``run.generate``: the name ``jaxsynth.corpus.generate`` belongs to the submodule.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jaxsynth.corpus.record import (
    FORMATS,
    SCHEMA_VERSION,
    CorpusError,
    Features,
    Record,
    RecordWriter,
    Toolchain,
    decode_record,
    encode_payload,
    encode_record,
    format_for,
    frame,
    iter_raw,
    iter_records,
    open_writer,
    write,
)
from jaxsynth.corpus.run import GenerationError, RecordMaker, RunSummary, generate_range, run_indices, run_spec
from jaxsynth.corpus.run import generate as generate_corpus
from jaxsynth.corpus.spec import GenerateSpec, SpecError

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.corpus.generate import build_function, make_record, record_id, toolchain

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "CorpusError",
    "GenerationError",
    "Features",
    "GenerateSpec",
    "Record",
    "RecordMaker",
    "RecordWriter",
    "RunSummary",
    "SpecError",
    "Toolchain",
    "build_function",
    "decode_record",
    "encode_payload",
    "encode_record",
    "format_for",
    "frame",
    "generate_corpus",
    "generate_range",
    "iter_raw",
    "iter_records",
    "make_record",
    "open_writer",
    "record_id",
    "run_indices",
    "run_spec",
    "toolchain",
    "write",
]

_LAZY = {"build_function", "make_record", "record_id", "toolchain"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module("jaxsynth.corpus.generate")
    for attr in _LAZY:
        globals()[attr] = getattr(module, attr)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
