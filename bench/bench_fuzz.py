"""Fuzzing throughput: programs/s per worker of a campaign, and where a worker's time goes per oracle.

    python bench/bench_fuzz.py -n 200                    # per-oracle seconds/program, in one process
    python bench/bench_fuzz.py -n 500 --campaign -w 2    # a real campaign (isolated workers)
    python bench/bench_fuzz.py -n 200 --before-after     # the same programs, every oracle, sharing off vs on
    python bench/bench_fuzz.py -n 150 --campaign --before-after --before-tree ../old-checkout
    python bench/bench_fuzz.py -n 200 --before-after --oracles all,-eager   # what leaving oracles out buys

``--before`` turns off what the oracles of one program share and the work they skip because its answer is
known (``jaxsynth.fuzz.oracles.SHARE``: batches, per-example outputs and analyses, the jit(vmap) executable,
the program's lowering, a ``vmap(jit(f))`` that is the module ``jit(vmap(f))`` compiled), so each oracle
recomputes them; ``--before-after`` runs both, each in a fresh process (cold caches alike), and prints the
ratio. With ``--before-tree DIR`` the "before" side is another checkout of jaxsynth (imported from DIR, with
whatever it shares), on the same programs where the grammar has not changed between the two.

``xla_compile_share`` is the part of the run spent in XLA's backend compiles (``jax.monitoring``'s
``backend_compile_duration``), also per oracle: a worker's time is mostly XLA compiling the ~20 modules
of one program (eager's one-primitive executables among them), not jaxsynth's own work.

``seconds_per_program`` is each oracle's own time (``Case.seconds``, as a campaign's ``summary.json`` gives
it) and ``(shared)`` the program's jit, run and reference analysis, which every oracle compares against
(``Case.shared_seconds``). The compile figures are by the oracle that was running: ``reference``, which
runs first, carries the shared compile.
Eager execution compiles each primitive once per signature; its cost falls as the cache warms up, so
short runs overstate it.

Per worker means per core: pin the in-process run (``taskset -c 0 python bench/bench_fuzz.py ...``), as a
campaign's workers share the cores. Unpinned, one process runs XLA's compiles on a thread pool sized by the
machine and reports more than a campaign worker reaches. A program on which XLA aborts (a ``CHECK``: the
known partial-manual ``shard_map`` gather, say) is named in ``crashed_programs`` and left out of the figures;
the run goes on from the next program in a fresh process. ``--swarm`` draws the programs as ``jaxsynth fuzz``
does (swarm sub-grammars, large shapes at a low rate); ``slowest_programs`` names the five that took longest.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def per_oracle(config_name: str, n: int, seed: int, before: bool = False, swarm: bool = False,
               oracle_spec: str | None = None) -> dict:
    """Every oracle on programs ``0..n-1``, measured one after another in a child process (:func:`_measure`), so a
    compiler crash (XLA aborting on a ``CHECK``) does not take the run down: the crashing program is named in
    ``crashed_programs`` and left out of the figures, and a fresh child goes on from the next one."""
    import os
    import subprocess

    records: list[dict] = []
    crashed: list[int] = []
    start = 0
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "programs.jsonl"
        while start < n:
            command = [sys.executable, __file__, "--measure-from", str(start), "--measure-log", str(log),
                       "-n", str(n), "--config", config_name, "--seed", str(seed), *(["--before"] if before else []),
                       *(["--swarm"] if swarm else []), *([f"--oracles={oracle_spec}"] if oracle_spec else [])]
            done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  env=os.environ)
            records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            reached = max([start] + [record["index"] + 1 for record in records])
            if done.returncode > 0 or (done.returncode == 0 and reached < n):
                last = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
                raise SystemExit(f"bench_fuzz: the measuring process failed at program {reached}: {last[0]}")
            if done.returncode < 0:  # killed by a signal: XLA aborted (a CHECK) or crashed on this program
                crashed.append(reached)
            start = reached + 1 if done.returncode < 0 else n
    return _summary(config_name, n, swarm, before, oracle_spec, records, crashed)


def _measure(config_name: str, n: int, seed: int, start: int, log: Path, before: bool, swarm: bool,
             oracle_spec: str | None) -> None:
    """Programs ``start..n-1``, one line of ``log`` each as it finishes (its time, each oracle's own time and the
    XLA compiles made while it ran)."""
    import os

    from jaxsynth.fuzz.metamorphic import DEVICES
    from jaxsynth.lowering import configure_jax_for_workers

    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={DEVICES}"
    configure_jax_for_workers(1)
    from jaxsynth.fuzz import inject, oracles
    from jaxsynth.fuzz.campaign import inputs_for
    from jaxsynth.fuzz.oracles import ORACLES, Case, parse_oracles, run_oracles

    inject.install()  # test-only faults of JAXSYNTH_INJECT (a compiler crash, to test that the run survives one)
    oracles.SHARE = not before
    chosen = parse_oracles(oracle_spec)
    from jaxsynth.fuzz.swarm import program_for
    from jaxsynth.grammar import load_config

    config = load_config(config_name)
    compile_seconds: Counter[str] = Counter()  # XLA backend compiles (jax.monitoring), per oracle
    compiles: Counter[str] = Counter()
    running = [""]

    def on_event(event: str, duration: float, **_: object) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            compile_seconds[running[0]] += duration
            compiles[running[0]] += 1

    from jax import monitoring

    monitoring.register_event_duration_secs_listener(on_event)
    with log.open("a") as out:
        for index in range(start, n):
            began = time.perf_counter()
            compile_seconds.clear()
            compiles.clear()
            program, _ = program_for(config, seed, index, swarm)
            case = Case(program, inputs_for(program, seed, index), seed=index)
            applied = []
            for name in chosen:
                if not ORACLES[name].applies(program):
                    continue
                running[0] = name
                run_oracles(case, [name])
                applied.append(name)
            record = {"index": index, "seconds": time.perf_counter() - began, "applied": applied,
                      "oracle_seconds": {**case.seconds, "(shared)": case.shared_seconds},
                      "compile_seconds": dict(compile_seconds), "compiles": dict(compiles)}
            out.write(json.dumps(record) + "\n")
            out.flush()


def _summary(config_name: str, n: int, swarm: bool, before: bool, oracle_spec: str | None, records: list[dict],
             crashed: list[int]) -> dict:
    from jaxsynth.fuzz.oracles import parse_oracles

    seconds: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    compile_seconds: Counter[str] = Counter()
    compiles: Counter[str] = Counter()
    for record in records:
        seconds.update(record["oracle_seconds"])
        applied.update(record["applied"])
        compile_seconds.update(record["compile_seconds"])
        compiles.update(record["compiles"])
    measured = len(records)
    total = sum(record["seconds"] for record in records) or float("nan")
    per = max(measured, 1)
    slowest = sorted(records, key=lambda record: -record["seconds"])[:5]
    return {
        "mode": "in-process, before (sharing off)" if before else "in-process",
        "config": config_name,
        "swarm": swarm,
        "oracles": ",".join(parse_oracles(oracle_spec)),
        "programs": n,
        "programs_measured": measured,
        "crashed_programs": crashed,  # XLA took the process down on these: not in the figures
        "programs_per_second": round(measured / total, 3),
        "seconds_per_program": {k: round(v / per, 4) for k, v in seconds.most_common()},
        "xla_compile_share": round(sum(compile_seconds.values()) / total, 3),
        "xla_compiles_per_program": round(sum(compiles.values()) / per, 2),
        "xla_compile_seconds_per_program": {k: round(v / per, 4) for k, v in compile_seconds.most_common()},
        "xla_compiles_per_program_by_oracle": {k: round(v / per, 2) for k, v in compiles.most_common()},
        "applied": dict(applied),
        "slowest_programs": {record["index"]: round(record["seconds"], 2) for record in slowest},
    }


def campaign(config_name: str, n: int, seed: int, workers: int, swarm: bool = False) -> dict:
    from jaxsynth.fuzz import Settings, run_campaign
    from jaxsynth.grammar import load_config

    with tempfile.TemporaryDirectory() as out:
        summary = run_campaign(Settings(config=load_config(config_name), out=Path(out), seed=seed, count=n,
                                        workers=workers, reduce=False, verify=False, swarm=swarm))
    keys = ("programs_tested", "testing_seconds", "programs_per_second", "programs_per_second_per_worker",
            "findings", "crashes", "hangs", "skipped_discontinuous")
    return {"mode": "campaign", "config": config_name, "swarm": swarm, "workers": workers,
            **{k: summary[k] for k in keys}}


def before_after(config_name: str, n: int, seed: int, campaign_workers: int | None = None,
                 before_tree: str | None = None, swarm: bool = False, oracle_spec: str | None = None) -> dict:
    import os
    import subprocess

    results = {}
    common = ["-n", str(n), "--config", config_name, "--seed", str(seed), *(["--swarm"] if swarm else [])]
    if campaign_workers is not None:
        common += ["--campaign", "-w", str(campaign_workers)]
    for label in ("before", "after"):
        env = dict(os.environ)
        extra = []
        if label == "before" and before_tree is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(Path(before_tree).resolve()), env.get("PYTHONPATH", "")])
        elif label == "before":
            extra = ["--before"]
        if label == "after" and oracle_spec is not None:
            extra = [f"--oracles={oracle_spec}"]  # one argument: a spec may start with "-" ("-eager")
        done = subprocess.run([sys.executable, __file__, *common, *extra], capture_output=True, text=True, check=True,
                              env=env)
        results[label] = json.loads(done.stdout)
    key = "programs_per_second_per_worker" if campaign_workers is not None else "programs_per_second"
    ratio = results["after"][key] / results["before"][key]
    return {"config": config_name, "programs": n, "before_tree": before_tree,
            "ratio_after_over_before": round(ratio, 3), **results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--config", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--campaign", action="store_true", help="run a real campaign with isolated workers")
    parser.add_argument("-w", "--workers", type=int, default=1)
    parser.add_argument("--before", action="store_true", help="oracles share nothing (the 'before' figure)")
    parser.add_argument("--swarm", action="store_true",
                        help="programs from swarm sub-grammars, as `jaxsynth fuzz` draws them "
                             "(default: the config's own)")
    parser.add_argument("--before-after", action="store_true", help="before and after on the same programs")
    parser.add_argument("--before-tree", default=None, metavar="DIR",
                        help="with --before-after: the 'before' side is the jaxsynth checkout in DIR")
    parser.add_argument("--oracles", default=None, metavar="SPEC",
                        help="the oracles to run, as `jaxsynth fuzz --oracles` takes them (default: all); with "
                             "--before-after only the 'after' side's, so the ratio is what leaving some out buys")
    # internal: the measuring child of an in-process run (per_oracle)
    parser.add_argument("--measure-from", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--measure-log", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_log is not None:
        _measure(args.config, args.n, args.seed, args.measure_from, args.measure_log, args.before, args.swarm,
                 args.oracles)
        return
    if args.oracles is not None:
        from jaxsynth.fuzz.oracles import parse_oracles

        try:
            parse_oracles(args.oracles)
        except ValueError as exc:
            parser.error(str(exc))
    if args.campaign and args.oracles is not None:
        parser.error("--oracles is for the in-process runs; a campaign takes `jaxsynth fuzz --oracles`")
    if args.campaign and (args.before or (args.before_after and args.before_tree is None)):
        parser.error("a campaign's workers cannot turn sharing off: compare campaigns with --before-tree DIR")
    if args.before_after:
        result = before_after(args.config, args.n, args.seed, args.workers if args.campaign else None,
                              args.before_tree, args.swarm, args.oracles)
    elif args.campaign:
        result = campaign(args.config, args.n, args.seed, args.workers, args.swarm)
    else:
        result = per_oracle(args.config, args.n, args.seed, args.before, args.swarm, args.oracles)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
