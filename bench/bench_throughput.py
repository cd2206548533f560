#!/usr/bin/env python
"""Throughput of ``jaxsynth generate``: the ratios the scale issue asks for, measured in one run.

    python bench/bench_throughput.py fast    [-n 400]   # --emit jaxpr,stablehlo vs the template baseline
    python bench/bench_throughput.py full    [-n 120]   # full records vs the trace+lower+compile floor
    python bench/bench_throughput.py scaling [-n 300]   # two workers vs one, steady state
    python bench/bench_throughput.py process [-n 600]   # whole `jaxsynth generate` processes (issue 13)
    python bench/bench_throughput.py all

Every comparison runs each variant in a process of its own (so no variant warms JAX's caches for
another), set up as a generation worker (one XLA thread; all variant processes pinned to the same
CPU), on the same functions, one small batch at a time with the order rotating per batch, so a
noisy machine slows all variants alike. Figures are ratios of summed wall time over the same
functions (higher = jaxsynth faster), repeated ``--repeats`` times on fresh functions and
processes, median reported.

fast   jaxsynth's whole record (sample, render with libcst, exec, trace once, lower, print +
       normalize, features, graph hash, msgspec encode) against bench/template_baseline.py (source
       text free; exec + make_jaxpr + jit.lower.as_text + JSON), and what each step gave: shared
       MLIR context (lowering.core.IR_CONTEXT_REUSE), GSPMD instead of Shardy (USE_SHARDY), direct
       lowering (DIRECT_LOWERING), lean JAX settings (LEAN_JAX_CONFIG), the tuned garbage
       collector (corpus.collector).
full   jaxsynth's whole record with optimized HLO against the bare floor ``jit(fn).trace(*args)
       .lower().compile()`` with XLA's default options on the same programs (function built
       untimed), plus each step: default compile + fresh MLIR context per lowering (the pipeline
       before this work), + backend -O0 (FAST_COMPILE_OPTIONS), + the steps of ``fast``. Also
       checks that every optimized HLO text equals the default compile's (normalized) text.
scaling records/s of a pinned WorkerPool of two workers against one (each worker on one CPU, one
       XLA thread), counted from the 10th record on, so worker start-up is excluded. The
       wall-clock ratio needs two idle cores (the load average is printed beside it); on a shared
       machine the figure to read is the projection from CPU time: 2 x (records per
       worker-CPU-second with two workers) / (the same with one).
process whole ``jaxsynth generate`` processes, 600 full records each: 1 worker in-process, 1
       isolated worker, 1 worker confined to one CPU, 2 workers; ``--emit jaxpr,stablehlo`` against
       the template baseline. Prints the cores each variant kept busy on average: a lone worker is
       not a one-core process (XLA:CPU compiles on a thread pool sized by the machine), so on two
       cores "2 workers / 1 worker" cannot reach 2 x; "2 workers / 1 worker on one CPU" is the
       core-for-core ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _setup(pin: bool = False) -> None:
    """Set this process up as a generation worker: CPU platform, one XLA thread; with ``pin``, on
    the last CPU this process may use, as a pinned worker is (every variant process runs there)."""
    from jaxsynth.lowering import configure_jax_for_workers

    cpus = sorted(os.sched_getaffinity(0)) if pin and hasattr(os, "sched_getaffinity") else []
    configure_jax_for_workers(1, cpu=cpus[-1] if cpus else None)


# ---------------------------------------------------------------- one process per variant
def _variant_fn(kind: str, config_name: str):  # type: ignore[no-untyped-def]
    """Build, inside a variant's process, ``index -> (seconds, text or None)`` for variant ``kind``."""
    import jax

    from jaxsynth.corpus.generate import build_function
    from jaxsynth.corpus.run import RecordMaker
    from jaxsynth.grammar import load_config
    from jaxsynth.lowering import core
    from jaxsynth.lowering.normalize import normalize_hlo
    from jaxsynth.synth import render, sample

    config = load_config(config_name)
    if kind.endswith("-nolean"):  # lower under JAX's default settings (as before this work)
        core.LEAN_JAX_CONFIG = {}
        kind = kind[: -len("-nolean")]
    if kind.endswith("-cached"):  # lower through JAX's per-module lowering cache (as before this work)
        core.DIRECT_LOWERING = False
        kind = kind[: -len("-cached")]
    if kind.endswith("-sdy"):  # lower with JAX's default partitioner, Shardy (as before this work)
        core.USE_SHARDY = None
        kind = kind[: -len("-sdy")]
    if kind == "template":
        import template_baseline

        cache: dict[int, object] = {}

        def template(i: int):  # type: ignore[no-untyped-def]
            job = cache.pop(i, None) or template_baseline.jobs(config, 0, [i])[0]
            started = time.perf_counter()
            template_baseline.template_record(job)  # type: ignore[arg-type]
            return time.perf_counter() - started, None

        return template
    if kind == "floor":

        def floor(i: int):  # type: ignore[no-untyped-def]
            program = sample(config, 0, i)
            types = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in program.input_types]
            fn = build_function(render(program), program.name)
            with jax.enable_x64(config.types.x64):
                started = time.perf_counter()
                compiled = jax.jit(fn).trace(*types).lower().compile()
                seconds = time.perf_counter() - started
                return seconds, normalize_hlo(compiled.as_text())

        return floor
    # jaxsynth variants: "fast" / "fast-fresh" (jaxpr,stablehlo) and "full-*" (with optimized HLO)
    emit = ("jaxpr", "stablehlo") if kind.startswith("fast") else ("jaxpr", "stablehlo", "optimized_hlo")
    if kind in ("fast-fresh", "full-before", "full-O0"):
        core.IR_CONTEXT_REUSE = 0
    if kind == "full-before":
        core.FAST_COMPILE_OPTIONS = {}
    maker = RecordMaker(config, 0, emit, "jsonl")
    decoder = None
    if emit[-1] == "optimized_hlo":
        from jaxsynth.corpus.record import decode_record

        decoder = decode_record

    def ours(i: int):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        data = maker(i)
        seconds = time.perf_counter() - started
        return seconds, decoder(data[:-1]).optimized_hlo if decoder else None

    return ours


def _serve(conn, kind: str, config_name: str) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    _setup(pin=True)
    import contextlib

    from jaxsynth.corpus.collector import tuned_collector

    # jaxsynth's workers generate under a tuned garbage collector; the baselines run as plain scripts
    tuned = kind.startswith(("fast", "full")) and not kind.endswith("-gc")
    fn = _variant_fn(kind.removesuffix("-gc"), config_name)
    with tuned_collector() if tuned else contextlib.nullcontext():
        conn.send("ready")
        while (batch := conn.recv()) is not None:
            total, texts = 0.0, {}
            for i in batch:
                seconds, text = fn(i)
                total += seconds
                texts[i] = text
            conn.send((total, texts))


def _compare(kinds: dict[str, str], config_name: str, indices: list[int], batch: int, warmup: int):
    """Run each variant in its own process (own JAX caches), one batch at a time, rotating the order
    per batch so all variants see the same machine load. Returns (seconds per variant, texts)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = {}
    for label, kind in kinds.items():
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, kind, config_name), daemon=True)
        proc.start()
        procs[label] = (proc, parent)
    for _, conn in procs.values():
        assert conn.recv() == "ready"
    labels = list(kinds)
    for _, conn in procs.values():  # warm-up, untimed
        conn.send(list(range(10_000_000, 10_000_000 + warmup)))
        conn.recv()
    totals = dict.fromkeys(labels, 0.0)
    texts: dict[str, dict[int, str]] = {label: {} for label in labels}
    for k in range(0, len(indices), batch):
        chunk = indices[k : k + batch]
        shift = (k // batch) % len(labels)
        for label in labels[shift:] + labels[:shift]:
            conn = procs[label][1]
            conn.send(chunk)
            seconds, got = conn.recv()
            totals[label] += seconds
            texts[label].update(got)
    for proc, conn in procs.values():
        conn.send(None)
        proc.join()
    return totals, texts


def _report(tag: str, totals_runs: list[dict[str, float]], base: str, per: int, ratio_name: str) -> None:
    for label in totals_runs[0]:
        ms = 1e3 * sum(r[label] for r in totals_runs) / (per * len(totals_runs))
        ratios = [r[base] / r[label] for r in totals_runs]
        print(f"  {label:46s} {ms:7.2f} ms/record  {ratio_name} = {statistics.median(ratios):.3f} "
              f"(runs: {', '.join(f'{x:.3f}' for x in ratios)})")


def bench_fast(n: int, repeats: int, config_name: str) -> None:
    kinds = {
        "template baseline": "template",
        "jaxsynth, fresh MLIR context, Shardy": "fast-fresh-sdy-cached-nolean-gc",
        "  + shared MLIR context": "fast-sdy-cached-nolean-gc",
        "  + GSPMD instead of Shardy": "fast-cached-nolean-gc",
        "  + direct lowering": "fast-nolean-gc",
        "  + lean JAX settings": "fast-gc",
        "  + tuned garbage collector (= jaxsynth now)": "fast",
    }
    runs = []
    for r in range(repeats):
        totals, _ = _compare(kinds, config_name, list(range(r * n, (r + 1) * n)), batch=10, warmup=20)
        runs.append(totals)
    print(f"[fast] --emit jaxpr,stablehlo, config {config_name}, {n} functions x {repeats} repeats, "
          f"load {os.getloadavg()[0]:.1f}")
    _report("fast", runs, "template baseline", n, "template/this")


def bench_full(n: int, repeats: int, config_name: str) -> None:
    kinds = {
        "floor (trace+lower+compile, XLA defaults)": "floor",
        "jaxsynth before: default compile, fresh ctx": "full-before-sdy-cached-nolean-gc",
        "  + backend -O0 (FAST_COMPILE_OPTIONS)": "full-O0-sdy-cached-nolean-gc",
        "  + shared MLIR context": "full-now-sdy-cached-nolean-gc",
        "  + GSPMD instead of Shardy": "full-now-cached-nolean-gc",
        "  + direct lowering": "full-now-nolean-gc",
        "  + lean JAX settings": "full-now-gc",
        "  + tuned garbage collector (= jaxsynth now)": "full-now",
    }
    runs = []
    mismatches = checked = 0
    for r in range(repeats):
        totals, texts = _compare(kinds, config_name, list(range(r * n, (r + 1) * n)), batch=5, warmup=10)
        runs.append(totals)
        floor_texts = texts["floor (trace+lower+compile, XLA defaults)"]
        for label in list(kinds)[1:]:
            for i, text in texts[label].items():
                checked += 1
                mismatches += text != floor_texts[i]
    print(f"[full] full records, config {config_name}, {n} functions x {repeats} repeats, "
          f"load {os.getloadavg()[0]:.1f}")
    _report("full", runs, "floor (trace+lower+compile, XLA defaults)", n, "floor/this")
    print(f"  optimized HLO identical to the default compile's: {checked - mismatches}/{checked} records")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of processes, from /proc (Linux)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def bench_scaling(n: int, repeats: int, config_name: str, emit: str) -> None:
    from jaxsynth.corpus.workers import WorkerPool
    from jaxsynth.grammar import load_config
    from jaxsynth.lowering import parse_emit

    config = load_config(config_name)
    kinds = parse_emit(emit)
    skip = 10

    def rate(workers: int, offset: int) -> tuple[float, float, float]:
        """(records/s wall, records per worker-CPU-second, writer CPU ms per record), from record 10 on."""
        with WorkerPool(config, 0, kinds, "jsonl", workers, pin=True) as pool:
            stamps, cpu = [], []
            parent0 = 0.0
            for k, _ in enumerate(pool.run(range(offset, offset + n))):
                stamps.append(time.perf_counter())
                if k == skip or k == n - 1:
                    cpu.append(_cpu_seconds([s.process.pid for s in pool.slots]))
                    if k == skip:
                        parent0 = time.process_time()
            parent = time.process_time() - parent0
        records = n - skip - 1
        return records / (stamps[-1] - stamps[skip]), records / (cpu[1] - cpu[0]), 1e3 * parent / records

    results = []
    for r in range(repeats):
        offset = 100_000 * (r + 1)
        if r % 2 == 0:
            one = rate(1, offset)
            two = rate(2, offset)
        else:
            two = rate(2, offset)
            one = rate(1, offset)
        results.append((one, two))
        print(f"  run {r}: wall 1 worker {one[0]:.2f} rec/s, 2 workers {two[0]:.2f} rec/s (x{two[0] / one[0]:.3f}); "
              f"per worker-CPU-second {one[1]:.2f} vs {two[1]:.2f}; writer CPU {two[2]:.2f} ms/record; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    wall = [two[0] / one[0] for one, two in results]
    projected = [2 * two[1] / one[1] for one, two in results]
    print(f"[scaling] emit {emit}, {n} records per run, {os.cpu_count()} CPUs: 2 workers / 1 worker = "
          f"{statistics.median(wall):.3f} wall (valid only on two idle cores), "
          f"{statistics.median(projected):.3f} projected from CPU time per record "
          f"(2 x records per worker-CPU-second with 2 workers / with 1)")


def _whole_process(argv: list[str], one_cpu: bool = False) -> tuple[float, float, str]:
    """Wall seconds of a whole process, the CPU seconds it used (its own and its children's), and its
    stdout. With ``one_cpu`` the process (and every process and thread it starts) may run on the first
    CPU only."""
    import resource
    import subprocess

    def first_cpu() -> None:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, preexec_fn=first_cpu if one_cpu else None)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, cpu, proc.stdout


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f}, {len(values)} runs)"


def bench_process(n: int, repeats: int, config_name: str) -> None:
    import re
    import tempfile

    py = sys.executable
    bench_dir = Path(__file__).resolve().parent
    variants = {
        "1 worker in-process": ["--workers", "1"],
        "1 isolated worker": ["--workers", "1", "--isolate"],
        "1 worker on one CPU": ["--workers", "1"],
        "2 workers": ["--workers", "2"],
    }
    if not hasattr(os, "sched_setaffinity"):
        del variants["1 worker on one CPU"]
    times: dict[str, list[float]] = {name: [] for name in [*variants, "jaxpr,stablehlo", "template baseline"]}
    cpu_seconds: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="jaxsynth-bench-") as tmp:
        for r in range(repeats):
            seed = 1000 + r
            common = [py, "-m", "jaxsynth", "generate", "--config", config_name, "--seed", str(seed), "-n", str(n),
                      "--no-progress"]
            outputs = {}
            names = list(variants)
            names = names[r % len(names):] + names[: r % len(names)]
            for name in names:
                out = os.path.join(tmp, f"{name.replace(' ', '_')}.jsonl")
                seconds, cpu, _ = _whole_process([*common, *variants[name], "-o", out], "one CPU" in name)
                times[name].append(seconds)
                cpu_seconds[name].append(cpu)
                outputs[name] = Path(out).read_bytes()
            same = len(set(outputs.values())) == 1
            fast_out = os.path.join(tmp, "fast.jsonl")
            pair = [("jaxpr,stablehlo", [*common, "--workers", "1", "--emit", "jaxpr,stablehlo", "-o", fast_out]),
                    ("template baseline", [py, str(bench_dir / "template_baseline.py"), "-n", str(n), "--config",
                                           config_name, "--seed", str(seed), "--out", os.path.join(tmp, "t.jsonl")])]
            for name, argv in pair if r % 2 == 0 else pair[::-1]:
                seconds, _, stdout = _whole_process(argv)
                if name == "template baseline":
                    prepared = re.search(r"prepared untimed in ([\d.]+) s", stdout)
                    seconds -= float(prepared.group(1)) if prepared else 0.0
                times[name].append(seconds)
            print(f"  run {r}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items())
                  + f"; variants byte-identical: {same}; load {os.getloadavg()[0]:.1f}", flush=True)
    one, iso, two = times["1 worker in-process"], times["1 isolated worker"], times["2 workers"]
    print(f"[process] {config_name}, {n} full records, {os.cpu_count()} CPUs, whole processes:")
    print(f"  2 workers / 1 worker in-process  = {_spread([a / b for a, b in zip(one, two, strict=True)])}")
    print(f"  2 workers / 1 isolated worker    = {_spread([a / b for a, b in zip(iso, two, strict=True)])}")
    if "1 worker on one CPU" in times:
        pinned = times["1 worker on one CPU"]
        print(f"  2 workers / 1 worker on one CPU  = {_spread([a / b for a, b in zip(pinned, two, strict=True)])}")
    for name in variants:
        cores = [c / w for c, w in zip(cpu_seconds[name], times[name], strict=True)]
        print(f"  {name}: {_spread(cores)} cores busy on average (CPU seconds / wall seconds)")
    ratio = [b / a for a, b in zip(times["jaxpr,stablehlo"], times["template baseline"], strict=True)]
    print(f"  --emit jaxpr,stablehlo vs template baseline (baseline/jaxsynth) = {_spread(ratio)}")
    for name, values in times.items():
        print(f"  {name}: {_spread(values)} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("fast", "full", "scaling", "process", "all"))
    ap.add_argument("-n", type=int, default=None, help="functions (records) per comparison")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--config", default="default")
    ap.add_argument("--emit", default="jaxpr,stablehlo,optimized_hlo", help="IR kinds for 'scaling'")
    args = ap.parse_args(argv)
    _setup()
    if args.what in ("fast", "all"):
        bench_fast(args.n or 400, args.repeats, args.config)
    if args.what in ("full", "all"):
        bench_full(args.n or 120, args.repeats, args.config)
    if args.what in ("scaling", "all"):
        bench_scaling(args.n or 300, args.repeats, args.config, args.emit)
    if args.what in ("process", "all"):
        bench_process(args.n or 600, args.repeats, args.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
