"""New corpus files from existing ones: ``merge`` (shards -> one file) and ``dedup`` (drop duplicates).

Both read a :class:`~jaxsynth.corpus.sources.Corpus` in order and write one file: a record whose file
has the output's format is copied byte for byte, any other is re-encoded. The output is written to a
temporary file beside it and renamed into place when complete, so a failed run leaves no half file,
and an output that is also one of the inputs is refused.

``merge`` verifies before it writes: the shard files of a run are all present and in shard order
(:func:`~jaxsynth.corpus.sources.check_shards`), every record decodes with this reader's schema, and
within each run (``config_digest``, ``seed``) the record indices strictly increase. Merging the shards
of ``generate --shard I/N`` gives the bytes of one unsharded run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from jaxsynth.corpus.record import CorpusError, encode_payload, format_for, frame
from jaxsynth.corpus.sources import Corpus, CorpusFile, check_shards, decode_at

__all__ = ["CombineSummary", "dedup_corpus", "merge_corpus"]


@dataclasses.dataclass(frozen=True)
class CombineSummary:
    """What :func:`merge_corpus` or :func:`dedup_corpus` wrote."""

    path: str
    records: int  #: records written
    read: int  #: records read
    files: int  #: input files
    note: str = ""  #: e.g. the dedup summary line

    def __str__(self) -> str:
        dropped = f", {self.read - self.records} dropped" if self.read != self.records else ""
        return f"{self.records} records from {self.files} files ({self.read} read{dropped}) to {self.path}"


def _refuse_input_as_output(corpus: Corpus, out: str) -> None:
    target = os.path.realpath(out)
    for file in corpus.files:
        if file.path is not None and os.path.realpath(file.path) == target:
            raise CorpusError(f"-o {out!r} is also an input; write to a new file")


def _write(
    corpus: Corpus, out: str, fmt: str, keep: Callable[[CorpusFile, int, bytes], bool]
) -> tuple[int, int]:
    """Write the records ``keep`` accepts to ``out`` (atomically); returns (written, read)."""
    tmp = out + ".tmp"
    written = read = 0
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(tmp, "wb") as sink:
            for file, number, payload in corpus.iter_raw():
                read += 1
                if not keep(file, number, payload):
                    continue
                if file.format != fmt:
                    payload = encode_payload(decode_at(file, number, payload), fmt)
                sink.write(frame(payload, fmt))
                written += 1
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return written, read


def _verified(corpus: Corpus) -> Iterator[None]:
    """Decode every record; raise on a run whose indices do not strictly increase."""
    last: dict[tuple[str, int], tuple[int, str]] = {}
    for file, number, payload in corpus.iter_raw():
        record = decode_at(file, number, payload)
        run = (record.config_digest, record.seed)
        previous = last.get(run)
        if previous is not None and record.index <= previous[0]:
            raise CorpusError(
                f"{file.where(number)}: record index {record.index} of config {record.config_digest} seed "
                f"{record.seed} comes after index {previous[0]} ({previous[1]}); are the inputs out of order?"
            )
        last[run] = (record.index, file.where(number))
        yield


def merge_corpus(corpus: Corpus, out: str | os.PathLike[str], fmt: str | None = None) -> CombineSummary:
    """Verify ``corpus`` (see the module docstring), then write it to ``out`` as one file."""
    path = os.fspath(out)
    kind = format_for(path, fmt)
    _refuse_input_as_output(corpus, path)
    check_shards(corpus, complete=True)
    for _ in _verified(corpus):
        pass
    written, read = _write(corpus, path, kind, lambda *_: True)
    return CombineSummary(path=path, records=written, read=read, files=len(corpus.files))


def dedup_corpus(
    corpus: Corpus, out: str | os.PathLike[str], mode: str = "structural", fmt: str | None = None
) -> CombineSummary:
    """Write the first record of each key of ``mode`` (``structural``, ``jaxpr`` or ``both``; see
    :class:`~jaxsynth.corpus.dedup.Deduplicator`) to ``out``, in corpus order."""
    from jaxsynth.corpus.dedup import DedupError, Deduplicator

    path = os.fspath(out)
    kind = format_for(path, fmt)
    _refuse_input_as_output(corpus, path)
    deduper = Deduplicator(mode)

    def keep(file: CorpusFile, number: int, payload: bytes) -> bool:
        try:
            return deduper.accept(payload, file.format)
        except (CorpusError, DedupError) as exc:
            raise type(exc)(f"{file.where(number)}: {exc}") from None

    written, read = _write(corpus, path, kind, keep)
    return CombineSummary(path=path, records=written, read=read, files=len(corpus.files), note=deduper.summary())
