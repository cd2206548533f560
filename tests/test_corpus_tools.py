"""Corpus sources (files, globs, folders, stdin) and the commands over existing corpora: stats, split,
export, replay, dedup, merge and coverage."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import msgspec
import pytest
from clitools import cli, one_line_error
from records import CORPUS_N

from jaxsynth.corpus import encode_record, iter_records, write
from jaxsynth.corpus.record import CorpusError, Record
from jaxsynth.corpus.sources import check_shards, open_corpus
from jaxsynth.dataset.coverage import coverage, texts_profile
from jaxsynth.dataset.stats import corpus_stats


@pytest.fixture(scope="module")
def lines(shared_corpus: Path) -> list[bytes]:
    return shared_corpus.read_bytes().splitlines(keepends=True)


@pytest.fixture()
def shards(lines: list[bytes], tmp_path: Path) -> list[Path]:
    """shared_corpus cut into 3 shard files named as ``generate --shard I/3`` names them, plus their side files."""
    folder = tmp_path / "shards"
    folder.mkdir()
    cuts = [0, len(lines) // 3, 2 * len(lines) // 3, len(lines)]
    paths = []
    for i in range(3):
        path = folder / f"corpus-{i:05d}-of-00003.jsonl"
        path.write_bytes(b"".join(lines[cuts[i] : cuts[i + 1]]))
        (folder / f"{path.name}.done").write_text("{}\n")
        paths.append(path)
    (folder / "corpus-00001-of-00003.jsonl.failures.jsonl").write_text('{"index": 7, "seed": 0, "kind": "error"}\n')
    return paths


# ---------------------------------------------------------------- sources
def test_files_globs_folders_and_stdin_read_the_same_records(shared_corpus, shards, lines, tmp_path):
    expected = [r.id for r in iter_records(shared_corpus)]
    folder = shards[0].parent
    for sources in ([str(p) for p in shards], [str(folder / "corpus-*-of-00003.jsonl")], [str(folder)]):
        corpus = open_corpus(sources)
        assert [f.name for f in corpus.files] == [str(p) for p in shards]  # failures file and markers skipped
        assert [r.id for r in corpus.iter_records()] == expected
    stdin = open_corpus(["-"], stdin=io.BytesIO(b"".join(lines)))
    assert [r.id for r in stdin.iter_records()] == expected
    assert [r.id for r in stdin.iter_records()] == expected  # spooled: readable twice
    packed = b"".join(encode_record(r, "msgpack") for r in iter_records(shared_corpus))
    assert [r.id for r in open_corpus("-", "msgpack", stdin=io.BytesIO(packed)).iter_records()] == expected


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda d: [str(d / "nothing-*.jsonl")], "matches no file"),
        (lambda d: [str(d / "missing.jsonl")], "No such file"),
        (lambda d: [str(d / "empty")], "holds no corpus files"),
        (lambda d: [str(d / "shards" / "corpus-00000-of-00003.jsonl"), str(d / "shards")], "named twice"),
    ],
)
def test_bad_sources_are_errors(shards, tmp_path, make, needle):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=needle):
        open_corpus(make(tmp_path))


def test_shard_order_and_completeness(shards):
    check_shards(open_corpus([str(p) for p in shards]), complete=True)
    with pytest.raises(CorpusError, match="out of order"):
        check_shards(open_corpus([str(shards[0]), str(shards[2]), str(shards[1])]))
    check_shards(open_corpus([str(shards[0]), str(shards[2])]))  # readers accept a subset in order
    with pytest.raises(CorpusError, match="1 of 3 shards .* missing, first .*corpus-00001-of-00003.jsonl"):
        check_shards(open_corpus([str(shards[0]), str(shards[2])]), complete=True)


# ---------------------------------------------------------------- commands over several sources
def test_stats_of_shards_equals_stats_of_the_file(shared_corpus, shards, lines, capsys, monkeypatch):
    status, whole, _ = cli(capsys, "stats", shared_corpus)
    assert status == 0
    status, sharded, err = cli(capsys, "stats", shards[0].parent / "corpus-*-of-00003.jsonl")
    assert status == 0, err
    # same report, except the header that names the input
    assert whole.splitlines()[1:] == sharded.splitlines()[1:] and f"{CORPUS_N} records" in sharded.splitlines()[0]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"".join(lines[:10]))))
    status, piped, err = cli(capsys, "stats", "-")
    assert status == 0, err
    assert piped.startswith("<stdin>: 10 records")


def test_merge_gives_the_bytes_of_one_run_and_checks_order(shared_corpus, shards, tmp_path, capsys):
    out = tmp_path / "merged.jsonl"
    status, _, err = cli(capsys, "merge", shards[0].parent, "-o", out)
    assert status == 0, err
    assert out.read_bytes() == shared_corpus.read_bytes()
    assert f"{CORPUS_N} records from 3 files" in err
    status, _, err = cli(capsys, "merge", *shards, "-o", tmp_path / "merged.msgpack")
    assert status == 0, err
    assert list(iter_records(tmp_path / "merged.msgpack")) == list(iter_records(shared_corpus))

    status, _, err = cli(capsys, "merge", shards[1], shards[0], shards[2], "-o", tmp_path / "x.jsonl")
    one_line_error(status, err, "shards out of order")
    status, _, err = cli(capsys, "merge", shards[0], shards[1], "-o", tmp_path / "x.jsonl")
    one_line_error(status, err, "missing", "corpus-00002-of-00003.jsonl")
    renamed = [tmp_path / "b.jsonl", tmp_path / "a.jsonl"]  # not shard-named: the record indices give it away
    renamed[0].write_bytes(shards[1].read_bytes())
    renamed[1].write_bytes(shards[0].read_bytes())
    status, _, err = cli(capsys, "merge", *renamed, "-o", tmp_path / "x.jsonl")
    last = json.loads(shards[1].read_bytes().splitlines()[-1])["index"]
    one_line_error(status, err, "a.jsonl line 1", "record index 0", f"comes after index {last}")
    assert not (tmp_path / "x.jsonl").exists()
    status, _, err = cli(capsys, "merge", shards[0], "-o", shards[0])
    one_line_error(status, err, "also an input")
    status, _, err = cli(capsys, "merge", tmp_path / "nothing-*.jsonl", "-o", tmp_path / "x.jsonl")
    one_line_error(status, err, "matches no file")


def test_merge_rejects_a_record_of_another_schema(shared_corpus, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    first = shared_corpus.read_bytes().splitlines()[0]
    bad.write_bytes(first.replace(b'"graph_hash":', b'"graph_hashes":') + b"\n")
    status, _, err = cli(capsys, "merge", shared_corpus, bad, "-o", tmp_path / "x.jsonl")
    one_line_error(status, err, "bad.jsonl line 1")


def test_dedup_keeps_the_first_of_each_structure(shared_corpus, tmp_path, capsys):
    records = list(iter_records(shared_corpus))
    doubled = tmp_path / "doubled.jsonl"
    copies = [msgspec.structs.replace(r, index=10_000 + i, id=f"copy-{i}") for i, r in enumerate(records[::3])]
    write(doubled, records + copies)
    out = tmp_path / "unique.jsonl"
    status, _, err = cli(capsys, "dedup", doubled, "-o", out)
    assert status == 0, err
    kept = list(iter_records(out))
    first_of_hash: dict[str, Record] = {}
    for r in records + copies:
        first_of_hash.setdefault(r.graph_hash, r)
    assert [r.id for r in kept] == [r.id for r in first_of_hash.values()]
    assert len(kept) < len(records) + len(copies) and not any(r.id.startswith("copy-") for r in kept)
    status, _, err = cli(capsys, "dedup", doubled, shared_corpus, "-o", tmp_path / "both.msgpack", "--mode", "both")
    assert status == 0, err
    jaxprs = {r.jaxpr for r in iter_records(tmp_path / "both.msgpack")}
    assert len(jaxprs) == len(list(iter_records(tmp_path / "both.msgpack")))


def test_split_refuses_a_non_empty_folder_and_overwrite_replaces_cleanly(shared_corpus, tmp_path, capsys):
    out = tmp_path / "split"
    assert cli(capsys, "split", shared_corpus, "-o", out)[0] == 0
    assert (out / "validation.jsonl").exists()
    (out / "notes.txt").write_text("mine")
    status, _, err = cli(capsys, "split", shared_corpus, "-o", out, "--ratios", "0.5,0.5")
    one_line_error(status, err, "not empty", "--overwrite")
    status, _, err = cli(capsys, "split", shared_corpus, "-o", out, "--ratios", "0.5,0.5", "--overwrite")
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "splits.json", "test.jsonl", "train.jsonl"]
    total = sum(1 for name in ("train", "test") for _ in iter_records(out / f"{name}.jsonl"))
    assert total == CORPUS_N


def test_replay_finds_a_record_in_a_folder(shards, capsys):
    index = CORPUS_N - 5  # in the third shard
    status, out, err = cli(capsys, "replay", shards[0].parent, "--index", str(index))
    assert status == 0, err
    assert out == f"record {index}: identical\n"


# ---------------------------------------------------------------- coverage
def _record_of(tmp_path: Path, capsys, body: str, name: str, *args: str) -> Path:
    source = tmp_path / f"{name}.py"
    source.write_text(f"import jax.numpy as jnp\n\n\ndef {name}(x):\n    return {body}\n")
    out = tmp_path / f"{name}.jsonl"
    status, _, err = cli(capsys, "lower", f"{source}:{name}", *args, "-o", out)
    assert status == 0, err
    return out


def test_coverage_counts_distinct_and_weighted(tmp_path, capsys):
    corpus = _record_of(tmp_path, capsys, "jnp.sin(x) * 2.0", "only_sin", "--arg", "f32[4]")
    target = _record_of(tmp_path, capsys, "jnp.sin(jnp.sin(x)) + jnp.cos(x)", "sin_cos", "--arg", "f32[4]")
    status, out, err = cli(capsys, "coverage", corpus, "--against-records", target, "--json", tmp_path / "c.json")
    assert status == 0, err
    report = json.loads((tmp_path / "c.json").read_text())
    jaxpr = report["families"]["jaxpr"]
    # the target has sin twice, cos once and add once; the corpus has sin (and mul), not cos or add
    assert (jaxpr["distinct"], jaxpr["distinct_covered"]) == (3, 1)
    assert (jaxpr["occurrences"], jaxpr["occurrences_covered"]) == (4, 2)
    assert jaxpr["missing"] == {"add": 1, "cos": 1}
    assert report["families"]["jaxpr_dtype"]["missing"] == {"add:f32": 1, "cos:f32": 1}
    assert "stablehlo.cosine" in report["families"]["stablehlo"]["missing"]
    assert report["complete_targets"] == []
    assert "JAXPR primitives" in out and "1/3" in out and "50.0%" in out
    assert "missing JAXPR primitives: add (1), cos (1)" in out


def test_coverage_of_a_corpus_by_itself_is_complete(shared_corpus, tmp_path, capsys):
    status, out, err = cli(
        capsys, "coverage", shared_corpus, "--against-records", shared_corpus, "--json", tmp_path / "c.json"
    )
    assert status == 0, err
    report = json.loads((tmp_path / "c.json").read_text())
    for family in report["families"].values():
        assert family["distinct"] > 0 and family["distinct_covered"] == family["distinct"]
    assert len(report["complete_targets"]) == CORPUS_N


def test_coverage_api_and_manifest(shared_corpus, tmp_path, capsys):
    import jax
    import jax.numpy as jnp

    targets = [("fft", lambda x: jnp.fft.fft(x), ["f32[8]"]), ("relu", jax.nn.relu, ["f32[8]"])]
    report = coverage(str(shared_corpus), targets)
    fft_items = {item for item, _ in report.family("jaxpr").missing}
    assert "fft" in fft_items  # no built-in op lowers to fft (today)
    assert report.targets == ("fft", "relu")
    manifest = tmp_path / "targets.py"
    manifest.write_text(
        "import jax.numpy as jnp\n\nTARGETS = [\n"
        "    ('sum', lambda x: jnp.sum(x), ['f32[4,4]']),\n"
        "    ('dict', lambda p: p['w'] @ p['b'], ['{\"w\": \"f32[3,4]\", \"b\": \"f32[4]\"}']),\n"
        "    ('broken', lambda x: x.undefined_attribute, ['f32[2]']),\n"
        "]\n"
    )
    status, out, err = cli(capsys, "coverage", shared_corpus, "--against-list", manifest)
    assert status == 0, err
    assert "coverage of 2 targets" in out and "skipped broken:" in err
    status, _, err = cli(capsys, "coverage", shared_corpus)
    one_line_error(status, err, "give a target")
    status, _, err = cli(capsys, "coverage", shared_corpus, "--against", f"{manifest}:f", "--arg", "f32[4")
    one_line_error(status, err, "--arg")


def test_texts_profile_reads_nested_jaxprs():
    import jax
    import jax.numpy as jnp

    from jaxsynth.lowering import lower

    def f(x):
        return jax.lax.scan(lambda c, s: (c + jnp.sin(s), jnp.cos(c)), x[0], x)[1]

    texts = lower(f, [jax.ShapeDtypeStruct((3,), jnp.float32)], emit="jaxpr,stablehlo,optimized_hlo")
    profile = texts_profile((texts.jaxpr,), texts.stablehlo, texts.optimized_hlo)
    assert {"scan", "sin", "cos", "add"} <= set(profile.counts["jaxpr"])
    assert profile.counts["jaxpr_dtype"]["sin:f32"] == 1
    assert {"stablehlo.while", "stablehlo.sine"} <= set(profile.counts["stablehlo"])
    assert profile.counts["hlo"]["while"] >= 1


def test_corpus_stats_takes_a_corpus(shared_corpus, shards):
    assert corpus_stats(open_corpus([str(p) for p in shards])).ops == corpus_stats(shared_corpus).ops
    assert Counter(corpus_stats(shared_corpus).ops)  # the comparison above compared non-empty counters


def test_export_takes_several_sources(shards, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    status, _, err = cli(capsys, "export", *shards, "--parquet", tmp_path / "pq")
    assert status == 0, err
    (table,) = [pq.read_table(p) for p in sorted((tmp_path / "pq" / "data").glob("*.parquet"))]
    assert table.num_rows == CORPUS_N and table.column("index").to_pylist() == list(range(CORPUS_N))
    card = (tmp_path / "pq" / "README.md").read_text()
    assert "`corpus-00000-of-00003.jsonl`, `corpus-00001-of-00003.jsonl`" in card and str(tmp_path) not in card
