#!/usr/bin/env python
"""Benchmark XLA:CPU compile time: default options vs ``FAST_COMPILE_OPTIONS``.

For every function of ``jaxsynth.lowering.samples`` the module is lowered once,
then compiled ``--reps`` times with each option set (alternating the order,
clearing JAX's caches before every compile so nothing is served from cache).
Prints the median compile time per function for each set, the ratio, and
whether the normalized optimized HLO is identical (it must be). With
``--each`` every option is also measured alone, and ``--end-to-end`` times
``lower(fn, types)`` (trace + lower + compile, default emit) both ways.
``--option KEY=VALUE`` (repeatable) measures any other per-compile XLA option as its own set, the way a
fuzz worker's compile cost could be cut: an option that leaves the optimized HLO as it is changes only
XLA:CPU's backend (LLVM), and one that changes it changes what a campaign tests.

Usage: python bench/bench_compile_flags.py [--reps 5] [--each] [--end-to-end] [--option KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import jax

from jaxsynth.lowering import FAST_COMPILE_OPTIONS, lower
from jaxsynth.lowering.normalize import normalize_hlo
from jaxsynth.lowering.samples import sample_functions


def _compile_seconds(lowered: jax.stages.Lowered, options: dict) -> tuple[float, str]:
    jax.clear_caches()
    t0 = time.perf_counter()
    compiled = lowered.compile(dict(options))
    dt = time.perf_counter() - t0
    return dt, normalize_hlo(compiled.as_text())


def measure(configs: dict[str, dict], reps: int) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Per config, the per-function median compile time, and the functions whose HLO differs from 'default'."""
    samples = sample_functions()
    lowereds = [jax.jit(s.fn).lower(*s.arg_types) for s in samples]
    for lw in lowereds:  # warm up LLVM/MLIR one-time initialization
        _compile_seconds(lw, {})
    medians: dict[str, list[float]] = {name: [] for name in configs}
    mismatches: dict[str, list[str]] = {name: [] for name in configs}
    names = list(configs)
    for s, lw in zip(samples, lowereds, strict=True):
        times: dict[str, list[float]] = {name: [] for name in configs}
        texts: dict[str, str] = {}
        for rep in range(reps):
            order = names if rep % 2 == 0 else names[::-1]
            for name in order:
                dt, text = _compile_seconds(lw, configs[name])
                times[name].append(dt)
                texts.setdefault(name, text)
        for name in configs:
            medians[name].append(statistics.median(times[name]))
            if texts[name] != texts["default"]:
                mismatches[name].append(s.name)
    return medians, mismatches


def _option_value(text: str) -> bool | int | str:
    """``true``/``false``, an integer, or the string itself: the types XLA's debug options take."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return text


def end_to_end(reps: int) -> dict[str, float]:
    """Median over functions of the median ``lower()`` wall time, fast vs default compile."""
    samples = sample_functions()
    out: dict[str, list[float]] = {"default": [], "fast": []}
    for s in samples:
        per: dict[str, list[float]] = {"default": [], "fast": []}
        for rep in range(reps):
            for name in ("default", "fast") if rep % 2 == 0 else ("fast", "default"):
                jax.clear_caches()
                t0 = time.perf_counter()
                lower(s.fn, s.arg_types, fast_compile=(name == "fast"))
                per[name].append(time.perf_counter() - t0)
        for name in out:
            out[name].append(statistics.median(per[name]))
    return {name: statistics.median(v) for name, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5, help="compiles per function and option set")
    ap.add_argument("--each", action="store_true", help="also measure every option alone")
    ap.add_argument("--end-to-end", action="store_true", help="also time lower() end to end")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="also measure this XLA compile option alone (repeatable)")
    args = ap.parse_args(argv)
    extra: dict[str, dict] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("xla_"):
            ap.error(f"--option {item!r}: expected xla_NAME=VALUE")
        extra[item] = {key: _option_value(value)}

    configs: dict[str, dict] = {"default": {}, "fast": dict(FAST_COMPILE_OPTIONS)}
    if args.each:
        for key, value in FAST_COMPILE_OPTIONS.items():
            configs[f"{key}={value}"] = {key: value}
    configs.update(extra)

    n = len(sample_functions())
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, {n} functions, {args.reps} reps each")
    print(f"FAST_COMPILE_OPTIONS = {FAST_COMPILE_OPTIONS}")
    medians, differing = measure(configs, args.reps)
    # FAST_COMPILE_OPTIONS must leave the HLO as it is; an --option is measured and its effect reported
    mismatches = [f"{fn} [{name}]" for name, fns in differing.items() if name not in extra for fn in fns]
    base = medians["default"]
    print(f"{'options':48s} {'median ms':>10s} {'total ms':>10s} {'ratio':>7s}")
    for name, per_fn in medians.items():
        med, tot = statistics.median(per_fn) * 1e3, sum(per_fn) * 1e3
        ratio = statistics.median(per_fn) / statistics.median(base)
        print(f"{name:48s} {med:10.2f} {tot:10.1f} {ratio:7.3f}")
    per_fn_ratio = statistics.median(f / d for f, d in zip(medians["fast"], base, strict=True))
    print(f"median per-function ratio fast/default: {per_fn_ratio:.3f}")
    if args.end_to_end:
        e2e = end_to_end(max(1, args.reps // 2 + 1))
        print(
            f"lower() end to end, median per function: default {e2e['default'] * 1e3:.2f} ms, "
            f"fast {e2e['fast'] * 1e3:.2f} ms, ratio {e2e['fast'] / e2e['default']:.3f}"
        )
    for name in extra:
        changed = len(differing[name])
        print(f"{name}: optimized HLO {'differs for ' + str(changed) if changed else 'identical for all'} of {n}")
    if mismatches:
        print(f"HLO MISMATCH for {len(mismatches)}: {', '.join(mismatches)}")
        return 1
    print(f"optimized HLO identical to default for all {n} functions and {len(configs) - 1 - len(extra)} option sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
