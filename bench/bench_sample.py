"""Sampling + rendering throughput on one core, beside the libcst bound it cannot beat.

    python bench/bench_sample.py [--config default] [-n 3000] [--repeats 5]

Prints programs/s for sample only, render only, and sample+render (median of repeats), and the
libcst bound: building a 20-statement function from libcst nodes plus ``Module.code``.
Pin to one core for the one-core figure: ``taskset -c 0 python bench/bench_sample.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import libcst as cst

from jaxsynth.grammar import load_config
from jaxsynth.synth import node_count, render, sample


def _rate(fn, n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def libcst_bound(statements: int = 20, n: int = 300, repeats: int = 5) -> tuple[float, float]:
    """Functions/s for building a ``statements``-line function from nodes, and for Module.code on it."""

    def build() -> cst.Module:
        body = []
        for i in range(statements):
            value = cst.Call(cst.Attribute(cst.Name("jnp"), cst.Name("sin")),
                             [cst.Arg(cst.BinaryOperation(cst.Name(f"v{i}"), cst.Add(), cst.Name("x0")))])
            body.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(f"v{i + 1}"))], value)]))
        body.append(cst.SimpleStatementLine([cst.Return(cst.Name(f"v{statements}"))]))
        fn = cst.FunctionDef(cst.Name("f"), cst.Parameters([cst.Param(cst.Name("x0"))]), cst.IndentedBlock(body))
        return cst.Module([fn])

    module = build()
    build_rate = _rate(lambda: [build() for _ in range(n)], n, repeats)
    code_rate = _rate(lambda: [module.code for _ in range(n)], n, repeats)
    return build_rate, code_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = load_config(args.config)
    sample(config, 0, 0)  # build the per-config op tables once, outside the timing
    programs = [sample(config, 0, i) for i in range(args.n)]
    sizes = sorted(node_count(p) for p in programs)
    lines = sorted(render(p).count("\n") for p in programs)
    sample_rate = _rate(lambda: [sample(config, 0, i) for i in range(args.n)], args.n, args.repeats)
    render_rate = _rate(lambda: [render(p) for p in programs], args.n, args.repeats)
    both = _rate(lambda: [render(sample(config, 0, i)) for i in range(args.n)], args.n, args.repeats)
    build_rate, code_rate = libcst_bound()
    bound = 1 / (1 / build_rate + 1 / code_rate)
    print(f"config {args.config}: {args.n} programs, median ops {sizes[len(sizes) // 2]}, "
          f"median lines {lines[len(lines) // 2]}")
    print(f"sample only      {sample_rate:8.0f} programs/s")
    print(f"render only      {render_rate:8.0f} programs/s")
    print(f"sample + render  {both:8.0f} programs/s")
    print(f"libcst bound (20-statement function): build {build_rate:.0f}/s, Module.code {code_rate:.0f}/s, "
          f"both {bound:.0f}/s")


if __name__ == "__main__":
    main()
