"""The Ray engine runs the same shard function as Ray tasks and writes the bytes of a local run."""

from __future__ import annotations

import pytest

from jaxsynth.cli import run
from jaxsynth.corpus import generate_corpus
from jaxsynth.corpus.failures import failures_path
from jaxsynth.grammar import load_config

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow  # a local Ray cluster takes ~10-30 s to start and run the tasks


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def test_ray_output_is_byte_identical_to_a_local_run(tmp_path, local_cluster, monkeypatch):
    from jaxsynth.corpus.ray_engine import generate_ray
    from jaxsynth.corpus.workers import INJECT_FAULTS_ENV

    config = load_config("default")
    local = tmp_path / "local.jsonl"
    generate_corpus(config, 4, 10, local, emit=("jaxpr", "stablehlo"), progress=False)
    out = tmp_path / "ray.jsonl"
    summary = generate_ray(config, 4, 10, out, ("jaxpr", "stablehlo"), "jsonl", num_shards=3, progress=False)
    assert out.read_bytes() == local.read_bytes()
    assert summary.records == 10 and not (tmp_path / "ray.jsonl.parts").exists()

    # a worker crash inside a Ray task is a failure line, exactly as in a local run
    monkeypatch.setenv(INJECT_FAULTS_ENV, "5:crash")
    local_fail = tmp_path / "local_fail.jsonl"
    generate_corpus(config, 4, 10, local_fail, workers=2, emit=("jaxpr", "stablehlo"), progress=False)
    ray_fail = tmp_path / "ray_fail.jsonl"
    summary = generate_ray(
        config, 4, 10, ray_fail, ("jaxpr", "stablehlo"), "jsonl", num_shards=2, progress=False
    )
    assert ray_fail.read_bytes() == local_fail.read_bytes()
    with open(failures_path(ray_fail), "rb") as a, open(failures_path(local_fail), "rb") as b:
        assert a.read() == b.read()
    assert summary.failures == 1 and summary.records == 9


def test_cli_engine_ray(tmp_path, local_cluster, capsys):
    out = tmp_path / "c.msgpack"
    assert run(["generate", "-n", "4", "--emit", "jaxpr", "--engine", "ray", "--shards", "2", "-o", str(out),
                "--no-progress"]) == 0
    local = tmp_path / "l.msgpack"
    assert run(["generate", "-n", "4", "--emit", "jaxpr", "--workers", "1", "-o", str(local), "--no-progress"]) == 0
    assert out.read_bytes() == local.read_bytes()
    assert run(["generate", "--engine", "ray", "--shard", "0/2", "-o", str(out)]) == 2
    assert "drop --shard" in capsys.readouterr().err
