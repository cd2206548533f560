"""Transformations inside programs, as regions: ``jax.grad``, ``jax.value_and_grad``, ``jax.jvp``,
``jax.vmap``, ``jax.checkpoint``, a nested ``jax.jit`` and ``lax.map``.

Each is a ``ControlSpec`` row like ``lax.scan``: the sampler fills its body, the renderer writes the body
as a local ``def`` and the call as ``jax.grad(grad_fn0)(x)`` and so on. They put ``pjit``, ``remat``,
``transpose``, ``add_any``, ``copy`` and batched primitives into JAXPRs.

References and intervals:

- ``checkpoint``, ``jit``, ``map`` and ``vmap`` are exact: the body's numpy reference, called once (per
  mapped element for ``map``/``vmap``), with the body's output intervals.
- ``grad``, ``value_and_grad`` and ``jvp`` differentiate their body. The body is *smooth*: the sampler
  fills it only with ``SMOOTH_OPS`` (no comparisons, ``where``, ``abs``, ``max``, casts, rounding, loops or
  branches), which are differentiable everywhere on their domains. The reference is a float64 central
  finite difference of the body's reference (noise-free), which is accurate to ~1e-9 relative for such
  bodies, not exact: the fuzzer checks these outputs with a loose tolerance (``approximate``). No interval
  rule bounds a derivative, so every derivative output is clipped to ``[-bound, bound]`` (in the program
  and in the reference): finiteness and soundness hold by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst
import libcst.helpers
import numpy as np

from jaxsynth.grammar.ops_control import ControlProposal, ControlSpec, RegionSig
from jaxsynth.grammar.opspec import Context, Operand, call
from jaxsynth.grammar.types import ALL, FLOATS, DType, Interval, TensorType

#: Ops that are differentiable everywhere on the domain their range rule admits (all float math here
#: has margins around its singularities). Differentiated bodies are built from these only.
SMOOTH_OPS = frozenset({
    "add", "subtract", "multiply", "divide", "power", "scale", "offset", "rsub", "div_scalar", "pow_scalar",
    "saxpy", "sin", "cos", "tan", "exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf", "negative", "square",
    "arctan", "arctan2", "arcsin", "arccos", "arctanh", "arcsinh", "arccosh", "sinh", "cosh",
    "log2", "log10", "exp2", "reciprocal", "soft_sign", "celu", "deg2rad", "rad2deg",
    "logistic_logpdf", "cauchy_logpdf", "t_logpdf",
    "sum", "mean", "var", "nansum", "nanmean", "prod", "cumsum", "cumprod", "diff", "dot", "matmul", "vdot",
    "nanvar", "nanprod", "nancumsum", "nancumprod",
    "outer", "cross", "einsum", "trace", "kron", "inner", "dot_general", "vecdot", "multi_dot", "trapezoid",
    "reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack", "slice", "flip",
    "pad", "take", "roll", "tile", "repeat", "swapaxes", "moveaxis", "diagonal", "rot90", "hstack", "vstack",
    "column_stack", "diag",
})
#: Dtypes a differentiated parameter may have (float16/bfloat16 gradients are too coarse to compare).
DIFF_DTYPES = frozenset({DType.float32, DType.float64})
#: Derivative outputs are clipped to +-bound.
BOUNDS = (1.0, 4.0, 10.0, 100.0)
#: A differentiated parameter has at most this many elements (the reference differences each one).
MAX_GRAD_SIZE = 64
#: Relative finite-difference step (float64 central differences: error ~ 1e-16 / h + h**2).
FD_STEP = 1e-6


def _exact(body: Callable[..., tuple]) -> Callable[..., tuple]:
    """The body evaluated without the fuzzer's instrumentation (noise) when the interpreter offers it."""
    return getattr(body, "exact", body)


def _directional(body: Callable[..., tuple], x: np.ndarray, v: np.ndarray, out: int = 0) -> np.ndarray:
    """d/dt body(x + t v)[out] at t = 0, by a float64 central difference."""
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(x), initial=0.0))) / max(1.0, float(np.max(np.abs(v), initial=0.0)))
    h = FD_STEP * scale
    f = _exact(body)
    plus = np.asarray(f(x + h * v)[out], dtype=np.float64)
    minus = np.asarray(f(x - h * v)[out], dtype=np.float64)
    return (plus - minus) / (2 * h)


def finite_gradient(body: Callable[..., tuple], x: np.ndarray) -> np.ndarray:
    """Gradient of the scalar ``body(x)[0]`` w.r.t. ``x``, one central difference per element."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = 1.0
        grad[i] = float(_directional(body, x, e))
    return grad


def _clip(x: np.ndarray, params) -> np.ndarray:
    return np.clip(x, -params["bound"], params["bound"])


def _bound(params) -> Interval:
    return Interval(-params["bound"], params["bound"])


def _body_call(fn: str, body: str, args: Sequence[cst.BaseExpression], **kwargs) -> cst.BaseExpression:
    """``fn(body, **kwargs)(*args)``."""
    return cst.Call(func=call(fn, cst.Name(body), **kwargs), args=[cst.Arg(a) for a in args])


# ---------------------------------------------------------------- grad / value_and_grad


def _propose_grad(t: TensorType, ctx: Context) -> ControlProposal | None:
    if t.dtype not in DIFF_DTYPES or t.size > MAX_GRAD_SIZE:
        return None
    return ControlProposal((Operand(t),), {"bound": ctx.draw.choice(BOUNDS)})


def _propose_value_and_grad(t: TensorType, ctx: Context) -> ControlProposal | None:
    if t.dtype not in DIFF_DTYPES:
        return None
    if t.rank == 0 and ctx.draw.bernoulli(0.5):  # the value is wanted; the parameter has any small shape
        x = TensorType(t.dtype, tuple(ctx.pick_dim() for _ in range(ctx.draw.randint(0, 2))))
        answer = 0
    else:
        x, answer = t, 1
    if x.size > MAX_GRAD_SIZE:
        return None
    return ControlProposal((Operand(x),), {"bound": ctx.draw.choice(BOUNDS)}, answer)


def _scalar_fn_regions(types, intervals, params):
    x = types[0]
    return (RegionSig("fn", ((x, intervals[0]),), (TensorType(x.dtype, ()),), (None,), "flat", smooth=True),)


def _grad_reference(args, params, bodies):
    grad = finite_gradient(bodies[0], args[0])
    bodies[0](args[0])  # once more, instrumented, at the point itself
    return (_clip(grad, params),)


def _value_and_grad_reference(args, params, bodies):
    grad = finite_gradient(bodies[0], args[0])
    (value,) = bodies[0](args[0])
    return value, _clip(grad, params)


GRAD = ControlSpec(
    "grad", "transforms", _propose_grad, _scalar_fn_regions, lambda t, p: (t[0],),
    lambda ins, t, p, outs: (_bound(p),), _grad_reference,
    lambda a, p, names: _body_call("jax.grad", names[0], a),
    weight=1.0, dtypes=DIFF_DTYPES, differentiable=False, clipped=(0,), approximate=(0,),
)
VALUE_AND_GRAD = ControlSpec(
    "value_and_grad", "transforms", _propose_value_and_grad, _scalar_fn_regions,
    lambda t, p: (TensorType(t[0].dtype, ()), t[0]),
    lambda ins, t, p, outs: (outs[0][0], _bound(p)), _value_and_grad_reference,
    lambda a, p, names: _body_call("jax.value_and_grad", names[0], a),
    weight=1.0, dtypes=DIFF_DTYPES, differentiable=False, clipped=(1,), approximate=(1,),
)


# ---------------------------------------------------------------- jvp


def _propose_jvp(t: TensorType, ctx: Context) -> ControlProposal | None:
    if t.dtype not in DIFF_DTYPES:
        return None
    x = TensorType(t.dtype, ctx.partner_shape(t.shape) if ctx.draw.bernoulli(0.5) else t.shape)
    if x.size > MAX_GRAD_SIZE:
        return None
    answer = ctx.draw.randint(0, 1)
    params = {"bound": ctx.draw.choice(BOUNDS), "out": t}
    return ControlProposal((Operand(x), Operand(x, Interval(-1.0, 1.0))), params, answer)


def _jvp_regions(types, intervals, params):
    return (RegionSig("fn", ((types[0], intervals[0]),), (params["out"],), (None,), "flat", smooth=True),)


def _jvp_reference(args, params, bodies):
    tangent = _directional(bodies[0], args[0], args[1])
    (value,) = bodies[0](args[0])
    return value, _clip(tangent, params)


def _jvp_render(a, p, names):
    return call("jax.jvp", cst.Name(names[0]), cst.Tuple([cst.Element(a[0], comma=cst.Comma())]),
                cst.Tuple([cst.Element(a[1], comma=cst.Comma())]))


JVP = ControlSpec(
    "jvp", "transforms", _propose_jvp, _jvp_regions, lambda t, p: (p["out"], p["out"]),
    lambda ins, t, p, outs: (outs[0][0], _bound(p)), _jvp_reference, _jvp_render,
    weight=0.8, dtypes=DIFF_DTYPES, differentiable=False, clipped=(1,), approximate=(1,),
)


# ---------------------------------------------------------------- checkpoint / jit


def _propose_wrap(t: TensorType, ctx: Context) -> ControlProposal | None:
    count = ctx.draw.randint(1, 2)
    types = [t] + [TensorType(ctx.pick_dtype(ALL) or t.dtype, ctx.partner_shape(t.shape)) for _ in range(count - 1)]
    return ControlProposal(tuple(Operand(ty) for ty in types), {"out": t})


def _wrap_regions(types, intervals, params):
    return (RegionSig("fn", tuple(zip(types, intervals, strict=True)), (params["out"],), (None,), "flat"),)


def _wrap_reference(args, params, bodies):
    return bodies[0](*args)


CHECKPOINT = ControlSpec(
    "checkpoint", "transforms", _propose_wrap, _wrap_regions, lambda t, p: (p["out"],),
    lambda ins, t, p, outs: (outs[0][0],), _wrap_reference,
    lambda a, p, names: _body_call("jax.checkpoint", names[0], a), weight=0.8, smooth_safe=True,
)
JIT = ControlSpec(
    "jit", "transforms", _propose_wrap, _wrap_regions, lambda t, p: (p["out"],),
    lambda ins, t, p, outs: (outs[0][0],), _wrap_reference,
    lambda a, p, names: _body_call("jax.jit", names[0], a), weight=0.8, smooth_safe=True,
)


# ---------------------------------------------------------------- lax.map / vmap


def _propose_map(t: TensorType, ctx: Context) -> ControlProposal | None:
    if t.rank == 0:
        return None
    y = t.with_shape(t.shape[1:])
    x = TensorType(ctx.pick_dtype(ALL) or t.dtype, (t.shape[0],) + ctx.partner_shape(y.shape))
    return ControlProposal((Operand(x),), {"y": y})


def _map_regions(types, intervals, params):
    x = types[0]
    return (RegionSig("fn", ((x.with_shape(x.shape[1:]), intervals[0]),), (params["y"],), (None,), "flat"),)


def _map_outputs(types, params):
    y = params["y"]
    return (y.with_shape((types[0].shape[0],) + y.shape),)


def _map_reference(args, params, bodies):
    y = params["y"]
    ys = [bodies[0](x)[0] for x in args[0]]
    return (np.stack(ys) if ys else np.zeros((0,) + y.shape),)


MAP = ControlSpec(
    "map", "transforms", _propose_map, _map_regions, _map_outputs, lambda ins, t, p, outs: (outs[0][0],),
    _map_reference, lambda a, p, names: call("lax.map", cst.Name(names[0]), a[0]), weight=0.8, smooth_safe=True,
)


def _propose_vmap(t: TensorType, ctx: Context) -> ControlProposal | None:
    if t.rank == 0:
        return None
    out_axis = ctx.draw.randint(0, t.rank - 1) if ctx.draw.bernoulli(0.5) else 0
    n = t.shape[out_axis]
    y = t.with_shape(t.shape[:out_axis] + t.shape[out_axis + 1 :])
    count = ctx.draw.randint(1, 2)
    params_types = [y] + [TensorType(ctx.pick_dtype(ALL) or t.dtype, ctx.partner_shape(y.shape))
                          for _ in range(count - 1)]
    in_axes = []
    for k, p in enumerate(params_types):
        if k > 0 and ctx.draw.bernoulli(0.3):
            in_axes.append(None)
        else:
            in_axes.append(ctx.draw.randint(0, p.rank) if ctx.draw.bernoulli(0.4) else 0)
    operands = tuple(
        Operand(p if a is None else p.with_shape(p.shape[:a] + (n,) + p.shape[a:]))
        for p, a in zip(params_types, in_axes, strict=True)
    )
    return ControlProposal(operands, {"y": y, "in_axes": tuple(in_axes), "out_axes": out_axis, "size": n})


def _vmap_regions(types, intervals, params):
    sig = []
    for ty, r, a in zip(types, intervals, params["in_axes"], strict=True):
        sig.append((ty if a is None else ty.with_shape(ty.shape[:a] + ty.shape[a + 1 :]), r))
    return (RegionSig("fn", tuple(sig), (params["y"],), (None,), "flat"),)


def _vmap_outputs(types, params):
    y, o = params["y"], params["out_axes"]
    return (y.with_shape(y.shape[:o] + (params["size"],) + y.shape[o:]),)


def _vmap_reference(args, params, bodies):
    ys = []
    for k in range(params["size"]):
        xs = [x if a is None else np.take(x, k, axis=a) for x, a in zip(args, params["in_axes"], strict=True)]
        ys.append(bodies[0](*xs)[0])
    stacked = np.stack(ys, axis=params["out_axes"]) if ys else np.zeros(_vmap_outputs([], params)[0].shape)
    return (stacked,)


def _vmap_render(a, p, names):
    in_axes = p["in_axes"]
    kwargs = {}
    if any(x != 0 for x in in_axes):
        kwargs["in_axes"] = in_axes if len(in_axes) > 1 else in_axes[0]
    if p["out_axes"] != 0:
        kwargs["out_axes"] = p["out_axes"]
    return _body_call("jax.vmap", names[0], a, **kwargs)


VMAP = ControlSpec(
    "vmap", "transforms", _propose_vmap, _vmap_regions, _vmap_outputs, lambda ins, t, p, outs: (outs[0][0],),
    _vmap_reference, _vmap_render, weight=1.0, smooth_safe=True,
)

# ---------------------------------------------------------------- custom_jvp / custom_vjp
#
# A local function decorated with ``jax.custom_jvp`` / ``jax.custom_vjp`` with its rules, then called.
# The rules are exact (they differentiate the undecorated function, ``fn.fun``, with ``jax.jvp`` /
# ``jax.vjp``), so a program that differentiates the call (a grad region, the grad oracle, the record's
# grad JAXPR) still has the true derivative; the JAXPR holds ``custom_jvp_call`` / ``custom_vjp_call``.
# Their operands are floats (an int argument would need float0 tangents in the rules), and their bodies are
# closed (they read only their parameters): JAX cannot differentiate a custom_vjp function with respect to a
# value it closes over.


def _propose_custom(t: TensorType, ctx: Context) -> ControlProposal | None:
    if t.dtype not in FLOATS:
        return None
    count = ctx.draw.randint(1, 2)
    types = [t] + [TensorType(ctx.pick_dtype(FLOATS) or t.dtype, ctx.partner_shape(t.shape))
                   for _ in range(count - 1)]
    return ControlProposal(tuple(Operand(ty) for ty in types), {"out": t})


_JVP_RULE = """@{fn}.defjvp
def {rule}(primals, tangents):
    return jax.jvp({fn}.fun, primals, tangents)
"""
_VJP_RULES = """def {fwd}({params}):
    return {fn}({params}), ({params},)
"""
_VJP_BWD = """def {bwd}(residuals, cotangent):
    _, pullback = jax.vjp({fn}.fun, *residuals)
    return pullback(cotangent)
"""


def _decorated(fn: cst.FunctionDef, decorator: str) -> cst.FunctionDef:
    return fn.with_changes(decorators=[cst.Decorator(call(decorator).func)])


def _define_custom_jvp(defs, names, params):
    fn = cst.Name(names[0])
    rule = libcst.helpers.parse_template_statement(_JVP_RULE, fn=fn, rule=cst.Name(f"{names[0]}_jvp"))
    return [_decorated(defs[0], "jax.custom_jvp"), rule]


def _define_custom_vjp(defs, names, params):
    fn = cst.Name(names[0])
    arity = len(defs[0].params.params)
    args = ", ".join(p.name.value for p in defs[0].params.params)
    fwd = libcst.helpers.parse_template_statement(
        _VJP_RULES.replace("{params}", args) if arity else _VJP_RULES, fn=fn, fwd=cst.Name(f"{names[0]}_fwd"))
    bwd = libcst.helpers.parse_template_statement(_VJP_BWD, fn=fn, bwd=cst.Name(f"{names[0]}_bwd"))
    register = libcst.helpers.parse_template_statement(
        "{fn}.defvjp({fwd}, {bwd})", fn=fn, fwd=cst.Name(f"{names[0]}_fwd"), bwd=cst.Name(f"{names[0]}_bwd"))
    return [_decorated(defs[0], "jax.custom_vjp"), fwd, bwd, register]


def _custom_call(a, p, names):
    return cst.Call(func=cst.Name(names[0]), args=[cst.Arg(x) for x in a])


def _closed_regions(types, intervals, params):
    return (RegionSig("fn", tuple(zip(types, intervals, strict=True)), (params["out"],), (None,), "flat",
                      closed=True),)


CUSTOM_JVP = ControlSpec(
    "custom_jvp", "transforms", _propose_custom, _closed_regions, lambda t, p: (p["out"],),
    lambda ins, t, p, outs: (outs[0][0],), _wrap_reference, _custom_call, weight=0.7, dtypes=FLOATS,
    smooth_safe=True, define=_define_custom_jvp,
)
CUSTOM_VJP = ControlSpec(
    "custom_vjp", "transforms", _propose_custom, _closed_regions, lambda t, p: (p["out"],),
    lambda ins, t, p, outs: (outs[0][0],), _wrap_reference, _custom_call, weight=0.7, dtypes=FLOATS,
    define=_define_custom_vjp,  # not smooth_safe: jax.jvp (a jvp region) of a custom_vjp function is an error
)

# ---------------------------------------------------------------- tree_map
#
# ``jax.tree_util.tree_map(fn, {"b": x0, "w": x1}, {"b": g0, "w": g1})`` over a dict or tuple of two or three
# leaves of one type (one body serves every leaf), with one or two trees (an optimizer's ``p - lr * g``).

TREE_KEYS = ("w", "b", "kernel", "bias", "scale", "mu", "nu")


def _propose_tree_map(t: TensorType, ctx: Context) -> ControlProposal | None:
    leaves, trees = ctx.draw.randint(2, 3), ctx.draw.randint(1, 2)
    if ctx.draw.bernoulli(0.7):
        pool = list(TREE_KEYS)
        keys = tuple(sorted(pool.pop(ctx.draw.randint(0, len(pool) - 1)) for _ in range(leaves)))
    else:
        keys = ()
    params = {"leaves": leaves, "trees": trees, "keys": keys, "out": t}
    return ControlProposal(tuple(Operand(t) for _ in range(leaves * trees)), params, ctx.draw.randint(0, leaves - 1))


def _tree_map_regions(types, intervals, params):
    n = params["leaves"]
    sig = []
    for k in range(params["trees"]):
        hull = intervals[k * n]
        for r in intervals[k * n + 1 : (k + 1) * n]:
            hull = hull.hull(r)
        sig.append((params["out"], hull))
    return (RegionSig("fn", tuple(sig), (params["out"],), (None,), "flat"),)


def _tree_map_reference(args, params, bodies):
    n = params["leaves"]
    return tuple(bodies[0](*(args[k * n + i] for k in range(params["trees"])))[0] for i in range(n))


def _tree_map_render(a, p, names):
    n, keys = p["leaves"], p["keys"]
    trees = []
    for k in range(p["trees"]):
        leaves = a[k * n : (k + 1) * n]
        if keys:
            trees.append(cst.Dict([cst.DictElement(cst.SimpleString(f'"{key}"'), v)
                                   for key, v in zip(keys, leaves, strict=True)]))
        else:
            trees.append(cst.Tuple([cst.Element(v) for v in leaves]))
    mapped = call("jax.tree_util.tree_map", cst.Name(names[0]), *trees)
    return cst.Call(func=cst.Attribute(value=mapped, attr=cst.Name("values"))) if keys else mapped


TREE_MAP = ControlSpec(
    "tree_map", "transforms", _propose_tree_map, _tree_map_regions,
    lambda t, p: (p["out"],) * p["leaves"], lambda ins, t, p, outs: (outs[0][0],) * p["leaves"],
    _tree_map_reference, _tree_map_render, weight=0.8, smooth_safe=True,
)

TRANSFORM_OPS: tuple[ControlSpec, ...] = (GRAD, VALUE_AND_GRAD, JVP, CHECKPOINT, JIT, MAP, VMAP, CUSTOM_JVP,
                                          CUSTOM_VJP, TREE_MAP)

__all__ = ["SMOOTH_OPS", "TRANSFORM_OPS", "finite_gradient"]
