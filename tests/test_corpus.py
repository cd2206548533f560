"""Tests for jaxsynth.corpus: the record schema, file formats, readers, generation and determinism."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import jax
import msgspec
import pytest
from records import CORPUS_N, jaxpr_of

from jaxsynth.corpus import (
    SCHEMA_VERSION,
    CorpusError,
    Features,
    Record,
    Toolchain,
    decode_record,
    encode_record,
    generate_corpus,
    generate_range,
    iter_raw,
    iter_records,
    make_record,
    open_writer,
    write,
)
from jaxsynth.corpus.run import chunksize_for
from jaxsynth.grammar import CATEGORIES, REGISTRY, load_config, parse_config

FAST = ("jaxpr", "stablehlo")
FORBIDDEN = ("loc(", "metadata=", ".py", "/tmp", "/root", "source_file")


@pytest.fixture(scope="module")
def config():
    return load_config("default")


@pytest.fixture(scope="module")
def few(config) -> list[Record]:
    return [make_record(config, 3, i, FAST) for i in range(4)]


def _jaxpr_of(record: Record) -> str:
    """Re-execute a record's Python (in this test, on purpose) and trace it at its signature."""
    return jaxpr_of(record.python, record.function_name, record.signature, record.signature_tree)


# ---------------------------------------------------------------- schema
def test_field_names_are_the_public_contract():
    assert Record.__struct_fields__ == (
        "schema_version",
        "id",
        "index",
        "seed",
        "config_digest",
        "config_name",
        "function_name",
        "python",
        "signature",
        "output_types",
        "input_ranges",
        "jaxpr",
        "stablehlo",
        "optimized_hlo",
        "hlo",
        "features",
        "graph_hash",
        "toolchain",
        "grad_jaxpr",
        "vmap_jaxpr",
        "signature_tree",
        "output_tree",
    )
    assert Features.__struct_fields__ == (
        "ops",
        "categories",
        "node_count",
        "depth",
        "inputs",
        "outputs",
        "lines",
    )
    assert Toolchain.__struct_fields__ == ("jax", "jaxlib", "backend", "jaxsynth")
    assert Record.__struct_config__.frozen and Record.__struct_config__.forbid_unknown_fields
    assert not Record.__struct_config__.omit_defaults


def test_record_contents(config, few):
    record = few[1]
    assert record.schema_version == SCHEMA_VERSION == 3
    assert record.id == f"{config.digest}-3-1" and (record.seed, record.index) == (3, 1)
    assert record.config_digest == config.digest and record.config_name == "default"
    assert record.function_name == config.function_name
    assert record.jaxpr and record.stablehlo and record.optimized_hlo is None and record.hlo is None
    f = record.features
    assert f.ops == sorted(f.ops) and f.node_count >= len(f.ops) > 0
    assert f.categories == sorted({REGISTRY[op].category for op in f.ops})
    assert f.inputs == len(record.signature) == len(record.input_ranges)
    assert f.outputs == len(record.output_types)
    assert f.lines == len(record.python.splitlines())
    assert all(re.fullmatch(r"[a-z0-9]+\[[0-9,]*\]", t) for t in record.signature + record.output_types)
    assert all(len(r) == 2 and r[0] <= r[1] for r in record.input_ranges)
    assert record.toolchain == Toolchain(
        jax=jax.__version__, jaxlib=record.toolchain.jaxlib, backend="cpu", jaxsynth=record.toolchain.jaxsynth
    )


def test_jsonl_line_has_declared_key_order(few):
    line = encode_record(few[0], "jsonl")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert list(json.loads(line)) == list(Record.__struct_fields__)


def test_make_record_is_deterministic(config, few):
    again = make_record(config, 3, 1, FAST)
    assert encode_record(again) == encode_record(few[1])
    assert encode_record(again, "msgpack") == encode_record(few[1], "msgpack")


def test_x64_config_is_scoped_to_the_record():
    x64 = parse_config("[types]\nx64 = true\ndtypes = { float64 = 1.0 }\n")
    before = jax.config.jax_enable_x64
    record = make_record(x64, 0, 0, ("jaxpr",))
    assert any(t.startswith("f64") for t in record.signature) and "f64" in record.jaxpr
    assert jax.config.jax_enable_x64 == before


# ---------------------------------------------------------------- the shared default corpus
def test_default_corpus_reexecutes_to_its_jaxpr(shared_corpus):
    records = list(iter_records(shared_corpus))
    assert [r.index for r in records] == list(range(CORPUS_N))
    categories: set[str] = set()
    for record in records:
        assert record.jaxpr is not None and record.stablehlo is not None and record.optimized_hlo is not None
        assert record.hlo is None
        assert _jaxpr_of(record) == record.jaxpr, record.id
        for text in (record.jaxpr, record.stablehlo, record.optimized_hlo):
            bad = [s for s in FORBIDDEN if s in text]
            assert not bad, (record.id, bad)
        categories.update(record.features.categories)
    assert len(categories) >= 10, categories
    assert categories <= set(CATEGORIES)


# ---------------------------------------------------------------- formats and readers
def test_msgpack_round_trip(tmp_path, few):
    path = tmp_path / "c.msgpack"
    assert write(path, few) == len(few)
    data = path.read_bytes()
    (size,) = struct.unpack(">I", data[:4])  # documented framing: 4-byte big-endian length
    assert msgspec.msgpack.decode(data[4 : 4 + size], type=Record) == few[0]
    assert list(iter_records(path)) == few
    assert [n for n, _ in iter_raw(path)] == [1, 2, 3, 4]


def test_jsonl_round_trip_and_append(tmp_path, few):
    path = tmp_path / "c.jsonl"
    write(path, few[:2])
    with open_writer(path, append=True) as writer:
        writer.write(few[2])
    assert list(iter_records(path)) == few[:3]
    assert path.read_bytes() == b"".join(encode_record(r) for r in few[:3])


def _corrupt(tmp_path: Path, few: list[Record], line: bytes, at: int = 2) -> Path:
    lines = [encode_record(r) for r in few]
    lines[at - 1] = line
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize(
    "mutate, detail",
    [
        (lambda d: b'{"schema_version": 1, "id": \n', "truncated"),
        (lambda d: json.dumps({**d, "extra": 1}).encode() + b"\n", "unknown field `extra`"),
        (lambda d: json.dumps({**d, "index": "7"}).encode() + b"\n", "Expected `int`"),
        (lambda d: json.dumps({**d, "seed": -1}).encode() + b"\n", ">= 0"),
        (
            lambda d: json.dumps({k: v for k, v in d.items() if k != "graph_hash"}).encode() + b"\n",
            "graph_hash",
        ),
        (lambda d: json.dumps({**d, "schema_version": 4}).encode() + b"\n", "schema_version 4"),
    ],
)
def test_jsonl_reader_names_the_corrupt_line(tmp_path, few, mutate, detail):
    good = json.loads(encode_record(few[2]))
    path = _corrupt(tmp_path, few, mutate(good), at=3)
    with pytest.raises(CorpusError, match=r"corpus\.jsonl line 3: ") as info:
        list(iter_records(path))
    assert detail in str(info.value) and "\n" not in str(info.value)


def test_msgpack_reader_names_the_truncated_record(tmp_path, few):
    path = tmp_path / "c.msgpack"
    write(path, few)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorpusError, match=r"c\.msgpack record 4: truncated"):
        list(iter_records(path))


def test_reader_never_executes_code(tmp_path, few, monkeypatch):
    marker = tmp_path / "executed"
    python = f"raise SystemExit\nopen({str(marker)!r}, 'w').write('x')\n"
    evil = msgspec.structs.replace(few[0], python=python)
    path = tmp_path / "evil.jsonl"
    write(path, [evil])
    monkeypatch.setattr("builtins.exec", lambda *a, **k: pytest.fail("exec called"))
    monkeypatch.setattr("builtins.eval", lambda *a, **k: pytest.fail("eval called"))
    (record,) = iter_records(path)
    assert record.python == python and not marker.exists()
    assert decode_record(encode_record(evil, "msgpack")[4:], "msgpack") == evil


def test_format_errors(tmp_path):
    with pytest.raises(CorpusError, match="cannot infer the corpus format"):
        list(iter_records(tmp_path / "c.csv"))
    with pytest.raises(CorpusError, match="cannot read corpus"):
        list(iter_records(tmp_path / "missing.jsonl"))
    with pytest.raises(CorpusError, match="unknown corpus format 'xml'"):
        encode_record(None, "xml")  # type: ignore[arg-type]


# ---------------------------------------------------------------- running
def test_generate_range_is_make_record(config, few):
    assert list(generate_range(config, 3, 1, 3, FAST)) == [encode_record(r) for r in few[1:3]]
    assert list(generate_range(config, 3, 2, 4, FAST, "msgpack")) == [
        encode_record(r, "msgpack") for r in few[2:]
    ]


def test_generate_in_process(tmp_path, config, few):
    path = tmp_path / "c.jsonl"
    summary = generate_corpus(config, 3, 4, path, workers=1, emit=FAST, progress=False)
    assert summary.records == 4 and summary.bytes == path.stat().st_size
    assert path.read_bytes() == b"".join(encode_record(r) for r in few)


def test_chunksize_bounds():
    assert chunksize_for(12, 2) == 1
    assert chunksize_for(100, 2) == 12
    assert chunksize_for(10**6, 2) == 16
