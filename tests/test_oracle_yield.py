"""bench/oracle_yield.py: per-oracle cost and yield summed over campaign summaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "oracle_yield.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def _summary(folder: Path, seconds: dict[str, float], shared: float, buckets: list[tuple[str, str, int]]) -> Path:
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({
        "programs_tested": 10, "shared_seconds": shared,
        "oracles": {name: {"applied": 10, "seconds": s} for name, s in seconds.items()},
        "buckets": [{"bucket": bucket, "oracle": oracle, "count": count} for bucket, oracle, count in buckets],
    }))
    return folder


def test_sums_campaigns_per_oracle(tmp_path: Path) -> None:
    one = _summary(tmp_path / "one", {"eager": 1800.0, "sharding": 900.0, "reference": 0.0}, 900.0,
                   [("crash-site", "sharding", 3), ("wrong-max", "reference", 1)])
    two = _summary(tmp_path / "two", {"eager": 1800.0, "sharding": 900.0, "reference": 0.0}, 0.0,
                   [("crash-site", "sharding", 2), ("wrong-scatter", "sharding", 1)])
    done = _run("--json", str(one), str(two / "summary.json"))  # a folder or its summary.json
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["campaigns"] == 2 and result["programs"] == 20 and result["worker_seconds"] == 6300.0
    rows = {row["oracle"]: row for row in result["oracles"]}
    assert [row["oracle"] for row in result["oracles"]][0] == "eager"  # most time first
    assert rows["eager"]["share"] == round(3600 / 6300, 4) and rows["eager"]["buckets_per_hour"] == 0.0
    # the crash-site bucket found by both campaigns is one bug: 2 buckets of 6 findings
    assert rows["sharding"]["findings"] == 6 and rows["sharding"]["buckets"] == 2
    assert rows["sharding"]["buckets_per_hour"] == 4.0  # 2 buckets in 1,800 s of its own
    assert rows["reference"]["buckets_per_hour"] == 4.0  # its hours are the shared work: 1 bucket in 900 s
    table = _run(str(one))
    assert table.returncode == 0 and "sharding" in table.stdout and "buckets/h" in table.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text("{}")
    for path in (tmp_path / "missing", tmp_path / "other.json"):
        done = _run(str(path))
        assert done.returncode == 2
        assert done.stderr.strip().startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
