"""Corpus sources: files, globs, folders and standard input, read in order as one corpus.

Every command that reads a corpus takes one or more SOURCES, each of them

- a file, ``corpus.jsonl`` or ``corpus.msgpack`` (format from the suffix unless ``fmt`` is given);
- a glob, ``'corpus-*-of-00004.jsonl'`` (its matches in name order; a glob that matches nothing is an error);
- a folder: its ``*.jsonl`` and ``*.msgpack`` record files in name order, not recursing, skipping failures
  files (``*.failures.jsonl``); a folder without record files is an error;
- ``-``: standard input, in format ``fmt`` (default ``jsonl``), spooled to a temporary file so that
  commands that read their corpus twice (``split``) can.

Name order is shard order: ``generate --shard I/N`` writes ``corpus-0000I-of-0000N.jsonl``, zero padded,
so a glob or a folder lists shards in index order. :func:`check_shards` verifies that the shard files of
one run appear in increasing shard order, and (for ``merge``) that none is missing. A file named twice
(directly or through a glob or folder) is an error: its records would count twice.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import msgspec

from jaxsynth.corpus.failures import SUFFIX as FAILURES_SUFFIX
from jaxsynth.corpus.record import (
    FORMATS,
    CorpusError,
    Format,
    Record,
    decode_record,
    format_for,
    iter_frames,
)

__all__ = ["STDIN", "Corpus", "CorpusFile", "check_shards", "open_corpus", "shard_name"]

#: The source that names standard input.
STDIN = "-"
_SUFFIX_FORMAT = {".jsonl": "jsonl", ".msgpack": "msgpack"}
_SHARD = re.compile(r"^(?P<stem>.+)-(?P<shard>\d{5,})-of-(?P<count>\d{5,})(?P<suffix>\.jsonl|\.msgpack)$")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclasses.dataclass(frozen=True)
class CorpusFile:
    """One file of a :class:`Corpus`: a path, or (for standard input) a spooled stream."""

    name: str  #: as errors name it: the path, or ``<stdin>``
    format: Format
    path: str | None = None
    stream: BinaryIO | None = dataclasses.field(default=None, compare=False, repr=False)

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """``(number, payload)`` of every record, as :func:`~jaxsynth.corpus.record.iter_raw` gives them."""
        if self.stream is not None:
            self.stream.seek(0)
            yield from iter_frames(self.stream, self.format, self.name)
            return
        assert self.path is not None
        try:
            stream = open(self.path, "rb")  # noqa: SIM115 - closed below; the generator owns it
        except OSError as exc:
            raise CorpusError(f"cannot read corpus {self.name!r}: {exc.strerror}") from None
        with stream:
            yield from iter_frames(stream, self.format, self.name)

    def where(self, number: int) -> str:
        """``<name> line N`` (JSONL) or ``<name> record N`` (msgpack)."""
        return f"{self.name} {'line' if self.format == 'jsonl' else 'record'} {number}"


@dataclasses.dataclass(frozen=True)
class Corpus:
    """Corpus files read one after another, in the order given; the unit every corpus reader takes."""

    files: tuple[CorpusFile, ...]

    @property
    def name(self) -> str:
        """The one file's name, or ``first + K more``."""
        if len(self.files) == 1:
            return self.files[0].name
        return f"{self.files[0].name} + {len(self.files) - 1} more"

    @property
    def formats(self) -> tuple[str, ...]:
        """Formats present, in :data:`~jaxsynth.corpus.record.FORMATS` order."""
        present = {f.format for f in self.files}
        return tuple(f for f in FORMATS if f in present)

    def iter_raw(self) -> Iterator[tuple[CorpusFile, int, bytes]]:
        """``(file, number, payload)`` for every record of every file, in order, undecoded."""
        for file in self.files:
            for number, payload in file.frames():
                yield file, number, payload

    def iter_records(self) -> Iterator[Record]:
        """Every record decoded and validated; the first bad one raises :class:`CorpusError` naming it."""
        for file, number, payload in self.iter_raw():
            yield decode_at(file, number, payload)

    def decode_fields(self, decoders: dict[str, object]) -> Iterator[tuple[CorpusFile, int, object]]:
        """``(file, number, fields)`` per record, decoded with :func:`~jaxsynth.corpus.record.field_decoders`."""
        for file, number, payload in self.iter_raw():
            try:
                yield file, number, decoders[file.format](payload)  # type: ignore[operator]
            except msgspec.DecodeError as exc:
                raise CorpusError(f"{file.where(number)}: {exc}") from None


def decode_at(file: CorpusFile, number: int, payload: bytes) -> Record:
    """Decode one payload of ``file``; errors name the file and record."""
    try:
        return decode_record(payload, file.format)
    except (msgspec.DecodeError, CorpusError) as exc:
        raise CorpusError(f"{file.where(number)}: {exc}") from None


def _folder_files(folder: Path, fmt: str | None) -> list[Path]:
    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        kind = _SUFFIX_FORMAT.get(path.suffix)
        if not path.is_file() or kind is None or path.name.endswith(FAILURES_SUFFIX):
            continue
        if fmt is None or kind == fmt:
            found.append(path)
    if not found:
        what = f"*.{fmt}" if fmt else "*.jsonl or *.msgpack"
        raise CorpusError(f"folder {os.fspath(folder)!r} holds no corpus files ({what})")
    return found


def _spool_stdin(stdin: BinaryIO | None) -> BinaryIO:
    source = stdin if stdin is not None else sys.stdin.buffer
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the Corpus
    while chunk := source.read(1 << 20):
        spool.write(chunk)
    spool.seek(0)
    return spool


def open_corpus(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    fmt: str | None = None,
    stdin: BinaryIO | None = None,
) -> Corpus:
    """Resolve ``sources`` (see the module docstring) into a :class:`Corpus`.

    ``fmt`` forces the format of every file (and selects that suffix in folders); without it a
    file's suffix decides and standard input is JSONL. Raises :class:`CorpusError` for a missing
    file, a glob that matches nothing, a folder without corpus files, a file named twice, and an
    unknown format.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if fmt is not None and fmt not in FORMATS:
        raise CorpusError(f"unknown corpus format {fmt!r}; allowed: {', '.join(FORMATS)}")
    if not sources:
        raise CorpusError("no corpus given")
    files: list[CorpusFile] = []
    seen: dict[str, str] = {}

    def add(path: Path, given: str) -> None:
        key = os.path.realpath(path)
        if key in seen:
            raise CorpusError(f"{os.fspath(path)!r} is named twice ({seen[key]!r} and {given!r})")
        seen[key] = given
        files.append(CorpusFile(name=os.fspath(path), format=format_for(path, fmt), path=os.fspath(path)))

    for source in sources:
        text = os.fspath(source)
        if text == STDIN:
            if STDIN in seen:
                raise CorpusError("standard input ('-') is named twice")
            seen[STDIN] = STDIN
            kind: Format = format_for("-", fmt) if fmt else "jsonl"
            files.append(CorpusFile(name="<stdin>", format=kind, stream=_spool_stdin(stdin)))
        elif _GLOB_CHARS.search(text) and not os.path.exists(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise CorpusError(f"glob {text!r} matches no file")
            for match in matches:
                path = Path(match)
                for file in _folder_files(path, fmt) if path.is_dir() else [path]:
                    add(file, text)
        else:
            path = Path(text)
            if path.is_dir():
                for file in _folder_files(path, fmt):
                    add(file, text)
            elif path.exists():
                add(path, text)
            else:
                raise CorpusError(f"cannot read corpus {text!r}: No such file or directory")
    return Corpus(tuple(files))


def shard_name(path: str) -> tuple[str, int, int] | None:
    """``(run, shard, count)`` of a file named like ``generate --shard`` names it, else ``None``;
    ``run`` is the path with the shard part cut out (``dir/corpus.jsonl``)."""
    folder, base = os.path.split(path)
    match = _SHARD.match(base)
    if match is None:
        return None
    run = os.path.join(folder, match["stem"] + match["suffix"])
    return run, int(match["shard"]), int(match["count"])


def check_shards(corpus: Corpus, complete: bool = False) -> None:
    """Shard files of one run must come in increasing shard order; with ``complete``, all of them.

    Raises :class:`CorpusError` naming the first shard out of order or the first one missing.
    """
    runs: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for file in corpus.files:
        parsed = shard_name(file.name) if file.path is not None else None
        if parsed is None:
            continue
        run, shard, count = parsed
        listed = runs.setdefault((run, count), [])
        if listed and shard <= listed[-1][0]:
            raise CorpusError(f"shards out of order: {file.name!r} comes after {listed[-1][1]!r}")
        listed.append((shard, file.name))
    if complete:
        for (run, count), listed in sorted(runs.items()):
            have = {shard for shard, _ in listed}
            missing = [i for i in range(count) if i not in have]
            if missing:
                stem, suffix = os.path.splitext(run)
                width = len(listed[0][1]) - len(stem) - len(suffix) - len("--of-")
                width = max(5, width // 2)
                raise CorpusError(
                    f"{len(missing)} of {count} shards of {run!r} missing, first "
                    f"{stem}-{missing[0]:0{width}d}-of-{count:0{width}d}{suffix!s}"
                )
