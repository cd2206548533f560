"""Output depends only on (config, seed, index, toolchain): not on how the process was configured, not on
what it made before, not on the worker count, shard split or resume point.

The default tests are short; ``-m slow`` runs the long ones (1,000+ records in one worker against fresh
processes on every built-in config; 1 vs 2 workers vs shards vs resume on 2,000 records).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxsynth.corpus import generate_corpus
from jaxsynth.corpus.failures import failures_path
from jaxsynth.corpus.shards import generate_shard, shard_path
from jaxsynth.grammar import builtin_names, load_config

REPO = Path(__file__).resolve().parent.parent
FULL = ("jaxpr", "stablehlo", "optimized_hlo")

#: A record whose optimized HLO depends on XLA's Eigen threading: with the multi-threaded Eigen
#: default the transpose stays its own fusion, one-thread compiles fold it into the dot. Before
#: lowering passed the option itself, `generate --workers 1` (in-process, JAX loaded before the
#: CLI configured XLA) and `--workers 2` (configured workers) differed here.
THREAD_SENSITIVE = ("default", 9, 279)

_MAKE = """
import hashlib, json, sys
{configure}
from jaxsynth.corpus.generate import encode_record, make_record
from jaxsynth.grammar import load_config
out = {{}}
for name, seed, index in json.loads(sys.argv[1]):
    data = encode_record(make_record(load_config(name), seed, index))
    out[f"{{name}}/{{seed}}/{{index}}"] = hashlib.sha256(data).hexdigest()
print(json.dumps(out, sort_keys=True))
"""


def _fresh(cases: list[tuple[str, int, int]], configure: bool, env: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of each record, made in a fresh process (configured for workers, or left as started)."""
    code = _MAKE.format(
        configure="from jaxsynth.lowering import configure_jax_for_workers; configure_jax_for_workers(1)"
        if configure else ""
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cases)], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, **(env or {})}, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_optimized_hlo_does_not_depend_on_the_process_xla_flags():
    cases = [THREAD_SENSITIVE, ("default", 9, 0), ("reductions-linalg", 3, 5)]
    configured = _fresh(cases, configure=True)
    threaded = _fresh(cases, configure=False, env={"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=true"})
    assert len(configured) == len(cases)
    assert threaded == configured


def test_the_compile_pins_eigen_threading():
    from jaxsynth.lowering.core import TEXT_COMPILE_OPTIONS, compile_options

    assert TEXT_COMPILE_OPTIONS == {"xla_cpu_multi_thread_eigen": False}
    assert compile_options(True)["xla_cpu_multi_thread_eigen"] is False
    assert compile_options(False) == TEXT_COMPILE_OPTIONS


def test_optimized_hlo_does_not_depend_on_which_program_first_traced_a_jax_helper():
    """JAX caches the traced ``jax.random`` helpers with the stack frames of the first program that
    traced them, and XLA names instructions after those frames. With frames in the MLIR locations,
    ``f`` printed other instruction names after ``first`` had run (8 of 600 records of seed 1000
    differed between 1 and 2 workers)."""
    import jax
    import jax.numpy as jnp

    from jaxsynth.lowering import lower

    def first(x, k):
        return jax.random.permutation(jax.random.fold_in(jax.random.split(k, 4)[1], x), jnp.arange(6))

    def f(x, k):
        return jax.random.permutation(jax.random.fold_in(jax.random.split(k, 4)[1], x), jnp.arange(6)) * 2

    types = [jax.ShapeDtypeStruct((), jnp.int32), jax.ShapeDtypeStruct((), jax.random.key(0).dtype)]
    jax.clear_caches()
    fresh = lower(f, types, emit="optimized_hlo").optimized_hlo
    jax.clear_caches()
    lower(first, types, emit="optimized_hlo")
    after = lower(f, types, emit="optimized_hlo").optimized_hlo
    assert "while" in fresh and after == fresh


def test_parsing_emit_does_not_load_jax():
    code = "import sys; from jaxsynth.lowering import parse_emit; parse_emit('jaxpr'); print('jax' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_an_in_process_cli_run_configures_xla_before_jax_loads(tmp_path):
    """The root of the record-279 difference: the CLI loaded JAX (parsing --emit) before it configured XLA."""
    code = (
        "import sys, jaxsynth.cli.generate as g\n"
        "real = g.prepare_jax\n"
        "def watched():\n"
        "    print('jax loaded before prepare_jax:', 'jax' in sys.modules)\n"
        "    real()\n"
        "g.prepare_jax = watched\n"
        "from jaxsynth.cli import run\n"
        "sys.exit(run(['generate', '-n', '1', '--workers', '1', '--emit', 'jaxpr', '-o', sys.argv[1]]))\n"
    )
    out = tmp_path / "c.jsonl"
    proc = subprocess.run([sys.executable, "-c", code, out], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "jax loaded before prepare_jax: False" and out.read_bytes().count(b"\n") == 1


def _engines(tmp_path: Path, config_name: str, seed: int, n: int, emit: tuple[str, ...]) -> dict[str, bytes]:
    """The corpus ``[0, n)`` written by every engine: 1 worker in-process, 2 workers, 3 shards
    (concatenated), and a run interrupted at n/2 then resumed."""
    config = load_config(config_name)
    out: dict[str, bytes] = {}
    one = tmp_path / "one.jsonl"
    generate_corpus(config, seed, n, one, workers=1, emit=emit, progress=False)
    out["1 worker"] = one.read_bytes()
    two = tmp_path / "two.jsonl"
    generate_corpus(config, seed, n, two, workers=2, emit=emit, progress=False)
    out["2 workers"] = two.read_bytes()
    parts = b""
    for shard in range(3):
        generate_shard(config, seed, shard, 3, n, tmp_path / "s.jsonl", emit, workers=1)
        parts += Path(shard_path(tmp_path / "s.jsonl", shard, 3)).read_bytes()
    out["3 shards"] = parts
    resumed = tmp_path / "resumed.jsonl"
    lines = out["1 worker"].splitlines(keepends=True)
    resumed.write_bytes(b"".join(lines[: n // 2]) + lines[n // 2][:100])  # interrupted mid-record
    generate_corpus(config, seed, n, resumed, workers=2, emit=emit, progress=False, resume=True)
    out["resumed"] = resumed.read_bytes()
    assert not os.path.exists(failures_path(one))
    return out


def test_workers_shards_and_resume_write_the_same_bytes(tmp_path):
    out = _engines(tmp_path, "default", 9, 10, FULL)
    assert out["1 worker"].count(b"\n") == 10
    for name, data in out.items():
        assert data == out["1 worker"], name


# ---------------------------------------------------------------- slow
LONG = 1000  #: records a worker makes before the ones compared
COMPARED = 40


@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_records_after_a_long_run_equal_fresh_ones(tmp_path, name):
    """One long-lived isolated worker makes records 0..LONG+COMPARED-1; the last COMPARED equal the
    same records made by a fresh process (in reverse order, so their history differs too)."""
    config = load_config(name)
    path = tmp_path / "long.jsonl"
    summary = generate_corpus(config, 11, LONG + COMPARED, path, workers=1, isolate=True, progress=False)
    assert summary.failures == 0
    long_run = {}
    for line in path.read_bytes().splitlines(keepends=True)[LONG:]:
        long_run[f"{name}/11/{json.loads(line)['index']}"] = hashlib.sha256(line).hexdigest()
    assert len(long_run) == COMPARED
    fresh = _fresh([(name, 11, i) for i in reversed(range(LONG, LONG + COMPARED))], configure=False)
    assert fresh == long_run


@pytest.mark.slow
def test_2000_records_are_the_same_for_every_engine(tmp_path):
    out = _engines(tmp_path, "default", 9, 2000, FULL)
    assert out["1 worker"].count(b"\n") == 2000
    for name, data in out.items():
        assert data == out["1 worker"], name
