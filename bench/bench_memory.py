#!/usr/bin/env python
"""Resident memory of one generation worker over a long run: is it flat?

    python bench/bench_memory.py [-n 100000] [--emit jaxpr,stablehlo] [--every 500] [--csv rss.csv]

Runs the worker's own code path (:class:`jaxsynth.corpus.run.RecordMaker`, which clears JAX's caches
every ``CLEAR_CACHES_EVERY`` records and shares one MLIR context per ``IR_CONTEXT_REUSE``
lowerings, under the worker's tuned garbage collector) in this process, set up like a worker (one
XLA thread, pinned to the last CPU this process may use), and samples RSS (from
``/proc/self/statm``) every ``--every`` records into a CSV ``records,seconds,rss_mib``. Encoded
records are counted, not stored. At the end it prints RSS after warm-up (the first ``--warmup``
records), the minimum, maximum and last sample after warm-up, and the largest deviation from the
warm-up figure in percent (the target: within +-10%).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--config", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--emit", default="jaxpr,stablehlo")
    ap.add_argument("--every", type=int, default=500, help="records between two RSS samples")
    ap.add_argument("--warmup", type=int, default=2000, help="records before the reference sample")
    ap.add_argument("--csv", default="rss.csv")
    args = ap.parse_args(argv)

    from jaxsynth.lowering import configure_jax_for_workers

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    configure_jax_for_workers(1, cpu=cpus[-1] if cpus else None)
    from jaxsynth.corpus.collector import tuned_collector
    from jaxsynth.corpus.run import RecordMaker
    from jaxsynth.grammar import load_config

    maker = RecordMaker(load_config(args.config), args.seed, args.emit, "jsonl")
    rows: list[tuple[int, float, float]] = []
    started = time.perf_counter()
    size = 0
    with open(args.csv, "w", newline="") as out, tuned_collector():
        writer = csv.writer(out)
        writer.writerow(["records", "seconds", "rss_mib"])
        writer.writerow([0, 0.0, f"{rss_mib():.1f}"])
        for index in range(args.n):
            size += len(maker(index))
            done = index + 1
            if done % args.every == 0 or done == args.n:
                row = (done, time.perf_counter() - started, rss_mib())
                rows.append(row)
                writer.writerow([row[0], f"{row[1]:.1f}", f"{row[2]:.1f}"])
                out.flush()
    after = [r for r in rows if r[0] >= args.warmup]
    if not after:
        print("run longer than --warmup to get a verdict")
        return 0
    ref = after[0][2]
    values = [r[2] for r in after]
    worst = max(abs(v - ref) for v in values) / ref * 100
    print(
        f"{args.n} records ({args.emit}) in {rows[-1][1]:.0f} s, {size / 2**20:.0f} MiB encoded; RSS at "
        f"{after[0][0]} records {ref:.1f} MiB; after that min {min(values):.1f}, max {max(values):.1f}, "
        f"last {values[-1]:.1f} MiB; largest deviation {worst:.1f}% -> {args.csv}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
