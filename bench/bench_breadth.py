#!/usr/bin/env python
"""What grammar breadth costs: sample+render programs/s and full records/s per built-in config, for
this checkout and (with ``--before``) another one, on the same configs and indices.

    python bench/bench_breadth.py [-n 300] [--records 60] [--configs default,control-flow]
    python bench/bench_breadth.py --before /path/to/main-checkout        # before/after table

Each (checkout, config) runs in a fresh process of its own with ``PYTHONPATH`` set to that checkout,
set up like a generation worker (one XLA thread, CPU platform), pinned to one CPU when the OS
allows. ``sample+render`` times ``render(sample(config, 0, i))`` over ``-n`` indices (after 20 warm-up
programs); ``records`` times ``make_record(config, 0, i)`` with the default IR kinds over ``--records``
indices (after 5 warm-up records). Only configs that ship in both checkouts are compared; the config
file is read from the checkout being measured, so a config whose weights changed is measured as each
checkout defines it. Prints one row per config and, with ``--before``, the after/before ratios; a
ratio below 1 is a slowdown. Figures from a loaded machine are meaningless: run it on idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
try:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
except (AttributeError, OSError):
    pass
from jaxsynth.lowering import configure_jax_for_workers
configure_jax_for_workers(1)
from jaxsynth.corpus.generate import make_record
from jaxsynth.grammar import load_config
from jaxsynth.synth import render, sample

name, n, records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = load_config(name)
for i in range(20):
    render(sample(config, 0, i))
start = time.perf_counter()
for i in range(20, 20 + n):
    render(sample(config, 0, i))
sample_rate = n / (time.perf_counter() - start)
for i in range(5):
    make_record(config, 0, i)
start = time.perf_counter()
for i in range(5, 5 + records):
    make_record(config, 0, i)
record_rate = records / (time.perf_counter() - start) if records else float("nan")
print(json.dumps({"sample_render": sample_rate, "records": record_rate}))
"""


def builtin_configs(checkout: Path) -> list[str]:
    return sorted(p.stem for p in (checkout / "corpora").glob("*.toml"))


def measure(checkout: Path, name: str, n: int, records: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout), JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", CHILD, name, str(n), str(records)], env=env, capture_output=True,
                         text=True, cwd=checkout)
    if out.returncode != 0:
        raise SystemExit(f"error: measuring {name} in {checkout} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="programs for sample+render")
    parser.add_argument("--records", type=int, default=60, help="full records (0: skip)")
    parser.add_argument("--configs", default="", help="comma-separated config names (default: every shared one)")
    parser.add_argument("--before", type=Path, help="another checkout (e.g. main) to compare against")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    if args.n < 1 or args.records < 0:
        parser.error("-n must be >= 1 and --records >= 0")
    if args.before is not None and not (args.before / "jaxsynth").is_dir():
        print(f"error: --before {args.before} is not a jaxsynth checkout", file=sys.stderr)
        raise SystemExit(2)
    names = builtin_configs(HERE)
    if args.before is not None:
        names = [c for c in names if c in builtin_configs(args.before)]
    if args.configs:
        wanted = args.configs.split(",")
        unknown = [c for c in wanted if c not in names]
        if unknown:
            print(f"error: unknown or unshared configs: {', '.join(unknown)}; available: {', '.join(names)}",
                  file=sys.stderr)
            raise SystemExit(2)
        names = wanted
    results: dict[str, dict[str, dict[str, float]]] = {}
    header = f"{'config':<22}{'sample+render/s':>17}{'records/s':>12}"
    if args.before is not None:
        header += f"{'before s+r/s':>15}{'before rec/s':>14}{'s+r ratio':>11}{'rec ratio':>11}"
    print(header)
    for name in names:
        after = measure(HERE, name, args.n, args.records)
        row = f"{name:<22}{after['sample_render']:>17.1f}{after['records']:>12.2f}"
        results[name] = {"after": after}
        if args.before is not None:
            before = measure(args.before, name, args.n, args.records)
            results[name]["before"] = before
            row += (f"{before['sample_render']:>15.1f}{before['records']:>14.2f}"
                    f"{after['sample_render'] / before['sample_render']:>11.2f}"
                    f"{after['records'] / before['records']:>11.2f}")
        print(row, flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
