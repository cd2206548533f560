"""Novelty-guided vs plain generation: distinct optimized-HLO features as the corpus grows.

    python bench/bench_novelty.py [-n 10000] [--epoch 500] [--workers 2] [--out bench/novelty]

Generates ``n`` records of the config twice with the same seed — plain (the config's own op
weights) and novelty-guided (:mod:`jaxsynth.dataset.novelty`) — emitting only the optimized HLO,
then counts the distinct HLO features (:func:`jaxsynth.dataset.hlo.hlo_features`) after every
``--step`` records. Writes ``novelty.png`` (the figure) and ``novelty.json`` (the curves, per-family
counts and timings) to ``--out``. ``--keep`` keeps the two corpora there too, and a later run with
``--keep`` and a larger ``-n`` extends them (both generators resume byte-identically) instead of
starting over; the timings then cover only the extension.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from jaxsynth.corpus.record import iter_records
from jaxsynth.dataset.hlo import FEATURE_FAMILIES, hlo_features
from jaxsynth.dataset.novelty import DEFAULT_STRENGTH, generate_novelty
from jaxsynth.dataset.plots import plot_novelty
from jaxsynth.grammar import load_config


def curve(path: Path, step: int) -> tuple[list[int], list[int], Counter[str]]:
    seen: set[str] = set()
    xs, ys = [0], [0]
    n = 0
    for record in iter_records(path):
        seen |= hlo_features(record.optimized_hlo or "")
        n += 1
        if n % step == 0:
            xs.append(n)
            ys.append(len(seen))
    if xs[-1] != n:
        xs.append(n)
        ys.append(len(seen))
    return xs, ys, Counter(f.split(":", 1)[0] for f in seen)


def figure(summary: dict, path: Path) -> Path:
    """The novelty figure from a ``novelty.json`` summary."""
    runs, n = summary["runs"], summary["n"]
    plain = runs["plain"]["distinct"][-1]
    title = f"Distinct optimized-HLO features ({summary['config']} config, seed {summary['seed']})"
    note = f"novelty-guided: {100 * summary['gain']:+.1f}% distinct features at {n:,} records" if plain else ""
    if summary["novelty_records_to_reach_plain_final"]:
        note += (
            f";\nreaches plain's {n:,}-record count ({plain:,}) "
            f"after {summary['novelty_records_to_reach_plain_final']:,} records"
        )
    curves = {
        "plain op weights": (runs["plain"]["records"], runs["plain"]["distinct"]),
        f"novelty-guided (epoch {summary['epoch']})": (runs["novelty"]["records"], runs["novelty"]["distinct"]),
    }
    return plot_novelty(curves, path, title, note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--epoch", type=int, default=500)
    parser.add_argument("--strength", type=float, default=DEFAULT_STRENGTH)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--step", type=int, default=250, help="records between curve points")
    parser.add_argument("--out", type=Path, default=Path("bench/novelty"))
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora in --out")
    parser.add_argument("--plot-only", action="store_true", help="redraw novelty.png from --out/novelty.json")
    args = parser.parse_args(argv)
    if args.plot_only:
        print(figure(json.loads((args.out / "novelty.json").read_text()), args.out / "novelty.png"))
        return 0

    from jaxsynth.corpus.run import generate
    from jaxsynth.lowering import configure_jax_for_workers

    configure_jax_for_workers(1)
    config = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out if args.keep else Path(tempfile.mkdtemp(prefix="bench_novelty_"))
    emit = ("optimized_hlo",)
    results: dict[str, dict] = {}
    for label in ("plain", "novelty"):
        path = work / f"{label}.jsonl"
        start = time.perf_counter()
        resume = args.keep and path.exists()  # a kept corpus is extended, not regenerated
        if label == "plain":
            generate(config, args.seed, args.n, path, workers=args.workers, emit=emit, progress=False, resume=resume)
        else:
            generate_novelty(
                config,
                args.seed,
                args.n,
                path,
                workers=args.workers,
                emit=emit,
                epoch=args.epoch,
                strength=args.strength,
                progress=False,
                resume=resume,
            )
        seconds = time.perf_counter() - start
        xs, ys, families = curve(path, args.step)
        results[label] = {
            "records": xs,
            "distinct": ys,
            "seconds": round(seconds, 1),
            "families": {f: families[f] for f in FEATURE_FAMILIES},
        }
        print(
            f"{label:8s} {args.n} records in {seconds:.0f} s: {ys[-1]} distinct HLO features "
            f"({', '.join(f'{f} {families[f]}' for f in FEATURE_FAMILIES)})",
            file=sys.stderr,
        )
    plain, novel = results["plain"]["distinct"][-1], results["novelty"]["distinct"][-1]
    summary = {
        "config": args.config,
        "seed": args.seed,
        "n": args.n,
        "epoch": args.epoch,
        "strength": args.strength,
        "workers": args.workers,
        "emit": list(emit),
        "runs": results,
        "gain": round(novel / plain - 1, 4) if plain else None,
        "novelty_records_to_reach_plain_final": next(
            (
                x
                for x, y in zip(results["novelty"]["records"], results["novelty"]["distinct"], strict=True)
                if y >= plain
            ),
            None,
        ),
    }
    (args.out / "novelty.json").write_text(json.dumps(summary, indent=1) + "\n")
    png = figure(summary, args.out / "novelty.png")
    print(f"plain {plain}, novelty {novel} distinct features at {args.n} records; wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
