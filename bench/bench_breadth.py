"""Before/after cost of the grammar's breadth (issue 10): sample+render programs/s and full records/s
of the same configs, measured on this checkout and on a git ref exported beside it.

    python bench/bench_breadth.py --before main [--configs default,elementwise,...] [-n 2000] [--records 200]

Each measurement runs in a fresh process with PYTHONPATH set to one tree, one worker, so the two
trees never share imports. Configs that exist in both trees are compared (by default every built-in
config of the older tree). Pin to one core for stable figures: ``taskset -c 0 python bench/...``.
More ops and categories make the sampler's per-config tables larger (built once per config) and
its draws slightly costlier; the jax.nn/special ops also lower to larger JAXPRs (custom_jvp_call),
so records/s may drop more than sample+render.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = """
import json, sys, time
from jaxsynth.grammar import load_config
from jaxsynth.synth import render, sample
config = load_config(sys.argv[1]); n = int(sys.argv[2])
sample(config, 0, 0)
start = time.perf_counter()
for i in range(n):
    render(sample(config, 0, i))
print(json.dumps({"programs_per_s": n / (time.perf_counter() - start)}))
"""

ROOT = Path(__file__).resolve().parent.parent


def _run(tree: Path, args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=str(tree), JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True, text=True,
                           cwd=tree).stdout


def sample_rate(tree: Path, config: str, n: int) -> float:
    return json.loads(_run(tree, ["-c", SAMPLE, config, str(n)]).strip().splitlines()[-1])["programs_per_s"]


def record_rate(tree: Path, config: str, n: int, emit: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        _run(tree, ["-c", "import sys; from jaxsynth.cli import main; sys.exit(main())", "generate", "--config",
                    config, "-n", str(n), "--workers", "1", "--emit", emit, "--no-progress", "-o",
                    str(Path(tmp) / "c.jsonl")])
        return n / (time.perf_counter() - start)  # includes process start and JAX import


def export(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git ref of the tree to compare against")
    parser.add_argument("--configs", default="", help="comma-separated; default: every built-in config of --before")
    parser.add_argument("-n", type=int, default=2000, help="programs for sample+render")
    parser.add_argument("--records", type=int, default=200, help="records for records/s (0: skip)")
    parser.add_argument("--emit", default="jaxpr,stablehlo,optimized_hlo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = export(args.before, Path(tmp))
        names = args.configs.split(",") if args.configs else sorted(p.stem for p in (before / "corpora").glob("*.toml"))
        print(f"{'config':<22}{'sample+render/s before':>24}{'after':>10}{'ratio':>8}"
              + (f"{'records/s before':>20}{'after':>10}{'ratio':>8}" if args.records else ""))
        for name in names:
            s0, s1 = sample_rate(before, name, args.n), sample_rate(ROOT, name, args.n)
            line = f"{name:<22}{s0:>24.0f}{s1:>10.0f}{s1 / s0:>8.2f}"
            if args.records:
                r0, r1 = (record_rate(t, name, args.records, args.emit) for t in (before, ROOT))
                line += f"{r0:>20.1f}{r1:>10.1f}{r1 / r0:>8.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
