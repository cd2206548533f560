"""One record from ``(config, seed, index, emit)``: sample, render, execute the rendered source, lower.

Pure in the sense of the determinism contract: the same inputs give a byte-identical encoded record
in any process, whatever ran in that process before (x64 mode is scoped to the one record).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable

import jax
import msgspec

import jaxsynth
from jaxsynth.corpus.record import SCHEMA_VERSION, Features, Record, Toolchain, encode_record
from jaxsynth.grammar import REGISTRY, GrammarConfig
from jaxsynth.lowering import DEFAULT_EMIT, lower, parse_emit
from jaxsynth.lowering.argtypes import parse_type
from jaxsynth.lowering.core import StageClock
from jaxsynth.lowering.core import grad_jaxpr as lowering_grad_jaxpr
from jaxsynth.lowering.core import vmap_jaxpr as lowering_vmap_jaxpr
from jaxsynth.synth import Program, depth, hash_and_depth, node_count, render, sample

__all__ = [
    "build_function",
    "encode_record",
    "features_of",
    "grad_jaxpr",
    "make_record",
    "record_id",
    "toolchain",
    "vmap_jaxpr",
]


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


def features_of(program: Program, source: str, program_depth: int | None = None) -> Features:
    """Structural features of ``program`` (rendered as ``source``; ``program_depth`` if already known)."""
    ops = sorted(node.op for node in program.op_nodes())
    return Features(
        ops=ops,
        categories=sorted({REGISTRY[op].category for op in ops}),
        node_count=node_count(program),
        depth=depth(program) if program_depth is None else program_depth,
        inputs=len(program.input_types),
        outputs=len(program.output_types),
        lines=len(source.splitlines()),
    )


def grad_jaxpr(fn: Callable, program: Program, arg_types: list[jax.ShapeDtypeStruct]) -> str | None:
    """:func:`jaxsynth.lowering.grad_jaxpr` of ``fn``: the JAXPR of ``jax.grad`` of the float32 sum of
    the floating-point outputs w.r.t. the floating-point inputs; ``None`` when there are none, or when
    JAX refuses reverse mode: a ``lax.while_loop`` on the differentiated path, or a primitive with no
    differentiation rule (``nextafter``; only ops the table marks non-differentiable)."""
    try:
        return lowering_grad_jaxpr(fn, arg_types)
    except ValueError:
        if any(node.op == "while_loop" for node in program.op_nodes()):
            return None  # reverse-mode differentiation of while_loop is not defined
        raise
    except NotImplementedError:
        if any(not getattr(REGISTRY.get(node.op), "differentiable", True) for node in program.op_nodes()):
            return None
        raise


def vmap_jaxpr(fn: Callable, arg_types: list[jax.ShapeDtypeStruct], batch: int) -> str:
    """:func:`jaxsynth.lowering.vmap_jaxpr`: ``jax.vmap(fn)`` over a new leading axis of size ``batch``."""
    return lowering_vmap_jaxpr(fn, arg_types, batch)


def make_record(
    config: GrammarConfig,
    seed: int,
    index: int,
    emit: str | Iterable[str] = DEFAULT_EMIT,
    timings: dict[str, float] | None = None,
) -> Record:
    """Record ``index`` of the corpus ``(config, seed)`` with the IR kinds in ``emit``.

    If ``timings`` is given, seconds spent per stage are added to it: ``sample``, ``render``,
    ``exec`` and the stages of :func:`~jaxsynth.lowering.lower`.
    """
    kinds = parse_emit(emit)
    clock = StageClock(timings)
    program = sample(config, seed, index)
    clock.lap("sample")
    source = render(program)
    clock.lap("render")
    fn = build_function(source, program.name)
    clock.lap("exec")
    with jax.enable_x64(config.types.x64):
        arg_types = [parse_type(str(t)) for t in program.input_types]  # (key inputs are key-typed)
        texts = lower(fn, program.pack_inputs(arg_types, fn.__globals__), emit=kinds, timings=timings)
        transforms = config.transforms
        flat = program.flat_function(fn)
        grad = grad_jaxpr(flat, program, arg_types) if transforms.grad else None
        vmap = vmap_jaxpr(flat, arg_types, transforms.vmap_batch) if transforms.vmap else None
    ranges = [[float(r.lo), float(r.hi)] for r in program.input_ranges]
    if not all(math.isfinite(v) for pair in ranges for v in pair):
        raise ValueError(f"input ranges must be finite, got {ranges}")  # JSON has no inf/nan
    digest = config.digest
    graph_hash, program_depth = hash_and_depth(program)
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
        features=features_of(program, source, program_depth),
        graph_hash=graph_hash,
        toolchain=toolchain(),
        grad_jaxpr=grad,
        vmap_jaxpr=vmap,
        signature_tree=_tree_json(program.in_trees, program.input_types),
        output_tree=_tree_json(program.out_trees, program.output_types),
    )


def _tree_json(trees, types) -> str | None:
    if not trees:
        return None
    names = [str(t) for t in types]
    return msgspec.json.encode([t.describe(names) for t in trees]).decode()
