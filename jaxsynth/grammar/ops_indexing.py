"""Dynamic indexing: traced start indices, gathers and scatters.

Every index is an int32 value computed in the program. Under x64 a Python integer is int64, and
``lax.dynamic_slice`` wants start indices of one type, so x64 programs slice one axis with the ``*_in_dim``
forms (which build the other starts in the index's own type). Its operand carries a ``need`` interval, so
the sampler only builds index values that are in bounds by construction, and every range rule here
re-checks the index intervals (it returns ``None`` when they could leave the axis). Duplicate indices
only reach the order-independent scatter combiners (add, multiply, min, max); ``.at[...].set`` takes a
single traced index or a constant list of distinct indices. ``x[jnp.triu_indices(n, k, m)]`` and its
``tril`` twin gather at constant indices (a matrix's triangle as a vector).
"""

from __future__ import annotations

import functools
import math

import libcst as cst
import numpy as np

from jaxsynth.grammar.ops_tensor import _power_bound
from jaxsynth.grammar.opspec import (
    Context,
    Operand,
    OpSpec,
    Proposal,
    array_literal,
    atom,
    attribute,
    call,
    literal,
    method,
)
from jaxsynth.grammar.types import ALL, DISCRETE, FLOATS, NUMERIC, DType, Interval, TensorType

INDEX = DType.int32
MAX_INDEX_RANK = 3  # rank of the indexed operand


def index_operand(size: int, shape: tuple[int, ...] = ()) -> Operand:
    """An int32 operand of ``shape`` whose values lie in ``[0, size - 1]`` (a literal allowed for scalars)."""
    return Operand(TensorType(INDEX, shape), Interval(0, size - 1), "either" if not shape else "array")


def in_bounds(index: Interval, size: int) -> bool:
    return 0 <= index.lo and index.hi <= size - 1


def _check_index(t: TensorType, shape: tuple[int, ...] | None = None) -> None:
    if t.dtype is not INDEX or (shape is not None and t.shape != shape):
        raise TypeError(f"index must be {INDEX.short}{list(shape or ())}, got {t}")


def _subscript(obj: cst.BaseExpression, axis: int, index: cst.BaseExpression) -> cst.Subscript:
    """``obj[:, ..., index]`` with ``axis`` leading full slices."""
    elements = [cst.SubscriptElement(cst.Slice(lower=None, upper=None)) for _ in range(axis)]
    elements.append(cst.SubscriptElement(cst.Index(index)))
    return cst.Subscript(value=obj, slice=elements)


def _take_index(axis: int, index) -> tuple:
    return (slice(None),) * axis + (index,)


# ---------------------------------------------------------------- dynamic slices


def _propose_dynamic_slice(t: TensorType, ctx: Context) -> Proposal | None:
    if t.rank == 0 or t.rank > MAX_INDEX_RANK:
        return None
    extras = [ctx.draw.randint(0, 3) if ctx.draw.bernoulli(0.6) else 0 for _ in t.shape]
    if not any(extras) or ctx.x64:
        extras = [0] * t.rank
        extras[ctx.draw.randint(0, t.rank - 1)] = ctx.draw.randint(1, 3)
    x = t.with_shape(tuple(d + e for d, e in zip(t.shape, extras, strict=True)))
    axes = tuple(i for i, e in enumerate(extras) if e)
    style = "in_dim" if ctx.x64 or (len(axes) == 1 and ctx.draw.bernoulli(0.3)) else "full"
    operands = (Operand(x),) + tuple(index_operand(extras[i] + 1) for i in axes)
    return Proposal(operands, {"axes": axes, "sizes": t.shape, "style": style})


def _dynamic_slice_type(types, params):
    x, *indices = types
    if len(indices) != len(params["axes"]) or len(params["sizes"]) != x.rank:
        raise TypeError("dynamic_slice: one index per sliced axis")
    for index in indices:
        _check_index(index, ())
    if any(s > d for s, d in zip(params["sizes"], x.shape, strict=True)):
        raise TypeError("dynamic_slice: slice larger than the operand")
    return x.with_shape(params["sizes"])


def _starts_in_bounds(ins, limits, axes) -> bool:
    return all(in_bounds(ins[k], limits[a] + 1) for k, a in enumerate(axes))


def _dynamic_slice_range(ins, types, out, params):
    limits = [d - s for d, s in zip(types[0].shape, params["sizes"], strict=True)]
    return ins[0] if _starts_in_bounds(ins[1:], limits, params["axes"]) else None


def _starts(args, shape, sizes, axes) -> list[int]:
    """Start indices as XLA applies them: clamped so the window stays inside the operand."""
    starts = [0] * len(shape)
    for axis, index in zip(axes, args, strict=True):
        starts[axis] = int(np.clip(int(index), 0, shape[axis] - sizes[axis]))
    return starts


def _dynamic_slice_reference(args, params):
    x = args[0]
    starts = _starts(args[1:], x.shape, params["sizes"], params["axes"])
    return x[tuple(slice(s, s + n) for s, n in zip(starts, params["sizes"], strict=True))]


def _start_tuple(args, rank, axes, typed: bool = False) -> cst.BaseExpression:
    """``(i0, 0, i1)``: a traced start on the sliced axes, 0 elsewhere (a 1-tuple keeps its comma).

    ``typed`` (set by the grad oracle's x64 twin, never by the sampler) casts every start to int32, as in
    ``(jnp.int32(i0), jnp.int32(0))``: under x64 a Python integer start is int64 and a traced one int32,
    and ``lax.dynamic_slice`` rejects a mix."""
    items = dict(zip(axes, args, strict=True))
    starts = [items.get(i, literal(0)) for i in range(rank)]
    if typed:
        starts = [call(f"jnp.{INDEX.jnp_name}", s) for s in starts]
    elements = [cst.Element(s) for s in starts]
    if rank == 1:
        elements[0] = elements[0].with_changes(comma=cst.Comma())
    return cst.Tuple(elements)


def _dynamic_slice_render(args, params):
    sizes, axes = params["sizes"], params["axes"]
    if params["style"] == "in_dim":
        (axis,) = axes
        return call("lax.dynamic_slice_in_dim", args[0], args[1], literal(sizes[axis]), axis=axis)
    starts = _start_tuple(args[1:], len(sizes), axes, params.get("typed_starts", False))
    return call("lax.dynamic_slice", args[0], starts, literal(tuple(sizes)))


def _propose_dynamic_update_slice(t: TensorType, ctx: Context) -> Proposal | None:
    if t.rank == 0 or t.rank > MAX_INDEX_RANK or max(t.shape) < 2:
        return None
    update = [ctx.draw.randint(1, d) for d in t.shape]
    if ctx.x64:
        update = list(t.shape)
    if all(u == d for u, d in zip(update, t.shape, strict=True)):
        axis = ctx.draw.choice([i for i, d in enumerate(t.shape) if d >= 2])
        update[axis] = ctx.draw.randint(1, t.shape[axis] - 1)
    axes = tuple(i for i, (u, d) in enumerate(zip(update, t.shape, strict=True)) if u < d)
    style = "in_dim" if ctx.x64 or (len(axes) == 1 and ctx.draw.bernoulli(0.3)) else "full"
    operands = (Operand(t), Operand(t.with_shape(tuple(update)))) + tuple(
        index_operand(t.shape[i] - update[i] + 1) for i in axes)
    return Proposal(operands, {"axes": axes, "style": style, "rank": t.rank})


def _dynamic_update_slice_type(types, params):
    x, u, *indices = types
    if u.dtype is not x.dtype or u.rank != x.rank or any(a > b for a, b in zip(u.shape, x.shape, strict=True)):
        raise TypeError(f"dynamic_update_slice: update {u} does not fit {x}")
    if len(indices) != len(params["axes"]):
        raise TypeError("dynamic_update_slice: one index per sliced axis")
    for index in indices:
        _check_index(index, ())
    return x


def _dynamic_update_slice_range(ins, types, out, params):
    limits = [d - u for d, u in zip(types[0].shape, types[1].shape, strict=True)]
    return ins[0].hull(ins[1]) if _starts_in_bounds(ins[2:], limits, params["axes"]) else None


def _dynamic_update_slice_reference(args, params):
    x, u = args[0], args[1]
    starts = _starts(args[2:], x.shape, u.shape, params["axes"])
    out = np.array(x, copy=True)
    out[tuple(slice(s, s + n) for s, n in zip(starts, u.shape, strict=True))] = u
    return out


def _dynamic_update_slice_render(args, params):
    axes = params["axes"]
    if params["style"] == "in_dim":
        return call("lax.dynamic_update_slice_in_dim", args[0], args[1], args[2], axis=axes[0])
    starts = _start_tuple(args[2:], params["rank"], axes, params.get("typed_starts", False))
    return call("lax.dynamic_update_slice", args[0], args[1], starts)


def _propose_index_in_dim(t: TensorType, ctx: Context) -> Proposal | None:
    if t.rank >= MAX_INDEX_RANK:
        return None
    n = ctx.pick_dim()
    ones = [i for i, d in enumerate(t.shape) if d == 1]
    if ones and ctx.draw.bernoulli(0.3):
        axis, keepdims = ctx.draw.choice(ones), True
        shape = t.shape[:axis] + (n,) + t.shape[axis + 1 :]
    else:
        axis, keepdims = ctx.draw.randint(0, t.rank), False
        shape = t.shape[:axis] + (n,) + t.shape[axis:]
    return Proposal((Operand(t.with_shape(shape)), index_operand(n)), {"axis": axis, "keepdims": keepdims})


def _index_in_dim_type(types, params):
    x, index = types
    _check_index(index, ())
    axis = params["axis"]
    if axis >= x.rank:
        raise TypeError("dynamic_index_in_dim: axis out of range")
    keep = (1,) if params["keepdims"] else ()
    return x.with_shape(x.shape[:axis] + keep + x.shape[axis + 1 :])


def _index_in_dim_range(ins, types, out, params):
    return ins[0] if in_bounds(ins[1], types[0].shape[params["axis"]]) else None


def _index_in_dim_reference(args, params):
    x, axis = args[0], params["axis"]
    index = int(np.clip(int(args[1]), 0, x.shape[axis] - 1))
    out = np.take(x, index, axis=axis)
    return np.expand_dims(out, axis) if params["keepdims"] else out


# ---------------------------------------------------------------- gathers


def _propose_gather(t: TensorType, ctx: Context) -> Proposal | None:
    """``x[idx]`` / ``x[:, idx]`` with an int32 index array of rank 1 or 2."""
    if t.rank == 0 or t.rank > MAX_INDEX_RANK:
        return None
    axis = ctx.draw.randint(0, min(1, t.rank - 1))
    index_rank = 2 if t.rank - axis >= 2 and ctx.draw.bernoulli(0.25) else 1
    n = ctx.pick_dim()
    x = t.with_shape(t.shape[:axis] + (n,) + t.shape[axis + index_rank :])
    mode = ctx.draw.choice(("clip", "fill", "promise_in_bounds"))
    return Proposal((Operand(x), index_operand(n, t.shape[axis : axis + index_rank])), {"axis": axis, "mode": mode})


def _gather_type(types, params):
    x, index = types
    _check_index(index)
    axis = params["axis"]
    if index.rank == 0 or axis >= x.rank:
        raise TypeError("gather: needs an index array and an axis of the operand")
    return x.with_shape(x.shape[:axis] + index.shape + x.shape[axis + 1 :])


def _gather_range(ins, types, out, params):
    return ins[0] if in_bounds(ins[1], types[0].shape[params["axis"]]) else None


def _gather_reference(args, params):
    return np.take(args[0], args[1].astype(np.int64), axis=params["axis"])


def _gather_render(args, params):
    """``x[idx]`` / ``x[:, idx]``; with ``style = "take"``, ``jnp.take(x, idx, axis=axis)`` (how flax's
    ``nn.Embed`` looks up its table; the proposals never set it, the embedding composite may)."""
    if params.get("style") == "take":
        return call("jnp.take", args[0], args[1], axis=params["axis"])
    return _subscript(atom(args[0]), params["axis"], args[1])


def _at(obj: cst.BaseExpression, axis: int, index: cst.BaseExpression) -> cst.Subscript:
    return _subscript(attribute(obj, "at"), axis, index)


def _mode(params) -> dict:
    return {"mode": cst.SimpleString(repr(params["mode"]))} if params.get("mode") else {}


def _propose_take_along_axis(t: TensorType, ctx: Context) -> Proposal | None:
    if t.rank == 0 or t.rank > MAX_INDEX_RANK:
        return None
    axis = ctx.draw.randint(0, t.rank - 1)
    n = ctx.pick_dim()
    x = t.with_shape(t.shape[:axis] + (n,) + t.shape[axis + 1 :])
    return Proposal((Operand(x), index_operand(n, t.shape)), {"axis": axis})


def _take_along_axis_type(types, params):
    x, index = types
    _check_index(index)
    axis = params["axis"]
    if index.rank != x.rank or any(a != b for i, (a, b) in enumerate(zip(x.shape, index.shape, strict=True))
                                   if i != axis):
        raise TypeError(f"take_along_axis: index {index} does not match operand {x}")
    return x.with_shape(index.shape)


def _take_along_axis_reference(args, params):
    return np.take_along_axis(args[0], args[1].astype(np.int64), axis=params["axis"])


# ---------------------------------------------------------------- scatters


def _propose_scatter(unique: bool):
    """``x.at[idx].<op>(u)`` on axis 0 or 1. ``unique``: one traced scalar index, or a constant list
    of distinct indices (for ``set``); otherwise a traced index array that may repeat."""

    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        if t.rank == 0 or t.rank > MAX_INDEX_RANK:
            return None
        axis = ctx.draw.randint(0, min(1, t.rank - 1))
        size = t.shape[axis]
        rest = t.shape[:axis] + t.shape[axis + 1 :]
        params: dict = {"axis": axis, "mode": ctx.draw.choice((None, None, "drop", "clip", "promise_in_bounds"))}
        if unique and ctx.draw.bernoulli(0.4):
            count = ctx.draw.randint(1, size)
            picks = sorted(range(size), key=lambda _: ctx.draw.random())[:count]
            params["indices"] = tuple(picks)
            index_ops: tuple[Operand, ...] = ()
            updated = t.shape[:axis] + (count,) + t.shape[axis + 1 :]
        elif unique or ctx.draw.bernoulli(0.3):
            params["count"] = 1
            index_ops = (index_operand(size),)
            updated = rest
        else:
            count = ctx.pick_dim()
            params["count"] = count
            index_ops = (index_operand(size, (count,)),)
            updated = t.shape[:axis] + (count,) + t.shape[axis + 1 :]
        if ctx.draw.bernoulli(0.25):
            update = Operand(t.with_shape(()), kind="either")
        else:
            update = Operand(t.with_shape(updated))
        return Proposal((Operand(t), update) + index_ops, params)

    return propose


def _scatter_type(types, params):
    x, u, *index = types
    axis = params["axis"]
    if u.dtype is not x.dtype or axis >= x.rank:
        raise TypeError(f"scatter: update {u} does not match operand {x}")
    if "indices" in params:
        if index:
            raise TypeError("scatter: constant indices take no index operand")
        count: tuple[int, ...] = (len(params["indices"]),)
    else:
        (index_type,) = index
        _check_index(index_type)
        count = index_type.shape
    updated = x.shape[:axis] + count + x.shape[axis + 1 :]
    if u.shape and u.shape != updated:
        raise TypeError(f"scatter: update {u} does not match the indexed shape {updated}")
    return x


def _shape(t) -> tuple[int, ...]:
    return t.shape if isinstance(t, TensorType) else tuple(t)


def _scatter_count(types, params) -> int:
    """How many updates can land on one element (the index count; 1 for distinct indices)."""
    return 1 if "indices" in params else max(1, math.prod(_shape(types[2])))


def _scatter_range(combine: str):
    def rule(ins, types, out, params):
        x, u = ins[0], ins[1]
        if "indices" not in params and not in_bounds(ins[2], types[0].shape[params["axis"]]):
            return None
        k = _scatter_count(types, params)
        if combine == "set":
            return x.hull(u)
        if combine == "add":
            return Interval(x.lo + k * min(u.lo, 0.0), x.hi + k * max(u.hi, 0.0))
        if combine == "min":
            return Interval(min(x.lo, u.lo), x.hi)
        if combine == "max":
            return Interval(x.lo, max(x.hi, u.hi))
        factor = _power_bound(u, k)  # multiply: 0..k factors from u land on one element
        if factor is None:
            return None
        factor = factor.hull(Interval(1.0, 1.0))
        return Interval.of(*(a * b for a in (x.lo, x.hi) for b in (factor.lo, factor.hi)))

    return rule


_UFUNCS = {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}


def _scatter_reference(combine: str):
    def reference(args, params):
        x, u = args[0], args[1]
        out = np.array(x, copy=True)
        axis = params["axis"]
        if "indices" in params:
            index = np.asarray(params["indices"], dtype=np.int64)
        else:
            index = np.asarray(args[2]).astype(np.int64)
        where = _take_index(axis, index)
        if combine == "set":
            out[where] = u
        else:
            _UFUNCS[combine].at(out, where, np.broadcast_to(u, out[where].shape).astype(out.dtype))
        return out

    return reference


def _scatter_render(combine: str):
    name = {"set": "set", "add": "add", "multiply": "multiply", "min": "min", "max": "max"}[combine]

    def render(args, params):
        if "indices" in params:
            index = array_literal(params["indices"])
        else:
            index = args[2]
        return method(_at(args[0], params["axis"], index), name, args[1], **_mode(params))

    return render


def _scatter_error(combine: str):
    """Repeated updates round once each: a sum of their magnitudes for add, k rounded products for multiply."""
    reference = _scatter_reference(combine)
    if combine == "add":
        # magnitudes of the operand and the updates; an index array stays as it is (-1 is not 1)
        return lambda args, params, value: reference([np.abs(a) for a in args[:2]] + list(args[2:]), params)
    if combine == "multiply":
        return lambda args, params, value: _scatter_count([np.shape(a) for a in args], params) * np.abs(value)
    return None


def _scatter(combine: str, family: str, dtypes, propose, differentiable: bool = True) -> OpSpec:
    return OpSpec(name=f"at_{combine}", category="indexing", family=family, dtypes=dtypes, propose=propose,
                  type_rule=_scatter_type, range_rule=_scatter_range(combine),
                  reference=_scatter_reference(combine), render=_scatter_render(combine),
                  differentiable=differentiable, error_scale=_scatter_error(combine))


_PROPOSE_COMBINE = _propose_scatter(unique=False)


def _numeric_only(propose):
    def wrapped(t, ctx):
        return propose(t, ctx) if t.dtype in NUMERIC else None

    return wrapped


_PROPOSE_COMBINE_NUMERIC = _numeric_only(_PROPOSE_COMBINE)


# ---------------------------------------------------------------- segment sums and bincount


def _propose_segment_sum(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.ops.segment_sum(data, ids, num_segments=n)``: rows of ``data`` added into the ``n`` rows of the
    result by an int32 id each, in [0, n - 1] (a segment no id names sums to 0)."""
    if t.dtype not in NUMERIC or t.rank == 0:
        return None
    rows = ctx.pick_dim()
    data = t.with_shape((rows,) + t.shape[1:])
    return Proposal((Operand(data), index_operand(t.shape[0], (rows,))), {"num_segments": t.shape[0]})


def _segment_sum_type(types, params):
    data, ids = types
    _check_index(ids, data.shape[:1])
    if data.rank == 0:
        raise TypeError("segment_sum: data must have a leading axis")
    return data.with_shape((params["num_segments"],) + data.shape[1:])


def _segment_sum_range(ins, types, out, params):
    data, ids = ins
    if not in_bounds(ids, params["num_segments"]):
        return None
    rows = types[0].shape[0]
    return Interval(min(0.0, rows * data.lo), max(0.0, rows * data.hi))


def _segment_sum_reference(args, params):
    """numpy's ``add.at``; an id outside [0, n) adds nowhere, as JAX drops it (only special values reach one)."""
    data, ids = np.asarray(args[0]), np.asarray(args[1]).astype(np.int64)
    out = np.zeros((params["num_segments"],) + data.shape[1:], dtype=data.dtype)
    kept = (ids >= 0) & (ids < params["num_segments"])
    np.add.at(out, ids[kept], data[kept])
    return out


def _segment_sum_error(args, params, value):
    """The magnitudes of the rows added into each segment, in any order."""
    return _segment_sum_reference([np.abs(args[0]), args[1]], params)


def _propose_bincount(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.bincount(x, length=n)`` of int32 values in [0, n - 1]: int32 counts; with float ``weights=`` of the
    same length, their sums per bin."""
    if t.rank != 1 or not (t.dtype is INDEX or t.dtype.is_float):
        return None
    count = ctx.pick_dim()
    values = index_operand(t.shape[0], (count,))
    if t.dtype is INDEX:
        return Proposal((values,), {"length": t.shape[0]})
    return Proposal((values, Operand(t.with_shape((count,)))), {"length": t.shape[0]})


def _bincount_type(types, params):
    _check_index(types[0])
    if types[0].rank != 1 or (len(types) == 2 and types[1].shape != types[0].shape):
        raise TypeError(f"bincount: operands {types} do not match")
    dtype = types[1].dtype if len(types) == 2 else INDEX
    return TensorType(dtype, (params["length"],))


def _bincount_range(ins, types, out, params):
    if not in_bounds(ins[0], params["length"]):
        return None
    n = types[0].shape[0]
    if len(ins) == 1:
        return Interval(0, n)
    return Interval(min(0.0, n * ins[1].lo), max(0.0, n * ins[1].hi))


def _bincount_reference(args, params):
    """numpy's ``bincount``; JAX counts a negative value in bin 0 and drops one past the last bin (only special
    values reach either)."""
    values = np.maximum(np.asarray(args[0]).astype(np.int64), 0)
    kept = values < params["length"]
    if len(args) == 1:
        return np.bincount(values[kept], minlength=params["length"]).astype(np.int32)
    weights = np.asarray(args[1])
    return np.bincount(values[kept], weights=weights[kept], minlength=params["length"]).astype(weights.dtype)


def _bincount_error(args, params, value):
    if len(args) == 1:
        return np.zeros(np.shape(value))
    return _bincount_reference([args[0], np.abs(args[1])], params)


def _bincount_render(args, params):
    if len(args) == 2:
        return call("jnp.bincount", args[0], weights=args[1], length=params["length"])
    return call("jnp.bincount", args[0], length=params["length"])


# ---------------------------------------------------------------- nonzero positions with a static size

#: Operands whose nonzero elements are positioned: integers and bools (a float's being exactly 0 would hang on the
#: rounding of everything before it).
NONZERO_SOURCES = DISCRETE


def _propose_nonzero(flat: bool):
    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        """``jnp.argwhere(x, size=k)`` (one row of ``x.ndim`` indices per element) or ``jnp.flatnonzero(x,
        size=k)`` (flat positions): the first ``k`` nonzero elements of ``x`` in row-major order, padded with 0
        or, now and then, ``fill_value=-1`` where there are fewer: the static-shape form jit needs (a cumulative
        sum and a scatter in the lowered program). int32 positions (int64 under x64: never sampled there)."""
        if t.dtype is not INDEX or ctx.x64 or t.rank != (1 if flat else 2) or (not flat and not 1 <= t.shape[1] <= 3):
            return None
        source = ctx.pick_dtype(NONZERO_SOURCES)
        if source is None:
            return None
        rank = ctx.draw.randint(1, 3) if flat else t.shape[1]
        shape = tuple(ctx.pick_dim() for _ in range(rank))
        return Proposal((Operand(TensorType(source, shape)),),
                        {"size": t.shape[0], "fill_value": -1 if ctx.draw.bernoulli(0.3) else 0})

    return propose


def _nonzero_type(flat: bool):
    def rule(types, params):
        (x,) = types
        if x.dtype not in NONZERO_SOURCES or x.rank == 0:
            raise TypeError(f"{'flatnonzero' if flat else 'argwhere'}: {x} is not an integer or bool array")
        return TensorType(INDEX, (params["size"],) if flat else (params["size"], x.rank))

    return rule


def _nonzero_range(flat: bool):
    def rule(ins, types, out, params):
        shape = types[0].shape
        last = math.prod(shape) - 1 if flat else max(shape) - 1
        return Interval(min(params["fill_value"], 0), max(last, 0))

    return rule


def _nonzero_reference(flat: bool):
    def reference(args, params):
        x, k = np.asarray(args[0]), params["size"]
        found = np.flatnonzero(x) if flat else np.argwhere(x)
        out = np.full((k,) if flat else (k, x.ndim), params["fill_value"], dtype=np.int32)
        out[: min(k, len(found))] = found[:k]
        return out

    return reference


def _nonzero_render(name: str):
    def render(args, params):
        if params["fill_value"]:
            return call(f"jnp.{name}", args[0], size=params["size"], fill_value=params["fill_value"])
        return call(f"jnp.{name}", args[0], size=params["size"])

    return render


def _nonzero(name: str, flat: bool) -> OpSpec:
    return OpSpec(name=name, category="indexing", family="nonzero", dtypes=NONZERO_SOURCES | {INDEX},
                  propose=_propose_nonzero(flat), type_rule=_nonzero_type(flat), range_rule=_nonzero_range(flat),
                  reference=_nonzero_reference(flat), render=_nonzero_render(name), differentiable=False,
                  weight=0.5)


#: Special-values ops: the references follow JAX on the integer extremes that mode feeds index operands too.
SEGMENT_OPS = (
    OpSpec(name="segment_sum", category="indexing", family="segment_sum", dtypes=NUMERIC,
           propose=_propose_segment_sum, type_rule=_segment_sum_type, range_rule=_segment_sum_range,
           reference=_segment_sum_reference,
           render=lambda a, p: call("jax.ops.segment_sum", a[0], a[1], num_segments=p["num_segments"]),
           error_scale=_segment_sum_error, special_values=True),
    # a float bin's value is a sum of weights; an int32 bin's a count (int64 under x64: never sampled there)
    OpSpec(name="bincount", category="indexing", family="bincount", dtypes=frozenset({INDEX}) | FLOATS,
           propose=_propose_bincount, type_rule=_bincount_type, range_rule=_bincount_range,
           reference=_bincount_reference, render=_bincount_render, error_scale=_bincount_error, weight=0.5,
           special_values=True),
)


# ---------------------------------------------------------------- triangle indices


def _triangle_count(lower: bool, n: int, k: int, m: int) -> int:
    """How many ``(i, j)`` of an ``n x m`` matrix have ``j - i >= k`` (``triu``) or ``j - i <= k`` (``tril``)."""
    return sum(max(0, min(m, i + k + 1)) if lower else max(0, m - max(0, i + k)) for i in range(n))


@functools.cache
def _triangle_shapes(lower: bool, length: int) -> tuple[tuple[int, int, int], ...]:
    """The ``(n, k, m)`` with sides of at most 8 (``k`` -1, 0 twice, or 1) whose triangle has ``length`` entries."""
    return tuple((n, k, m) for n in range(1, 9) for m in range(1, 9) for k in (-1, 0, 0, 1)
                 if _triangle_count(lower, n, k, m) == length)


def _propose_triangle(lower: bool):
    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        """``x[jnp.triu_indices(n, k, m)]`` (or ``tril``): the entries of a matrix on and above (below) its ``k``-th
        diagonal as a vector, the packed form of a symmetric matrix or of pairwise scores; a matrix whose count of
        such entries is the wanted length, drawn among those with sides of at most 8."""
        shapes = _triangle_shapes(lower, t.shape[0]) if t.rank == 1 else ()
        if not shapes:
            return None
        n, k, m = ctx.draw.choice(shapes)
        return Proposal((Operand(t.with_shape((n, m))),), {"n": n, "k": k, "m": m})

    return propose


def _triangle_type(lower: bool):
    def rule(types, params):
        (x,), n, k, m = types, params["n"], params["k"], params["m"]
        if x.shape != (n, m):
            raise TypeError(f"{'tril' if lower else 'triu'}_indices: {x} is not an {n}x{m} matrix")
        return x.with_shape((_triangle_count(lower, n, k, m),))

    return rule


def _triangle_reference(lower: bool):
    indices = np.tril_indices if lower else np.triu_indices

    def reference(args, params):
        return np.asarray(args[0])[indices(params["n"], params["k"], params["m"])]

    return reference


def _triangle_render(lower: bool):
    def render(args, params):
        kwargs = {} if params["k"] == 0 else {"k": params["k"]}
        if params["m"] != params["n"]:
            kwargs["m"] = params["m"]
        indices = call(f"jnp.{'tril' if lower else 'triu'}_indices", literal(params["n"]), **kwargs)
        return cst.Subscript(value=atom(args[0]), slice=[cst.SubscriptElement(cst.Index(indices))])

    return render


def _triangle(lower: bool) -> OpSpec:
    name = "tril_indices" if lower else "triu_indices"
    # a gather at constant indices: data movement, exact on every value
    return OpSpec(name=name, category="indexing", family=name, dtypes=ALL, propose=_propose_triangle(lower),
                  type_rule=_triangle_type(lower), range_rule=lambda ins, types, out, params: ins[0],
                  reference=_triangle_reference(lower), render=_triangle_render(lower), weight=0.5,
                  special_values=True)


INDEXING_OPS: tuple[OpSpec, ...] = (
    OpSpec(name="dynamic_slice", category="indexing", family="dynamic_slice", dtypes=ALL,
           propose=_propose_dynamic_slice, type_rule=_dynamic_slice_type, range_rule=_dynamic_slice_range,
           reference=_dynamic_slice_reference, render=_dynamic_slice_render),
    OpSpec(name="dynamic_update_slice", category="indexing", family="dynamic_update_slice", dtypes=ALL,
           propose=_propose_dynamic_update_slice, type_rule=_dynamic_update_slice_type,
           range_rule=_dynamic_update_slice_range, reference=_dynamic_update_slice_reference,
           render=_dynamic_update_slice_render),
    OpSpec(name="dynamic_index_in_dim", category="indexing", family="dynamic_index_in_dim", dtypes=ALL,
           propose=_propose_index_in_dim, type_rule=_index_in_dim_type, range_rule=_index_in_dim_range,
           reference=_index_in_dim_reference,
           render=lambda a, p: call("lax.dynamic_index_in_dim", a[0], a[1], axis=p["axis"], keepdims=p["keepdims"])),
    OpSpec(name="gather", category="indexing", family="gather", dtypes=ALL, propose=_propose_gather,
           type_rule=_gather_type, range_rule=_gather_range, reference=_gather_reference, render=_gather_render),
    OpSpec(name="at_get", category="indexing", family="gather", dtypes=ALL, propose=_propose_gather,
           type_rule=_gather_type, range_rule=_gather_range, reference=_gather_reference,
           render=lambda a, p: method(_at(a[0], p["axis"], a[1]), "get", **_mode(p))),
    OpSpec(name="take_along_axis", category="indexing", family="take_along_axis", dtypes=ALL,
           propose=_propose_take_along_axis, type_rule=_take_along_axis_type, range_rule=_gather_range,
           reference=_take_along_axis_reference,
           render=lambda a, p: call("jnp.take_along_axis", a[0], a[1], axis=p["axis"])),
    _scatter("set", "scatter_set", ALL, _propose_scatter(unique=True)),
    _scatter("add", "scatter", NUMERIC, _PROPOSE_COMBINE_NUMERIC),
    # JAX differentiates scatter-multiply only with unique_indices=True, which these indices are not.
    _scatter("multiply", "scatter", NUMERIC, _PROPOSE_COMBINE_NUMERIC, differentiable=False),
    _scatter("min", "scatter", NUMERIC, _PROPOSE_COMBINE_NUMERIC, differentiable=False),
    _scatter("max", "scatter", NUMERIC, _PROPOSE_COMBINE_NUMERIC, differentiable=False),
    _nonzero("argwhere", flat=False),
    _nonzero("flatnonzero", flat=True),
    _triangle(lower=False),
    _triangle(lower=True),
) + SEGMENT_OPS

