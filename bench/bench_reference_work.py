"""The reference's cost model against the clock: where ``jaxsynth.fuzz.reference.work``'s constants come from.

    python bench/bench_reference_work.py models:111:0-60 reductions-linalg:111:0-60 structured:111:0-60 \\
        default:111:0-40
    python bench/bench_reference_work.py --elementwise

For each program (``CONFIG:SEED:FIRST-LAST``, drawn as ``jaxsynth fuzz`` draws them, swarm on) one reference
analysis (``tolerance.analyse``: the exact run and ``RUNS`` perturbed ones) is timed, with what it was charged
split into op evaluations, elements read and written, contraction terms and elements moved by a perturbed
run. A non-negative least-squares fit of the seconds on those four gives the cost of each (``VISIT_WORK``,
``TERM_WORK`` and ``PERTURB_WORK`` are the first, the third and the fourth over the second; ``WORK_PER_SECOND``
is one over the second); the figures printed next to it are what the
current constants predict: seconds per work unit over all programs, and the programs whose analysis, times
the 10 analyses a program with every oracle may need, would not fit the budget of a 120 s timeout, and the
ops whose evaluations took more than ``SLOWER`` times the seconds their charge stands for (seconds, charged
seconds; an op's time is the clock from the previous op's charge in its run to its own).
With ``--elementwise``, the nanoseconds a result element of each elementwise op's reference instead, where
``reference.ELEMENT_NANOSECONDS`` comes from (and, for the ops whose speed depends on a literal parameter, at
each of its values: ``reference.PARAM_NANOSECONDS``). Pin it (``taskset -c 0``): a campaign's workers have one
core each.
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

    parts = {"visits": 0.0, "elements": 0.0, "terms": 0.0, "perturbed": 0.0}
    work, perturbation_work = reference.work, reference.perturbation_work
    clock = [0.0]

    def split(node, args, value) -> float:
        now = time.perf_counter()  # the op was evaluated since the previous op's charge
        units = work(node, args, value)
        elements = float(reference._elements(args) + reference._elements(value))
        parts["visits"] += 1
        extra = units - reference.VISIT_WORK - elements
        if node.op in reference.ELEMENT_NANOSECONDS:  # charged per element
            parts["elements"] += elements + extra
        else:
            parts["elements"] += elements
            parts["terms"] += extra / reference.TERM_WORK
        tally = ops.setdefault(node.op, [0.0, 0.0])
        tally[0] += now - clock[0]
        tally[1] += units
        clock[0] = time.perf_counter()
        return units

    def perturbed(value) -> float:  # charged once the value is moved: that time is no op's either
        parts["perturbed"] += reference._elements(value)
        clock[0] = time.perf_counter()
        return perturbation_work(value)

    def timed_run(*args, **kwargs):  # the analysis's own work between runs is no op's
        clock[0] = time.perf_counter()
        return run(*args, **kwargs)

    run = tolerance.run
    reference.work, reference.perturbation_work, tolerance.run = split, perturbed, timed_run
    rows = []
    try:
        for spec in specs:
            name, seed, span = spec.split(":")
            first, last = (int(v) for v in span.split("-"))
            config = load_config(name)
            for index in range(first, last):
                program, _ = program_for(config, int(seed), index, True)
                inputs = inputs_for(program, int(seed), index)
                parts.update(visits=0.0, elements=0.0, terms=0.0, perturbed=0.0)
                budget = reference.Budget(float("inf"))
                start = clock[0] = time.perf_counter()
                tolerance.analyse(program, inputs, budget=budget)
                rows.append({"program": f"{name}:{seed}:{index}", "seconds": time.perf_counter() - start,
                             "work": budget.spent, **parts})
    finally:
        reference.work, reference.perturbation_work, tolerance.run = work, perturbation_work, run
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


def elementwise(size: int = 200_000, listed: float = 30.0) -> dict:
    """Nanoseconds a result element of each elementwise op's reference, float64, on ``size`` elements drawn
    from ranges its range rule accepts (``tests/opcase.py``): those of ``listed`` ns or more are the table
    ``reference.ELEMENT_NANOSECONDS`` holds."""
    import pathlib

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
    from opcase import find_case

    from jaxsynth.grammar import REGISTRY, DType, TensorType
    from jaxsynth.synth.interpret import compute_dtype, random_array

    measured = {}
    for name, spec in sorted(REGISTRY.items()):
        if getattr(spec, "category", "") not in ("unary", "nn", "special", "elementwise"):
            continue
        case = find_case(spec, DType.float32 if DType.float32 in spec.dtypes else next(iter(spec.dtypes)))
        if case is None or any(t.shape != case.out.shape for t in case.types):
            continue  # broadcasting or reshaping: not one result element per operand element
        rng = np.random.default_rng(0)
        operands = [np.asarray(case.literals[i]) if i in case.literals else
                    random_array(TensorType(t.dtype, (size,)), r, rng).astype(compute_dtype(t))
                    for i, (t, r) in enumerate(zip(case.types, case.intervals, strict=True))]
        measured[name] = _element_ns(spec.reference, operands, case.proposal.params, size)
    return {"ops": len(measured), "median_ns": round(float(np.median(list(measured.values()))), 1),
            "listed_ns": {name: round(ns) for name, ns in sorted(measured.items(), key=lambda kv: -kv[1])
                          if ns >= listed},
            "by_parameter_ns": by_parameter(size)}


def _element_ns(reference, operands: list, params: dict, size: int) -> float:
    """Nanoseconds a result element of one reference evaluation on ``size``-element operands: the mean of three,
    after one that warms it up."""
    reference(operands, params)
    start = time.perf_counter()
    for _ in range(3):
        reference(operands, params)
    return (time.perf_counter() - start) / 3 / size * 1e9


def by_parameter(size: int) -> dict:
    """Nanoseconds a result element of the elementwise ops whose references' speed depends on a literal
    parameter, at each value the grammar draws: the slowest of the operand ranges [0.01, 1], [0.01, 4],
    [0.01, 20] and [0.01, 100] (``reference.PARAM_NANOSECONDS``)."""
    import itertools

    from jaxsynth.grammar import REGISTRY
    from jaxsynth.grammar.ops_nn import INCOMPLETE_GAMMA_SHAPES, POLYGAMMA_ORDERS

    grids = {"gammainc": [{"a": a} for a in INCOMPLETE_GAMMA_SHAPES],
             "gammaincc": [{"a": a} for a in INCOMPLETE_GAMMA_SHAPES],
             "betainc": [{"a": a, "b": b} for a, b in itertools.product(INCOMPLETE_GAMMA_SHAPES, repeat=2)],
             "polygamma": [{"n": n} for n in POLYGAMMA_ORDERS]}
    rng = np.random.default_rng(0)
    out = {}
    for name, grid in grids.items():
        reference, highs = REGISTRY[name].reference, ((1.0,) if name == "betainc" else (1.0, 4.0, 20.0, 100.0))
        operands = [rng.uniform(0.01, high, size) for high in highs]
        row = {}
        for params in grid:
            slowest = max(_element_ns(reference, [x], params, size) for x in operands)
            row[", ".join(f"{k}={v}" for k, v in params.items())] = round(slowest)
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="*", metavar="CONFIG:SEED:FIRST-LAST")
    parser.add_argument("--elementwise", action="store_true",
                        help="time each elementwise op's reference instead (reference.ELEMENT_NANOSECONDS)")
    args = parser.parse_args()
    if args.elementwise:
        json.dump(elementwise(), sys.stdout, indent=2)
        print()
        return
    if not args.programs:
        parser.error("give CONFIG:SEED:FIRST-LAST program ranges, or --elementwise")
    from jaxsynth.fuzz import reference
    from jaxsynth.fuzz.oracles import reference_budget

    ops: dict[str, list[float]] = {}
    rows = measure(args.programs, ops)
    parts = np.array([[r["visits"], r["elements"], r["terms"], r["perturbed"]] for r in rows])
    seconds = np.array([r["seconds"] for r in rows])
    per_visit, per_element, per_term, per_perturbed = fit(parts, seconds)
    budget = reference_budget(120.0)
    json.dump({
        "programs": len(rows),
        "seconds": round(float(seconds.sum()), 2),
        "fit_seconds": {"per_visit": float(per_visit), "per_element": float(per_element), "per_term": float(per_term),
                        "per_perturbed_element": float(per_perturbed)},
        "fit_constants": {} if per_element <= 0 else {
            "VISIT_WORK": round(per_visit / per_element), "TERM_WORK": round(per_term / per_element, 4),
            "PERTURB_WORK": round(per_perturbed / per_element, 1), "WORK_PER_SECOND": float(f"{1 / per_element:.3g}")},
        "current_constants": {"VISIT_WORK": reference.VISIT_WORK, "TERM_WORK": reference.TERM_WORK,
                              "PERTURB_WORK": reference.PERTURB_WORK, "WORK_PER_SECOND": reference.WORK_PER_SECOND},
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
