"""PRNG ops over JAX's typed keys: ``jax.random.key``, ``split``, ``fold_in``, ``normal``,
``truncated_normal``, ``uniform``, ``bernoulli``, ``categorical``, ``randint``, ``permutation``, ``choice``,
``gumbel``, ``exponential``, ``laplace``, ``logistic``, ``rademacher``.

Keys are values of dtype ``DType.key`` (a key array of shape ``s``; the interpreter holds its key data,
uint32 of shape ``s + (2,)``). The sampler makes them key-typed program inputs or builds them (``sample.py``:
a literal or int32 seed, then ``split``/``fold_in``); they are never a program's result.

**No numpy reference can exist** (threefry bits are JAX's definition): ``reference`` of these rows is
JAX's own eager result of the op alone on the key data (``REFERENCE_SOURCE = "jax-eager"``), imported
lazily, so the reference oracle still checks every numpy op downstream of a random value against numpy.
Which fuzz oracles check the PRNG values themselves: ``eager`` (jit vs op-by-op), ``passes`` (HLO
passes off), ``vmap`` (batched keys/seeds vs one at a time); ``grad`` skips programs with random floats
(a float64 twin draws other numbers), counted as a construct skip.

Intervals: ``uniform`` lies in [minval, maxval]; ``normal`` is JAX's ``sqrt(2) * erf_inv(u)`` of a
``u`` strictly inside (-1, 1) in the result dtype, so |x| < 8.3 even in float64 (declared [-9, 9]);
``truncated_normal`` in [lower, upper]; ``randint`` in [minval, maxval - 1]; ``categorical`` in [0, n-1];
``permutation`` and ``choice`` keep their operand's interval; ``rademacher`` is -1 or 1; the logs of a uniform
draw (``gumbel`` and kin) are bounded by its resolution (``LOG_DRAW_RANGES``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from jaxsynth.grammar.opspec import Context, Operand, OpSpec, Proposal, call, dtype_expr, literal, subscript
from jaxsynth.grammar.types import ALL, FLOATS, DType, Interval, TensorType

REFERENCE_SOURCE = "jax-eager"
KEY = DType.key
SCALAR_KEY = TensorType(KEY, ())
#: A normal variate of any float dtype lies strictly inside this interval (see the module docstring).
NORMAL_BOUND = 9.0
UNIFORM_RANGES = ((0.0, 1.0), (-1.0, 1.0), (-0.5, 0.5), (1.0, 2.0), (-3.0, 0.0))
RANDINT_RANGES = ((0, 10), (-5, 5), (0, 2), (1, 100))


def _jax_key(data: np.ndarray):
    import jax

    return jax.random.wrap_key_data(np.asarray(data, dtype=np.uint32))


def _key_data(key) -> np.ndarray:
    import jax

    return np.asarray(jax.random.key_data(key))


def _np(x) -> np.ndarray:
    return np.asarray(x)


def _out_dtype(t: TensorType):
    import jax.numpy as jnp

    return jnp.dtype(t.dtype.np_dtype)


# ---------------------------------------------------------------- keys


def _key_type(types: Sequence[TensorType], params) -> TensorType:
    return SCALAR_KEY


def _key_range(ins, types, out, params) -> Interval:
    return KEY_BOUNDS


KEY_BOUNDS = DType.key.bounds


def _seed(ctx: Context) -> Operand:
    """An int32 scalar seed: an array only where the config has int32 values, else a literal."""
    kind = "either" if ctx.pick_dtype(frozenset({DType.int32})) is DType.int32 else "literal"
    return Operand(TensorType(DType.int32, ()), Interval(0, 2**31 - 1), kind)


def _propose_key(t: TensorType, ctx: Context) -> Proposal | None:
    if t != SCALAR_KEY:
        return None
    return Proposal((_seed(ctx),))


def _key_reference(args, params):
    import jax

    return _key_data(jax.random.key(int(args[0])))


def _propose_fold_in(t: TensorType, ctx: Context) -> Proposal | None:
    if t != SCALAR_KEY:
        return None
    return Proposal((Operand(SCALAR_KEY), _seed(ctx)))


def _fold_in_reference(args, params):
    import jax

    return _key_data(jax.random.fold_in(_jax_key(args[0]), int(args[1])))


def _propose_split(t: TensorType, ctx: Context) -> Proposal | None:
    if t != SCALAR_KEY:
        return None
    num = ctx.draw.choice((2, 2, 3, 4))
    return Proposal((Operand(SCALAR_KEY),), {"num": num, "index": ctx.draw.randint(0, num - 1)})


def _split_reference(args, params):
    import jax

    return _key_data(jax.random.split(_jax_key(args[0]), params["num"])[params["index"]])


def _split_render(a, p):
    split = call("jax.random.split", a[0], literal(p["num"]))
    return subscript(split, p["index"])


def _key_op(name, propose, reference, render, weight=1.0):
    return OpSpec(name, "random", name, frozenset({KEY, DType.int32}), propose, _key_type, _key_range, reference,
                  render, weight=weight, differentiable=False)


# ---------------------------------------------------------------- samplers


def _same_type(types, params) -> TensorType:
    return params["out"]


def _sampler(name, propose, range_rule, reference, render, differentiable=False, weight=1.0, operand=(),
             error_scale=None):
    return OpSpec(name, "random", name, frozenset({KEY}) | frozenset(operand), propose, _same_type, range_rule,
                  reference, render, weight=weight, differentiable=differentiable, error_scale=error_scale)


# A float draw is computed from values larger than it (``minval + u * (maxval - minval)``; ``erf_inv`` of a
# uniform on (-1, 1)), so XLA's rounding (an FMA under fusion, or not) is absolute: its scale, from the params.
def _uniform_error(args, params, value) -> float:
    return max(abs(params["lo"]), abs(params["hi"]))


def _normal_error(args, params, value) -> float:
    return 2.0


def _truncated_error(args, params, value) -> float:
    return 2.0 * max(1.0, abs(params["lo"]), abs(params["hi"]))


def _propose_float(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in FLOATS:
        return None
    params = {"out": t}
    lo, hi = ctx.draw.choice(UNIFORM_RANGES)
    params |= {"lo": lo, "hi": hi}
    return Proposal((Operand(SCALAR_KEY),), params)


def _shaped_draw(name, propose, range_rule, weight=1.0, error_scale=None):
    """``jax.random.<name>(key, shape, dtype)`` (the wanted type's shape and dtype), JAX's eager draw as the
    reference: ``normal``, the logs of a uniform draw (``gumbel`` and kin), ``rademacher``."""

    def reference(args, params):
        import jax

        t = params["out"]
        return _np(getattr(jax.random, name)(_jax_key(args[0]), t.shape, _out_dtype(t)))

    def render(a, p):
        return call(f"jax.random.{name}", a[0], literal(p["out"].shape), dtype=dtype_expr(p["out"].dtype))

    return _sampler(name, propose, range_rule, reference, render, weight=weight, error_scale=error_scale)


def _truncated_reference(args, params):
    import jax

    t = params["out"]
    return _np(jax.random.truncated_normal(_jax_key(args[0]), params["lo"], params["hi"], t.shape, _out_dtype(t)))


def _truncated_render(a, p):
    t = p["out"]
    return call("jax.random.truncated_normal", a[0], literal(p["lo"]), literal(p["hi"]), literal(t.shape),
                dtype=dtype_expr(t.dtype))


def _uniform_reference(args, params):
    import jax

    t = params["out"]
    return _np(jax.random.uniform(_jax_key(args[0]), t.shape, _out_dtype(t), params["lo"], params["hi"]))


def _uniform_render(a, p):
    t = p["out"]
    return call("jax.random.uniform", a[0], literal(t.shape), dtype=dtype_expr(t.dtype), minval=p["lo"],
                maxval=p["hi"])


def _propose_bernoulli(t: TensorType, ctx: Context) -> Proposal | None:
    if not t.dtype.is_bool:
        return None
    return Proposal((Operand(SCALAR_KEY),), {"out": t, "p": ctx.draw.choice((0.5, 0.1, 0.9, 0.25))})


def _bernoulli_reference(args, params):
    import jax

    return _np(jax.random.bernoulli(_jax_key(args[0]), params["p"], params["out"].shape))


def _bernoulli_render(a, p):
    return call("jax.random.bernoulli", a[0], literal(p["p"]), literal(p["out"].shape))


def _propose_randint(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype is not DType.int32:
        return None
    lo, hi = ctx.draw.choice(RANDINT_RANGES)
    return Proposal((Operand(SCALAR_KEY),), {"out": t, "lo": lo, "hi": hi})


def _randint_reference(args, params):
    import jax

    t = params["out"]
    return _np(jax.random.randint(_jax_key(args[0]), t.shape, params["lo"], params["hi"], _out_dtype(t)))


def _randint_render(a, p):
    return call("jax.random.randint", a[0], literal(p["out"].shape), literal(p["lo"]), literal(p["hi"]),
                dtype=dtype_expr(p["out"].dtype))


def _propose_categorical(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype is not DType.int32 or t.rank >= 3:
        return None
    dtype = ctx.pick_dtype(FLOATS)
    if dtype is None:
        return None
    logits = TensorType(dtype, t.shape + (ctx.pick_dim(),))
    return Proposal((Operand(SCALAR_KEY), Operand(logits, Interval(-10.0, 10.0))), {"out": t, "logits": dtype.name})


def _categorical_range(ins, types, out, params):
    return Interval(0, types[1].shape[-1] - 1)


def _categorical_reference(args, params):
    import jax

    logits = np.asarray(args[1]).astype(DType[params["logits"]].np_dtype)
    return _np(jax.random.categorical(_jax_key(args[0]), logits, axis=-1))


def _categorical_render(a, p):
    return call("jax.random.categorical", a[0], a[1], axis=-1)


def _propose_permutation(t: TensorType, ctx: Context) -> Proposal | None:
    if t.rank == 0 or t.dtype.is_key:
        return None
    return Proposal((Operand(SCALAR_KEY), Operand(t)), {"out": t})


def _permutation_reference(args, params):
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(args[1], dtype=params["out"].dtype.np_dtype)
    return _np(jax.random.permutation(_jax_key(args[0]), x)).astype(np.asarray(args[1]).dtype)


def _permutation_render(a, p):
    return call("jax.random.permutation", a[0], a[1])


# ---------------------------------------------------------------- transforms of a uniform draw

#: JAX draws a uniform float from ``m`` random mantissa bits (a multiple of ``2 ** -m`` in [0, 1); ``m`` is the
#: dtype's: float32 23, bfloat16 7, float16 10, float64 52), and ``exponential``, ``laplace``, ``logistic`` and
#: ``gumbel`` take logs of it, or of one minus it: bounded by about ``m log 2`` (logistic's ``log(tiny)`` below;
#: gumbel's ``"high"`` modes draw up to 64 bits, to about 44).
def _mantissa_log(dtype: DType) -> float:
    import ml_dtypes

    return (ml_dtypes.finfo(dtype.np_dtype).nmant + 2) * math.log(2.0)


def _log_tiny(dtype: DType) -> float:
    import ml_dtypes

    return math.log(float(ml_dtypes.finfo(dtype.np_dtype).tiny))


#: The interval of each transform's draw, by dtype.
LOG_DRAW_RANGES = {
    "exponential": lambda d: Interval(0.0, _mantissa_log(d)),
    "laplace": lambda d: Interval(-_mantissa_log(d), _mantissa_log(d)),
    "logistic": lambda d: Interval(_log_tiny(d) - 1.0, _mantissa_log(d)),
    "gumbel": lambda d: Interval(-math.log(-_log_tiny(d)) - 1.0, 45.0),
}


def _propose_log_draw(t: TensorType, ctx: Context) -> Proposal | None:
    return Proposal((Operand(SCALAR_KEY),), {"out": t}) if t.dtype in FLOATS else None


def _log_draw(name: str):
    """Gumbel noise (Gumbel-max sampling, Gumbel-softmax), exponential waiting times, Laplace noise (differential
    privacy), logistic noise."""
    # a log of a number near 1 or near 0: a few ulps of the result, or of 1 (logistic's two logs cancel)
    return _shaped_draw(name, _propose_log_draw, lambda i, t, o, p: LOG_DRAW_RANGES[name](p["out"].dtype),
                        weight=0.5, error_scale=lambda args, params, value: 2.0 + 2.0 * np.abs(value))


def _propose_rademacher(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.random.rademacher(key, shape, dtype)``: random signs (Hutchinson's trace estimator, random
    projections), integers or floats."""
    if t.dtype not in FLOATS | {DType.int32, DType.int8}:
        return None
    return Proposal((Operand(SCALAR_KEY),), {"out": t})


def _propose_choice(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.random.choice(key, x, (k,), replace=False)``: ``k`` distinct rows of ``x`` (minibatch and negative
    sampling), or with ``replace=True`` any ``k``."""
    if t.rank == 0 or t.dtype.is_key:
        return None
    rows = t.shape[0] + ctx.draw.randint(0, 4)
    return Proposal((Operand(SCALAR_KEY), Operand(t.with_shape((rows,) + t.shape[1:]))),
                    {"out": t, "replace": ctx.draw.bernoulli(0.3)})


def _choice_reference(args, params):
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(args[1], dtype=params["out"].dtype.np_dtype)
    drawn = jax.random.choice(_jax_key(args[0]), x, params["out"].shape[:1], replace=params["replace"])
    return _np(drawn).astype(np.asarray(args[1]).dtype)


def _choice_render(a, p):
    kwargs = {"replace": False} if not p["replace"] else {}
    return call("jax.random.choice", a[0], a[1], literal(p["out"].shape[:1]), **kwargs)


RANDOM_OPS: tuple[OpSpec, ...] = (
    _key_op("random_key", _propose_key, _key_reference, lambda a, p: call("jax.random.key", a[0])),
    _key_op("fold_in", _propose_fold_in, _fold_in_reference, lambda a, p: call("jax.random.fold_in", a[0], a[1])),
    _key_op("split", _propose_split, _split_reference, _split_render),
    _shaped_draw("normal", _propose_float, lambda i, t, o, p: Interval(-NORMAL_BOUND, NORMAL_BOUND),
                 error_scale=_normal_error),
    _sampler("truncated_normal", _propose_float, lambda i, t, o, p: Interval(p["lo"], p["hi"]),
             _truncated_reference, _truncated_render, weight=0.5, error_scale=_truncated_error),
    _sampler("uniform", _propose_float, lambda i, t, o, p: Interval(p["lo"], p["hi"]),
             _uniform_reference, _uniform_render, error_scale=_uniform_error),
    _sampler("bernoulli", _propose_bernoulli, lambda i, t, o, p: Interval(0, 1),
             _bernoulli_reference, _bernoulli_render),
    _sampler("randint", _propose_randint, lambda i, t, o, p: Interval(p["lo"], p["hi"] - 1),
             _randint_reference, _randint_render),
    _sampler("categorical", _propose_categorical, _categorical_range,
             _categorical_reference, _categorical_render, operand=FLOATS),
    _sampler("permutation", _propose_permutation, lambda i, t, o, p: i[1], _permutation_reference,
             _permutation_render, differentiable=True, operand=ALL),
    _sampler("choice", _propose_choice, lambda i, t, o, p: i[1], _choice_reference, _choice_render,
             differentiable=True, operand=ALL, weight=0.5),
    _log_draw("gumbel"),
    _log_draw("exponential"),
    _log_draw("laplace"),
    _log_draw("logistic"),
    _shaped_draw("rademacher", _propose_rademacher, lambda i, t, o, p: Interval(-1, 1), weight=0.5),
)
