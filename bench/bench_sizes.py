#!/usr/bin/env python
"""Program size of each built-in config: JAXPR equations (nested bodies included) of programs 0..N-1.

    python bench/bench_sizes.py [-n 200] [--seed 0] [--configs default,models,...]

Traces each program with ``jax.make_jaxpr`` at its signature (no compilation) and prints a Markdown
table of quantiles, the one in the README beside real model code's. The figures do not depend on
machine load.
"""

from __future__ import annotations

import argparse
import statistics


def sizes(name: str, n: int, seed: int) -> list[int]:
    import jax

    from jaxsynth.corpus.generate import build_function
    from jaxsynth.dataset.stats import jaxpr_equations
    from jaxsynth.grammar import load_config
    from jaxsynth.lowering.argtypes import parse_type
    from jaxsynth.synth import render, sample

    config = load_config(name)
    out = []
    for index in range(n):
        program = sample(config, seed, index)
        fn = build_function(render(program), program.name)
        with jax.enable_x64(config.types.x64):
            args = [parse_type(str(t)) for t in program.input_types]  # key inputs are key-typed
            out.append(jaxpr_equations(str(jax.make_jaxpr(fn)(*program.pack_inputs(args)))))
    return out


def quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    from jaxsynth.grammar import builtin_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", default=",".join(builtin_names()))
    args = parser.parse_args()
    print("| config | p10 | median | mean | p90 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.configs.split(","):
        s = sizes(name, args.n, args.seed)
        print(f"| `{name}` | {quantile(s, 0.1):g} | {statistics.median(s):g} | {statistics.fmean(s):.0f} | "
              f"{quantile(s, 0.9):g} | {max(s)} |", flush=True)


if __name__ == "__main__":
    main()
