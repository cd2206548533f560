"""bench/bench_fuzz.py: the oracles a throughput run measures (the figures themselves are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from injected import checkable_seed

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
    done = _run("-n", "1", "--seed", "9", "--before-after", "--oracles=-eager,-sharding,-passes,-vmap,-jitvmap")
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


def test_a_compiler_crash_is_recorded_and_the_run_goes_on() -> None:
    # the injected abort in an op only program 1 calls takes its measuring process down, as an XLA CHECK would;
    # programs 0 and 2 are still measured
    import os

    seed, op = checkable_seed("default", (False, True, False))  # as bench_fuzz.py draws them, without swarm
    env = {**os.environ, "JAXSYNTH_INJECT": f"abort:{op}"}
    done = subprocess.run([sys.executable, str(SCRIPT), "-n", "3", "--seed", str(seed), "--oracles", "reference"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["crashed_programs"] == [1]
    assert result["programs_measured"] == 2 and result["applied"] == {"reference": 2}
    assert set(result["slowest_programs"]) == {"0", "2"}
