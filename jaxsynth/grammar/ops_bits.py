"""Float and bit predicates and bit-level ops: ``jnp.isfinite/isnan/isinf``, ``jnp.nextafter``,
``lax.bitcast_convert_type`` (same-width pairs), ``lax.population_count``, ``lax.clz``,
``lax.shift_right_logical``; and two identities that a transformation or XLA reads: ``lax.stop_gradient`` and
``lax.optimization_barrier``.

On finite-by-construction values ``isfinite`` is always true and ``isnan``/``isinf`` always false, but they
are still real ops in a JAXPR. A float -> int bitcast yields the IEEE bit pattern (monotone in the value for
each sign) and takes only sign-definite floats away from zero, since the sign of a zero and the flushing of
subnormals may differ between XLA and numpy; an int -> float bitcast is only placed where the int's interval
holds the bit patterns of normal floats of moderate size, so its result is finite, normal and bounded.
"""

from __future__ import annotations

import math

import libcst as cst
import numpy as np

from jaxsynth.grammar.opspec import Context, Operand, OpSpec, Proposal, call, dtype_expr
from jaxsynth.grammar.types import FLOATS, INTS, NUMERIC, DType, Interval, TensorType, broadcast_shapes

BOOL = frozenset({DType.bool})


# ---------------------------------------------------------------- predicates


def _propose_predicate(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype is not DType.bool:
        return None
    source = ctx.pick_dtype(FLOATS)
    return None if source is None else Proposal((Operand(t.with_dtype(source)),))


def _predicate(name: str, reference) -> OpSpec:
    return OpSpec(name, "bits", "float_predicate", FLOATS, _propose_predicate,
                  lambda t, p: t[0].with_dtype(DType.bool), lambda i, t, o, p: Interval(0, 1),
                  lambda a, p: reference(a[0]), lambda a, p: call(f"jnp.{name}", a[0]), differentiable=False)


# ---------------------------------------------------------------- nextafter


def _propose_nextafter(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in FLOATS:
        return None
    part = t.with_shape(ctx.partner_shape(t.shape))
    return Proposal((Operand(t), Operand(part)), {"dtype": t.dtype})


def _nextafter_type(types, params) -> TensorType:
    shape = broadcast_shapes(types[0].shape, types[1].shape)
    if shape is None or types[0].dtype is not types[1].dtype or shape != types[0].shape:
        raise TypeError(f"nextafter: {types[1]} does not broadcast to {types[0]}")
    return types[0]


def _nextafter_range(ins, types, out, params) -> Interval:
    x, dtype = ins[0], types[0].dtype
    step = dtype.eps * x.mag + _tiny(dtype)  # one ulp at most
    return Interval(x.lo - step, x.hi + step)


def _tiny(dtype: DType) -> float:
    import ml_dtypes

    return float(ml_dtypes.finfo(dtype.np_dtype).smallest_subnormal)


def _nextafter_reference(args, params) -> np.ndarray:
    """One step in the operands' own dtype (a float64 step would be far smaller than XLA's)."""
    dt = params["dtype"].np_dtype
    return np.nextafter(np.asarray(args[0]).astype(dt), np.asarray(args[1]).astype(dt))


# ---------------------------------------------------------------- bitcast_convert_type

#: Same-width pairs (source, target) that a bitcast may join.
BITCAST_PAIRS = (
    (DType.float32, DType.int32),
    (DType.float32, DType.uint32),
    (DType.int32, DType.float32),
    (DType.uint32, DType.float32),
    (DType.int32, DType.uint32),
    (DType.uint32, DType.int32),
    (DType.int8, DType.uint8),
    (DType.uint8, DType.int8),
)
#: Int -> float bitcasts take bit patterns of floats with magnitude in [2**-8, 2**8].
FLOAT_BITS = Interval(float(np.float32(2.0**-8).view(np.int32)), float(np.float32(2.0**8).view(np.int32)))
SIGN32 = 2**31
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)
INF = math.inf


def _f32_bits(v: float) -> int:
    return int(np.float32(v).view(np.int32))


def _propose_bitcast(t: TensorType, ctx: Context) -> Proposal | None:
    sources = frozenset(s for s, target in BITCAST_PAIRS if target is t.dtype)
    source = ctx.pick_dtype(sources)
    if source is None:
        return None
    need = None
    if source.is_float:  # sign-definite: the bits of -0.0 and +0.0 (and of flushed subnormals) differ
        need = Interval(2.0**-8, INF) if ctx.draw.bernoulli(0.7) else Interval(-INF, -(2.0**-8))
    if t.dtype.is_float:
        need = FLOAT_BITS
        if source is DType.int32 and ctx.draw.bernoulli(0.3):  # negative floats: sign bit set
            need = Interval(FLOAT_BITS.lo - SIGN32, FLOAT_BITS.hi - SIGN32)
    return Proposal((Operand(t.with_dtype(source), need),), {"dtype": t.dtype})


def _bitcast_range(ins, types, out, params) -> Interval | None:
    x, source, target = ins[0], types[0].dtype, params["dtype"]
    if (source, target) not in BITCAST_PAIRS:
        return None
    if source.is_float:  # the bit pattern: monotone in |x| for each sign
        if x.mag > 3e38 or not x.excludes_zero(SMALLEST_NORMAL):
            return None  # a zero's sign (and a subnormal's flushing) is not specified across backends
        parts = []
        if x.hi >= 0:
            parts.append(Interval(_f32_bits(abs(max(x.lo, 0.0))), _f32_bits(x.hi)))
        if x.lo <= 0:  # (a zero may be -0.0, whose pattern has the sign bit set)
            offset = SIGN32 if target is DType.uint32 else -SIGN32
            parts.append(Interval(offset + _f32_bits(abs(min(x.hi, 0.0))), offset + _f32_bits(abs(x.lo))))
        result = parts[0]
        for p in parts[1:]:
            result = result.hull(p)
        return result
    if target.is_float:
        if x.within(FLOAT_BITS):
            return Interval(float(np.int32(int(x.lo)).view(np.float32)), float(np.int32(int(x.hi)).view(np.float32)))
        if source is DType.int32 and x.within(Interval(FLOAT_BITS.lo - SIGN32, FLOAT_BITS.hi - SIGN32)):
            # int32 -2**31 + b is the pattern of -float(b): a larger int is a larger magnitude
            big = float(np.int32(int(x.hi) + SIGN32).view(np.float32))
            small = float(np.int32(int(x.lo) + SIGN32).view(np.float32))
            return Interval(-big, -small)
        return None
    # int <-> uint of the same width: the same value if it fits, else shifted by 2**bits
    span = 2.0**source.bits
    if x.within(target.bounds):
        return x
    if x.hi < 0:
        return Interval(x.lo + span, x.hi + span)
    if x.lo > target.bounds.hi:
        return Interval(x.lo - span, x.hi - span)
    return target.bounds


def _bitcast_reference(args, params) -> np.ndarray:
    source = {np.dtype(np.float64): np.float32}.get(np.asarray(args[0]).dtype, np.asarray(args[0]).dtype)
    return np.asarray(args[0]).astype(source).view(params["dtype"].np_dtype)


def _bitcast_render(args, params):
    return call("lax.bitcast_convert_type", args[0], dtype_expr(params["dtype"]))


# ---------------------------------------------------------------- population_count, clz, logical shift


def _propose_int_unary(t: TensorType, ctx: Context) -> Proposal | None:
    return Proposal((Operand(t),)) if t.dtype in INTS else None


def _unsigned_view(x: np.ndarray) -> np.ndarray:
    return x.view(np.dtype(f"u{x.dtype.itemsize}"))


def popcount(x: np.ndarray) -> np.ndarray:
    """The set bits of each element, in ``x``'s dtype (two's complement for signed ints)."""
    u = _unsigned_view(np.array(x))
    counts = np.bitwise_count(u) if hasattr(np, "bitwise_count") else popcount_by_bytes(u)
    return counts.astype(x.dtype)


def popcount_by_bytes(u: np.ndarray) -> np.ndarray:
    """``np.bitwise_count`` of unsigned ``u`` for numpy < 2.0 (which JAX 0.4.26 needs): its bytes unpacked."""
    flat = np.ascontiguousarray(u).reshape(-1)
    return np.unpackbits(flat.view(np.uint8).reshape(flat.size, u.itemsize), axis=1).sum(axis=1).reshape(u.shape)


def _bit_length(v: float) -> int:
    return int(v).bit_length()


def _popcount_range(ins, types, out, params) -> Interval:
    x = ins[0]
    if x.lo >= 0:
        return Interval(0, _bit_length(x.hi))
    return Interval(0, types[0].dtype.bits)


def _clz_range(ins, types, out, params) -> Interval:
    x, bits = ins[0], types[0].dtype.bits
    if x.lo >= 0:
        return Interval(bits - _bit_length(x.hi), bits - _bit_length(x.lo))
    return Interval(0, bits if x.hi >= 0 else 0)  # negative values have the sign bit set


def _clz_reference(args, params) -> np.ndarray:
    x = _unsigned_view(np.array(args[0]))
    bits = x.dtype.itemsize * 8
    length = np.zeros(x.shape, dtype=np.int64)
    v = x.astype(np.uint64)
    for _ in range(bits):
        length += (v > 0).astype(np.int64)
        v = v >> np.uint64(1)
    return (bits - length).astype(args[0].dtype)


def _propose_shift_logical(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in INTS:
        return None
    return Proposal((Operand(t),), {"shift": ctx.draw.randint(1, min(t.dtype.bits - 1, 8)), "dtype": t.dtype})


def _shift_logical_range(ins, types, out, params) -> Interval:
    x, s, bits = ins[0], params["shift"], types[0].dtype.bits
    if x.lo >= 0:
        return Interval(math.floor(x.lo / 2**s), math.floor(x.hi / 2**s))
    top = (2**bits - 1) >> s  # negative inputs: the sign bit is shifted in as a plain bit
    return Interval(0, top)


def _shift_logical_reference(args, params) -> np.ndarray:
    x = np.array(args[0])
    return (_unsigned_view(x) >> np.asarray(params["shift"], dtype=_unsigned_view(x).dtype)).view(x.dtype)


def _shift_logical_render(args, params):
    shift = call(f"jnp.{params['dtype'].jnp_name}", cst.Integer(str(params["shift"])))
    return call("lax.shift_right_logical", args[0], shift)


BITS_OPS = (
    _predicate("isfinite", np.isfinite),
    _predicate("isnan", np.isnan),
    _predicate("isinf", np.isinf),
    OpSpec("nextafter", "bits", "nextafter", FLOATS, _propose_nextafter, _nextafter_type, _nextafter_range,
           _nextafter_reference, lambda a, p: call("jnp.nextafter", *a), differentiable=False),
    OpSpec("bitcast_convert_type", "bits", "bitcast", frozenset(d for pair in BITCAST_PAIRS for d in pair),
           _propose_bitcast, lambda t, p: t[0].with_dtype(p["dtype"]), _bitcast_range, _bitcast_reference,
           _bitcast_render, differentiable=False),
    OpSpec("population_count", "bits", "int_unary_bits", INTS, _propose_int_unary, lambda t, p: t[0], _popcount_range,
           lambda a, p: popcount(a[0]),
           lambda a, p: call("lax.population_count", a[0]),
           differentiable=False),
    OpSpec("clz", "bits", "int_unary_bits", INTS, _propose_int_unary, lambda t, p: t[0], _clz_range, _clz_reference,
           lambda a, p: call("lax.clz", a[0]), differentiable=False),
    OpSpec("shift_right_logical", "bits", "shift_right_logical", INTS, _propose_shift_logical, lambda t, p: t[0],
           _shift_logical_range, _shift_logical_reference, _shift_logical_render, differentiable=False),
)


# ---------------------------------------------------------------- stop_gradient


def _propose_stop_gradient(t: TensorType, ctx: Context) -> Proposal | None:
    return Proposal((Operand(t),)) if t.dtype in NUMERIC else None


GRADIENT_OPS = (
    # Not differentiable for the fuzzer: jax.grad sees 0 through it, finite differences do not.
    OpSpec("stop_gradient", "gradient", "stop_gradient", NUMERIC, _propose_stop_gradient, lambda t, p: t[0],
           lambda i, t, o, p: i[0], lambda a, p: a[0], lambda a, p: call("lax.stop_gradient", a[0]),
           differentiable=False),
    # The value unchanged; XLA may not fuse, CSE or move computations across it (rematerialization's tool, in
    # ``jax.checkpoint``'s lowering too). JAX 0.4.35 has the API without batching or differentiation rules; 0.5.0
    # batches it, 0.5.1 does not differentiate it, 0.5.3 does (0.5.2 has no jaxlib of its own to try).
    OpSpec("optimization_barrier", "transforms", "optimization_barrier", NUMERIC, _propose_stop_gradient,
           lambda t, p: t[0], lambda i, t, o, p: i[0], lambda a, p: a[0],
           lambda a, p: call("lax.optimization_barrier", a[0]), weight=0.5, since=(0, 5, 3)),
)
