"""Tests for jaxsynth.dataset: dedup, HLO reading, statistics and reports, splits, and their CLI commands.

Everything runs on the session corpus (``shared_corpus``) plus records derived from it; nothing here
generates programs.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import msgspec
import pytest
from clitools import cli
from records import CORPUS_N

from jaxsynth.corpus import Record, decode_record, encode_payload, encode_record, iter_raw, iter_records, write
from jaxsynth.corpus.dedup import DedupError, Deduplicator, jaxpr_hash
from jaxsynth.dataset.hlo import hlo_features, parse_hlo
from jaxsynth.dataset.report import markdown_report, text_report
from jaxsynth.dataset.split import SplitError, assign, parse_holdout, parse_ratios, split_corpus
from jaxsynth.dataset.stats import corpus_stats, tokenize

HLO = """HloModule jit_f, is_scheduled=true, entry_computation_layout={(f32[6,1]{1,0})->(f32[6,1]{1,0}, f32[])}

%fused_computation (param_0.5: f32[6,1]) -> f32[6,1] {
  %constant.0 = f32[] constant(-1)
  %broadcast.0 = f32[6,1]{1,0} broadcast(%constant.0), dimensions={}
  %param_0.5 = f32[6,1]{1,0} parameter(0)
  %log.0 = f32[6,1]{1,0} log(%param_0.5)
  %sub.0 = f32[6,1]{1,0} subtract(%broadcast.0, %log.0)
  ROOT %square.0 = f32[6,1]{1,0} multiply(%sub.0, %sub.0)
}

ENTRY %main.2 (x0.1: f32[6,1]) -> (f32[6,1], f32[]) {
  %x0.1 = f32[6,1]{1,0} parameter(0)
  %fusion = f32[6,1]{1,0} fusion(%x0.1), kind=kLoop, calls=%fused_computation
  %dot.1 = f32[] dot(%x0.1, %x0.1), lhs_contracting_dims={0,1}, rhs_contracting_dims={0,1}
  ROOT %tuple.1 = (f32[6,1]{1,0}, f32[]) tuple(%fusion, %dot.1)
}
"""


@pytest.fixture(scope="module")
def records(shared_corpus: Path) -> list[Record]:
    return list(iter_records(shared_corpus))


#: ``dup_corpus`` has a structural copy after every ``DUP_EVERY``-th record of the shared corpus: ``DUPS`` in all.
DUP_EVERY = 5
DUPS = CORPUS_N // DUP_EVERY


@pytest.fixture(scope="module")
def dup_corpus(records: list[Record], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shared_corpus with a structural duplicate after every DUP_EVERY-th record (new index, same structure and
    texts)."""
    out: list[Record] = []
    extra = 10_000
    for i, record in enumerate(records):
        out.append(record)
        if i % DUP_EVERY == DUP_EVERY - 1:
            out.append(msgspec.structs.replace(records[i - 2], index=extra, id=f"copy-{extra}"))
            extra += 1
    path = tmp_path_factory.mktemp("dups") / "dups.jsonl"
    write(path, out)
    return path


# ---------------------------------------------------------------- dedup
def test_dedup_accepts_first_of_each_key_and_counts(records):
    payloads = [encode_payload(r) for r in records[:10]]
    again = encode_payload(msgspec.structs.replace(records[3], index=999))
    renamed = encode_payload(msgspec.structs.replace(records[4], graph_hash="0" * 32))  # same JAXPR
    for mode, expected in (("structural", [False, True]), ("jaxpr", [False, False]), ("both", [False, False])):
        dedup = Deduplicator(mode)
        assert all(dedup.accept(p) for p in payloads)
        assert [dedup.accept(again), dedup.accept(renamed + b"\n")] == expected, mode
        stats = dedup.stats()
        assert stats["offered"] == 12 and stats["accepted"] == 10 + sum(expected)
        assert stats["rejected"] == 2 - sum(expected)
        assert stats["duplicate_rate"] == pytest.approx(stats["rejected"] / 12)
    assert "duplicates" in dedup.summary()


def test_dedup_msgpack_and_from_corpus_restore_the_state(dup_corpus, tmp_path):
    dedup = Deduplicator("both")
    decisions = [dedup.accept(payload) for _, payload in iter_raw(dup_corpus)]
    assert decisions.count(False) == DUPS and dedup.stats()["rejected_structural"] == DUPS
    msgpack = tmp_path / "dups.msgpack"
    write(msgpack, iter_records(dup_corpus))
    again = Deduplicator("both")
    assert [again.accept(p, "msgpack") for _, p in iter_raw(msgpack)] == decisions
    framed = Deduplicator("both")  # records as stored (length prefix included) are accepted too
    assert [framed.accept(encode_record(r, "msgpack"), "msgpack") for r in iter_records(msgpack)] == decisions

    # a corpus of the accepted records, reloaded, rejects exactly what a continued run would
    kept = tmp_path / "kept.jsonl"
    kept.write_bytes(b"".join(p + b"\n" for (_, p), ok in zip(iter_raw(dup_corpus), decisions, strict=True) if ok))
    restored = Deduplicator.from_corpus(kept, "both")
    assert restored.seen == dedup.seen == CORPUS_N and restored.stats()["offered"] == 0
    probe = [p for _, p in iter_raw(dup_corpus)][::7]
    assert [restored.accept(p) for p in probe] == [False] * len(probe)


def test_dedup_errors():
    with pytest.raises(DedupError, match="allowed: structural, jaxpr, both"):
        Deduplicator("fuzzy")
    no_jaxpr = b'{"graph_hash": "ab", "jaxpr": null}'
    assert Deduplicator("structural").accept(no_jaxpr)
    with pytest.raises(DedupError, match="needs the JAXPR"):
        Deduplicator("jaxpr").accept(no_jaxpr)
    assert jaxpr_hash("x") == jaxpr_hash("x") != jaxpr_hash("y")


# ---------------------------------------------------------------- HLO reading
def test_parse_hlo_counts_opcodes_fusions_and_features():
    summary = parse_hlo(HLO)
    assert summary.computations == 2 and summary.instructions == 10
    assert summary.opcodes["parameter"] == 2 and summary.opcodes["fusion"] == 1 and summary.opcodes["dot"] == 1
    assert summary.fusion_kinds == Counter({"kLoop": 1}) and summary.fusions == 1
    assert summary.fused_opcodes["log"] == 1 and "dot" not in summary.fused_opcodes
    for feature in (
        "op:dot",
        "op-type:dot:f32",
        "fusion:kLoop",
        "fusion-root:kLoop:multiply",
        "edge:log>subtract",
        "edge:subtract>multiply",
        "op:tuple",
    ):
        assert feature in summary.features, feature
    assert not any(f.startswith("edge:parameter") or f.startswith("op-type:tuple") for f in summary.features)
    assert hlo_features(HLO) == summary.features


def test_tokenizer_is_simple_and_documented():
    assert tokenize("v0 = jnp.sin(x0) * 2.5") == ["v0", "=", "jnp", ".", "sin", "(", "x0", ")", "*", "2.5"]


# ---------------------------------------------------------------- statistics and reports
def test_corpus_stats(shared_corpus, dup_corpus, records):
    stats = corpus_stats(shared_corpus)
    assert stats.records == CORPUS_N and stats.present["optimized_hlo"] == CORPUS_N and stats.present["hlo"] == 0
    assert stats.unique["graph_hash"] == len({r.graph_hash for r in records})
    assert sum(stats.ops.values()) == sum(len(r.features.ops) for r in records)
    assert stats.distributions["nodes"].values == tuple(r.features.node_count for r in records)
    assert len(stats.distributions["optimized_hlo_tokens"].values) == CORPUS_N
    # (records, not instructions; a program whose result is constant, such as the grad of ``a + 1.5``, has none)
    with_parameters = sum(" parameter(" in r.optimized_hlo for r in records)
    assert stats.hlo_opcode_records["parameter"] == with_parameters >= 14 * CORPUS_N // 15  # (140 of 150 before)
    assert sum(stats.fusion_kinds.values()) > 0
    dups = corpus_stats(dup_corpus)
    total = CORPUS_N + DUPS
    assert dups.records == total
    assert dups.structural_duplicate_rate == pytest.approx(1 - stats.unique["graph_hash"] / total)
    assert dups.unique_ratio("optimized_hlo") == pytest.approx(stats.unique["optimized_hlo"] / total)
    data = dups.to_json()
    assert json.loads(json.dumps(data)) == data and data["records"] == CORPUS_N + DUPS


def test_reports(shared_corpus):
    stats = corpus_stats(shared_corpus)
    text = text_report(stats, top=5)
    for needle in (
        "structural duplicate rate",
        "unique optimized_hlo: ",
        "python_tokens:",
        "optimized-HLO opcodes (top 5 of",
        "fusion kinds (",
        "distinct optimized-HLO features: ",
    ):
        assert needle in text, needle
    md = markdown_report(stats)
    assert md.startswith("# Corpus report") and "| unique optimized-HLO ratio |" in md and "## Optimized HLO" in md


def test_stats_cli_plots_and_report(shared_corpus, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the plots need the dataset extra (matplotlib)")
    status, out, err = cli(capsys, "stats", shared_corpus, "--top", "5", "--plots", tmp_path / "plots")
    assert status == 0 and out.startswith(f"{shared_corpus}: {CORPUS_N} records\n")
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["distributions.png", "hlo.png", "ops.png", "report.md", "stats.json", "uniqueness.png"]
    assert all((tmp_path / "plots" / n).read_bytes()[:4] == b"\x89PNG" for n in names if n.endswith(".png"))
    report = (tmp_path / "plots" / "report.md").read_text()
    assert "![Distributions](distributions.png)" in report
    assert json.loads((tmp_path / "plots" / "stats.json").read_text())["records"] == CORPUS_N


# ---------------------------------------------------------------- splits
def _hashes(path: Path) -> list[str]:
    return [r.graph_hash for r in iter_records(path)]


def test_split_is_leakage_safe_complete_and_deterministic(dup_corpus, tmp_path, capsys):
    status, out, _ = cli(capsys, "split", dup_corpus, "--ratios", "0.6,0.2,0.2", "--out", tmp_path / "a")
    assert status == 0 and f"{CORPUS_N + DUPS} records" in out
    parts = {name: _hashes(tmp_path / "a" / f"{name}.jsonl") for name in ("train", "validation", "test")}
    sets = {name: set(h) for name, h in parts.items()}
    assert not (sets["train"] & sets["validation"] or sets["train"] & sets["test"] or sets["validation"] & sets["test"])
    assert all(parts.values()) and sum(map(len, parts.values())) == CORPUS_N + DUPS
    # bytes are copied unchanged: the multiset of lines is the input's
    lines = sorted(dup_corpus.read_bytes().splitlines())
    assert sorted(b"".join((tmp_path / "a" / f"{n}.jsonl").read_bytes() for n in parts).splitlines()) == lines
    manifest = json.loads((tmp_path / "a" / "splits.json").read_text())
    assert manifest["counts"] == {name: len(h) for name, h in parts.items()} and manifest["groups"] < CORPUS_N + DUPS
    # same result from a reordered corpus, and a group's split does not depend on the other records
    reordered = tmp_path / "reordered.jsonl"
    reordered.write_bytes(b"".join(line + b"\n" for line in reversed(dup_corpus.read_bytes().splitlines())))
    split_corpus(reordered, tmp_path / "b", "0.6,0.2,0.2")
    for name in parts:
        assert sorted((tmp_path / "b" / f"{name}.jsonl").read_bytes().splitlines()) == sorted(
            (tmp_path / "a" / f"{name}.jsonl").read_bytes().splitlines()
        )
    assert assign("abc", (0.5, 0.5), seed=1) == assign("abc", (0.5, 0.5), seed=1)


def test_split_holdout_sends_op_combinations_to_test(records, shared_corpus, tmp_path):
    ops = Counter(op for r in records for op in set(r.features.ops))
    a, b = sorted(ops, key=lambda op: (-ops[op], op))[:2]
    combo = frozenset((a, b))
    summary = split_corpus(shared_corpus, tmp_path, (0.8, 0.1, 0.1), holdout_ops=[combo])
    held = [r for r in records if combo <= set(r.features.ops)]
    assert held and summary.held_out == len(held)
    for name in ("train", "validation"):
        assert not any(combo <= set(r.features.ops) for r in iter_records(tmp_path / f"{name}.jsonl"))
    test_ids = {r.id for r in iter_records(tmp_path / "test.jsonl")}
    assert {r.id for r in held} <= test_ids
    assert summary.holdout_ops == [sorted(combo)]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--ratios", "0.9,0.2"], "sum to 1"),
        (["--ratios", "0.5,x"], "comma-separated numbers"),
        (["--ratios", "0.2,0.2,0.2,0.4"], "give 1, 2 or 3 ratios"),
        (["--ratios", "1.5,-0.5"], "between 0 and 1"),
        (["--holdout-ops", "add,matmull"], "unknown op 'matmull'"),
        (["--holdout-ops", ","], "names no op"),
    ],
)
def test_split_bad_input_is_one_line_exit_2(shared_corpus, tmp_path, capsys, argv, needle):
    status, _, err = cli(capsys, "split", shared_corpus, "--out", tmp_path, *argv)
    assert status == 2 and err.count("\n") == 1 and err.startswith("error: ") and needle in err, err


def test_split_helpers():
    assert parse_ratios("0.9,0.05,0.05") == (0.9, 0.05, 0.05) and parse_ratios([1]) == (1.0,)
    assert parse_holdout(["add, matmul", "matmul,add", "sin"]) == (frozenset({"add", "matmul"}), frozenset({"sin"}))
    with pytest.raises(SplitError):
        parse_ratios("0.5")


def test_schema_1_records_still_decode(records):
    old = json.loads(encode_record(records[0]))
    old["schema_version"] = 1
    del old["grad_jaxpr"], old["vmap_jaxpr"]
    record = decode_record(json.dumps(old).encode())
    assert record.schema_version == 1 and record.grad_jaxpr is None and record.vmap_jaxpr is None
