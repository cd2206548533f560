"""bench/bench_fuzz.py: the oracles a throughput run measures (the figures themselves are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_fuzz.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_a_run_measures_only_the_oracles_it_is_given() -> None:
    done = _run("-n", "2", "--seed", "3", "--oracles", "reference,eager")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["oracles"] == "reference,eager"
    assert set(result["applied"]) == {"reference", "eager"} and result["applied"]["eager"] == 2
    assert set(result["seconds_per_program"]) <= {"reference", "eager", "(shared)"}
    assert result["seconds_per_program"]["eager"] > 0


def test_before_after_passes_an_exclusion_list_to_the_after_side() -> None:
    done = _run("-n", "1", "--seed", "3", "--before-after", "--oracles=-eager,-sharding,-passes,-vmap,-jitvmap")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "eager" in result["before"]["oracles"].split(",")
    assert result["after"]["oracles"] == "reference,grad,lowprec,export,unroll,rewrite"


def test_bad_oracle_lists_are_refused_in_one_line() -> None:
    for args, words in ((["--oracles", "all,-bogus"], "unknown oracle 'bogus'"),
                        (["--oracles", "all,-eager", "--campaign"], "a campaign takes `jaxsynth fuzz --oracles`")):
        done = _run("-n", "1", *args)
        assert done.returncode == 2 and done.stdout == ""
        assert words in done.stderr.strip().splitlines()[-1]  # argparse: the usage, then the one error line


def _seed_where_only_program_1_calls() -> tuple[int, str]:
    """The first seed of the default config (as ``bench_fuzz.py`` draws it, without swarm) whose program 1 calls an op
    of ``CHECKABLE`` that programs 0 and 2 do not. Chosen by that property, so a change to the op table keeps the
    test's meaning."""
    from test_fuzz import CHECKABLE

    from jaxsynth.grammar import load_config
    from jaxsynth.synth import sample

    config = load_config("default")
    for seed in range(200):
        ops = [{n.op for n in sample(config, seed, index).walk() if n.is_op} for index in range(3)]
        for op in CHECKABLE:
            if op in ops[1] and op not in ops[0] and op not in ops[2]:
                return seed, op
    raise AssertionError("no default seed below 200 calls an op of CHECKABLE in program 1 only")


def test_a_compiler_crash_is_recorded_and_the_run_goes_on() -> None:
    # the injected abort in an op only program 1 calls takes its measuring process down, as an XLA CHECK would;
    # programs 0 and 2 are still measured
    import os

    seed, op = _seed_where_only_program_1_calls()
    env = {**os.environ, "JAXSYNTH_INJECT": f"abort:{op}"}
    done = subprocess.run([sys.executable, str(SCRIPT), "-n", "3", "--seed", str(seed), "--oracles", "reference"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["crashed_programs"] == [1]
    assert result["programs_measured"] == 2 and result["applied"] == {"reference": 2}
    assert set(result["slowest_programs"]) == {"0", "2"}
