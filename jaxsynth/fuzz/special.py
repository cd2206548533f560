"""Special-values mode: inputs with NaN, ±Inf, -0.0, subnormals and integer extremes.

Finite-by-construction is the default; this mode deliberately leaves it. A campaign in this mode
(``jaxsynth fuzz --special``, or a config with ``types.special_values = true`` such as the built-in
``fuzz-special``) samples only ops whose row says ``special_values=True`` (IEEE 754 semantics, or
two's-complement wraparound for integers, that the op's numpy reference follows exactly), plus
``cond``/``switch``/``scan``/``fori_loop`` (never the data-dependent ``while_loop``). After the usual
inputs are drawn, about a quarter of the elements of each float input become one of NaN, ±Inf, ±0.0 or
a ±subnormal, and of each integer input one of the dtype's extremes, 0 or -1 (so integer arithmetic
wraps around).

The reference runs op by op with every result rounded to its declared dtype, so IEEE overflow,
NaN and Inf propagation and integer wraparound happen where they happen in the program; a second run
flushes every subnormal result to a signed zero (XLA:CPU's denormals-are-zero / flush-to-zero), and
an element may match either. A comparison
(``reference``, ``eager``, ``passes``) requires the same class for every element (NaN, +Inf, -Inf,
finite; -0.0 equals +0.0) and finite values within a relative tolerance of the dtype's precision times
the program's depth (plus the smallest normal number, absolute), plus ``SAFETY`` times the rounding spread
of the float64 reference, as in normal mode (:mod:`jaxsynth.fuzz.tolerance`): an approximate ``log`` or
``expm1`` is a few ulps off, and a later cancelling subtraction or an amplifying ``cos`` turns that into a
large relative error of the result. The spread is measured on the continuous float64 reference, not on
the rounded one (a perturbation under half an ulp rounds away: see ``LowPrecisionOracle``), and only where
the exact and perturbed values are finite. The oracles that compare two XLA runs (``vmap``, ``sharding``,
``export``, ``jitvmap``, ``unroll``'s forward check, ``rewrite``) judge with the same classes and tolerances: each
output element must match the other run's, or both must match one of the references; a batch draws
special values into every example, and each example has its own references. Two skips: a mismatch
confined to elements that depend on a chain of products in which an intermediate over- or underflowed, or
on a product reduction that some grouping of its factors takes out of the normal numbers
(:func:`regroupable`), whose class XLA may change by licensed reassociation; and, as in normal mode, a
mismatch of finite values fed by a comparison, rounding or cast that simulated rounding flips or brings
near its threshold (never a class mismatch: :func:`class_mismatch`). The oracles outside
:data:`SPECIAL_ORACLES` return an ``unsupported`` skip on special inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ml_dtypes
import msgspec
import numpy as np

from jaxsynth.fuzz.reference import Budget
from jaxsynth.fuzz.tolerance import DISCONTINUOUS, SAFETY, Analysis, Comparison
from jaxsynth.fuzz.tolerance import analyse as analyse_rounding
from jaxsynth.grammar import GrammarConfig
from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_tensor import PRODUCT_REDUCTIONS
from jaxsynth.grammar.opspec import OpSpec
from jaxsynth.grammar.types import DType
from jaxsynth.synth.program import Program

__all__ = ["FRACTION", "PRODUCTS", "SPECIAL_ORACLES", "analyse", "compare_special", "references", "regroupable",
           "special_config", "special_inputs", "tolerance_for"]

FRACTION = 0.25  #: of the elements of each input that become special
#: The oracles that judge special-value inputs: those that compare XLA with the reference op by op, or two
#: XLA runs of the same program on the same inputs (a batch's examples each with their own special values).
#: ``rewrite`` among them without ``(v + v) * 0.5`` (it overflows where ``v`` does not); its other identities
#: hold for every value: commuted operands, a transpose of a transpose, a split reduction (NaN and the
#: infinities propagate through either part alike; integers wrap alike). Not ``grad`` (finite differences across
#: a NaN or an Inf) or ``lowprec`` (its rounded reference is what ``reference`` compares with here).
SPECIAL_ORACLES = frozenset({"reference", "eager", "passes", "vmap", "sharding", "export", "jitvmap", "unroll",
                             "rewrite"})
_CONTROL_OK = frozenset({"cond", "switch", "scan", "fori_loop"})
#: Ops that multiply or divide (``deg2rad`` and ``rad2deg`` are a multiply by a constant in HLO, as ``scale`` is).
#: XLA's algebraic simplifier regroups a chain of them (``x * (y / 2)`` as ``y * (x * 0.5)``, ``(x * c1) * c2``
#: as ``x * (c1 * c2)``): licensed float reassociation, exact unless an intermediate over- or underflows
#: (:func:`regroupable`).
PRODUCTS = frozenset({"multiply", "divide", "scale", "div_scalar", "deg2rad", "rad2deg"})
#: Ops whose first two operands are factors: the products, and ``saxpy`` (``a * x + y``), which ends a chain.
_FACTORS = PRODUCTS | {"saxpy"}
#: Categories whose ops compute each output element from the same element of each (broadcast) operand.
_ELEMENTWISE = frozenset({"elementwise", "unary", "scalar_array", "compare_logical", "bitwise", "cast"})


def special_ops() -> list[str]:
    """The ops a special-values program may use."""
    return sorted(n for n, s in REGISTRY.items()
                  if (isinstance(s, OpSpec) and s.special_values) or n in _CONTROL_OK)


def special_config(config: GrammarConfig) -> GrammarConfig:
    """``config`` with every op lacking defined special-value semantics at weight 0."""
    allowed = set(special_ops())
    ops = dict(config.weights.ops)
    for name in REGISTRY:
        if name not in allowed:
            ops[name] = 0.0
    return msgspec.structs.replace(config, weights=msgspec.structs.replace(config.weights, ops=ops))


def _float_specials(dtype: np.dtype) -> np.ndarray:
    tiny = float(ml_dtypes.finfo(dtype).smallest_subnormal)
    return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, 3 * tiny], dtype=np.float64)


def special_inputs(program: Program, inputs: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """``inputs`` with about :data:`FRACTION` of each float/int input's elements made special."""
    out = []
    for node, x in zip(program.inputs, inputs, strict=True):
        dtype = node.type.dtype
        a = np.array(x, copy=True)
        if dtype.is_bool or a.size == 0:
            out.append(a)
            continue
        mask = rng.random(a.shape) < FRACTION
        if dtype.is_float:
            pool = _float_specials(dtype.np_dtype)
        else:
            info = np.iinfo(dtype.np_dtype)
            pool = np.array([info.min, info.max, info.min + 1, info.max - 1, 0, -1 if info.min < 0 else 1],
                            dtype=np.int64)
        picks = pool[rng.integers(len(pool), size=a.shape)]
        a = np.where(mask, picks.astype(dtype.np_dtype), a).astype(dtype.np_dtype)
        out.append(np.asarray(a))
    return out


def tolerance_for(dtype: DType, depth: int, expected: np.ndarray, spread: np.ndarray | float = 0.0,
                  safety: float = SAFETY) -> np.ndarray:
    """Allowed error of the finite elements (0 for ints and bools, and where ``expected`` is not finite:
    the class comparison judges those)."""
    e = np.asarray(expected, dtype=np.float64)
    if dtype.is_bool or dtype.is_int:
        return np.zeros(e.shape)
    eps = dtype.eps
    tiny = float(ml_dtypes.finfo(dtype.np_dtype).tiny)
    with np.errstate(all="ignore"):
        return np.where(np.isfinite(e), 8 * (depth + 2) * eps * np.abs(e) + tiny + safety * np.asarray(spread), 0.0)


def references(program: Program, inputs: Sequence[np.ndarray], budget: Budget | None = None
               ) -> list[tuple[np.ndarray, ...]]:
    """The outputs of the reference op by op in each node's dtype: with IEEE subnormals, and with every
    subnormal value flushed to a signed zero (XLA:CPU runs with denormals-are-zero and flush-to-zero in
    fused code, a documented design choice rather than a bug: either result is accepted per element)."""
    from jaxsynth.fuzz import reference

    ieee = reference.run(program, inputs, round_to_dtype=True, budget=budget).outputs
    flushed = reference.run(program, inputs, round_to_dtype=True, budget=budget, rewrite=_flushed_value).outputs
    return [tuple(ieee), tuple(flushed)]


def _flushed_value(node, value: object) -> object:
    """The ``rewrite`` hook (:func:`jaxsynth.fuzz.reference.run`) of the flushed reference: a float node's value
    with its subnormals (of the node's dtype) as signed zeros, as XLA:CPU's denormals-are-zero and flush-to-zero
    make them, in the value's own dtype: float64 inside the reference, an input's dtype for an input (bfloat16's
    too, which numpy's kind, ``V``, does not call floating). Tuple results pass through."""
    if len(node.types) != 1 or isinstance(value, tuple) or not node.type.dtype.is_float:
        return value
    dtype = node.type.dtype
    a = np.asarray(value)
    if a.dtype.kind != "f" and a.dtype != dtype.np_dtype:
        return value
    tiny = float(ml_dtypes.finfo(dtype.np_dtype).tiny)
    wide = a.astype(np.float64)
    with np.errstate(all="ignore"):
        return np.where(np.abs(wide) < tiny, np.copysign(0.0, wide), wide).astype(a.dtype)


def regroupable(program: Program, inputs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per output, a boolean mask of the elements that depend on a chain of at least three factors
    (:data:`PRODUCTS` feeding one another) in which an intermediate product over- or underflowed in its
    dtype, or a factor is subnormal. XLA may regroup such a chain, and the regrouped product can have
    another class: ``x0 * (x1 / 2.0)`` in float16 with ``x0 = -inf`` and ``x1 = 6e-8`` is NaN op by op
    (``x1 / 2`` underflows to 0) and -inf as XLA computes it, ``x1 * (x0 * 0.5)`` (fuzz-special seed 91,
    program 5912). A float product reduction (``prod``, ``nanprod`` and their running forms) is such a chain
    within one op, which the reference multiplies in float64 and rounds once: its elements of three or more
    factors that some grouping could take out of the dtype's normal numbers (:func:`_product_reduction_event`)
    are marked too (``nancumprod`` of a column holding ``1.6``, ``-1e-45``, ``-0.14`` and ``inf``: XLA's
    float32 running product underflows to 0 and gives NaN, the reference inf; fuzz-special seed 5204,
    program 15). A mismatch confined to these elements is skipped as a discontinuity, never a finding.

    Elementwise ops carry the mask element by element. Any other op marks the elements of its result that
    change when its marked float operands are NaN (a ``min`` over a row that holds an unmarked NaN stays
    NaN, whatever the regrouped elements are: seed 92, program 3679); where that cannot tell (a marked
    integer or bool operand, a tuple result), and for a control-flow op whose body has such a chain or reads
    a marked value, the whole result."""
    from jaxsynth.synth.interpret import evaluate

    top = {n.id for n in program.body.nodes}
    masks: dict[int, np.ndarray | bool] = {}  # per top-level node: a mask of its shape, or one bool for all
    events: dict[int, np.ndarray | bool] = {}  # per product node: over/underflow anywhere in its chain
    in_body = [False]  # a body's chain had an event: the enclosing top-level control op is marked whole

    def any_of(ids: Sequence[int]) -> bool:
        return any(bool(np.any(masks.get(a, False))) for a in ids)

    def visit(node, args, value):
        own = _product_reduction_event(node, args) if node.op in PRODUCT_REDUCTIONS else False
        if node.id not in top and np.any(own):
            in_body[0] = True
        if node.op in _FACTORS and node.type.dtype.is_float:
            factors = [a for a in node.args[:2] if a in events]
            event = _over_or_underflow(node, args, value) if node.op in PRODUCTS else False
            for a in factors:
                event = _broadcast_or(event, events[a], node.type.shape)
            if node.op in PRODUCTS:
                events[node.id] = event
            if factors:  # three factors or more: the chain can be regrouped
                if node.id in top:
                    masks[node.id] = _broadcast_or(event, masks.get(node.id, False), node.type.shape)
                elif np.any(event):
                    in_body[0] = True
        if node.id not in top:
            return value
        spec = REGISTRY.get(node.op)
        if node.regions:
            masks[node.id] = any_of(_reads(node)) or in_body[0]
            in_body[0] = False
        elif isinstance(spec, OpSpec) and spec.category in _ELEMENTWISE and not isinstance(value, tuple):
            m = masks.get(node.id, False)
            for a in node.args:
                m = _broadcast_or(m, masks.get(a, False), node.type.shape)
            masks[node.id] = m
        elif isinstance(spec, OpSpec) and any_of(node.args):
            masks[node.id] = _poisoned(node, spec, args, [masks.get(a, False) for a in node.args])
        else:
            masks[node.id] = any_of(node.args)
        masks[node.id] = _broadcast_or(masks[node.id], own, node.type.shape)
        return value

    evaluate(program, inputs, True, visit)
    return tuple(np.broadcast_to(np.asarray(masks.get(o, False)), program.node(o).type.shape).copy()
                 for o in program.body.outputs)


def _product_reduction_event(node, args: Sequence[object]) -> np.ndarray | bool:
    """Per element of a float product reduction's result: whether it has three or more factors (NaNs left out
    of ``nanprod``'s) and some grouping of them could leave the dtype's normal numbers, the product of the
    factors under 1 in magnitude below the smallest normal or of those over 1 above the largest finite value,
    or a factor is subnormal. A bound over every grouping, since XLA picks its own: sequential, in a tree, in
    a wider type."""
    if not node.type.dtype.is_float or len(node.types) != 1:
        return False
    info = ml_dtypes.finfo(node.type.dtype.np_dtype)
    x = np.asarray(args[0], dtype=np.float64)
    with np.errstate(all="ignore"):
        size = np.abs(x)
        factor = np.isfinite(size) & (size != 0)
        log = np.log2(np.where(factor, size, 1.0))
    counted = ~np.isnan(x) if node.op.startswith("nan") else np.ones(x.shape, dtype=bool)
    axis = node.params.get("axis")
    if "keepdims" not in node.params:  # a running product: each element's factors are a prefix along the axis

        def total(v: np.ndarray) -> np.ndarray:
            return np.cumsum(v, axis=axis)
    else:

        def total(v: np.ndarray) -> np.ndarray:
            return np.sum(v, axis=axis, keepdims=node.params["keepdims"])

    event = ((total(np.minimum(log, 0.0)) < math.log2(float(info.tiny)))
             | (total(np.maximum(log, 0.0)) > math.log2(float(info.max)))
             | (total(factor & (size < float(info.tiny))) > 0))
    return np.reshape(event & (total(counted.astype(np.int64)) >= 3), node.type.shape)


def _poisoned(node, spec: OpSpec, args: Sequence[object], masks: Sequence[np.ndarray | bool]) -> np.ndarray | bool:
    """The elements of ``node``'s result that change when its marked operand elements are NaN."""
    poisoned = []
    for a, m in zip(args, masks, strict=True):
        x = np.asarray(a)
        if not np.any(m):
            poisoned.append(a)
        elif x.dtype.kind == "f":
            poisoned.append(np.where(m, np.nan, x))
        else:
            return True
    try:
        with np.errstate(all="ignore"):
            before = np.asarray(spec.reference(list(args), node.params))
            after = np.asarray(spec.reference(poisoned, node.params))
    except Exception:  # an op whose reference rejects NaN (an index operand, say): all of it
        return True
    if before.shape != after.shape or before.shape != node.type.shape:
        return True
    same = before == after
    if before.dtype.kind in "fc":
        same |= np.isnan(before) & np.isnan(after)
    return ~same


def _reads(node) -> list[int]:
    """The operands of a control-flow op and every value its bodies read (enclosing values included)."""
    ids = list(node.args)
    for region in node.regions:
        for inner in region.nodes:
            ids.extend(_reads(inner))
    return ids


def _broadcast_or(a: np.ndarray | bool, b: np.ndarray | bool, shape: tuple[int, ...]) -> np.ndarray | bool:
    """``a | b`` as a mask of ``shape``; all of it where an operand's mask does not broadcast."""
    if not np.any(a) and not np.any(b):
        return False
    try:
        return np.broadcast_to(a, shape) | np.broadcast_to(b, shape)
    except ValueError:
        return True


def _over_or_underflow(node, args: Sequence[object], value: object) -> np.ndarray | bool:
    """Where the product op's result, rounded to its dtype, left the finite numbers or the normal ones
    although its exact value did not, or a factor is subnormal."""
    spec = REGISTRY[node.op]
    tiny = float(ml_dtypes.finfo(node.type.dtype.np_dtype).tiny)
    with np.errstate(all="ignore"):
        exact = np.asarray(spec.reference(list(args), node.params), dtype=np.float64)
        got = np.asarray(value, dtype=np.float64)
        event = (np.isfinite(exact) & ~np.isfinite(got)) | ((exact != 0) & np.isfinite(exact) & (np.abs(got) < tiny))
        for a in args[:2]:
            x = np.asarray(a)
            if x.dtype.kind == "f":
                event = _broadcast_or(event, (x != 0) & (np.abs(x) < tiny), node.type.shape)
    return event


def analyse(program: Program, inputs: Sequence[np.ndarray], budget: Budget | None = None
            ) -> tuple[Analysis, tuple[np.ndarray, ...]]:
    """The IEEE reference with the float64 reference's rounding spread (finite elements only) and its
    threshold discontinuities, and the flushed reference. :func:`regroupable` is computed only where a
    comparison fails."""
    ieee, flushed = references(program, inputs, budget)
    rounding = analyse_rounding(program, inputs, finite_only=True, budget=budget)
    spread = _flushed_spread(program, inputs, ieee, flushed, rounding.spread, budget)
    # a comparison (or a floor, round, cast to an integer...) whose operands rounding alone carries, or could
    # carry, across its threshold: XLA's licensed rewrites round differently (log(exp(x)) is folded to x, exact,
    # where op by op it is 1 ulp off, and `!= x` flips: fuzz-special seed 97, program 403). Only such nodes, and
    # only for a mismatch of finite values (:func:`class_mismatch`: a NaN or an Inf at stake is never skipped)
    def threshold(nodes: frozenset[int]) -> frozenset[int]:
        return frozenset(n for n in nodes if program.node(n).op in DISCONTINUOUS)

    return Analysis(ieee, spread, threshold(rounding.near), threshold(rounding.flips), {}), flushed


def _flushed_spread(program: Program, inputs: Sequence[np.ndarray], ieee: Sequence[np.ndarray],
                    flushed: Sequence[np.ndarray], spread: Sequence[np.ndarray], budget: Budget | None
                    ) -> tuple[np.ndarray, ...]:
    """``spread`` with, where the IEEE reference is NaN or Inf but the flushed one finite, the rounding spread
    of the flushed reference: the continuous float64 reference with every value below its dtype's normal
    numbers flushed to a signed zero, the inputs' and the ones the ops make alike. XLA's flushed result is
    judged there against the flushed reference and needs that value's own rounding error: ``sum(sqrt(x0) - x1)``
    with one element of ``x0`` a negative subnormal is NaN op by op and a finite sum of terms of both signs with
    XLA's flushing, whose terms' rounding a tolerance relative to the small sum leaves out (3 of 200 such sums
    were findings); so is ``sum(sqrt(x0 * x2) - x1)`` where the product is a negative subnormal that the program
    makes. It is computed only where such elements are."""
    gaps = [np.isfinite(f) & ~np.isfinite(i) if np.asarray(f).dtype.kind in "fc" else np.zeros(np.shape(f), bool)
            for i, f in zip(ieee, flushed, strict=True)]
    if not any(g.any() for g in gaps):
        return tuple(spread)
    other = analyse_rounding(program, inputs, finite_only=True, budget=budget, rewrite=_flushed_value).spread
    return tuple(np.where(g, o, s) for g, o, s in zip(gaps, other, spread, strict=True))


def _classes(g: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per element of two float64 arrays: the same special class (both NaN, or Infs of one sign), and a class
    mismatch (finite vs NaN or Inf, or Infs of opposite signs)."""
    same_class = (np.isnan(g) & np.isnan(e)) | (np.isinf(g) & np.isinf(e) & (np.sign(g) == np.sign(e)))
    return same_class, ~same_class & (~np.isfinite(g) | ~np.isfinite(e))


def class_mismatch(got: np.ndarray, expecteds: Sequence[np.ndarray]) -> bool:
    """Whether some element of ``got`` is NaN, +Inf, -Inf or finite where every expected value is of another
    class (-0.0 and +0.0 are one class)."""
    g = np.asarray(got).astype(np.float64)
    differs = np.ones(g.shape, dtype=bool)
    for e in expecteds:
        if np.shape(e) != g.shape:
            return True
        differs &= _classes(g, np.asarray(e).astype(np.float64))[1]
    return bool(differs.any())


def special_ratio(got: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Per element: error / tolerance, 0 for the same special class (NaN, +Inf, -Inf), inf for a class
    mismatch (finite vs NaN or Inf, or Infs of opposite signs)."""
    g = np.asarray(got).astype(np.float64)
    e = np.asarray(expected).astype(np.float64)
    t = np.broadcast_to(np.asarray(tol, dtype=np.float64), e.shape)
    same_class, mismatch = _classes(g, e)
    with np.errstate(all="ignore"):
        err = np.where(same_class | mismatch, 0.0, np.abs(g - e))
        ratio = np.where(err == 0, 0.0, np.where(t > 0, err / np.where(t > 0, t, 1.0), np.inf))
    return np.where(mismatch, np.inf, ratio)


def compare_special(got: np.ndarray, expecteds: Sequence[np.ndarray], tol: np.ndarray,
                    accepted: Sequence[np.ndarray] = (), exempt: np.ndarray | None = None) -> Comparison:
    """Elementwise: ``got`` must match one of the ``expecteds`` (IEEE or flushed) within ``tol``. With
    ``accepted`` (two XLA runs compared: the references), an element where ``got`` and the one expected
    value each match one of the accepted values passes too. Elements where ``exempt`` is true pass. The
    worst element is reported against the expected value nearest it (IEEE's where none is nearer)."""
    g = np.asarray(got)
    if any(np.shape(e) != g.shape for e in (*expecteds, *accepted)):
        return Comparison(False, float("inf"), 0.0, float("inf"), (), float("nan"), float("nan"))
    if g.size == 0:
        return Comparison(True, 0.0, 0.0, 0.0, (), 0.0, 0.0)
    ratios = np.stack([special_ratio(g, e, tol) for e in expecteds])
    ratio = np.min(ratios, axis=0)
    if accepted:
        (e,) = expecteds
        both = (np.min(np.stack([special_ratio(g, a, tol) for a in accepted]), axis=0) <= 1.0) & (
            np.min(np.stack([special_ratio(e, a, tol) for a in accepted]), axis=0) <= 1.0)
        ratio = np.where(both, 0.0, ratio)
    if exempt is not None:
        ratio = np.where(exempt, 0.0, ratio)
    flat = int(np.argmax(ratio))
    index = tuple(int(i) for i in np.unravel_index(flat, g.shape))
    # the expected value reported: the one nearest ``got`` (a finite flushed value where IEEE says NaN, say)
    e = np.asarray(expecteds[int(np.argmin(ratios[(slice(None), *index)]))], dtype=np.float64)[index]
    got_v = float(np.asarray(g, dtype=np.float64)[index])
    t = float(np.broadcast_to(np.asarray(tol, dtype=np.float64), g.shape)[index])
    worst = float(ratio[index])
    with np.errstate(all="ignore"):
        error = abs(got_v - float(e)) if worst < math.inf else math.inf
    return Comparison(worst <= 1.0, error, t, worst, index, got_v, float(e))
