"""Whole-tensor op families: reductions, vector / linear algebra and shape ops."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import libcst as cst
import numpy as np

from jaxsynth.grammar.opspec import (
    Context,
    Operand,
    OpSpec,
    Proposal,
    array_literal,
    atom,
    attribute,
    binop,
    call,
    dtype_expr,
    listed,
    literal,
    method,
)
from jaxsynth.grammar.types import ALL, FLOATS, INTS, NUMERIC, DType, Interval, TensorType

SUMMABLE = FLOATS | {DType.int32, DType.int8}
SIGNED_NUMERIC = FLOATS | {DType.int32, DType.int8}


def _same(ins, types, out, params) -> Interval:
    return ins[0]


def _hull_all(ins, types, out, params) -> Interval:
    result = ins[0]
    for x in ins[1:]:
        result = result.hull(x)
    return result


def _reduced_count(shape: tuple[int, ...], axis) -> int:
    return math.prod(shape) if axis is None else shape[axis]


def _power_bound(x: Interval, n: int) -> Interval | None:
    """Bound on a product of up to ``n`` factors from ``x`` (n >= 1), or None if it blows up."""
    if n * math.log2(max(x.mag, 2.0)) > 60:
        return None
    if x.lo >= 0:
        return Interval(min(x.lo, x.lo**n), max(x.hi, x.hi**n))
    m = max(x.mag, x.mag**n, 1.0)
    return Interval(-m, m)


# ---------------------------------------------------------------- reductions


#: Reductions of a row's spread about its mean (``ddof`` in their params, an error scale of their own); their
#: NaN-ignoring forms are the same on finite values (no special values: ``_reduction``).
SPREAD_REDUCTIONS = frozenset({"var", "std", "nanvar", "nanstd"})
#: The spreads that are a variance (the others are its square root).
VARIANCES = frozenset({"var", "nanvar"})
#: Order statistics: one element of each sorted row, or a weighted mean of two neighbours (``q`` and ``method``).
ORDER_STATISTICS = frozenset({"median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile"})
#: ``quantile``'s and ``percentile``'s levels (of 1 and of 100), and their interpolation methods (their
#: NaN-ignoring forms alike).
_LEVELS = {"quantile": (0.1, 0.25, 0.5, 0.75, 0.9), "percentile": (5.0, 25.0, 50.0, 90.0, 99.0)}
QUANTILES = _LEVELS | {f"nan{name}": levels for name, levels in _LEVELS.items()}
QUANTILE_METHODS = ("linear", "linear", "linear", "lower", "higher", "midpoint", "nearest")
#: NaN-ignoring reductions: on finite values the same as their plain forms, numpy's on NaN (a NaN is left out of
#: a sum and a product, and of their running forms, as 0 and 1).
NAN_REDUCTIONS = frozenset({"nansum", "nanmean", "nanmax", "nanmin", "nanvar", "nanstd", "nanprod", "nanmedian",
                            "nanquantile", "nanpercentile"})
#: The NaN-ignoring order statistics (numpy's references loop over rows where a NaN is).
NAN_ORDER_STATISTICS = NAN_REDUCTIONS & ORDER_STATISTICS
#: Reductions whose result is a product of up to the reduced count of factors.
PRODUCT_REDUCTIONS = frozenset({"prod", "nanprod", "cumprod", "nancumprod"})


#: Reductions left out of special values beside the spreads and order statistics: ``ptp``'s signed zeros,
#: ``nanargmax``'s and ``nanargmin``'s -1 for a row of NaNs only (numpy raises: a reference of its own to write).
NO_SPECIAL_REDUCTIONS = frozenset({"ptp", "nanargmax", "nanargmin"})
#: Reductions to the index of a row's largest or smallest element.
ARG_REDUCTIONS = frozenset({"argmax", "argmin", "nanargmax", "nanargmin"})


def _reduction_result_dtype(name: str, source: DType) -> DType:
    if name in ARG_REDUCTIONS:
        return DType.int32
    if name in ("any", "all"):
        return DType.bool
    if name == "mean":
        return source if source.is_float else DType.float32
    if name in ("sum", "prod", "nanprod"):
        return source if source.is_float else DType.int32
    if name == "count_nonzero":
        return DType.int32
    if name in ("cumsum", "cumprod"):
        return DType.int32 if source.is_bool else source
    return source  # max, min, var, std and the NaN-ignoring forms (of floats)


def _propose_reduction(name: str, sources: frozenset[DType], cumulative: bool = False):
    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        candidates = frozenset(d for d in sources if _reduction_result_dtype(name, d) is t.dtype)
        source = ctx.pick_dtype(candidates)
        if source is None:
            return None
        if cumulative:
            if t.rank == 0:
                return None
            return Proposal((Operand(TensorType(source, t.shape)),), {"axis": ctx.draw.randint(0, t.rank - 1)})
        keepdims = False
        if t.rank == 0 and ctx.draw.bernoulli(0.5):
            rank = ctx.draw.randint(1, 3)
            return Proposal((Operand(TensorType(source, tuple(ctx.pick_dim() for _ in range(rank)))),),
                            {"axis": None, "keepdims": False})
        if t.rank >= 3:
            return None
        ones = [i for i, d in enumerate(t.shape) if d == 1]
        if ones and ctx.draw.bernoulli(0.5):
            axis, keepdims = ctx.draw.choice(ones), True
            shape = t.shape[:axis] + (ctx.pick_dim(),) + t.shape[axis + 1 :]
        else:
            axis = ctx.draw.randint(0, t.rank)
            shape = t.shape[:axis] + (ctx.pick_dim(),) + t.shape[axis:]
        return Proposal((Operand(TensorType(source, shape)),), {"axis": axis, "keepdims": keepdims})

    return propose


def _reduction_type(name: str):
    def rule(types, params):
        (t,) = types
        dtype = _reduction_result_dtype(name, t.dtype)
        axis = params.get("axis")
        if "keepdims" not in params:  # cumulative
            return TensorType(dtype, t.shape)
        if axis is None:
            shape = tuple(1 for _ in t.shape) if params["keepdims"] else ()
        elif params["keepdims"]:
            shape = t.shape[:axis] + (1,) + t.shape[axis + 1 :]
        else:
            shape = t.shape[:axis] + t.shape[axis + 1 :]
        return TensorType(dtype, shape)

    return rule


def _reduction_range(name: str):
    def rule(ins, types, out, params):
        x = ins[0]
        n = _reduced_count(types[0].shape, params.get("axis"))
        if name in ("sum", "nansum"):
            return Interval(n * x.lo, n * x.hi)
        if name == "count_nonzero":
            return Interval(0, n)
        if name == "ptp":
            return Interval(0, x.hi - x.lo)
        if name in ("cumsum", "nancumsum"):
            return Interval(min(x.lo, n * x.lo), max(x.hi, n * x.hi))
        if name in PRODUCT_REDUCTIONS:
            return _power_bound(x, n)
        if name in ARG_REDUCTIONS:
            return Interval(0, max(n - 1, 0))
        if name in ("any", "all"):
            return Interval(0, 1)
        if name in SPREAD_REDUCTIONS:  # at most half the operand's width from the mean, in every term
            var = ((x.hi - x.lo) / 2) ** 2 * n / max(n - params["ddof"], 1)
            if name in VARIANCES:
                return Interval(0.0, var)
            # std rounds the variance to its own dtype before the square root
            return Interval(0.0, math.sqrt(var)) if var <= out.dtype.intermediate_cap else None
        if name == "nanmean" and n * x.mag > out.dtype.intermediate_cap:
            return None  # JAX sums in the operand's own dtype before dividing (``mean`` sums float16 in float32)
        return x  # mean, max, min and their NaN-ignoring forms

    return rule


def _reduction_reference(name: str):
    fn = getattr(np, name)
    if name in NAN_REDUCTIONS:
        fn = _quiet(fn)
    if name in NAN_ORDER_STATISTICS:
        fn = _rowwise_only_with_nan(fn, getattr(np, name.removeprefix("nan")))

    def reference(args, params):
        axis = params.get("axis")
        if name == "count_nonzero":
            return np.asarray(fn(args[0], axis=axis, keepdims=params["keepdims"]), dtype=np.int32)
        if "keepdims" not in params:
            return fn(args[0], axis=axis)
        if name in ("mean",) and args[0].dtype.kind != "f":
            return np.mean(args[0].astype(np.float64), axis=axis, keepdims=params["keepdims"])
        if name in SPREAD_REDUCTIONS:
            return fn(args[0], axis=axis, keepdims=params["keepdims"], ddof=params["ddof"])
        if name in QUANTILES:
            return fn(args[0], params["q"], axis=axis, keepdims=params["keepdims"], method=params["method"])
        return fn(args[0], axis=axis, keepdims=params["keepdims"])

    return reference


def _rowwise_only_with_nan(nan_fn, plain_fn):
    """A NaN-ignoring order statistic that takes numpy's row-by-row path only for an operand with a NaN: numpy's
    ``nanquantile`` and ``nanpercentile`` (and ``nanmedian`` along an axis of 600 or more) run a Python
    function per row (``apply_along_axis``), 90 us a row: 3 s for a [184, 16, 184] operand reduced over its
    16, against 5 ms for ``quantile``, which gives the same values where a row has no NaN."""

    def reference(x, *args, **kwargs):
        return (nan_fn if np.isnan(x).any() else plain_fn)(x, *args, **kwargs)

    return reference


def _quiet(fn):
    """A numpy NaN-ignoring reduction without its warning on a row of NaNs only (its result is NaN)."""

    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs)

    return quiet


def _reduction_render(name: str):
    def render(args, params):
        kwargs = {}
        if params.get("axis") is not None:
            kwargs["axis"] = params["axis"]
        if params.get("keepdims"):
            kwargs["keepdims"] = True
        if params.get("ddof"):
            kwargs["ddof"] = params["ddof"]
        if params.get("method", "linear") != "linear":
            kwargs["method"] = cst.SimpleString(repr(params["method"]))
        if params.get("style") == "method" and name not in ("cumsum", "cumprod"):
            return method(args[0], name, **kwargs)
        if name in QUANTILES:
            return call(f"jnp.{name}", args[0], literal(params["q"]), **kwargs)
        return call(f"jnp.{name}", args[0], **kwargs)

    return render


def _with_style(propose):
    def wrapped(t, ctx):
        proposal = propose(t, ctx)
        if proposal is not None and ctx.draw.bernoulli(0.3):
            proposal.params["style"] = "method"
        return proposal

    return wrapped


def _with_ddof(propose):
    """``ddof=1`` (the sample variance) now and then, where at least two terms are reduced."""
    def wrapped(t, ctx):
        proposal = propose(t, ctx)
        if proposal is not None:
            n = _reduced_count(proposal.operands[0].type.shape, proposal.params["axis"])
            proposal.params["ddof"] = 1 if n >= 2 and ctx.draw.bernoulli(0.25) else 0
        return proposal

    return wrapped


#: ``jnp.var`` computes in float32 at least (float16 and bfloat16 operands are upcast; float64 stays float64), so
#: its mean is off by at most a float32 mean's error, and the square of that, in units of the result's epsilon
#: (float32's or larger; float64's under x64, where the mean's error is float64's too), by at most float32's
#: epsilon times the square of the mean's error in units of eps: the second-order term below.
COMPUTE_EPS = DType.float32.eps


def _spread_error(name: str):
    """The absolute rounding error of ``var`` and ``std`` in units of eps, from their operand and exact result.
    The computed mean is off by about ``(1 + sqrt(n)) eps mean(|x|)`` (a sum of n terms, in any order), and that
    error moves every centred term alike: it cancels to first order in the variance (the centred terms sum to
    0) and leaves its square, which is the whole result for a constant row (exactly 0 in the reference, an ulp of
    ``x`` squared under XLA); ``std``, its square root, is off by the mean's error itself there, and by that
    squared over twice the result where the result is larger. Everywhere else the squares and their sum add
    ``(1 + sqrt(n)) eps`` of the result, twice over."""

    def scale(args, params, value):
        x, axis = args[0], params.get("axis")
        n = _reduced_count(np.shape(x), axis)
        terms = 1.0 + math.sqrt(n)
        mean_error = terms * np.mean(np.abs(x), axis=axis, keepdims=params["keepdims"])
        value = np.abs(value)
        if name in VARIANCES:
            return 2.0 * terms * value + COMPUTE_EPS * np.square(mean_error)
        # sqrt(var + e) - sqrt(var) <= min(sqrt(e), e / (2 sqrt(var))) with e the mean's error squared (a row of
        # zeros: 0, where 0 / 0 made it NaN)
        with np.errstate(divide="ignore", invalid="ignore"):
            moved = np.minimum(mean_error, np.where(value > 0, COMPUTE_EPS * np.square(mean_error) / (2.0 * value),
                                                    np.inf))
        return moved + 2.0 * terms * value

    return scale


def _with_quantile(name: str, propose):
    """A level and (now and then) an interpolation method other than ``linear``. Those others jump where the
    level's position among the sorted row, ``q (n - 1)``, crosses an integer (``nearest``: a half): JAX computes it
    in float32, numpy in float64, and ``0.9 * 10`` lands on either side of 9. They are used only where the
    position is at least 0.1 from such a point; ``linear`` is continuous there."""
    def wrapped(t, ctx):
        proposal = propose(t, ctx)
        if proposal is not None:
            q, method = ctx.draw.choice(QUANTILES[name]), ctx.draw.choice(QUANTILE_METHODS)
            n = _reduced_count(proposal.operands[0].type.shape, proposal.params["axis"])
            position = (q / 100.0 if name.endswith("percentile") else q) * (n - 1)
            frac = position - math.floor(position)
            if not (0.1 <= frac <= 0.4 or 0.6 <= frac <= 0.9):
                method = "linear"
            proposal.params.update(q=q, method=method)
        return proposal

    return wrapped


def _order_error(args, params, value):
    """Interpolating two neighbours ``a + t (b - a)`` (``t`` itself rounded) is off by ulps of the larger one."""
    return np.max(np.abs(args[0]), axis=params.get("axis"), keepdims=params["keepdims"])


def _reduction(name: str, sources: frozenset[DType], cumulative: bool = False, differentiable: bool = True):
    propose = _propose_reduction(name, sources, cumulative)
    if name in QUANTILES:
        propose = _with_quantile(name, propose)
    if name in ("sum", "mean", "max", "min", "prod", "argmax", "argmin", "any", "all", "var", "std"):
        propose = _with_style(propose)  # x.sum(axis=...): the methods jax.Array has
    spread = name in SPREAD_REDUCTIONS
    if spread:
        propose = _with_ddof(propose)
    error_scale = _spread_error(name) if spread else _order_error if name in ORDER_STATISTICS else None
    # numpy's NaN/Inf propagation and wraparound; a variance's inf - inf and -0.0 are left out, as are the order
    # statistics (JAX sorts NaN last, numpy's median of a row with a NaN is NaN) and ``ptp``'s signed zeros
    return OpSpec(name, "reductions", f"reduce_{name}", sources, propose, _reduction_type(name),
                  _reduction_range(name), _reduction_reference(name), _reduction_render(name),
                  differentiable=differentiable,
                  special_values=not (spread or name in ORDER_STATISTICS or name in NO_SPECIAL_REDUCTIONS),
                  error_scale=error_scale)


def _propose_diff(t, ctx):
    """``jnp.diff(x, n=1 or 2, axis=...)``: an operand ``n`` longer along the axis (the default, -1, or another)."""
    if t.dtype not in SIGNED_NUMERIC or t.rank == 0:
        return None
    n = 2 if ctx.draw.bernoulli(0.2) else 1
    axis = -1 if ctx.draw.bernoulli(0.5) else ctx.draw.randint(0, t.rank - 1)
    return Proposal((Operand(_resize_axis(t, axis % t.rank, t.shape[axis] + n)),), {"n": n, "axis": axis})


def _diff_type(types, params):
    (t,), n, axis = types, params["n"], params["axis"]
    if t.rank == 0 or t.shape[axis] <= n:
        raise ValueError(f"diff: {t} has no {n}th difference along axis {axis}")
    return _resize_axis(t, axis % t.rank, t.shape[axis] - n)


def _diff_range(ins, types, out, params):
    width = (ins[0].hi - ins[0].lo) * params["n"]
    return Interval(-width, width)


def _diff_error(args, params, value):
    """The second difference rounds the first ones before subtracting them: their sizes, not the result's."""
    if params["n"] == 1:
        return np.abs(value)
    first = np.moveaxis(np.abs(np.diff(args[0], axis=params["axis"])), params["axis"], -1)
    return np.abs(value) + np.moveaxis(first[..., 1:] + first[..., :-1], -1, params["axis"])


def _render_diff(args, params):
    kwargs = {"n": params["n"]} if params["n"] != 1 else {}
    if params["axis"] != -1:
        kwargs["axis"] = params["axis"]
    return call("jnp.diff", args[0], **kwargs)


#: ``jnp.average``'s dtypes: float16 is left out, as ``sum(x * w)`` of a long row may overflow it before the division.
AVERAGE_DTYPES = FLOATS - {DType.float16}
#: The weights' values: positive (their sum is the divisor) and at most 1.
AVERAGE_WEIGHTS = Interval(0.1, 1.0)


#: ``jnp.trapezoid``'s sample spacings (``dx``; 1.0, the default, is left out), exact in every float dtype.
TRAPEZOID_SPACINGS = (1.0, 1.0, 0.5, 0.25, 2.0)


def _propose_trapezoid(t, ctx):
    """``jnp.trapezoid(y, dx=..., axis=...)``: the trapezoid rule along an axis of at least two samples (the
    integral of a sampled curve: losses over time steps, densities over a grid)."""
    if t.dtype not in FLOATS or t.rank > 2:
        return None
    axis = ctx.draw.randint(0, t.rank)
    shape = t.shape[:axis] + (max(2, ctx.pick_dim()),) + t.shape[axis:]
    return Proposal((Operand(t.with_shape(shape)),), {"axis": axis, "dx": ctx.draw.choice(TRAPEZOID_SPACINGS)})


def _trapezoid_type(types, params):
    (y,) = types
    axis = params["axis"]
    if not 0 <= axis < y.rank or y.shape[axis] < 2:
        raise TypeError(f"trapezoid: {y} has no axis {axis} of two samples or more")
    return y.with_shape(y.shape[:axis] + y.shape[axis + 1:])


def _trapezoid_range(ins, types, out, params):
    """``n - 1`` means of two neighbours, times ``dx``."""
    width = (types[0].shape[params["axis"]] - 1) * params["dx"]
    return Interval(width * ins[0].lo, width * ins[0].hi)


def _trapezoid_reference(args, params):
    """numpy's ``trapezoid`` (``trapz`` before numpy 2), written out: ``dx`` times the neighbours' means."""
    y = np.moveaxis(np.asarray(args[0]), params["axis"], -1)
    return params["dx"] * np.sum((y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)


def _trapezoid_render(args, params):
    kwargs = {"dx": params["dx"]} if params["dx"] != 1.0 else {}
    return call("jnp.trapezoid", args[0], **kwargs, axis=params["axis"])


def _propose_average(t, ctx):
    """``jnp.average(x, axis, weights=w)``: a weighted mean along an axis, with weights of ``x``'s shape or, now and
    then, one per element of the axis; or of every element (``axis=None``) into a scalar."""
    if t.dtype not in AVERAGE_DTYPES or t.rank > 2:
        return None
    if t.rank == 0 and ctx.draw.bernoulli(0.4):
        shape = tuple(ctx.pick_dim() for _ in range(ctx.draw.randint(1, 2)))
        return Proposal((Operand(t.with_shape(shape)), Operand(t.with_shape(shape), AVERAGE_WEIGHTS)), {"axis": None})
    axis = ctx.draw.randint(0, t.rank)
    shape = t.shape[:axis] + (ctx.pick_dim(),) + t.shape[axis:]
    weights = shape if t.rank == 0 or ctx.draw.bernoulli(0.6) else (shape[axis],)
    return Proposal((Operand(t.with_shape(shape)), Operand(t.with_shape(weights), AVERAGE_WEIGHTS)), {"axis": axis})


def _average_type(types, params):
    x, w = types
    axis = params["axis"]
    if x.dtype is not w.dtype or not (w.shape == x.shape or (axis is not None and w.shape == (x.shape[axis],))):
        raise TypeError(f"average: weights {w} do not fit {x} along axis {axis}")
    return x.with_shape(() if axis is None else x.shape[:axis] + x.shape[axis + 1:])


def _average_weights(x: np.ndarray, w: np.ndarray, axis) -> np.ndarray:
    """``w`` broadcast to ``x``'s shape (1-D weights lie along ``axis``)."""
    if w.shape == x.shape:
        return w
    return np.broadcast_to(np.expand_dims(w, tuple(i for i in range(x.ndim) if i != axis)), x.shape)


def _average_error(args, params, value):
    """``sum(x * w) / sum(w)``: both sums' rounding (their terms' magnitudes, times the count, as a low-precision
    running sum may round at every term) relative to the divisor."""
    x, axis = np.asarray(args[0]), params["axis"]
    w = _average_weights(x, np.asarray(args[1]), axis)
    n = x.size if axis is None else x.shape[axis]
    total = np.sum(w, axis=axis)
    return n * (np.sum(np.abs(x) * w, axis=axis) + np.abs(value) * total) / total


def _render_average(args, params):
    if params["axis"] is None:
        return call("jnp.average", args[0], weights=args[1])
    return call("jnp.average", args[0], axis=params["axis"], weights=args[1])


def _propose_masked_sum(t, ctx):
    """``jnp.sum(x, axis, where=mask)``: the elements a boolean mask of ``x``'s shape keeps, summed (padding tokens
    left out of a loss, the valid entries of a ragged batch; of a bool ``x``, a count); a fully masked row sums to
    0."""
    return _with_mask(_propose_reduction("sum", SUMMABLE | {DType.bool})(t, ctx))


def _with_mask(proposal: Proposal | None, **params) -> Proposal | None:
    """A reduction's proposal with a boolean mask of its operand's shape as a second operand (``where=``)."""
    if proposal is None:
        return None
    (x,) = proposal.operands
    return Proposal((x, Operand(x.type.with_dtype(DType.bool))), {**proposal.params, **params})


def _masked_type(name: str):
    """``name``'s reduction type rule, after checking that the mask is a bool of the operand's shape."""
    reduced = _reduction_type(name)

    def rule(types, params):
        x, mask = types
        if mask != x.with_dtype(DType.bool):
            raise TypeError(f"{name}: mask {mask} is not a bool of {x}'s shape")
        return reduced((x,), params)

    return rule


def _masked_sum_range(ins, types, out, params):
    n = _reduced_count(types[0].shape, params["axis"])
    return Interval(n * min(ins[0].lo, 0.0), n * max(ins[0].hi, 0.0))


def _masked_sum_reference(args, params):
    return np.sum(args[0], axis=params["axis"], keepdims=params["keepdims"], where=np.asarray(args[1], dtype=bool))


def _propose_masked_extreme(name: str):
    def propose(t, ctx):
        """``jnp.max(x, axis, where=mask, initial=c)`` (or ``min``): the largest of the elements a boolean mask
        keeps, and of ``initial``, which JAX needs with ``where=`` (a masked max-pool over a padded sequence; of
        bools, a masked ``any``); a literal in the dtype's range (real code often writes ``-jnp.inf``, which a
        finite program cannot)."""
        proposal = _propose_reduction(name, NUMERIC | {DType.bool})(t, ctx)
        if proposal is None:
            return None
        (x,) = proposal.operands
        bounds = x.type.dtype.bounds
        initial = ctx.draw.randint(max(-16, int(bounds.lo)), min(16, int(bounds.hi)))
        if x.type.dtype.is_float:
            initial /= 4
        elif x.type.dtype.is_bool:
            initial = bool(initial)
        return _with_mask(proposal, initial=initial)

    return propose


def _masked_extreme_range(name: str):
    def rule(ins, types, out, params):
        c = params["initial"]
        return Interval(c, max(c, ins[0].hi)) if name == "max" else Interval(min(c, ins[0].lo), c)

    return rule


def _masked_extreme_reference(name: str):
    fn = getattr(np, name)

    def reference(args, params):
        return fn(args[0], axis=params["axis"], keepdims=params["keepdims"], where=np.asarray(args[1], dtype=bool),
                  initial=params["initial"])

    return reference


def _render_masked(name: str):
    """``jnp.NAME(x, axis=..., keepdims=True, where=mask, initial=c)``: the keywords a masked reduction takes."""
    def render(args, params):
        kwargs: dict = {}
        if params["axis"] is not None:
            kwargs["axis"] = params["axis"]
        if params["keepdims"]:
            kwargs["keepdims"] = True
        kwargs["where"] = args[1]
        if "initial" in params:
            kwargs["initial"] = literal(params["initial"])
        return call(f"jnp.{name}", args[0], **kwargs)

    return render


def _masked_extreme(name: str) -> OpSpec:
    # selects an element (or ``initial``): exact, a kink where the selection changes (``reference.KINKS``)
    return OpSpec(f"masked_{name}", "reductions", "masked_extreme", NUMERIC | {DType.bool},
                  _propose_masked_extreme(name), _masked_type(name), _masked_extreme_range(name),
                  _masked_extreme_reference(name), _render_masked(name), differentiable=False, weight=0.5)


#: ``jnp.cov``'s dtypes: float16 is left out, as its products of deviations may overflow before the division.
COV_DTYPES = FLOATS - {DType.float16}


def _propose_cov(t, ctx):
    """``jnp.cov(x)``: the sample covariance matrix (``ddof=1``) of ``n >= 2`` variables over ``k >= 2``
    observations, the variables in rows (numpy's default) or, now and then, in columns (``rowvar=False``, a batch
    of feature vectors); a single variable's variance as a scalar, of a vector or of a one-row matrix."""
    if t.dtype not in COV_DTYPES or t.rank not in (0, 2) or (t.rank == 2 and (t.shape[0] != t.shape[1] or
                                                                             t.shape[0] < 2)):
        return None
    k = max(2, ctx.pick_dim())
    rowvar = not ctx.draw.bernoulli(0.3)
    if t.rank == 0:
        shape = (k,) if ctx.draw.bernoulli(0.6) else ((1, k) if rowvar else (k, 1))
    else:
        shape = (t.shape[0], k) if rowvar else (k, t.shape[0])
    return Proposal((Operand(t.with_shape(shape)),), {"rowvar": rowvar, "dtype": t.dtype})


def _cov_sizes(shape: tuple[int, ...], rowvar: bool) -> tuple[int, int]:
    """(variables, observations) of ``jnp.cov``'s operand: a vector, or a matrix with one row, is one variable
    whatever ``rowvar`` says (numpy's rule, and JAX's)."""
    rows = tuple(shape) if len(shape) == 2 else (1, *shape)
    return rows if rowvar or rows[0] == 1 else rows[::-1]


def _cov_type(types, params):
    (x,) = types
    if x.rank not in (1, 2) or x.dtype not in COV_DTYPES:
        raise TypeError(f"cov: {x} is not a vector or matrix of float32, bfloat16 or float64")
    n, k = _cov_sizes(x.shape, params["rowvar"])
    if k < 2:
        raise ValueError(f"cov: {x} has fewer than 2 observations")
    return x.with_shape(() if n == 1 else (n, n))


def _cov_range(ins, types, out, params):
    """Each entry at most the geometric mean of two variances (Cauchy-Schwarz), each at most the square of half the
    operand's width, times ``k / (k - 1)``."""
    _, k = _cov_sizes(types[0].shape, params["rowvar"])
    bound = ((ins[0].hi - ins[0].lo) / 2) ** 2 * k / (k - 1)
    return Interval(0.0, bound) if out.rank == 0 else Interval(-bound, bound)


def _cov_variables(x: np.ndarray, rowvar: bool) -> np.ndarray:
    """``jnp.cov``'s operand as one row per variable (``_cov_sizes``)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return x if rowvar or x.shape[0] == 1 else x.T


def _cov_error(args, params, value):
    """JAX centres each variable by its mean and sums the products of deviations. The mean is off by about
    ``(1 + sqrt(k)) eps mean(|x|)``; that shift cancels to first order (deviations sum to 0) and leaves ``k`` times
    the product of two variables' shifts: the whole result for constant variables (exactly 0 in the reference).
    The deviations and their sum of products round at each of ``k`` terms."""
    x = _cov_variables(args[0], params["rowvar"])
    k = x.shape[1]
    deviations = np.abs(x - x.mean(axis=1, keepdims=True))
    shift = (1.0 + math.sqrt(k)) * np.mean(np.abs(x), axis=1)
    scale = (2.0 * k * deviations @ deviations.T + params["dtype"].eps * k * np.outer(shift, shift)) / (k - 1)
    return np.reshape(scale, np.shape(value)) + 2.0 * np.abs(value)


def _render_cov(args, params):
    if params["rowvar"]:
        return call("jnp.cov", args[0])
    return call("jnp.cov", args[0], rowvar=False)


REDUCTIONS = (
    _reduction("sum", SUMMABLE | {DType.bool}),
    _reduction("mean", NUMERIC | {DType.bool}),
    _reduction("max", NUMERIC),
    _reduction("min", NUMERIC),
    _reduction("prod", SUMMABLE),
    _reduction("argmax", NUMERIC, differentiable=False),
    _reduction("argmin", NUMERIC, differentiable=False),
    _reduction("any", frozenset({DType.bool}), differentiable=False),
    _reduction("all", frozenset({DType.bool}), differentiable=False),
    # std: a row that is constant (up to rounding) has no derivative; jax.grad gives NaN there
    _reduction("var", FLOATS),
    _reduction("std", FLOATS, differentiable=False),
    _reduction("nansum", FLOATS),
    _reduction("nanmean", FLOATS),
    _reduction("nanmax", FLOATS),
    _reduction("nanmin", FLOATS),
    # on finite values argmax's and argmin's result (no special values: ``NO_SPECIAL_REDUCTIONS``)
    _reduction("nanargmax", FLOATS, differentiable=False),
    _reduction("nanargmin", FLOATS, differentiable=False),
    _reduction("nanvar", FLOATS),
    _reduction("nanstd", FLOATS, differentiable=False),
    _reduction("nanprod", FLOATS),
    # an integer or bool operand: a float's count jumps where it crosses 0
    _reduction("count_nonzero", INTS | {DType.bool}, differentiable=False),
    # a kink wherever two elements of a row swap places; a tie has no derivative
    _reduction("median", FLOATS, differentiable=False),
    _reduction("quantile", FLOATS, differentiable=False),
    _reduction("percentile", FLOATS, differentiable=False),
    _reduction("nanmedian", FLOATS, differentiable=False),
    _reduction("nanquantile", FLOATS, differentiable=False),
    _reduction("nanpercentile", FLOATS, differentiable=False),
    _reduction("ptp", NUMERIC, differentiable=False),
    _reduction("cumsum", NUMERIC, cumulative=True),
    _reduction("cumprod", SIGNED_NUMERIC, cumulative=True),
    _reduction("nancumsum", FLOATS, cumulative=True),
    _reduction("nancumprod", FLOATS, cumulative=True),
    OpSpec("diff", "reductions", "diff", SIGNED_NUMERIC, _propose_diff, _diff_type, _diff_range,
           lambda a, p: np.diff(a[0], p["n"], axis=p["axis"]), _render_diff, error_scale=_diff_error,
           special_values=True),
    # a sum of products of neighbours' means by dx: its terms' error model is a sum's (``reference._SUMLIKE``)
    OpSpec("trapezoid", "reductions", "trapezoid", FLOATS, _propose_trapezoid, _trapezoid_type, _trapezoid_range,
           _trapezoid_reference, _trapezoid_render, weight=0.5),
    # positive weights: the result lies between the least and the greatest value
    OpSpec("average", "reductions", "average", AVERAGE_DTYPES, _propose_average, _average_type,
           lambda i, t, o, p: i[0], lambda a, p: np.average(a[0], axis=p["axis"], weights=a[1]), _render_average,
           error_scale=_average_error, weight=0.5),
    OpSpec("masked_sum", "reductions", "masked_sum", SUMMABLE | {DType.bool}, _propose_masked_sum, _masked_type("sum"),
           _masked_sum_range, _masked_sum_reference, _render_masked("sum"), weight=0.5),
    _masked_extreme("max"),
    _masked_extreme("min"),
    # a polynomial of its operand (degree 2), its error model of its own (``_cov_error``)
    OpSpec("cov", "reductions", "cov", COV_DTYPES, _propose_cov, _cov_type, _cov_range,
           lambda a, p: np.cov(a[0], rowvar=p["rowvar"]), _render_cov, error_scale=_cov_error, weight=0.5),
)


# ---------------------------------------------------------------- linear algebra


def _contract_range(k: int):
    def rule(ins, types, out, params):
        prod = Interval.of(ins[0].lo * ins[1].lo, ins[0].lo * ins[1].hi, ins[0].hi * ins[1].lo, ins[0].hi * ins[1].hi)
        return Interval(min(0.0, k * prod.lo), max(0.0, k * prod.hi))

    return rule


def _cross_range(ins, types, out, params):
    """Each component is a difference of two products: [p.lo - p.hi, p.hi - p.lo]."""
    p = Interval.of(*(x * y for x in (ins[0].lo, ins[0].hi) for y in (ins[1].lo, ins[1].hi)))
    return Interval(p.lo - p.hi, p.hi - p.lo)


def _contract_rule(ins, types, out, params):
    return _contract_range(params["k"])(ins, types, out, params)


LINALG_DTYPES = FLOATS | {DType.int32}


def _propose_dot(t, ctx):
    if t.dtype not in LINALG_DTYPES or t.rank > 2:
        return None
    k = ctx.pick_dim()
    if t.rank == 0:
        a, b = (k,), (k,)
    elif t.rank == 1:
        a, b = (t.shape[0], k), (k,)
    else:
        a, b = (t.shape[0], k), (k, t.shape[1])
    return Proposal((Operand(t.with_shape(a)), Operand(t.with_shape(b))), {"k": k})


def _propose_matmul(t, ctx):
    if t.dtype not in LINALG_DTYPES or t.rank < 1:
        return None
    k = ctx.pick_dim()
    if t.rank == 1:
        a, b = (k,), (k, t.shape[0])
    else:
        a, b = t.shape[:-1] + (k,), t.shape[:-2] + (k, t.shape[-1])
        if t.rank == 3 and ctx.draw.bernoulli(0.3):
            b = b[1:]
    return Proposal((Operand(t.with_shape(a)), Operand(t.with_shape(b))), {"k": k})


def _matmul_type(types, params):
    a, b = types
    if a.rank == 1:
        return TensorType(a.dtype, b.shape[1:])
    batch = a.shape[:-2] if a.rank >= b.rank else b.shape[:-2]
    return TensorType(a.dtype, batch + (a.shape[-2], b.shape[-1]))


def _dot_type(types, params):
    a, b = types
    return TensorType(a.dtype, a.shape[:-1] + b.shape[:-2] + b.shape[-1:] if b.rank > 1 else a.shape[:-1])


def _propose_vdot(t, ctx):
    if t.dtype not in LINALG_DTYPES or t.rank != 0:
        return None
    shape = tuple(ctx.pick_dim() for _ in range(ctx.draw.randint(1, 2)))
    return Proposal((Operand(t.with_shape(shape)), Operand(t.with_shape(shape))), {"k": math.prod(shape)})


def _propose_vecdot(t, ctx):
    """``jnp.vecdot(a, b)``: row-wise dot products over the last axis of two operands of one shape (cosine
    similarities, per-example losses)."""
    if t.dtype not in LINALG_DTYPES or t.rank > 2:
        return None
    k = ctx.pick_dim()
    return Proposal((Operand(t.with_shape(t.shape + (k,))), Operand(t.with_shape(t.shape + (k,)))), {"k": k})


def _vecdot_type(types, params):
    a, b = types
    if a.dtype is not b.dtype or a.rank == 0 or a.shape != b.shape:
        raise TypeError(f"vecdot: {a} and {b} are not vectors of one shape")
    return a.with_shape(a.shape[:-1])


def _propose_multi_dot(t, ctx):
    """``jnp.linalg.multi_dot([a, b, c])``: a chain of three matrix products (a vector first or last where the
    result has fewer axes), evaluated in the cheaper of the two orders."""
    if t.dtype not in LINALG_DTYPES or t.rank > 2:
        return None
    k1, k2 = ctx.pick_dim(), ctx.pick_dim()
    first_vector = t.rank == 0 or (t.rank == 1 and ctx.draw.bernoulli(0.5))
    last_vector = t.rank == 0 or (t.rank == 1 and not first_vector)
    a = (k1,) if first_vector else (t.shape[0], k1)
    c = (k2,) if last_vector else (k2, t.shape[-1])
    operands = (Operand(t.with_shape(a)), Operand(t.with_shape((k1, k2))), Operand(t.with_shape(c)))
    return Proposal(operands, {"k": k1 * k2})


def _multi_dot_type(types, params):
    a, b, c = types
    if len({a.dtype, b.dtype, c.dtype}) != 1 or b.rank != 2 or a.rank not in (1, 2) or c.rank not in (1, 2):
        raise TypeError(f"multi_dot: {a}, {b}, {c} are not a chain of matrices")
    if a.shape[-1] != b.shape[0] or b.shape[1] != c.shape[0]:
        raise TypeError(f"multi_dot: {a}, {b}, {c} do not chain")
    return a.with_shape(a.shape[:-1] + c.shape[1:])


def _multi_dot_range(ins, types, out, params):
    """Every entry a sum of ``k1 k2`` products of one entry of each. ``a @ b`` and ``b @ c`` (whichever order JAX
    takes) are rounded to the dtype on the way, and may be far larger than the result where ``c`` (or ``a``) is
    small: both stay below ``DType.intermediate_cap``."""
    a, b, c = ins
    k1, k2 = types[1].shape
    if max(k1 * a.mag * b.mag, k2 * b.mag * c.mag) > out.dtype.intermediate_cap:
        return None
    prod = Interval.of(*(x * y * z for x in (a.lo, a.hi) for y in (b.lo, b.hi) for z in (c.lo, c.hi)))
    return Interval(min(0.0, params["k"] * prod.lo), max(0.0, params["k"] * prod.hi))


def _multi_dot_reference(args, params):
    a, b, c = args
    return _contract(np.matmul, _contract(np.matmul, a, b), c)


def _multi_dot_error(args, params, value):
    """Two sums of products, ``a @ b`` (``k1`` terms) and its product with ``c`` (``k2``), in either order: each
    off by ulps of the sum of its terms' magnitudes, growing as the square root of a long sequential sum's count
    (past 64 terms, as ``fuzz.reference`` allows every sum)."""
    a, b, c = (np.abs(x) for x in args)
    count = args[1].shape[0] + args[1].shape[1]
    return 2.0 * math.sqrt(max(1.0, count / 64)) * np.matmul(np.matmul(a, b), c)


def _propose_inner(t, ctx):
    """``jnp.inner(a, b)``: the last axes of both contracted (similarities of rows: ``inner(queries, keys)``); the
    result is ``a``'s other axes then ``b``'s."""
    if t.dtype not in LINALG_DTYPES or t.rank > 3:
        return None
    k, split = ctx.pick_dim(), ctx.draw.randint(0, t.rank)
    return Proposal((Operand(t.with_shape(t.shape[:split] + (k,))), Operand(t.with_shape(t.shape[split:] + (k,)))),
                    {"k": k})


def _inner_type(types, params):
    a, b = types
    if a.dtype is not b.dtype or a.rank == 0 or b.rank == 0 or a.shape[-1] != b.shape[-1]:
        raise TypeError(f"inner: {a} and {b} do not share a last axis")
    return a.with_shape(a.shape[:-1] + b.shape[:-1])


#: ``lax.dot_general``'s narrow operands for a wider result (``preferred_element_type``): mixed-precision training
#: (bfloat16 or float16 products summed in float32) and quantized inference (int8 products summed in int32).
NARROW_OPERANDS = {DType.float32: frozenset({DType.bfloat16, DType.float16}), DType.int32: frozenset({DType.int8})}


def _propose_dot_general(t, ctx):
    """``lax.dot_general(a, b, (contracting, batch))``, as flax's ``DenseGeneral`` and batched attention products
    call it: a batch axis first where the result has rank 3, ``b``'s contracted axis first or last (``x @ w`` or
    ``x @ w.T``); half the time narrow operands summed in the result's dtype (``preferred_element_type``)."""
    if t.dtype not in LINALG_DTYPES or not 1 <= t.rank <= 3:
        return None
    source = t.dtype
    if t.dtype in NARROW_OPERANDS and ctx.draw.bernoulli(0.5):
        source = ctx.pick_dtype(NARROW_OPERANDS[t.dtype]) or t.dtype
    k, transposed = ctx.pick_dim(), ctx.draw.bernoulli(0.5)
    nb = 1 if t.rank == 3 else 0
    batch, (lhs_free, rhs_free) = t.shape[:nb], (t.shape[nb : nb + 1], t.shape[nb + 1 :])
    a = batch + lhs_free + (k,)
    b = batch + (rhs_free + (k,) if transposed else (k,) + rhs_free)
    contracting = ((len(a) - 1,), (len(b) - 1 if transposed else nb,))
    params = {"dims": (contracting, (tuple(range(nb)), tuple(range(nb)))), "k": k}
    if source is not t.dtype:
        params["preferred"] = t.dtype
    return Proposal((Operand(TensorType(source, a)), Operand(TensorType(source, b))), params)


def _dot_general_type(types, params):
    a, b = types
    (ca, cb), (ba, bb) = params["dims"]
    preferred = params.get("preferred")
    if (a.dtype is not b.dtype or max((*ca, *ba), default=-1) >= a.rank or max((*cb, *bb), default=-1) >= b.rank
            or [a.shape[i] for i in (*ca, *ba)] != [b.shape[i] for i in (*cb, *bb)]
            or (preferred is not None and a.dtype not in NARROW_OPERANDS.get(preferred, ()))):
        raise TypeError(f"dot_general: {a} and {b} do not contract as {params['dims']}")
    free_a = tuple(d for i, d in enumerate(a.shape) if i not in (*ca, *ba))
    free_b = tuple(d for i, d in enumerate(b.shape) if i not in (*cb, *bb))
    return TensorType(preferred or a.dtype, tuple(a.shape[i] for i in ba) + free_a + free_b)


def _dot_general_np(a, b, dims):
    """``lax.dot_general`` as an einsum: the batch axes, then ``a``'s free axes, then ``b``'s."""
    (ca, cb), (ba, bb) = dims
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    left = [next(letters) for _ in range(a.ndim)]
    right = [next(letters) for _ in range(b.ndim)]
    for i, j in zip((*ca, *ba), (*cb, *bb), strict=True):
        right[j] = left[i]
    out = [left[i] for i in ba] + [x for i, x in enumerate(left) if i not in (*ca, *ba)]
    out += [x for j, x in enumerate(right) if j not in (*cb, *bb)]
    return np.einsum(f"{''.join(left)},{''.join(right)}->{''.join(out)}", a, b, optimize=True)


def _dot_general_reference(args, params):
    a, b = args
    if params.get("preferred") is DType.int32:  # int8 products summed (and wrapped) in int32
        a, b = np.asarray(a).astype(np.int32), np.asarray(b).astype(np.int32)
    return _contract(lambda x, y: _dot_general_np(x, y, params["dims"]), a, b)


def _dot_general_render(args, params):
    preferred = params.get("preferred")
    kwargs = {} if preferred is None else {"preferred_element_type": dtype_expr(preferred)}
    return call("lax.dot_general", *args, literal(params["dims"]), **kwargs)


def _propose_outer(t, ctx):
    if t.dtype not in LINALG_DTYPES or t.rank != 2:
        return None
    return Proposal((Operand(t.with_shape(t.shape[:1])), Operand(t.with_shape(t.shape[1:]))), {"k": 1})


def _propose_cross(t, ctx):
    if t.dtype not in SIGNED_NUMERIC or t.rank < 1 or t.shape[-1] != 3:
        return None
    return Proposal((Operand(t), Operand(t)), {"k": 2})


def _propose_norm(t, ctx):
    if t.dtype not in FLOATS or t.rank > 1:
        return None
    if t.rank == 0:
        shape = tuple(ctx.pick_dim() for _ in range(ctx.draw.randint(1, 2)))
        return Proposal((Operand(t.with_shape(shape)),), {"axis": None})
    return Proposal((Operand(t.with_shape(t.shape + (ctx.pick_dim(),))),), {"axis": -1})


def _norm_range(ins, types, out, params):
    n = _reduced_count(types[0].shape, None if params["axis"] is None else -1)
    if n * ins[0].mag ** 2 > out.dtype.intermediate_cap:  # the sum of squares, in the operand's dtype
        return None
    return Interval(0.0, math.sqrt(n) * ins[0].mag)


def _norm_type(types, params):
    t = types[0]
    return TensorType(t.dtype, () if params["axis"] is None else t.shape[:-1])


def _norm_reference(args, params):
    x = args[0]
    if params["axis"] is None:
        return np.sqrt(np.sum(np.square(x)))
    return np.sqrt(np.sum(np.square(x), axis=-1))


EINSUMS = {
    0: ("i,i->", "ij,ij->"),
    1: ("ij,j->i", "ij->i", "ij,ij->i", "ij->j"),
    2: ("ij,jk->ik", "ij->ji", "ik,jk->ij"),
    3: ("bij,bjk->bik",),
}


def _propose_einsum(t, ctx):
    if t.dtype not in LINALG_DTYPES or t.rank not in EINSUMS:
        return None
    spec = ctx.draw.choice(EINSUMS[t.rank])
    ins, out = spec.split("->")
    sizes = dict(zip(out, t.shape, strict=True))
    for letter in ins.replace(",", ""):
        sizes.setdefault(letter, ctx.pick_dim())
    operands = tuple(Operand(t.with_shape(tuple(sizes[c] for c in term))) for term in ins.split(","))
    k = math.prod(sizes[c] for c in set(ins.replace(",", "")) - set(out))
    return Proposal(operands, {"spec": spec, "k": k})


def _einsum_type(types, params):
    ins, out = params["spec"].split("->")
    sizes = {}
    for term, t in zip(ins.split(","), types, strict=True):
        for c, d in zip(term, t.shape, strict=True):
            if sizes.setdefault(c, d) != d:
                raise TypeError(f"einsum {params['spec']}: size mismatch for {c}")
    return TensorType(types[0].dtype, tuple(sizes[c] for c in out))


def _einsum_range(ins, types, out, params):
    if len(ins) == 1:
        k = params["k"]
        return Interval(min(ins[0].lo, k * ins[0].lo), max(ins[0].hi, k * ins[0].hi))
    return _contract_rule(ins, types, out, params)


def _contract(product, a, b):
    """``product(a, b)`` (a numpy contraction) computed exactly: integer operands go through float64 BLAS
    when every partial sum is an integer below 2**53, so exact in any summation order, and wrap to their dtype
    as numpy's integer loops would (two's complement); numpy's integer matmul uses no BLAS and takes seconds on
    the large shape class. Floats are left as they were."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu" or a.dtype != b.dtype or not a.size or not b.size:
        return product(a, b)
    largest = [max(-int(x.min()), int(x.max())) for x in (a, b)]  # Python ints: abs(int32 min) does not wrap
    if largest[0] * largest[1] * min(a.size, b.size) >= 2**53:
        return product(a, b)
    wide = product(a.astype(np.float64), b.astype(np.float64))
    return np.asarray(wide).astype(np.int64).astype(a.dtype)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.dot(a, b)`` (``a``'s last axis with ``b``'s second to last) as a ``tensordot``, which reshapes to one
    BLAS matmul: ``np.dot`` of an operand of rank 3 or more adds up in its own loop, 25x slower."""
    if a.ndim == 0 or b.ndim == 0:
        return np.dot(a, b)
    return np.tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def _propose_trace(t, ctx):
    """``jnp.trace`` of a matrix (offset 0 or +-1), or of each matrix of a batch (``axis1=1, axis2=2``)."""
    if t.dtype not in LINALG_DTYPES or t.rank > 1:
        return None
    if t.rank == 1:
        n = ctx.pick_dim()
        return Proposal((Operand(t.with_shape(t.shape + (n, n))),), {"offset": 0, "batched": True})
    offset = ctx.draw.choice((0, 0, 0, 1, -1))
    n, m = ctx.pick_dim(), ctx.pick_dim()
    if _diagonal_length(n, m, offset) == 0:
        offset = 0
    return Proposal((Operand(t.with_shape((n, m))),), {"offset": offset, "batched": False})


def _trace_type(types, params):
    (t,) = types
    if t.rank != (3 if params["batched"] else 2):
        raise TypeError(f"trace: wrong rank {t}")
    return t.with_shape(t.shape[:1] if params["batched"] else ())


def _trace_count(t: TensorType, params) -> int:
    return _diagonal_length(t.shape[-2], t.shape[-1], params["offset"])


def _trace_reference(args, params):
    x = args[0]
    axes = (1, 2) if params["batched"] else (0, 1)
    return np.trace(x, params["offset"], *axes).astype(x.dtype)


def _render_trace(args, params):
    if params["batched"]:
        return call("jnp.trace", args[0], axis1=1, axis2=2)
    if params["offset"]:
        return call("jnp.trace", args[0], offset=params["offset"])
    return call("jnp.trace", args[0])


def _propose_kron(t, ctx):
    """``jnp.kron(a, b)`` of two vectors or two matrices: each output length a product of theirs."""
    if t.dtype not in LINALG_DTYPES or t.rank not in (1, 2):
        return None
    left = tuple(ctx.draw.choice([p for p in range(1, d + 1) if d % p == 0]) for d in t.shape)
    right = tuple(d // p for d, p in zip(t.shape, left, strict=True))
    return Proposal((Operand(t.with_shape(left)), Operand(t.with_shape(right))), {"k": 1})


def _kron_type(types, params):
    a, b = types
    if a.rank != b.rank:
        raise TypeError(f"kron: ranks differ ({a}, {b})")
    return a.with_shape(tuple(x * y for x, y in zip(a.shape, b.shape, strict=True)))


def _propose_tensordot(t, ctx):
    """``jnp.tensordot(a, b, axes)``: ``a``'s last ``axes`` (1 or 2) dims against ``b``'s first; or, with a pair of
    axis lists, ``a``'s and ``b``'s first dim against each other."""
    if t.dtype not in LINALG_DTYPES or t.rank > 3:
        return None
    split = ctx.draw.randint(0, t.rank)
    left, right = t.shape[:split], t.shape[split:]
    count = ctx.draw.choice((1, 1, 2))
    if ctx.draw.bernoulli(0.25):  # a pair of axis lists: one dim each
        k = (ctx.pick_dim(),)
        a, b, axes = k + left, k + right, ((0,), (0,))
    else:
        k = tuple(ctx.pick_dim() for _ in range(count))
        a, b, axes = left + k, k + right, count
    if len(a) > 3 or len(b) > 3:
        return None
    return Proposal((Operand(t.with_shape(a)), Operand(t.with_shape(b))), {"axes": axes, "k": math.prod(k)})


def _tensordot_type(types, params):
    a, b = types
    axes = params["axes"]
    if a.dtype is not b.dtype:
        raise TypeError(f"tensordot: dtypes differ ({a}, {b})")
    if isinstance(axes, int):
        if axes > min(a.rank, b.rank) or a.shape[a.rank - axes:] != b.shape[:axes]:
            raise TypeError(f"tensordot: {a} and {b} do not contract over {axes} axes")
        return a.with_shape(a.shape[: a.rank - axes] + b.shape[axes:])
    (i,), (j,) = axes
    if a.rank == 0 or b.rank == 0 or a.shape[i] != b.shape[j]:
        raise TypeError(f"tensordot: {a} and {b} do not contract over {axes}")
    return a.with_shape(a.shape[:i] + a.shape[i + 1 :] + b.shape[:j] + b.shape[j + 1 :])


def _tensordot_render(args, params):
    axes = params["axes"]
    if isinstance(axes, int):
        return call("jnp.tensordot", *args, axes=axes)
    return call("jnp.tensordot", *args, axes=literal(axes))


def _propose_matrix_power(t, ctx):
    """``jnp.linalg.matrix_power(a, n)`` of a square matrix, ``n`` 2 to 4 (repeated squaring)."""
    if t.dtype not in LINALG_DTYPES or t.rank != 2 or t.shape[0] != t.shape[1]:
        return None
    return Proposal((Operand(t),), {"n": ctx.draw.choice((2, 2, 3, 4))})


def _square(t: TensorType) -> TensorType:
    if t.rank != 2 or t.shape[0] != t.shape[1]:
        raise TypeError(f"matrix_power: {t} is not a square matrix")
    return t


def _matrix_power_range(ins, types, out, params):
    """Every entry of ``a ** n`` is at most ``size ** (n - 1) * |a| ** n``."""
    size, n = types[0].shape[0], params["n"]
    bound = size ** (n - 1) * ins[0].mag**n
    return Interval(0.0, bound) if ins[0].lo >= 0 else Interval(-bound, bound)


def _matrix_power_reference(args, params):
    a = np.asarray(args[0])
    out = a
    for _ in range(params["n"] - 1):
        out = _contract(np.matmul, out, a)
    return out


def _matrix_power_error(args, params, value):
    """Each of the ``n - 1`` products rounds its sums of terms: ``n - 1`` times ``|a| ** n``."""
    a = np.abs(args[0])
    return (params["n"] - 1) * np.linalg.matrix_power(a, params["n"])


def _linalg(name, propose, type_rule, range_rule, reference, render, dtypes=LINALG_DTYPES, special_values=False,
            error_scale=None):
    return OpSpec(name, "linalg", name, dtypes, propose, type_rule, range_rule, reference, render,
                  special_values=special_values, error_scale=error_scale)


LINALG = (
    _linalg("dot", _propose_dot, _dot_type, _contract_rule, lambda a, p: _contract(_dot, *a),
            lambda a, p: call("jnp.dot", *a)),
    _linalg("matmul", _propose_matmul, _matmul_type, _contract_rule, lambda a, p: _contract(np.matmul, *a),
            lambda a, p: binop(a[0], cst.MatrixMultiply, a[1]) if p.get("style") != "fn" else call("jnp.matmul", *a)),
    _linalg("vdot", _propose_vdot, lambda t, p: TensorType(t[0].dtype, ()), _contract_rule,
            lambda a, p: _contract(np.vdot, *a), lambda a, p: call("jnp.vdot", *a)),
    _linalg("dot_general", _propose_dot_general, _dot_general_type, _contract_rule, _dot_general_reference,
            _dot_general_render, LINALG_DTYPES | NARROW_OPERANDS[DType.float32] | NARROW_OPERANDS[DType.int32]),
    _linalg("vecdot", _propose_vecdot, _vecdot_type, _contract_rule,
            lambda a, p: _contract(lambda x, y: np.einsum("...i,...i->...", x, y), *a),
            lambda a, p: call("jnp.vecdot", *a)),
    _linalg("multi_dot", _propose_multi_dot, _multi_dot_type, _multi_dot_range, _multi_dot_reference,
            lambda a, p: call("jnp.linalg.multi_dot", listed(a)), error_scale=_multi_dot_error),
    _linalg("inner", _propose_inner, _inner_type, _contract_rule, lambda a, p: _contract(np.inner, *a),
            lambda a, p: call("jnp.inner", *a)),
    _linalg("outer", _propose_outer, lambda t, p: TensorType(t[0].dtype, t[0].shape + t[1].shape), _contract_rule,
            lambda a, p: np.outer(a[0], a[1]), lambda a, p: call("jnp.outer", *a)),
    _linalg("cross", _propose_cross, lambda t, p: t[0], _cross_range, lambda a, p: np.cross(a[0], a[1]),
            lambda a, p: call("jnp.cross", *a), SIGNED_NUMERIC),
    _linalg("norm", _propose_norm, _norm_type, _norm_range, _norm_reference,
            lambda a, p: call("jnp.linalg.norm", a[0]) if p["axis"] is None else call("jnp.linalg.norm", a[0], axis=-1),
            FLOATS),
    _linalg("einsum", _propose_einsum, _einsum_type, _einsum_range,
            lambda a, p: np.einsum(p["spec"], *a) if len(a) == 1 else
            _contract(lambda x, y: np.einsum(p["spec"], x, y, optimize=True), *a),  # optimize: through BLAS
            lambda a, p: call("jnp.einsum", cst.SimpleString(repr(p["spec"])), *a)),
    _linalg("trace", _propose_trace, _trace_type,
            lambda i, t, o, p: Interval(_trace_count(t[0], p) * i[0].lo, _trace_count(t[0], p) * i[0].hi),
            _trace_reference, _render_trace, special_values=True),
    _linalg("tensordot", _propose_tensordot, _tensordot_type, _contract_rule,
            lambda a, p: _contract(lambda x, y: np.tensordot(x, y, p["axes"]), *a), _tensordot_render),
    _linalg("matrix_power", _propose_matrix_power, lambda t, p: _square(t[0]), _matrix_power_range,
            _matrix_power_reference, lambda a, p: call("jnp.linalg.matrix_power", a[0], literal(p["n"])),
            error_scale=_matrix_power_error),
    _linalg("kron", _propose_kron, _kron_type, _contract_rule, lambda a, p: np.kron(a[0], a[1]),
            lambda a, p: call("jnp.kron", *a), special_values=True),
)


# ---------------------------------------------------------------- shape ops


def _divisors(n: int) -> list[int]:
    return [d for d in range(2, n) if n % d == 0]


def _propose_reshape(t, ctx):
    if t.size == 0:
        return None
    options = []
    if t.rank != 1:
        options.append((t.size,))
    if t.rank >= 2:
        options.append((t.shape[0] * t.shape[1],) + t.shape[2:])
        if t.shape[::-1] != t.shape:
            options.append(t.shape[::-1])
    if t.rank == 1 and (divs := _divisors(t.size)):
        d = ctx.draw.choice(divs)
        options.append((d, t.size // d))
    if t.rank == 0:
        options.append((1,))
    if not options:
        return None
    return Proposal((Operand(t.with_shape(ctx.draw.choice(options))),),
                    {"shape": t.shape, "style": ctx.draw.choice(("fn", "method"))})


def _render_reshape(args, params):
    shape = params["shape"]
    if params["style"] == "method" and shape:
        return method(args[0], "reshape", *(literal(d) for d in shape))
    return call("jnp.reshape", args[0], literal(shape))


def _propose_transpose(t, ctx):
    if t.rank < 2:
        return None
    perm = list(range(t.rank))
    while perm == sorted(perm):
        perm = [perm[i] for i in _shuffled(t.rank, ctx)]
    inverse = [perm.index(i) for i in range(t.rank)]
    # out.shape[i] = in.shape[perm[i]]  =>  in.shape[j] = out.shape[inverse[j]]
    return Proposal((Operand(t.with_shape(tuple(t.shape[inverse[j]] for j in range(t.rank)))),), {"perm": tuple(perm)})


def _shuffled(n: int, ctx: Context) -> list[int]:
    items = list(range(n))
    for i in range(n - 1, 0, -1):
        j = ctx.draw.randint(0, i)
        items[i], items[j] = items[j], items[i]
    return items


def _render_transpose(args, params):
    perm = params["perm"]
    if perm == (1, 0):
        return attribute(args[0], "T")
    return call("jnp.transpose", args[0], literal(perm))


def _propose_expand_dims(t, ctx):
    ones = [i for i, d in enumerate(t.shape) if d == 1]
    if not ones:
        return None
    axis = ctx.draw.choice(ones)
    return Proposal((Operand(t.with_shape(t.shape[:axis] + t.shape[axis + 1 :])),), {"axis": axis})


def _propose_squeeze(t, ctx):
    if t.rank >= 3:
        return None
    axis = ctx.draw.randint(0, t.rank)
    return Proposal((Operand(t.with_shape(t.shape[:axis] + (1,) + t.shape[axis:])),), {"axis": axis})


def _propose_broadcast_to(t, ctx):
    shape = ctx.partner_shape(t.shape)
    if shape == t.shape:
        return None
    return Proposal((Operand(t.with_shape(shape)),), {"shape": t.shape})


def _propose_concatenate(t, ctx):
    axes = [i for i, d in enumerate(t.shape) if d >= 2]
    if not axes:
        return None
    axis = ctx.draw.choice(axes)
    operands = tuple(Operand(_resize_axis(t, axis, p)) for p in _split_parts(t.shape[axis], ctx))
    return Proposal(operands, {"axis": axis})


def _propose_stack(t, ctx):
    axes = [i for i, d in enumerate(t.shape) if 2 <= d <= 4]
    if not axes:
        return None
    axis = ctx.draw.choice(axes)
    part = t.with_shape(t.shape[:axis] + t.shape[axis + 1 :])
    return Proposal(tuple(Operand(part) for _ in range(t.shape[axis])), {"axis": axis})


def _propose_slice(t, ctx):
    if t.rank == 0 or ctx.draw.bernoulli(0.25):
        if t.rank >= 3:
            return None
        axis = ctx.draw.randint(0, min(t.rank, 1))
        size = ctx.pick_dim()
        index = ctx.draw.randint(-size, size - 1)
        shape = t.shape[:axis] + (size,) + t.shape[axis:]
        return Proposal((Operand(t.with_shape(shape)),), {"axis": axis, "index": index})
    axis = ctx.draw.randint(0, t.rank - 1)
    d = t.shape[axis]
    step = 2 if ctx.draw.bernoulli(0.3) else 1
    span = (d - 1) * step + 1
    extra = ctx.draw.randint(0 if step == 1 else 0, 3)
    if step == 1 and extra == 0:
        extra = 1
    start = ctx.draw.randint(0, extra)
    total = span + extra
    shape = t.shape[:axis] + (total,) + t.shape[axis + 1 :]
    stop = start + span
    return Proposal((Operand(t.with_shape(shape)),),
                    {"axis": axis, "start": start, "stop": None if stop >= total else stop, "step": step})


def _slice_tuple(params) -> tuple:
    if "index" in params:
        return (slice(None),) * params["axis"] + (params["index"],)
    step = None if params["step"] == 1 else params["step"]
    return (slice(None),) * params["axis"] + (slice(params["start"] or None, params["stop"], step),)


def _slice_type(types, params):
    (t,) = types
    return t.with_shape(np.empty(t.shape, dtype=np.bool_)[_slice_tuple(params)].shape)


def _render_slice(args, params):
    elements = []
    for item in _slice_tuple(params):
        if isinstance(item, slice):
            sl = cst.Slice(
                lower=None if item.start is None else literal(item.start),
                upper=None if item.stop is None else literal(item.stop),
                step=None if item.step is None else literal(item.step),
            )
            elements.append(cst.SubscriptElement(sl))
        else:
            elements.append(cst.SubscriptElement(cst.Index(literal(item))))
    return cst.Subscript(value=atom(args[0]), slice=elements)


def _propose_pad(t, ctx):
    if t.rank == 0:
        return None
    pads = []
    for d in t.shape:
        if d < 2 or ctx.draw.bernoulli(0.4):
            pads.append((0, 0))
            continue
        before = ctx.draw.randint(0, min(2, d - 1))
        after = ctx.draw.randint(0 if before else 1, min(2, d - 1 - before))
        pads.append((before, after))
    if all(p == (0, 0) for p in pads):
        return None
    shape = tuple(d - b - a for d, (b, a) in zip(t.shape, pads, strict=True))
    return Proposal((Operand(t.with_shape(shape)),), {"pad": tuple(pads)})


def _propose_take(t, ctx):
    if t.rank == 0 or t.rank > 3:
        return None
    axis = ctx.draw.randint(0, t.rank - 1)
    source = ctx.pick_dim()
    indices = tuple(ctx.draw.randint(0, source - 1) for _ in range(t.shape[axis]))
    shape = t.shape[:axis] + (source,) + t.shape[axis + 1 :]
    return Proposal((Operand(t.with_shape(shape)),), {"axis": axis, "indices": indices})


def _resize_axis(t: TensorType, axis: int, size: int) -> TensorType:
    return t.with_shape(t.shape[:axis] + (size,) + t.shape[axis + 1 :])


def _propose_flip(t, ctx):
    return None if t.rank == 0 else Proposal((Operand(t),), {"axis": ctx.draw.randint(0, t.rank - 1)})


def _render_take(args, params):
    indices = array_literal(params["indices"])
    return call("jnp.take", args[0], indices, axis=params["axis"])


def _propose_roll(t, ctx):
    if t.rank == 0 or t.size < 2:
        return None
    if ctx.draw.bernoulli(0.2):  # no axis: the flattened array rolls
        return Proposal((Operand(t),), {"shift": _nonzero_shift(t.size, ctx), "axis": None})
    axes = [i for i, d in enumerate(t.shape) if d >= 2]
    axis = ctx.draw.choice(axes)
    return Proposal((Operand(t),), {"shift": _nonzero_shift(t.shape[axis], ctx), "axis": axis})


def _nonzero_shift(d: int, ctx: Context) -> int:
    """A shift that moves elements: 1..d-1 either way, now and then past the length (it wraps around)."""
    shift = ctx.draw.randint(1, d - 1) + (d if ctx.draw.bernoulli(0.1) else 0)
    return -shift if ctx.draw.bernoulli(0.4) else shift


def _render_roll(args, params):
    if params["axis"] is None:
        return call("jnp.roll", args[0], literal(params["shift"]))
    return call("jnp.roll", args[0], literal(params["shift"]), axis=params["axis"])


#: Repeat counts of ``tile`` and ``repeat``: an output axis of length d comes from one of d / r for r dividing d.
REPEATS = (2, 3, 4)


def _repeat_counts(d: int) -> list[int]:
    return [r for r in REPEATS if d % r == 0]


def _propose_tile(t, ctx):
    axes = [i for i, d in enumerate(t.shape) if _repeat_counts(d)]
    if t.rank >= 2 and 2 <= t.shape[0] <= 4 and ctx.draw.bernoulli(0.25):
        # reps longer than the operand's rank: a new leading axis (``jnp.tile(x, (3, 1, 1))``)
        return Proposal((Operand(t.with_shape(t.shape[1:])),), {"reps": (t.shape[0],) + (1,) * (t.rank - 1)})
    if not axes:
        return None
    reps = [1] * t.rank
    for axis in axes:
        if axis == axes[0] or ctx.draw.bernoulli(0.3):
            reps[axis] = ctx.draw.choice(_repeat_counts(t.shape[axis]))
    shape = tuple(d // r for d, r in zip(t.shape, reps, strict=True))
    return Proposal((Operand(t.with_shape(shape)),), {"reps": tuple(reps)})


def _tile_type(types, params):
    (t,), reps = types, params["reps"]
    shape = (1,) * (len(reps) - t.rank) + t.shape
    return t.with_shape(tuple(d * r for d, r in zip(shape, reps, strict=True)))


def _propose_repeat(t, ctx):
    axes = [i for i, d in enumerate(t.shape) if _repeat_counts(d)]
    if not axes:
        return None
    axis = ctx.draw.choice(axes)
    repeats = ctx.draw.choice(_repeat_counts(t.shape[axis]))
    return Proposal((Operand(_resize_axis(t, axis, t.shape[axis] // repeats)),), {"repeats": repeats, "axis": axis})


def _propose_swapaxes(t, ctx):
    if t.rank < 2:
        return None
    a = ctx.draw.randint(0, t.rank - 2)
    b = ctx.draw.randint(a + 1, t.rank - 1)
    if ctx.draw.bernoulli(0.5):
        a, b = b, a  # the same swap either way; both orders appear in real code
    return Proposal((Operand(t.with_shape(_swapped(t.shape, a, b))),),
                    {"axes": (a, b), "style": ctx.draw.choice(("fn", "fn", "method"))})


def _swapped(shape: tuple[int, ...], a: int, b: int) -> tuple[int, ...]:
    out = list(shape)
    out[a], out[b] = out[b], out[a]
    return tuple(out)


def _render_swapaxes(args, params):
    a, b = params["axes"]
    if params["style"] == "method":
        return method(args[0], "swapaxes", literal(a), literal(b))
    return call("jnp.swapaxes", args[0], literal(a), literal(b))


def _propose_rot90(t, ctx):
    """``jnp.rot90(x, k, axes)``: quarter turns of an image or a board (data augmentation, symmetries); ``k`` 1 to 3
    or -1, in the plane of the first two axes (the default) or another pair."""
    if t.rank < 2:
        return None
    axes = (0, 1) if ctx.draw.bernoulli(0.6) else (ctx.draw.randint(0, t.rank - 2), t.rank - 1)
    k = ctx.draw.choice((1, 1, 2, 3, -1))
    shape = _swapped(t.shape, *axes) if k % 2 else t.shape
    return Proposal((Operand(t.with_shape(shape)),), {"k": k, "axes": axes})


def _rot90_type(types, params):
    (t,), (a, b) = types, params["axes"]
    if not a < b < t.rank:
        raise TypeError(f"rot90: {t} has no axes {params['axes']}")
    return t.with_shape(_swapped(t.shape, a, b) if params["k"] % 2 else t.shape)


def _render_rot90(args, params):
    kwargs = {} if params["axes"] == (0, 1) else {"axes": literal(params["axes"])}
    return call("jnp.rot90", args[0], k=params["k"], **kwargs)


def _moved_order(rank: int, source: int, destination: int) -> list[int]:
    """``jnp.moveaxis(x, source, destination).shape[i] == x.shape[order[i]]``."""
    order = [i for i in range(rank) if i != source]
    order.insert(destination, source)
    return order


def _propose_moveaxis(t, ctx):
    if t.rank < 3:
        return None
    source = ctx.draw.randint(0, t.rank - 1)
    destination = ctx.draw.choice([i for i in range(t.rank) if i != source])
    order = _moved_order(t.rank, source, destination)
    shape = [0] * t.rank
    for i, j in enumerate(order):
        shape[j] = t.shape[i]
    # a negative destination, as in ``jnp.moveaxis(x, 1, -1)``, half the time it names the last axis
    rendered = destination - t.rank if destination == t.rank - 1 and ctx.draw.bernoulli(0.5) else destination
    return Proposal((Operand(t.with_shape(tuple(shape))),), {"source": source, "destination": rendered})


def _moveaxis_type(types, params):
    (t,) = types
    order = _moved_order(t.rank, params["source"], params["destination"] % t.rank)
    return t.with_shape(tuple(t.shape[i] for i in order))


def _diagonal_length(n: int, m: int, offset: int) -> int:
    return max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))


def _around_diagonal(length: int, offset: int, extra: int, wide: bool = False) -> tuple[int, int]:
    """The sides of a matrix whose ``offset``-th diagonal has ``length`` entries, with ``extra`` rows (``wide``:
    columns) past the last one, on the side the diagonal does not reach."""
    long = length + abs(offset)
    if wide:
        return (length, long + extra) if offset >= 0 else (long + extra, length)
    return (length + extra, long) if offset >= 0 else (long, length + extra)


def _propose_diagonal(t, ctx):
    if t.rank == 0 or t.rank > 2:  # an operand of rank 3 at most
        return None
    offset = ctx.draw.choice((0, 0, 1, -1))
    extra = ctx.draw.randint(0, 2)
    n, m = _around_diagonal(t.shape[-1], offset, extra, wide=ctx.draw.bernoulli(0.5))
    # the diagonal of the last two axes: ``jnp.diagonal``'s default axes (0, 1) on a matrix, named on a batch
    return Proposal((Operand(t.with_shape(t.shape[:-1] + (n, m))),), {"offset": offset, "batched": t.rank >= 2})


def _diagonal_type(types, params):
    (t,) = types
    if t.rank < 2:
        raise TypeError(f"diagonal needs rank >= 2, got {t}")
    n, m = t.shape[-2:]
    return t.with_shape(t.shape[:-2] + (_diagonal_length(n, m, params["offset"]),))


def _render_diagonal(args, params):
    kwargs = {"offset": params["offset"]} if params["offset"] else {}
    if params["batched"]:
        kwargs.update(axis1=-2, axis2=-1)
    return call("jnp.diagonal", args[0], **kwargs)


def _split_parts(d: int, ctx: Context) -> list[int] | None:
    """``d`` as 2 (or now and then 3) positive parts, as ``concatenate`` splits an axis."""
    if d < 2:
        return None
    parts = [ctx.draw.randint(1, d - 1)]
    parts.append(d - parts[0])
    if parts[1] >= 2 and ctx.draw.bernoulli(0.3):
        split = ctx.draw.randint(1, parts[1] - 1)
        parts = [parts[0], split, parts[1] - split]
    return parts


def _propose_hstack(t, ctx):
    """``jnp.hstack([a, b])``: vectors end to end, or matrices side by side (feature blocks of a batch)."""
    if t.rank not in (1, 2):
        return None
    parts = _split_parts(t.shape[-1], ctx)
    return None if parts is None else Proposal(tuple(Operand(_resize_axis(t, t.rank - 1, p)) for p in parts))


def _propose_vstack(t, ctx):
    """``jnp.vstack([a, b])``: blocks of rows, a vector standing for one row (``atleast_2d``): a batch grown by
    a row, or rows gathered into a matrix."""
    if t.rank != 2:
        return None
    if 2 <= t.shape[0] <= 4 and ctx.draw.bernoulli(0.4):
        return Proposal(tuple(Operand(t.with_shape(t.shape[1:])) for _ in range(t.shape[0])))
    parts = _split_parts(t.shape[0], ctx)
    if parts is None:
        return None
    return Proposal(tuple(Operand(t.with_shape(t.shape[1:]) if p == 1 and ctx.draw.bernoulli(0.5) else
                                  _resize_axis(t, 0, p)) for p in parts))


def _propose_column_stack(t, ctx):
    """``jnp.column_stack([a, b])``: vectors as the columns of a matrix (features side by side), a matrix as its
    block of columns."""
    if t.rank != 2:
        return None
    parts = _split_parts(t.shape[1], ctx)
    if parts is None:
        return None
    return Proposal(tuple(Operand(t.with_shape(t.shape[:1]) if p == 1 and ctx.draw.bernoulli(0.7) else
                                  _resize_axis(t, 1, p)) for p in parts))


def _joined_type(name: str, axis_of: Callable[[int], int], as_part: Callable[[TensorType], TensorType]):
    """The type rule of a joining op that reshapes each operand (``as_part``) and concatenates them along
    ``axis_of(rank)`` of the reshaped rank (numpy's rule: parts of one rank, the same dims off the axis)."""
    def rule(types, params):
        parts = [as_part(t) for t in types]
        rank = parts[0].rank
        axis = axis_of(rank)
        if rank == 0 or any(p.rank != rank or p.dtype is not parts[0].dtype or
                            p.shape[:axis] + p.shape[axis + 1:] != parts[0].shape[:axis] + parts[0].shape[axis + 1:]
                            for p in parts):
            raise TypeError(f"{name}: parts {types} do not join")
        return _resize_axis(parts[0], axis, sum(p.shape[axis] for p in parts))

    return rule


def _as_row(t: TensorType) -> TensorType:
    return t.with_shape((1,) * (2 - t.rank) + t.shape) if t.rank < 2 else t


def _as_column(t: TensorType) -> TensorType:
    return t.with_shape(t.shape + (1,) * (2 - t.rank)) if t.rank < 2 else t


def _render_joined(name: str):
    return lambda a, p: call(f"jnp.{name}", listed(a))


def _propose_diag(t, ctx):
    """``jnp.diag(v, k)``: a vector laid on a matrix's diagonal (or the ``k``-th above or below it), zeros
    elsewhere (a diagonal scaling, a mask); or, wanted a vector, a matrix's diagonal read back (variances from a
    covariance)."""
    k = ctx.draw.choice((0, 0, 0, 1, -1))
    if t.rank == 2 and t.shape[0] == t.shape[1] > abs(k):
        return Proposal((Operand(t.with_shape((t.shape[0] - abs(k),))),), {"k": k})
    if t.rank != 1:
        return None
    return Proposal((Operand(t.with_shape(_around_diagonal(t.shape[0], k, ctx.draw.randint(0, 2)))),), {"k": k})


def _diag_type(types, params):
    (t,), k = types, params["k"]
    if t.rank == 1:
        return t.with_shape((t.shape[0] + abs(k),) * 2)
    if t.rank != 2:
        raise TypeError(f"diag: {t} is not a vector or a matrix")
    return t.with_shape((_diagonal_length(*t.shape, k),))


def _render_diag(args, params):
    return call("jnp.diag", args[0], **({"k": params["k"]} if params["k"] else {}))


def _shape_op(name, propose, type_rule, reference, render, range_rule=_same):
    return OpSpec(name, "shape", name, ALL, propose, type_rule, range_rule, reference, render,
                  special_values=True)  # data movement: exact on every value


def _render_expand_dims(a, p):
    return call("jnp.expand_dims", a[0], axis=p["axis"])


SHAPE = (
    _shape_op("reshape", _propose_reshape, lambda t, p: t[0].with_shape(p["shape"]),
              lambda a, p: np.reshape(a[0], p["shape"]), _render_reshape),
    _shape_op("transpose", _propose_transpose, lambda t, p: t[0].with_shape(tuple(t[0].shape[i] for i in p["perm"])),
              lambda a, p: np.transpose(a[0], p["perm"]), _render_transpose),
    _shape_op("expand_dims", _propose_expand_dims,
              lambda t, p: t[0].with_shape(t[0].shape[: p["axis"]] + (1,) + t[0].shape[p["axis"] :]),
              lambda a, p: np.expand_dims(a[0], p["axis"]), _render_expand_dims),
    _shape_op("squeeze", _propose_squeeze,
              lambda t, p: t[0].with_shape(t[0].shape[: p["axis"]] + t[0].shape[p["axis"] + 1 :]),
              lambda a, p: np.squeeze(a[0], p["axis"]), lambda a, p: call("jnp.squeeze", a[0], axis=p["axis"])),
    _shape_op("broadcast_to", _propose_broadcast_to, lambda t, p: t[0].with_shape(p["shape"]),
              lambda a, p: np.broadcast_to(a[0], p["shape"]),
              lambda a, p: call("jnp.broadcast_to", a[0], literal(p["shape"]))),
    _shape_op("concatenate", _propose_concatenate,
              lambda t, p: _resize_axis(t[0], p["axis"], sum(x.shape[p["axis"]] for x in t)),
              lambda a, p: np.concatenate(a, axis=p["axis"]),
              lambda a, p: call("jnp.concatenate", listed(a), axis=p["axis"]), _hull_all),
    _shape_op("stack", _propose_stack,
              lambda t, p: t[0].with_shape(t[0].shape[: p["axis"]] + (len(t),) + t[0].shape[p["axis"] :]),
              lambda a, p: np.stack(a, axis=p["axis"]),
              lambda a, p: call("jnp.stack", listed(a), axis=p["axis"]), _hull_all),
    # numpy's joining helpers: concatenations after atleast_1d / atleast_2d / vectors as columns
    _shape_op("hstack", _propose_hstack, _joined_type("hstack", lambda r: 0 if r == 1 else 1, lambda t: t),
              lambda a, p: np.hstack(a), _render_joined("hstack"), _hull_all),
    _shape_op("vstack", _propose_vstack, _joined_type("vstack", lambda r: 0, _as_row),
              lambda a, p: np.vstack(a), _render_joined("vstack"), _hull_all),
    _shape_op("column_stack", _propose_column_stack, _joined_type("column_stack", lambda r: 1, _as_column),
              lambda a, p: np.column_stack(a), _render_joined("column_stack"), _hull_all),
    _shape_op("slice", _propose_slice, _slice_type, lambda a, p: a[0][_slice_tuple(p)], _render_slice),
    _shape_op("flip", _propose_flip, lambda t, p: t[0], lambda a, p: np.flip(a[0], p["axis"]),
              lambda a, p: call("jnp.flip", a[0], axis=p["axis"])),
    _shape_op("pad", _propose_pad,
              lambda t, p: t[0].with_shape(tuple(d + b + a for d, (b, a) in zip(t[0].shape, p["pad"], strict=True))),
              lambda a, p: np.pad(a[0], p["pad"]), lambda a, p: call("jnp.pad", a[0], literal(p["pad"])),
              lambda i, t, o, p: i[0].hull(Interval(0, 0))),
    _shape_op("roll", _propose_roll, lambda t, p: t[0], lambda a, p: np.roll(a[0], p["shift"], axis=p["axis"]),
              _render_roll),
    _shape_op("tile", _propose_tile, _tile_type, lambda a, p: np.tile(a[0], p["reps"]),
              lambda a, p: call("jnp.tile", a[0], literal(p["reps"]))),
    _shape_op("repeat", _propose_repeat,
              lambda t, p: _resize_axis(t[0], p["axis"], t[0].shape[p["axis"]] * p["repeats"]),
              lambda a, p: np.repeat(a[0], p["repeats"], axis=p["axis"]),
              lambda a, p: call("jnp.repeat", a[0], literal(p["repeats"]), axis=p["axis"])),
    _shape_op("swapaxes", _propose_swapaxes, lambda t, p: t[0].with_shape(_swapped(t[0].shape, *p["axes"])),
              lambda a, p: np.swapaxes(a[0], *p["axes"]), _render_swapaxes),
    _shape_op("rot90", _propose_rot90, _rot90_type, lambda a, p: np.rot90(a[0], p["k"], p["axes"]), _render_rot90),
    _shape_op("moveaxis", _propose_moveaxis, _moveaxis_type,
              lambda a, p: np.moveaxis(a[0], p["source"], p["destination"]),
              lambda a, p: call("jnp.moveaxis", a[0], literal(p["source"]), literal(p["destination"]))),
    _shape_op("diagonal", _propose_diagonal, _diagonal_type,
              lambda a, p: np.diagonal(a[0], p["offset"], -2, -1).copy(), _render_diagonal),
    # a vector laid on a diagonal among zeros, or a matrix's diagonal read back
    _shape_op("diag", _propose_diag, _diag_type, lambda a, p: np.diag(a[0], p["k"]).copy(), _render_diag,
              lambda i, t, o, p: i[0].hull(Interval(0, 0)) if t[0].rank == 1 else i[0]),
    _shape_op("take", _propose_take,
              lambda t, p: _resize_axis(t[0], p["axis"], len(p["indices"])),
              lambda a, p: np.take(a[0], p["indices"], axis=p["axis"]),
              _render_take),
)

TENSOR_OPS = REDUCTIONS + LINALG + SHAPE
