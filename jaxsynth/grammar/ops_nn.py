"""jax.nn activations and normalizers, ``jax.scipy.special`` functions and ``jnp.logaddexp``.

These are what put ``custom_jvp_call`` (relu, gelu, silu, softplus, logsumexp, softmax, ...) and the
special-function primitives (``erf_inv``, ``lgamma``, ``digamma``, ``erfc``) into real JAXPRs.

Every domain is kept by construction: ``erf_inv`` takes values in [-0.99, 0.99], ``logit`` in
[0.01, 0.99], ``gammaln`` and ``digamma`` only positive arguments >= 0.1 (away from their poles at
0, -1, -2, ...), ``xlogy`` a positive second operand. The numpy references of the special functions are
``scipy.special`` ufuncs (the fuzzer evaluates them on arrays of up to 10^6 elements in every perturbed run),
NaN outside their domain. The interval rules compute bounds with ``math`` and two scalar functions of their
own: ``digamma`` by recurrence and the asymptotic series, ``erfinv`` by Newton steps on ``math.erf``.

Ops whose rounding error is not relative to their result (cancellation in ``logsumexp``, ``logit``,
``gammaln`` and ``digamma`` near their zeros, ``standardize``) declare an ``error_scale`` (see
``OpSpec``) so the fuzzer's simulated rounding covers it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import libcst as cst
import ml_dtypes
import numpy as np
import scipy.special

from jaxsynth.grammar.ops_elementwise import (
    broadcast_type,
    corners,
    erf,
    monotone,
    positive_need,
    propose_elementwise,
)
from jaxsynth.grammar.opspec import Context, Operand, OpSpec, Proposal, array_literal, call, dtype_expr, literal
from jaxsynth.grammar.types import FLOATS, DType, Interval, TensorType

INF = math.inf
SQRT2 = math.sqrt(2.0)
#: The dtypes of the ``jax.scipy.special`` functions that reject float16 and bfloat16 (``ndtr`` and its kin).
WIDE_FLOATS = frozenset({DType.float32, DType.float64})


# ---------------------------------------------------------------- special functions (scipy.special references)


def _poles(x: np.ndarray) -> np.ndarray:
    """Where ``gammaln`` and ``digamma`` have a pole (0, -1, -2, ...)."""
    return (x <= 0) & (x == np.floor(x))


def _outside(domain: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``value`` with NaN outside ``domain``: the fuzzer's perturbed runs may leave an op's domain by a rounding
    error, and a NaN there is a discontinuity (as a numpy ufunc's NaN is)."""
    return np.where(domain, value, np.nan)


def erfc(x: np.ndarray) -> np.ndarray:
    return scipy.special.erfc(np.asarray(x, dtype=np.float64))


def lgamma(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return _outside(~_poles(x), scipy.special.gammaln(x))


def _digamma_scalar(x: float) -> float:
    """psi(x) for x > 0: recurrence up to x >= 12, then the asymptotic series (error < 1e-14)."""
    acc = 0.0
    while x < 12.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
    return acc + math.log(x) - 0.5 / x - series


def digamma(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return _outside(~_poles(x), scipy.special.digamma(x))


def _erfinv_scalar(y: float) -> float:
    """erf^-1(y) for |y| < 1: a logarithmic first guess refined by Newton steps on ``math.erf``."""
    if y == 0.0:
        return 0.0
    w = -math.log((1.0 - y) * (1.0 + y))
    x = math.copysign(math.sqrt(max(w - math.log(max(w, 1e-300)) / 2, 0.0) if w > 1 else w * math.pi / 4), y)
    for _ in range(60):
        step = (math.erf(x) - y) / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
        x -= step
        if abs(step) <= 1e-16 * max(1.0, abs(x)):
            break
    return x


def erfinv(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return _outside(np.abs(y) < 1.0, scipy.special.erfinv(y))


def _gelu(x: np.ndarray, approximate: bool) -> np.ndarray:
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + erf(x / SQRT2))


def _gelu_scalar(x: float, approximate: bool) -> float:
    return float(_gelu(np.asarray(x, dtype=np.float64), approximate))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, 0.0)


def _logsumexp(x: np.ndarray, axis) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


STANDARDIZE_EPSILON = 1e-5


def _standardize(x: np.ndarray, axis: int) -> np.ndarray:
    mean = np.mean(x, axis=axis, keepdims=True)
    var = np.mean(np.square(x - mean), axis=axis, keepdims=True)
    return (x - mean) / np.sqrt(var + STANDARDIZE_EPSILON)


# ---------------------------------------------------------------- interval helpers


def valley(f: Callable[[float], float], where: tuple[float, float], floor: float, x: Interval) -> Interval:
    """Range of a function that decreases, then increases, with its minimum ``floor`` attained somewhere
    in ``where``: the maximum is at an end point, the minimum too unless the interval meets ``where``."""
    ends = (f(x.lo), f(x.hi))
    lo = floor if x.lo <= where[1] and x.hi >= where[0] else min(ends)
    return Interval(min(lo, *ends), max(ends))


def underflow_floor(dtype: DType) -> float:
    """Results of exponentially small tails (erfc, softplus, ...) stay above sqrt(smallest normal), so
    they are never flushed or subnormal, even after later products amplify them."""
    return math.sqrt(float(ml_dtypes.finfo(dtype.np_dtype).tiny))


def _negative_tail(f: Callable[[float], float]) -> Callable[[Interval, dict], float]:
    """The tail toward -inf of a function that decays there (its value at ``x.lo``; 1 when x.lo >= -1)."""
    return lambda x, p: f(x.lo) if x.lo < -1 else 1.0


# ---------------------------------------------------------------- rows


def _propose_unary(need: Interval | None = None, params: Callable[[TensorType, Context], dict] | None = None,
                   dtypes: frozenset[DType] = FLOATS):
    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        if t.dtype not in dtypes:
            return None
        return Proposal((Operand(t, need),), params(t, ctx) if params else {})

    return propose


def _unary(
    name: str,
    render: str | Callable,
    range_fn: Callable[[Interval, dict], Interval | None],
    reference: Callable[[np.ndarray, dict], np.ndarray],
    *,
    category: str = "nn",
    need: Interval | None = None,
    params: Callable[[TensorType, Context], dict] | None = None,
    kwargs: tuple[str, ...] = (),
    error_scale=None,
    tail: Callable[[Interval, dict], float] | None = None,
    squares: Callable[[Interval, dict], float] | None = None,
    weight: float = 1.0,
    dtypes: frozenset[DType] = FLOATS,
    since: tuple[int, ...] = (),
    narrow_in_float32: bool = False,
) -> OpSpec:
    """A float -> float elementwise row rendered ``render(x, **{k: params[k] for k in kwargs})`` (or by ``render``
    itself where it is a function of the rendered operands and params).

    ``tail(x, params)`` is the smallest magnitude the op's exponentially decaying tail reaches on ``x``;
    the op is placed only where it stays above ``underflow_floor`` of the dtype. ``squares(x, params)`` is the
    largest magnitude the op squares inside itself in the dtype (``x`` for ``squareplus``, the standardized
    ``x`` of the Cauchy and t densities); the op is placed only where its square stays below
    ``DType.intermediate_cap``."""

    def range_rule(ins, types, out, p):
        if tail is not None and abs(tail(ins[0], p)) < underflow_floor(types[0].dtype):
            return None
        if squares is not None and squares(ins[0], p) ** 2 > types[0].dtype.intermediate_cap:
            return None
        return range_fn(ins[0], p)

    family = f"{category}_{name}" if need is not None or params is not None or dtypes != FLOATS else f"{category}_unary"
    return OpSpec(
        name=name,
        category=category,
        family=family,
        dtypes=dtypes,
        propose=_propose_unary(need, params, dtypes),
        type_rule=lambda types, p: types[0],
        range_rule=range_rule,
        reference=lambda args, p: reference(args[0], p),
        render=render if callable(render) else lambda args, p: call(render, args[0], **{k: p[k] for k in kwargs}),
        error_scale=error_scale,
        weight=weight,
        since=since,
        narrow_in_float32=narrow_in_float32,
    )


def _relu6_range(x: Interval, p) -> Interval:
    return Interval(min(max(x.lo, 0.0), 6.0), min(max(x.hi, 0.0), 6.0))


def _sparse_plus_scalar(v: float) -> float:
    return 0.0 if v <= -1.0 else v if v >= 1.0 else (v + 1.0) ** 2 / 4.0


def _sparse_plus(x: np.ndarray) -> np.ndarray:
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, np.square(x + 1.0) / 4.0))


def _elu_range(x: Interval, p) -> Interval:
    return monotone(lambda v: v if v > 0 else math.expm1(v), x)


def _leaky_range(x: Interval, p) -> Interval:
    s = p["negative_slope"]
    return monotone(lambda v: v if v >= 0 else s * v, x)


def _gelu_range(x: Interval, p) -> Interval:
    # gelu decreases on (-inf, ~-0.752] and increases after; its minimum is about -0.16997 (both forms).
    return valley(lambda v: _gelu_scalar(v, p["approximate"]), (-0.76, -0.74), -0.1701, x)


def _silu_scalar(v: float) -> float:
    return v / (1.0 + math.exp(-v)) if v > -700 else 0.0


def _silu_range(x: Interval, p) -> Interval:
    # x * sigmoid(x): minimum about -0.278465 at x ~ -1.27846.
    return valley(_silu_scalar, (-1.29, -1.27), -0.27847, x)


def _softplus_scalar(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _log1mexp_scalar(v: float) -> float:
    """``log(1 - exp(-v))`` for ``v > 0``, by Maechler's switch at ``log 2`` (as JAX computes it)."""
    return math.log(-math.expm1(-v)) if v < math.log(2.0) else math.log1p(-math.exp(-v))


def _log1mexp(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x < math.log(2.0), np.log(-np.expm1(-x)), np.log1p(-np.exp(-x)))


#: ``jax.nn.selu``'s constants (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _selu_scalar(v: float) -> float:
    return SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v))


def _celu_scalar(v: float, alpha: float) -> float:
    return v if v > 0 else alpha * math.expm1(v / alpha)


def _hard_silu_scalar(v: float) -> float:
    return v * min(max(v + 3.0, 0.0), 6.0) / 6.0


def _hard_silu_range(x: Interval, p) -> Interval:
    # x * relu6(x + 3) / 6: 0 up to -3, down to its minimum -0.375 at -1.5, then up
    return valley(_hard_silu_scalar, (-1.5, -1.5), -0.375, x)


def _mish_scalar(v: float) -> float:
    return v * math.tanh(_softplus_scalar(v))


def _squareplus_scalar(v: float, b: float) -> float:
    return (v + math.sqrt(v * v + b)) / 2.0


def _squareplus_params(t, ctx):
    return {"b": ctx.draw.choice((4.0, 4.0, 1.0))}


def _squareplus_render(args, p):
    return call("jax.nn.squareplus", args[0]) if p["b"] == 4.0 else call("jax.nn.squareplus", args[0], b=p["b"])


def _squareplus_error(args, p, value) -> np.ndarray:
    # x + sqrt(x**2 + b) cancels where x is very negative: an error of about |x| ulps, whatever the result
    return 1.0 + np.abs(args[0])


def _celu_params(t, ctx):
    return {"alpha": ctx.draw.choice((1.0, 1.0, 0.5, 2.0))}


def _celu_render(args, p):
    return call("jax.nn.celu", args[0]) if p["alpha"] == 1.0 else call("jax.nn.celu", args[0], alpha=p["alpha"])


def _gelu_params(t, ctx):
    return {"approximate": ctx.draw.bernoulli(0.5)}


def _leaky_params(t, ctx):
    return {"negative_slope": ctx.draw.choice((0.01, 0.2))}


def _lgamma_range(x: Interval, p) -> Interval | None:
    if x.lo < 0.1:
        return None
    # lgamma decreases on (0, 1.4616] and increases after; minimum -0.1214863.
    return valley(math.lgamma, (1.46, 1.47), -0.12149, x)


#: XLA computes ``lgamma`` and ``digamma`` with a Lanczos approximation around ``t = x + 7.5``: their
#: absolute error grows with the size of that formula's terms, ``(x + 0.5) log t``, ``t`` and the rounding of
#: the Lanczos series (a constant 16 ulps), not only with the size of the result. Measured against the
#: float64 references on 200,000 float32 points of [0.1, 1e4] (jaxlib 0.10.2): errors up to 19 eps for
#: ``digamma`` (near 0.1) and 47 eps for ``gammaln`` (near 10), at most 0.7 of these scales. With the terms
#: of the result alone, ``digamma`` of about 0.87 (10 eps off) failed a ``models`` campaign (seed 43, 161).
LANCZOS_SERIES_ULPS = 16.0


def _lgamma_error(args, p, value) -> np.ndarray:
    # absolute, not relative, error near the zeros at 1 and 2: scale by the size of the terms
    x = np.abs(args[0])
    t = x + 7.5
    return 1.0 + np.abs(lgamma(x)) + np.abs(x * np.log(x)) + (x + 0.5) * np.log(t) + t + LANCZOS_SERIES_ULPS


def _digamma_error(args, p, value) -> np.ndarray:
    x = np.abs(args[0])
    return 1.0 + np.abs(np.log(x)) + 1.0 / x + np.log(x + 7.5) + LANCZOS_SERIES_ULPS


def _gelu_error(args, p, value) -> np.ndarray:
    # x/2 * (1 + tanh(z)) (or 1 + erf on JAX releases before the erfc form): where x is very negative the
    # cdf factor is a difference of two numbers near 1, so tanh's (erf's) few ulps of rounding at 1 become
    # an absolute error of about |x| ulps in the result, however small the result is
    return 1.0 + np.abs(args[0])


def _ndtr_scalar(v: float) -> float:
    return 0.5 * math.erfc(-v / SQRT2)


def _ndtri_scalar(p: float) -> float:
    return SQRT2 * _erfinv_scalar(2.0 * p - 1.0)


def _absolute_error(args, p, value) -> np.ndarray:
    """An error of an ulp of 1 (or of the result where larger): ``log_ndtr`` near 0 is ``log`` of a number near 1,
    ``sinc`` a quotient of a rounded ``sin(pi x)`` by ``pi x``."""
    return 1.0 + np.abs(value)


def _i0e_range(x: Interval, p) -> Interval:
    # decreases in |x| from i0e(0) = 1
    far = max(abs(x.lo), abs(x.hi))
    near = 0.0 if x.lo <= 0.0 <= x.hi else min(abs(x.lo), abs(x.hi))
    return Interval(float(scipy.special.i0e(far)), float(scipy.special.i0e(near)))


#: ``i1e``'s extremes: +-0.219092 at x ~ +-1.5451; odd, increasing on [-1.5451, 1.5451].
I1E_PEAK = 0.2191


def _i1e_range(x: Interval, p) -> Interval:
    if x.within(Interval(-1.545, 1.545)):
        return monotone(lambda v: float(scipy.special.i1e(v)), x)
    return Interval(-I1E_PEAK, I1E_PEAK)


def _logit_error(args, p, value) -> np.ndarray:
    x = np.asarray(args[0])
    return 1.0 + 1.0 / (x * (1.0 - x))


ELEMENTWISE_NN = (
    _unary("relu", "jax.nn.relu", lambda x, p: Interval(max(x.lo, 0.0), max(x.hi, 0.0)),
           lambda x, p: np.maximum(x, 0.0), weight=2.0),
    _unary("relu6", "jax.nn.relu6", _relu6_range, lambda x, p: np.clip(x, 0.0, 6.0)),
    _unary("gelu", "jax.nn.gelu", _gelu_range, lambda x, p: _gelu(x, p["approximate"]), params=_gelu_params,
           kwargs=("approximate",), weight=1.5, error_scale=_gelu_error,
           tail=lambda x, p: _gelu_scalar(x.lo, p["approximate"]) if x.lo < -1 else 1.0),
    _unary("silu", "jax.nn.silu", _silu_range, lambda x, p: x / (1.0 + np.exp(-x)), weight=1.5,
           tail=_negative_tail(_silu_scalar)),
    _unary("softplus", "jax.nn.softplus", lambda x, p: monotone(_softplus_scalar, x), lambda x, p: _softplus(x),
           tail=lambda x, p: _softplus_scalar(x.lo)),
    _unary("log_sigmoid", "jax.nn.log_sigmoid", lambda x, p: monotone(lambda v: -_softplus_scalar(-v), x),
           lambda x, p: -_softplus(-x), tail=lambda x, p: _softplus_scalar(-x.hi)),
    _unary("elu", "jax.nn.elu", _elu_range, lambda x, p: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))),
    _unary("leaky_relu", "jax.nn.leaky_relu", _leaky_range,
           lambda x, p: np.where(x >= 0, x, p["negative_slope"] * x), params=_leaky_params,
           kwargs=("negative_slope",)),
    _unary("selu", "jax.nn.selu", lambda x, p: monotone(_selu_scalar, x),
           lambda x, p: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))), weight=0.5),
    _unary("celu", _celu_render, lambda x, p: monotone(lambda v: _celu_scalar(v, p["alpha"]), x),
           lambda x, p: np.where(x > 0, x, p["alpha"] * np.expm1(np.minimum(x, 0.0) / p["alpha"])),
           params=_celu_params, weight=0.5),
    _unary("hard_tanh", "jax.nn.hard_tanh", lambda x, p: Interval(min(max(x.lo, -1.0), 1.0), max(min(x.hi, 1.0), -1.0)),
           lambda x, p: np.clip(x, -1.0, 1.0), weight=0.5),
    _unary("soft_sign", "jax.nn.soft_sign", lambda x, p: monotone(lambda v: v / (abs(v) + 1.0), x),
           lambda x, p: x / (np.abs(x) + 1.0), weight=0.5),
    _unary("hard_sigmoid", "jax.nn.hard_sigmoid",
           lambda x, p: monotone(lambda v: min(max(v + 3.0, 0.0), 6.0) / 6.0, x),
           lambda x, p: np.clip(x + 3.0, 0.0, 6.0) / 6.0, weight=0.5),
    _unary("hard_silu", "jax.nn.hard_silu", _hard_silu_range, lambda x, p: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           weight=0.5),
    # x * tanh(softplus(x)): its minimum about -0.308840 at x ~ -1.19236
    _unary("mish", "jax.nn.mish", lambda x, p: valley(_mish_scalar, (-1.2, -1.18), -0.30885, x),
           lambda x, p: x * np.tanh(_softplus(x)), tail=_negative_tail(_mish_scalar), weight=0.5),
    _unary("squareplus", _squareplus_render, lambda x, p: monotone(lambda v: _squareplus_scalar(v, p["b"]), x),
           lambda x, p: (x + np.sqrt(np.square(x) + p["b"])) / 2.0, params=_squareplus_params,
           error_scale=_squareplus_error, squares=lambda x, p: x.mag, weight=0.5),
    # softplus's and sigmoid's piecewise twins (Fenchel-Young losses): 0 up to -1, a parabola (a line) to 1, then
    # x (1); sparse_plus is smooth (its derivative is sparse_sigmoid), sparse_sigmoid has a kink at -1 and 1
    _unary("sparse_plus", "jax.nn.sparse_plus", lambda x, p: monotone(_sparse_plus_scalar, x),
           lambda x, p: _sparse_plus(x), weight=0.5),
    _unary("sparse_sigmoid", "jax.nn.sparse_sigmoid",
           lambda x, p: monotone(lambda v: min(max(v + 1.0, 0.0), 2.0) / 2.0, x),
           lambda x, p: np.clip(x + 1.0, 0.0, 2.0) / 2.0, weight=0.5, since=(0, 4, 27)),
    # log(1 - exp(-x)) for x > 0 (survival and mixture log likelihoods): log(x) near 0, -exp(-x) far out; that tail
    # is kept above underflow
    _unary("log1mexp", "jax.nn.log1mexp", lambda x, p: monotone(_log1mexp_scalar, x) if x.lo >= 0.02 else None,
           lambda x, p: _log1mexp(x), need=Interval(0.05, INF), tail=lambda x, p: -_log1mexp_scalar(x.hi),
           weight=0.5, since=(0, 7, 1)),
)

# ---------------------------------------------------------------- jax.scipy.stats.norm, entr, polyval

#: ``jax.scipy.stats.norm``'s ``loc`` and ``scale`` as literals (0 and 1 are the defaults and left out).
NORM_LOCS = (0.0, -1.0, 0.5, 2.0)
NORM_SCALES = (1.0, 0.5, 2.0)


def _norm_params(t: TensorType, ctx: Context) -> dict:
    loc = 0.0 if ctx.draw.bernoulli(0.5) else ctx.draw.choice(NORM_LOCS[1:])
    return {"loc": loc, "scale": 1.0 if ctx.draw.bernoulli(0.5) else ctx.draw.choice(NORM_SCALES[1:])}


def _z(x, p):
    """The operand standardized by the density's ``loc`` (0 where it has none) and ``scale``."""
    return (x - p.get("loc", 0.0)) / p["scale"]


def _z_mag(x: Interval, p) -> float:
    """The largest magnitude of ``_z`` over ``x``."""
    return max(abs(x.lo - p.get("loc", 0.0)), abs(x.hi - p.get("loc", 0.0))) / p["scale"]


def _norm_logpdf_reference(x, p):
    """Of an array or a float."""
    z = _z(x, p)
    return -0.5 * z * z - math.log(p["scale"]) - 0.5 * math.log(2 * math.pi)


def _peak_range(logpdf: Callable[[float, dict], float], top_at: Callable[[dict], float] = lambda p: p["loc"]):
    """The range of a unimodal log density over ``x``: it rises to its top at ``top_at(params)`` (the location
    of the symmetric ones, the mode of ``gamma``) and falls after, so its ends and that top bound it."""

    def rule(x: Interval, p) -> Interval:
        ends = (float(logpdf(x.lo, p)), float(logpdf(x.hi, p)))
        top = float(logpdf(top_at(p), p)) if x.lo <= top_at(p) <= x.hi else max(ends)
        return Interval(min(ends), top)

    return rule


#: A parabola opening downwards, its top at ``loc``.
_norm_logpdf_range = _peak_range(_norm_logpdf_reference)


def _norm_logpdf_error(args, p, value) -> np.ndarray:
    """JAX adds ``log(2 pi scale**2)`` and ``(x - loc)**2 / scale**2``, then halves: an ulp of each term (they
    cancel near ``loc`` where ``scale < 1``)."""
    z = _z(args[0], p)
    return 2.0 + abs(math.log(2 * math.pi * p["scale"] ** 2)) + z * z


def _norm_pdf_error(args, p, value) -> np.ndarray:
    """``exp`` of the log density: its absolute error, relative to the density."""
    return np.abs(value) * (1.0 + _norm_logpdf_error(args, p, value))


def _stats_render(name: str, *positional: str, keywords: tuple[tuple[str, float], ...] = (("loc", 0.0),
                                                                                            ("scale", 1.0))):
    """``jax.scipy.stats.<name>(x, *positional, loc=..., scale=...)``, each keyword left out at its default."""

    def render(args, p):
        kwargs = {k: p[k] for k, default in keywords if p[k] != default}
        return call(f"jax.scipy.stats.{name}", args[0], *(literal(p[k]) for k in positional), **kwargs)

    return render


# ---------------------------------------------------------------- more jax.scipy.stats log densities

#: ``jax.scipy.stats.t``'s degrees of freedom (1 is the Cauchy distribution), ``gamma``'s shapes ``a`` (at least 1:
#: below it the density is unbounded at 0).
T_DFS = (1.0, 3.0, 4.0, 10.0)
GAMMA_SHAPES = (1.0, 2.0, 3.5, 5.0)


def _t_params(t: TensorType, ctx: Context) -> dict:
    return {"df": ctx.draw.choice(T_DFS), **_norm_params(t, ctx)}


def _gamma_params(t: TensorType, ctx: Context) -> dict:
    return {"a": ctx.draw.choice(GAMMA_SHAPES), "scale": ctx.draw.choice(NORM_SCALES)}


def _logistic_logpdf(x, p):
    z = _z(x, p)
    return -2.0 * np.logaddexp(z / 2.0, -z / 2.0) - math.log(p["scale"])


def _cauchy_logpdf(x, p):
    return -(math.log(math.pi * p["scale"]) + np.log1p(np.square(_z(x, p))))


def _laplace_logpdf(x, p):
    return -(np.abs(_z(x, p)) + math.log(2.0 * p["scale"]))


def _t_constant(p) -> float:
    """``t.logpdf``'s normalizing term, as JAX adds it up: ``lgamma(df/2) + log(pi df scale**2)/2 -
    lgamma((df+1)/2)``."""
    df = p["df"]
    return math.lgamma(df / 2) + math.log(math.pi * df * p["scale"] ** 2) / 2 - math.lgamma((df + 1) / 2)


def _t_logpdf(x, p):
    return -(_t_constant(p) + (p["df"] + 1) / 2 * np.log1p(np.square(_z(x, p)) / p["df"]))


def _gamma_logpdf(x, p):
    y = _z(x, p)
    return (p["a"] - 1.0) * np.log(y) - y - math.lgamma(p["a"]) - math.log(p["scale"])


def _logistic_error(args, p, value) -> np.ndarray:
    """JAX's ``-2 logaddexp(z/2, -z/2) - log(scale)``: an ulp of each term, and of ``z`` itself."""
    return 2.0 + 2.0 * np.abs(_z(args[0], p)) + abs(math.log(p["scale"]))


def _cauchy_error(args, p, value) -> np.ndarray:
    return 3.0 + np.log1p(np.square(_z(args[0], p))) + abs(math.log(math.pi * p["scale"]))


def _laplace_error(args, p, value) -> np.ndarray:
    return 2.0 + np.abs(_z(args[0], p)) + abs(math.log(2.0 * p["scale"]))


def _t_error(args, p, value) -> np.ndarray:
    """An ulp of each of the normalizing term's three parts (each rounded in the operand's dtype, ``lgamma`` of
    the literal too) and of the ``log1p`` term before and after its factor ``(df+1)/2``."""
    df = p["df"]
    parts = abs(math.lgamma(df / 2)) + abs(math.lgamma((df + 1) / 2)) + abs(math.log(math.pi * df * p["scale"] ** 2))
    return 2.0 + parts + (df + 1) / 2 * (2.0 + np.log1p(np.square(_z(args[0], p)) / df))


def _gamma_error(args, p, value) -> np.ndarray:
    """JAX's ``xlogy(a-1, y) - y - (lgamma(a) + log(scale))``: an ulp of each term."""
    y = _z(args[0], p)
    with np.errstate(divide="ignore"):
        log_y = np.abs(np.log(np.where(y > 0, y, 1.0)))
    return 2.0 + abs(p["a"] - 1.0) * (1.0 + log_y) + y + abs(math.lgamma(p["a"])) + abs(math.log(p["scale"]))


def _norm_cdf_error(args, p, value) -> np.ndarray:
    """``ndtr((x - loc) / scale)``: an ulp of the result and the quotient's rounding through the density (in
    the left tail, where the result is small, that is ``z**2`` ulps of it)."""
    z = _z(args[0], p)
    return 2.0 * np.abs(value) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * (1.0 + np.abs(z))


# ---------------------------------------------------------------- Bessel functions, incomplete gamma

#: ``gammainc``'s and ``gammaincc``'s literal shapes ``a``.
INCOMPLETE_GAMMA_SHAPES = (0.5, 1.0, 2.0, 3.5, 5.0)
#: ``igamma``/``igammac`` are series and continued fractions on XLA:CPU, not correctly rounded: up to 12 ulps of 1
#: measured in float32 (``a`` of 0.5-5, ``x`` of 0-40); within half an ulp in bfloat16 and float16 (computed in
#: float32: ``narrow_in_float32``; 20,000 points of [0.01, 20], jaxlib 0.10.2), as ``digamma`` is (of [0.1, 1e3]).
INCOMPLETE_GAMMA_ULPS = 16.0


def _incomplete_gamma_error(args, p, value) -> np.ndarray:
    return np.full(np.shape(value), INCOMPLETE_GAMMA_ULPS)


def _incomplete_gamma_params(t: TensorType, ctx: Context) -> dict:
    return {"a": ctx.draw.choice(INCOMPLETE_GAMMA_SHAPES)}


def _incomplete_gamma(name: str, tail_end: str) -> OpSpec:
    """``jax.scipy.special.<name>(a, x)`` of a literal shape ``a``, monotone in ``x``; its decaying tail, at the
    operand's end ``tail_end`` (``lo`` for P, ``hi`` for Q), kept above underflow."""
    fn = getattr(scipy.special, name)
    return _unary(name, lambda args, p: call(f"jax.scipy.special.{name}", literal(p["a"]), args[0]),
                  lambda x, p: monotone(lambda v: float(fn(p["a"], v)), x), lambda x, p: fn(p["a"], x),
                  category="special", need=Interval(0.01, INF), params=_incomplete_gamma_params,
                  error_scale=_incomplete_gamma_error, tail=lambda x, p: float(fn(p["a"], getattr(x, tail_end))),
                  weight=0.5, narrow_in_float32=True)


#: XLA:CPU computes ``betainc`` (``regularized_incomplete_beta``) by a continued fraction: up to 48 ulps of 1
#: measured in float32 (every pair of ``INCOMPLETE_GAMMA_SHAPES``, 150,000 points of [0.01, 1], jaxlib 0.10.2) and
#: 142 in float64 (50,000 points), within half an ulp in bfloat16 and float16, where it computes in float32.
BETAINC_ULPS = 192.0


def _betainc_params(t: TensorType, ctx: Context) -> dict:
    return {"a": ctx.draw.choice(INCOMPLETE_GAMMA_SHAPES), "b": ctx.draw.choice(INCOMPLETE_GAMMA_SHAPES)}


def _betainc_scalar(p: dict) -> Callable[[float], float]:
    return lambda v: float(scipy.special.betainc(p["a"], p["b"], v))


#: ``polygamma``'s literal orders (0 is ``digamma``, a row of its own).
POLYGAMMA_ORDERS = (1, 2, 3)
#: XLA computes ``polygamma(n, x)`` for ``n >= 1`` as ``(-1)**(n + 1) n! zeta(n + 1, x)``, a Euler-Maclaurin sum:
#: up to 11.4 ulps of the result measured in float32 (orders 1-3, 150,000 points of [0.1, 1e4], jaxlib 0.10.2),
#: within half an ulp in bfloat16 and float16, where it computes in float32.
POLYGAMMA_ULPS = 16.0


def _polygamma_params(t: TensorType, ctx: Context) -> dict:
    return {"n": ctx.draw.choice(POLYGAMMA_ORDERS)}


def _polygamma_scalar(p: dict) -> Callable[[float], float]:
    return lambda v: float(scipy.special.polygamma(p["n"], v))


def _betaln_range(ins, types, out, params) -> Interval | None:
    """``log B(a, b)`` decreases in each argument (its partial derivative is ``digamma(a) - digamma(a + b) < 0``)."""
    a, b = ins
    if min(a.lo, b.lo) < 0.1:
        return None
    return Interval(float(scipy.special.betaln(a.hi, b.hi)), float(scipy.special.betaln(a.lo, b.lo)))


def _betaln_error(args, p, value) -> np.ndarray:
    """``gammaln(a) + gammaln(b) - gammaln(a + b)`` cancels: ulps of its terms, not of the result (measured in float32
    on 200,000 points of [0.1, 1e3]^2, jaxlib 0.10.2: up to 17 ulps of 1 + the terms, 32 of 1 + the result). In
    float64 JAX is off by up to 1.3e-6 where the larger argument is 8 or more (its ``algdiv`` writes cdflib's
    ``x = 1/(1 + h)`` as ``h/(1 + h)``): a real bug, left for the fuzzer to report
    (``bench/findings/jax_betaln_float64_large_argument_precision.py``)."""
    a, b = (np.abs(np.asarray(x, dtype=np.float64)) for x in args)
    terms = np.abs(scipy.special.gammaln(a)) + np.abs(scipy.special.gammaln(b)) + np.abs(scipy.special.gammaln(a + b))
    return 32.0 * (1.0 + terms)


#: ``erfcx`` (new in JAX 0.10.1) computes ``exp(x**2) erfc(x)`` and switches to an asymptotic series where ``exp(x**2)``
#: would overflow: up to 5.8 ulps of the result measured in float32 and 8.8 in float64 (500,000 points of
#: [-3, 1e6], jaxlib 0.10.2), within half an ulp in bfloat16 and float16, where it computes in float32. Below the
#: switch, ``erfc(x)`` is subnormal and flushed to 0, so the result is 0 on [9.19, 9.42] in float32 and
#: [26.55, 26.64] in float64 (jax-ml/jax#38607, open): a real bug the measured points leave out, for the fuzzer
#: to report.
ERFCX_ULPS = 12.0
#: ``dawsn`` (new in JAX 0.10.2), Cody's rational approximations: up to 3.2 ulps of the result in float32 and 68 in
#: float64 (near 0.01), measured on 420,000 points of [-1e5, 1e5]; half an ulp in bfloat16 and float16.
DAWSN_ULPS = 96.0
#: Where Dawson's integral peaks (``dawsn(x) = 0.5410442...``), an odd function falling as ``1 / (2 x)`` beyond.
DAWSN_PEAK = (0.9241388730, 0.5410442246)


def _dawsn_range(x: Interval, p) -> Interval:
    """Odd, rising on [-0.924, 0.924] to its peak 0.541 and falling toward 0 beyond: its ends and the peaks inside."""
    ends = [float(scipy.special.dawsn(x.lo)), float(scipy.special.dawsn(x.hi))]
    at, top = DAWSN_PEAK
    if x.lo <= at <= x.hi:
        ends.append(top)
    if x.lo <= -at <= x.hi:
        ends.append(-top)
    return Interval(min(ends), max(ends))


def _dawsn_tail(x: Interval, p) -> float:
    """The smallest magnitude its decaying tail (about ``1 / (2 |x|)``) reaches on ``x``, where that is in reach."""
    return float(abs(scipy.special.dawsn(x.mag))) if x.mag > DAWSN_PEAK[0] else 1.0


def _i0_range(x: Interval, p) -> Interval:
    """Even, increasing in ``|x|`` from ``i0(0) = 1``."""
    near = 0.0 if x.lo <= 0.0 <= x.hi else min(abs(x.lo), abs(x.hi))
    return Interval.of(float(scipy.special.i0(near)), float(scipy.special.i0(x.mag)))  # scipy: i0(1e-8) < 1


def _entr_scalar(v: float) -> float:
    return -v * math.log(v) if v > 0 else 0.0


def _entr_range(x: Interval, p) -> Interval:
    """``-x log x`` is concave on [0, inf), its top ``1/e`` at ``x = 1/e``."""
    ends = (_entr_scalar(x.lo), _entr_scalar(x.hi))
    top = 1.0 / math.e if x.lo <= 1.0 / math.e <= x.hi else max(ends)
    return Interval(min(ends), top)


def _entr_error(args, p, value) -> np.ndarray:
    """An ulp of ``log x``'s magnitude (and of 1 near ``x = 1``, where ``log x`` rounds) times ``x``."""
    x = np.abs(args[0])
    with np.errstate(divide="ignore"):
        return x * (1.0 + np.abs(np.log(np.where(x > 0, x, 1.0))))


#: ``jnp.polyval``'s degrees and the grid of its literal coefficients (exact in float32).
POLYVAL_DEGREES = (1, 2, 3, 4)


def _polyval_params(t: TensorType, ctx: Context) -> dict:
    degree = ctx.draw.choice(POLYVAL_DEGREES)
    coefficients = [ctx.draw.randint(-8, 8) / 4 for _ in range(degree + 1)]
    if coefficients[0] == 0.0:
        coefficients[0] = 1.0
    return {"coefficients": tuple(coefficients), "dtype": t.dtype}


def _polyval_range(x: Interval, p) -> Interval:
    """Horner's rule in interval arithmetic (each step a product of intervals plus a constant): sound."""
    out = Interval(p["coefficients"][0], p["coefficients"][0])
    for c in p["coefficients"][1:]:
        product = Interval.of(out.lo * x.lo, out.lo * x.hi, out.hi * x.lo, out.hi * x.hi)
        out = Interval(product.lo + c, product.hi + c)
    return out


def _polyval_error(args, p, value) -> np.ndarray:
    """Horner's rule rounds twice a step: ``2 n`` ulps of the sum of the terms' magnitudes ``|c_i| |x|^(n-i)``."""
    x = np.abs(args[0])
    return 2.0 * len(p["coefficients"]) * np.polyval(np.abs(np.asarray(p["coefficients"])), x)


def _polyval_render(args, p):
    """The coefficients in the operand's dtype (a float32 array would promote a bfloat16 operand)."""
    return call("jnp.polyval", array_literal(p["coefficients"], dtype=dtype_expr(p["dtype"])), args[0])


#: ``jnp.vander``'s dtypes: float16 is left out (a small operand's 4th power underflows it), int32 is exact.
VANDER_DTYPES = FLOATS - {DType.float16} | {DType.int32}


def _propose_vander(t: TensorType, ctx: Context) -> Proposal | None:
    """``jnp.vander(x, N)``: the powers ``x**(N-1) ... x**0`` of a vector as the columns of a matrix (polynomial
    features, least-squares fits), now and then in increasing order."""
    if t.dtype not in VANDER_DTYPES or t.rank != 2 or not 2 <= t.shape[1] <= 8:
        return None
    # an operand of a few units at most (features scaled first, as fits do): its 7th power stays in range
    need = Interval(-4.0, 4.0) if t.shape[1] <= 5 else Interval(-2.0, 2.0)
    return Proposal((Operand(t.with_shape(t.shape[:1]), need),),
                    {"N": t.shape[1], "increasing": ctx.draw.bernoulli(0.3)})


def _vander_type(types, params):
    (x,) = types
    if x.rank != 1:
        raise TypeError(f"vander: {x} is not a vector")
    return x.with_shape((x.shape[0], params["N"]))


def _vander_range(ins, types, out, params) -> Interval:
    """The hull of ``x**j`` over the operand's interval, ``j`` from 0 to ``N - 1``."""
    x, powers = ins[0], [Interval(1, 1)]
    for j in range(1, params["N"]):
        ends = (x.lo**j, x.hi**j)
        powers.append(Interval(0.0, max(ends)) if j % 2 == 0 and x.lo < 0 < x.hi else Interval.of(*ends))
    return Interval.of(*(v for i in powers for v in (i.lo, i.hi)))


def _vander_render(args, params):
    kwargs = {"increasing": True} if params["increasing"] else {}
    return call("jnp.vander", args[0], literal(params["N"]), **kwargs)


SPECIAL_UNARY = (
    _unary("erfc", "jax.scipy.special.erfc", lambda x, p: monotone(math.erfc, x), lambda x, p: erfc(x),
           category="special", tail=lambda x, p: math.erfc(x.hi)),
    _unary("erf_inv", "jax.scipy.special.erfinv",
           lambda x, p: monotone(_erfinv_scalar, x) if x.within(Interval(-0.995, 0.995)) else None,
           lambda x, p: erfinv(x), category="special", need=Interval(-0.99, 0.99)),
    _unary("lgamma", "jax.scipy.special.gammaln", _lgamma_range, lambda x, p: lgamma(x), category="special",
           need=Interval(0.1, 30.0), error_scale=_lgamma_error),
    # gammasgn(x) exp(lgamma(x)) in JAX: lgamma's absolute error becomes the result's relative error; x <= 10 keeps
    # it within the dtypes' caps (float16's about 8)
    _unary("gamma", "jax.scipy.special.gamma", lambda x, p: valley(math.gamma, (1.46, 1.47), 0.88560, x)
           if x.lo >= 0.1 else None, lambda x, p: scipy.special.gamma(x), category="special",
           need=Interval(0.1, 10.0), error_scale=lambda args, p, value: np.abs(value) * _lgamma_error(args, p, value),
           weight=0.5),
    _unary("digamma", "jax.scipy.special.digamma",
           lambda x, p: monotone(_digamma_scalar, x) if x.lo >= 0.1 else None, lambda x, p: digamma(x),
           category="special", need=Interval(0.1, 1e4), error_scale=_digamma_error, narrow_in_float32=True),
    _unary("logit", "jax.scipy.special.logit",
           lambda x, p: monotone(lambda v: math.log(v / (1.0 - v)), x) if x.within(Interval(0.005, 0.995)) else None,
           lambda x, p: np.log(x / (1.0 - x)), category="special", need=Interval(0.01, 0.99),
           error_scale=_logit_error),
    _unary("ndtr", "jax.scipy.special.ndtr", lambda x, p: monotone(_ndtr_scalar, x),
           lambda x, p: scipy.special.ndtr(x), category="special", tail=lambda x, p: _ndtr_scalar(x.lo),
           dtypes=WIDE_FLOATS),
    # log_ndtr(x) ~ -x**2 / 2 for very negative x: bounded below by the need
    _unary("log_ndtr", "jax.scipy.special.log_ndtr",
           lambda x, p: monotone(lambda v: math.log(_ndtr_scalar(v)), x) if x.lo >= -30.0 else None,
           lambda x, p: scipy.special.log_ndtr(x), category="special", need=Interval(-20.0, INF),
           error_scale=_absolute_error, dtypes=WIDE_FLOATS),
    # ndtri'(p) = 1 / pdf(ndtri(p)) <= 1 / (p (1 - p)) on [0.01, 0.99]: logit's error scale bounds it
    _unary("ndtri", "jax.scipy.special.ndtri",
           lambda x, p: monotone(_ndtri_scalar, x) if x.within(Interval(0.005, 0.995)) else None,
           lambda x, p: _outside((x > 0.0) & (x < 1.0), scipy.special.ndtri(x)), category="special",
           need=Interval(0.01, 0.99), error_scale=_logit_error, dtypes=WIDE_FLOATS),
    _unary("i0e", "jax.scipy.special.i0e", _i0e_range, lambda x, p: scipy.special.i0e(x), category="special",
           weight=0.5),
    _unary("i1e", "jax.scipy.special.i1e", _i1e_range, lambda x, p: scipy.special.i1e(x), category="special",
           weight=0.5),
    # sin(pi x) / (pi x): its minimum about -0.217234 at x ~ +-1.4303
    _unary("sinc", "jnp.sinc", lambda x, p: Interval(-0.21724, 1.0), lambda x, p: np.sinc(x), category="special",
           error_scale=_absolute_error, weight=0.5),
    # the operand within 50 of the mean: (x - loc)**2, which JAX computes first, stays finite in float16
    _unary("norm_logpdf", _stats_render("norm.logpdf"), _norm_logpdf_range,
           _norm_logpdf_reference, category="special", need=Interval(-50.0, 50.0), params=_norm_params,
           error_scale=_norm_logpdf_error),
    _unary("norm_pdf", _stats_render("norm.pdf"),
           lambda x, p: monotone(math.exp, _norm_logpdf_range(x, p)),
           lambda x, p: np.exp(_norm_logpdf_reference(x, p)), category="special", need=Interval(-50.0, 50.0),
           params=_norm_params, error_scale=_norm_pdf_error,
           tail=lambda x, p: math.exp(_norm_logpdf_range(x, p).lo)),
    _unary("norm_cdf", _stats_render("norm.cdf"),
           lambda x, p: monotone(lambda v: _ndtr_scalar(_z(v, p)), x), lambda x, p: scipy.special.ndtr(_z(x, p)),
           category="special", params=_norm_params, error_scale=_norm_cdf_error,
           tail=lambda x, p: _ndtr_scalar(_z(x.lo, p)), dtypes=WIDE_FLOATS),
    # the other log densities of probabilistic code: logistic, Cauchy, Laplace (a kink at loc), Student's t, gamma
    _unary("logistic_logpdf", _stats_render("logistic.logpdf"), _peak_range(_logistic_logpdf), _logistic_logpdf,
           category="special", params=_norm_params, error_scale=_logistic_error, weight=0.5),
    _unary("cauchy_logpdf", _stats_render("cauchy.logpdf"), _peak_range(_cauchy_logpdf), _cauchy_logpdf,
           category="special", params=_norm_params, error_scale=_cauchy_error, squares=_z_mag, weight=0.5),
    _unary("laplace_logpdf", _stats_render("laplace.logpdf"), _peak_range(_laplace_logpdf), _laplace_logpdf,
           category="special", params=_norm_params, error_scale=_laplace_error, weight=0.5),
    _unary("t_logpdf", _stats_render("t.logpdf", "df"), _peak_range(_t_logpdf), _t_logpdf, category="special",
           params=_t_params, error_scale=_t_error, squares=_z_mag, weight=0.5),
    # x >= 0.05: the density's log, (a - 1) log x, stays finite; its top at the mode (a - 1) scale
    _unary("gamma_logpdf", _stats_render("gamma.logpdf", "a", keywords=(("scale", 1.0),)),
           _peak_range(_gamma_logpdf, lambda p: (p["a"] - 1.0) * p["scale"]), _gamma_logpdf, category="special",
           need=Interval(0.05, INF), params=_gamma_params, error_scale=_gamma_error, weight=0.5),
    # exp(|x|) i0e(x) and exp(|x|) i1e(x): |x| <= 10 keeps exp(|x|) finite in float16
    _unary("i0", "jax.scipy.special.i0", _i0_range, lambda x, p: scipy.special.i0(x), category="special",
           need=Interval(-10.0, 10.0), weight=0.5),
    _unary("i1", "jax.scipy.special.i1", lambda x, p: monotone(lambda v: float(scipy.special.i1(v)), x),
           lambda x, p: scipy.special.i1(x), category="special", need=Interval(-10.0, 10.0), weight=0.5),
    # the regularized incomplete gamma functions P(a, x) (rising from 0 to 1) and Q(a, x) = 1 - P(a, x) of a literal
    # shape: while loops in the lowered program; their tails are kept above underflow
    _incomplete_gamma("gammainc", "lo"),
    _incomplete_gamma("gammaincc", "hi"),
    # the regularized incomplete beta function I_x(a, b) of literal shapes (the Beta and Student's t CDFs), rising
    # from 0 to 1 on [0, 1]: a while loop in the lowered program; its tail toward 0 (about x**a) kept above underflow
    _unary("betainc", lambda args, p: call("jax.scipy.special.betainc", literal(p["a"]), literal(p["b"]), args[0]),
           lambda x, p: monotone(_betainc_scalar(p), x) if x.within(Interval(0.0, 1.0)) else None,
           lambda x, p: scipy.special.betainc(p["a"], p["b"], x), category="special", need=Interval(0.01, 1.0),
           params=_betainc_params, error_scale=lambda args, p, value: np.full(np.shape(value), BETAINC_ULPS),
           tail=lambda x, p: _betainc_scalar(p)(x.lo), weight=0.5, narrow_in_float32=True),
    # psi^(n)(x) of a literal order, monotone on x > 0 (decreasing for odd n, increasing for even); its tail toward
    # large x (about (n - 1)! / x**n) kept above underflow
    _unary("polygamma", lambda args, p: call("jax.scipy.special.polygamma", literal(p["n"]), args[0]),
           lambda x, p: monotone(_polygamma_scalar(p), x) if x.lo >= 0.1 else None,
           lambda x, p: scipy.special.polygamma(p["n"], x), category="special", need=Interval(0.1, 1e4),
           params=_polygamma_params, error_scale=lambda args, p, value: POLYGAMMA_ULPS * np.abs(value),
           tail=lambda x, p: _polygamma_scalar(p)(x.hi), weight=0.5, narrow_in_float32=True),
    # the scaled complementary error function exp(x**2) erfc(x) (truncated-normal and Voigt-profile code), falling from
    # 16,206 at -3 as 1 / (x sqrt(pi)) for large x: ``x >= -3`` keeps exp(x**2) finite in float16
    _unary("erfcx", "jax.scipy.special.erfcx", lambda x, p: monotone(lambda v: float(scipy.special.erfcx(v)), x),
           lambda x, p: scipy.special.erfcx(x), category="special", need=Interval(-3.0, INF),
           error_scale=lambda args, p, value: ERFCX_ULPS * np.abs(value),
           tail=lambda x, p: float(scipy.special.erfcx(x.hi)), weight=0.5, since=(0, 10, 1), narrow_in_float32=True),
    # Dawson's integral exp(-x**2) * integral of exp(t**2) from 0 to x: odd and bounded by 0.541
    _unary("dawsn", "jax.scipy.special.dawsn", _dawsn_range, lambda x, p: scipy.special.dawsn(x), category="special",
           error_scale=lambda args, p, value: DAWSN_ULPS * np.abs(value), tail=_dawsn_tail, weight=0.5,
           since=(0, 10, 2), narrow_in_float32=True),
    _unary("entr", "jax.scipy.special.entr", _entr_range, lambda x, p: -scipy.special.xlogy(x, x),
           category="special", need=Interval(0.0, INF), error_scale=_entr_error, weight=0.5),
    _unary("polyval", _polyval_render, _polyval_range, lambda x, p: np.polyval(np.asarray(p["coefficients"]), x),
           category="special", params=_polyval_params, error_scale=_polyval_error, weight=0.5),
    # each power computed by lax.pow, correctly rounded on XLA:CPU (float32 and bfloat16, measured)
    OpSpec("vander", "special", "vander", VANDER_DTYPES, _propose_vander, _vander_type, _vander_range,
           lambda a, p: np.vander(a[0], p["N"], increasing=p["increasing"]), _vander_render, weight=0.5),
)


# ---------------------------------------------------------------- binary special functions


def _xlogy_range(ins, types, out, params) -> Interval | None:
    x, y = ins
    if y.lo < types[1].dtype.margin:
        return None
    ly = Interval(math.log(y.lo), math.log(y.hi))
    return Interval.of(x.lo * ly.lo, x.lo * ly.hi, x.hi * ly.lo, x.hi * ly.hi)


def _logaddexp_scalar(a: float, b: float) -> float:
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def _logaddexp_error(args, p, value) -> np.ndarray:
    return 1.0 + np.maximum(np.abs(args[0]), np.abs(args[1]))


def _logaddexp2_scalar(a: float, b: float) -> float:
    m = max(a, b)
    return m + math.log2(1.0 + 2.0 ** -abs(a - b))


def _xlog1py_range(ins, types, out, params) -> Interval | None:
    x, y = ins
    if y.lo < -0.9:
        return None
    ly = Interval(math.log1p(y.lo), math.log1p(y.hi))
    return Interval.of(x.lo * ly.lo, x.lo * ly.hi, x.hi * ly.lo, x.hi * ly.hi)


def _xlog1py_reference(args, p) -> np.ndarray:
    x, y = args
    return np.where(x == 0, 0.0, x * np.log1p(y))


def _xlogy_reference(args, p) -> np.ndarray:
    x, y = args
    return np.where(x == 0, 0.0, x * np.log(y))


def _xlogx_over_y(p: float, q: float) -> float:
    return 0.0 if p == 0.0 else p * math.log(p / q)


#: ``rel_entr``'s and ``kl_div``'s operands: ``p >= 0`` (the result is 0 where it is) and ``q`` positive.
_propose_rel_entr = propose_elementwise(FLOATS, needs=(lambda dtype, ctx: Interval(0.0, INF), positive_need))


def _rel_entr_terms_fit(p: Interval, q: Interval, dtype: DType) -> bool:
    """JAX computes ``p log(p / q)`` as ``xlogx(p) - xlogy(p, q)``: both terms, far larger than their difference
    where ``p`` is near ``q``, stay below ``DType.intermediate_cap`` (float16 ``p`` and ``q`` near 8000: each term
    overflows, and their difference is NaN)."""
    xlogx = max([1.0 / math.e] + [abs(a * math.log(a)) for a in (p.lo, p.hi) if a > 0.0])  # p may be all 0
    xlogy = p.hi * max(abs(math.log(q.lo)), abs(math.log(q.hi)))
    return max(xlogx, xlogy) <= dtype.intermediate_cap


def _rel_entr_range(ins, types, out, params) -> Interval | None:
    """``p log(p / q)`` falls as ``q`` grows, and is convex in ``p`` with its least value ``-q / e`` at ``p = q / e``:
    its top at a corner with the least ``q``, its bottom on the edge of the largest."""
    p, q = ins
    if p.lo < 0.0 or q.lo < types[1].dtype.margin or not _rel_entr_terms_fit(p, q, out.dtype):
        return None
    top = max(_xlogx_over_y(p.lo, q.lo), _xlogx_over_y(p.hi, q.lo))
    at = q.hi / math.e
    bottom = -at if p.lo <= at <= p.hi else min(_xlogx_over_y(p.lo, q.hi), _xlogx_over_y(p.hi, q.hi))
    return Interval(bottom, top)


def _kl_div_range(ins, types, out, params) -> Interval | None:
    """``p log(p / q) - p + q`` is convex in both and never negative (0 where ``p == q``): its top at a corner."""
    p, q = ins
    if p.lo < 0.0 or q.lo < types[1].dtype.margin or not _rel_entr_terms_fit(p, q, out.dtype):
        return None
    return Interval(0.0, max(_xlogx_over_y(a, b) - a + b for a in (p.lo, p.hi) for b in (q.lo, q.hi)))


def _rel_entr_error(args, p, value) -> np.ndarray:
    """JAX's ``xlogx(p) - xlogy(p, q)`` cancels where ``p`` is near ``q``: an ulp of each term (at most 0.96 ulps
    measured, 300,000 pairs of [0, 100] x [0.1, 100] in each float dtype, jaxlib 0.10.2)."""
    x, y = (np.abs(np.asarray(a, dtype=np.float64)) for a in args)
    with np.errstate(divide="ignore"):
        log_x = np.abs(np.log(np.where(x > 0, x, 1.0)))
    return 2.0 * (x * (log_x + np.abs(np.log(y))) + np.abs(value))


def _kl_div_error(args, p, value) -> np.ndarray:
    """``rel_entr(p, q) - p + q``: its terms' ulps and an ulp of ``p`` and of ``q`` (at most 0.87 measured)."""
    return _rel_entr_error(args, p, value) + 2.0 * (np.abs(args[0]) + np.abs(args[1]))


SPECIAL_BINARY = (
    OpSpec("xlogy", "special", "special_xlogy", FLOATS, propose_elementwise(FLOATS, needs=(None, positive_need)),
           broadcast_type,
           _xlogy_range, _xlogy_reference, lambda a, p: call("jax.scipy.special.xlogy", *a)),
    OpSpec("xlog1py", "special", "special_xlogy", FLOATS,
           propose_elementwise(FLOATS, needs=(None, lambda dtype, ctx: Interval(-0.5, INF))), broadcast_type,
           _xlog1py_range, _xlog1py_reference, lambda a, p: call("jax.scipy.special.xlog1py", *a), weight=0.5),
    # the log of the beta function (Beta and Dirichlet log densities): both arguments at least 0.1
    OpSpec("betaln", "special", "special_betaln", FLOATS,
           propose_elementwise(FLOATS, needs=(lambda dtype, ctx: Interval(0.1, INF),) * 2), broadcast_type,
           _betaln_range, lambda a, p: scipy.special.betaln(a[0], a[1]),
           lambda a, p: call("jax.scipy.special.betaln", *a), error_scale=_betaln_error, weight=0.5),
    # relative entropy and the KL divergence's elementwise terms (``sum(rel_entr(p, q))`` is KL(p || q))
    OpSpec("rel_entr", "special", "special_rel_entr", FLOATS,
           _propose_rel_entr, broadcast_type,
           _rel_entr_range, lambda a, p: scipy.special.rel_entr(a[0], a[1]),
           lambda a, p: call("jax.scipy.special.rel_entr", *a), error_scale=_rel_entr_error, weight=0.5),
    OpSpec("kl_div", "special", "special_rel_entr", FLOATS,
           _propose_rel_entr, broadcast_type,
           _kl_div_range, lambda a, p: scipy.special.kl_div(a[0], a[1]),
           lambda a, p: call("jax.scipy.special.kl_div", *a), error_scale=_kl_div_error, weight=0.5),
    OpSpec("logaddexp", "special", "special_logaddexp", FLOATS, propose_elementwise(FLOATS), broadcast_type,
           lambda i, t, o, p: Interval(_logaddexp_scalar(i[0].lo, i[1].lo), _logaddexp_scalar(i[0].hi, i[1].hi)),
           lambda a, p: np.logaddexp(a[0], a[1]), lambda a, p: call("jnp.logaddexp", *a),
           error_scale=_logaddexp_error),
    OpSpec("logaddexp2", "special", "special_logaddexp", FLOATS, propose_elementwise(FLOATS), broadcast_type,
           lambda i, t, o, p: Interval(_logaddexp2_scalar(i[0].lo, i[1].lo), _logaddexp2_scalar(i[0].hi, i[1].hi)),
           lambda a, p: np.logaddexp2(a[0], a[1]), lambda a, p: call("jnp.logaddexp2", *a),
           error_scale=_logaddexp_error, weight=0.5),
)


# ---------------------------------------------------------------- along an axis: softmax family, logsumexp


def _propose_axis(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in FLOATS or t.rank == 0:
        return None
    axis = ctx.draw.randint(-1, t.rank - 1)
    return Proposal((Operand(t),), {"axis": axis})


def _axis_len(t: TensorType, axis) -> int:
    return t.size if axis is None else t.shape[axis]


def _log_softmax_range(ins, types, out, params) -> Interval:
    x, n = ins[0], _axis_len(types[0], params["axis"])
    return Interval(x.lo - x.hi - math.log(n), 0.0)


def _softmax_range(ins, types, out, params) -> Interval | None:
    # exp(x - max) must not underflow below the floor (a spread of about 43 in float32, 4.8 in float16)
    x = ins[0]
    if x.hi - x.lo > -math.log(underflow_floor(types[0].dtype)):
        return None
    return Interval(0.0, 1.0)


def _standardize_range(ins, types, out, params) -> Interval | None:
    # |x_i - mean| / sqrt(var) <= sqrt(n - 1) for n samples; the stable two-pass variance keeps it.
    if (ins[0].hi - ins[0].lo) ** 2 > out.dtype.intermediate_cap:  # the squared deviations, in x's dtype
        return None
    b = math.sqrt(max(_axis_len(types[0], params["axis"]) - 1, 0)) * 1.01 + 1e-3
    return Interval(-b, b)


def _standardize_error(args, p, value) -> np.ndarray:
    """Rounding of ``x - mean`` (about eps * (|x| + |mean|)) amplified by ``1 / sqrt(var + epsilon)``."""
    x, axis = args[0], p["axis"]
    mean = np.mean(x, axis=axis, keepdims=True)
    var = np.mean(np.square(x - mean), axis=axis, keepdims=True)
    n = x.shape[axis]
    return 1.0 + (np.abs(x) + n * np.abs(mean) + np.mean(np.abs(x), axis=axis, keepdims=True) * n) / np.sqrt(
        var + STANDARDIZE_EPSILON
    )


def _axis_error(args, p, value) -> np.ndarray:
    """log_softmax: x - max - log(sum): its error scales with |x - max|, |max| and log(n), not with the result.

    ``|max|``: at the largest element ``x - max`` is 0 in exact arithmetic, but XLA may compute ``x`` and the max
    from different roundings of it (a multiply contracted into the subtraction as a fused multiply-add leaves its
    product unrounded there): off by up to half an ulp of ``x`` (nn-special seed 1004, program 36: ``log_softmax``
    of ``c ** 3`` near -589.5 was -2.3e-5 under sharding, the exact remainder of the cube's last product)."""
    x, axis = args[0], p["axis"]
    top = np.max(x, axis=axis, keepdims=True)
    return 1.0 + np.abs(x - top) + np.abs(top) + math.log(max(_axis_len_np(x, axis), 1))


def _softmax_error(args, p, value) -> np.ndarray:
    """softmax: exp(log_softmax), so its absolute error is its value times log_softmax's (:func:`_axis_error`):
    at the largest element of ``c ** 3`` near -589.5 a contracted product leaves ``exp(-2.3e-5)``, where the
    tolerance was 6.2e-6 (the ``log_softmax`` case of nn-special seed 1004, program 36, in softmax's form)."""
    return np.abs(value) * _axis_error(args, p, value)


def _axis_len_np(x: np.ndarray, axis) -> int:
    return x.size if axis is None else x.shape[axis]


def _axis_row(name, render, range_rule, reference, *, kwargs=None, error_scale=None, weight=1.0, since=()):
    return OpSpec(name, "nn", f"nn_{name}", FLOATS, _propose_axis, lambda types, p: types[0], range_rule,
                  lambda a, p: reference(a[0], p["axis"]),
                  lambda a, p: call(render, a[0], axis=p["axis"], **(kwargs or {})),
                  error_scale=error_scale, weight=weight, since=since)


def _propose_logsumexp(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in FLOATS or t.rank >= 3:
        return None
    if t.rank == 0 and ctx.draw.bernoulli(0.5):
        shape = tuple(ctx.pick_dim() for _ in range(ctx.draw.randint(1, 2)))
        return Proposal((Operand(t.with_shape(shape)),), {"axis": None})
    axis = ctx.draw.randint(0, t.rank)
    return Proposal((Operand(t.with_shape(t.shape[:axis] + (ctx.pick_dim(),) + t.shape[axis:])),), {"axis": axis})


def _logsumexp_type(types, params) -> TensorType:
    t, axis = types[0], params["axis"]
    if axis is None:
        return t.with_shape(())
    if not 0 <= axis < t.rank:
        raise ValueError(f"logsumexp/logmeanexp: axis {axis} out of range for {t}")
    return t.with_shape(t.shape[:axis] + t.shape[axis + 1 :])


def _exp_sum_fits(types, out, params) -> bool:
    """``logsumexp`` and ``logmeanexp`` round the sum of ``exp(x - max)``, between 1 and the number of terms, to
    their dtype before the log: at most ``DType.intermediate_cap`` terms (float16's sum of 70,000 equal terms is
    inf, where their ``logsumexp`` is 11.2)."""
    return _axis_len(types[0], params["axis"]) <= out.dtype.intermediate_cap


def _logsumexp_range(ins, types, out, params) -> Interval | None:
    x, n = ins[0], _axis_len(types[0], params["axis"])
    return Interval(x.lo, x.hi + math.log(n)) if _exp_sum_fits(types, out, params) else None


def _logsumexp_error(args, p, value) -> np.ndarray:
    x, axis = args[0], p["axis"]
    m = np.max(np.abs(x), axis=axis)
    return 1.0 + m + math.log(max(_axis_len_np(x, axis), 1))


def _log_reduction_render(name: str):
    """``jax.nn.<name>(x)`` over every element, or ``jax.nn.<name>(x, axis=k)``: logsumexp and logmeanexp."""

    def render(args, params):
        if params["axis"] is None:
            return call(f"jax.nn.{name}", args[0])
        return call(f"jax.nn.{name}", args[0], axis=params["axis"])

    return render


def _logmeanexp_range(ins, types, out, params) -> Interval | None:
    # log of a mean of exp(x): between exp(x.lo) and exp(x.hi), so between x.lo and x.hi
    return ins[0] if _exp_sum_fits(types, out, params) else None


def _logmeanexp_reference(x: np.ndarray, axis) -> np.ndarray:
    return _logsumexp(x, axis) - math.log(max(_axis_len_np(x, axis), 1))


def _propose_glu(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.nn.glu(x, axis)``: the first half of ``x`` along the axis gated by the sigmoid of the second."""
    if t.dtype not in FLOATS or t.rank == 0:
        return None
    axis = ctx.draw.choice((-1, -1, ctx.draw.randint(0, t.rank - 1)))
    k = axis % t.rank
    return Proposal((Operand(t.with_shape(t.shape[:k] + (2 * t.shape[k],) + t.shape[k + 1 :])),), {"axis": axis})


def _glu_type(types, params) -> TensorType:
    t, axis = types[0], params["axis"]
    if t.rank == 0 or t.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} of {t} does not split in two halves")
    k = axis % t.rank
    return t.with_shape(t.shape[:k] + (t.shape[k] // 2,) + t.shape[k + 1 :])


def _sigmoid_scalar(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


def _glu_range(ins, types, out, params) -> Interval | None:
    x = ins[0]
    gate = Interval(_sigmoid_scalar(x.lo), _sigmoid_scalar(x.hi))
    if gate.lo < underflow_floor(types[0].dtype):
        return None
    return corners(lambda a, g: a * g, x, gate)


def _glu_reference(args, params) -> np.ndarray:
    a, b = np.split(args[0], 2, axis=params["axis"])
    return a / (1.0 + np.exp(-b))


def _glu_render(args, params):
    if params["axis"] == -1:
        return call("jax.nn.glu", args[0])
    return call("jax.nn.glu", args[0], axis=params["axis"])


AXIS_NN = (
    _axis_row("softmax", "jax.nn.softmax", _softmax_range, _softmax, error_scale=_softmax_error, weight=1.5),
    _axis_row("log_softmax", "jax.nn.log_softmax", _log_softmax_range, _log_softmax, error_scale=_axis_error),
    _axis_row("standardize", "jax.nn.standardize", _standardize_range, _standardize,
              kwargs={"algorithm": cst.SimpleString('"stable"')}, error_scale=_standardize_error,
              since=(0, 10, 1)),  # the algorithm keyword
    OpSpec("logsumexp", "nn", "nn_logsumexp", FLOATS, _propose_logsumexp, _logsumexp_type, _logsumexp_range,
           lambda a, p: _logsumexp(a[0], p["axis"]), _log_reduction_render("logsumexp"),
           error_scale=_logsumexp_error),
    # logsumexp - log(n) (importance-weighted and ensemble log likelihoods): logsumexp's error, and log(n)'s rounding
    OpSpec("logmeanexp", "nn", "nn_logsumexp", FLOATS, _propose_logsumexp, _logsumexp_type, _logmeanexp_range,
           lambda a, p: _logmeanexp_reference(a[0], p["axis"]), _log_reduction_render("logmeanexp"),
           error_scale=_logsumexp_error, weight=0.5, since=(0, 7, 1)),
    OpSpec("glu", "nn", "nn_glu", FLOATS, _propose_glu, _glu_type, _glu_range, _glu_reference, _glu_render,
           weight=0.5),
)


# ---------------------------------------------------------------- jax.nn.dot_product_attention

#: ``jax.nn.dot_product_attention``'s dtypes here: float32 (bfloat16 operands fail to compile on XLA:CPU in some
#: shapes, ``Algorithm not supported by the ElementalIrEmitter: ALG_DOT_BF16_BF16_F32``, jaxlib 0.10.2).
ATTENTION_DTYPES = frozenset({DType.float32})


def _propose_attention(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.nn.dot_product_attention(q, k, v)`` unbatched: ``q`` of shape (T, N, H), ``k`` and ``v`` (S, K, H)
    with ``K`` dividing ``N`` (grouped-query attention where ``K < N``); causal where ``S == T`` now and then.
    (The ``models`` attention composite passes batched (B, T, N, H) operands.)"""
    if t.dtype not in ATTENTION_DTYPES or t.rank != 3:
        return None
    length, heads, width = t.shape
    kv_heads = ctx.draw.choice([k for k in range(1, heads + 1) if heads % k == 0])
    causal = ctx.draw.bernoulli(0.3)
    source = length if causal else ctx.pick_dim()
    kv = t.with_shape((source, kv_heads, width))
    return Proposal((Operand(t), Operand(kv), Operand(kv)), {"is_causal": causal})


def _attention_type(types, params) -> TensorType:
    q, k, v = types
    if (q.rank not in (3, 4) or k.shape != v.shape or k.rank != q.rank or q.shape[-1] != k.shape[-1]
            or q.shape[-2] % k.shape[-2] or q.shape[:-3] != k.shape[:-3] or q.dtype is not k.dtype
            or k.dtype is not v.dtype):
        raise TypeError(f"dot_product_attention: operands {q}, {k}, {v} do not match")
    if params["is_causal"] and q.shape[-3] != k.shape[-3]:
        raise TypeError("dot_product_attention: a causal mask here needs as many keys as queries")
    return q


def _attention_logits(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(..., N, T, S) scaled logits, ``k``'s heads repeated for their query groups."""
    k = np.repeat(k, q.shape[-2] // k.shape[-2], axis=-2)
    # a stacked matmul (BLAS per matrix): numpy's einsum adds these up in its own loops, 20x slower
    return np.matmul(np.swapaxes(q, -3, -2), np.moveaxis(k, -3, -1)) / math.sqrt(q.shape[-1])


def _attention_reference(args, params) -> np.ndarray:
    q, k, v = args
    logits = _attention_logits(q, k)
    if params["is_causal"]:
        logits = np.where(np.tril(np.ones(logits.shape[-2:], dtype=bool)), logits, -np.inf)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    v = np.repeat(v, q.shape[-2] // v.shape[-2], axis=-2)
    return np.swapaxes(np.matmul(weights, np.swapaxes(v, -3, -2)), -3, -2)  # (..., N, T, H) -> (..., T, N, H)


def _attention_error(args, params, value) -> np.ndarray:
    """A logit off by ``e`` moves its weight by ``e`` of itself, so the output by ``e`` times the largest value:
    the logits' error is that of their sums of products (in float32), the softmax's and the weighted sum's a few
    ulps of the largest value."""
    q, k, v = (np.abs(a) for a in args)
    terms = _attention_logits(q, k).max(axis=-1)  # (..., N, T): the largest sum of |q k| per query
    largest = np.repeat(v, q.shape[-2] // v.shape[-2], axis=-2).max(axis=-3)  # (..., N, H)
    return largest[..., None, :, :] * (4.0 + 2.0 * np.swapaxes(terms, -1, -2)[..., None])


def _attention_render(args, params):
    if params["is_causal"]:
        return call("jax.nn.dot_product_attention", *args, is_causal=True)
    return call("jax.nn.dot_product_attention", *args)


ATTENTION = (
    # a convex combination of the values: within their range
    OpSpec("dot_product_attention", "nn", "nn_attention", ATTENTION_DTYPES, _propose_attention,
           _attention_type, lambda i, t, o, p: i[2], _attention_reference, _attention_render,
           error_scale=_attention_error, weight=0.5),
)

NN_OPS = ELEMENTWISE_NN + AXIS_NN + SPECIAL_UNARY + SPECIAL_BINARY + ATTENTION
