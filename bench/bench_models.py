#!/usr/bin/env python
"""The ``models`` config against ``default``: full records/s, program size, validity, dead code, duplicates.

    python bench/bench_models.py [-n 300] [--configs models,default] [--workers 2] [--dup-n 10000]
                                 [--out bench/results/models.json]

For each config: ``jaxsynth generate -n N`` with full records (JAXPR, StableHLO, optimized HLO) and
the given workers, timed end to end (records/s; bigger programs cost more to compile); then, over
the written file, JAXPR equations (median, p90), the dead-code rates ``jaxsynth stats`` reports, the
structural duplicate rate, and validity: every record's Python, re-executed here (our own records),
traces to its recorded JAXPR at its signature (pytree arguments rebuilt from ``signature_tree``).
With ``--dup-n`` it also samples that many programs of each config (no lowering) and reports the
structural duplicate rate by ``graph_hash`` (issue 11 asks for < 1% at 10,000 for ``models``).
Run on an idle machine for throughput figures; the other figures do not depend on load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _args_of(record):  # type: ignore[no-untyped-def]
    from jaxsynth.lowering.argtypes import parse_type

    if not record.signature_tree:
        return [parse_type(t) for t in record.signature]

    def build(tree):  # type: ignore[no-untyped-def]
        if isinstance(tree, str):
            return parse_type(tree)
        if isinstance(tree, dict):
            return {k: build(v) for k, v in tree.items()}
        return tuple(build(v) for v in tree)

    return [build(t) for t in json.loads(record.signature_tree)]


def reexecutes(record) -> bool:  # type: ignore[no-untyped-def]
    """Whether the record's Python traces to its recorded JAXPR (executes the record: ours only)."""
    import jax

    namespace: dict[str, object] = {}
    exec(compile(record.python, "<record>", "exec"), namespace)
    return str(jax.make_jaxpr(namespace[record.function_name])(*_args_of(record))) == record.jaxpr


def corpus_figures(config: str, n: int, workers: int, folder: Path) -> dict[str, object]:
    from jaxsynth.cli import run
    from jaxsynth.corpus.record import iter_records
    from jaxsynth.dataset.stats import corpus_stats

    path = folder / f"{config}.jsonl"
    start = time.perf_counter()
    status = run(["generate", "--config", config, "-n", str(n), "--workers", str(workers), "-o", str(path),
                  "--no-progress"])
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"generate {config} exited {status}")
    stats = corpus_stats(path)
    records = list(iter_records(path))
    valid = sum(reexecutes(r) for r in records)
    eqs = stats.distributions["jaxpr_equations"]
    return {
        "config": config,
        "records": stats.records,
        "seconds": round(seconds, 2),
        "records_per_s": round(stats.records / seconds, 3),
        "workers": workers,
        "valid": valid,
        "jaxpr_equations": {k: round(v, 1) for k, v in eqs.summary().items()},
        "structural_duplicate_rate": stats.structural_duplicate_rate,
        "dead_code_rates": stats.dead_code_rates(),
    }


def duplicate_rate(config_name: str, n: int) -> dict[str, object]:
    from jaxsynth.grammar import load_config
    from jaxsynth.synth import sample, structural_hash

    config = load_config(config_name)
    start = time.perf_counter()
    hashes = [structural_hash(sample(config, 0, i)) for i in range(n)]
    return {"config": config_name, "programs": n, "structural_duplicate_rate": 1 - len(set(hashes)) / n,
            "sample_hash_s": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--configs", default="models,default")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dup-n", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, object] = {"corpora": [], "duplicates": []}
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs.split(","):
            figures = corpus_figures(config, args.n, args.workers, Path(tmp))
            results["corpora"].append(figures)  # type: ignore[union-attr]
            print(json.dumps(figures), flush=True)
    if args.dup_n:
        for config in args.configs.split(","):
            figures = duplicate_rate(config, args.dup_n)
            results["duplicates"].append(figures)  # type: ignore[union-attr]
            print(json.dumps(figures), flush=True)
    corpora = results["corpora"]
    if len(corpora) >= 2:  # type: ignore[arg-type]
        base = corpora[-1]["records_per_s"]  # type: ignore[index]
        print(f"records/s ratio {corpora[0]['config']}/{corpora[-1]['config']}: "  # type: ignore[index]
              f"{statistics.fmean([corpora[0]['records_per_s']]) / base:.2f}")  # type: ignore[index]
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
