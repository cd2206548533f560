"""What each fuzz oracle costs and what it finds: the campaign's bugs per CPU-hour, oracle by oracle.

    python bench/oracle_yield.py OUT [OUT ...]         # campaign folders (or their summary.json)
    python bench/oracle_yield.py --json OUT ...

Reads the ``summary.json`` that ``jaxsynth fuzz`` writes (a single config's or the totals of ``--config all``)
and, summed over the campaigns given, prints per oracle: its own worker-seconds (``oracles.NAME.seconds``) and
their share of all worker time (the oracles' own plus ``shared_seconds``, the jit, run and reference analysis
every oracle compares against), how many findings and distinct buckets it raised, and buckets per worker-hour
of its own time: what leaving it out (``--oracles all,-NAME``) would save. ``reference`` does nothing but
compare the shared jit with the shared float64 reference, so its hours include ``shared_seconds``.

A bucket is a bug as the fuzzer tells them apart (oracle, kind and reduced op multiset or crash site), counted
once however many campaigns found it, as a multi-config summary counts it. Findings are checked by hand before
they count as bugs (``bench/results/``); this only says where time went.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def load(paths: list[str]) -> list[dict]:
    summaries = []
    for text in paths:
        path = Path(text)
        path = path / "summary.json" if path.is_dir() else path
        try:
            summaries.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{text}: not a campaign's summary.json ({exc.__class__.__name__})") from None
        if "oracles" not in summaries[-1]:
            raise ValueError(f"{text}: not a campaign's summary.json (no 'oracles')")
    return summaries


def oracle_yield(summaries: list[dict]) -> dict:
    seconds: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    buckets: dict[str, set[str]] = {}  # per oracle, the bucket ids: a bucket is one bug whichever campaign found it
    shared = 0.0
    programs = 0
    for summary in summaries:
        programs += summary.get("programs_tested", 0)
        shared += summary.get("shared_seconds", 0.0)
        for name, counts in summary["oracles"].items():
            seconds[name] += counts.get("seconds", 0.0)
        for bucket in summary.get("buckets", []):
            findings[bucket["oracle"]] += bucket["count"]
            buckets.setdefault(bucket["oracle"], set()).add(bucket["bucket"])
    total = sum(seconds.values()) + shared
    rows = []
    for name, own in seconds.most_common():
        found = len(buckets.get(name, ()))
        hours = (own + (shared if name == "reference" else 0.0)) / 3600
        rows.append({"oracle": name, "seconds": round(own, 1), "share": round(own / total, 4) if total else 0.0,
                     "findings": findings[name], "buckets": found,
                     "buckets_per_hour": round(found / hours, 2) if hours else None})
    return {"campaigns": len(summaries), "programs": programs, "worker_seconds": round(total, 1),
            "shared_seconds": round(shared, 1), "oracles": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("campaigns", nargs="+", metavar="OUT", help="a campaign's folder or its summary.json")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        result = oracle_yield(load(args.campaigns))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    print(f"{result['campaigns']} campaign(s), {result['programs']} programs, {result['worker_seconds']:.0f} "
          f"worker-seconds ({result['shared_seconds']:.0f} shared jit, run and reference)")
    print(f"{'oracle':10s} {'seconds':>9s} {'share':>6s} {'findings':>9s} {'buckets':>8s} {'buckets/h':>10s}")
    for row in result["oracles"]:
        rate = "-" if row["buckets_per_hour"] is None else f"{row['buckets_per_hour']:.2f}"
        print(f"{row['oracle']:10s} {row['seconds']:9.0f} {100 * row['share']:5.1f}% {row['findings']:9d} "
              f"{row['buckets']:8d} {rate:>10s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
