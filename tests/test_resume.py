"""Resume and shards: kill -9 then --resume gives the bytes of an uninterrupted run; torn tails are
repaired; shards concatenate to one run; completion markers skip finished shards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxsynth.cli import run
from jaxsynth.corpus import CorpusError, generate_corpus
from jaxsynth.corpus.failures import failures_path
from jaxsynth.corpus.shards import generate_shard, marker_path, read_marker, shard_bounds, shard_path
from jaxsynth.grammar import load_config

REPO = Path(__file__).resolve().parent.parent
JAXPR = ("jaxpr",)
N = 24


@pytest.fixture(scope="module")
def config():
    return load_config("default")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, config) -> dict[str, bytes]:
    """Uninterrupted in-process runs, JSONL and msgpack, of records 0..N-1 (seed 1, jaxpr)."""
    out = {}
    for fmt in ("jsonl", "msgpack"):
        path = tmp_path_factory.mktemp("ref") / f"c.{fmt}"
        generate_corpus(config, 1, N, path, emit=JAXPR, progress=False)
        out[fmt] = path.read_bytes()
    return out


def _count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_kill_9_then_resume_is_byte_identical(tmp_path, reference):
    out = tmp_path / "c.jsonl"
    args = ["generate", "-n", str(N), "--seed", "1", "--emit", "jaxpr", "-o", str(out), "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "jaxsynth", *args, "--workers", "2"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(out) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = out.read_bytes()
    assert 4 <= written.count(b"\n") < N, "the run was not interrupted mid-way"
    with open(out, "ab") as f:  # whatever the kill left, also tear the last record
        f.write(reference["jsonl"][len(written) : len(written) + 40])
    status = run([*args, "--workers", "1", "--resume"])
    assert status == 0
    assert out.read_bytes() == reference["jsonl"]


@pytest.mark.parametrize("fmt", ["jsonl", "msgpack"])
@pytest.mark.parametrize("cut", [0, 1, 0.5, 0.999])
def test_resume_repairs_a_torn_tail(tmp_path, config, reference, fmt, cut):
    data = reference[fmt]
    out = tmp_path / f"c.{fmt}"
    out.write_bytes(data[: int(len(data) * cut)])
    summary = generate_corpus(config, 1, N, out, emit=JAXPR, progress=False, resume=True)
    assert out.read_bytes() == data
    assert summary.records == N and summary.resumed_at is not None


def test_resume_of_a_complete_file_does_nothing(tmp_path, config, reference):
    out = tmp_path / "c.jsonl"
    out.write_bytes(reference["jsonl"])
    summary = generate_corpus(config, 1, N, out, emit=JAXPR, progress=False, resume=True)
    assert summary.new == 0 and out.read_bytes() == reference["jsonl"]


def test_resume_refuses_another_commands_file(tmp_path, config, reference):
    out = tmp_path / "c.jsonl"
    data = reference["jsonl"]
    out.write_bytes(data[: data.index(b"\n") + 100])  # one whole record, then a torn one
    with pytest.raises(CorpusError, match="seed 1, not 2"):
        generate_corpus(config, 2, N, out, emit=JAXPR, progress=False, resume=True)
    with pytest.raises(CorpusError, match="IR kinds jaxpr, not jaxpr,stablehlo"):
        generate_corpus(config, 1, N, out, emit=("jaxpr", "stablehlo"), progress=False, resume=True)


def test_resume_continues_after_failures_without_repeating_them(tmp_path, config, monkeypatch):
    import jaxsynth.corpus.generate as generate_module

    real = generate_module.sample

    def flaky(cfg, seed, index):
        if index in (3, 4):
            raise KeyError(index)
        return real(cfg, seed, index)

    monkeypatch.setattr(generate_module, "sample", flaky)
    full = tmp_path / "full.jsonl"
    generate_corpus(config, 1, 7, full, emit=JAXPR, progress=False)
    lines = full.read_bytes().splitlines(keepends=True)
    fails = Path(failures_path(full)).read_bytes().splitlines(keepends=True)
    assert len(lines) == 5 and len(fails) == 2
    # interrupted after failing index 3 (records 0-2 and one failure line written)
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join(lines[:3]))
    Path(failures_path(part)).write_bytes(fails[0] + fails[1][:10])
    generate_corpus(config, 1, 7, part, emit=JAXPR, progress=False, resume=True)
    assert part.read_bytes() == full.read_bytes()
    assert Path(failures_path(part)).read_bytes() == Path(failures_path(full)).read_bytes()


def test_shards_concatenate_to_one_run_and_markers_skip_finished_shards(tmp_path, config, reference):
    out = tmp_path / "c.jsonl"
    parts = []
    for shard in range(3):
        summary = generate_shard(config, 1, shard, 3, N, out, JAXPR, workers=1)
        assert summary.path == shard_path(out, shard, 3) and not summary.skipped
        parts.append(Path(summary.path))
    assert [p.name for p in parts] == [f"c-0000{i}-of-00003.jsonl" for i in range(3)]
    assert b"".join(p.read_bytes() for p in parts) == reference["jsonl"]
    marker = read_marker(parts[1])
    assert marker is not None and (marker["start"], marker["stop"]) == shard_bounds(N, 1, 3) == (8, 16)
    again = generate_shard(config, 1, 1, 3, N, out, JAXPR)
    assert again.skipped and again.records == 8
    parts[1].write_bytes(parts[1].read_bytes()[:-7])  # damaged after completion: regenerate
    assert not generate_shard(config, 1, 1, 3, N, out, JAXPR).skipped
    assert b"".join(p.read_bytes() for p in parts) == reference["jsonl"]
    other = generate_shard(config, 1, 1, 3, N, out, ("jaxpr", "stablehlo"))  # another command: redo
    assert not other.skipped and Path(marker_path(parts[1])).exists()


def test_cli_shard_flag(tmp_path, capsys, reference):
    out = tmp_path / "c.jsonl"
    common = ["generate", "-n", str(N), "--seed", "1", "--emit", "jaxpr", "--workers", "1", "-o", str(out),
              "--no-progress"]
    for i in range(2):
        assert run([*common, "--shard", f"{i}/2"]) == 0
    assert run([*common, "--shard", "1/2"]) == 0
    assert "already complete" in capsys.readouterr().err
    assert b"".join(Path(shard_path(out, i, 2)).read_bytes() for i in range(2)) == reference["jsonl"]
    assert run([*common, "--shard", "2/2"]) == 2
    assert "need 0 <= I < N" in capsys.readouterr().err
