"""Resuming an interrupted run from the files it left behind.

A run appends records to ``OUT`` and failed indices to ``OUT.failures.jsonl``, both strictly in
index order and each with one ``write`` per record, so after ``kill -9`` at any moment the files
hold every record up to some index, perhaps followed by a *torn* last record (a partial JSON line
without its newline, or a msgpack frame shorter than its length prefix). :func:`scan` finds the last
complete record of each file and cuts the torn tail off (``truncate``); the run then continues at
the index after the larger of the two last indices. Nothing is lost (every index before that is
in one of the files) and nothing is duplicated (nothing after it is in either), so the finished
files are byte-identical to those of an uninterrupted run.

Before resuming, the first and last records are checked against the command (config digest, seed,
emitted IR kinds, index range), so ``--resume`` never appends to another corpus.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Callable

import msgspec

from jaxsynth.corpus.failures import read_failures
from jaxsynth.corpus.record import CorpusError, Record, decode_record

__all__ = ["FileState", "check_resumable", "scan", "scan_failures"]

_PREFIX = struct.Struct(">I")
_CHUNK = 1 << 20


@dataclasses.dataclass
class FileState:
    """What a corpus file holds after its torn tail (if any) was cut off."""

    records: int = 0
    size: int = 0  #: bytes of complete records
    torn: int = 0  #: bytes cut off
    first: Record | None = None
    last: Record | None = None


def _scan_jsonl(path: str, visit: Callable[[bytes], None] | None) -> tuple[int, int, bytes, bytes]:
    """(records, size of complete lines, first line, last line) of a JSONL file."""
    records = size = 0
    first = last = b""
    with open(path, "rb") as stream:
        if visit is None:  # count newlines only, read the ends
            position = 0
            while chunk := stream.read(_CHUNK):
                records += chunk.count(b"\n")
                end = chunk.rfind(b"\n")
                if end >= 0:
                    size = position + end + 1
                position += len(chunk)
            if records:
                stream.seek(0)
                first = stream.readline()
                last = _last_line(stream, size)
        else:
            for line in stream:
                if not line.endswith(b"\n"):
                    break
                records += 1
                size += len(line)
                if records == 1:
                    first = line
                last = line
                visit(line[:-1])
    return records, size, first.rstrip(b"\n"), last.rstrip(b"\n")


def _last_line(stream, size: int) -> bytes:  # type: ignore[no-untyped-def]
    """The line ending at byte ``size`` (exclusive) of a binary stream."""
    block = 1 << 16
    end = size - 1  # the final newline
    start = end
    data = b""
    while start > 0:
        start = max(0, start - block)
        stream.seek(start)
        data = stream.read(end - start)
        cut = data.rfind(b"\n")
        if cut >= 0:
            return data[cut + 1 :]
        block *= 2
    stream.seek(0)
    return stream.read(end)


def _scan_msgpack(path: str, visit: Callable[[bytes], None] | None) -> tuple[int, int, bytes, bytes]:
    records = size = 0
    first = last = b""
    total = os.path.getsize(path)
    with open(path, "rb") as stream:
        while True:
            head = stream.read(_PREFIX.size)
            if len(head) < _PREFIX.size:
                break
            (length,) = _PREFIX.unpack(head)
            if size + _PREFIX.size + length > total:
                break
            if visit is not None or records == 0:
                payload = stream.read(length)
                if records == 0:
                    first = payload
                if visit is not None:
                    visit(payload)
                last = payload
            else:
                stream.seek(length, os.SEEK_CUR)
            records += 1
            last_start = size
            size += _PREFIX.size + length
        if records and visit is None:
            stream.seek(last_start + _PREFIX.size)
            last = stream.read(size - last_start - _PREFIX.size)
    return records, size, first, last


def scan(
    path: str | os.PathLike[str], fmt: str, visit: Callable[[bytes], None] | None = None, truncate: bool = True
) -> FileState:
    """State of corpus file ``path`` (missing: empty); cuts a torn tail off when ``truncate``.

    ``visit`` is called with every complete record's payload, in order (e.g. to rebuild dedup state).
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        return FileState()
    scanner = _scan_jsonl if fmt == "jsonl" else _scan_msgpack
    records, size, first, last = scanner(name, visit)
    total = os.path.getsize(name)
    state = FileState(records=records, size=size, torn=total - size)
    if state.torn and truncate:
        os.truncate(name, size)
    try:
        if records:
            state.first = decode_record(first, fmt)
            state.last = decode_record(last, fmt)
    except (msgspec.DecodeError, CorpusError) as exc:
        raise CorpusError(f"cannot resume {name}: its first or last record is unreadable ({exc})") from None
    return state


def scan_failures(path: str | os.PathLike[str], truncate: bool = True) -> tuple[int, int | None]:
    """``(count, last index)`` of a failures file (missing: ``(0, None)``); cuts a torn last line off."""
    name = os.fspath(path)
    if not os.path.exists(name):
        return 0, None
    with open(name, "rb") as stream:
        data = stream.read()
    size = data.rfind(b"\n") + 1
    if size < len(data) and truncate:
        os.truncate(name, size)
    count, last = 0, None
    for failure in read_failures(name):
        count += 1
        last = failure.index
    return count, last


def check_resumable(
    state: FileState,
    path: str | os.PathLike[str],
    digest: str,
    seed: int,
    emit: tuple[str, ...],
    start: int,
    stop: int | None,
) -> None:
    """Raise :class:`CorpusError` unless ``path`` was written by this very command."""
    from jaxsynth.lowering import IR_KINDS

    for where, record in (("first", state.first), ("last", state.last)):
        if record is None:
            continue
        kinds = tuple(k for k in IR_KINDS if getattr(record, k) is not None)
        problems = []
        if record.config_digest != digest:
            problems.append(f"config digest {record.config_digest}, not {digest}")
        if record.seed != seed:
            problems.append(f"seed {record.seed}, not {seed}")
        if kinds != emit:
            problems.append(f"IR kinds {','.join(kinds)}, not {','.join(emit)}")
        if record.index < start or (stop is not None and record.index >= stop):
            problems.append(f"index {record.index} outside {start}..{'' if stop is None else stop - 1}")
        if problems:
            raise CorpusError(
                f"cannot resume {os.fspath(path)}: its {where} record has {'; '.join(problems)} "
                "(another command wrote it; remove it or drop --resume)"
            )
