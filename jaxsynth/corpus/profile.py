"""Per-stage timing summary of a generation run (``jaxsynth generate --profile``).

Workers time each record's stages (``make_record(..., timings=...)`` and
``lower(..., timings=...)``) and send them with the record; the writer adds its own stages. The
summary shows where the time goes, per record and as a share of all worker time.
"""

from __future__ import annotations

__all__ = ["STAGES", "Profile"]

#: Stages in pipeline order, with what each covers.
STAGES: dict[str, str] = {
    "sample": "sample the typed DAG",
    "render": "render Python with libcst",
    "exec": "compile + exec the rendered source",
    "trace": "jax.jit(fn).trace",
    "jaxpr": "print the JAXPR",
    "lower": "lower to StableHLO (MLIR)",
    "stablehlo": "print + normalize StableHLO",
    "hlo": "print + normalize HLO",
    "compile": "XLA compile (HLO passes + CPU codegen)",
    "optimized_hlo": "print + normalize optimized HLO",
    "record": "transforms, features, graph hash, Struct",
    "encode": "encode JSON / msgpack",
    "clear_caches": "periodic jax.clear_caches()",
}
#: Stages the writing process spends (not part of worker time).
WRITER_STAGES: dict[str, str] = {
    "write": "append to the output file (+ dedup check)",
    "wait": "writer idle, waiting for workers",
}


class Profile:
    """Seconds per stage summed over records."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.records = 0

    def add(self, timings: dict[str, float] | None) -> None:
        if not timings:
            return
        self.records += 1
        for stage, seconds in timings.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def add_writer(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def table(self) -> str:
        """A plain-text table: stage, total seconds, ms per record, share of worker time."""
        worker = {k: v for k, v in self.seconds.items() if k not in WRITER_STAGES}
        total = sum(worker.values()) or 1.0
        n = max(1, self.records)
        order = [s for s in STAGES if s in worker] + sorted(set(worker) - set(STAGES))
        lines = [f"profile over {self.records} records (worker time per stage):"]
        lines.append(f"  {'stage':<14} {'total s':>9} {'ms/record':>10} {'share':>7}  what")
        for stage in order:
            seconds = worker[stage]
            lines.append(
                f"  {stage:<14} {seconds:9.2f} {1e3 * seconds / n:10.2f} {100 * seconds / total:6.1f}%"
                f"  {STAGES.get(stage, '')}"
            )
        lines.append(f"  {'all':<14} {total:9.2f} {1e3 * total / n:10.2f} {100.0:6.1f}%")
        for stage, what in WRITER_STAGES.items():
            if stage in self.seconds:
                lines.append(f"  writer {stage:<7} {self.seconds[stage]:9.2f} s  {what}")
        return "\n".join(lines)
