"""Sorting and scans: ``jnp.sort``/``argsort``, ``lax.top_k`` (and the values of ``lax.approx_max_k``/``approx_min_k``),
``lax.cummax``/``cummin``/``cumlogsumexp``
and ``lax.associative_scan`` with a sampled associative combiner.

Ties follow JAX's documented order: ``argsort(stable=True)`` keeps equal elements in index order and
``top_k`` puts the lower index first; ``-0.0`` and ``0.0`` compare equal (as in numpy).
"""

from __future__ import annotations

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
    available,
    call,
    dotted,
    dtype_expr,
    literal,
    subscript,
)
from jaxsynth.grammar.types import DISCRETE, FLOATS, NUMERIC, DType, Interval, TensorType

MAX_RANK = 3


def _same(ins, types, out, params) -> Interval:
    return ins[0]


def _propose_along_axis(dtypes: frozenset[DType], reverse: bool = False):
    """Same-shape ops along one axis (sort, cummax, ...)."""

    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        if t.rank == 0 or t.rank > MAX_RANK or t.dtype not in dtypes:
            return None
        params: dict = {"axis": ctx.draw.randint(0, t.rank - 1)}
        if reverse:
            params["reverse"] = ctx.draw.bernoulli(0.25)
        return Proposal((Operand(t),), params)

    return propose


def _flip_if(x: np.ndarray, params) -> np.ndarray:
    return np.flip(x, params["axis"]) if params.get("reverse") else x


def _accumulate(ufunc):
    def reference(args, params):
        axis = params["axis"]
        return _flip_if(ufunc.accumulate(_flip_if(args[0], params), axis=axis), params)

    return reference


def _render_cumulative(name: str):
    def render(args, params):
        kwargs = {"axis": params["axis"]}
        if params.get("reverse"):
            kwargs["reverse"] = True
        return call(name, args[0], **kwargs)

    return render


# ---------------------------------------------------------------- sort / argsort / top_k


def _propose_sort(t, ctx):
    proposal = _propose_along_axis(NUMERIC)(t, ctx)
    if proposal is not None:
        proposal.params["descending"] = ctx.draw.bernoulli(0.2)
    return proposal


def _sort_reference(args, params):
    out = np.sort(args[0], axis=params["axis"], kind="stable")
    return np.flip(out, params["axis"]) if params["descending"] else out


def _sort_render(args, params):
    kwargs: dict = {"axis": params["axis"]}
    if params["descending"]:
        kwargs["descending"] = True
    return call("jnp.sort", args[0], **kwargs)


def _propose_argsort(t, ctx):
    """int32 positions; never under x64, where ``argsort`` returns int64."""
    if t.dtype is not DType.int32 or t.rank == 0 or t.rank > MAX_RANK or ctx.x64:
        return None
    source = ctx.pick_dtype(NUMERIC)
    if source is None:
        return None
    return Proposal((Operand(t.with_dtype(source)),), {"axis": ctx.draw.randint(0, t.rank - 1)})


def _argsort_reference(args, params):
    return np.argsort(args[0], axis=params["axis"], kind="stable").astype(np.int32)


def _positions(ins, types, out, params) -> Interval:
    return Interval(0, types[0].shape[params["axis"]] - 1)


#: the first JAX whose ``lax.top_k`` takes an ``axis`` (a top_k along another axis than the last renders it)
_TOP_K_AXIS = (0, 8, 1)


def _propose_top_k(indices: bool):
    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        if t.rank == 0 or t.rank > MAX_RANK:
            return None
        if indices:
            if t.dtype is not DType.int32:
                return None
            source = ctx.pick_dtype(NUMERIC)
        else:
            source = t.dtype if t.dtype in NUMERIC else None
        if source is None:
            return None
        axis = t.rank - 1 if ctx.draw.bernoulli(0.7) else ctx.draw.randint(0, t.rank - 1)
        if not available(_TOP_K_AXIS):  # an older lax.top_k takes no axis: the last one only
            axis = t.rank - 1
        k = t.shape[axis]
        n = k + ctx.draw.randint(0, 4)
        if n < 1:
            return None
        shape = t.shape[:axis] + (n,) + t.shape[axis + 1 :]
        return Proposal((Operand(TensorType(source, shape)),), {"k": k, "axis": axis, "last": axis == t.rank - 1})

    return propose


def _top_k_type(indices: bool):
    def rule(types, params):
        (x,) = types
        axis, k = params["axis"], params["k"]
        if axis >= x.rank or k > x.shape[axis]:
            raise TypeError(f"top_k: k={k} larger than axis {axis} of {x}")
        shape = x.shape[:axis] + (k,) + x.shape[axis + 1 :]
        return TensorType(DType.int32 if indices else x.dtype, shape)

    return rule


def _top_k_reference(indices: bool):
    def reference(args, params):
        x, axis, k = args[0], params["axis"], params["k"]
        order = np.argsort(-x.astype(np.float64), axis=axis, kind="stable")  # ties: lower index first
        order = np.take(order, np.arange(k), axis=axis)
        return order.astype(np.int32) if indices else np.take_along_axis(x, order, axis=axis)

    return reference


def _top_k_render(indices: bool):
    def render(args, params):
        kwargs = {} if params["last"] else {"axis": params["axis"]}
        whole = call("lax.top_k", args[0], literal(params["k"]), **kwargs)
        return subscript(whole, 1 if indices else 0)

    return render


def _propose_approx_k(t: TensorType, ctx: Context) -> Proposal | None:
    """``lax.approx_max_k``/``approx_min_k``: a top-k of floats (nearest-neighbour search, beam pruning). The
    values only: XLA:CPU sorts exactly (``is_fallback``), but in no stable order, so tied indices are any of the
    tied elements', and ``-0.0`` and ``0.0`` tie (the values agree, their signs may not: no special values)."""
    return _propose_top_k(False)(t, ctx) if t.dtype in FLOATS else None


def _approx_min_k_reference(args, params):
    """``top_k``'s values of the negated operand, negated: the ``k`` smallest, in ascending order."""
    return -_top_k_reference(False)([-np.asarray(args[0], dtype=np.float64)], params)


def _approx_k_render(largest: bool):
    def render(args, params):
        kwargs = {} if params["last"] else {"reduction_dimension": params["axis"]}
        whole = call(f"lax.approx_{'max' if largest else 'min'}_k", args[0], literal(params["k"]), **kwargs)
        return subscript(whole, 0)

    return render


# ---------------------------------------------------------------- scans


def _cumlogsumexp_range(ins, types, out, params):
    n = types[0].shape[params["axis"]]
    return Interval(ins[0].lo, ins[0].hi + math.log(max(n, 1)))


#: associative_scan combiners: the function rendered, the numpy ufunc, and the dtypes it is sampled for.
#: max/min scans are taken on integers only (cummax/cummin cover floats), so float scans stay differentiable.
COMBINERS = {
    "add": ("jnp.add", np.add, NUMERIC),
    "multiply": ("jnp.multiply", np.multiply, NUMERIC),
    "maximum": ("jnp.maximum", np.maximum, NUMERIC - FLOATS),
    "minimum": ("jnp.minimum", np.minimum, NUMERIC - FLOATS),
}


def _propose_associative_scan(t, ctx):
    proposal = _propose_along_axis(NUMERIC, reverse=True)(t, ctx)
    if proposal is None:
        return None
    options = [name for name, (_, _, dtypes) in COMBINERS.items() if t.dtype in dtypes]
    proposal.params["fn"] = ctx.draw.choice(options)
    return proposal


def _associative_scan_range(ins, types, out, params):
    x, n, fn = ins[0], types[0].shape[params["axis"]], params["fn"]
    if fn == "add":
        return Interval(min(x.lo, n * x.lo), max(x.hi, n * x.hi))
    if fn == "multiply":
        return _power_bound(x, n) if n else x
    return x


def _associative_scan_reference(args, params):
    ufunc = COMBINERS[params["fn"]][1]
    return _accumulate(ufunc)(args, params)


def _associative_scan_error(args, params, value):
    if params["fn"] == "add":
        return _associative_scan_reference([np.abs(args[0])], params)
    return args[0].shape[params["axis"]] * np.abs(value)


def _associative_scan_render(args, params):
    kwargs: dict = {"axis": params["axis"]}
    if params.get("reverse"):
        kwargs["reverse"] = True
    return call("lax.associative_scan", dotted(COMBINERS[params["fn"]][0]), args[0], **kwargs)


# ---------------------------------------------------------------- searchsorted

#: ``jnp.searchsorted``'s algorithms (``method=``): a binary search in a ``scan`` (the default), the same loop
#: unrolled, a sort of the values with the boundaries, and one comparison of every value with every boundary.
SEARCH_METHODS = ("scan", "scan_unrolled", "sort", "compare_all")
#: The values ``searchsorted`` and ``digitize`` bucket (their operands' dtypes: the sampler checks operands
#: against an op's dtypes; ``{int32}``, their result's, had kept every float operand out since session 36).
BUCKETED = FLOATS | frozenset({DType.int32})


def _propose_searchsorted(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.searchsorted(jnp.array(bins), x)``: bucket ids (int32, also under x64) of ``x`` among 1-8 sorted
    boundaries (a binning, as quantizers and histograms write it). The boundaries are literals on a grid of a
    quarter of their scale, exact in every float dtype; integer ``x`` gets integer boundaries."""
    if t.dtype is not DType.int32 or t.rank > MAX_RANK:
        return None
    source = ctx.pick_dtype(BUCKETED)
    if source is None:
        return None
    scale = 1.0 if not source.is_float else ctx.draw.choice((0.25, 1.0, 4.0, 16.0))
    count = ctx.draw.randint(1, 8)
    if source.is_float:
        bins = sorted({ctx.draw.randint(-16, 16) * scale / 4 for _ in range(count)})
    else:
        bins = sorted({ctx.draw.randint(-8, 8) for _ in range(count)})
    method = "scan" if ctx.draw.bernoulli(0.6) else ctx.draw.choice(SEARCH_METHODS)
    return Proposal((Operand(t.with_dtype(source)),),
                    {"bins": tuple(bins), "side": "right" if ctx.draw.bernoulli(0.3) else "left", "method": method})


def _searchsorted_type(types, params):
    if types[0].dtype not in BUCKETED:
        raise TypeError(f"searchsorted: values of {types[0]} are not float or int32")
    return types[0].with_dtype(DType.int32)


def _searchsorted_reference(args, params):
    return np.searchsorted(np.asarray(params["bins"]), np.asarray(args[0]), side=params["side"]).astype(np.int32)


def _searchsorted_range(ins, types, out, params) -> Interval:
    bins = np.asarray(params["bins"])
    return Interval(*(float(np.searchsorted(bins, v, side=params["side"])) for v in (ins[0].lo, ins[0].hi)))


def _searchsorted_render(args, params):
    kwargs: dict = {}
    if params["side"] == "right":
        kwargs["side"] = cst.SimpleString("'right'")
    if params["method"] != "scan":
        kwargs["method"] = cst.SimpleString(repr(params["method"]))
    return call("jnp.searchsorted", array_literal(params["bins"]), args[0], **kwargs)


def _propose_digitize(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.digitize(x, jnp.array(bins))``: searchsorted's buckets as numpy's binning helper spells them,
    ``bins[i-1] <= x < bins[i]`` (searchsorted's ``side='right'``), or with ``right=True`` the other side."""
    proposal = _propose_searchsorted(t, ctx)
    if proposal is not None:
        del proposal.params["method"]
    return proposal


def _digitize_render(args, params):
    right = {"right": True} if params["side"] == "left" else {}
    return call("jnp.digitize", args[0], array_literal(params["bins"]), **right)


# ---------------------------------------------------------------- unique with a static size

#: ``jnp.unique``'s operands: integers and bools (which floats are equal would hang on their last bits).
UNIQUE_DTYPES = DISCRETE


def _propose_unique(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.unique(x, size=k)``: the distinct values of ``x`` (any shape, flattened), sorted, the first ``k`` of
    them, padded with the smallest (JAX's default ``fill_value``) or, now and then, a literal one where there are
    fewer: the static-shape form jit needs (a sort, a comparison with the neighbour, a cumulative sum and a
    scatter in the lowered program)."""
    if t.rank != 1 or t.dtype not in UNIQUE_DTYPES:
        return None
    shape = tuple(ctx.pick_dim() for _ in range(ctx.draw.randint(1, 2)))
    params: dict = {"size": t.shape[0]}
    if not t.dtype.is_bool and ctx.draw.bernoulli(0.3):
        bounds = t.dtype.bounds
        params["fill_value"] = ctx.draw.randint(max(-8, int(bounds.lo)), min(8, int(bounds.hi)))
    return Proposal((Operand(t.with_shape(shape)),), params)


def _unique_type(types, params):
    (x,) = types
    if x.dtype not in UNIQUE_DTYPES or x.rank == 0:
        raise TypeError(f"unique: {x} is not an integer or bool array")
    return x.with_shape((params["size"],))


def _unique_range(ins, types, out, params) -> Interval:
    if "fill_value" in params:
        return ins[0].hull(Interval(params["fill_value"], params["fill_value"]))
    return ins[0]


def _unique_reference(args, params):
    x, k = np.asarray(args[0]), params["size"]
    distinct = np.unique(x)[:k]
    fill = params.get("fill_value", distinct[0] if distinct.size else 0)
    return np.concatenate([distinct, np.full(k - distinct.size, fill, dtype=x.dtype)])


def _unique_render(args, params):
    if "fill_value" in params:
        return call("jnp.unique", args[0], size=params["size"], fill_value=params["fill_value"])
    return call("jnp.unique", args[0], size=params["size"])


# ---------------------------------------------------------------- interp


def _propose_interp(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.interp(x, jnp.array(xp), fp)``: piecewise-linear interpolation through 2-6 sorted points (a learning-rate
    schedule, a lookup table, a calibration curve). The points are literals on a quarter-grid of their scale (exact
    in every float dtype); the values literals too or, now and then, an array of the same length (a learned table).
    Outside the points the end values hold (numpy's default ``left`` and ``right``): continuous, with a kink at each
    point. Both literal arrays are in ``x``'s dtype (float32 arrays would promote a bfloat16 ``x``)."""
    if t.dtype not in FLOATS or t.rank > MAX_RANK:
        return None
    scale = ctx.draw.choice((0.25, 1.0, 4.0))
    xp = sorted({ctx.draw.randint(-16, 16) * scale / 4 for _ in range(ctx.draw.randint(2, 6))})
    if len(xp) < 2:
        xp.append(xp[0] + scale)
    params: dict = {"xp": tuple(xp), "dtype": t.dtype}
    operands = [Operand(t)]
    if ctx.draw.bernoulli(0.35):
        operands.append(Operand(t.with_shape((len(xp),))))
    else:
        params["fp"] = tuple(ctx.draw.randint(-8, 8) / 4 for _ in xp)
    return Proposal(tuple(operands), params)


def _interp_type(types, params):
    x = types[0]
    if x.dtype not in FLOATS or x.dtype is not params["dtype"]:
        raise TypeError(f"interp: {x} is not a float of {params['dtype'].name}")
    if (len(types) == 2) == ("fp" in params) or (len(types) == 2 and types[1] != x.with_shape((len(params["xp"]),))):
        raise TypeError(f"interp: values {types[1:]} do not fit {len(params['xp'])} points of {x.dtype.name}")
    return x


def _interp_values(args, params) -> np.ndarray:
    return np.asarray(args[1] if len(args) == 2 else params["fp"], dtype=np.float64)


def _interp_range(ins, types, out, params) -> Interval:
    if len(ins) == 2:
        return ins[1]
    return Interval(min(params["fp"]), max(params["fp"]))


def _interp_reference(args, params):
    return np.interp(args[0], np.asarray(params["xp"], dtype=np.float64), _interp_values(args, params))


def _interp_error(args, params, value):
    """``fp[i-1] + (x - xp[i-1]) / dx * df``: four roundings, each of the larger of the result and a segment's
    rise (where the result is small beside both of its ends)."""
    rise = np.max(np.abs(np.diff(_interp_values(args, params)))) if len(params["xp"]) > 1 else 0.0
    return 2.0 * np.abs(value) + 4.0 * rise


def _interp_render(args, params):
    points = array_literal(params["xp"], dtype=dtype_expr(params["dtype"]))
    values = args[1] if len(args) == 2 else array_literal(params["fp"], dtype=dtype_expr(params["dtype"]))
    return call("jnp.interp", args[0], points, values)


def _op(name, propose, type_rule, range_rule, reference, render, dtypes=NUMERIC, differentiable=True, family=None,
        error_scale=None):
    return OpSpec(name=name, category="sorting", family=family or name, dtypes=dtypes, propose=propose,
                  type_rule=type_rule, range_rule=range_rule, reference=reference, render=render,
                  differentiable=differentiable, error_scale=error_scale)


def _same_type(types, params):
    return types[0]


SORT_OPS: tuple[OpSpec, ...] = (
    # sort, top_k values, cummax and cummin are differentiable in JAX, but their gradient jumps where two
    # elements tie, which broadcast copies make common; the gradient oracle leaves them out.
    _op("sort", _propose_sort, _same_type, _same, _sort_reference, _sort_render, differentiable=False),
    _op("argsort", _propose_argsort, lambda t, p: t[0].with_dtype(DType.int32), _positions, _argsort_reference,
        lambda a, p: call("jnp.argsort", a[0], axis=p["axis"], stable=True), differentiable=False),
    _op("top_k", _propose_top_k(False), _top_k_type(False), _same, _top_k_reference(False), _top_k_render(False),
        differentiable=False),
    _op("top_k_indices", _propose_top_k(True), _top_k_type(True), _positions, _top_k_reference(True),
        _top_k_render(True), differentiable=False),
    _op("approx_max_k", _propose_approx_k, _top_k_type(False), _same, _top_k_reference(False),
        _approx_k_render(True), dtypes=FLOATS, differentiable=False, family="approx_k"),
    _op("approx_min_k", _propose_approx_k, _top_k_type(False), _same, _approx_min_k_reference,
        _approx_k_render(False), dtypes=FLOATS, differentiable=False, family="approx_k"),
    _op("cummax", _propose_along_axis(NUMERIC, reverse=True), _same_type, _same, _accumulate(np.maximum),
        _render_cumulative("lax.cummax"), differentiable=False, family="cumulative_extreme"),
    _op("cummin", _propose_along_axis(NUMERIC, reverse=True), _same_type, _same, _accumulate(np.minimum),
        _render_cumulative("lax.cummin"), differentiable=False, family="cumulative_extreme"),
    _op("cumlogsumexp", _propose_along_axis(FLOATS, reverse=True), _same_type, _cumlogsumexp_range,
        _accumulate(np.logaddexp), _render_cumulative("lax.cumlogsumexp"), dtypes=FLOATS),
    # a step function of its operand: a jump at each boundary (``tolerance.DISCONTINUOUS``)
    _op("searchsorted", _propose_searchsorted, _searchsorted_type, _searchsorted_range, _searchsorted_reference,
        _searchsorted_render, dtypes=BUCKETED, differentiable=False),
    _op("digitize", _propose_digitize, _searchsorted_type, _searchsorted_range, _searchsorted_reference,
        _digitize_render, dtypes=BUCKETED, differentiable=False),
    # piecewise linear in its operand: continuous, a kink at each point (``reference.KINKS``, the grad oracle's
    # ``_KINK``); linear in its values
    _op("interp", _propose_interp, _interp_type, _interp_range, _interp_reference, _interp_render, dtypes=FLOATS,
        error_scale=_interp_error),
    _op("unique", _propose_unique, _unique_type, _unique_range, _unique_reference, _unique_render,
        dtypes=UNIQUE_DTYPES, differentiable=False),
    _op("associative_scan", _propose_associative_scan, _same_type, _associative_scan_range,
        _associative_scan_reference, _associative_scan_render, error_scale=_associative_scan_error),
)
