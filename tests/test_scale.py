"""Scale: the worker pool survives crashes, hangs and errors; shared MLIR contexts leave texts unchanged;
--profile and --dedup. (Throughput and memory are benchmarks in bench/, never timed tests.)"""

from __future__ import annotations

import json

import msgspec
import pytest

from jaxsynth.cli import run
from jaxsynth.corpus import encode_record, generate_corpus, iter_records, make_record
from jaxsynth.corpus.failures import failures_path, read_failures
from jaxsynth.corpus.run import GenerationError, generate_range
from jaxsynth.corpus.workers import INJECT_FAULTS_ENV
from jaxsynth.grammar import CATEGORIES, load_config, parse_config

JAXPR = ("jaxpr",)


@pytest.fixture(scope="module")
def config():
    return load_config("default")


def test_pool_replaces_crashed_and_hung_workers_and_records_failures(tmp_path, config, monkeypatch):
    monkeypatch.setenv(INJECT_FAULTS_ENV, "2:crash,4:hang,5:error,6:abort")
    path = tmp_path / "c.jsonl"
    summary = generate_corpus(config, 7, 9, path, workers=2, emit=JAXPR, progress=False, timeout=5)
    failed = {2, 4, 5, 6}
    expected = b"".join(b for i in range(9) if i not in failed for b in generate_range(config, 7, i, i + 1, JAXPR))
    assert path.read_bytes() == expected
    failures = list(read_failures(failures_path(path)))
    assert [(f.index, f.kind) for f in failures] == [(2, "crash"), (4, "hang"), (5, "error"), (6, "crash")]
    assert "SIGSEGV" in failures[0].message and "SIGABRT" in failures[3].message
    assert "5 s" in failures[1].message and "injected error at index 5" in failures[2].message
    assert all(f.seed == 7 and f.config_digest == config.digest for f in failures)
    assert summary.records == 5 and summary.failures == 4 and summary.replaced_workers == 3
    assert any("listed in" in note for note in summary.notes())


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("PPid:"))


def _thread_affinities(pid: int) -> list[set[int]]:
    import os

    return [os.sched_getaffinity(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_pinned_workers_keep_every_thread_on_one_cpu(config):
    import os

    from jaxsynth.corpus.workers import WorkerPool

    usable = sorted(os.sched_getaffinity(0))
    expected = b"".join(generate_range(config, 3, 0, 4, JAXPR))
    with WorkerPool(config, 3, JAXPR, "jsonl", 2, pin=True) as pool:
        assert b"".join(o.data for o in pool.run(range(4))) == expected
        # forked by one fork server (not spawned by this process), each pinned all the same
        parents = {_parent(slot.process.pid) for slot in pool.slots}
        assert len(parents) == 1 and parents != {os.getpid()}, parents
        for position, slot in enumerate(pool.slots):
            cpu = usable[position % len(usable)]
            threads = _thread_affinities(slot.process.pid)
            assert len(threads) > 1 and all(a == {cpu} for a in threads), (position, threads)
    with WorkerPool(config, 3, JAXPR, "jsonl", 1, pin=False) as pool:
        assert b"".join(o.data for o in pool.run(range(4))) == expected
        assert all(a == set(usable) for a in _thread_affinities(pool.slots[0].process.pid))


def test_pools_pin_by_default_only_when_they_fill_the_cpus(config):
    import os

    from jaxsynth.corpus.workers import WorkerPool

    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    assert WorkerPool(config, 0, JAXPR, "jsonl", max(1, len(usable))).cpus == usable
    assert WorkerPool(config, 0, JAXPR, "jsonl", 1, pin=False).cpus == []
    if len(usable) > 1:  # a pool smaller than the machine may share it with other runs: no pin
        assert WorkerPool(config, 0, JAXPR, "jsonl", len(usable) - 1).cpus == []
        assert WorkerPool(config, 0, JAXPR, "jsonl", 1, pin=True).cpus == usable


def test_in_process_error_is_skipped_and_listed(tmp_path, config, monkeypatch):
    import jaxsynth.corpus.generate as generate_module

    real = generate_module.sample

    def flaky(cfg, seed, index):
        if index == 1:
            raise KeyError("boom")
        return real(cfg, seed, index)

    monkeypatch.setattr(generate_module, "sample", flaky)
    path = tmp_path / "c.msgpack"
    summary = generate_corpus(config, 3, 4, path, workers=1, emit=JAXPR, progress=False)
    assert [r.index for r in iter_records(path)] == [0, 2, 3]
    [failure] = read_failures(failures_path(path))
    assert (failure.index, failure.kind, failure.message) == (1, "error", "KeyError: 'boom'")
    assert summary.failures == 1 and summary.records == 3


def test_a_run_whose_first_records_all_fail_stops(tmp_path, config, monkeypatch):
    import jaxsynth.corpus.generate as generate_module

    def broken(cfg, seed, index):
        raise ValueError("no grammar")

    monkeypatch.setattr(generate_module, "sample", broken)
    with pytest.raises(GenerationError, match=r"record 0 .*ValueError: no grammar .*first 8 record"):
        generate_corpus(config, 0, 50, tmp_path / "c.jsonl", emit=JAXPR, progress=False)
    assert len(list(read_failures(failures_path(tmp_path / "c.jsonl")))) == 8


def _jax_default_lowering(monkeypatch, core) -> None:
    import jax

    jax.clear_caches()  # nothing lowered under the other partitioner is reused (JAX caches its jitted helpers)
    monkeypatch.setattr(core, "IR_CONTEXT_REUSE", 0)
    monkeypatch.setattr(core, "USE_SHARDY", None)
    monkeypatch.setattr(core, "DIRECT_LOWERING", False)
    monkeypatch.setattr(core, "LEAN_JAX_CONFIG", {})


def _jaxsynth_lowering(monkeypatch, core) -> None:
    import jax

    jax.clear_caches()
    monkeypatch.setattr(core, "IR_CONTEXT_REUSE", 3)
    monkeypatch.setattr(core, "USE_SHARDY", False)
    monkeypatch.setattr(core, "DIRECT_LOWERING", True)
    monkeypatch.setattr(core, "LEAN_JAX_CONFIG", LEAN)


LEAN = {"mutable_array_checks": False}


def test_lean_config_is_what_lower_uses():
    from jaxsynth.lowering import core

    assert core.LEAN_JAX_CONFIG == LEAN  # the tests below check exactly these settings
    assert core.TEXT_JAX_CONFIG == {"traceback_in_locations_limit": 0}  # both sides of every comparison
    assert core.DIRECT_LOWERING and core.IR_CONTEXT_REUSE > 0 and core.USE_SHARDY is False


def test_a_jit_call_inside_a_transformed_higher_order_op_keeps_jaxs_name(monkeypatch):
    """``jax.nn.relu`` is a ``jit`` inside a ``custom_jvp_call``. JAX lowers that call into a cached function from
    an empty name stack, so the call is named ``jit_relu_`` even under ``jax.vmap``; lowered directly it was
    ``vmap_jit_relu__`` (models seed 7, program 39, the HLO text). Such a program keeps JAX's path; one without a
    transformation around the call still lowers directly, with JAX's text."""
    import jax
    import jax.numpy as jnp

    from jaxsynth.lowering import core, lower

    args = [jax.ShapeDtypeStruct((4, 8), jnp.float32)]
    for f, scoped in ((lambda x: jax.vmap(lambda r: jnp.mean(jax.nn.relu(r)))(x), True),
                      (lambda x: jnp.mean(jax.nn.relu(x), axis=1), False)):
        assert core._scoped_call(jax.jit(f).trace(*args).jaxpr.jaxpr) is scoped
        _jax_default_lowering(monkeypatch, core)
        default = lower(f, args, emit="hlo").hlo
        _jaxsynth_lowering(monkeypatch, core)
        assert lower(f, args, emit="hlo").hlo == default
        assert "call(" in default and "vmap_jit" not in default


def test_jaxsynth_lowering_leaves_every_text_unchanged(monkeypatch):
    """jaxsynth's lowering (shared MLIR context, GSPMD, direct lowering, lean JAX settings) against
    JAX's defaults (fresh context, Shardy, per-module lowering cache), every IR kind, on the
    control-heavy configs."""
    from jaxsynth.lowering import core

    kinds = ("jaxpr", "stablehlo", "optimized_hlo", "hlo")
    cases = [(name, 2, index) for name in ("default", "control-flow", "reductions-linalg") for index in range(3)]
    # XLA names these programs' instructions after their MLIR locations; both sides lower without
    # stack frames in the locations (TEXT_JAX_CONFIG), the one setting that is part of the text.
    cases += [("default", 0, 129), ("default", 0, 314)]
    lapack = 0
    for name, seed, index in cases:
        config = load_config(name)
        _jax_default_lowering(monkeypatch, core)
        core._drop_shared_context()
        default = encode_record(make_record(config, seed, index, kinds))
        assert core._shared_context["uses"] == 0  # JAX's default path: nothing shared
        _jaxsynth_lowering(monkeypatch, core)
        record = make_record(config, seed, index, kinds)
        assert core._shared_context["uses"] > 0  # the shared context really served the lowering
        if any("lapack_" in (text or "") for text in (record.stablehlo, record.hlo, record.optimized_hlo)):
            # LAPACK custom calls: Shardy's sharding rule on them by default, none under GSPMD (as in the test below)
            assert record.jaxpr == msgspec.json.decode(default)["jaxpr"], (name, seed, index)
            lapack += 1
            continue
        assert default == encode_record(record), (name, seed, index)
    assert lapack <= 2, lapack  # most compared text for text


@pytest.mark.parametrize("count", [1, pytest.param(40, marks=pytest.mark.slow)])
def test_jaxsynth_lowering_leaves_every_text_unchanged_on_every_config(monkeypatch, count):
    """The same comparison over ``count`` programs of every built-in config."""
    from jaxsynth.grammar import builtin_names
    from jaxsynth.lowering import core

    kinds = ("jaxpr", "stablehlo", "optimized_hlo", "hlo")
    direct_calls = []
    original = core._InlinedRules.__contains__
    monkeypatch.setattr(core._InlinedRules, "__contains__", lambda self, p: direct_calls.append(p) or original(self, p))
    skipped_keys = lapack = 0
    for name in builtin_names():
        config = load_config(name)
        for index in range(count):
            _jax_default_lowering(monkeypatch, core)
            calls = len(direct_calls)
            default = encode_record(make_record(config, 7, index, kinds))
            assert len(direct_calls) == calls  # JAX's own path: the stand-in is not installed
            _jaxsynth_lowering(monkeypatch, core)
            ours = make_record(config, 7, index, kinds)
            if any(t.startswith("key<") for t in ours.signature):
                # JAX annotates a key argument's sharding: Shardy's text by default, GSPMD's in ours
                # (see ProgramBounds.key_input_prob); every other text and record field must agree
                assert ours.jaxpr == msgspec.json.decode(default)["jaxpr"], (name, index)
                skipped_keys += 1
                continue
            if any("lapack_" in (text or "") for text in (ours.stablehlo, ours.hlo, ours.optimized_hlo)):
                # LAPACK custom calls: Shardy (JAX's default) tags them with a sharding rule, GSPMD (ours)
                # does not (an optimized text may have none left: the eigh of a 1x1 matrix folds away)
                assert ours.jaxpr == msgspec.json.decode(default)["jaxpr"], (name, index)
                lapack += 1
                continue
            assert encode_record(ours) == default, (name, index)
    assert len(direct_calls) > 40 * count  # the direct path really ran, equation by equation
    total = count * len(builtin_names())  # most programs compared text for text
    assert skipped_keys <= 0.1 * total and lapack <= 0.15 * total, (skipped_keys, lapack, total)


def test_profile_summary(tmp_path, capsys):
    status = run(["generate", "-n", "3", "--workers", "1", "--emit", "jaxpr,stablehlo", "--profile",
                  "--no-progress", "-o", str(tmp_path / "c.jsonl")])
    err = capsys.readouterr().err
    assert status == 0
    for stage in ("sample", "render", "trace", "lower", "stablehlo", "record", "all"):
        assert f"  {stage} " in err, stage
    assert err.strip().splitlines()[-1].startswith("wrote 3 records")


@pytest.fixture(scope="module")
def tiny():
    """A grammar with so few programs that structural duplicates are common (one unary op)."""
    weights = "\n".join(f"{c} = {1.0 if c == 'unary' else 0.0}" for c in CATEGORIES)
    return parse_config(
        f"""
        name = "tiny"
        [program]
        min_nodes = 1
        max_nodes = 1
        max_depth = 1
        min_inputs = 1
        max_inputs = 1
        max_outputs = 1
        [types]
        dtypes = {{ float32 = 1.0 }}
        min_rank = 1
        max_rank = 1
        min_dim = 2
        max_dim = 2
        [weights.categories]
        {weights}
        """
    )


def test_dedup_writes_n_distinct_records_for_any_worker_count_and_resumes(tmp_path, tiny):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    summary = generate_corpus(tiny, 0, 6, one, workers=1, emit=JAXPR, progress=False, dedup="structural")
    generate_corpus(tiny, 0, 6, two, workers=2, emit=JAXPR, progress=False, dedup="structural")
    assert one.read_bytes() == two.read_bytes()
    records = list(iter_records(one))
    assert len(records) == 6 and len({r.graph_hash for r in records}) == 6
    assert summary.duplicates > 0 and records[-1].index > 5
    lines = one.read_bytes().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join(lines[:3]) + lines[3][:20])  # interrupted, torn 4th record
    generate_corpus(tiny, 0, 6, part, emit=JAXPR, progress=False, dedup="structural", resume=True)
    assert part.read_bytes() == one.read_bytes()


def test_failures_file_lines_are_json(tmp_path, config, monkeypatch):
    import jaxsynth.corpus.generate as generate_module

    real = generate_module.sample
    monkeypatch.setattr(
        generate_module, "sample", lambda c, s, i: (_ for _ in ()).throw(KeyError(i)) if i == 0 else real(c, s, i)
    )
    generate_corpus(config, 0, 2, tmp_path / "c.jsonl", emit=JAXPR, progress=False)
    line = (tmp_path / "c.jsonl.failures.jsonl").read_text().splitlines()[0]
    assert list(json.loads(line)) == ["index", "seed", "config_digest", "kind", "message"]
