"""One run engine: faults are clear and early, options that do not apply are errors, every command prepares
its output the same way, replay proves novelty records and records of renamed configs, dedup in the corpus."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from clitools import cli, one_line_error

from jaxsynth.corpus import generate_corpus, iter_records
from jaxsynth.corpus.spec import GenerateSpec, SpecError
from jaxsynth.grammar import load_config

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small") / "c.jsonl"
    generate_corpus(load_config("default"), 0, 6, path, emit=("jaxpr",), progress=False)
    return path


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder on a read-only bind mount (root ignores permission bits; a read-only mount binds root too)."""
    source, target = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    target.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True).returncode == 0
    if mounted:
        mounted = subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], capture_output=True).returncode == 0
        if not mounted:
            subprocess.run(["umount", str(target)], capture_output=True)
    if not mounted:
        pytest.skip("cannot make a read-only bind mount here (needs root in a private mount namespace)")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


# ---------------------------------------------------------------- unwritable and missing outputs
def _writers(out: Path, corpus: Path) -> dict[str, list[object]]:
    """Every command that writes, pointed at ``out`` (a file path for generate, a folder otherwise)."""
    return {
        "generate": ["generate", "-n", "2", "--emit", "jaxpr", "--workers", "1", "--no-progress",
                     "-o", out / "c.jsonl"],
        "fuzz": ["fuzz", "-n", "1", "--out", out / "fz"],
        "split": ["split", corpus, "-o", out / "sp"],
        "export": ["export", corpus, "--parquet", out / "pq"],
        "stats --report": ["stats", corpus, "--report", out / "rep"],
    }


@pytest.mark.parametrize("command", ["generate", "fuzz", "split", "export", "stats --report"])
def test_an_output_under_a_file_is_one_line_before_any_work(tmp_path, capsys, small_corpus, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    argv = _writers(blocker / "sub", small_corpus)[command]
    status, out, err = cli(capsys, *argv)
    one_line_error(status, err, "cannot write", "a-file")
    assert out == ""  # nothing ran: stats prints its report before writing files, so not even that
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.parametrize("command", ["generate", "fuzz", "split", "export", "stats --report"])
def test_an_output_on_a_read_only_mount_is_one_line(readonly_dir, capsys, small_corpus, command):
    status, _, err = cli(capsys, *_writers(readonly_dir / "sub", small_corpus)[command])
    one_line_error(status, err, "cannot write", "Read-only file system")


def test_generate_on_a_read_only_mount_fails_before_work_in_a_real_process(readonly_dir):
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "jaxsynth", "generate", "-n", "50", "--workers", "2", "-o", readonly_dir / "c.jsonl"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    one_line_error(proc.returncode, proc.stderr, "cannot write -o", "Read-only file system")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("command", ["generate", "split", "export", "stats --report"])
def test_missing_parent_folders_are_created_by_every_command(tmp_path, capsys, small_corpus, command):
    base = tmp_path / "new" / "deeper"
    status, _, err = cli(capsys, *_writers(base, small_corpus)[command])
    assert status == 0, err
    written = [p for p in base.rglob("*") if p.is_file()]
    assert written, command
    assert not [p for p in base.rglob(".jaxsynth-probe-*")]  # the writability probe leaves nothing behind


def test_prepare_output_creates_folders_and_refuses_wrong_kinds(tmp_path):
    from jaxsynth.cli.support import BadInput, prepare_output

    assert prepare_output(tmp_path / "a" / "b", "--out", directory=True).is_dir()
    assert not (tmp_path / "x" / "c.jsonl").exists()
    prepare_output(tmp_path / "x" / "c.jsonl", "-o")
    assert (tmp_path / "x").is_dir() and not (tmp_path / "x" / "c.jsonl").exists()
    with pytest.raises(BadInput, match="is a directory; expected a file"):
        prepare_output(tmp_path / "a", "-o")
    (tmp_path / "f").write_text("")
    with pytest.raises(BadInput, match="is a file; expected a directory"):
        prepare_output(tmp_path / "f", "--out", directory=True)


# ---------------------------------------------------------------- options that do not apply
MISAPPLIED = [
    (["--shards", "2"], ["--shards", "--engine ray"]),
    (["--address", "127.0.0.1:1"], ["--address", "--engine ray"]),
    (["--engine", "ray", "--workers", "2"], ["--workers", "does not apply to --engine ray"]),
    (["--engine", "ray", "--pin"], ["--pin", "--engine ray"]),
    (["--engine", "ray", "--shard", "0/2"], ["drop --shard"]),
    (["--in-process", "--workers", "2"], ["--in-process", "drop --workers"]),
    (["--in-process", "--timeout", "5"], ["--timeout", "isolated workers"]),
    (["--workers", "1", "--pin"], ["--pin", "isolated workers"]),
    (["--dedup", "--shard", "0/2"], ["--dedup", "drop --shard"]),
    (["--novelty", "2", "--engine", "ray"], ["--novelty", "--engine ray"]),
    (["--dedup", "jaxpr", "--emit", "stablehlo"], ["--dedup jaxpr", "add jaxpr to --emit"]),
    (["--novelty", "2", "--emit", "jaxpr"], ["--novelty needs optimized_hlo"]),
    (["--novelty", "2", "--profile"], ["--profile does not apply to --novelty"]),
]


@pytest.mark.parametrize("extra, needles", MISAPPLIED, ids=[" ".join(a) for a, _ in MISAPPLIED])
def test_options_that_do_not_apply_are_an_error(tmp_path, capsys, extra, needles):
    out = tmp_path / "c.jsonl"
    status, _, err = cli(capsys, "generate", "-n", "2", "-o", out, *extra)
    one_line_error(status, err, *needles)
    assert not out.exists()


def test_the_spec_is_parsed_once_and_checked():
    config = load_config("default")
    spec = GenerateSpec.build(config, 3, 10, "x/c.msgpack", emit="stablehlo, jaxpr", workers=2)
    assert (spec.emit, spec.format, spec.workers, spec.in_process) == (("jaxpr", "stablehlo"), "msgpack", 2, False)
    assert GenerateSpec.build(config, 3, 10, "c.jsonl", workers=1).in_process
    assert GenerateSpec.build(config, 3, 10, "c.jsonl").workers >= 1  # the CPU count
    with pytest.raises(SpecError, match="unknown IR kind"):
        GenerateSpec.build(config, 3, 10, "c.jsonl", emit="mlir")
    with pytest.raises(SpecError, match="n must be >= 0"):
        GenerateSpec.build(config, 3, -1, "c.jsonl")


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_ray_address_where_nothing_listens_fails_fast_in_one_line(tmp_path):
    port = _free_port()
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "jaxsynth", "generate", "-n", "4", "--engine", "ray", "--address",
         f"127.0.0.1:{port}", "-o", tmp_path / "c.jsonl"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert time.monotonic() - started < 30
    one_line_error(proc.returncode, proc.stderr, "no Ray cluster answers", f"127.0.0.1:{port}")
    assert not (tmp_path / "c.jsonl.parts").exists()


# ---------------------------------------------------------------- replay
def test_replay_a_record_made_from_a_renamed_copy_of_a_builtin_config(tmp_path, capsys):
    copy = tmp_path / "my-renamed-default.toml"
    shutil.copy(REPO / "corpora" / "default.toml", copy)
    out = tmp_path / "c.jsonl"
    assert cli(capsys, "generate", "--config", copy, "-n", "3", "--emit", "jaxpr", "--workers", "1", "-o", out)[0] == 0
    [record] = [r for r in iter_records(out) if r.index == 2]
    assert record.config_name == "my-renamed-default" and record.config_digest == load_config("default").digest
    assert cli(capsys, "replay", out, "--index", "2")[:2] == (0, "record 2: identical\n")


def test_replay_a_novelty_record_from_the_manifest_beside_the_corpus(tmp_path, capsys):
    out = tmp_path / "nov.jsonl"
    status, _, err = cli(capsys, "generate", "-n", "5", "--novelty", "2", "--workers", "1", "--emit",
                         "optimized_hlo", "-o", out, "--no-progress")
    assert status == 0, err
    assert "warning" not in err
    records = {r.index: r for r in iter_records(out)}
    base = load_config("default").digest
    assert records[4].config_digest != base  # a guided epoch: its config is in no file
    for index in (0, 4):
        assert cli(capsys, "replay", out, "--index", index)[:2] == (0, f"record {index}: identical\n")
    moved = tmp_path / "elsewhere.jsonl"
    shutil.copy(out, moved)  # without its manifest there is nothing to rebuild the epoch from
    one_line_error(*cli(capsys, "replay", moved, "--index", "4")[::2], "novelty manifest", "--config")


def test_novelty_warns_when_the_run_is_shorter_than_an_epoch(tmp_path, capsys):
    status, _, err = cli(capsys, "generate", "-n", "2", "--novelty", "--workers", "1", "--emit",
                         "optimized_hlo", "-o", tmp_path / "n.jsonl", "--no-progress")
    assert status == 0
    assert "warning: --novelty 500 and -n 2: the run ends within its first epoch" in err


def test_a_novelty_run_records_a_crashing_record_as_a_failure(tmp_path, monkeypatch):
    from jaxsynth.corpus.failures import failures_path, read_failures
    from jaxsynth.corpus.workers import INJECT_FAULTS_ENV
    from jaxsynth.dataset.novelty import generate_novelty

    monkeypatch.setenv(INJECT_FAULTS_ENV, "3:crash")
    out = tmp_path / "n.jsonl"
    spec = GenerateSpec.build(load_config("default"), 1, 5, out, emit="optimized_hlo", workers=1, isolate=True,
                              novelty=2)
    summary = generate_novelty(spec)
    assert [r.index for r in iter_records(out)] == [0, 1, 2, 4]
    assert [(f.index, f.kind) for f in read_failures(failures_path(out))] == [(3, "crash")]
    assert summary.failures == 1 and summary.replaced_workers == 1


# ---------------------------------------------------------------- dedup in the corpus layer
def test_dedup_uses_the_keys_the_worker_hands_back(tmp_path, monkeypatch):
    from jaxsynth.corpus import dedup as dedup_module

    decoded = []
    monkeypatch.setattr(dedup_module.Deduplicator, "keys", lambda self, *a: decoded.append(a))
    summary = generate_corpus(load_config("default"), 0, 4, tmp_path / "c.jsonl", emit=("jaxpr",), progress=False,
                              dedup="both")
    assert summary.records == 4 and decoded == []  # no record was decoded to find its keys
    assert "dedup (both)" in (summary.dedup or "")


def test_the_run_layer_imports_no_layer_above_it():
    code = (
        "import sys, jaxsynth.corpus.run, jaxsynth.corpus.spec, jaxsynth.corpus.shards, jaxsynth.corpus.dedup; "
        "print(sorted(m for m in sys.modules if m.startswith(('jaxsynth.dataset', 'jaxsynth.cli', 'jaxsynth.fuzz'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


# ---------------------------------------------------------------- one isolation layer
def test_one_fault_switch_serves_pools_and_fuzz_workers(monkeypatch):
    from jaxsynth.workers import faults

    monkeypatch.delenv(faults.INJECT_ENV, raising=False)
    assert faults.index_faults() == {} and faults.jax_faults() == []
    monkeypatch.setenv("JAXSYNTH_INJECT", "3:crash, 5:hang,wrong-add,abort:cos,wrong-export")
    assert faults.index_faults() == {3: "crash", 5: "hang"}
    assert faults.jax_faults() == ["wrong-add", "abort:cos", "wrong-export"]
    assert faults.parse(env={"JAXSYNTH_INJECT": "wrong-unroll"}).jax == ("wrong-unroll",)
    for bad, needle in [("2:explode", "unknown index fault '2:explode'"), ("wrong-ad", "unknown fault 'wrong-ad'"),
                        ("wrong-add:sin", "unknown fault 'wrong-add:sin'")]:
        with pytest.raises(faults.FaultError, match=needle) as info:
            faults.parse(bad)
        assert "\n" not in str(info.value)
        assert "wrong-transpose" in str(info.value) or bad[0].isdigit()  # the message lists every fault
    with pytest.raises(RuntimeError, match="injected error at index 7"):
        faults.fire("error", 7)


def test_an_unknown_fault_is_a_one_line_error_when_workers_start(tmp_path, monkeypatch, capsys):
    from jaxsynth.corpus.workers import WorkerPool
    from jaxsynth.fuzz.isolate import Worker
    from jaxsynth.workers.faults import FaultError

    monkeypatch.setenv("JAXSYNTH_INJECT", "wrong-add,explode")
    with pytest.raises(FaultError, match="unknown fault 'explode'"), \
            WorkerPool(load_config("default"), 0, ("jaxpr",), "jsonl", workers=1):
        pass
    with pytest.raises(FaultError, match="unknown fault 'explode'"), Worker() as worker:
        worker.start()
    status, _, err = cli(capsys, "fuzz", "-n", "1", "--oracles", "reference", "--out", tmp_path / "f")
    one_line_error(status, err, "JAXSYNTH_INJECT", "unknown fault 'explode'", "wrong-transpose")


def test_a_child_outlives_the_thread_that_started_it(tmp_path, monkeypatch):
    """die_with_parent has Linux kill a child when its parent dies, and to the kernel the parent is the *thread*
    that started it: a fuzz worker started by a campaign's tester thread died (SIGKILL) when testing ended, under
    the reduction that took it over. Every child now starts on a thread that lives as long as the process."""
    from jaxsynth.workers import ChildProcess

    (tmp_path / "waiting_child.py").write_text(
        "import sys\nfrom jaxsynth.workers.process import die_with_parent\n"
        "die_with_parent()\nsys.stdout.buffer.write(b'ready\\n'); sys.stdout.flush()\nsys.stdin.read()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    started: dict[str, ChildProcess] = {}

    def start() -> None:
        child = started["child"] = ChildProcess("waiting_child", env)
        assert child.stdout.readline() == b"ready\n"  # its parent-death signal is armed

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    child = started["child"]
    try:
        time.sleep(1.0)  # the kernel signals at the thread's exit
        assert child.alive(), f"the child died with its starting thread: exit {child.proc.poll()}"
    finally:
        child.kill()

    # the pool of corpus workers, started on a thread and used after that thread ended
    from jaxsynth.corpus.workers import WorkerPool

    monkeypatch.delenv("JAXSYNTH_INJECT", raising=False)
    pools: list[WorkerPool] = []
    thread = threading.Thread(target=lambda: pools.append(
        WorkerPool(load_config("default"), 0, ("jaxpr",), "jsonl", workers=1).__enter__()))
    thread.start()
    thread.join()
    with pools[0] as pool:
        outcomes = list(pool.run([0, 1]))
        assert [o.kind for o in outcomes] == ["ok", "ok"] and pool.replaced == 0


#: A child module for the fork server's tests: ``prepare`` notes the process that ran it (and, with THREAD set,
#: starts a thread); ``main`` says who it is and serves ``abort`` / ``hang`` / ``exit N`` from stdin.
FORKED_CHILD = """\
import os, sys, threading, time
PREPARED = None
def prepare():
    global PREPARED
    PREPARED = os.getpid()
    if os.environ.get("THREAD"):
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
def main():
    from jaxsynth.workers.process import die_with_parent
    die_with_parent()
    print("child on stderr", file=sys.stderr, flush=True)
    sys.stdout.buffer.write(f"{PREPARED} {os.getpid()} {os.getppid()} {os.getsid(0)}\\n".encode())
    sys.stdout.flush()
    command = sys.stdin.readline().split()
    if command == ["abort"]:
        os.abort()
    if command == ["hang"]:
        time.sleep(3600)
    sys.exit(int(command[1]))
if __name__ == "__main__":
    main()
"""


def _forked_child(tmp_path: Path, module: str, **env: str):
    (tmp_path / f"{module}.py").write_text(FORKED_CHILD)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]), **env}


def test_forked_children_share_one_prepare_and_end_as_subprocess_children_do(tmp_path: Path) -> None:
    """``ChildProcess(forked=True)``: children of one module and environment are forked by one fork server, which
    ran ``prepare()`` once (a fuzz worker is ready in a fifth of the time); each is its own process in its own
    session, its stderr in its log, and its end reads as a ``subprocess`` child's: an exit status, ``-SIGABRT``
    for an abort, a kill of a hang; started on a thread that then ends, it lives on (die_with_parent)."""
    from jaxsynth.workers import ChildProcess

    env = _forked_child(tmp_path, "forked_child_a")
    started: list[ChildProcess] = []
    thread = threading.Thread(target=lambda: started.append(ChildProcess("forked_child_a", env, forked=True)))
    thread.start()
    thread.join()
    children = [started[0], ChildProcess("forked_child_a", env, forked=True), ChildProcess("forked_child_a", env,
                                                                                         forked=True)]
    try:
        who = [[int(word) for word in child.stdout.readline().split()] for child in children]
        prepared, pids, parents, sessions = zip(*who, strict=True)
        assert len(set(prepared)) == 1 and set(parents) == set(prepared) != {os.getpid()}, who
        assert len(set(pids)) == 3 and sessions == pids and prepared[0] not in pids, who
        assert [child.proc.pid for child in children] == list(pids)
        time.sleep(0.5)  # the first child's starting thread has ended
        assert all(child.alive() for child in children)
        for child, command in zip(children, (b"abort\n", b"exit 3\n", b"hang\n"), strict=True):
            child.stdin.write(command)
        # the pool waits on a child's sentinel: readable once it ended, even where the fork server reaped it first
        time.sleep(0.5)
        assert select.select([children[1].proc.sentinel], [], [], 5.0)[0]
        assert not select.select([children[2].proc.sentinel], [], [], 0.2)[0]
        assert children[0].wait() == -signal.SIGABRT and children[1].wait() == 3
        assert children[2].wait(timeout=0.5) is None and children[2].alive()
        children[2].kill()
        assert children[2].proc.poll() == -signal.SIGKILL and not children[2].alive()
        assert "child on stderr" in children[0].tail()
    finally:
        for child in children:
            child.kill()


def test_a_fork_server_with_threads_is_not_used_and_its_death_ends_its_children(tmp_path: Path) -> None:
    """A module whose ``prepare()`` leaves a thread running would have a fork copy locks that thread holds: its
    children are ``python -m MODULE`` instead (children of this process). And a fork server's children die with
    it, reported killed, and the next child has a new one."""
    from jaxsynth.workers import ChildProcess
    from jaxsynth.workers.process import _zygote

    threaded = ChildProcess("forked_child_b", _forked_child(tmp_path, "forked_child_b", THREAD="1"), forked=True)
    try:
        prepared, pid, parent, _ = threaded.stdout.readline().split()
        assert prepared == b"None" and int(parent) == os.getpid() and int(pid) == threaded.proc.pid
    finally:
        threaded.kill()

    env = _forked_child(tmp_path, "forked_child_c")
    child = ChildProcess("forked_child_c", env, forked=True)
    prepared = int(child.stdout.readline().split()[0])
    zygote = _zygote("forked_child_c", env)
    assert zygote.proc.pid == prepared
    os.kill(prepared, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL and not child.alive()
    child.kill()
    # the next child of that module and environment is started afresh
    again = ChildProcess("forked_child_c", env, forked=True)
    try:
        assert int(again.stdout.readline().split()[0]) not in (prepared, os.getpid())
    finally:
        again.kill()


def test_generation_and_fuzzing_share_the_outcome_type_and_the_mechanism():
    from jaxsynth.corpus import workers as corpus_workers
    from jaxsynth.fuzz import isolate
    from jaxsynth.workers import ChildProcess, Outcome, WorkerPool

    assert corpus_workers.Outcome is isolate.Outcome is Outcome
    assert issubclass(corpus_workers.WorkerPool, WorkerPool)
    assert issubclass(isolate._Process, ChildProcess)
    crash = Outcome("crash", signal=11, oracle="reference", step="compile")
    assert crash.describe == "worker died (signal SIGSEGV) during reference/compile" and not crash.ok
