"""Index generation: ``jnp.arange``, ``jnp.linspace``, ``jnp.logspace``, ``lax.iota``/``lax.broadcasted_iota``,
``jnp.eye``, ``jnp.tri``, ``jnp.tril``/``jnp.triu`` and ``jax.nn.one_hot``.

Generators take no operands (their sizes come from the wanted type) and always pass ``dtype=``, so
the result type does not depend on ``jax_enable_x64``. ``one_hot`` indices lie in ``[0, n)`` by
construction.
"""

from __future__ import annotations

import numpy as np

from jaxsynth.grammar.opspec import Context, Operand, OpSpec, Proposal, call, dtype_expr, literal, subscript
from jaxsynth.grammar.types import ALL, FLOATS, NUMERIC, DType, Interval, TensorType

GENERATED = NUMERIC - {DType.float64}


def _fits(t: TensorType, hi: float, lo: float = 0.0) -> bool:
    return t.dtype.bounds.lo <= lo and hi <= t.dtype.bounds.hi


# ---------------------------------------------------------------- arange / iota


def _propose_arange(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in GENERATED or t.rank != 1:
        return None
    start = ctx.draw.choice((0, 0, 1, -2)) if t.dtype.is_signed or t.dtype.is_float else 0
    if not _fits(t, start + t.shape[0] - 1, start):
        return None
    return Proposal((), {"start": start, "n": t.shape[0], "dtype": t.dtype})


def _arange_render(args, params):
    start, n, dtype = params["start"], params["n"], dtype_expr(params["dtype"])
    if start == 0:
        return call("jnp.arange", literal(n), dtype=dtype)
    return call("jnp.arange", literal(start), literal(start + n), dtype=dtype)


def _propose_linspace(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.linspace(start, stop, n)`` from 0 or 1 upward (no cancellation to a zero that rounding misses),
    now and then without its end point."""
    if t.dtype not in GENERATED & FLOATS or t.rank != 1 or t.shape[0] < 2:
        return None
    start = ctx.draw.choice((0.0, 0.0, 1.0))
    stop = start + ctx.draw.choice((1.0, 2.0, 10.0))
    return Proposal((), {"start": start, "stop": stop, "n": t.shape[0], "endpoint": not ctx.draw.bernoulli(0.2),
                         "dtype": t.dtype})


def _linspace_render(args, params):
    kwargs = {} if params["endpoint"] else {"endpoint": False}
    return call("jnp.linspace", literal(params["start"]), literal(params["stop"]), literal(params["n"]),
                **kwargs, dtype=dtype_expr(params["dtype"]))


def _propose_logspace(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.logspace(start, stop, n)``: ``base ** linspace(start, stop, n)``, a geometric grid (learning rates,
    frequency bands), base 10 (the default) or 2, from 10^-2 up to at most 10^2 (in float16's range)."""
    if t.dtype not in GENERATED & FLOATS or t.rank != 1 or t.shape[0] < 2:
        return None
    start = ctx.draw.choice((-2.0, -1.0, 0.0))
    stop = start + ctx.draw.choice((1.0, 2.0, 3.0)) if start < 0 else ctx.draw.choice((1.0, 2.0))
    return Proposal((), {"start": start, "stop": stop, "n": t.shape[0], "endpoint": not ctx.draw.bernoulli(0.2),
                         "base": ctx.draw.choice((10.0, 10.0, 2.0)), "dtype": t.dtype})


def _logspace_exponents(params) -> np.ndarray:
    return np.linspace(params["start"], params["stop"], params["n"], endpoint=params["endpoint"])


def _logspace_error(args, params, value):
    """``base ** u`` with ``u`` a rounded linspace: its error of a few ulps of ``|u|`` times ``log(base)``, and
    the power's own, relative to the result."""
    return np.abs(value) * (2.0 + np.abs(_logspace_exponents(params)) * np.log(params["base"]))


def _logspace_render(args, params):
    kwargs = {} if params["endpoint"] else {"endpoint": False}
    if params["base"] != 10.0:
        kwargs["base"] = params["base"]
    return call("jnp.logspace", literal(params["start"]), literal(params["stop"]), literal(params["n"]),
                **kwargs, dtype=dtype_expr(params["dtype"]))


def _propose_iota(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in GENERATED or t.rank == 0:
        return None
    dimension = ctx.draw.randint(0, t.rank - 1)
    if not _fits(t, t.shape[dimension] - 1):
        return None
    return Proposal((), {"shape": t.shape, "dimension": dimension, "dtype": t.dtype})


def _iota_reference(args, params) -> np.ndarray:
    shape, dim = params["shape"], params["dimension"]
    ramp = np.arange(shape[dim]).reshape([-1 if i == dim else 1 for i in range(len(shape))])
    return np.broadcast_to(ramp, shape)


def _iota_render(args, params):
    dtype, shape = dtype_expr(params["dtype"]), params["shape"]
    if len(shape) == 1:
        return call("lax.iota", dtype, literal(shape[0]))
    return call("lax.broadcasted_iota", dtype, literal(shape), literal(params["dimension"]))


# ---------------------------------------------------------------- eye / tri / tril / triu


def _propose_eye(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in GENERATED | {DType.bool} or t.rank != 2:
        return None
    return Proposal((), {"shape": t.shape, "k": ctx.draw.choice((0, 0, 1, -1)), "dtype": t.dtype})


def _matrix_render(name: str):
    def render(args, params):
        n, m = params["shape"]
        kwargs = {"k": params["k"]} if params["k"] else {}
        return call(name, literal(n), *([literal(m)] if m != n else []), **kwargs, dtype=dtype_expr(params["dtype"]))

    return render


def _propose_band(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in ALL or t.rank < 2:
        return None
    return Proposal((Operand(t),), {"k": ctx.draw.choice((0, 0, 1, -1))})


def _band_range(ins, types, out, params) -> Interval:
    zero = Interval(0, 0)
    return ins[0].hull(zero)


def _band_render(name: str):
    return lambda args, params: call(name, args[0], **({"k": params["k"]} if params["k"] else {}))


# ---------------------------------------------------------------- one_hot


def _propose_one_hot(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in GENERATED | {DType.bool} or t.rank == 0:
        return None
    n = t.shape[-1]
    index = TensorType(DType.int32, t.shape[:-1])
    return Proposal((Operand(index, Interval(0, n - 1)),), {"num_classes": n, "dtype": t.dtype})


def _one_hot_type(types, params) -> TensorType:
    if types[0].dtype not in (DType.int32, DType.int8, DType.uint8, DType.uint32):
        raise TypeError(f"one_hot: indices must be integers, got {types[0]}")
    return TensorType(params["dtype"], types[0].shape + (params["num_classes"],))


def _one_hot_range(ins, types, out, params) -> Interval | None:
    return Interval(0, 1) if ins[0].within(Interval(0, params["num_classes"] - 1)) else None


def _one_hot_reference(args, params) -> np.ndarray:
    x = np.asarray(args[0]).astype(np.int64)
    return (x[..., None] == np.arange(params["num_classes"])).astype(np.float64)


def _generator(name, propose, type_rule, range_rule, reference, render, dtypes=GENERATED):
    return OpSpec(name, "index", name, dtypes, propose, type_rule, range_rule, reference, render)


def _shape_type(types, params) -> TensorType:
    return TensorType(params["dtype"], params["shape"])


def _flat_indices(shape: tuple[int, ...]) -> Interval:
    """The in-bounds flat indices into an array of ``shape``."""
    return Interval(0, int(np.prod(shape)) - 1)


def _propose_unravel_index(t, ctx):
    """``jnp.unravel_index(i, shape)[k]``: the ``k``-th coordinate of flat indices into an array of ``shape`` (an
    argmax of a flattened image back to its row or column); in bounds (numpy raises on others, JAX clamps)."""
    if t.dtype is not DType.int32:
        return None
    shape = tuple(ctx.draw.randint(2, 8) for _ in range(ctx.draw.randint(2, 3)))
    return Proposal((Operand(t, _flat_indices(shape)),),
                    {"shape": shape, "k": ctx.draw.randint(0, len(shape) - 1)})


def _unravel_index_type(types, params) -> TensorType:
    if types[0].dtype is not DType.int32:
        raise TypeError(f"unravel_index: flat indices must be int32, got {types[0]}")
    return types[0]


def _unravel_index_range(ins, types, out, params) -> Interval | None:
    inside = ins[0].within(_flat_indices(params["shape"]))
    return Interval(0, params["shape"][params["k"]] - 1) if inside else None


def _unravel_index_render(args, params):
    whole = call("jnp.unravel_index", args[0], literal(params["shape"]))
    return subscript(whole, params["k"])


INDEX_OPS = (
    _generator("arange", _propose_arange, lambda t, p: TensorType(p["dtype"], (p["n"],)),
               lambda i, t, o, p: Interval(p["start"], p["start"] + p["n"] - 1),
               lambda a, p: np.arange(p["start"], p["start"] + p["n"]), _arange_render),
    _generator("linspace", _propose_linspace, lambda t, p: TensorType(p["dtype"], (p["n"],)),
               lambda i, t, o, p: Interval(p["start"], p["stop"]),
               lambda a, p: np.linspace(p["start"], p["stop"], p["n"], endpoint=p["endpoint"]), _linspace_render,
               GENERATED & FLOATS),
    OpSpec("logspace", "index", "logspace", GENERATED & FLOATS, _propose_logspace,
           lambda t, p: TensorType(p["dtype"], (p["n"],)),
           lambda i, t, o, p: Interval(p["base"] ** p["start"], p["base"] ** p["stop"]),
           lambda a, p: np.power(p["base"], _logspace_exponents(p)), _logspace_render, error_scale=_logspace_error),
    _generator("iota", _propose_iota, _shape_type,
               lambda i, t, o, p: Interval(0, p["shape"][p["dimension"]] - 1), _iota_reference, _iota_render),
    _generator("eye", _propose_eye, _shape_type, lambda i, t, o, p: Interval(0, 1),
               lambda a, p: np.eye(*p["shape"], k=p["k"]), _matrix_render("jnp.eye"), GENERATED | {DType.bool}),
    _generator("tri", _propose_eye, _shape_type, lambda i, t, o, p: Interval(0, 1),
               lambda a, p: np.tri(*p["shape"], k=p["k"]), _matrix_render("jnp.tri"), GENERATED | {DType.bool}),
    OpSpec("tril", "index", "band", ALL, _propose_band, lambda t, p: t[0], _band_range,
           lambda a, p: np.tril(a[0], k=p["k"]), _band_render("jnp.tril")),
    OpSpec("triu", "index", "band", ALL, _propose_band, lambda t, p: t[0], _band_range,
           lambda a, p: np.triu(a[0], k=p["k"]), _band_render("jnp.triu")),
    OpSpec("unravel_index", "index", "unravel_index", frozenset({DType.int32}), _propose_unravel_index,
           _unravel_index_type, _unravel_index_range,
           lambda a, p: np.unravel_index(np.asarray(a[0]), p["shape"])[p["k"]].astype(np.int32),
           _unravel_index_render, differentiable=False, weight=0.5),
    OpSpec("one_hot", "index", "one_hot", frozenset({DType.int32}), _propose_one_hot, _one_hot_type, _one_hot_range,
           _one_hot_reference,
           lambda a, p: call("jax.nn.one_hot", a[0], literal(p["num_classes"]), dtype=dtype_expr(p["dtype"]))),
)
