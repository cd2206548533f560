"""The fuzzer: injected bugs are found, isolated, reduced and written with a working repro; clean
programs give no findings; reduction keeps programs well-typed; bad CLI input is one line, status 2.

Campaign tests run real worker processes (each pays one JAX start-up); everything else runs in-process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pytest
from configs import only_categories
from historical import historical
from injected import CHECKABLE, checkable_seed
from records import jaxpr_of

import jaxsynth
from jaxsynth.fuzz import Settings, parse_duration, run_campaign
from jaxsynth.fuzz.findings import LITERAL_ELEMENTS, array_literal
from jaxsynth.fuzz.oracles import build_function
from jaxsynth.fuzz.reduce import Invalid, Subject, op_count, recheck, reduce, retype, validate
from jaxsynth.grammar import DType, load_config, parse_config
from jaxsynth.synth import random_inputs, render, sample
from jaxsynth.synth.program import Program

# elementwise and unary ops only
ADD_CONFIG = """
[program]
min_nodes = 3
max_nodes = 6
max_depth = 4
max_nesting = 0
max_inputs = 3

[types]
dtypes = { float32 = 1.0 }
min_rank = 0
max_rank = 2
max_dim = 4

""" + only_categories(elementwise=4.0, unary=2.0) + """
[weights.ops]  # add is frequent; ops that some jax versions build from lax.add internally are off
add = 4.0
sigmoid = 0.0
erf = 0.0
log1p = 0.0
expm1 = 0.0
tan = 0.0
power = 0.0
"""


def _env(inject: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "JAXSYNTH_INJECT"}
    if inject:
        env["JAXSYNTH_INJECT"] = inject
    return env


def _repro_status(path: Path, inject: str | None) -> int:
    cmd = [sys.executable, str(path)]
    if inject:
        cmd = [sys.executable, "-m", "jaxsynth.fuzz.inject", str(path)]
    done = subprocess.run(cmd, env=dict(_env(inject), JAX_PLATFORMS="cpu"), capture_output=True, text=True,
                          timeout=300)
    return done.returncode


def _findings(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("findings/*/finding.json"))]


# ---------------------------------------------------------------- injected bugs


def test_injected_wrong_add_is_found_reduced_and_reproduced(tmp_path: Path) -> None:
    config = parse_config(ADD_CONFIG, name="add-heavy")
    out = tmp_path / "wrong"
    summary = run_campaign(Settings(config=config, out=out, count=2, oracles=("reference", "eager"),
                                    env=_env("wrong-add"), timeout=120))
    assert summary["programs_tested"] == 2
    assert summary["injected_fault"] == "wrong-add"
    # each oracle's own time in the workers, and the jit and reference they share, counted once
    assert summary["oracles"]["reference"]["seconds"] >= 0 and summary["oracles"]["eager"]["seconds"] > 0
    assert summary["shared_seconds"] > 0
    assert summary["unavailable_ops"] == {}  # every op renders on this JAX (a test in test_ops_breadth patches it)
    # jit and eager share the broken path, so only the reference oracle sees it
    assert summary["oracles"]["eager"].get("failed", 0) == 0
    found = _findings(out)
    assert found and all(f["oracle"] == "reference" and f["kind"] == "wrong" for f in found)
    f = found[0]
    record = json.loads((out / f["folder"] / "program.json").read_text())
    assert f["reduced_ops"] <= 3 and f["reduced_ops"] <= f["original_ops"]
    # the reduced program adds: an ``add`` of its own, or one inside an op (``jnp.hypot`` computes ``1 + (y/x)**2``)
    assert len(record["ops"]) <= 3
    assert "add" in record["ops"] or " = add " in jaxpr_of(record["python"], record["function_name"],
                                                          record["signature"]), record["ops"]
    assert f["error"] > f["tolerance"]
    # not caused by an HLO pass (old jaxlibs cannot disable passes per compile: no triage there)
    assert f["triage"].startswith(("still present", "unavailable"))
    assert f["repro_status"] == 1  # verified by the campaign, under the injection
    repro = out / f["folder"] / "repro.py"
    imports = {line.split()[1] for line in repro.read_text().splitlines() if line.startswith("import ")}
    assert imports <= {"sys", "os", "jax", "jax.numpy", "jax.lax", "numpy"}
    # the repro runs XLA as the worker did: its virtual devices and one Eigen thread
    assert "--xla_force_host_platform_device_count=8" in f["toolchain"]["xla_flags"].split()
    assert f"WORKER_XLA_FLAGS = {f['toolchain']['xla_flags']!r}" in repro.read_text()
    assert _repro_status(repro, "wrong-add") == 1
    assert _repro_status(repro, None) == 0  # the "fixed" jax
    assert summary["buckets"][0]["signature"].startswith("reference/wrong/")


#: float64 beside float32 and int32 under JAX's 64-bit mode (``types.x64``): elementwise math, reductions.
X64_CONFIG = """
[types]
x64 = true
dtypes = { float64 = 3.0, float32 = 1.0, int32 = 1.0 }
min_rank = 0
max_rank = 2
max_dim = 4

""" + only_categories(elementwise=4.0, unary=2.0, reductions=2.0)


def test_an_x64_config_is_fuzzed_in_64_bit_mode(tmp_path: Path) -> None:
    """A program sampled under ``types.x64 = true`` assumes JAX's 64-bit mode (float64 inputs, results that widen):
    the workers run its every oracle in that mode, so clean programs pass. Before, they ran in 32-bit mode, where a
    float64 input is silently float32: 19 false findings in 20 programs, each reduced to ``f(x0) = x0`` and
    "verified" by a repro that lacked the mode too. Each repro of such a program turns the mode on."""
    from jaxsynth.fuzz.findings import X64_LINE, repro_source

    config = parse_config(X64_CONFIG, name="x64")
    programs = [sample(config, 0, i) for i in range(4)]
    assert any(t.dtype is DType.float64 for p in programs for t in p.output_types)
    out = tmp_path / "x64"
    summary = run_campaign(Settings(config=config, out=out, count=4, oracles=("reference", "eager"), timeout=120))
    assert summary["programs_judged"] == 4 and summary["oracles"]["reference"]["passed"] == 4
    assert summary["oracles"]["eager"]["passed"] == 4
    assert summary["findings"] == 0 and summary["internal_errors"] == 0, summary["buckets"]
    inputs = [np.ones((2,), np.float64)]
    data = {"expected": inputs, "tolerance": [np.zeros(2)], "failing": [0]}
    for x64 in (True, False):
        source = repro_source(oracle="reference", kind="wrong", title="t", detail="d", source=render(programs[0]),
                              inputs=inputs, data=data, x64=x64)
        assert (X64_LINE in source) is x64


def test_special_values_in_an_x64_config_are_judged_in_64_bit_mode(tmp_path: Path) -> None:
    """Special-values mode under ``types.x64``: float64 NaN, infinities, signed zeros and float64 subnormals (which a
    32-bit run would flush or turn into float32 ones), judged by the reference and eager against the op-by-op
    special-values reference in each node's dtype; clean programs pass."""
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.swarm import program_for

    config = parse_config(X64_CONFIG.replace("x64 = true", "x64 = true\nspecial_values = true"), name="x64special")
    drawn = [inputs_for(program_for(config, 2, i, True)[0], 2, i, special=True) for i in range(4)]
    specials = [x for xs in drawn for x in xs if x.dtype == np.float64 and not np.isfinite(x).all()]
    assert specials and any(np.any((x != 0) & (np.abs(x) < np.finfo(np.float32).tiny)) for xs in drawn for x in xs
                            if x.dtype == np.float64)  # float64 NaN/Inf, and values a float32 run would flush
    summary = run_campaign(Settings(config=config, out=tmp_path / "x64special", count=4, seed=2,
                                    oracles=("reference", "eager"), timeout=120))
    assert summary["special_values"] and summary["programs_judged"] == 4
    assert summary["oracles"]["reference"]["passed"] == 4 and summary["oracles"]["eager"]["passed"] == 4
    assert summary["findings"] == 0 and summary["internal_errors"] == 0, summary["buckets"]


def _checkable_seed() -> tuple[int, str]:
    """The first seed of the elementwise config whose programs 0 and 1 call one op of ``CHECKABLE`` that program 2
    does not, and whose program 0 has 4 to 6 ops: something to reduce, in few candidates (each crashing candidate
    costs a worker start; seed 3's 12 ops took 15 of them)."""
    return checkable_seed("elementwise", (True, True, False), accept=lambda first: 4 <= len(first.op_nodes()) <= 6)


def test_an_injected_check_failure_is_a_crash_finding_bucketed_by_its_site(tmp_path: Path, capsys,
                                                                             monkeypatch) -> None:
    """Programs 0 and 1 of an elementwise seed call an op (``sinh``, say), with other ops each (program 2 does not).
    Under an injected CHECK failure in that op each kills its worker, and the campaign goes on; the two crash at
    one site, so they are one bucket, whatever their ops: program 0's finding is reduced (to the op that aborts),
    the others are written as they are, and every repro shows the same site. (A crash without a site is bucketed
    by its ops: test_a_crash_with_a_site_is_bucketed_and_reduced_by_its_site.)"""
    from clitools import cli

    seed, op = _checkable_seed()
    monkeypatch.chdir(tmp_path)
    out = Path("check")  # relative, as `jaxsynth fuzz --out check` gives it
    summary = run_campaign(Settings(config=load_config("elementwise"), out=out, count=3, seed=seed,
                                    oracles=("reference",), env=_env(f"check:{op}"), timeout=60,
                                    max_reduce_seconds=60))
    assert summary["programs_tested"] == 3 and summary["crashes"] == 2
    assert summary["oracles"]["reference"]["passed"] == 1  # the program after the crashes was tested, and passed
    crashes = [f for f in _findings(out) if f["kind"] == "crash"]
    assert [f["index"] for f in crashes] == [0, 1]
    assert all(f["signal"] == "SIGABRT" and f["stage"].startswith("reference/") for f in crashes)
    # the worker's Python stack names where the code is installed, never this machine's directories
    tail, installed = crashes[0]["stderr_tail"], sysconfig.get_paths()["purelib"]
    assert 'File "<site-packages>/jax/_src/pjit.py"' in tail and installed not in tail, tail
    assert re.search(r'File "<(jaxsynth|site-packages)>/jaxsynth/fuzz/worker\.py"', tail), tail
    assert str(Path(jaxsynth.__file__).parent) not in tail
    site = f"injected_check.cc:1] Check failed: jnp.{op} is never called"
    assert {f["site"] for f in crashes} == {site} and all(f["detail"].endswith(site) for f in crashes)
    assert len({f["bucket"] for f in crashes}) == 1 and len(summary["buckets"]) == 1
    assert crashes[0]["signature"] == f"reference/crash/SIGABRT/injected_check.cc:#] Check failed: jnp.{op} is never " \
                                      "called"
    record = json.loads((out / crashes[0]["folder"] / "program.json").read_text())
    # reduced to the op that aborts (and at most one more its operand's domain or type still needs)
    assert op in record["ops"] and len(record["ops"]) <= 2 and crashes[0]["reduction_tests"] > 0
    assert crashes[0]["reduced_ops"] < crashes[0]["original_ops"]
    for later in crashes[1:]:
        assert later["reduction_tests"] == 0 and later["reduced_ops"] == later["original_ops"]
        assert later["triage"] == "not reduced: program 0 failed at the same site first"
    # each repro was killed by the abort under the injection and printed the site
    assert all(f["verified"] and f["repro_status"] == -signal.SIGABRT and site in f["repro_output"] for f in crashes)
    assert _repro_status(out / crashes[0]["folder"] / "repro.py", None) == 0  # the "fixed" jax
    # --rerun: a crash at another site than the finding's is another crash, and says so
    folder = out / crashes[1]["folder"]
    meta = json.loads((folder / "finding.json").read_text())
    (folder / "finding.json").write_text(json.dumps({**meta, "site": "spmd.cc:4] Check failed: other"}))
    monkeypatch.setenv("JAXSYNTH_INJECT", f"check:{op}")
    got, _, err = cli(capsys, "fuzz", "--rerun", folder)
    assert got == 1 and f"crashes at another site: {site}" in err


#: Summary keys that are measurements of the run, not results: everything else of a campaign's output is the same
#: bytes whatever the number of workers.
TIMING_KEYS = {"seconds", "duration", "testing_seconds", "testing_worker_seconds", "reduction_seconds",
               "shared_seconds", "programs_per_second", "programs_per_second_per_worker", "workers"}


def _without_timing(value):
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def _campaign_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "summary.json"}


def assert_same_campaign(a: Path, b: Path) -> None:
    """Two campaign folders hold the same findings, journal and results, byte for byte (timings aside)."""
    files_a, files_b = _campaign_files(a), _campaign_files(b)
    assert sorted(files_a) == sorted(files_b)
    for name in files_a:
        assert files_a[name] == files_b[name], f"{name} differs"
    summaries = [_without_timing(json.loads((out / "summary.json").read_text())) for out in (a, b)]
    assert summaries[0] == summaries[1]


def test_a_campaign_is_the_same_with_one_worker_or_two_and_after_a_stop_and_resume(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    """Findings, their reductions, repros, HLO texts, the raw journal and the findings database do not depend on
    the number of workers, nor on a stop and ``--resume``.

    Two workers used to reduce a finding differently: the second worker, started by a tester thread, was killed
    with that thread (die_with_parent) and, when the reduction that took it over came at the wrong moment, its
    first test read as a candidate that fails no more (else the worker was quietly restarted); the optimized HLO
    carried JAX's stack-frame tables (file paths, and frames of whichever program traced a helper first); the
    journal was in the order findings came in. Resumed after a stop at program 3 (programs 0, 1 and 2 with findings:
    the rewrite oracle's ``(v + v) * 0.5`` runs the broken add in any float program; a clean program's tallies from
    the journal are the slow kill -9 test's), no program is tested again: the tallies come from the journal and the
    raw findings from the evidence folder (a resumed run used to test programs with findings again, and an
    intermittent crash that did not recur was lost), except where that evidence cannot be read (program 1's, here
    made unreadable): that program is tested again. The buckets the stopped run recorded in ``--db`` are neither
    counted twice nor reported old, and the resumed summary's timings are both runs' together (its duration used to
    be the last run's alone)."""
    from jaxsynth.fuzz import campaign
    from jaxsynth.fuzz.isolate import Worker

    started: list[int] = []  # a worker's id per process it started
    tested: list[int] = []  # programs, in the order their results came in
    record = campaign._record

    class Counted(Worker):
        def _new(self):
            started.append(self.id)
            return super()._new()

    def counted(state, index, *args, **kwargs):
        raws = record(state, index, *args, **kwargs)
        tested.append(index)
        if len(tested) == 3 and state.settings.out.name == "stopped" and not state.settings.resume:
            state.stop = True  # what an interrupt does: test no new program
        return raws

    monkeypatch.setattr(campaign, "Worker", Counted)
    monkeypatch.setattr(campaign, "_record", counted)
    config = parse_config(ADD_CONFIG, name="add-heavy")  # seed 403: findings in programs 0, 1, 2 and 3

    def run(name: str, workers: int, **kwargs) -> dict:
        started.clear()
        tested.clear()
        # each worker tests a program at least, so the second is started by its tester thread; the first finding
        # is reduced (repros are run, and their outputs compared, by the slow tests below, and the triage's HLO
        # pass runs, 20 s here, by the slow kill -9 test's one worker against two)
        return run_campaign(Settings(config=config, out=tmp_path / name, seed=403, count=4, workers=workers,
                                     oracles=("reference", "rewrite"), env=_env("wrong-add"), timeout=120,
                                     swarm=True, verify=False, max_reductions=1, triage=False,
                                     db=tmp_path / f"{name}.json", **kwargs))

    summary = run("w2", 2)
    assert summary["workers"] == 2 and summary["internal_errors"] == 0
    assert summary["crashes"] == summary["hangs"] == 0
    found = _findings(tmp_path / "w2")
    # each worker started a process (the second by its tester thread), a fresh one before a program tested after
    # one with findings (0, 1 and 2 may be followed; 3 is the last: the next program is not to inherit what a failed
    # run left), and one for each finding's recheck
    followed = {f["index"] for f in found} - {3}
    restarts = len(started) - 2 - len(found)
    assert len(set(started)) == 2 and 0 <= restarts <= len(followed), started
    # wrong values in every program, in program and oracle order (the rewrite oracle's (v + v) * 0.5 runs the broken
    # add in any float program; the reference oracle finds it where the program adds); the first finding is reduced
    # (max_reductions)
    pairs = [(f["index"], f["oracle"]) for f in found]
    assert pairs == sorted(pairs) and {i for i, _ in pairs} == {0, 1, 2, 3}, pairs
    assert {o for _, o in pairs} == {"reference", "rewrite"}, pairs
    assert [bool(f["reduction_tests"]) for f in found] == [True] + [False] * (len(found) - 1)
    hlo = (tmp_path / "w2" / found[0]["folder"] / "optimized_hlo.txt").read_text()
    assert hlo.startswith("HloModule") and "FileNames" not in hlo and "StackFrames" not in hlo

    # one worker, stopped after program 2, then resumed with two: the same campaign as two workers throughout (the
    # first finding reduced by one worker here and by two there)
    stopped = run("stopped", 1)
    out = tmp_path / "stopped"
    assert stopped["status"] == "stopped" and stopped["programs_tested"] == 3 and (out / campaign.JOURNAL).exists()
    # one worker: programs 1 and 2 follow 0 and 1 on a fresh process each
    tested_findings = [f for f in found if f["index"] < 3]
    assert len(set(started)) == 1 and len(started) - 1 - len(tested_findings) == 2, started
    assert stopped["new_buckets"] and set(stopped["new_buckets"]) <= set(summary["new_buckets"])
    evidence = out / campaign.EVIDENCE
    assert sorted(p.name for p in evidence.iterdir()) == ["0.pickle", "1.pickle", "2.pickle"]
    (evidence / "1.pickle").write_bytes(b"not a pickle")
    # the timings add up over the runs: the stopped run's, made large here, plus the resumed run's own; the
    # stopped run had one worker, the resumed one two, so a worker's rate is over the testing time of each worker
    earlier = {"testing_seconds": 7000.0, "reduction_seconds": 2000.0, "duration": 10000.0,
               "testing_worker_seconds": 7000.0}
    campaign.write_json(out / "summary.json", {**stopped, **earlier})
    began = time.monotonic()
    resumed = run("stopped", 2, resume=True)
    took = time.monotonic() - began
    for key, seconds in earlier.items():  # two workers: the resumed run adds up to twice its time in worker-seconds;
        # summary.json rounds to 0.01 s, which can lift a figure measured inside the run just past `took`
        assert seconds < resumed[key] <= seconds + (2 if key == "testing_worker_seconds" else 1) * took + 0.01, key
    assert resumed["duration"] > resumed["testing_seconds"] + resumed["reduction_seconds"]
    assert resumed["programs_per_second"] == round(4 / resumed["testing_seconds"], 3)
    assert resumed["programs_per_second_per_worker"] == round(4 / resumed["testing_worker_seconds"], 3) == 0.001
    assert sorted(tested) == [1, 3] and resumed["status"] == "done" and resumed["programs_tested"] == 4
    assert not (out / campaign.JOURNAL).exists() and not evidence.exists()
    assert_same_campaign(tmp_path / "w2", out)
    assert (tmp_path / "stopped.json").read_bytes() == (tmp_path / "w2.json").read_bytes()
    assert run("stopped", 1, resume=True) == resumed and tested == [] and started == []  # done: nothing to do


@pytest.mark.slow
def test_a_killed_campaign_resumes_to_the_output_of_an_uninterrupted_one(tmp_path: Path) -> None:
    """``kill -9`` of a ``jaxsynth fuzz`` process (its workers die with it) in the middle of a campaign with
    findings, then ``--resume`` with two workers: the same bytes as one uninterrupted run with one worker."""
    args = ["--config", "elementwise", "-n", "12", "--seed", "8", "--oracles", "reference,rewrite", "--exit-zero"]
    env = {**os.environ, **_env("wrong-add")}

    def fuzz(out: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "jaxsynth", "fuzz", *args, "--out", str(out),
                                 "--db", str(out) + ".json", *extra], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    assert fuzz(tmp_path / "whole").wait(timeout=1200) == 0
    out = tmp_path / "part"
    killed = fuzz(out)
    journal = out / "progress.jsonl"
    deadline = time.monotonic() + 600
    while not (journal.exists() and journal.read_text().count("\n") >= 6) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    tested = journal.read_text().count("\n") - 1
    assert 5 <= tested < 12 and not (out / "findings").exists()  # killed while testing, before any reduction
    assert fuzz(out, "--resume", "--workers", "2").wait(timeout=1200) == 0
    assert json.loads((out / "summary.json").read_text())["programs_tested"] == 12 and not journal.exists()
    assert not (out / "evidence").exists()
    assert _findings(tmp_path / "whole")
    assert_same_campaign(tmp_path / "whole", out)
    assert Path(str(out) + ".json").read_bytes() == Path(str(tmp_path / "whole") + ".json").read_bytes()


def test_a_program_that_every_oracle_skipped_is_tested_but_not_judged(tmp_path: Path) -> None:
    """``programs_judged`` counts the programs some oracle gave a verdict on: a pass, a failure, a crash (until it is
    dismissed as the harness's), not a program whose every check was skipped; a journal written before the count
    existed folds to the same number (it is derived from the per-oracle counts)."""
    from jaxsynth.fuzz.campaign import RawFinding, _dismiss, _fold, _State
    from jaxsynth.fuzz.isolate import Outcome

    state = _State(Settings(config=load_config("elementwise"), out=tmp_path))
    _fold(state, 0, {"counts": {"reference": {"applied": 1, "skipped_unsupported": 1}}})
    _fold(state, 1, {"counts": {"reference": {"applied": 1, "passed": 1}, "eager": {"skipped_other": 1}}})
    _fold(state, 2, {"internal": ["program 2: sampling failed"]})
    assert (state.tested, state.judged) == (3, 1)
    _fold(state, 3, {"crashed": 1, "counts": {"sharding": {"crash": 1}}})
    assert state.judged == 2
    raw = RawFinding(3, "sharding", "crash", sample(load_config("elementwise"), 0, 0), [],
                     outcome=Outcome(kind="crash", oracle="sharding"))
    state.raw.append(raw)
    _dismiss(state, raw, "worker killed from outside")
    assert (state.judged, state.internal, dict(state.counts["sharding"])) == (1, 2, {"internal": 1})


def test_raw_findings_evidence_reads_back_as_it_was_found(tmp_path: Path) -> None:
    """The evidence a resumed run reduces from: a crash's outcome and a wrong value's verdict (arrays in its data)
    read back equal, with the program, inputs and swarm draw made again from the seed; missing or unreadable
    evidence reads as None (the program is tested again)."""
    from jaxsynth.fuzz.campaign import RawFinding, _keep_evidence, _kept_evidence, inputs_for
    from jaxsynth.fuzz.isolate import Outcome
    from jaxsynth.fuzz.oracles import Verdict
    from jaxsynth.fuzz.swarm import program_for

    settings = Settings(config=load_config("elementwise"), out=tmp_path, seed=4, swarm=True)
    program, swarm = program_for(settings.config, 4, 7, True)
    inputs = inputs_for(program, 4, 7)
    crash = Outcome(kind="crash", signal=6, oracle="sharding", step="run", plan={"mesh": [2, 4]},
                    stderr_tail="F0000 check failed")
    wrong = Verdict(False, 3.0, 1e-6, "output 0 differs", output=0, index=(1, 2),
                    data={"tolerance": [np.full((2, 3), 1e-6, np.float32)], "mismatch": "value"})
    _keep_evidence(tmp_path, 7, [RawFinding(7, "sharding", "crash", program, inputs, outcome=crash, swarm=swarm),
                                 RawFinding(7, "reference", "wrong", program, inputs, verdict=wrong, swarm=swarm)])
    back = _kept_evidence(settings, 7)
    assert back is not None and [(r.oracle, r.kind) for r in back] == [("sharding", "crash"), ("reference", "wrong")]
    assert back[0].outcome == crash and back[0].verdict is None and back[0].outcome.describe == crash.describe
    assert back[1].verdict.detail == wrong.detail and back[1].verdict.index == (1, 2)
    np.testing.assert_array_equal(back[1].verdict.data["tolerance"][0], wrong.data["tolerance"][0])
    assert all(render(r.program) == render(program) and r.swarm == swarm for r in back)
    assert all(a.tobytes() == b.tobytes() for r in back for a, b in zip(r.inputs, inputs, strict=True))
    assert _kept_evidence(settings, 8) is None  # no evidence
    (tmp_path / "evidence" / "7.pickle").write_bytes(b"\x80\x05truncated")
    assert _kept_evidence(settings, 7) is None


def test_resume_reads_a_journal_cut_by_a_kill(tmp_path: Path) -> None:
    """A run killed while writing its journal leaves a torn last line: resume cuts it off and tests that program
    again; another campaign's journal, or a folder holding a campaign without one, is refused in one line."""
    from jaxsynth.fuzz.campaign import JOURNAL, _identity, _read_journal, resumable

    settings = Settings(config=load_config("elementwise"), out=tmp_path, seed=3, count=5, resume=True)
    assert resumable(settings) == "none"
    head = json.dumps({"campaign": _identity(settings)}) + "\n"
    line = json.dumps({"index": 0, "tally": {"counts": {"reference": {"applied": 1, "passed": 1}}}}) + "\n"
    (tmp_path / JOURNAL).write_text(head + line + line[:20])
    assert resumable(settings) == "partial"
    assert [list(x) for x in _read_journal(tmp_path / JOURNAL)] == [["campaign"], ["index", "tally"]]
    assert (tmp_path / JOURNAL).read_text() == head + line
    with pytest.raises(ValueError, match="with seed 3, not 4"):
        resumable(Settings(config=load_config("elementwise"), out=tmp_path, seed=4, count=5))
    with pytest.raises(ValueError, match="with oracles"):
        resumable(Settings(config=load_config("elementwise"), out=tmp_path, seed=3, count=5, oracles=("eager",)))
    with pytest.raises(ValueError, match="cannot be resumed"):
        resumable(Settings(config=load_config("elementwise"), out=tmp_path, seed=3, budget=60.0))
    (tmp_path / JOURNAL).write_text("{not json\n")
    with pytest.raises(ValueError, match="not a jaxsynth fuzz journal"):
        resumable(settings)
    (tmp_path / JOURNAL).unlink()
    (tmp_path / "summary.json").write_text(json.dumps({"status": "stopped", **_identity(settings),
                                                        "oracles": {}}))
    with pytest.raises(ValueError, match="without its journal"):
        resumable(settings)


def test_cli_resume_and_unfinished_campaigns_are_checked_before_work(tmp_path: Path, capsys) -> None:
    from clitools import cli, one_line_error

    from jaxsynth.fuzz.campaign import JOURNAL, _identity

    out = tmp_path / "o"
    out.mkdir()
    got, _, err = cli(capsys, "fuzz", "--resume", "--budget", "1m", "--out", out)
    one_line_error(got, err, "--budget campaign cannot be resumed")
    held = Settings(config=load_config("default"), out=out, seed=1, count=4, oracles=("reference",))
    (out / JOURNAL).write_text(json.dumps({"campaign": _identity(held)}) + "\n")
    got, _, err = cli(capsys, "fuzz", "-n", "4", "--seed", "1", "--oracles", "reference", "--out", out)
    one_line_error(got, err, "holds an unfinished campaign", "--resume")
    got, _, err = cli(capsys, "fuzz", "-n", "5", "--seed", "1", "--oracles", "reference", "--resume", "--out", out)
    one_line_error(got, err, "cannot resume", "count 4, not 5")


@pytest.mark.slow
def test_a_long_campaign_is_the_same_with_one_worker_or_two(tmp_path: Path) -> None:
    """60 programs, every oracle: one worker clears JAX's caches after program 40 and restarts after each injected
    crash (a CHECK failure in an op of ``CHECKABLE`` that two or more of the programs call, chosen by that property
    so the op table's growth keeps the test's meaning: ``tanh``, its first choice, left these programs in session
    42; with its stacks in finding.json), two share the programs; the output is the same bytes."""
    from jaxsynth.fuzz.swarm import program_for

    config = load_config("elementwise")
    sources = [render(program_for(config, 0, i, True)[0]) for i in range(60)]
    op = next(op for op in CHECKABLE if sum(f"jnp.{op}(" in source for source in sources) >= 2)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        summary = run_campaign(Settings(config=config, out=out, count=60, env=_env(f"check:{op}"),
                                        timeout=120, workers=workers, swarm=True, max_reductions=3))
        assert summary["programs_tested"] == 60 and summary["crashes"] >= 2 and summary["internal_errors"] == 0
        outs.append(out)
    crash = next(f for f in _findings(outs[0]) if f["kind"] == "crash")
    assert crash["stderr_tail"] and crash["repro_output"]
    assert_same_campaign(*outs)


def test_injected_hang_is_a_hang_after_the_timeout(tmp_path: Path, monkeypatch) -> None:
    from jaxsynth.fuzz import campaign

    out = tmp_path / "hang"
    config = load_config("elementwise")
    # a seed whose programs 0..2 contain sin (the injected fault hangs there) once, whatever the sampler's stream:
    # each hang costs the timeout and a confirming rerun with HANG_CONFIRM_FACTOR times it (the timeout itself here,
    # not 4x: the injected hang sleeps forever, so a longer rerun would only wait longer)
    monkeypatch.setattr(campaign, "HANG_CONFIRM_FACTOR", 1.0)
    seed = next(s for s in range(200)
                if sum(any(n.op == "sin" for n in sample(config, s, i).walk()) for i in range(3)) == 1)
    summary = run_campaign(Settings(config=config, out=out, count=3, seed=seed, oracles=("reference",),
                                    env=_env("hang:sin"), timeout=3, reduce=False, verify=False))
    assert summary["programs_tested"] == 3
    assert summary["hangs"] == 1
    hang = next(f for f in _findings(out) if f["kind"] == "hang")
    assert "timeout" in hang["detail"] and hang["stage"].startswith("reference/")
    assert (out / hang["folder"] / "repro.py").exists()


def test_fuzz_workers_start_with_one_blas_thread(monkeypatch) -> None:
    """The child loads numpy's BLAS before it can configure itself, so the environment it is started with says
    one thread (unless the caller chose); a BLAS thread per core made two busy workers spin in each other's way."""
    from jaxsynth.fuzz.isolate import Worker

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    env = Worker().env
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "3"


def _stub_workers(monkeypatch, outcomes: list) -> list[float]:
    """Worker.run answers ``outcomes`` in turn (no processes); returns the timeouts it was given."""
    from jaxsynth.fuzz.isolate import Worker

    timeouts: list[float] = []

    def run(self, task, timeout: float):
        timeouts.append(timeout)
        return outcomes[min(len(timeouts), len(outcomes)) - 1]

    monkeypatch.setattr(Worker, "run", run)
    monkeypatch.setattr(Worker, "start", lambda self: {})
    return timeouts


def _clean_result(oracle: str):
    from jaxsynth.fuzz.oracles import Verdict
    from jaxsynth.fuzz.worker import TaskResult

    return TaskResult({oracle: Verdict(True)})


def test_a_slow_program_is_not_a_hang(tmp_path: Path, monkeypatch) -> None:
    """No result within the timeout, but a rerun with 4x the timeout finishes: an internal error, not a finding
    (program 1); program 0 hangs in its rerun too: a hang finding."""
    from jaxsynth.fuzz.isolate import Outcome

    hang = Outcome("hang", oracle="eager", step="eager", seconds=120.0)
    timeouts = _stub_workers(monkeypatch, [hang, hang, hang, Outcome("ok", data=_clean_result("eager"),
                                                                      seconds=310.0)])
    out = tmp_path / "slow"
    summary = run_campaign(Settings(config=parse_config(ADD_CONFIG), out=out, count=2, oracles=("eager",),
                                    timeout=120, reduce=False, triage=False, verify=False))
    assert timeouts == [120, 120, 480, 480]  # the confirming reruns: 4x the timeout
    assert summary["findings"] == 1 and summary["hangs"] == 1 and len(summary["buckets"]) == 1
    assert summary["finding_folders"] == ["findings/000000-eager-hang"]
    assert summary["internal_errors"] == 1
    assert summary["oracles"]["eager"] == {"hang": 1, "internal": 1, "seconds": 0.0}  # stubs report no time
    assert summary["internal_messages"] == [
        "program 1 (eager): no result within 120 s but finished in 310 s with 480 s: slow, not a hang"]
    assert [p.name for p in (out / "findings").iterdir()] == ["000000-eager-hang"]


def test_a_crash_that_does_not_recur_is_not_reduced_or_triaged(tmp_path: Path, monkeypatch) -> None:
    """An intermittent crash (models seed 1007, program 244, a YNN SIGSEGV under the ``passes`` oracle) made every
    reduction candidate and every triage step look like a fix: 79 candidates, none crashed, and the triage said
    "needs several passes disabled together". The original program is run again first, up to CRASH_RUNS times: a
    crash that does not recur stays a finding, unreduced and untriaged, with a note saying why; one that recurs
    (here on its second run) is reduced and triaged as before."""
    from jaxsynth.fuzz.campaign import CRASH_RUNS
    from jaxsynth.fuzz.isolate import Outcome

    crash = Outcome("crash", signal=signal.SIGSEGV, oracle="passes", step="run")
    clean = Outcome("ok", data=_clean_result("passes"))
    settings = {"config": parse_config(ADD_CONFIG), "count": 1, "oracles": ("passes",), "timeout": 60,
                "verify": False}
    runs = _stub_workers(monkeypatch, [crash] + [clean] * CRASH_RUNS)
    summary = run_campaign(Settings(out=tmp_path / "once", **settings))
    assert len(runs) == 1 + CRASH_RUNS  # the campaign's test, then the original again: nothing else
    assert summary["findings"] == summary["crashes"] == 1 and summary["internal_errors"] == 0
    (found,) = _findings(tmp_path / "once")
    assert (found["reduction_tests"], found["reduction_steps"], found["culprit_passes"]) == (0, [], [])
    assert found["triage"] == ("not reduced or triaged: the original program did not crash again in "
                               f"{CRASH_RUNS} runs (intermittent)")
    assert found["reduced_ops"] == found["original_ops"]

    runs = _stub_workers(monkeypatch, [crash, clean, crash])  # from the third run on, everything crashes
    summary = run_campaign(Settings(out=tmp_path / "twice", **settings))
    (found,) = _findings(tmp_path / "twice")
    assert summary["findings"] == 1 and found["reduction_tests"] > 0 and found["reduced_ops"] < found["original_ops"]
    assert "not reduced" not in (found["triage"] or "") and found["triage"].startswith("disabling")
    assert found["culprit_passes"] == ["algsimp"]  # the first pass alone reproduces it (everything crashes now)
    assert len(runs) == 3 + found["reduction_tests"] + 1  # the test, two looks at the original, reduction, triage


def test_a_passes_crash_with_one_pass_that_does_not_show_again_names_no_pass(tmp_path: Path, monkeypatch) -> None:
    """The ``passes`` oracle disabled one pass; the crash recurs once, then not in the triage's runs with that
    pass disabled (an intermittent crash): the triage names no pass, rather than that pass as "needed together"
    with none."""
    from jaxsynth.fuzz.isolate import Outcome

    crash = Outcome("crash", signal=signal.SIGSEGV, oracle="passes", step="run", plan={"passes_off": ["fusion"]})
    runs = _stub_workers(monkeypatch, [crash, crash] + [Outcome("ok", data=_clean_result("passes"))] * 10)
    run_campaign(Settings(config=parse_config(ADD_CONFIG), out=tmp_path, count=1, oracles=("passes",), timeout=60,
                          reduce=False, verify=False))
    (found,) = _findings(tmp_path)
    assert found["culprit_passes"] == [] and found["triage"].startswith("not shown again with 'fusion' disabled")
    assert len(runs) == 2 + 3  # the test, the original once more (it crashed), the triage's three runs


def test_one_minimal_keeps_only_what_the_property_needs() -> None:
    from jaxsynth.fuzz.campaign import one_minimal

    asked: list[tuple[str, ...]] = []

    def holds(names: tuple[str, ...]) -> bool:
        asked.append(names)
        return {"b", "d"} <= set(names)

    assert one_minimal(("a", "b", "c", "d", "e"), holds) == ("b", "d")
    assert len(asked) == 5  # one test a name
    assert one_minimal(("a", "b"), lambda names: True) == ("b",)  # never the empty set
    # either of two would do: the first that survives in order, the same answer each time
    assert one_minimal(("x", "y", "z"), lambda names: "x" in names or "z" in names) == ("z",)


@pytest.mark.parametrize("oracle", ["passes", "eager", "passes-intermittent"])
def test_triage_names_the_passes_a_failure_needs_together(tmp_path: Path, monkeypatch, oracle: str) -> None:
    """numerics seed 5001, program 17: a uint32 ``reshape(swapaxes(x))`` wrong only with both ``fusion`` and
    ``reshape-mover`` disabled, neither alone, which the triage reported only as "no single pass". It now names
    the pair: for ``passes``, the fewest of the passes it disabled that still show the failure; for another
    oracle, the fewest of the listed passes whose disabling removes it. The stub fails exactly when its pair is
    (for ``eager``: is not) disabled: with a crash (a crash of another oracle is not triaged), with an error.
    An intermittent crash (models seed 5004, program 1, whose triage named nine passes from runs that happened
    not to crash) is run up to CRASH_RUNS times before a candidate counts as one without it: here it crashes on
    one run in three."""
    from jaxsynth.fuzz.isolate import Outcome, Worker
    from jaxsynth.fuzz.oracles import DEFAULT_PASSES, Verdict
    from jaxsynth.fuzz.worker import TaskResult

    intermittent = oracle == "passes-intermittent"
    oracle = oracle.removesuffix("-intermittent")
    drawn = ("algsimp", "fusion", "cse", "reshape-mover", "tuple-simplifier")
    calls = [0]
    pair = {"fusion", "reshape-mover"} if oracle == "passes" else {"algsimp", "cse"}
    if oracle == "passes":
        failure = Outcome("crash", signal=signal.SIGSEGV, oracle=oracle, step="run", plan={"passes_off": list(drawn)})
    else:
        error = Verdict(False, kind="error", detail="XlaRuntimeError: INTERNAL: stub failure in fusion 3")
        failure = Outcome("ok", data=TaskResult({oracle: error}))

    def run(self, task, timeout: float):
        calls[0] += 1
        if oracle == "passes":
            failing = pair <= set(drawn if task.passes_off is None else task.passes_off)
            failing = failing and (not intermittent or calls[0] % 3 == 1)
        else:
            failing = not pair <= set(task.disabled)
        return failure if failing else Outcome("ok", data=_clean_result(oracle))

    monkeypatch.setattr(Worker, "run", run)
    monkeypatch.setattr(Worker, "start", lambda self: {})
    monkeypatch.setattr(Worker, "recycle", lambda self: None)
    run_campaign(Settings(config=parse_config(ADD_CONFIG), out=tmp_path, count=1, oracles=(oracle,), timeout=60,
                          verify=False))
    (found,) = _findings(tmp_path)
    expected = [name for name in (drawn if oracle == "passes" else DEFAULT_PASSES) if name in pair]
    assert found["culprit_passes"] == expected
    first, second = expected
    verb = "reproduces" if oracle == "passes" else "removes"
    assert found["triage"] == f"disabling {first!r} and {second!r} together {verb} it; no single pass does"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [b["culprit_passes"] for b in summary["buckets"]] == [expected]


def test_a_failure_that_needs_the_workers_earlier_programs_is_not_a_finding(tmp_path: Path, monkeypatch) -> None:
    """jaxlib 0.4.35, seed 1024, numerics: after one program's FFT error at run time, every later computation of
    that worker failed with "Buffer Definition Event: Error dispatching computation", down to ``f(x0) = x0``
    (16 false findings). Now the worker is replaced after a program with a wrong value or an error, and each such
    finding's program runs again in a fresh worker, up to RECHECK_RUNS times, before it is one: a failure that
    does not come back is an internal error; one that comes back (here on its third run) is a finding."""
    from jaxsynth.fuzz.campaign import RECHECK_RUNS
    from jaxsynth.fuzz.isolate import Outcome, Worker
    from jaxsynth.fuzz.oracles import Verdict
    from jaxsynth.fuzz.worker import TaskResult

    recycled: list[int] = []
    monkeypatch.setattr(Worker, "recycle", lambda self: recycled.append(len(runs)))
    error = Outcome("ok", data=TaskResult({"reference": Verdict(
        False, kind="error", detail="XlaRuntimeError: FAILED_PRECONDITION: Buffer Definition Event: Error "
                                    "dispatching computation: RET_CHECK failure (fft_thunk.cc:69)")}))
    clean = Outcome("ok", data=_clean_result("reference"))
    settings = {"config": parse_config(ADD_CONFIG), "count": 2, "oracles": ("reference",), "timeout": 60,
                "reduce": False, "triage": False, "verify": False}
    runs = _stub_workers(monkeypatch, [error, clean] + [clean] * RECHECK_RUNS)
    summary = run_campaign(Settings(out=tmp_path / "state", **settings))
    # program 0 failed, so program 1 ran in a fresh worker; then the recheck: a fresh worker, RECHECK_RUNS runs
    assert recycled == [1, 2] and len(runs) == 2 + RECHECK_RUNS
    assert summary["findings"] == 0 and summary["internal_errors"] == 1 and not _findings(tmp_path / "state")
    assert summary["internal_messages"] == [
        f"program 0 (reference, error): did not fail again in a fresh worker in {RECHECK_RUNS} runs: it depended on "
        "what its worker ran before, or is intermittent"]

    recycled.clear()
    runs = _stub_workers(monkeypatch, [error, clean, clean, clean, error])
    summary = run_campaign(Settings(out=tmp_path / "again", **settings))
    # the recheck stopped at its third run, which failed; then one run for the finding's optimized HLO
    assert recycled == [1, 2] and len(runs) == 2 + 3 + 1
    assert summary["findings"] == 1 and summary["internal_errors"] == 0
    (found,) = _findings(tmp_path / "again")
    assert found["index"] == 0 and found["kind"] == "error"


def test_a_hang_or_crash_in_jaxsynths_own_reference_is_an_internal_error(tmp_path: Path, monkeypatch) -> None:
    """Models seed 63 program 171: the reference analysis of a 96-step ``lax.scan`` took longer than the
    timeout (its ``gammaln`` was a Python call per element) and was taken for a hang of XLA. A case reports
    its reference work as the step in progress; no result within the timeout there is the harness's."""
    from jaxsynth.fuzz.isolate import Outcome
    from jaxsynth.fuzz.oracles import OWN_STEP, Case, run_oracles

    steps: list[tuple[str, str]] = []
    program = sample(parse_config(ADD_CONFIG), 0, 0)
    case = Case(program, random_inputs(program, np.random.default_rng(0)),
                stage=lambda oracle, step, plan: steps.append((oracle, step)))
    assert run_oracles(case, ["reference"])["reference"].ok
    assert ("reference", OWN_STEP) in steps and steps[-1] != ("reference", OWN_STEP)  # reported, then left
    assert steps[steps.index(("reference", OWN_STEP)) + 1] == ("reference", "run")  # back to the step before it

    timeouts = _stub_workers(monkeypatch, [Outcome("hang", oracle="sharding", step=OWN_STEP, seconds=300.0),
                                           Outcome("crash", oracle="grad", step=OWN_STEP, signal=11, exitcode=-11)])
    out = tmp_path / "own"
    summary = run_campaign(Settings(config=parse_config(ADD_CONFIG), out=out, count=2, oracles=("sharding",),
                                    timeout=300, reduce=False, triage=False, verify=False))
    assert timeouts == [300, 300]  # no confirming rerun
    assert summary["findings"] == 0 and summary["hangs"] == 0 and summary["crashes"] == 0
    assert summary["internal_errors"] == 2
    assert all("jaxsynth's own work" in m for m in summary["internal_messages"])


@pytest.mark.parametrize("confirm", ["hang", "crash"])
def test_a_hang_is_a_finding_only_when_a_longer_rerun_confirms_it(tmp_path: Path, monkeypatch, confirm: str) -> None:
    from jaxsynth.fuzz.isolate import Outcome

    hang = Outcome("hang", oracle="eager", step="eager", seconds=10.0)
    other = hang if confirm == "hang" else Outcome("crash", oracle="eager", step="eager", signal=6, exitcode=-6)
    _stub_workers(monkeypatch, [hang, other])
    out = tmp_path / confirm
    summary = run_campaign(Settings(config=parse_config(ADD_CONFIG), out=out, count=1, oracles=("eager",),
                                    timeout=10, reduce=False, triage=False, verify=False))
    if confirm == "hang":
        assert summary["hangs"] == 1 and summary["findings"] == 1 and summary["internal_errors"] == 0
        assert [f["kind"] for f in _findings(out)] == ["hang"]
    else:  # not the same failure: no claim about JAX
        assert summary["hangs"] == 0 and summary["findings"] == 0 and summary["internal_errors"] == 1
        assert "not a confirmed hang" in summary["internal_messages"][0]


def test_a_finding_whose_repro_does_not_show_it_is_flagged_unverified(tmp_path: Path, monkeypatch) -> None:
    """A (fake) eager finding on a clean program: repro.py exits 0, so the finding is marked unverified."""
    from jaxsynth.fuzz.isolate import Outcome
    from jaxsynth.fuzz.oracles import Verdict
    from jaxsynth.fuzz.worker import TaskResult

    config = parse_config(ADD_CONFIG)
    program = sample(config, 0, 0)
    tolerance = [np.ones(t.shape) for t in program.output_types]
    fake = Verdict(False, 1.0, 0.5, "jit vs eager differ (fake)", output=0,
                   data={"tolerance": tolerance, "failing": [0], "mismatch": "value"})
    _stub_workers(monkeypatch, [Outcome("ok", data=TaskResult({"eager": fake}))])
    out = tmp_path / "fake"
    summary = run_campaign(Settings(config=config, out=out, count=1, oracles=("eager",), swarm=False,
                                    reduce=False, triage=False, env=_env(None)))
    (f,) = _findings(out)
    assert f["repro_status"] == 0 and f["repro_expected"] == 1 and f["verified"] is False
    assert summary["unverified"] == [f["folder"]]


# ---------------------------------------------------------------- no noise


def _first_applicable(oracle, configs, count: int):
    picked = []
    for name in configs:
        config = load_config(name)
        for index in range(60):
            program = sample(config, 0, index)
            if oracle.applies(program) and oracle.skip_reason(program) is None:
                picked.append((program, index))
            if len(picked) == count:
                return picked
    return picked


@pytest.mark.parametrize("count", [2, pytest.param(3, marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", ["reference", "eager", "passes", "grad", "vmap", "lowprec", "export", "jitvmap",
                                  "unroll", "rewrite"])
def test_oracles_report_nothing_on_clean_programs(name: str, count: int) -> None:
    """Each oracle judges, and passes, the first ``count`` programs it applies to (the slow twin one more)."""
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.oracles import ORACLES, Case, run_oracles

    configs = ["low-precision-ints", "default"] if name == "lowprec" else ["default", "control-flow"]
    picked = _first_applicable(ORACLES[name], configs, count)
    assert len(picked) == count
    for program, index in picked:
        verdict = run_oracles(Case(program, inputs_for(program, 0, index), seed=index), [name])[name]
        assert not verdict.failed, f"{name} on program {index}: {verdict.detail}\n{render(program)}"
        assert not verdict.skipped, f"{name} did not judge program {index}: {verdict.detail}"


def test_each_oracle_is_timed_without_the_work_it_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """Case.seconds holds each oracle's own time; the program's jit and reference (the shared work, counted
    once even when nested) go to Case.shared_seconds, whichever oracle needed them first. A fake clock makes
    the figures exact."""
    from types import SimpleNamespace

    from jaxsynth.fuzz import oracles
    from jaxsynth.fuzz.oracles import OK, Case, Oracle, run_oracles

    clock = [0.0]
    monkeypatch.setattr(oracles, "time", SimpleNamespace(monotonic=lambda: clock[0]))

    class Ticking(Oracle):
        def __init__(self, name: str, own: float, shared: float) -> None:
            self.name, self.own, self.shared = name, own, shared

        def check(self, case: Case):
            clock[0] += self.own
            with case.shared_work():
                clock[0] += self.shared / 2
                with case.shared_work():  # nested shared work is not counted twice
                    clock[0] += self.shared / 2
            return OK

    monkeypatch.setitem(oracles.ORACLES, "first", Ticking("first", 2.0, 8.0))
    monkeypatch.setitem(oracles.ORACLES, "second", Ticking("second", 3.0, 0.0))
    program = sample(parse_config(ADD_CONFIG), 0, 0)
    case = Case(program, random_inputs(program, np.random.default_rng(0)))
    verdicts = run_oracles(case, ["first", "second"])
    assert set(verdicts) == {"first", "second"}
    assert case.seconds == {"first": 2.0, "second": 3.0} and case.shared_seconds == 8.0


def _floor_of_scaled() -> Program:
    """f(x0) = jnp.floor(3.0 * x0) for x0: f32[2] in [0, 1], built by hand and rechecked."""
    from jaxsynth.grammar import Interval, TensorType
    from jaxsynth.synth.program import Node, Program, Region

    vec, scalar = TensorType(DType.float32, (2,)), TensorType(DType.float32, ())
    nodes = (
        Node(0, "input", (), (vec,), (Interval(0.0, 1.0),)),
        Node(1, "literal", (), (scalar,), (Interval(3.0, 3.0),), {"value": 3.0}),
        Node(2, "scale", (1, 0), (vec,), (Interval(0.0, 3.0),), {"literal_args": (0,)}),
        Node(3, "floor", (2,), (vec,), (Interval(0.0, 3.0),)),
    )
    return recheck(Program("f", Region("body", "function", 0, (0,), nodes, (3,))))


def test_discontinuity_within_rounding_error_is_detected() -> None:
    from jaxsynth.fuzz.tolerance import analyse

    program = _floor_of_scaled()
    assert "jnp.floor(3.0 * x0)" in render(program)
    on_threshold = analyse(program, [np.array([1 / 3, 0.5], dtype=np.float32)])  # 3 * x0 ~ 1.0000000298
    assert on_threshold.near == {3}
    assert on_threshold.discontinuous(program, [0]) == [3]
    away = analyse(program, [np.array([0.1, 0.5], dtype=np.float32)])
    assert not away.near and not away.flips and away.discontinuous(program, [0]) == []



@pytest.mark.parametrize("op, params, lo, hi", [("betainc", {"a": 0.5, "b": 2.0}, 0.1, 1.0), ("erfcx", {}, -3.0, 9.0),
                                                ("dawsn", {}, -4.0, 4.0), ("gammainc", {"a": 2.0}, 0.01, 20.0),
                                                ("digamma", {}, 2.0, 100.0)])
def test_a_narrow_float_op_computed_in_float32_is_allowed_only_float32_ulps_beside_its_rounding(op, params, lo,
                                                                                                hi) -> None:
    """``betainc``, ``erfcx``, ``dawsn``, ``gammainc`` and ``digamma`` compute bfloat16 operands in float32 and round
    the result: their error scales (192, 12, 96 and 16 ulps, and ``digamma``'s) are float32 ulps there, not
    bfloat16's (which allowed 1.5 on a result in [0, 1], and moved a ``betainc`` feeding ``rel_entr``'s positive
    operand below 0: a skipped verdict). The reference's spread
    stays within a few bfloat16 ulps of the value and a few hundred float32 ulps, and XLA's result passes inside the
    tolerance it gives."""
    import jax

    from jaxsynth.fuzz.tolerance import analyse, compare, tolerance
    from jaxsynth.grammar import REGISTRY, Interval, TensorType
    from jaxsynth.synth.program import Node, Program, Region

    vec = TensorType(DType.bfloat16, (64,))
    nodes = (Node(0, "input", (), (vec,), (Interval(lo, hi),)),
             Node(1, op, (0,), (vec,), (REGISTRY[op].range_rule([Interval(lo, hi)], [vec], vec, params),), params))
    program = recheck(Program("f", Region("body", "function", 0, (0,), nodes, (1,))))
    assert REGISTRY[op].narrow_in_float32
    x = np.linspace(lo, hi, 64).astype(vec.dtype.np_dtype)
    analysis = analyse(program, [x])
    value = np.abs(analysis.outputs[0].astype(np.float64))
    # a few bfloat16 ulps of the value, and the error scale's float32 ulps (of 1, for ``betainc`` and ``gammainc``)
    bound = 4 * DType.bfloat16.eps * value + 256 * DType.float32.eps
    assert np.all(analysis.spread[0] <= bound), np.max(analysis.spread[0] / bound)
    got = np.asarray(jax.jit(program.flat_function(build_function(render(program), program.name)))(x))
    tol = tolerance(vec, 1, analysis.outputs[0], analysis.spread[0])
    assert compare(got, analysis.outputs[0], tol).ok


# ---------------------------------------------------------------- reference budget


def _squared_matmul(n: int) -> Program:
    """f(x0) = jnp.tanh(x0 @ x0) for x0: f32[n, n] in [-1, 1], built by hand and rechecked."""
    from jaxsynth.grammar import Interval, TensorType
    from jaxsynth.synth.program import Node, Program, Region

    m = TensorType(DType.float32, (n, n))
    nodes = (
        Node(0, "input", (), (m,), (Interval(-1.0, 1.0),)),
        Node(1, "matmul", (0, 0), (m,), (Interval(-n, n),), {"k": n}),
        Node(2, "tanh", (1,), (m,), (Interval(-1.0, 1.0),)),
    )
    return recheck(Program("f", Region("body", "function", 0, (0,), nodes, (2,))))


def test_reference_work_is_counted_the_same_in_every_run_and_a_budget_stops_it() -> None:
    from jaxsynth.fuzz import reference, tolerance
    from jaxsynth.fuzz.reference import PERTURB_WORK, TERM_WORK, VISIT_WORK

    n = 16
    program = _squared_matmul(n)
    assert "jnp.tanh(x0 @ x0)" in render(program)
    x = [np.random.default_rng(0).uniform(-1, 1, (n, n)).astype(np.float32)]
    one = reference.Budget(float("inf"))
    reference.run(program, x, budget=one)
    # two evaluations; the matmul reads 2 n^2 elements, writes n^2 and adds n terms into each; tanh: n^2 and n^2
    assert one.spent == pytest.approx(2 * VISIT_WORK + 5 * n * n + TERM_WORK * n**3)
    bigger = reference.Budget(float("inf"))
    reference.run(_squared_matmul(2 * n), [np.tile(x[0], (2, 2))], budget=bigger)
    assert bigger.spent == pytest.approx(2 * VISIT_WORK + 5 * (2 * n) ** 2 + TERM_WORK * (2 * n) ** 3)
    whole = reference.Budget(float("inf"))
    tolerance.analyse(program, x, budget=whole)
    # a perturbed run also moves the matmul's and the tanh's n^2 values, and evaluates the tanh (mirrored at its
    # kinks) again; noise changes values, not the count
    perturbed = one.spent + 2 * PERTURB_WORK * n * n + VISIT_WORK + 2 * n * n
    assert whole.spent == pytest.approx(one.spent + tolerance.RUNS * perturbed)
    # room for the exact run but not for the perturbed ones: refused before any of them runs
    short = reference.Budget(3 * one.spent)
    with pytest.raises(reference.OverBudget, match="over its budget of .* element operations"):
        tolerance.analyse(program, x, budget=short)
    assert short.spent == one.spent
    # room for runs like the exact one but not for perturbed ones: refused after the first of them
    exactly = reference.Budget((tolerance.RUNS + 1) * one.spent)
    with pytest.raises(reference.OverBudget, match="over its budget"):
        tolerance.analyse(program, x, budget=exactly)
    assert exactly.spent == pytest.approx(one.spent + perturbed)
    # less than one run: stopped part-way, and every later charge is refused at once
    tiny = reference.Budget(VISIT_WORK)
    with pytest.raises(reference.OverBudget):
        reference.run(program, x, budget=tiny)
    with pytest.raises(reference.OverBudget):
        tolerance.analyse(program, x, budget=tiny)


def test_attention_and_resizing_are_charged_for_the_products_they_add_up() -> None:
    """An attention call adds up ``2 S`` products and softmaxes ``S / H`` logits per result element, a resize one
    product per input element along each resized axis: both grow with the keys (the input), not only with the
    elements read and written (a fused-attention program ran past its timeout when they were not charged)."""
    from types import SimpleNamespace

    from jaxsynth.fuzz.reference import TERM_WORK, VISIT_WORK, work

    attention = SimpleNamespace(op="dot_product_attention", params={"is_causal": False})
    for keys in (32, 64):
        q, kv = np.zeros((2, 8, 4, 16)), np.zeros((2, keys, 2, 16))
        read_written = 2 * q.size + 2 * kv.size
        assert work(attention, [q, kv, kv], q) == pytest.approx(
            VISIT_WORK + read_written + q.size * keys * (2 * TERM_WORK + 1 / 16))
    resize = SimpleNamespace(op="resize", params={"shape": (6, 20)})
    x, y = np.zeros((6, 10)), np.zeros((6, 20))
    assert work(resize, [x], y) == pytest.approx(VISIT_WORK + x.size + y.size + TERM_WORK * y.size * 10)


def test_elementwise_ops_with_slow_references_are_charged_their_measured_time() -> None:
    """``polygamma``'s reference takes about 80 times an element op a result element: charged at its measured
    nanoseconds (a [184, 16, 184] operand: 0.26 s an evaluation, 0.01 s of budget before), an op as fast as the
    median one at its read and write alone."""
    from types import SimpleNamespace

    from jaxsynth.fuzz.reference import ELEMENT_NANOSECONDS, VISIT_WORK, WORK_PER_SECOND, work

    x = np.zeros((184, 16, 184))
    slow = SimpleNamespace(op="polygamma", params={"n": 1})
    seconds = (work(slow, [x], x) - VISIT_WORK) / WORK_PER_SECOND
    assert seconds == pytest.approx(x.size * ELEMENT_NANOSECONDS["polygamma"] * 1e-9) and seconds > 0.2
    assert work(SimpleNamespace(op="tanh", params={}), [x], x) == VISIT_WORK + 2 * x.size


def test_an_op_whose_reference_speed_depends_on_a_parameter_is_charged_at_that_parameter() -> None:
    """scipy's ``gammaincc`` at ``a = 0.5`` takes about 30 times its time at the other shapes: a [1013, 1013]
    operand took 3 s an evaluation, charged as 0.12 s, and the program's analyses ran past the campaign's timeout
    (nn-special seed 5023, program 5). It is charged per shape; the other shapes as before."""
    from types import SimpleNamespace

    from jaxsynth.fuzz.reference import ELEMENT_NANOSECONDS, PARAM_NANOSECONDS, VISIT_WORK, WORK_PER_SECOND, work

    x = np.zeros((1013, 1013))

    def seconds(op: str, **params: float) -> float:
        return (work(SimpleNamespace(op=op, params=params), [x], x) - VISIT_WORK) / WORK_PER_SECOND

    assert seconds("gammaincc", a=0.5) == pytest.approx(x.size * PARAM_NANOSECONDS["gammaincc"][1][0.5] * 1e-9)
    assert seconds("gammaincc", a=0.5) > 2.0
    assert seconds("gammaincc", a=2.0) == pytest.approx(x.size * ELEMENT_NANOSECONDS["gammaincc"] * 1e-9)
    assert seconds("gammainc", a=0.5) > 2 * seconds("gammainc", a=5.0)


def test_special_mode_charges_its_flushed_reference_to_the_budget() -> None:
    """Special mode evaluates the program twice op by op, as IEEE and with subnormals flushed; the second
    evaluation was not charged, so a program of slow references passed its budget and ran into the timeout
    instead (nn-special seed 5023, program 5). Both are charged, and a budget that holds one refuses the pair."""
    from jaxsynth.fuzz import reference, special
    from jaxsynth.grammar.types import Interval, TensorType
    from jaxsynth.synth.program import Node, Region

    v = TensorType(DType.float32, (64, 64))
    nodes = (Node(0, "input", (), (v,), (Interval(0.01, 4.0),)),
             Node(1, "gammaincc", (0,), (v,), (Interval(0.0, 1.0),), {"a": 0.5}))
    program = Program("f", Region("body", "function", 0, (0,), nodes, (1,)))
    x = np.linspace(0.01, 4.0, v.size, dtype=np.float32).reshape(v.shape)
    one = reference.Budget(1e12)
    reference.run(program, [x], round_to_dtype=True, budget=one)
    both = reference.Budget(1e12)
    special.references(program, [x], both)
    assert both.spent == pytest.approx(2 * one.spent)
    with pytest.raises(reference.OverBudget):
        special.references(program, [x], reference.Budget(1.5 * one.spent))


def test_a_bodys_loop_invariant_nodes_are_evaluated_once_and_every_value_stays_the_same(monkeypatch) -> None:
    """A loop body's nodes that read only values from outside it are evaluated once per evaluation of the
    control op: less reference work, and the very same outputs, spreads, discontinuities and values (the
    simulated rounding of a node is a hash of its operands, the same at every step)."""
    from jaxsynth.fuzz import reference, tolerance
    from jaxsynth.synth import interpret

    def hoistable(program: Program, loops_only: bool = False) -> list[int]:
        loops = ("scan", "fori_loop", "while_loop")
        return [i for n in program.walk() if not loops_only or n.op in loops
                for r in n.regions for i in interpret.loop_invariant(r)
                if program.node(i).op not in ("literal", "full")]

    config = load_config("control-flow")
    programs = [(sample(config, 0, index), index) for index in range(80)]
    picked = [p for p in programs if hoistable(p[0])][:4] + [p for p in programs if hoistable(p[0], True)][:4]
    assert len(picked) == 8
    program, _ = picked[0]
    for node_id in hoistable(program):  # nothing it depends on is a body parameter or a control op
        body = next(r for n in program.walk() for r in n.regions if node_id in {m.id for m in r.nodes})
        inside = {n.id: n for n in body.nodes}
        stack = [node_id]
        while stack:
            node = inside.get(stack.pop())
            if node is not None:
                assert node.id not in body.params and not node.regions
                stack.extend(node.args)
    saved = []
    for program, index in picked:
        x = random_inputs(program, np.random.default_rng(index))
        runs = {}
        for hoist in (False, True):
            if not hoist:
                monkeypatch.setattr(interpret, "loop_invariant", lambda region: frozenset())
            else:
                monkeypatch.undo()
            budget = reference.Budget(float("inf"))
            runs[hoist] = tolerance.analyse(program, x, budget=budget), budget.spent
        (plain, plain_work), (hoisted, hoisted_work) = runs[False], runs[True]
        for a, b in [*zip(plain.outputs, hoisted.outputs, strict=True), *zip(plain.spread, hoisted.spread, strict=True),
                     *((plain.values[k], hoisted.values[k]) for k in plain.values)]:
            assert np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b, equal_nan=True), index
        assert plain.values.keys() == hoisted.values.keys()
        assert (plain.near, plain.flips) == (hoisted.near, hoisted.flips), index
        assert hoisted_work <= plain_work
        saved.append(plain_work - hoisted_work)
    assert max(saved) > 0  # some body ran more than once


def test_a_program_past_its_reference_budget_is_unsupported_and_its_jax_errors_are_still_found() -> None:
    from jaxsynth.fuzz import reference, tolerance
    from jaxsynth.fuzz.oracles import Case, run_oracles
    from jaxsynth.fuzz.worker import Task, handle

    n = 16
    program = _squared_matmul(n)
    x = [np.random.default_rng(1).uniform(-1, 1, (n, n)).astype(np.float32)]
    names = ("reference", "eager", "vmap", "export")
    unlimited = run_oracles(Case(program, x, seed=0), names)
    assert {k: (v.ok, v.skipped) for k, v in unlimited.items()} == {k: (True, False) for k in names}

    # the worker hands the task's budget to its case: nothing left, nothing judged, and no internal error
    result = handle(Task(program, x, names, reference_budget=reference.VISIT_WORK), lambda *a: None)
    assert {k: (v.skipped, v.kind) for k, v in result.verdicts.items()} == {k: (True, "unsupported") for k in names}
    assert all("reference work over its budget" in v.detail for v in result.verdicts.values())

    # room for the program's own analysis but not for vmap's batch of 3: the oracles that need no more judge it
    own = reference.Budget(float("inf"))
    tolerance.analyse(program, x, budget=own)
    partial = run_oracles(Case(program, x, seed=0, reference_budget=1.5 * own.spent), names)
    assert {k: (v.ok, v.skipped, v.kind) for k, v in partial.items()} == {
        "reference": (True, False, "wrong"), "eager": (True, False, "wrong"), "vmap": (True, True, "unsupported"),
        "export": (True, False, "wrong")}

    # a JAX error needs no reference: it is a finding whatever the budget
    broken = Case(program, x, seed=0, reference_budget=reference.VISIT_WORK)

    def fails(*args):
        raise ValueError("lowering rejected the program")

    broken.__dict__["fn"] = fails  # the rendered function, as a cached property holds it
    errors = run_oracles(broken, ("reference", "eager"))
    assert {k: (v.failed, v.kind) for k, v in errors.items()} == {"reference": (True, "error"),
                                                                   "eager": (True, "error")}
    assert "lowering rejected the program" in errors["reference"].detail


def test_a_campaign_gives_each_program_a_reference_budget_from_its_timeout(tmp_path: Path, monkeypatch) -> None:
    from jaxsynth.fuzz.isolate import Outcome, Worker
    from jaxsynth.fuzz.oracles import REFERENCE_SHARE, Verdict
    from jaxsynth.fuzz.reference import OVER_BUDGET, WORK_PER_SECOND
    from jaxsynth.fuzz.worker import TaskResult

    budgets: list[float | None] = []
    over = Verdict(True, detail=f"{OVER_BUDGET} of 1e+02 element operations", skipped=True, kind="unsupported")

    def run(self, task, timeout: float):
        budgets.append(task.reference_budget)
        return Outcome("ok", data=TaskResult({"eager": over}))

    monkeypatch.setattr(Worker, "run", run)
    monkeypatch.setattr(Worker, "start", lambda self: {})
    for timeout in (120, 30):
        summary = run_campaign(Settings(config=parse_config(ADD_CONFIG), out=tmp_path / str(timeout), count=2,
                                        oracles=("eager",), timeout=timeout, reduce=False, triage=False,
                                        verify=False))
        assert summary["skipped_unsupported"] == 2 and summary["over_budget"] == 2
        assert summary["oracles"]["eager"]["over_budget"] == 2 and summary["internal_errors"] == 0
        assert summary["programs_tested"] == 2 and summary["programs_judged"] == 0
    assert budgets == [REFERENCE_SHARE * 120 * WORK_PER_SECOND] * 2 + [REFERENCE_SHARE * 30 * WORK_PER_SECOND] * 2


# ---------------------------------------------------------------- reduction


def test_reduction_keeps_every_candidate_well_typed_and_in_domain() -> None:
    config = load_config("default")
    seen = []

    def interesting(subject: Subject) -> bool:
        # every candidate the reducer offers has already been validated; check it again independently
        checked = recheck(subject.program)
        assert [str(t) for t in checked.input_types] == [str(t) for t in subject.program.input_types]
        validate(subject.program, subject.inputs)
        render(subject.program)
        seen.append(subject)
        return any(n.op in ("sin", "cos", "tanh") for n in subject.program.walk())

    for index in range(40):
        program = sample(config, 3, index)
        # (reducible to that one op: it has an output's type, so bypassing everything else stays well typed;
        # the reducer cannot inline a body: a loop keeps its carry clip, a jvp whose primal ignores its
        # operand keeps the operand alive; this test of well-typedness picks a straight-line program)
        straight = not any(n.regions for n in program.walk())
        if any(n.op in ("sin", "cos", "tanh") and n.type in program.output_types for n in program.walk()) and (
                op_count(program) >= 6) and straight:
            break
    subject = Subject(program, dict(zip(program.body.params, random_inputs(program, np.random.default_rng(1)),
                                        strict=True)))
    reduced = reduce(subject, interesting, max_tests=150)
    assert seen and reduced.complete
    assert op_count(reduced.subject.program) == 1
    assert {n.op for n in reduced.subject.program.op_nodes()} <= {"sin", "cos", "tanh"}
    # the reduced program runs under jax.jit and its values lie in its intervals
    import jax

    from jaxsynth.fuzz import reference
    from jaxsynth.fuzz.oracles import build_function

    final = reduced.subject
    fn = build_function(render(final.program), final.program.name)
    got = jax.jit(fn)(*final.input_list())
    assert reference.run(final.program, final.input_list(), check_intervals=True).unsound == []
    assert np.all(np.isfinite(np.asarray(got)))


def test_a_complex_input_offers_the_real_part_of_its_value_as_a_constant_without_a_warning() -> None:
    """The reducer tries an input's own first value as a constant; for a complex input that is its real part,
    taken explicitly (``float()`` of a complex value warns in every campaign log)."""
    import warnings

    from jaxsynth.fuzz.reduce import _constant_values
    from jaxsynth.grammar.types import DType, Interval, TensorType
    from jaxsynth.synth.program import Node

    node = Node(0, "input", (), (TensorType(DType.complex64, (2,)),), (Interval(-1.0, 1.0),))
    value = np.array([0.25 - 3j], node.type.dtype.np_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _constant_values(node, value)[0] == 0.25


def test_an_input_whose_first_value_is_negative_zero_becomes_a_constant_that_renders_and_keeps_its_sign() -> None:
    """structured seed 96, program 386: the reducer offered an input's first value, -0.0, as a constant, and
    rendering ``jnp.full(..., -0.0)`` raised (``"-0.0"`` is no float token), which cost the finding its
    reduction. -0.0 renders as unary minus, like any negative number, and keeps its sign."""
    import libcst as cst

    from jaxsynth.fuzz.reduce import _input_constant_candidates
    from jaxsynth.grammar.opspec import literal

    for zero in (-0.0, np.float16(-0.0), np.float32(-0.0)):
        code = cst.Module([]).code_for_node(literal(zero))
        assert code == "-0.0" and np.signbit(eval(code)), (zero, code)
    assert cst.Module([]).code_for_node(literal(0.0)) == "0.0"

    config = load_config("default")
    def zero_in_range(n) -> bool:  # an input that may hold -0.0
        return n.type.dtype.is_float and n.interval.lo <= 0.0 <= n.interval.hi

    program = next(p for p in (sample(config, 0, i) for i in range(200))
                   if sum(n.type.dtype.is_float for n in p.inputs) >= 2 and any(map(zero_in_range, p.inputs)))
    inputs = dict(zip(program.body.params, random_inputs(program, np.random.default_rng(0)), strict=True))
    target = next(n for n in program.inputs if zero_in_range(n))
    inputs[target.id] = inputs[target.id].copy()
    inputs[target.id].reshape(-1)[0] = -0.0
    subject = validate(program, inputs)
    _, candidate, _ = next(c for c in _input_constant_candidates(subject) if c[0] == f"constant input#{target.id}")
    constant = candidate.node(target.id)
    assert constant.op == "full" and constant.params["value"] == 0 and np.signbit(constant.params["value"])
    assert "-0.0" in render(candidate)


def test_recheck_reproduces_sampled_intervals_and_retype_rejects_bad_programs() -> None:
    for name in ("default", "control-flow", "low-precision-ints"):
        config = load_config(name)
        for index in range(25):
            program = sample(config, 0, index)
            checked = recheck(program)
            for a in program.walk():
                b = checked.node(a.id)
                assert (a.types, a.intervals) == (b.types, b.intervals), (name, index, a.op)
    program = sample(load_config("elementwise"), 0, 0)
    assert all(t.dtype is DType.float64 for t in retype(program, {DType.float32: DType.float64}).input_types)
    # params that encode shapes do not follow a dimension map: such candidates are rejected
    config = load_config("default")
    program = next(p for p in (sample(config, 0, i) for i in range(200))
                   if any(n.op == "broadcast_to" and max(n.type.shape) > 1 for n in p.walk()))
    node = next(n for n in program.walk() if n.op == "broadcast_to" and max(n.type.shape) > 1)
    with pytest.raises(Invalid):
        retype(program, dims={d: 1 for d in node.type.shape if d > 1})


# ---------------------------------------------------------------- CLI and small helpers


@pytest.mark.parametrize(
    "args",
    [
        ["--budget", "10x"],
        ["--budget", "0s"],
        ["-n", "-1"],
        ["--oracles", "reference,bogus"],
        ["--oracles", "all,-bogus"],
        ["--oracles", "reference,-reference"],
        ["--config", "no-such-config"],
        ["--budget", "1m", "-n", "5"],
        ["--timeout", "0s"],
        ["--timeout", "forever"],
        ["--workers", "0"],
        ["--seed", "-1"],
        ["--no-such-option"],
        ["--config", "default,no-such-config"],
        ["--config", "default,elementwise,default"],
        ["--config", "default,,elementwise"],
        ["--config", "fuzz-special", "--oracles", "grad"],
        ["--config", "default", "--special", "--oracles", "grad,lowprec"],
    ],
)
def test_bad_cli_input_is_one_line_and_status_2(args: list[str], capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    from jaxsynth.cli import run

    status = run(["fuzz", *args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def _cli_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> Settings:
    """The Settings that ``jaxsynth fuzz -n 1 ARGS`` hands to the campaign (which does not run)."""
    from jaxsynth.cli import run
    from jaxsynth.fuzz import campaign

    seen = []

    def fake(settings):
        seen.append(settings)
        raise SystemExit(0)

    monkeypatch.setattr(campaign, "run_campaign", fake)
    with pytest.raises(SystemExit):
        run(["fuzz", "-n", "1", *args, "--out", str(tmp_path / "o")])
    return seen[0]


def test_cli_timeout_reaches_the_campaign(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert _cli_settings(monkeypatch, tmp_path, "--timeout", "10m").timeout == 600.0


@pytest.mark.parametrize("spec, left_out", [("all,-eager", {"eager"}), ("-eager,-grad", {"eager", "grad"}),
                                             ("all", set())])
def test_cli_oracles_leave_out_the_named_ones(spec: str, left_out: set[str], monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from jaxsynth.fuzz import ORACLES

    settings = _cli_settings(monkeypatch, tmp_path, "--oracles", spec)
    assert settings.oracles == tuple(n for n in ORACLES if n not in left_out)


def test_cli_leaves_out_configs_the_oracles_cannot_judge(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Special-value inputs are judged by some oracles only: with none of them chosen, a special-values config
    is left out of a multi-config campaign, with one line saying why, instead of generating programs that
    no oracle tests; the rest still run, each in OUT/<name>/."""
    from jaxsynth.cli import run
    from jaxsynth.fuzz import campaign

    seen = []

    def fake(settings, configs):
        seen.append((settings, [c.name for c in configs]))
        raise SystemExit(0)

    monkeypatch.setattr(campaign, "run_campaigns", fake)
    with pytest.raises(SystemExit):
        run(["fuzz", "-n", "1", "--config", "fuzz-special,default", "--oracles", "grad,lowprec", "--out",
             str(tmp_path / "o")])
    assert seen[0][1] == ["default"]
    err = capsys.readouterr().err
    assert ("left out fuzz-special: special-value inputs are judged only by eager, export, jitvmap, passes, "
            "reference, rewrite, sharding, unroll, vmap, none of them in --oracles 'grad,lowprec'") in err
    seen.clear()
    with pytest.raises(SystemExit):
        run(["fuzz", "-n", "1", "--config", "fuzz-special,default", "--oracles", "grad,sharding", "--out",
             str(tmp_path / "p")])
    assert seen[0][1] == ["fuzz-special", "default"]


def test_cli_special_mode_refuses_a_config_with_complex_dtypes_before_work(monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path, capsys) -> None:
    """Special-value inputs and their comparisons are real: ``--special`` on a config that samples complex64
    (``numerics``) is one line and exit 2 before any program, not an internal error per program."""
    from jaxsynth.cli import run
    from jaxsynth.fuzz import campaign

    monkeypatch.setattr(campaign, "run_campaign", lambda settings: pytest.fail("the campaign started"))
    assert run(["fuzz", "-n", "1", "--config", "numerics", "--special", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: --config numerics --special: config key `types.dtypes.complex64`: special-values mode "
                   "(`types.special_values` or `--special`) takes real dtypes only")
    assert _cli_settings(monkeypatch, tmp_path, "--config", "default", "--special").special


def test_python_dash_m_bad_input() -> None:
    done = subprocess.run([sys.executable, "-m", "jaxsynth", "fuzz", "--budget", "soon"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")


def test_duration_parsing() -> None:
    assert parse_duration("30s") == 30 and parse_duration("10m") == 600 and parse_duration("2h") == 7200
    for bad in ("10", "m", "-3s", "1d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_array_literals_round_trip_exactly() -> None:
    import jax.numpy as jnp

    arrays = [
        np.array([[0.1, -2.5e-8]], dtype=np.float32),
        np.array([1 / 3, 1e-5], dtype=np.float16),
        np.array([3.14159, -0.001], dtype=jnp.bfloat16),
        np.array([True, False]),
        np.array([-128, 127], dtype=np.int8),
        np.array(7, dtype=np.uint8),
        # complex inputs of a numerics program lost their imaginary parts (seed 92, program 23)
        np.array([[0.1 + 0.6j, complex(np.nan, -1.0)]], dtype=np.complex64),
        np.array(complex(-0.0, np.inf), dtype=np.complex128),
    ]
    # past LITERAL_ELEMENTS, as bytes: a models program's sharding batch written as nested lists made a repro.py
    # whose compile check took the campaign to 19 GB (models seed 1005, program 124)
    rng = np.random.default_rng(0)
    big = rng.normal(size=(96, 72, 72)).astype(np.float32)
    big[0, 0, :4] = [np.nan, -0.0, np.inf, 1e-42]
    small_ints = np.clip(np.nan_to_num(big[:40], posinf=0.0) * 30, -128, 127).astype(np.int8)
    arrays += [big, big[:, :, :2].astype(jnp.bfloat16), big[:40] > 0, small_ints,
               (big[:2] + 1j * big[2:4]).astype(np.complex64), big[:, :, 0].T]  # the last one not C-contiguous
    for a in arrays:
        text = array_literal(a)
        b = eval(text, {"np": np, "jnp": jnp})  # noqa: S307 - our own literal
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b, equal_nan=True)
        assert np.array_equal(np.signbit(np.real(a)), np.signbit(np.real(b)))
        if a.size > LITERAL_ELEMENTS:
            assert "frombuffer" in text and len(text) < 1.4 * a.nbytes + 200, (a.shape, len(text))
            b[...] = 0  # a writable copy, as a nested list's array is
        else:
            assert text.startswith("np.array(")


def test_a_repro_check_compares_complex_values_whole() -> None:
    """The repro's ``check`` casts to float64: a difference in the imaginary part only went unseen."""
    from jaxsynth.fuzz.findings import _CHECK

    namespace: dict = {"np": np}
    exec(_CHECK, namespace)  # noqa: S102 - our own generated code
    check = namespace["check"]
    expected = np.array([1 + 2j, 3 - 1j], np.complex64)
    assert check("same", expected.copy(), expected, 1e-6)
    assert not check("imaginary part off", np.array([1 + 2j, 3 + 1j], np.complex64), expected, 1e-6)


def _run_repro(source: str) -> int:
    namespace: dict = {"__name__": "repro"}
    exec(compile(source, "<repro>", "exec"), namespace)  # noqa: S102 - our own generated script
    return namespace["main"]()


def test_repro_scripts_of_every_oracle_run_and_judge(capsys: pytest.CaptureFixture[str]) -> None:
    """Each oracle's repro.py template runs; it exits 0 on consistent data and 1 on a discrepancy."""
    import jax

    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.findings import repro_source
    from jaxsynth.fuzz.oracles import Case

    config = parse_config(ADD_CONFIG)
    program = sample(config, 0, 2)
    case = Case(program, inputs_for(program, 0, 2))
    expected = [np.asarray(o, dtype=np.float64) for o in case.analysis.outputs]
    tols = case.tolerances(case.analysis, factor=2.0)
    stacked = [np.stack([x, x]) for x in case.inputs]
    weights = [np.ones(t.shape) for t in program.output_types]
    directions = [np.ones(t.shape) for t in program.input_types]
    grad = jax.grad(lambda *xs: sum(np.float32(1) * jax.numpy.sum(o) for o in
                                    (case.fn(*xs) if isinstance(case.fn(*xs), tuple) else (case.fn(*xs),))),
                    argnums=tuple(range(len(case.inputs))))(*case.inputs)
    derivative = sum(float(np.sum(np.asarray(g, dtype=np.float64))) for g in grad)
    everything = [0] * len(expected)
    datas = {
        "reference": {"expected": expected, "tolerance": tols, "failing": everything},
        "lowprec": {"expected": expected, "tolerance": tols, "failing": everything},
        "eager": {"tolerance": tols, "failing": everything},
        "passes": {"passes_off": ["algsimp", "fusion"], "tolerance": tols, "failing": everything},
        "vmap": {"batched": stacked, "in_axes": [0] * len(stacked), "failing": everything,
                 "tolerance": [np.stack([t, t]) for t in tols]},
        "grad": {"weights": weights, "directions": directions, "float_in": list(range(len(case.inputs))),
                 "float_out": list(range(len(expected))), "mode": "f32", "source": case.source,
                 "expected": derivative, "tol": 1e-3 * (1 + abs(derivative))},
    }
    from jaxsynth import compat

    if not compat.per_compile_pass_options():  # the passes repro reruns itself under XLA_FLAGS there
        del datas["passes"]
    for oracle, data in datas.items():
        source = repro_source(oracle=oracle, kind="wrong", title=f"test {oracle}", detail="", source=case.source,
                              inputs=case.inputs, data=data)
        assert _run_repro(source) == 0, (oracle, capsys.readouterr().out)
        if oracle in ("reference", "lowprec"):
            wrong = dict(data, expected=[e + 1.0 for e in expected])
        elif oracle == "grad":
            wrong = dict(data, expected=derivative + 1.0)
        else:
            wrong = dict(data, tolerance=[np.full(np.shape(t), -1.0) for t in data["tolerance"]])
        source = repro_source(oracle=oracle, kind="wrong", title="", detail="", source=case.source,
                              inputs=case.inputs, data=wrong)
        assert _run_repro(source) == 1, oracle
        error = repro_source(oracle=oracle, kind="error", title="", detail="", source=case.source,
                             inputs=case.inputs, data=data)
        assert _run_repro(error) == 0, oracle  # no exception: "fixed"


def test_a_special_value_reference_repro_accepts_the_flushed_reference_as_the_oracle_does() -> None:
    """In special-values mode the ``reference`` oracle takes an element as right when it matches the IEEE reference or
    the one with subnormals flushed (XLA:CPU's flushing). ``jnp.sqrt`` of a negative subnormal is NaN by IEEE and
    -0.0 as XLA computes it. A finding's repro.py judged against the IEEE values alone, so such an element made it
    exit 1 (present) where the oracle saw nothing; it now carries the flushed reference too: 0 when only that
    element differs from IEEE, 1 while another element is wrong."""
    from jaxsynth.fuzz.findings import repro_source
    from jaxsynth.fuzz.oracles import Case, run_oracles
    from jaxsynth.grammar.types import Interval, TensorType
    from jaxsynth.synth.program import Node, Region

    v = TensorType(DType.float32, (2,))
    nodes = (Node(0, "input", (), (v,), (Interval(0.0, 4.0),)), Node(1, "sqrt", (0,), (v,), (Interval(0.0, 2.0),)))
    program = Program("f", Region("body", "function", 0, (0,), nodes, (1,)))
    x = np.array([-1.401298464324817e-45, 4.0], dtype=np.float32)
    case = Case(program, [x], seed=0, special=True)
    assert run_oracles(case, ["reference"])["reference"].ok
    (got,) = case.jit_out
    assert np.isnan(case.analysis.outputs[0][0]) and got[0] == 0.0  # XLA flushed the input; IEEE says NaN
    wrong = Case(program, [x], seed=0, special=True)
    wrong.jit_out = (np.array([got[0], 2.5], dtype=np.float32),)  # element 1 wrong, as a compiler bug would make it
    verdict = run_oracles(wrong, ["reference"])["reference"]
    assert verdict.failed and verdict.data["failing"] == [0] and "flushed" in verdict.data
    source = repro_source(oracle="reference", kind="wrong", title="", detail="", source=render(program),
                          inputs=[x], data=verdict.data)
    assert "FLUSHED = " in source
    assert _run_repro(source) == 0  # the real jit: element 0 flushed, element 1 right
    ieee_only = {k: d for k, d in verdict.data.items() if k != "flushed"}
    assert _run_repro(repro_source(oracle="reference", kind="wrong", title="", detail="", source=render(program),
                                   inputs=[x], data=ieee_only)) == 1  # what the repro said before
    wrong_value = dict(verdict.data, expected=[np.array([np.nan, 2.5])], flushed=[np.array([-0.0, 2.5])])
    assert _run_repro(repro_source(oracle="reference", kind="wrong", title="", detail="", source=render(program),
                                   inputs=[x], data=wrong_value)) == 1


def test_a_special_value_two_run_repro_accepts_what_the_oracle_accepts() -> None:
    """Between two XLA runs in special mode an oracle passes an element where each run matches one of the
    references, IEEE or flushed (fused code may flush a subnormal that a lone op keeps). The repros of those
    oracles compared the two runs alone, so such an element made them exit 1 where the oracle saw nothing; they
    now carry the references: 0 while only such an element differs, 1 while another element is wrong."""
    from jaxsynth.fuzz.findings import repro_source
    from jaxsynth.fuzz.oracles import Case, run_oracles
    from jaxsynth.grammar.types import Interval, TensorType
    from jaxsynth.synth.program import Node, Region

    v = TensorType(DType.float32, (2,))
    nodes = (Node(0, "input", (), (v,), (Interval(0.0, 4.0),)), Node(1, "sqrt", (0,), (v,), (Interval(0.0, 2.0),)))
    program = Program("f", Region("body", "function", 0, (0,), nodes, (1,)))
    x = np.array([-1.401298464324817e-45, 4.0], dtype=np.float32)
    case = Case(program, [x], seed=0, special=True)
    case.jit_out = (np.array([np.nan, 2.5], dtype=np.float32),)  # element 0 as IEEE says, element 1 wrong
    verdict = run_oracles(case, ["eager"])["eager"]  # eager flushes element 0 (-0.0): each matches a reference
    assert verdict.failed and verdict.index == (1,) and verdict.data["failing"] == [0], verdict.detail
    ((ieee, flushed),) = verdict.data["references"]
    assert np.isnan(ieee[0]) and flushed[0] == 0.0 and ieee[1] == flushed[1] == 2.0
    source = repro_source(oracle="eager", kind="wrong", title="", detail="", source=render(program), inputs=[x],
                          data=verdict.data)
    assert "accepted=REFERENCES[k]" in source and _run_repro(source) == 0  # the real runs agree

    def variant_repro(values: list[float], data: dict) -> int:  # the variant run gives ``values``
        literal = repr(values).replace("nan", "np.nan")
        snippet = f"def variant(args):\n    return (jnp.array({literal}, dtype=jnp.float32),)\n"
        return _run_repro(repro_source(oracle="export", kind="wrong", title="", detail="", source=render(program),
                                       inputs=[x], data=dict(data, variant=snippet)))

    assert variant_repro([float("nan"), 2.0], verdict.data) == 0  # NaN vs jit's -0.0: each matches a reference
    without = {k: d for k, d in verdict.data.items() if k != "references"}
    assert variant_repro([float("nan"), 2.0], without) == 1  # what the repro said before
    assert variant_repro([float("nan"), 2.5], verdict.data) == 1  # a wrong element still fails
    assert variant_repro([1.0, 2.0], verdict.data) == 1  # 1.0 matches neither reference


def test_a_special_value_repro_exempts_what_xla_may_regroup_as_the_oracle_does() -> None:
    """fuzz-special seed 91 program 5912, ``(x0 * (x1 / 2.0) + x2) / 4.0`` in float16: element 0 is a product
    chain that underflows op by op (NaN) and that XLA regroups (-inf), licensed; the oracles exempt it. With
    element 1 wrong too, the finding's repro exempted nothing and so kept exiting 1 once element 1 was right;
    it now carries the regroupable elements, and judges element 1 alone."""
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.findings import repro_source
    from jaxsynth.fuzz.oracles import Case, run_oracles

    program = historical("fuzz-special", 91, 5912, special=True)
    inputs = inputs_for(program, 91, 5912, True)
    probe = Case(program, inputs, seed=5912, special=True)
    (jitted,) = probe.jit_out
    assert jitted[0] == -np.inf and np.isnan(probe.analysis.outputs[0][1])  # regrouped; element 1 NaN
    for oracle in ("reference", "eager"):
        case = Case(program, inputs, seed=5912, special=True)
        case.jit_out = (np.array([-np.inf, 1.0], dtype=jitted.dtype),)  # element 1 wrong
        verdict = run_oracles(case, [oracle])[oracle]
        assert verdict.failed and verdict.index == (1,), (oracle, verdict.detail)
        assert verdict.data["regroupable"][0].tolist() == [True, False], oracle
        source = repro_source(oracle=oracle, kind="wrong", title="", detail="", source=render(program),
                              inputs=inputs, data=verdict.data)
        assert "exempt=REGROUPABLE[k]" in source
        assert _run_repro(source) == 0, oracle  # the real jit: element 0 regrouped, element 1 right
        without = {k: d for k, d in verdict.data.items() if k != "regroupable"}
        assert _run_repro(repro_source(oracle=oracle, kind="wrong", title="", detail="", source=render(program),
                                       inputs=inputs, data=without)) == 1, oracle  # what it said before


def test_a_passes_repro_child_hands_back_bfloat16_outputs(tmp_path: Path) -> None:
    """Older jaxlibs disable passes only through XLA_FLAGS, so the passes repro reruns itself as a child that
    writes its outputs with np.savez; bfloat16 came back as raw void bytes (|V2), and the repro failed with exit
    3 (fuzz-special 808 on jax 0.4.26). The child writes what np.load can read, value for value."""
    import io

    import jax

    from jaxsynth.fuzz.findings import repro_source

    config = parse_config("[types]\ndtypes = { bfloat16 = 1.0 }\n", name="bf16")
    program = next(p for p in (sample(config, 1, i) for i in range(50))
                   if any(t.dtype is DType.bfloat16 for t in p.output_types))
    inputs = random_inputs(program, np.random.default_rng(0))
    source = repro_source(oracle="passes", kind="wrong", title="bf16", detail="", source=render(program.plain()),
                          inputs=inputs, data={"passes_off": ["algsimp"], "failing": [0],
                                               "tolerance": [np.zeros(t.shape) for t in program.output_types]})
    (tmp_path / "repro.py").write_text(source)
    child = subprocess.run([sys.executable, "repro.py", "--disabled-outputs"], cwd=tmp_path, capture_output=True,
                           timeout=300, env=dict(_env(None), JAX_PLATFORMS="cpu"), check=True)
    saved = np.load(io.BytesIO(child.stdout))
    result = jax.jit(program.flat_function(build_function(render(program), program.name)))(*inputs)
    expected = result if isinstance(result, tuple | list) else (result,)
    assert len(saved.files) == len(expected)
    for k, e in enumerate(expected):
        got = saved[f"arr_{k}"]
        assert got.dtype.kind != "V"
        np.testing.assert_array_equal(got.astype(np.float64), np.asarray(e).astype(np.float64))


def test_a_jax_error_in_the_passes_helper_keeps_its_name(monkeypatch) -> None:
    """Older jaxlibs disable the passes oracle's passes in a helper process. An error JAX raised there became a
    RuntimeError holding the helper's traceback (transforms seed 8, program 103 on jax 0.4.26: XLA's "negative
    padding" error with algsimp disabled), which lost its bucket. It is raised under JAX's own name and text."""
    from jaxsynth.fuzz import oracles
    from jaxsynth.fuzz.worker import Task, handle
    from jaxsynth.workers.outcome import Outcome

    program = sample(load_config("default"), 0, 1)
    inputs = random_inputs(program, np.random.default_rng(0))
    message = "INTERNAL: Encountered negative padding in IrEmitter on CPU."

    class XlaRuntimeError(RuntimeError):
        pass

    def fail(case):
        raise XlaRuntimeError(message)

    monkeypatch.setattr(oracles.Case, "jit_out", property(fail))
    result = handle(Task(program, inputs, ("outputs",)), lambda *args: None)
    assert result.notes == {"error": ("XlaRuntimeError", message)}

    class Helper:
        def run(self, task, timeout):
            return Outcome("ok", data=result)

    monkeypatch.setitem(oracles._HELPERS, ("algsimp",), Helper())
    with pytest.raises(RuntimeError) as caught:
        oracles._helper_outputs(oracles.Case(program, inputs), ("algsimp",))
    assert oracles._first_line(caught.value) == f"XlaRuntimeError: {message}"


def test_a_passes_repro_child_reports_a_jax_error_by_name(tmp_path: Path) -> None:
    """The passes repro's child (older jaxlibs) exits 4 with JAX's error, which the parent raises under the same
    name, so an error finding's repro exits 1 there; it failed as a script (exit 3)."""
    from jaxsynth.fuzz.findings import repro_source

    inputs = [np.ones((2, 3), np.float32)]
    source = repro_source(oracle="passes", kind="error", title="error", detail="TypeError: reshape",
                          source="def f(x0):\n    return jnp.reshape(x0, (7, 7))\n", inputs=inputs,
                          data={"passes_off": ["algsimp"]})
    status, output = _exit_status(source, tmp_path, "--disabled-outputs")
    assert status == 4, output[-1000:]
    assert "DISABLED-ERROR TypeError: " in output


def _exit_status(source: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    (tmp_path / "repro.py").write_text(source)
    done = subprocess.run([sys.executable, "repro.py", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env=dict(_env(None), JAX_PLATFORMS="cpu"))
    return done.returncode, done.stdout + done.stderr


def test_repro_of_a_program_not_named_f_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``models`` programs have idiomatic names (``attention_block``); their repro calls them all the same."""
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.findings import repro_source
    from jaxsynth.fuzz.oracles import Case

    config = load_config("models")
    # the smallest such program of the first 20 (three repro runs compile it: 84 ops took 20 s), with float32
    # inputs and outputs (for the grad oracle's source below)
    program = min((p for p in (sample(config, 0, i) for i in range(20)) if p.name != "f" and p.structured
                   and any(t.dtype is DType.float32 for t in p.input_types)
                   and any(t.dtype is DType.float32 for t in p.output_types)), key=op_count)
    case = Case(program, inputs_for(program, 0, 0))
    source = render(program.plain())
    expected = [np.asarray(o, dtype=np.float64) for o in case.analysis.outputs]
    data = {"expected": expected, "tolerance": case.tolerances(case.analysis, factor=2.0),
            "failing": list(range(len(expected)))}
    reference = repro_source(oracle="reference", kind="wrong", title="t", detail="", source=source,
                             inputs=case.inputs, data=data)
    assert f"\nf = {program.name}\n" in reference
    status, output = _exit_status(reference, tmp_path)
    assert status == 0, output
    # a metamorphic variant snippet and the grad oracle's float32 source (pytree arguments) call f too
    variant = {"variant": "def variant(args):\n    return outputs(jax.jit(jax.vmap(f))(*[a[None] for a in args]))\n"
               "def baseline(args):\n    return tuple(o[None] for o in outputs(jax.jit(f)(*args)))\n",
               "tolerance": [np.full((1, *np.shape(e)), 1e-3) for e in expected], "failing": [0]}
    assert _run_repro(repro_source(oracle="jitvmap", kind="wrong", title="", detail="", source=source,
                                   inputs=case.inputs, data=variant)) == 0, capsys.readouterr().out
    float_in = [i for i, t in enumerate(program.input_types) if t.dtype is DType.float32]
    float_out = [k for k, t in enumerate(program.output_types) if t.dtype is DType.float32]
    grad = {"weights": [np.ones(program.output_types[k].shape) for k in float_out],
            "directions": [np.zeros(program.input_types[i].shape) for i in float_in], "float_in": float_in,
            "float_out": float_out, "mode": "f32", "source": case.source, "expected": 0.0, "tol": 1.0}
    assert program.structured and "params" in case.source and float_in and float_out
    assert _run_repro(repro_source(oracle="grad", kind="wrong", title="", detail="", source=source,
                                   inputs=case.inputs, data=grad)) == 0, capsys.readouterr().out


def test_repro_exits_3_when_the_script_itself_fails(tmp_path: Path) -> None:
    """1 means the finding is present, nothing else: a NameError, or for kind ``error`` another exception
    type than the recorded one, is the script's failure (3)."""
    from jaxsynth.fuzz.findings import repro_source

    def repro(kind: str, detail: str, body: str) -> str:
        source = f"import jax.numpy as jnp\n\n\ndef model_step(x):\n    {body}\n"
        data = {"expected": [np.zeros(2)], "tolerance": [np.ones(2)], "failing": [0]}
        return repro_source(oracle="reference", kind=kind, title="t", detail=detail, source=source,
                            inputs=[np.zeros(2, np.float32)], data=data)

    missing = "return jnp.sin(x) + undefined_name"
    status, output = _exit_status(repro("wrong", "", missing), tmp_path)
    assert status == 3 and "NameError" in output
    assert _exit_status(repro("error", "NameError: name 'undefined_name' is not defined", missing), tmp_path)[0] == 3
    raises = "raise TypeError('an unsupported operand')"
    assert _exit_status(repro("error", "ValueError: something else", raises), tmp_path)[0] == 3
    status, output = _exit_status(repro("error", "TypeError: an unsupported operand", raises), tmp_path)
    assert status == 1 and "TypeError: an unsupported operand" in output
    # JAX renamed its runtime error (XlaRuntimeError, now JaxRuntimeError): a finding recorded on an older JAX
    # (the FFT layout RET_CHECK on 0.4.26) is still present, not a failed script, when rerun on a newer one
    runtime = "import jax\n    raise jax.errors.JaxRuntimeError('INTERNAL: RET_CHECK failure')"
    status, output = _exit_status(repro("error", "XlaRuntimeError: INTERNAL: RET_CHECK failure", runtime), tmp_path)
    assert status == 1 and "JaxRuntimeError: INTERNAL: RET_CHECK failure" in output
    assert _exit_status(repro("crash", "worker died", missing), tmp_path)[0] == 3
    with pytest.raises(ValueError, match="does not compile"):
        repro("wrong", "", "return (")


def test_a_repro_adds_the_xla_flags_of_the_worker_before_jax_starts(tmp_path: Path) -> None:
    """A crash of a passes-disabled softmax (models seed 92, program 39) happened only with the worker's
    XLA_FLAGS (8 virtual devices, one Eigen thread): its repro, run without them, said 'fixed'. Every repro
    now adds them; a sharding repro's device count is not added twice."""
    from jaxsynth.fuzz.findings import repro_source

    source = "import jax\n\n\ndef f(x):\n    return x * jax.device_count()\n"
    x = np.ones(3, np.float32)
    flags = "--xla_force_host_platform_device_count=8 --xla_cpu_multi_thread_eigen=false"

    def script(xla_flags: str) -> str:
        return repro_source(oracle="reference", kind="wrong", title="t", detail="", source=source, inputs=[x],
                            data={"expected": [8 * x], "tolerance": [np.zeros(3)], "failing": [0]},
                            xla_flags=xla_flags)

    assert _exit_status(script(flags), tmp_path)[0] == 0  # 8 devices, as in the worker: x * 8 as expected
    assert _exit_status(script(""), tmp_path)[0] == 1  # without them: one device
    variant = repro_source(oracle="sharding", kind="error", title="t", detail="", source=source, inputs=[x],
                           data={"variant": "def variant(args):\n    return (args[0],)\n", "devices": 8},
                           xla_flags=flags)
    assert variant.count("--xla_force_host_platform_device_count=8") == 1


def test_an_intermittent_crash_gets_three_runs_to_show_and_other_kinds_one_unless_a_signal_cut_it_short() -> None:
    from jaxsynth.fuzz.campaign import CRASH_RUNS, verify_repro

    def runs(*statuses: int):
        seen = iter(statuses)
        calls = []

        def run() -> tuple[int, str]:
            calls.append(1)
            return next(seen), ""
        return run, calls

    run, calls = runs(0, -11, 0)
    assert verify_repro(run, "crash", -11) == (-11, "") and len(calls) == 2  # stops at the crash
    run, calls = runs(*[0] * CRASH_RUNS)
    assert verify_repro(run, "crash", -11)[0] == 0 and len(calls) == CRASH_RUNS == 3  # never crashed: unverified
    run, calls = runs(0, 1)
    assert verify_repro(run, "wrong", 1)[0] == 0 and len(calls) == 1  # it finished and did not show it: one run
    # a signal killed it before it compared (the bug, crashing this time, or another): run again
    run, calls = runs(-11, 1, 0)
    assert verify_repro(run, "wrong", 1) == (1, "") and len(calls) == 2
    run, calls = runs(*[-11] * CRASH_RUNS)
    assert verify_repro(run, "error", 1)[0] == -11 and len(calls) == CRASH_RUNS  # never got to it: unverified
    run, calls = runs(3, 1)
    assert verify_repro(run, "wrong", 1)[0] == 3 and len(calls) == 1  # the script itself failed: not again


def test_an_error_repro_waits_for_asynchronous_results(tmp_path: Path) -> None:
    """JAX dispatches asynchronously: an execution error (XLA:CPU's RET_CHECK in its FFT thunk on a sharded
    program) is raised when the result is awaited, after the call returned. The repro must wait for every
    result, or it reports 'no exception: fixed' while the bug is present."""
    from jaxsynth.fuzz.findings import repro_source

    variant = ("class Pending:\n"
               "    def block_until_ready(self):\n"
               "        raise RuntimeError('RET_CHECK failure at execution')\n\n\n"
               "def variant(args):\n    return (Pending(),)\n\n\n"
               "def baseline(args):\n    return (args[0],)\n")
    source = "import jax.numpy as jnp\n\n\ndef f(x):\n    return jnp.sin(x)\n"
    script = repro_source(oracle="sharding", kind="error", title="t", detail="RuntimeError: RET_CHECK failure",
                          source=source, inputs=[np.zeros(2, np.float32)], data={"variant": variant})
    status, output = _exit_status(script, tmp_path)
    assert status == 1 and "RET_CHECK failure at execution" in output


@pytest.mark.parametrize(("status", "code", "says"), [(1, 1, "still present"), (0, 0, "fixed"), (3, 2, "exited 3")])
def test_rerun_reads_the_repro_exit_status(tmp_path: Path, capsys, status: int, code: int, says: str) -> None:
    """--rerun: exit 1 of repro.py is the finding, 0 is fixed, and anything else (3: the script itself
    failed) is neither: a one-line error, exit 2."""
    from clitools import cli, one_line_error

    folder = tmp_path / "000001-reference-wrong"
    folder.mkdir()
    (folder / "repro.py").write_text(f"import sys\nprint('checked')\nsys.exit({status})\n")
    (folder / "finding.json").write_text(json.dumps({"kind": "wrong", "signature": "reference/wrong/add",
                                                       "repro_expected": 1}))
    got, _, err = cli(capsys, "fuzz", "--rerun", folder)
    if code == 2:
        one_line_error(got, err, says, "--rerun")
    else:
        assert got == code and says in err


def test_a_worker_killed_from_outside_is_an_internal_error_not_a_crash_finding() -> None:
    """SIGKILL comes from the out-of-memory killer (a large-shape program in a busy campaign), never from
    XLA: it must not become a crash finding. SIGSEGV still does."""
    from types import SimpleNamespace

    from jaxsynth.fuzz.isolate import Worker
    from jaxsynth.workers.process import TAIL_BYTES

    def died(code: int):
        def tail(size: int = TAIL_BYTES) -> str:
            return stderr[-size:]

        proc = SimpleNamespace(proc=SimpleNamespace(wait=lambda timeout: code), tail=tail, kill=lambda: None)
        return Worker()._died(proc, "passes", "run", {}, 0.0)  # type: ignore[arg-type]

    stderr = ""
    killed = died(-signal.SIGKILL)
    assert killed.kind == "internal" and "SIGKILL" in killed.message and "passes/run" in killed.message
    stopped = died(-signal.SIGTERM)  # pkill of a worker: not XLA either
    assert stopped.kind == "internal" and "SIGTERM" in stopped.message
    segv = died(-signal.SIGSEGV)
    assert segv.kind == "crash" and segv.signal == signal.SIGSEGV and segv.site == ""
    # a CHECK failure's line, pushed out of the stderr tail by its stacks, is still the crash's site
    stderr = "F1202 15:27:13.374130 3798 hlo.cc:12] Check failed: ok\n" + "    @ 0x1  xla::Frame()\n" * 400
    abort = died(-signal.SIGABRT)
    assert abort.kind == "crash" and abort.site == "hlo.cc:12] Check failed: ok" and "hlo.cc" not in abort.stderr_tail
    assert abort.describe.endswith("during passes/run: hlo.cc:12] Check failed: ok")


def test_a_worker_holding_more_than_its_memory_share_is_restarted_before_the_next_program() -> None:
    """Between programs, a worker over ``max_rss`` is replaced by a fresh process (results do not depend on
    which process ran a program); without a limit the same process runs every program."""
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.isolate import Worker, memory_share
    from jaxsynth.fuzz.worker import Task

    config = load_config("elementwise")
    tasks = [Task(p, inputs_for(p, 0, i), ("reference",), seed=i) for i, p in
             ((i, sample(config, 0, i)) for i in range(2))]
    for max_rss, restarts in ((1, 1), (0, 0)):
        with Worker(max_rss=max_rss) as worker:
            outcomes = [worker.run(task, 120) for task in tasks]
            assert [o.kind for o in outcomes] == ["ok"] * 2
            assert worker.restarts == restarts
    assert memory_share(2) >= 2 << 30 and memory_share(1) >= memory_share(4)


# ---------------------------------------------------------------- several configs in one run


def _fake_campaigns(monkeypatch: pytest.MonkeyPatch, results: dict[str, dict]) -> list:
    """Replace each per-config campaign by a summary that the real ``_summary`` makes (so the totals are
    taken over the keys campaigns really write), adjusted by ``results[config]``; returns the settings seen."""
    from jaxsynth.fuzz import campaign

    seen = []

    def fake(settings):
        seen.append(settings)
        summary = campaign._summary(campaign._State(settings), settings, [], {"testing_seconds": 10.0}, {}, "done")
        summary.update(results.get(settings.config.name, {}))
        settings.out.mkdir(parents=True, exist_ok=True)
        campaign.write_json(settings.out / "summary.json", summary)
        return summary

    monkeypatch.setattr(campaign, "run_campaign", fake)
    return seen


def test_a_summary_from_before_worker_seconds_were_recorded_reads_as_testing_time_times_workers() -> None:
    """``--resume`` (and ``--config a,b`` over configs done earlier) read summaries an older jaxsynth wrote, which
    lack ``testing_worker_seconds``: a worker's rate then counts that run's testing time once per worker."""
    from jaxsynth.fuzz import campaign

    assert campaign._worker_seconds({"testing_seconds": 10.0, "workers": 3}) == 30.0
    assert campaign._worker_seconds({"testing_seconds": 10.0, "workers": 3, "testing_worker_seconds": 12.5}) == 12.5


def test_several_configs_run_one_campaign_each_and_add_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``--config a,b,c``: one campaign per config in OUT/<name>/, the budget split evenly, a shared
    database, and OUT/summary.json with the totals: a bucket two configs found is one bucket."""
    from jaxsynth.cli import run

    bucket = {"bucket": "b1", "signature": "reference/wrong/add", "oracle": "reference", "kind": "wrong",
              "count": 1, "findings": ["000003-reference-wrong"], "culprit_passes": []}
    seen = _fake_campaigns(monkeypatch, {
        "default": {"programs_tested": 40, "findings": 1, "buckets": [bucket], "new_buckets": ["b1"],
                    "finding_folders": ["000003-reference-wrong"], "shared_seconds": 20.0,
                    "oracles": {"reference": {"applied": 40, "passed": 39, "failed": 1, "seconds": 12.5,
                                              "max_error_over_tolerance": 0.5, "max_error_over_tolerance_at": 7}}},
        "elementwise": {"programs_tested": 60, "shared_seconds": 10.5, "testing_worker_seconds": 10.0,  # 1 worker
                        "oracles": {"reference": {"applied": 60, "passed": 60, "max_error_over_tolerance": 0.25,
                                                  "max_error_over_tolerance_at": 2, "seconds": 7.2}}},
        "control-flow": {"programs_tested": 20, "findings": 2, "crashes": 1, "new_buckets": ["b1"],
                         "buckets": [dict(bucket, count=2, findings=["000001-reference-wrong", "000009-x"])],
                         "finding_folders": ["000001-reference-wrong", "000009-x"],
                         "oracles": {"reference": {"applied": 20, "passed": 18, "failed": 2}}},
    })
    out = tmp_path / "all"
    status = run(["fuzz", "--config", "default,elementwise,control-flow", "--budget", "30m", "--workers", "2",
                  "--oracles", "reference", "--db", str(tmp_path / "db.json"), "--out", str(out)])
    assert status == 1  # a new bucket, and no --exit-zero
    assert [s.config.name for s in seen] == ["default", "elementwise", "control-flow"]
    assert [s.out for s in seen] == [out / "default", out / "elementwise", out / "control-flow"]
    assert {s.budget for s in seen} == {600.0} and {s.db for s in seen} == {tmp_path / "db.json"}
    total = json.loads((out / "summary.json").read_text())
    assert total["status"] == "done" and total["programs_tested"] == 120 and total["findings"] == 3
    assert total["new_buckets"] == ["b1"]
    assert total["crashes"] == 1 and total["testing_seconds"] == 30.0 and total["programs_per_second"] == 4.0
    assert total["testing_worker_seconds"] == 50.0 and total["programs_per_second_per_worker"] == 2.4
    assert total["shared_seconds"] == 30.5
    assert total["oracles"]["reference"] == {"applied": 120, "passed": 117, "failed": 3, "seconds": 19.7,
                                             "max_error_over_tolerance": 0.5,
                                             "max_error_over_tolerance_at": "default/7"}
    (merged,) = total["buckets"]
    assert merged["count"] == 3 and merged["configs"] == ["default", "control-flow"]
    assert merged["findings"] == ["default/000003-reference-wrong", "control-flow/000001-reference-wrong",
                                  "control-flow/000009-x"]
    assert [c["config"] for c in total["configs"]] == ["default", "elementwise", "control-flow"]
    assert [c["programs_tested"] for c in total["configs"]] == [40, 60, 20]
    assert all((out / c["summary"]).is_file() for c in total["configs"])
    assert "tested 120 programs" in capsys.readouterr().err


def test_a_stopped_config_ends_the_run_and_all_means_every_builtin(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    """An interrupted config ends the run (the rest are listed as not run); ``--config all`` is every built-in
    config in name order, each with -n programs."""
    from jaxsynth.cli import run
    from jaxsynth.grammar import builtin_names

    seen = _fake_campaigns(monkeypatch, {"default": {"status": "stopped"}})
    out = tmp_path / "stop"
    assert run(["fuzz", "--config", "elementwise,default,numerics", "-n", "5", "--out", str(out)]) == 0
    assert [s.config.name for s in seen] == ["elementwise", "default"]
    total = json.loads((out / "summary.json").read_text())
    assert total["status"] == "stopped"
    assert [(c["config"], c["status"]) for c in total["configs"]] == [
        ("elementwise", "done"), ("default", "stopped"), ("numerics", "not run")]
    assert not (out / "numerics").exists()

    # a second interrupt aborts: the totals still hold the config in progress, from the summary it wrote
    from jaxsynth.fuzz import campaign, run_campaigns

    fake = campaign.run_campaign

    def aborted(settings):
        summary = fake(settings)
        if settings.config.name == "default":
            campaign.write_json(settings.out / "summary.json", dict(summary, status="interrupted",
                                                                    programs_tested=7))
            raise KeyboardInterrupt
        return summary

    monkeypatch.setattr(campaign, "run_campaign", aborted)
    with pytest.raises(KeyboardInterrupt):
        run_campaigns(Settings(config=load_config("default"), out=out, count=5),
                      [load_config("elementwise"), load_config("default"), load_config("numerics")])
    total = json.loads((out / "summary.json").read_text())
    assert total["status"] == "interrupted" and total["programs_tested"] == 7
    assert [c["status"] for c in total["configs"]] == ["done", "interrupted", "not run"]

    seen = _fake_campaigns(monkeypatch, {})
    assert run(["fuzz", "--config", "all", "-n", "3", "--out", str(tmp_path / "every")]) == 0
    assert [s.config.name for s in seen] == builtin_names() and {s.count for s in seen} == {3}
    assert {s.budget for s in seen} == {None}


def test_several_configs_refuse_an_output_holding_findings(tmp_path: Path, capsys) -> None:
    from clitools import cli, one_line_error

    (tmp_path / "o" / "elementwise" / "findings" / "000001-reference-wrong").mkdir(parents=True)
    got, _, err = cli(capsys, "fuzz", "--config", "default,elementwise", "-n", "1", "--out", tmp_path / "o")
    one_line_error(got, err, "already holds findings", "elementwise")


@pytest.mark.slow
def test_several_configs_with_real_workers(tmp_path: Path) -> None:
    """The totals of real campaigns: each config's folder and summary, and OUT/summary.json adding them; resumed,
    the configs that are done are not run again."""
    from jaxsynth.fuzz import campaign, run_campaigns

    configs = [load_config("elementwise"), load_config("numerics")]
    total = run_campaigns(Settings(config=configs[0], out=tmp_path, count=2, oracles=("reference", "eager")),
                          configs)
    assert total["status"] == "done" and total["programs_tested"] == 4
    for c in total["configs"]:
        own = json.loads((tmp_path / c["summary"]).read_text())
        assert own["config"] == c["config"] and own["programs_tested"] == c["programs_tested"] == 2
    assert total["oracles"]["reference"]["applied"] == 4
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(json.dumps(total))
    # --resume of a run whose configs are all done tests nothing and gives the same totals
    (tmp_path / "numerics" / "summary.json").write_text(
        (tmp_path / "numerics" / "summary.json").read_text().replace('"status": "done"', '"status": "stopped"'))
    with pytest.raises(ValueError, match="without its journal"):  # what the CLI says before any work
        campaign.resumable(Settings(config=configs[1], out=tmp_path / "numerics", count=2,
                                    oracles=("reference", "eager"), resume=True))
    (tmp_path / "numerics" / "summary.json").write_text(
        (tmp_path / "numerics" / "summary.json").read_text().replace('"status": "stopped"', '"status": "done"'))
    again = run_campaigns(Settings(config=configs[0], out=tmp_path, count=2, oracles=("reference", "eager"),
                                   resume=True), configs)
    assert json.loads(json.dumps(again)) == json.loads(json.dumps(total))


def test_a_python_scalar_fori_loop_index_under_disable_jit_is_a_known_limitation() -> None:
    """Eager ``fori_loop`` passes its index as a Python int, so ``(i0 >= 2).reshape(1)`` fails on a bool
    (control-flow seed 90, program 696): documented JAX behaviour, never a finding. The same error in a
    program without ``fori_loop`` is not explained by it."""
    from jaxsynth.fuzz.campaign import _limitation, _oracle_seed, inputs_for
    from jaxsynth.fuzz.oracles import Case, Verdict, run_oracles

    program = historical("control-flow", 90, 696)
    assert "(i0 >= 2).reshape(1)" in render(program)
    verdict = run_oracles(Case(program, inputs_for(program, 90, 696), seed=_oracle_seed(90, 696)), ["eager"])["eager"]
    assert verdict.kind == "error" and "'bool' object has no attribute 'reshape'" in verdict.detail
    assert _limitation("eager", verdict, program) is not None
    plain = sample(load_config("elementwise"), 0, 0)
    assert not any(n.op == "fori_loop" for n in plain.walk())
    for scalar in ("int", "bool", "float"):
        error = Verdict(False, kind="error", detail=f"AttributeError: '{scalar}' object has no attribute 'astype'")
        assert _limitation("eager", error, program) is not None
        assert _limitation("eager", error, plain) is None
        assert _limitation("reference", error, program) is None
    other = Verdict(False, kind="error", detail="AttributeError: 'ArrayImpl' object has no attribute 'foo'")
    assert _limitation("eager", other, program) is None


def test_a_sampler_failure_is_an_internal_error_and_the_campaign_goes_on(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    """An exception in jaxsynth's own sampler used to end the tester thread silently (the campaign then
    reported "done" with one worker fewer). It is an internal error of that program; the rest are tested."""
    from jaxsynth.fuzz import campaign

    real = campaign.program_for

    def broken(config, seed, index, swarm):
        if index == 1:
            raise IndexError("list index out of range")
        return real(config, seed, index, swarm)

    monkeypatch.setattr(campaign, "program_for", broken)
    summary = run_campaign(Settings(config=load_config("elementwise"), out=tmp_path, count=4,
                                    oracles=("reference",), timeout=120))
    assert summary["status"] == "done" and summary["programs_tested"] == 4
    assert summary["internal_errors"] == 1 and summary["findings"] == 0
    assert summary["internal_messages"] == ["program 1: sampling failed: IndexError: list index out of range"]
    assert summary["oracles"]["reference"]["passed"] == 3
