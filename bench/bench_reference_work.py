"""The reference's cost model against the clock: where ``jaxsynth.fuzz.reference.work``'s constants come from.

    python bench/bench_reference_work.py models:111:0-60 reductions-linalg:111:0-60 structured:111:0-60 \\
        default:111:0-40

For each program (``CONFIG:SEED:FIRST-LAST``, drawn as ``jaxsynth fuzz`` draws them, swarm on) one reference
analysis (``tolerance.analyse``: the exact run and ``RUNS`` perturbed ones) is timed, with what it was charged
split into op evaluations, elements read and written, and contraction terms. A non-negative least-squares
fit of the seconds on those three gives the cost of each (``VISIT_WORK`` and ``TERM_WORK`` are the first and the third
over the second; ``WORK_PER_SECOND`` is one over the second); the figures printed next to it are what the
current constants predict: seconds per work unit over all programs, and the programs whose analysis, times
the 10 analyses a program with every oracle may need, would not fit the budget of a 120 s timeout, and the
ops whose evaluations took more than ``SLOWER`` times the seconds their charge stands for (seconds, charged
seconds; an op's time is the clock from the previous op's charge to its own).
Pin it (``taskset -c 0``): a campaign's workers have one core each.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

#: An op is listed as slower than charged where its seconds pass this many times its charge's.
SLOWER = 5.0


def measure(specs: list[str], ops: dict[str, list[float]]) -> list[dict]:
    """One row per program; ``ops`` collects each op's seconds and charged work over all of them."""
    from jaxsynth.fuzz import reference, tolerance
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.swarm import program_for
    from jaxsynth.grammar import load_config

    parts = {"visits": 0.0, "elements": 0.0, "terms": 0.0}
    work = reference.work
    clock = [0.0]

    def split(node, args, value) -> float:
        now = time.perf_counter()  # the op was evaluated since the previous op's charge
        units = work(node, args, value)
        elements = float(reference._elements(args) + reference._elements(value))
        parts["visits"] += 1
        parts["elements"] += elements
        parts["terms"] += (units - reference.VISIT_WORK - elements) / reference.TERM_WORK
        tally = ops.setdefault(node.op, [0.0, 0.0])
        tally[0] += now - clock[0]
        tally[1] += units
        clock[0] = time.perf_counter()
        return units

    reference.work = split
    rows = []
    try:
        for spec in specs:
            name, seed, span = spec.split(":")
            first, last = (int(v) for v in span.split("-"))
            config = load_config(name)
            for index in range(first, last):
                program, _ = program_for(config, int(seed), index, True)
                inputs = inputs_for(program, int(seed), index)
                parts.update(visits=0.0, elements=0.0, terms=0.0)
                budget = reference.Budget(float("inf"))
                start = clock[0] = time.perf_counter()
                tolerance.analyse(program, inputs, budget=budget)
                rows.append({"program": f"{name}:{seed}:{index}", "seconds": time.perf_counter() - start,
                             "work": budget.spent, **parts})
    finally:
        reference.work = work
    return rows


def fit(parts: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Non-negative least squares for a few columns: the best of the plain fits on each subset of them whose
    coefficients are all non-negative (a fit on few programs, or on collinear ones, may go negative)."""
    best, best_residual = np.zeros(parts.shape[1]), float(np.sum(seconds**2))
    for mask in range(1, 2 ** parts.shape[1]):
        columns = [k for k in range(parts.shape[1]) if mask >> k & 1]
        coef = np.linalg.lstsq(parts[:, columns], seconds, rcond=None)[0]
        if np.all(coef >= 0):
            full = np.zeros(parts.shape[1])
            full[columns] = coef
            residual = float(np.sum((parts @ full - seconds) ** 2))
            if residual < best_residual:
                best, best_residual = full, residual
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="+", metavar="CONFIG:SEED:FIRST-LAST")
    args = parser.parse_args()
    from jaxsynth.fuzz import reference
    from jaxsynth.fuzz.oracles import reference_budget

    ops: dict[str, list[float]] = {}
    rows = measure(args.programs, ops)
    parts = np.array([[r["visits"], r["elements"], r["terms"]] for r in rows])
    seconds = np.array([r["seconds"] for r in rows])
    per_visit, per_element, per_term = fit(parts, seconds)
    budget = reference_budget(120.0)
    json.dump({
        "programs": len(rows),
        "seconds": round(float(seconds.sum()), 2),
        "fit_seconds": {"per_visit": float(per_visit), "per_element": float(per_element), "per_term": float(per_term)},
        "fit_constants": {} if per_element <= 0 else {
            "VISIT_WORK": round(per_visit / per_element), "TERM_WORK": round(per_term / per_element, 4),
            "WORK_PER_SECOND": float(f"{1 / per_element:.3g}")},
        "current_constants": {"VISIT_WORK": reference.VISIT_WORK, "TERM_WORK": reference.TERM_WORK,
                              "WORK_PER_SECOND": reference.WORK_PER_SECOND},
        "work_per_second_measured": float(f"{sum(r['work'] for r in rows) / seconds.sum():.3g}"),
        "slowest": {r["program"]: [round(r["seconds"], 2), float(f"{r['work']:.3g}")]
                    for r in sorted(rows, key=lambda r: -r["seconds"])[:5]},
        "over_budget_with_10_analyses": [r["program"] for r in rows if 10 * r["work"] > budget],
        "ops_slower_than_charged": {
            op: [round(seconds, 3), round(units / reference.WORK_PER_SECOND, 3)]
            for op, (seconds, units) in sorted(ops.items(), key=lambda kv: kv[1][1] / reference.WORK_PER_SECOND
                                               - kv[1][0])
            if seconds > max(0.05, SLOWER * units / reference.WORK_PER_SECOND)},
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
