"""Transform variants (grad_jaxpr, vmap_jaxpr) switched on in the grammar config, and novelty-guided generation."""

from __future__ import annotations

import json

import msgspec
import pytest

from jaxsynth.corpus import encode_record, iter_raw, iter_records, make_record
from jaxsynth.corpus.run import generate_range
from jaxsynth.dataset.hlo import hlo_features
from jaxsynth.dataset.novelty import (
    MAX_MULTIPLIER,
    NoveltyError,
    NoveltyState,
    derived_config,
    epoch_configs,
    generate_novelty,
    manifest_path,
)
from jaxsynth.grammar import REGISTRY, ConfigError, load_config, parse_config
from jaxsynth.grammar.config import Transforms

FAST = ("jaxpr",)


@pytest.fixture(scope="module")
def config():
    return load_config("default")


def _with_transforms(config, **kwargs):
    return msgspec.structs.replace(config, transforms=Transforms(**kwargs))


# ---------------------------------------------------------------- transforms
def test_transforms_config_section():
    assert load_config("default").transforms == Transforms(grad=False, vmap=False, vmap_batch=4)
    config = parse_config("[transforms]\ngrad = true\nvmap = true\nvmap_batch = 2\n")
    assert config.transforms == Transforms(grad=True, vmap=True, vmap_batch=2)
    assert config.digest != parse_config("").digest
    with pytest.raises(ConfigError, match=r"`transforms.jvp`: unknown key; allowed: grad, vmap, vmap_batch"):
        parse_config("[transforms]\njvp = true\n")
    with pytest.raises(ConfigError, match=r"`transforms.vmap_batch`"):
        parse_config("[transforms]\nvmap_batch = 0\n")


def test_records_carry_grad_and_vmap_jaxprs_when_configured(config):
    plain = [make_record(config, 0, i, FAST) for i in range(6)]
    assert all(r.grad_jaxpr is None and r.vmap_jaxpr is None for r in plain)
    both = _with_transforms(config, grad=True, vmap=True, vmap_batch=3)
    made = [make_record(both, 0, i, FAST) for i in range(6)]
    for before, after in zip(plain, made, strict=True):
        assert after.python == before.python and after.jaxpr == before.jaxpr  # the program is unchanged
        assert after.config_digest == both.digest != before.config_digest
        batched = [t.replace("[", "[3,", 1).replace(",]", "]") for t in after.signature]
        assert all(f":{t}" in after.vmap_jaxpr for t in batched), (batched, after.vmap_jaxpr[:300])
        floats_in = any(t.startswith(("f", "bf")) for t in after.signature)
        floats_out = any(t.startswith(("f", "bf")) for t in after.output_types)
        # JAX has no derivative of a while_loop in reverse mode, nor of some non-differentiable primitives
        # (nextafter): grad_jaxpr is None for those
        derivable = all(REGISTRY[op].differentiable for op in after.features.ops if op in REGISTRY)
        if floats_in and floats_out and "while_loop" not in after.features.ops and derivable:
            assert after.grad_jaxpr and "lambda" in after.grad_jaxpr
        if not (floats_in and floats_out):
            assert after.grad_jaxpr is None
    assert any(r.grad_jaxpr for r in made)
    # deterministic, and the bytes are the record's
    assert encode_record(make_record(both, 0, 2, FAST)) == encode_record(made[2])


# ---------------------------------------------------------------- novelty
def test_novelty_multipliers_are_a_pure_function_of_the_records():
    empty = NoveltyState()
    assert empty.multipliers(["add", "sin"]) == {"add": 1.0, "sin": 1.0}
    added = [
        (["add", "sin"], {"op:add", "op:sine"}),
        (["add"], {"op:add"}),
        (["add"], {"op:add"}),
        (["add", "cos"], {"op:add", "op:cosine", "op:rare"}),
    ]
    state = NoveltyState(strength=1.0)
    for ops, feats in added:
        state.add(ops, feats)
    m = state.multipliers(["add", "cos", "sin", "tan"])
    assert m["tan"] == MAX_MULTIPLIER  # never used: explore
    assert m["cos"] > m["sin"] > m["add"]  # cos brought two features seen once
    assert all(1 / MAX_MULTIPLIER <= v <= MAX_MULTIPLIER for v in m.values())
    again = NoveltyState(strength=1.0)
    for ops, feats in reversed(added):
        again.add(ops, feats)
    assert again.multipliers(["add", "cos", "sin", "tan"]) == m  # order of past records does not matter


def test_derived_config(config):
    assert derived_config(config, {"add": 1.0, "sin": 1.0}) is config
    derived = derived_config(config, {"add": 2.0, "sin": 0.5})
    assert derived.weights.ops == {"add": 2.0, "sin": 0.5} and derived.digest != config.digest
    assert derived.op_weight("add") == pytest.approx(2 * config.op_weight("add"))


def test_generate_novelty_is_deterministic_and_replayable(config, tmp_path):
    out = tmp_path / "novelty.jsonl"
    summary = generate_novelty(config, 3, 9, out, workers=1, emit=("optimized_hlo",), epoch=3, progress=False)
    assert summary.records == 9 and summary.epochs == 3 and summary.curve[-1] == (9, summary.distinct_features)
    records = list(iter_records(out))
    assert [r.index for r in records] == list(range(9))
    # epoch 0 is plain generation; later epochs use derived configs
    plain = list(generate_range(config, 3, 0, 3, ("optimized_hlo",)))
    assert [p for _, p in iter_raw(out)][:3] == [p[:-1] for p in plain]
    manifest = json.loads(manifest_path(out).read_text())
    assert [e["start"] for e in manifest["epochs"]] == [0, 3, 6] and manifest["epochs"][0]["multipliers"] == {}
    configs = epoch_configs(config, manifest_path(out))
    assert configs[0] is config and configs[2].digest == records[8].config_digest != config.digest
    assert encode_record(make_record(configs[2], 3, 8, ("optimized_hlo",))) == out.read_bytes().splitlines(True)[8]
    # the weights of epoch 1 are those implied by the records of epoch 0
    state = NoveltyState()
    for r in records[:3]:
        state.add(r.features.ops, hlo_features(r.optimized_hlo))
    assert {k: v for k, v in state.multipliers(sorted(manifest["epochs"][1]["multipliers"])).items()} == manifest[
        "epochs"
    ][1]["multipliers"]
    # an interrupted run resumes to the same bytes (and a longer run extends a shorter one)
    again = tmp_path / "again.jsonl"
    generate_novelty(config, 3, 4, again, workers=1, emit=("optimized_hlo",), epoch=3, progress=False)
    resumed = generate_novelty(
        config, 3, 9, again, workers=1, emit=("optimized_hlo",), epoch=3, progress=False, resume=True
    )
    assert again.read_bytes() == out.read_bytes() and resumed.records == 9
    assert manifest_path(again).read_text() == manifest_path(out).read_text()
    with pytest.raises(NoveltyError, match="made with"):
        generate_novelty(config, 3, 12, again, emit=("optimized_hlo",), epoch=4, progress=False, resume=True)


def test_generate_novelty_cli(tmp_path, capsys):
    from jaxsynth.cli import run

    out = tmp_path / "n.jsonl"
    argv = ["generate", "-n", "3", "--novelty", "2", "--workers", "1", "-o", str(out), "--no-progress"]
    assert run([*argv, "--emit", "optimized_hlo"]) == 0
    assert "novelty over 2 epochs" in capsys.readouterr().err and len(out.read_bytes().splitlines()) == 3
    assert run([*argv, "--emit", "jaxpr"]) == 2
    assert run([*argv, "--emit", "optimized_hlo", "--shard", "0/2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "needs optimized_hlo" in err[0] and "drop --shard" in err[1]


def test_generate_novelty_needs_optimized_hlo(config, tmp_path):
    with pytest.raises(ValueError, match="optimized_hlo"):
        generate_novelty(config, 0, 2, tmp_path / "x.jsonl", emit=("jaxpr",))


@pytest.mark.slow
def test_generate_novelty_worker_count_independent(config, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    generate_novelty(config, 1, 12, one, workers=1, emit=("optimized_hlo",), epoch=4, progress=False)
    generate_novelty(config, 1, 12, two, workers=2, emit=("optimized_hlo",), epoch=4, progress=False)
    assert one.read_bytes() == two.read_bytes()
