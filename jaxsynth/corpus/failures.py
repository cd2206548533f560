"""The failures file: one JSON line per index whose record could not be built.

A run writing ``OUT`` writes failed indices to ``OUT.failures.jsonl`` (see :func:`failures_path`),
in index order, created on the first failure. Each line is a :class:`Failure`::

    {"index":17,"seed":0,"config_digest":"...","kind":"crash","message":"worker killed by SIGSEGV"}

Kinds: ``error`` (an exception while sampling, rendering or lowering), ``crash`` (the worker process
died: segfault or abort inside XLA, out of memory) and ``hang`` (no result within ``--timeout``).
The record of a failed index is skipped, never retried within the run, so the corpus holds the
records of every other index in order: a run with the same failures writes the same bytes, and
``jaxsynth replay``-style reruns of one index (``make_record(config, seed, index)``) reproduce it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import msgspec

__all__ = ["FAILURE_KINDS", "Failure", "encode_failure", "failures_path", "read_failures"]

FAILURE_KINDS: tuple[str, ...] = ("error", "crash", "hang")
SUFFIX = ".failures.jsonl"


class Failure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One index whose record was skipped."""

    index: int
    seed: int
    config_digest: str
    kind: str  #: ``error`` | ``crash`` | ``hang``
    message: str


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Failure)


def failures_path(out_path: str | os.PathLike[str]) -> str:
    """``OUT.failures.jsonl`` for a corpus written to ``OUT``."""
    return os.fspath(out_path) + SUFFIX


def encode_failure(failure: Failure) -> bytes:
    return _encoder.encode(failure) + b"\n"


def read_failures(path: str | os.PathLike[str]) -> Iterator[Failure]:
    """Every complete line of a failures file (a torn last line is ignored); nothing if it is missing."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return
    with stream:
        for line in stream:
            if line.endswith(b"\n") and line.strip():
                yield _decoder.decode(line)
