#!/usr/bin/env python
"""The plain string-template pipeline that ``jaxsynth generate --emit jaxpr,stablehlo`` must beat.

What a straightforward generator does per function: fill a source template, ``exec`` it,
``jax.make_jaxpr(fn)(*args)`` for the JAXPR, ``jax.jit(fn).lower(*args).as_text()`` for the
StableHLO, and write a JSON line. To make the comparison strict, the baseline gets each function's
source text *for free*: the texts are the very functions jaxsynth renders for the same indices,
produced before the clock starts (a template fill costs microseconds; charging nothing for it is
the most favourable case for the baseline). Everything after the text is timed.

    python bench/template_baseline.py [-n 300] [--config default]     # records/s of the baseline alone

``bench/bench_throughput.py fast`` times it against jaxsynth in the same process, interleaved.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time


@dataclasses.dataclass(frozen=True)
class TemplateJob:
    """One function as the template pipeline sees it: source text, name, argument types."""

    source: str
    name: str
    arg_types: list  # list[jax.ShapeDtypeStruct]
    x64: bool


def jobs(config, seed: int, indices) -> list[TemplateJob]:  # type: ignore[no-untyped-def]
    """Source texts of the functions jaxsynth generates for ``indices`` (built untimed)."""
    import jax

    from jaxsynth.synth import render, sample

    out = []
    for index in indices:
        program = sample(config, seed, index)
        types = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in program.input_types]
        out.append(TemplateJob(render(program), program.name, types, config.types.x64))
    return out


def template_record(job: TemplateJob) -> bytes:
    """exec + make_jaxpr + jit(...).lower(...).as_text() + a JSON line: the baseline's whole work."""
    import jax

    namespace: dict[str, object] = {}
    exec(job.source, namespace)  # noqa: S102 - our own rendered program
    fn = namespace[job.name]
    with jax.enable_x64(job.x64):
        jaxpr = str(jax.make_jaxpr(fn)(*job.arg_types))
        stablehlo = jax.jit(fn).lower(*job.arg_types).as_text()
    return (json.dumps({"python": job.source, "jaxpr": jaxpr, "stablehlo": stablehlo}) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--config", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the JSON lines here (whole-process comparisons)")
    args = ap.parse_args(argv)
    process_started = time.perf_counter()
    from jaxsynth.lowering import configure_jax_for_workers

    configure_jax_for_workers(1)
    from jaxsynth.grammar import load_config

    prepare_started = time.perf_counter()
    todo = jobs(load_config(args.config), args.seed, range(args.n))
    prepare = time.perf_counter() - prepare_started  # the free source texts: not the baseline's cost
    if args.out is None:
        for job in todo[:10]:  # warm-up
            template_record(job)
    started = time.perf_counter()
    with open(args.out or "/dev/null", "wb") as sink:
        for job in todo:
            sink.write(template_record(job))
    seconds = time.perf_counter() - started
    print(f"template baseline: {args.n} functions in {seconds:.1f} s ({args.n / seconds:.1f} records/s); "
          f"source texts prepared untimed in {prepare:.2f} s; "
          f"in-process total {time.perf_counter() - process_started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
