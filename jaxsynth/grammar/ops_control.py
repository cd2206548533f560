"""Structured control flow: ``lax.cond``, ``lax.switch``, ``lax.fori_loop``, ``lax.while_loop``, ``lax.scan``.

A control op has bodies (regions) that the sampler fills with sub-programs. The row declares the
bodies' signatures (``regions``), the op's outputs and interval transfer, a numpy reference that
calls the bodies, and the call expression. Loop carries keep an interval *invariant*: the sampler
clips a body's carry outputs back into the carry's interval, so any trip count stays in range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst
import numpy as np

from jaxsynth.grammar.opspec import Context, Operand, Params, call, listed, literal
from jaxsynth.grammar.types import ALL, DType, Interval, TensorType

Layout = Literal["flat", "index_carry", "carry_x", "state"]


@dataclass(frozen=True, slots=True)
class RegionSig:
    """A body to sample: its parameters (type and interval), its outputs and their invariants.

    ``layout`` says how the body's Python ``def`` packs them (see ``synth/render.py``):
    ``flat`` ``def f(a, b): return r``; ``index_carry`` ``def f(i, carry)``; ``carry_x``
    ``def f(carry, x): return carry, y``; ``state`` ``def f(state)`` with a hidden trip counter.
    """

    role: str
    params: tuple[tuple[TensorType, Interval], ...]
    outputs: tuple[TensorType, ...]
    invariants: tuple[Interval | None, ...]
    layout: Layout
    carries: int = 0
    #: The body is differentiated (``jax.grad``, ``jax.jvp``): the sampler fills it only with ops that are
    #: smooth on their domain (see ``ops_transform.SMOOTH_OPS``), so finite differences are a sound reference.
    smooth: bool = False
    #: The body reads only its own parameters (and constants), never values of enclosing scopes.
    closed: bool = False


@dataclass(frozen=True, slots=True)
class ControlProposal:
    operands: tuple[Operand, ...]
    params: Params = field(default_factory=dict)
    answer: int = 0  # which output of the op has the wanted type


@dataclass(frozen=True, slots=True)
class ControlSpec:
    name: str
    category: str
    propose: Callable[[TensorType, Context], ControlProposal | None]
    regions: Callable[[Sequence[TensorType], Sequence[Interval], Params], tuple[RegionSig, ...]]
    outputs: Callable[[Sequence[TensorType], Params], tuple[TensorType, ...]]
    ranges: Callable[
        [Sequence[Interval], Sequence[TensorType], Params, Sequence[Sequence[Interval]]], tuple[Interval, ...]
    ]
    reference: Callable[[Sequence[np.ndarray], Params, Sequence[Callable[..., tuple]]], tuple[np.ndarray, ...]]
    render: Callable[[Sequence[cst.BaseExpression], Params, Sequence[str]], cst.BaseExpression]
    weight: float = 1.0
    dtypes: frozenset[DType] = ALL
    differentiable: bool = True
    family: str = "control"
    #: Outputs the renderer clips to ``[-params["bound"], params["bound"]]`` after the call (derivatives,
    #: whose magnitude has no sound interval rule otherwise); the reference clips them the same way.
    clipped: tuple[int, ...] = ()
    #: The reference of these outputs is a float64 finite difference, not an exact computation; the fuzzer
    #: checks them with a loose tolerance (see ``fuzz/reference.py``).
    approximate: tuple[int, ...] = ()
    #: Its bodies may be sampled inside a smooth (differentiated) body; they are smooth themselves then.
    smooth_safe: bool = False
    #: Statements that define the bodies, given their rendered ``def``s and names (default: the defs as
    #: they are); e.g. ``@jax.custom_jvp`` on the def and the rule defs after it.
    define: Callable[[Sequence[cst.FunctionDef], Sequence[str], Params], list[cst.BaseStatement]] | None = None
    #: The first JAX release with every API the rendering calls (``OpSpec.since``).
    since: tuple[int, ...] = ()


def invariant(x: Interval, dtype: DType) -> Interval:
    """A carry's loop invariant: its initial interval grown to whole numbers (and to [-1, 1])."""
    if dtype.is_bool:
        return Interval(0, 1)
    grown = x.hull(Interval(max(-1.0, dtype.bounds.lo), 1.0))
    return Interval(math.floor(grown.lo), math.ceil(grown.hi))


def _operand_types(t: TensorType, ctx: Context, count: int) -> list[TensorType]:
    """The wanted type first, then ``count - 1`` companions of any dtype and a broadcast-partner shape."""
    types = [t]
    for _ in range(count - 1):
        types.append(TensorType(ctx.pick_dtype(ALL) or t.dtype, ctx.partner_shape(t.shape)))
    return types


# ---------------------------------------------------------------- cond / switch


def _propose_branch(kind: str):
    def propose(t, ctx):
        count = ctx.draw.randint(1, 2)
        selector = TensorType(DType.bool if kind == "cond" else DType.int32, ())
        params = {"branches": 2 if kind == "cond" else ctx.draw.randint(2, 3)}
        operands = tuple(Operand(ty) for ty in _operand_types(t, ctx, count))
        return ControlProposal((Operand(selector),) + operands, params | {"out": t})

    return propose


def _branch_regions(kind: str):
    def regions(types, intervals, params):
        sig_params = tuple(zip(types[1:], intervals[1:], strict=True))
        roles = ("true", "false") if kind == "cond" else tuple(f"branch{i}" for i in range(params["branches"]))
        return tuple(RegionSig(r, sig_params, (params["out"],), (None,), "flat") for r in roles)

    return regions


def _branch_ranges(ins, types, params, region_outs):
    result = region_outs[0][0]
    for outs in region_outs[1:]:
        result = result.hull(outs[0])
    return (result,)


def _cond_reference(args, params, bodies):
    return bodies[0 if bool(args[0]) else 1](*args[1:])


def _switch_reference(args, params, bodies):
    index = int(np.clip(args[0], 0, len(bodies) - 1))
    return bodies[index](*args[1:])


COND = ControlSpec(
    "cond", "branching", _propose_branch("cond"), _branch_regions("cond"), lambda t, p: (p["out"],), _branch_ranges,
    _cond_reference, lambda a, p, names: call("lax.cond", a[0], cst.Name(names[0]), cst.Name(names[1]), *a[1:]),
)
SWITCH = ControlSpec(
    "switch", "branching", _propose_branch("switch"), _branch_regions("switch"), lambda t, p: (p["out"],),
    _branch_ranges, _switch_reference,
    lambda a, p, names: call("lax.switch", a[0], listed([cst.Name(n) for n in names]), *a[1:]),
    weight=0.7,
)


# ---------------------------------------------------------------- loops


def _carry_types(t: TensorType, ctx: Context) -> list[TensorType]:
    return _operand_types(t, ctx, ctx.draw.randint(1, 2))


def _propose_fori(t, ctx):
    carries = _carry_types(t, ctx)
    trips = ctx.draw.choice((0, 1, 2, 3, 4, 5, 8))
    return ControlProposal(tuple(Operand(c) for c in carries), {"trips": trips, "carries": len(carries)})


def _loop_invariants(types, intervals) -> tuple[Interval, ...]:
    return tuple(invariant(x, t.dtype) for t, x in zip(types, intervals, strict=True))


def _fori_regions(types, intervals, params):
    inv = _loop_invariants(types, intervals)
    index = (TensorType(DType.int32, ()), Interval(0, max(params["trips"] - 1, 0)))
    return (RegionSig("body", (index,) + tuple(zip(types, inv, strict=True)), tuple(types), inv, "index_carry",
                      params["carries"]),)


def _loop_ranges(ins, types, params, region_outs):
    n = params["carries"]
    return _loop_invariants(types[:n], ins[:n])


def _fori_reference(args, params, bodies):
    carry = tuple(args)
    for i in range(params["trips"]):
        carry = bodies[0](np.int32(i), *carry)
    return carry


def _carry_expr(args: Sequence[cst.BaseExpression]) -> cst.BaseExpression:
    return args[0] if len(args) == 1 else cst.Tuple([cst.Element(a) for a in args])


FORI = ControlSpec(
    "fori_loop", "loops", _propose_fori, _fori_regions, lambda t, p: tuple(t), _loop_ranges, _fori_reference,
    lambda a, p, names: call("lax.fori_loop", literal(0), literal(p["trips"]), cst.Name(names[0]), _carry_expr(a)),
)


def _propose_while(t, ctx):
    carries = _carry_types(t, ctx)
    params = {"trips": ctx.draw.randint(0, 6), "carries": len(carries)}
    return ControlProposal(tuple(Operand(c) for c in carries), params)


def _while_regions(types, intervals, params):
    inv = _loop_invariants(types, intervals)
    return (RegionSig("body", tuple(zip(types, inv, strict=True)), tuple(types), inv, "state", params["carries"]),)


def _while_reference(args, params, bodies):
    carry = tuple(args)
    for _ in range(params["trips"]):
        carry = bodies[0](*carry)
    return carry


WHILE = ControlSpec(
    "while_loop", "loops", _propose_while, _while_regions, lambda t, p: tuple(t), _loop_ranges, _while_reference,
    lambda a, p, names: call("lax.while_loop", cst.Name(names[1]), cst.Name(names[0]),
                             cst.Tuple([cst.Element(literal(0))] + [cst.Element(x) for x in a])),
    weight=0.7,
)


def _propose_scan(t, ctx):
    stacked = t.rank >= 1 and ctx.draw.bernoulli(0.5)
    length = t.shape[0] if stacked else ctx.pick_dim()
    y = t.with_shape(t.shape[1:]) if stacked else TensorType(t.dtype, ctx.partner_shape(t.shape))
    carries = _carry_types(y if stacked else t, ctx)
    x_step = TensorType(ctx.pick_dtype(ALL) or t.dtype, ctx.partner_shape(y.shape))
    xs = TensorType(x_step.dtype, (length,) + x_step.shape)
    params = {"carries": len(carries), "y": y, "length": length}
    answer = len(carries) if stacked else 0
    return ControlProposal(tuple(Operand(c) for c in carries) + (Operand(xs),), params, answer)


def _scan_regions(types, intervals, params):
    n = params["carries"]
    inv = _loop_invariants(types[:n], intervals[:n])
    xs = types[n]
    x_param = (xs.with_shape(xs.shape[1:]), intervals[n])
    return (RegionSig("body", tuple(zip(types[:n], inv, strict=True)) + (x_param,), tuple(types[:n]) + (params["y"],),
                      inv + (None,), "carry_x", n),)


def _scan_outputs(types, params):
    n, y = params["carries"], params["y"]
    return tuple(types[:n]) + (TensorType(y.dtype, (params["length"],) + y.shape),)


def _scan_ranges(ins, types, params, region_outs):
    return _loop_ranges(ins, types, params, region_outs) + (region_outs[0][-1],)


def _scan_reference(args, params, bodies):
    n = params["carries"]
    carry, xs = tuple(args[:n]), args[n]
    ys = []
    for step in range(params["length"]):
        *carry, y = bodies[0](*carry, xs[step])
        ys.append(y)
    y_type = params["y"]
    stacked = np.stack(ys) if ys else np.zeros((0,) + y_type.shape)
    return tuple(carry) + (stacked,)


SCAN = ControlSpec(
    "scan", "loops", _propose_scan, _scan_regions, _scan_outputs, _scan_ranges, _scan_reference,
    lambda a, p, names: call("lax.scan", cst.Name(names[0]), _carry_expr(a[: p["carries"]]), a[p["carries"]]),
    weight=1.2,
)

CONTROL_OPS: tuple[ControlSpec, ...] = (COND, SWITCH, FORI, WHILE, SCAN)

