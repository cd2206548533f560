"""Elementwise op families: binary arithmetic, scalar-array, unary math, comparisons and logic,
bitwise ops, dtype casts and ``jnp.where``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import libcst as cst
import ml_dtypes
import numpy as np
import scipy.special

from jaxsynth.grammar.opspec import (
    Context,
    Operand,
    OpSpec,
    Params,
    Proposal,
    array_literal,
    binop,
    call,
    compare,
    dtype_expr,
    listed,
    literal,
    method,
    unary,
)
from jaxsynth.grammar.types import (
    ALL,
    COMPLEX,
    FLOATS,
    INTS,
    NUMERIC,
    UNSIGNED,
    DType,
    Interval,
    TensorType,
    broadcast_shapes,
)

INF = math.inf
SIGNED = frozenset({DType.int32, DType.int8})
SIGNED_NUMERIC = FLOATS | SIGNED
BOOL = frozenset({DType.bool})


# ---------------------------------------------------------------- shared rules


def broadcast_type(types: Sequence[TensorType], params: Params) -> TensorType:
    """Numpy broadcasting; the dtype is that of the first operand that is not a literal."""
    shape = broadcast_shapes(*(t.shape for t in types))
    if shape is None:
        raise TypeError(f"shapes {[t.shape for t in types]} do not broadcast")
    lits = params.get("literal_args", ())
    dtypes = {t.dtype for i, t in enumerate(types) if i not in lits}
    if len(dtypes) != 1:
        raise TypeError(f"operand dtypes differ: {sorted(d.name for d in dtypes)}")
    return TensorType(dtypes.pop(), shape)


def to_bool(rule: Callable[[Sequence[TensorType], Params], TensorType]):
    return lambda types, params: rule(types, params).with_dtype(DType.bool)


def bool_range(ins, types, out, params) -> Interval:
    return Interval(0, 1)


def corners(f: Callable[[float, float], float], a: Interval, b: Interval) -> Interval:
    return Interval.of(f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo), f(a.hi, b.hi))


def monotone(f: Callable[[float], float], x: Interval) -> Interval:
    return Interval.of(f(x.lo), f(x.hi))


def square_range(x: Interval) -> Interval:
    lo = 0.0 if x.lo <= 0 <= x.hi else min(x.lo * x.lo, x.hi * x.hi)
    return Interval(lo, x.mag * x.mag)


def propose_elementwise(
    out_dtypes: frozenset[DType],
    operand_dtypes: Callable[[TensorType, Context], DType | None] | None = None,
    needs: tuple[Callable[[DType, Context], Interval | None] | None, ...] = (None, None),
    allow_literal: bool = True,
):
    """Binary elementwise proposal: one operand has the full shape, the other a broadcast partner
    (possibly a scalar Python literal); each operand may carry a domain ``need``."""

    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        if t.dtype not in out_dtypes:
            return None
        dtype = operand_dtypes(t, ctx) if operand_dtypes else t.dtype
        if dtype is None:
            return None
        full = TensorType(dtype, t.shape)
        part = TensorType(dtype, ctx.partner_shape(t.shape))
        order = (full, part) if ctx.draw.bernoulli(0.5) else (part, full)
        operands = []
        for i, ty in enumerate(order):
            need_fn = needs[i] if i < len(needs) else None
            need = need_fn(dtype, ctx) if need_fn else None
            kind = "either" if allow_literal and ty is part and ty.rank == 0 else "array"
            operands.append(Operand(ty, need, kind))
        return Proposal(tuple(operands))

    return propose


def nonzero_need(dtype: DType, ctx: Context) -> Interval:
    m = 1.0 if dtype.is_int else 0.25
    if dtype in UNSIGNED or ctx.draw.bernoulli(0.75):
        return Interval(m, INF)
    return Interval(-INF, -m)


def positive_need(dtype: DType, ctx: Context) -> Interval:
    return Interval(max(dtype.margin, 0.1), INF)


def small_need(dtype: DType, ctx: Context) -> Interval:
    return Interval(-3.0, 3.0)


# ---------------------------------------------------------------- binary arithmetic


def _div_range(ins, types, out, params):
    a, b = ins
    if not b.excludes_zero(types[1].dtype.margin):
        return None
    return corners(lambda x, y: x / y, a, b)


def _power_range(ins, types, out, params):
    a, b = ins
    if a.lo < types[0].dtype.margin or b.mag > 8 or max(abs(math.log(a.lo)), abs(math.log(a.hi))) * b.mag > 30:
        return None
    return corners(lambda x, y: x**y, a, b)


def _int_divisor_ok(b: Interval) -> bool:
    return b.lo >= 1 or b.hi <= -1


def _remainder_range(ins, types, out, params):
    a, b = ins
    if not _int_divisor_ok(b):
        return None
    if b.lo >= 1:
        return Interval(0, min(b.hi - 1, a.hi) if a.lo >= 0 else b.hi - 1)
    return Interval(b.lo + 1, 0)


def _floor_divide_range(ins, types, out, params):
    a, b = ins
    if not _int_divisor_ok(b):
        return None
    return corners(lambda x, y: math.floor(x / y), a, b)


def _arctan2_range(ins, types, out, params):
    """``arctan2(y, x)`` with ``y`` away from 0: no branch cut (``y = ±0``, ``x < 0``) and no origin in reach, so the
    op is continuous and smooth on the box, monotone in each operand there, and its extremes are at the corners."""
    y, x = ins
    if not y.excludes_zero(types[0].dtype.margin):
        return None
    return corners(math.atan2, y, x)


def _hypot_range(ins, types, out, params):
    a, b = (_abs_range(x) for x in ins)
    return Interval(math.hypot(a.lo, b.lo), math.hypot(a.hi, b.hi))


def _copysign_range(ins, types, out, params):
    magnitude, b = _abs_range(ins[0]), ins[1]
    lo, hi = magnitude.lo, magnitude.hi
    if b.lo > 0:
        return Interval(lo, hi)
    if b.hi < 0:
        return Interval(-hi, -lo)
    return Interval(-hi, hi)  # a zero of either sign: ``copysign`` reads the sign bit


def _fmod_range(ins, types, out, params):
    """C's remainder (``lax.rem``): the dividend's sign, a magnitude below the divisor's and at most its own."""
    a, b = ins
    if not _int_divisor_ok(b):
        return None
    top = min(b.mag - 1, a.mag)
    return Interval(0 if a.lo >= 0 else -top, 0 if a.hi <= 0 else top)


def _no_int_min(x: Interval, dtype: DType) -> bool:
    """Whether ``abs`` is exact on ``x``: the most negative integer of a signed dtype has no positive twin."""
    return not dtype.is_int or dtype.bounds.lo == 0 or x.lo > dtype.bounds.lo


def _gcd_range(ins, types, out, params):
    """``jnp.gcd``: at most the larger magnitude (``gcd(0, 0)`` is 0); ``abs`` of each operand must be exact."""
    a, b = ins
    if not all(_no_int_min(x, t.dtype) for x, t in zip(ins, types, strict=True)):
        return None
    return Interval(0, max(a.mag, b.mag))


def _lcm_range(ins, types, out, params):
    """``jnp.lcm``: at most the product of the magnitudes, which must fit the dtype (checked by the sampler)."""
    if _gcd_range(ins, types, out, params) is None:
        return None
    return Interval(0, ins[0].mag * ins[1].mag)


#: Ops with defined special-value semantics (see OpSpec.special_values) that numpy follows exactly.
SPECIAL_VALUES = frozenset({
    "add", "subtract", "multiply", "divide", "maximum", "minimum", "fmax", "fmin", "hypot",
    "scale", "offset", "rsub", "div_scalar", "saxpy",
    "abs", "negative", "square", "sign", "sqrt", "exp", "log", "expm1", "log1p", "sin", "cos", "tanh", "floor",
    "ceil", "round", "trunc", "clip", "arctan", "arcsinh", "arctanh", "arccos", "arccosh",
    "rint", "deg2rad", "rad2deg",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "invert",
    "where", "nan_to_num",
})


def _binary(name, dtypes, range_rule, reference, render, needs=(None, None), differentiable=True, weight=1.0):
    return OpSpec(
        name=name,
        category="elementwise",
        family="binary_arith" if needs == (None, None) else f"binary_{name}",
        dtypes=dtypes,
        propose=propose_elementwise(dtypes, needs=needs),
        type_rule=broadcast_type,
        range_rule=range_rule,
        reference=reference,
        render=render,
        differentiable=differentiable,
        weight=weight,
        special_values=name in SPECIAL_VALUES,
    )


def _infix(op):
    return lambda args, params: binop(args[0], op, args[1])


def _fn(path):
    return lambda args, params: call(path, *args)


BINARY = (
    _binary("add", NUMERIC | COMPLEX, lambda i, t, o, p: Interval(i[0].lo + i[1].lo, i[0].hi + i[1].hi),
            lambda a, p: a[0] + a[1], _infix(cst.Add), weight=2.0),
    _binary("subtract", NUMERIC | COMPLEX, lambda i, t, o, p: Interval(i[0].lo - i[1].hi, i[0].hi - i[1].lo),
            lambda a, p: a[0] - a[1], _infix(cst.Subtract), weight=1.5),
    _binary("multiply", NUMERIC, lambda i, t, o, p: corners(lambda x, y: x * y, i[0], i[1]),
            lambda a, p: a[0] * a[1], _infix(cst.Multiply), weight=2.0),
    _binary("divide", FLOATS, _div_range, lambda a, p: a[0] / a[1], _infix(cst.Divide),
            needs=(None, nonzero_need)),
    _binary("maximum", NUMERIC, lambda i, t, o, p: Interval(max(i[0].lo, i[1].lo), max(i[0].hi, i[1].hi)),
            lambda a, p: np.maximum(a[0], a[1]), _fn("jnp.maximum")),
    _binary("minimum", NUMERIC, lambda i, t, o, p: Interval(min(i[0].lo, i[1].lo), min(i[0].hi, i[1].hi)),
            lambda a, p: np.minimum(a[0], a[1]), _fn("jnp.minimum")),
    _binary("power", FLOATS, _power_range, lambda a, p: np.power(a[0], a[1]), _fn("jnp.power"),
            needs=(positive_need, small_need), weight=0.5),
    _binary("remainder", INTS, _remainder_range, lambda a, p: np.remainder(a[0], a[1]), _infix(cst.Modulo),
            needs=(None, nonzero_need), differentiable=False),
    _binary("floor_divide", INTS, _floor_divide_range, lambda a, p: np.floor_divide(a[0], a[1]),
            _infix(cst.FloorDivide), needs=(None, nonzero_need), differentiable=False),
    _binary("arctan2", FLOATS, _arctan2_range, lambda a, p: np.arctan2(a[0], a[1]), _fn("jnp.arctan2"),
            needs=(nonzero_need, None), weight=0.5),
    # NaN-ignoring ``maximum``/``minimum``: the same on finite values, numpy's ``fmax``/``fmin`` on NaN
    _binary("fmax", FLOATS, lambda i, t, o, p: Interval(max(i[0].lo, i[1].lo), max(i[0].hi, i[1].hi)),
            lambda a, p: np.fmax(a[0], a[1]), _fn("jnp.fmax"), weight=0.5),
    _binary("fmin", FLOATS, lambda i, t, o, p: Interval(min(i[0].lo, i[1].lo), min(i[0].hi, i[1].hi)),
            lambda a, p: np.fmin(a[0], a[1]), _fn("jnp.fmin"), weight=0.5),
    # not differentiable at the origin (a cone)
    _binary("hypot", FLOATS, _hypot_range, lambda a, p: np.hypot(a[0], a[1]), _fn("jnp.hypot"),
            differentiable=False, weight=0.5),
    # a jump where the second operand changes sign (``tolerance.DISCONTINUOUS``)
    _binary("copysign", FLOATS, _copysign_range, lambda a, p: np.copysign(a[0], a[1]), _fn("jnp.copysign"),
            differentiable=False, weight=0.5),
    _binary("fmod", INTS, _fmod_range, lambda a, p: np.fmod(a[0], a[1]), _fn("jnp.fmod"),
            needs=(None, nonzero_need), differentiable=False, weight=0.5),
    # a while loop per element (Euclid's algorithm) in the lowered program
    _binary("gcd", INTS, _gcd_range, lambda a, p: np.gcd(a[0], a[1]), _fn("jnp.gcd"), differentiable=False,
            weight=0.5),
    _binary("lcm", INTS, _lcm_range, lambda a, p: np.lcm(a[0], a[1]), _fn("jnp.lcm"), differentiable=False,
            weight=0.5),
)


# ---------------------------------------------------------------- reduce_precision
# (``jnp.ldexp`` is left out: it lowers through a jitted ``_where`` helper whose MLIR function names, ``_where``
# or ``_where_1``, depended on what the process had traced before: 3 of 56 records holding it differed between a
# long-lived process and fresh workers.)


#: ``lax.reduce_precision``'s formats: (exponent bits, mantissa bits) of bfloat16, float16 and float8_e5m2.
REDUCED_FORMATS = ((8, 7), (5, 10), (5, 2))


def reduced_format(params) -> tuple[float, float]:
    """The largest finite value and the smallest normal one of ``params``' reduced format."""
    e, m = params["exponent_bits"], params["mantissa_bits"]
    bias = 2 ** (e - 1) - 1
    return (2.0 - 2.0**-m) * 2.0**bias, 2.0 ** (1 - bias)


def reduce_precision_ulp(x: np.ndarray, params) -> np.ndarray:
    """The spacing of the reduced format's significands at ``|x|``, as if its exponent had no lower bound."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    return np.exp2(np.floor(np.log2(np.where(a > 0, a, 1.0))) - params["mantissa_bits"])


def _reduce_precision_reference(args, params):
    """XLA's rounding: to nearest, ties to even, in the reduced format's significand, then to a zero of the same
    sign below the format's smallest normal number (XLA keeps no subnormals of the reduced format)."""
    x = np.asarray(args[0])
    ulp = reduce_precision_ulp(x, params)
    rounded = np.rint(x.astype(np.float64) / ulp) * ulp
    rounded = np.where(np.abs(rounded) < reduced_format(params)[1], np.copysign(0.0, x), rounded)
    return rounded.astype(x.dtype)


def _propose_reduce_precision(t, ctx):
    if t.dtype not in (DType.float32, DType.float64):
        return None
    e, m = ctx.draw.choice(REDUCED_FORMATS)
    return Proposal((Operand(t),), {"exponent_bits": e, "mantissa_bits": m})


def _reduce_precision_range(ins, types, out, params):
    x, largest = ins[0], reduced_format(params)[0]
    if x.mag > largest / 2:  # far from the overflow to inf
        return None
    grow = 1.0 + 2.0 ** -params["mantissa_bits"]
    return Interval(x.lo * grow if x.lo < 0 else x.lo / grow, x.hi * grow if x.hi > 0 else x.hi / grow)


ROUNDING_FORMATS = (
    # a rounding: a jump at each midpoint of the reduced format (``tolerance.DISCONTINUOUS``), exact elsewhere
    OpSpec("reduce_precision", "cast", "reduce_precision", frozenset({DType.float32, DType.float64}),
           _propose_reduce_precision, lambda t, p: t[0], _reduce_precision_range, _reduce_precision_reference,
           lambda a, p: call("lax.reduce_precision", a[0], exponent_bits=p["exponent_bits"],
                             mantissa_bits=p["mantissa_bits"]), differentiable=False, weight=0.5),
)


# ---------------------------------------------------------------- scalar-array (literals, scalar params)


def _propose_scalar(literal_first: bool, dtypes=NUMERIC, need=None):
    def propose(t, ctx):
        if t.dtype not in dtypes or t.rank == 0:
            return None
        lit = Operand(TensorType(t.dtype, ()), need(t.dtype, ctx) if need else None, "literal")
        arr = Operand(t)
        return Proposal((lit, arr) if literal_first else (arr, lit), {"literal_args": (0,) if literal_first else (1,)})

    return propose


def _scalar(name, propose, range_rule, reference, render, dtypes=NUMERIC):
    return OpSpec(name, "scalar_array", f"scalar_{name}", dtypes, propose, broadcast_type, range_rule, reference,
                  render, special_values=name in SPECIAL_VALUES)


def _propose_pow_scalar(t, ctx):
    if t.dtype not in NUMERIC - UNSIGNED or t.rank == 0:
        return None
    return Proposal((Operand(t),), {"exponent": ctx.draw.choice((2, 3))})


def _pow_scalar_range(ins, types, out, params):
    x = ins[0]
    return square_range(x) if params["exponent"] == 2 else monotone(lambda v: v**3, x)


def _propose_saxpy(t, ctx):
    if t.dtype not in NUMERIC or t.rank == 0:
        return None
    return Proposal((Operand(TensorType(t.dtype, ())), Operand(t), Operand(t.with_shape(ctx.partner_shape(t.shape)))))


def _saxpy_range(ins, types, out, params):
    ax = corners(lambda x, y: x * y, ins[0], ins[1])
    return Interval(ax.lo + ins[2].lo, ax.hi + ins[2].hi)


SCALAR_ARRAY = (
    _scalar("scale", _propose_scalar(True), lambda i, t, o, p: corners(lambda x, y: x * y, i[0], i[1]),
            lambda a, p: a[0] * a[1], _infix(cst.Multiply)),
    _scalar("offset", _propose_scalar(False), lambda i, t, o, p: Interval(i[0].lo + i[1].lo, i[0].hi + i[1].hi),
            lambda a, p: a[0] + a[1], _infix(cst.Add)),
    _scalar("rsub", _propose_scalar(True, SIGNED_NUMERIC),
            lambda i, t, o, p: Interval(i[0].lo - i[1].hi, i[0].hi - i[1].lo),
            lambda a, p: a[0] - a[1], _infix(cst.Subtract), SIGNED_NUMERIC),
    _scalar("div_scalar", _propose_scalar(False, FLOATS, nonzero_need), _div_range,
            lambda a, p: a[0] / a[1], _infix(cst.Divide), FLOATS),
    _scalar("pow_scalar", _propose_pow_scalar, lambda i, t, o, p: _pow_scalar_range(i, t, o, p),
            lambda a, p: a[0] ** p["exponent"],
            lambda a, p: binop(a[0], cst.Power, cst.Integer(str(p["exponent"]))), NUMERIC - UNSIGNED),
    _scalar("saxpy", _propose_saxpy, _saxpy_range, lambda a, p: a[0] * a[1] + a[2],
            lambda a, p: binop(binop(a[0], cst.Multiply, a[1]), cst.Add, a[2])),
)


# ---------------------------------------------------------------- unary


def _propose_unary(dtypes, need=None):
    def propose(t, ctx):
        if t.dtype not in dtypes:
            return None
        return Proposal((Operand(t, need(t.dtype) if need else None),))

    return propose


def _guard(pred: Callable[[Interval, DType], bool], f: Callable[[Interval], Interval]):
    def rule(ins, types, out, params):
        return f(ins[0]) if pred(ins[0], types[0].dtype) else None

    return rule


def _exp_hi(dtype: DType) -> float:
    return math.log(dtype.bounds.hi) - 1


def _abs_range(x: Interval) -> Interval:
    if x.lo >= 0:
        return x
    if x.hi <= 0:
        return Interval(-x.hi, -x.lo)
    return Interval(0, x.mag)


def _unary(name, dtypes, range_rule, reference, render, need=None, family="unary", differentiable=True, weight=1.0):
    return OpSpec(name, "unary", family, dtypes, _propose_unary(dtypes, need), lambda t, p: t[0], range_rule,
                  reference, render, differentiable=differentiable, weight=weight,
                  special_values=name in SPECIAL_VALUES)


#: arcsin, arccos and arctanh take operands in UNIT_DOMAIN (and the sampler aims at UNIT_NEED): the margin from
#: ±1 keeps their derivatives (``1 / sqrt(1 - x^2)``, ``1 / (1 - x^2)``) and their sensitivity to an operand's
#: rounding bounded, as ``tan``'s margin from ±pi/2 does. arccosh likewise stays ARCCOSH_LO above its branch point.
UNIT_DOMAIN = Interval(-0.95, 0.95)
UNIT_NEED = Interval(-0.9, 0.9)
ARCCOSH_LO = 1.05


def _hyperbolic_need(dtype: DType) -> Interval:
    bound = min(4.0, _exp_hi(dtype))
    return Interval(-bound, bound)


def _cosh_range(x: Interval) -> Interval:
    lo = 1.0 if x.lo <= 0 <= x.hi else min(math.cosh(x.lo), math.cosh(x.hi))
    return Interval(lo, math.cosh(x.mag))


def _propose_reciprocal(t, ctx):
    if t.dtype not in FLOATS:
        return None
    return Proposal((Operand(t, nonzero_need(t.dtype, ctx)),))


def _reciprocal_range(ins, types, out, params):
    x = ins[0]
    if not x.excludes_zero(types[0].dtype.margin):
        return None
    return monotone(lambda v: 1.0 / v, x)


#: ``jnp.heaviside``'s value at 0, as real code writes it.
HEAVISIDE_AT_ZERO = (0.0, 0.5, 1.0)


def _propose_heaviside(t, ctx):
    return Proposal((Operand(t),), {"h0": ctx.draw.choice(HEAVISIDE_AT_ZERO)}) if t.dtype in FLOATS else None


def _heaviside_range(x: Interval, h0: float) -> Interval:
    values = [0.0] * (x.lo < 0) + [1.0] * (x.hi > 0) + [h0] * (x.lo <= 0 <= x.hi)
    return Interval.of(*values)


def _always(f):
    return lambda ins, types, out, params: f(ins[0])


def erf(x: np.ndarray) -> np.ndarray:
    """erf elementwise in float64: a ufunc (``scipy.special``), as the fuzzer's reference evaluates it on arrays of up
    to 10^6 elements in every perturbed run (a Python call per element took minutes per program)."""
    return scipy.special.erf(np.asarray(x, dtype=np.float64))


def _propose_clip(t, ctx):
    if t.dtype not in NUMERIC:
        return None
    if t.dtype.is_float:
        lo, hi = ctx.draw.choice(((-1.0, 1.0), (0.0, 1.0), (-2.0, 2.0), (0.0, 6.0), (-0.5, 0.5)))
    else:
        lo, hi = ctx.draw.choice(((0, 10), (-5, 5), (0, 1), (1, 100)))
        lo, hi = max(lo, int(t.dtype.bounds.lo)), min(hi, int(t.dtype.bounds.hi))
    return Proposal((Operand(t),), {"lo": lo, "hi": hi})


def _clip_range(ins, types, out, params):
    lo, hi, x = params["lo"], params["hi"], ins[0]
    return Interval(min(max(x.lo, lo), hi), max(min(x.hi, hi), lo))


UNARY_FLOAT = (
    _unary("sin", FLOATS, _always(lambda x: Interval(-1, 1)), lambda a, p: np.sin(a[0]), _fn("jnp.sin")),
    _unary("cos", FLOATS, _always(lambda x: Interval(-1, 1)), lambda a, p: np.cos(a[0]), _fn("jnp.cos")),
    _unary("tan", FLOATS, _guard(lambda x, d: x.within(Interval(-1.3, 1.3)), lambda x: monotone(math.tan, x)),
           lambda a, p: np.tan(a[0]), _fn("jnp.tan"), need=lambda d: Interval(-1.2, 1.2), family="unary_tan"),
    _unary("exp", FLOATS, _guard(lambda x, d: x.hi <= _exp_hi(d), lambda x: monotone(math.exp, x)),
           lambda a, p: np.exp(a[0]), _fn("jnp.exp"), need=lambda d: Interval(-INF, min(4.0, _exp_hi(d))),
           family="unary_exp"),
    _unary("expm1", FLOATS, _guard(lambda x, d: x.hi <= _exp_hi(d), lambda x: monotone(math.expm1, x)),
           lambda a, p: np.expm1(a[0]), _fn("jnp.expm1"), need=lambda d: Interval(-INF, min(4.0, _exp_hi(d))),
           family="unary_exp"),
    _unary("log", FLOATS, _guard(lambda x, d: x.lo >= d.margin, lambda x: monotone(math.log, x)),
           lambda a, p: np.log(a[0]), _fn("jnp.log"), need=lambda d: Interval(0.1, INF), family="unary_pos"),
    _unary("log1p", FLOATS, _guard(lambda x, d: x.lo >= -0.9, lambda x: monotone(math.log1p, x)),
           lambda a, p: np.log1p(a[0]), _fn("jnp.log1p"), need=lambda d: Interval(-0.5, INF), family="unary_pos"),
    _unary("log2", FLOATS, _guard(lambda x, d: x.lo >= d.margin, lambda x: monotone(math.log2, x)),
           lambda a, p: np.log2(a[0]), _fn("jnp.log2"), need=lambda d: Interval(0.1, INF), family="unary_pos"),
    _unary("log10", FLOATS, _guard(lambda x, d: x.lo >= d.margin, lambda x: monotone(math.log10, x)),
           lambda a, p: np.log10(a[0]), _fn("jnp.log10"), need=lambda d: Interval(0.1, INF), family="unary_pos"),
    _unary("exp2", FLOATS, _guard(lambda x, d: x.hi <= _exp_hi(d) / math.log(2.0), lambda x: monotone(math.exp2, x)),
           lambda a, p: np.exp2(a[0]), _fn("jnp.exp2"), need=lambda d: Interval(-INF, min(4.0, _exp_hi(d))),
           family="unary_exp"),
    _unary("cbrt", FLOATS, _always(lambda x: monotone(math.cbrt, x)), lambda a, p: np.cbrt(a[0]), _fn("jnp.cbrt")),
    OpSpec("reciprocal", "unary", "unary_reciprocal", FLOATS, _propose_reciprocal, lambda t, p: t[0],
           _reciprocal_range, lambda a, p: 1.0 / a[0], _fn("jnp.reciprocal")),
    _unary("sqrt", FLOATS, _guard(lambda x, d: x.lo >= 0, lambda x: monotone(math.sqrt, x)),
           lambda a, p: np.sqrt(a[0]), _fn("jnp.sqrt"), need=lambda d: Interval(0.0, INF), family="unary_pos"),
    _unary("rsqrt", FLOATS, _guard(lambda x, d: x.lo >= d.margin, lambda x: monotone(lambda v: v**-0.5, x)),
           lambda a, p: 1.0 / np.sqrt(a[0]), _fn("lax.rsqrt"), need=lambda d: Interval(0.1, INF), family="unary_pos"),
    _unary("tanh", FLOATS, _always(lambda x: monotone(math.tanh, x)), lambda a, p: np.tanh(a[0]), _fn("jnp.tanh")),
    _unary("arctan", FLOATS, _always(lambda x: monotone(math.atan, x)), lambda a, p: np.arctan(a[0]),
           _fn("jnp.arctan")),
    _unary("arcsinh", FLOATS, _always(lambda x: monotone(math.asinh, x)), lambda a, p: np.arcsinh(a[0]),
           _fn("jnp.arcsinh")),
    _unary("arcsin", FLOATS, _guard(lambda x, d: x.within(UNIT_DOMAIN), lambda x: monotone(math.asin, x)),
           lambda a, p: np.arcsin(a[0]), _fn("jnp.arcsin"), need=lambda d: UNIT_NEED, family="unary_unit"),
    _unary("arccos", FLOATS, _guard(lambda x, d: x.within(UNIT_DOMAIN), lambda x: monotone(math.acos, x)),
           lambda a, p: np.arccos(a[0]), _fn("jnp.arccos"), need=lambda d: UNIT_NEED, family="unary_unit"),
    _unary("arctanh", FLOATS, _guard(lambda x, d: x.within(UNIT_DOMAIN), lambda x: monotone(math.atanh, x)),
           lambda a, p: np.arctanh(a[0]), _fn("jnp.arctanh"), need=lambda d: UNIT_NEED, family="unary_unit"),
    _unary("arccosh", FLOATS, _guard(lambda x, d: x.lo >= ARCCOSH_LO, lambda x: monotone(math.acosh, x)),
           lambda a, p: np.arccosh(a[0]), _fn("jnp.arccosh"), need=lambda d: Interval(1.1, INF),
           family="unary_arccosh"),
    _unary("sinh", FLOATS, _guard(lambda x, d: x.mag <= _exp_hi(d), lambda x: monotone(math.sinh, x)),
           lambda a, p: np.sinh(a[0]), _fn("jnp.sinh"), need=_hyperbolic_need, family="unary_hyperbolic"),
    _unary("cosh", FLOATS, _guard(lambda x, d: x.mag <= _exp_hi(d), _cosh_range),
           lambda a, p: np.cosh(a[0]), _fn("jnp.cosh"), need=_hyperbolic_need, family="unary_hyperbolic"),
    _unary("sigmoid", FLOATS, _always(lambda x: Interval(0, 1)), lambda a, p: 1 / (1 + np.exp(-a[0])),
           _fn("jax.nn.sigmoid")),
    _unary("erf", FLOATS, _always(lambda x: monotone(math.erf, x)), lambda a, p: erf(a[0]),
           _fn("jax.scipy.special.erf")),
    _unary("floor", FLOATS, _always(lambda x: monotone(math.floor, x)), lambda a, p: np.floor(a[0]),
           _fn("jnp.floor"), differentiable=False),
    _unary("ceil", FLOATS, _always(lambda x: monotone(math.ceil, x)), lambda a, p: np.ceil(a[0]),
           _fn("jnp.ceil"), differentiable=False),
    _unary("trunc", FLOATS, _always(lambda x: monotone(math.trunc, x)), lambda a, p: np.trunc(a[0]),
           _fn("jnp.trunc"), differentiable=False),
    _unary("round", FLOATS, _always(lambda x: Interval(math.floor(x.lo), math.ceil(x.hi))),
           lambda a, p: np.round(a[0]), _fn("jnp.round"), differentiable=False),
    # round half to even, as jnp.round: quantization code's spelling
    _unary("rint", FLOATS, _always(lambda x: Interval(math.floor(x.lo), math.ceil(x.hi))),
           lambda a, p: np.rint(a[0]), _fn("jnp.rint"), differentiable=False),
    # a multiply by pi / 180 (180 / pi) rounded to the dtype: an ulp at most
    _unary("deg2rad", FLOATS, _always(lambda x: monotone(math.radians, x)), lambda a, p: np.deg2rad(a[0]),
           _fn("jnp.deg2rad"), weight=0.5),
    _unary("rad2deg", FLOATS, _always(lambda x: monotone(math.degrees, x)), lambda a, p: np.rad2deg(a[0]),
           _fn("jnp.rad2deg"), weight=0.5),
    # 0 below 0, 1 above, the literal h0 at 0: a step (``tolerance.DISCONTINUOUS``); no special values (JAX
    # releases differ on a NaN operand)
    OpSpec("heaviside", "unary", "heaviside", FLOATS, _propose_heaviside,
           lambda t, p: t[0], lambda i, t, o, p: _heaviside_range(i[0], p["h0"]),
           lambda a, p: np.heaviside(a[0], p["h0"]), lambda a, p: call("jnp.heaviside", a[0], literal(p["h0"])),
           differentiable=False, weight=0.5),
)


def _propose_nan_to_num(t, ctx):
    """``jnp.nan_to_num(x)`` (NaN to 0, +-Inf to the dtype's largest finite value), or with the replacements
    named as real code does; ``largest`` is the dtype's, for the reference (its values are float64)."""
    if t.dtype not in FLOATS:
        return None
    params = {"largest": float(ml_dtypes.finfo(t.dtype.np_dtype).max)}
    if ctx.draw.bernoulli(0.4):
        params["replace"] = ctx.draw.choice(((0.0, 1.0, -1.0), (0.0, 0.0, 0.0), (0.0, 100.0, -100.0)))
    return Proposal((Operand(t),), params)


def _nan_to_num_reference(args, params):
    nan, posinf, neginf = params.get("replace", (0.0, params["largest"], -params["largest"]))
    return np.nan_to_num(args[0], nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_render(args, params):
    if "replace" not in params:
        return call("jnp.nan_to_num", args[0])
    nan, posinf, neginf = params["replace"]
    return call("jnp.nan_to_num", args[0], nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_range(ins, types, out, params):
    # finite values pass unchanged (special-values programs go by their reference, not by ranges)
    return ins[0]


def _propose_signbit(t, ctx):
    if not t.dtype.is_bool:
        return None
    dtype = ctx.pick_dtype(FLOATS)
    return None if dtype is None else Proposal((Operand(TensorType(dtype, t.shape)),))


UNARY_NUMERIC = (
    _unary("abs", NUMERIC - UNSIGNED, _always(_abs_range), lambda a, p: np.abs(a[0]), _fn("jnp.abs")),
    _unary("negative", SIGNED_NUMERIC, _always(lambda x: Interval(-x.hi, -x.lo)), lambda a, p: -a[0],
           lambda a, p: unary(cst.Minus, a[0])),
    _unary("square", NUMERIC - UNSIGNED, _always(square_range), lambda a, p: np.square(a[0]), _fn("jnp.square")),
    _unary("sign", SIGNED_NUMERIC, _always(lambda x: Interval(-1 if x.lo < 0 else 0, 1 if x.hi > 0 else 0)),
           lambda a, p: np.sign(a[0]), _fn("jnp.sign"), differentiable=False),
    OpSpec("nan_to_num", "unary", "nan_to_num", FLOATS, _propose_nan_to_num, lambda t, p: t[0], _nan_to_num_range,
           _nan_to_num_reference, _nan_to_num_render, special_values=True, weight=0.5),
    # the sign bit: a comparison with 0 where the operand is nonzero (``tolerance.DISCONTINUOUS``); NaN's sign
    # bit is unspecified, so no special values
    OpSpec("signbit", "unary", "signbit", FLOATS, _propose_signbit, lambda t, p: t[0].with_dtype(DType.bool),
           bool_range, lambda a, p: np.signbit(a[0]), _fn("jnp.signbit"), differentiable=False, weight=0.5),
    OpSpec("clip", "unary", "clip", NUMERIC, _propose_clip, lambda t, p: t[0], _clip_range,
           lambda a, p: np.clip(a[0], p["lo"], p["hi"]),
           lambda a, p: call("jnp.clip", a[0], literal(p["lo"]), literal(p["hi"])), special_values=True),
)


# ---------------------------------------------------------------- comparisons, logic, bitwise


def _compare_dtype(t: TensorType, ctx: Context) -> DType | None:
    return ctx.pick_dtype(NUMERIC)


def _compare(name, op, reference):
    return OpSpec(name, "compare_logical", "compare", NUMERIC,
                  propose_elementwise(BOOL, operand_dtypes=_compare_dtype),
                  to_bool(broadcast_type), bool_range, lambda a, p: reference(a[0], a[1]),
                  lambda a, p: compare(a[0], op, a[1]), differentiable=False, special_values=name in SPECIAL_VALUES)


def _logical(name, reference):
    return OpSpec(name, "compare_logical", "logical", BOOL, propose_elementwise(BOOL, allow_literal=False),
                  broadcast_type, bool_range, lambda a, p: reference(a[0], a[1]), _fn(f"jnp.{name}"),
                  differentiable=False, special_values=name in SPECIAL_VALUES)


def _propose_isin(t, ctx):
    """``jnp.isin(x, jnp.array([...]))``: which elements are among 1-5 literal values (special token ids, the
    classes to keep); integers, compared exactly (integer extremes too)."""
    if not t.dtype.is_bool:
        return None
    dtype = ctx.pick_dtype(INTS)
    if dtype is None:
        return None
    lo, hi = max(int(dtype.bounds.lo), -8), min(int(dtype.bounds.hi), 8)
    elements = sorted({ctx.draw.randint(lo, hi) for _ in range(ctx.draw.randint(1, 5))})
    return Proposal((Operand(t.with_dtype(dtype)),), {"elements": tuple(elements)})


def _isin_type(types, params):
    if types[0].dtype not in INTS:
        raise TypeError(f"isin: {types[0]} is not an integer array")
    return types[0].with_dtype(DType.bool)


COMPARE_LOGICAL = (
    _compare("less", cst.LessThan, np.less),
    _compare("less_equal", cst.LessThanEqual, np.less_equal),
    _compare("greater", cst.GreaterThan, np.greater),
    _compare("greater_equal", cst.GreaterThanEqual, np.greater_equal),
    _compare("equal", cst.Equal, np.equal),
    _compare("not_equal", cst.NotEqual, np.not_equal),
    _logical("logical_and", np.logical_and),
    _logical("logical_or", np.logical_or),
    _logical("logical_xor", np.logical_xor),
    OpSpec("logical_not", "compare_logical", "logical_not", BOOL, _propose_unary(BOOL), lambda t, p: t[0],
           bool_range, lambda a, p: np.logical_not(a[0]), _fn("jnp.logical_not"), differentiable=False,
           special_values=True),
    OpSpec("isin", "compare_logical", "isin", INTS, _propose_isin, _isin_type, bool_range,
           lambda a, p: np.isin(a[0], p["elements"]), lambda a, p: call("jnp.isin", a[0], array_literal(p["elements"])),
           differentiable=False, special_values=True, weight=0.5),
)


def _pow2_above(v: float) -> int:
    return 1 << max(0, math.ceil(math.log2(v + 1)))


def _bitwise_range(kind: str):
    def rule(ins, types, out, params):
        a, b = ins
        if a.lo >= 0 and b.lo >= 0:
            if kind == "and":
                return Interval(0, min(a.hi, b.hi))
            return Interval(0, _pow2_above(max(a.hi, b.hi)) - 1)
        p = _pow2_above(max(a.mag, b.mag))
        return Interval(-p, p - 1)

    return rule


def _invert_range(ins, types, out, params):
    x = ins[0]
    if types[0].dtype in UNSIGNED:
        top = types[0].dtype.bounds.hi
        return Interval(top - x.hi, top - x.lo)
    return Interval(-x.hi - 1, -x.lo - 1)


def _propose_shift(t, ctx):
    if t.dtype not in INTS:
        return None
    return Proposal((Operand(t),), {"shift": ctx.draw.randint(0, 3)})


def _shift_range(direction: str):
    def rule(ins, types, out, params):
        s, x = params["shift"], ins[0]
        if direction == "left":
            return Interval(x.lo * 2**s, x.hi * 2**s)
        return Interval(math.floor(x.lo / 2**s), math.floor(x.hi / 2**s))

    return rule


def _bitwise(name, op, kind, reference):
    return OpSpec(name, "bitwise", "bitwise", INTS, propose_elementwise(INTS), broadcast_type, _bitwise_range(kind),
                  lambda a, p: reference(a[0], a[1]), _infix(op), differentiable=False,
                  special_values=name in SPECIAL_VALUES)


def _shift(name, op, reference):
    return OpSpec(name, "bitwise", "shift", INTS, _propose_shift, lambda t, p: t[0], _shift_range(name.split("_")[0]),
                  lambda a, p: reference(a[0], p["shift"]),
                  lambda a, p: binop(a[0], op, cst.Integer(str(p["shift"]))), differentiable=False)


BITWISE = (
    _bitwise("bitwise_and", cst.BitAnd, "and", np.bitwise_and),
    _bitwise("bitwise_or", cst.BitOr, "or", np.bitwise_or),
    _bitwise("bitwise_xor", cst.BitXor, "xor", np.bitwise_xor),
    OpSpec("invert", "bitwise", "invert", INTS, _propose_unary(INTS), lambda t, p: t[0], _invert_range,
           lambda a, p: np.invert(a[0]), lambda a, p: unary(cst.BitInvert, a[0]), differentiable=False,
           special_values=True),
    _shift("left_shift", cst.LeftShift, np.left_shift),
    _shift("right_shift", cst.RightShift, np.right_shift),
)


# ---------------------------------------------------------------- casts


def _propose_cast(t, ctx):
    source = ctx.pick_dtype(ALL - {t.dtype})
    if source is None:
        return None
    need = None if t.dtype.is_bool or source.is_bool else t.dtype.bounds
    return Proposal((Operand(TensorType(source, t.shape), need),), {"dtype": t.dtype})


def _cast_range(ins, types, out, params):
    x, target, source = ins[0], params["dtype"], types[0].dtype
    if target.is_bool:
        return Interval(0, 1)
    if target.is_complex:  # (the sampler's adapters cast to complex; the imaginary part is 0)
        return x.hull(Interval(0, 0)) if x.within(target.bounds) else None
    if not source.is_bool and not x.within(target.bounds):
        return None
    if target.is_int and source.is_float:
        return Interval(math.trunc(x.lo), math.trunc(x.hi))
    return x


def _cast_reference(args, params):
    target: DType = params["dtype"]
    x = args[0]
    if target.is_int and x.dtype.kind == "f":
        x = np.trunc(x)
    return x.astype(target.np_dtype)


CAST = (
    OpSpec("astype", "cast", "astype", ALL, _propose_cast, lambda t, p: t[0].with_dtype(p["dtype"]), _cast_range,
           _cast_reference, lambda a, p: method(a[0], "astype", dtype_expr(p["dtype"])), differentiable=False),
)


# ---------------------------------------------------------------- where


def _propose_where(t, ctx):
    cond = Operand(TensorType(DType.bool, ctx.partner_shape(t.shape)))
    full = Operand(t)
    part_shape = ctx.partner_shape(t.shape)
    part = Operand(t.with_shape(part_shape), kind="either" if not part_shape and t.dtype is not DType.bool else "array")
    a, b = (full, part) if ctx.draw.bernoulli(0.5) else (part, full)
    return Proposal((cond, a, b))


def _where_type(types, params):
    shape = broadcast_shapes(*(t.shape for t in types))
    if shape is None or types[0].dtype is not DType.bool:
        raise TypeError("where: condition must be bool and shapes must broadcast")
    return TensorType(types[1].dtype, shape)


#: ``jnp.select``'s ``default`` by dtype kind.
SELECT_DEFAULTS = {"b": (False, True), "i": (0, 0, -1, 1), "u": (0, 0, 1), "f": (0.0, 0.0, -1.0, 0.5, 1.0)}


def _propose_select(t, ctx):
    """``jnp.select([c1, c2, ...], [a1, a2, ...], default)``: 2 or 3 bool conditions, the first that holds picking
    its choice (a piecewise function, a clamp of several regimes); one operand at the full shape, the others
    broadcasting to it, a scalar choice possibly a literal (as ``where``'s)."""
    n = ctx.draw.choice((2, 2, 3))
    full = ctx.draw.randint(0, 2 * n - 1)
    shapes = [t.shape if i == full else ctx.partner_shape(t.shape) for i in range(2 * n)]
    conds = [Operand(TensorType(DType.bool, shape)) for shape in shapes[:n]]
    kinds = ["either" if not shape and t.dtype is not DType.bool else "array" for shape in shapes[n:]]
    if "array" not in kinds:  # of Python literals alone, JAX makes a weak float32 or int32, not t's dtype: a cond
        kinds[0] = "array"    # whose branches then differ in type raised (fuzz-special seed 5201, program 3)
    choices = [Operand(t.with_shape(shape), kind=kind) for shape, kind in zip(shapes[n:], kinds, strict=True)]
    default = ctx.draw.choice(SELECT_DEFAULTS["f" if t.dtype.is_inexact else t.dtype.np_dtype.kind])
    return Proposal((*conds, *choices), {"n": n, "default": default})


def _select_type(types, params):
    n = params["n"]
    shape = broadcast_shapes(*(t.shape for t in types))
    if len(types) != 2 * n or shape is None or any(t.dtype is not DType.bool for t in types[:n]) or any(
            t.dtype is not types[n].dtype for t in types[n:]):
        raise TypeError(f"select: {n} bool conditions and {n} choices of one dtype, broadcasting, not {types}")
    return TensorType(types[n].dtype, shape)


def _select_range(ins, types, out, params):
    default = float(params["default"])
    choices = ins[params["n"]:]
    return Interval.of(default, *(i.lo for i in choices), *(i.hi for i in choices))


def _select_render(args, params):
    n = params["n"]
    lists = [listed(part) for part in (args[:n], args[n:])]
    default = params["default"]  # the default 0 left out, but for bools (an int 0 would make the result int32)
    return call("jnp.select", *lists, *([literal(default)] if default or isinstance(default, bool) else []))


BRANCHING = (
    OpSpec("where", "branching", "where", ALL, _propose_where, _where_type,
           lambda i, t, o, p: i[1].hull(i[2]), lambda a, p: np.where(a[0], a[1], a[2]),
           lambda a, p: call("jnp.where", *a), weight=2.0, special_values=True),
    # the first condition that holds picks: JAX stacks the conditions, takes their argmax and a select_n
    OpSpec("select", "branching", "select", ALL, _propose_select, _select_type, _select_range,
           lambda a, p: np.select(list(a[:p["n"]]), list(a[p["n"]:]), p["default"]), _select_render, weight=0.5,
           special_values=True),
)

ELEMENTWISE_OPS = (BINARY + ROUNDING_FORMATS + SCALAR_ARRAY + UNARY_FLOAT + UNARY_NUMERIC + COMPARE_LOGICAL + BITWISE
                   + CAST + BRANCHING)
