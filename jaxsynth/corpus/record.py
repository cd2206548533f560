"""Corpus records: one versioned, flat msgspec Struct per generated program, and its two file formats.

Formats (chosen by the file suffix, see :func:`format_for`):

- ``jsonl`` — one JSON object per line, keys in declared field order, every line ``\\n``-terminated.
  Readable by ``datasets.load_dataset("json", data_files=...)``.
- ``msgpack`` — a stream of *length-prefixed* frames: a 4-byte big-endian unsigned length, then
  that many bytes holding one msgpack map (the record, keys in declared order). The prefix lets a
  reader find record boundaries without a streaming decoder and name a corrupt record by its number.

Readers validate every record with the same Struct (unknown fields, wrong types and out-of-range
integers are errors) and report the first bad one as ``<path> line N: ...`` (JSONL) or
``<path> record N: ...`` (msgpack), numbers counted from 1. Nothing found in a record is executed.

Schema evolution: append new fields with defaults and bump :data:`SCHEMA_VERSION`; never change the
type of an existing field. Field names are a public contract.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, BinaryIO, Literal, TypeVar

import msgspec

__all__ = [
    "FORMATS",
    "READABLE_VERSIONS",
    "SCHEMA_VERSION",
    "CorpusError",
    "Features",
    "Format",
    "Record",
    "RecordWriter",
    "Toolchain",
    "decode_record",
    "encode_payload",
    "encode_record",
    "field_decoders",
    "format_for",
    "suffix_format",
    "frame",
    "iter_frames",
    "iter_raw",
    "iter_records",
    "open_writer",
    "write",
]

T = TypeVar("T")

#: Version of the :class:`Record` layout; bumped whenever a field is appended.
#: 2: appended ``grad_jaxpr`` and ``vmap_jaxpr``.
#: 3: appended ``signature_tree`` and ``output_tree``.
SCHEMA_VERSION = 3
#: Versions this reader decodes (older layouts lack the appended fields, which take their defaults).
READABLE_VERSIONS = range(1, SCHEMA_VERSION + 1)
#: File formats, in the order the CLI lists them.
FORMATS: tuple[str, ...] = ("jsonl", "msgpack")
Format = Literal["jsonl", "msgpack"]

#: Integers stay below 2**63 so every column fits an int64 (Arrow / HuggingFace datasets).
Int64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]

_SUFFIXES = {".jsonl": "jsonl", ".msgpack": "msgpack"}
_PREFIX = struct.Struct(">I")


class CorpusError(ValueError):
    """A corpus file that cannot be read or written; the message names the file and record."""


class _Base(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Features(_Base, frozen=True):
    """Cheap structural features of a program, for filtering and statistics."""

    ops: list[str]  #: op names of every op node, sorted, repeats kept
    categories: list[str]  #: op categories present, sorted, unique
    node_count: Int64
    depth: Int64
    inputs: Int64
    outputs: Int64
    lines: Int64  #: lines of the rendered Python module


class Toolchain(_Base, frozen=True):
    """Versions that a record's IR texts depend on."""

    jax: str
    jaxlib: str
    backend: str  #: JAX backend platform, e.g. ``"cpu"``
    jaxsynth: str


class Record(_Base, frozen=True):
    """One generated program: its Python source, IR texts, features and provenance.

    ``record = F(config, seed, index, emit, toolchain)``; ``id`` is ``f"{config_digest}-{seed}-{index}"``.
    IR fields that were not emitted are ``None`` (``null``).
    """

    schema_version: Int64
    id: str
    index: Int64
    seed: Int64
    config_digest: str
    config_name: str
    function_name: str
    python: str
    signature: list[str]  #: JAXPR-style input types, e.g. ``["f32[16]", "f32[]"]``
    output_types: list[str]
    input_ranges: list[list[float]]  #: ``[lo, hi]`` per input
    jaxpr: str | None
    stablehlo: str | None
    optimized_hlo: str | None
    hlo: str | None
    features: Features
    graph_hash: str
    toolchain: Toolchain
    # ---- schema 2 (appended; see GrammarConfig.transforms)
    grad_jaxpr: str | None = None  #: JAXPR of ``jax.grad`` of the scalarized output, if configured
    vmap_jaxpr: str | None = None  #: JAXPR of ``jax.vmap`` over a leading batch axis, if configured
    # ---- schema 3 (appended; see ProgramBounds.pytree_prob)
    #: JSON of the function's arguments when some are pytrees, the leaves written as their types in
    #: ``signature`` order, e.g. ``[{"b": "f32[3]", "w": "f32[3,3]"}, "f32[]"]``; ``None`` for plain arrays.
    signature_tree: str | None = None
    #: The same for the returned values, over ``output_types``; ``None`` when the function returns arrays.
    output_tree: str | None = None


# ---------------------------------------------------------------- encoders and decoders, built once
_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()
_json_decoder = msgspec.json.Decoder(Record)
_msgpack_decoder = msgspec.msgpack.Decoder(Record)


def field_decoders(fields: type[T]) -> dict[str, Callable[[bytes], T]]:
    """Per format, a decoder of a record payload into ``fields``: a Struct naming a few of
    :class:`Record`'s fields, so every other field is skipped unparsed."""
    return {"jsonl": msgspec.json.Decoder(fields).decode, "msgpack": msgspec.msgpack.Decoder(fields).decode}


def _check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise CorpusError(f"unknown corpus format {fmt!r}; allowed: {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def encode_payload(record: Record, fmt: str = "jsonl") -> bytes:
    """One record encoded as a JSON object or msgpack map, without newline or length prefix."""
    if _check_format(fmt) == "jsonl":
        return _json_encoder.encode(record)
    return _msgpack_encoder.encode(record)


def frame(payload: bytes, fmt: str = "jsonl") -> bytes:
    """A payload as it is stored in a file: JSON plus ``\\n``, or msgpack behind its length prefix."""
    if _check_format(fmt) == "jsonl":
        return payload + b"\n"
    return _PREFIX.pack(len(payload)) + payload


def encode_record(record: Record, fmt: str = "jsonl") -> bytes:
    """One record as the bytes it occupies in a file of format ``fmt`` (newline / length prefix included)."""
    return frame(encode_payload(record, fmt), fmt)


def decode_record(data: bytes, fmt: str = "jsonl") -> Record:
    """Decode and validate one record's payload (a JSON line, or a msgpack map without its prefix).

    Raises ``msgspec.ValidationError`` / ``msgspec.DecodeError`` for bad data and :class:`CorpusError`
    for a record of another schema version.
    """
    record = _json_decoder.decode(data) if _check_format(fmt) == "jsonl" else _msgpack_decoder.decode(data)
    if record.schema_version not in READABLE_VERSIONS:
        raise CorpusError(
            f"schema_version {record.schema_version} is not supported (this reader: "
            f"{READABLE_VERSIONS.start}..{SCHEMA_VERSION})"
        )
    return record


def suffix_format(path: str | os.PathLike[str]) -> Format | None:
    """The format named by the suffix of ``path`` (``.jsonl`` / ``.msgpack``), or None."""
    return _SUFFIXES.get(Path(path).suffix)  # type: ignore[return-value]


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> Format:
    """``fmt`` if given, else the format named by the suffix of ``path`` (``.jsonl`` / ``.msgpack``)."""
    if fmt is not None:
        return _check_format(fmt)
    suffix = Path(path).suffix
    if suffix not in _SUFFIXES:
        raise CorpusError(
            f"{os.fspath(path)}: cannot infer the corpus format from suffix {suffix!r}; "
            f"use {' or '.join(_SUFFIXES)}"
        )
    return _SUFFIXES[suffix]  # type: ignore[return-value]


# ---------------------------------------------------------------- reading
def _frames_jsonl(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, start=1):
        payload = line.rstrip(b"\r\n")
        if payload.strip():
            yield number, payload


def _frames_msgpack(stream: BinaryIO, name: str) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        head = stream.read(_PREFIX.size)
        if not head:
            return
        number += 1
        if len(head) < _PREFIX.size:
            raise CorpusError(f"{name} record {number}: truncated length prefix")
        (size,) = _PREFIX.unpack(head)
        payload = stream.read(size)
        if len(payload) < size:
            raise CorpusError(f"{name} record {number}: truncated ({len(payload)} of {size} bytes)")
        yield number, payload


def iter_raw(path: str | os.PathLike[str], fmt: str | None = None) -> Iterator[tuple[int, bytes]]:
    """``(number, payload)`` for each record of a corpus file, without decoding.

    ``number`` is the JSONL line number or the msgpack record number (from 1); ``payload`` excludes
    the newline / length prefix (pass it to :func:`decode_record`). Blank JSONL lines are skipped.
    """
    kind = format_for(path, fmt)
    name = os.fspath(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below; generator owns it
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {name!r}: {exc.strerror}") from None
    with stream:
        yield from iter_frames(stream, kind, name)


def iter_frames(stream: BinaryIO, fmt: str, name: str = "<stream>") -> Iterator[tuple[int, bytes]]:
    """:func:`iter_raw` over an open binary stream of format ``fmt`` (``name`` is used in errors)."""
    if _check_format(fmt) == "jsonl":
        return _frames_jsonl(stream)
    return _frames_msgpack(stream, name)


def _where(path: str | os.PathLike[str], kind: str, number: int) -> str:
    return f"{os.fspath(path)} {'line' if kind == 'jsonl' else 'record'} {number}"


def iter_records(path: str | os.PathLike[str], fmt: str | None = None) -> Iterator[Record]:
    """Decode and validate every record of a corpus file, in file order.

    The format comes from the suffix unless ``fmt`` is given. The first corrupt record raises
    :class:`CorpusError` naming its line (JSONL) or record number (msgpack).
    """
    kind = format_for(path, fmt)
    for number, payload in iter_raw(path, kind):
        try:
            yield decode_record(payload, kind)
        except (msgspec.DecodeError, CorpusError) as exc:
            raise CorpusError(f"{_where(path, kind, number)}: {exc}") from None


# ---------------------------------------------------------------- writing
class RecordWriter:
    """Appends encoded records to a binary file; use as a context manager (see :func:`open_writer`)."""

    def __init__(self, stream: BinaryIO, fmt: Format) -> None:
        self.stream = stream
        self.format = fmt
        self.count = 0

    def write(self, record: Record) -> None:
        self.write_encoded(encode_record(record, self.format))

    def write_encoded(self, data: bytes) -> None:
        """Write bytes produced by :func:`encode_record` with this writer's format."""
        self.stream.write(data)
        self.count += 1

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_writer(path: str | os.PathLike[str], fmt: str | None = None, append: bool = False) -> RecordWriter:
    """Open ``path`` for writing records, truncating it unless ``append``.

    The format comes from the suffix of ``path`` unless ``fmt`` is given.
    """
    kind = format_for(path, fmt)
    try:
        stream = open(path, "ab" if append else "wb")  # noqa: SIM115 - owned by the writer
    except OSError as exc:
        raise CorpusError(f"cannot write corpus {os.fspath(path)!r}: {exc.strerror}") from None
    return RecordWriter(stream, kind)


def write(path: str | os.PathLike[str], records: Iterable[Record], fmt: str | None = None) -> int:
    """Write ``records`` to ``path`` (format from the suffix unless given); returns how many were written."""
    with open_writer(path, fmt) as writer:
        for record in records:
            writer.write(record)
        return writer.count
