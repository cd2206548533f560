"""One record from ``(config, seed, index, emit)``: sample, render, execute the rendered source, lower.

Pure in the sense of the determinism contract: the same inputs give a byte-identical encoded record
in any process, whatever ran in that process before (x64 mode is scoped to the one record).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable

import jax

import jaxsynth
from jaxsynth.corpus.record import SCHEMA_VERSION, Features, Record, Toolchain, encode_record
from jaxsynth.grammar import REGISTRY, GrammarConfig
from jaxsynth.lowering import DEFAULT_EMIT, lower, parse_emit
from jaxsynth.synth import Program, depth, node_count, render, sample, structural_hash

__all__ = ["build_function", "encode_record", "features_of", "make_record", "record_id", "toolchain"]


def record_id(config_digest: str, seed: int, index: int) -> str:
    """The stable id of record ``index`` of the corpus ``(config, seed)``."""
    return f"{config_digest}-{seed}-{index}"


@functools.cache
def toolchain() -> Toolchain:
    """Versions of this process's toolchain (initializes the JAX backend on first call)."""
    import jaxlib

    return Toolchain(
        jax=jax.__version__,
        jaxlib=jaxlib.__version__,
        backend=jax.default_backend(),
        jaxsynth=jaxsynth.__version__,
    )


def build_function(source: str, name: str) -> Callable:
    """Execute generated ``source`` in a fresh namespace and return its function ``name``.

    Only for source this package generated itself; corpus readers never call it.
    """
    namespace: dict[str, object] = {"__name__": "jaxsynth_generated"}
    exec(compile(source, "<jaxsynth>", "exec"), namespace)  # noqa: S102 - our own rendered program
    fn = namespace.get(name)
    if not callable(fn):
        raise RuntimeError(f"rendered module defines no function {name!r}")
    return fn


def features_of(program: Program, source: str) -> Features:
    """Structural features of ``program`` (rendered as ``source``)."""
    ops = sorted(node.op for node in program.op_nodes())
    return Features(
        ops=ops,
        categories=sorted({REGISTRY[op].category for op in ops}),
        node_count=node_count(program),
        depth=depth(program),
        inputs=len(program.input_types),
        outputs=len(program.output_types),
        lines=len(source.splitlines()),
    )


def make_record(
    config: GrammarConfig, seed: int, index: int, emit: str | Iterable[str] = DEFAULT_EMIT
) -> Record:
    """Record ``index`` of the corpus ``(config, seed)`` with the IR kinds in ``emit``."""
    kinds = parse_emit(emit)
    program = sample(config, seed, index)
    source = render(program)
    fn = build_function(source, program.name)
    with jax.enable_x64(config.types.x64):
        arg_types = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in program.input_types]
        texts = lower(fn, arg_types, emit=kinds)
    ranges = [[float(r.lo), float(r.hi)] for r in program.input_ranges]
    if not all(math.isfinite(v) for pair in ranges for v in pair):
        raise ValueError(f"input ranges must be finite, got {ranges}")  # JSON has no inf/nan
    digest = config.digest
    return Record(
        schema_version=SCHEMA_VERSION,
        id=record_id(digest, seed, index),
        index=index,
        seed=seed,
        config_digest=digest,
        config_name=config.name,
        function_name=program.name,
        python=source,
        signature=[str(t) for t in program.input_types],
        output_types=[str(t) for t in program.output_types],
        input_ranges=ranges,
        jaxpr=texts.jaxpr,
        stablehlo=texts.stablehlo,
        optimized_hlo=texts.optimized_hlo,
        hlo=texts.hlo,
        features=features_of(program, source),
        graph_hash=structural_hash(program),
        toolchain=toolchain(),
    )
