"""Tolerances from dtype, program depth and simulated rounding; discontinuity detection.

A float output of XLA is compared with the reference elementwise::

    |got - expected| <= SAFETY * spread + eps(dtype) * (depth + 1) * |expected| + tiny(dtype)

``spread`` is how far the reference moves when every float op result is perturbed by
``NOISE_ULPS`` epsilons of its dtype (``RUNS`` runs, see :mod:`jaxsynth.fuzz.reference`). It is the
program's own sensitivity to rounding at these inputs: cancellation, amplification by ``exp`` or a
division, reassociated sums all show up in it, so no per-op constant has to guess them. The second
term is the plain dtype-and-depth allowance. Ints and bools must match exactly.

A mismatch is not reported as a bug when the program passes a discontinuity within rounding error:
a comparison, ``floor``/``ceil``/``round``/``sign``, a float-to-int cast, an ``argmax`` tie or a ``standardize``
whose inputs are within ``SAFETY`` times their own spread of the threshold (``near``; for ``standardize`` the
threshold is a constant row, which bfloat16 can round a row of nearly equal values to), or when a discrete
value (bool, int, branch taken) already changed under simulated rounding, or a finite value became NaN or
Inf under it (``flips``: rounding alone takes the program out of its domain). Only
discontinuities that feed a failing output count. A periodic op (``sin``, ``cos``, ``tan``) whose input
moves by more than ``PERIODIC_LIMIT`` radians under simulated rounding counts as ``near`` too: its result
is not determined by the program (a bfloat16 dot product of a few hundred terms is off by a radian or
more), and a few perturbed runs cannot measure a spread that wraps around the period. So does a value in the
subnormal range of its float dtype: XLA:CPU flushes it to zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jaxsynth.fuzz.reference import Budget, Noise, Run, run, widened
from jaxsynth.grammar.ops_elementwise import reduce_precision_ulp
from jaxsynth.grammar.ops_nn import STANDARDIZE_EPSILON
from jaxsynth.grammar.types import DType, TensorType
from jaxsynth.synth.program import Node, Program

__all__ = [
    "NOISE_ULPS",
    "RUNS",
    "SAFETY",
    "Analysis",
    "Comparison",
    "analyse",
    "ancestors",
    "compare",
    "elementwise_error",
    "tolerance",
]

#: Epsilons of simulated rounding per op result.
NOISE_ULPS = 2.0
#: Perturbed reference runs per analysis: 4 antithetic pairs. An element's spread is small only where the draws of
#: different ops cancel in every pair; with 2 pairs, ``rsqrt(x) - 2.0`` (its literal's draw against the rsqrt's) had
#: elements whose tolerance was within 1.3x of half an ulp of the rsqrt (models seed 59, program 1494); with 4, 6x.
RUNS = 8
#: Allowed error, in units of the observed rounding spread.
SAFETY = 16.0

_COMPARE = frozenset({"less", "less_equal", "greater", "greater_equal", "equal", "not_equal"})
_ROUNDING = frozenset({"floor", "ceil", "trunc", "round", "rint", "sign", "signbit", "heaviside", "reduce_precision"})
#: Ops that take the sign of their second operand: a jump where it crosses 0.
_SIGN_OF = frozenset({"copysign"})
_ARG = frozenset({"argmax", "argmin", "nanargmax", "nanargmin"})
#: Ops that divide by their input's spread along an axis: where rounding can make the values tie (bfloat16
#: rounds a row that varies by less than an ulp to one constant), the result is set by rounding, not by the program.
_SPREAD = frozenset({"standardize"})
#: Ops that bucket their operand among literal boundaries (``params["bins"]``): a jump at each boundary.
_BUCKETS = frozenset({"searchsorted", "digitize"})
DISCONTINUOUS = _COMPARE | _ROUNDING | _SIGN_OF | _ARG | _SPREAD | _BUCKETS | {"astype"}
PERIODIC = frozenset({"sin", "cos", "tan"})
#: Input spread (radians) past which a periodic op's result is undetermined (see the module docstring).
PERIODIC_LIMIT = 1.0


def _eps(dtype: DType) -> float:
    return dtype.eps if dtype.is_inexact else 0.0


def _tiny(dtype: DType) -> float:
    import ml_dtypes

    return float(ml_dtypes.finfo(dtype.real_dtype.np_dtype).tiny) if dtype.is_inexact else 0.0


def tolerance(
    t: TensorType, depth: int, expected: np.ndarray, spread: np.ndarray, safety: float = SAFETY
) -> np.ndarray:
    """Elementwise allowed absolute error of an output of type ``t`` (0 for ints and bools)."""
    if not t.dtype.is_inexact:
        return np.zeros(np.shape(expected))
    expected = np.abs(np.asarray(expected)).astype(np.float64)  # (the modulus of a complex value)
    return safety * np.asarray(spread, dtype=np.float64) + _eps(t.dtype) * (depth + 1) * np.abs(expected) + _tiny(
        t.dtype
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    ok: bool
    error: float  #: absolute error at the worst element (inf for NaN/inf or shape mismatch)
    tolerance: float  #: allowed error at that element
    ratio: float  #: error / tolerance at the worst element (inf when tolerance is 0)
    index: tuple[int, ...]  #: the worst element
    got: float
    expected: float


def mismatch_class(got: float, expected: float) -> str:
    """What kind of difference a wrong value is, for checking that a reduced program still shows the
    same one: ``nan`` (got NaN, expected a number), ``lost-nan`` (expected NaN), ``inf`` (got an infinity
    where a finite value was expected), ``lost-inf``, ``inf-sign`` (the other infinity), ``sign`` (finite
    values of opposite sign, or a zero against a nonzero value), ``shape`` (no values to compare:
    shapes differ), or ``value`` (finite values of the same sign, too far apart)."""
    if math.isnan(got) and math.isnan(expected):
        return "shape"
    if math.isnan(got):
        return "nan"
    if math.isnan(expected):
        return "lost-nan"
    if math.isinf(got) and math.isinf(expected):
        return "inf-sign"
    if math.isinf(got):
        return "inf"
    if math.isinf(expected):
        return "lost-inf"
    if (got > 0) != (expected > 0) or (got == 0) != (expected == 0):
        return "sign"
    return "value"


def elementwise_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``|got - expected|`` in float64, elementwise: 0 where both are NaN or the same infinity (they agree), inf
    where only one is NaN or the infinities differ."""
    g = np.asarray(got, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(g - e)
        err = np.where(np.isnan(err) & ~(np.isnan(g) & np.isnan(e)), np.inf, err)
        return np.where(np.isnan(err) | (g == e), 0.0, err)


def compare(got: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> Comparison:
    """Compare one output elementwise; the worst element is the one with the largest error / tolerance."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape == expected.shape and (np.iscomplexobj(got) or np.iscomplexobj(expected)):
        # complex: the real and the imaginary part are compared each against the element's tolerance
        tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), expected.shape)[..., None]
        got, expected = (np.stack([np.real(x), np.imag(x)], axis=-1) for x in (got, expected))
    if got.shape != expected.shape:
        return Comparison(False, float("inf"), 0.0, float("inf"), (), float("nan"), float("nan"))
    if got.size == 0:
        return Comparison(True, 0.0, 0.0, 0.0, (), 0.0, 0.0)
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    t = np.broadcast_to(np.asarray(tol, dtype=np.float64), e.shape)
    err = elementwise_error(g, e)
    with np.errstate(all="ignore"):
        ratio = np.where(err == 0, 0.0, np.where(t > 0, err / np.where(t > 0, t, 1.0), np.inf))
    flat = int(np.argmax(ratio))
    index = tuple(int(i) for i in np.unravel_index(flat, e.shape))
    worst = float(ratio.reshape(-1)[flat])
    return Comparison(
        ok=bool(worst <= 1.0),
        error=float(err.reshape(-1)[flat]),
        tolerance=float(t.reshape(-1)[flat]),
        ratio=worst,
        index=index,
        got=float(g.reshape(-1)[flat]),
        expected=float(e.reshape(-1)[flat]),
    )


# ---------------------------------------------------------------- analysis


@dataclass(slots=True)
class Analysis:
    """The reference at one set of inputs with its rounding spread and discontinuity information."""

    outputs: tuple[np.ndarray, ...]
    spread: tuple[np.ndarray, ...]
    near: frozenset[int]  #: discontinuous nodes with an input within rounding error of a threshold
    #: nodes whose discrete value changed under simulated rounding, or whose finite value became NaN or Inf
    flips: frozenset[int]
    values: dict[int, np.ndarray]

    def discontinuous(self, program: Program, outputs: Iterable[int]) -> list[int]:
        """Discontinuous nodes (near a threshold or flipped) that feed the given output positions."""
        feeding = ancestors(program, [program.body.outputs[k] for k in outputs])
        return sorted((self.near | self.flips) & feeding)


def _discontinuity_nodes(program: Program) -> frozenset[int]:
    ids = set()
    for node in program.walk():
        if node.op not in DISCONTINUOUS or not node.args:
            continue
        source = program.node(node.args[0]).type.dtype
        if node.op in _COMPARE and not any(program.node(a).type.dtype.is_float for a in node.args):
            continue  # integer comparisons are exact
        if node.op == "astype" and not (source.is_float and not node.type.dtype.is_float):
            continue  # only float -> int/bool casts jump
        if node.op in _ARG | _SPREAD | _BUCKETS and not source.is_float:
            continue
        ids.add(node.id)
    return frozenset(ids)


def _threshold_distance(node: Node, args: Sequence[np.ndarray]) -> np.ndarray:
    """Distance of the node's inputs to the nearest threshold, elementwise; continuous in the inputs
    (a signed difference for comparisons, an unsigned distance to the nearest integer otherwise)."""
    x = np.asarray(args[0], dtype=np.float64)
    if node.op in _COMPARE:
        return x - np.asarray(args[1], dtype=np.float64)
    if node.op in ("floor", "ceil", "trunc"):
        return np.abs(x - np.rint(x))
    if node.op in ("round", "rint"):
        return np.abs(x - (np.floor(x) + 0.5))
    if node.op == "reduce_precision":  # to the nearest midpoint of the reduced format (its flush to 0 included)
        ulp = reduce_precision_ulp(x, node.params)
        return ulp * np.abs(x / ulp - (np.floor(x / ulp) + 0.5))
    if node.op in ("sign", "signbit", "heaviside"):
        return x
    if node.op in _SIGN_OF:
        return np.asarray(args[1], dtype=np.float64)
    if node.op in _BUCKETS:  # to the nearest boundary
        bins = np.asarray(node.params["bins"], dtype=np.float64)
        return np.min(np.abs(x[..., None] - bins), axis=-1)
    if node.op in _SPREAD:
        # distance to a constant row: the standard deviation along the axis, where a tie would move the result
        # (about std / sqrt(std**2 + epsilon)) by more than rounding does; a row that is constant or nearly so
        # standardizes to about 0 either way, and the op's error scale covers it
        axis = node.params.get("axis")
        x = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
        std = np.std(x, axis=-1)
        moved = std / np.sqrt(np.square(std) + STANDARDIZE_EPSILON) > SAFETY * NOISE_ULPS * node.type.dtype.eps
        return np.where(moved & (x.shape[-1] > 1), std, np.inf)
    if node.op == "astype":
        if node.type.dtype.is_bool:
            return x
        a = np.abs(x)
        return np.where(a < 0.5, 1.0 - a, np.abs(a - np.maximum(1.0, np.rint(a))))
    # argmax / argmin: gap between the best and second best along the axis
    axis = node.params.get("axis")
    v = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
    if node.op in ("argmin", "nanargmin"):
        v = -v
    if v.shape[-1] < 2:
        return np.full(v.shape[:-1], np.inf)
    top = np.sort(v, axis=-1)
    return top[..., -1] - top[..., -2]


def _near(node: Node, exact: Sequence[tuple[np.ndarray, ...]], perturbed: Sequence[Sequence[tuple[np.ndarray, ...]]],
          safety: float) -> bool:
    for k, args in enumerate(exact):
        with np.errstate(all="ignore"):  # inf - inf at a comparison of two infinities: NaN, no threshold there
            d0 = _threshold_distance(node, args)
        spread = np.zeros(np.shape(d0))
        for runs in perturbed:
            if k < len(runs):
                with np.errstate(all="ignore"):
                    spread = np.maximum(spread, np.abs(_threshold_distance(node, runs[k]) - d0))
        scale = max((float(np.max(np.abs(a))) for a in args if np.size(a) and np.asarray(a).dtype.kind == "f"),
                    default=0.0)
        floor = np.where(spread > 0, 1e-6 * scale, 0.0)
        with np.errstate(all="ignore"):
            if np.any(np.isfinite(d0) & (np.abs(d0) <= safety * spread + floor)):  # inf: no threshold there
                return True
    return False


def _wrapped(program: Program, exact: Any, perturbed: Sequence[Any]) -> set[int]:
    """Periodic ops whose input moves by more than PERIODIC_LIMIT under simulated rounding."""
    wrapped = set()
    for node in program.walk():
        if node.op not in PERIODIC or not node.args or node.args[0] not in exact.values:
            continue
        x0 = np.asarray(exact.values[node.args[0]], dtype=np.float64)
        for p in perturbed:
            x = p.values.get(node.args[0])
            with np.errstate(all="ignore"):
                if x is not None and np.any(np.abs(np.asarray(x, dtype=np.float64) - x0) > PERIODIC_LIMIT):
                    wrapped.add(node.id)
                    break
    return wrapped


def _subnormal(program: Program, exact: Any) -> set[int]:
    """Nodes with a subnormal value (in their dtype) under exact evaluation: XLA:CPU may flush it to zero, a
    documented design choice, and a later op can scale that difference past any tolerance (``3 * sigmoid(x)``
    at ``x = -87.6``: 0 in XLA, 2.7e-38 in the reference). Every float dtype, float16 too (``3 * sigmoid(x)``
    at ``x = -12`` is 0 in float16)."""
    found = set()
    for node_id, value in exact.values.items():
        node = program.node(node_id)
        if len(node.types) != 1 or value.dtype.kind != "f":
            continue
        tiny = _tiny(node.type.dtype)  # the smallest normal number, as in the tolerance's absolute floor
        with np.errstate(all="ignore"):
            if np.any((value != 0) & (np.abs(value) < tiny)):
                found.add(node_id)
    return found


def _finite_args(program: Program, node_id: int, values: dict[int, np.ndarray]) -> bool:
    """Whether every float argument of the node is finite in ``values`` (it is where a value first leaves them)."""
    args = [values.get(a) for a in program.node(node_id).args]
    return all(np.all(np.isfinite(a)) for a in args if a is not None and a.dtype.kind in "fc")


def analyse(
    program: Program,
    inputs: Sequence[np.ndarray],
    *,
    round_to_dtype: bool = False,
    ulps: float = NOISE_ULPS,
    runs: int = RUNS,
    safety: float = SAFETY,
    salt: int = 0,
    finite_only: bool = False,
    budget: Budget | None = None,
    rewrite: Callable[[Node, object], object] | None = None,
) -> Analysis:
    """Reference outputs at ``inputs``, their spread under simulated rounding, and discontinuities.

    ``finite_only`` (special-value inputs): an element's spread is taken over the runs where both its exact
    and its perturbed value are finite, 0 where there is none (NaN and Inf are compared by class).
    ``budget``: charged for every run; the perturbed ones are refused up front
    (:class:`~jaxsynth.fuzz.reference.OverBudget`) after the exact run if ``runs`` more like it would not fit,
    and after the first of them if ``runs - 1`` more like that one would not (a perturbed run also moves each
    value and evaluates the mirrored ops again: up to 3x the exact run's work). ``rewrite``: passed to every run
    (:func:`~jaxsynth.fuzz.reference.run`), after the value's perturbation."""
    watch = _discontinuity_nodes(program)
    before = 0.0 if budget is None else budget.spent
    exact = run(program, inputs, round_to_dtype=round_to_dtype, record=watch, keep_values=True, budget=budget,
                rewrite=rewrite)
    if budget is not None:
        budget.require(runs * (budget.spent - before))
    spread = [np.zeros(np.shape(o)) for o in exact.outputs]
    perturbed: list[Run] = []
    flips: set[int] = set()
    for r in range(runs):
        noise = Noise(salt * 1000 + r // 2, ulps, -1.0 if r % 2 else 1.0)  # antithetic pairs: see Noise
        start = 0.0 if budget is None else budget.spent
        p = run(program, inputs, round_to_dtype=round_to_dtype, noise=noise, record=watch,
                keep_values=True, exact=exact, budget=budget, rewrite=rewrite)
        if budget is not None and r == 0:
            budget.require((runs - 1) * (budget.spent - start))
        perturbed.append(p)
        for k, (a, b) in enumerate(zip(exact.outputs, p.outputs, strict=True)):
            with np.errstate(all="ignore"):
                diff = np.abs(widened(a) - widened(b))
                if finite_only:
                    diff = np.where(np.isfinite(diff), diff, 0.0)
                spread[k] = np.maximum(spread[k], diff)
        for node_id, value in exact.values.items():
            other = p.values.get(node_id)
            if other is None:
                continue
            if value.dtype.kind not in "fc":
                if not np.array_equal(value, other):
                    flips.add(node_id)
            elif (np.shape(value) == np.shape(other) and np.any(np.isfinite(value) & ~np.isfinite(other))
                  and _finite_args(program, node_id, p.values)):
                flips.add(node_id)  # rounding alone takes it out of the finite numbers: sqrt of a negative, overflow
        for node_id in watch:
            if len(exact.records.get(node_id, ())) != len(p.records.get(node_id, ())):
                flips.add(node_id)  # a different branch was taken
    near = {
        node_id
        for node_id in watch
        if _near(program.node(node_id), exact.records.get(node_id, ()), [p.records.get(node_id, []) for p in perturbed],
                 safety)
    }
    near |= _wrapped(program, exact, perturbed) | _subnormal(program, exact)
    return Analysis(exact.outputs, tuple(spread), frozenset(near), frozenset(flips), exact.values)


def ancestors(program: Program, roots: Iterable[int]) -> frozenset[int]:
    """Every node the given nodes depend on (through operands and through control-flow bodies)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        node = program.node(n)
        stack.extend(node.args)
        for region in node.regions:
            stack.extend(region.outputs)
            stack.extend(x.id for x in region.nodes)
    return frozenset(seen)
