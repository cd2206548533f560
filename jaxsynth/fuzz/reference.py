"""The numpy reference interpreter, instrumented for fuzzing.

:func:`jaxsynth.synth.evaluate` (floats in float64, ints and bools in their own dtype, optional
rounding of every result to its declared dtype), with three hooks the oracles need, given to it as
its ``visit`` function:

- **simulated rounding** (``noise``): every float op result is perturbed by a few units of its dtype's
  epsilon (between half and all of ``Noise.ulps``, with a random sign), as an XLA implementation may round
  differently (fusion, excess precision, reassociated reductions, approximated transcendentals). Sum-like
  ops (reductions, contractions) are perturbed relative to the sum of the absolute values of their terms, as
  reassociation errors scale with that, and beyond 64 terms also with the square root of their number (XLA may
  add them sequentially); ops that add up products also by what flushing the subnormal ones to zero takes away;
  an ``add`` or ``subtract`` of a product also by the product's size, as a fused multiply-add may read it
  unrounded (``_ENDS_IN_MULTIPLY``).
  The noise of a value is a hash of (its bits, the node, the run): equal values of one node get equal
  noise, so broadcast copies stay exact ties, as they are in XLA.
- **kinks** (``KINKS``: ``maximum``, ``relu``, ``max`` over an axis, ``sort``, pooling, ...): an op that selects
  among its operands hides the rounding of an operand that sits just on the losing side of the selection,
  in every run whose draws happened to move it further away (the hash keys of a run's later nodes are the
  perturbed bits, so antithetic pairs are antithetic only at the first rounding). At a top-level kink a
  perturbed run therefore also evaluates the op on its operands' mirror images about their exact values,
  and, per element where that result is farther from the exact one, moves as far (in the direction the op on
  the perturbed operands moved, so the node's error keeps its sign against its operands'). The elementwise
  math functions get the same (``MIRRORED``): ``silu``, ``exp`` or ``sigmoid`` of an operand whose rounding
  noise is larger than the range where they are linear is flat on one side.
- **approximate outputs** (``ControlSpec.approximate``: derivatives whose reference is a finite
  difference): under noise they are perturbed by ``APPROX_REL`` of their value plus ``APPROX_ABS`` of their
  clip bound, so the tolerance allows float32 derivative rounding, which cannot be simulated from outside
  JAX's backward pass (the grad oracle's ``RTOL32`` has the same reason); gross derivative errors still fail.
- **records**: the argument values of selected nodes, for every execution, so the oracles can find
  values that sit within rounding error of a discontinuity (a comparison threshold, an argmax tie); or,
  with ``summarize``, what that function keeps of them (a node in a loop body runs once per step, and its
  arguments at every step of a long ``lax.map`` over large arrays would fill the memory).
- **values**: the last value of every node, so reduction can turn a subterm into an input with the
  same concrete value; with ``check_intervals`` every value is checked against its node's interval.
- **budget** (:class:`Budget`): every op evaluation is charged its work (:func:`work`), and a run stops with
  :class:`OverBudget` once a program's reference work passes its budget. The charge is a count, not a time, so
  whether a program is judged depends on the program and its inputs only, never on the machine or its load.
- **rewrite**: every value (inputs included) replaced by what a function makes of it before later nodes read it
  (special-value mode's reference with subnormals flushed to zero).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np

from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_control import ControlSpec
from jaxsynth.grammar.ops_tensor import PRODUCT_REDUCTIONS, SPREAD_REDUCTIONS
from jaxsynth.grammar.types import DType
from jaxsynth.synth.interpret import evaluate
from jaxsynth.synth.program import ITEM, Node, Program

__all__ = ["ELEMENT_NANOSECONDS", "EXACT_OPS", "KINKS", "MIRRORED", "OVER_BUDGET", "WORK_PER_SECOND", "Budget",
           "Noise", "OverBudget", "Run", "run", "work"]

#: Ops whose float result involves no rounding: selections, shape ops, sign changes.
EXACT_OPS = frozenset(
    {"where", "clip", "maximum", "minimum", "fmax", "fmin", "max", "min", "nanmax", "nanmin", "abs", "negative",
     "floor", "ceil", "round", "trunc", "sign", "copysign", "nan_to_num", "hard_tanh", "argmax", "argmin",
     "reduce_precision", "fftshift", "ifftshift", "masked_max", "masked_min", "nanargmax", "nanargmin", "select",
     "rint", "heaviside", "optimization_barrier"}
)
_SUMLIKE = frozenset({"sum", "mean", "nansum", "nanmean", "cumsum", "nancumsum", "dot", "matmul", "einsum", "vdot",
                      "saxpy", "cross", "norm", "trace", "tensordot", "masked_sum", "inner", "dot_general", "vecdot",
                      "trapezoid"})
#: Ops that add up products, which XLA:CPU flushes to zero where they are subnormal (``_flushed``).
_PRODUCTS = frozenset({"dot", "matmul", "einsum", "vdot", "norm", "cross", "saxpy", "tensordot", "matrix_power",
                       "inner", "dot_general", "vecdot", "multi_dot"})
#: Running ops that JAX lowers to a ``reduce_window`` in the storage dtype (``jnp.sum`` of a bfloat16 array
#: accumulates in float32; ``jnp.cumsum`` does not): every partial result may be rounded to that dtype, in any
#: order, so an element's error grows with the number of terms before it. A float16/bfloat16 running sum of
#: like terms stagnates once they fall under half an ulp of the sum (bfloat16: after about 2^8 terms), and
#: XLA's SPMD partitioner does accumulate that way where one device does not (models seed 51, program 474).
_RUNNING = frozenset({"cumsum", "nancumsum", "cumlogsumexp"})
#: Dtypes whose running ops get that allowance: at most about 2^10 like terms before a sum stagnates.
_RUNNING_EPS = 2.0**-11
#: Sums that JAX and XLA add up in a float16 or bfloat16 operand's own dtype, in any order: ``jnp.nanmean`` passes
#: its dtype to the sum (``jnp.sum`` and ``jnp.mean`` add float16 and bfloat16 in float32), and a scatter-add
#: (``x.at[i].add``, ``segment_sum``, ``bincount``'s weights) adds its updates into a slot one at a time. Every
#: partial sum is rounded to that dtype: ``n`` like terms added in order are off by up to ``n eps / 2`` times the
#: sum of their magnitudes. The allowance of a sum (16 eps of it, see ``_ORDERED_TERMS``) covers that for up to
#: ``_NARROW_TERMS`` terms; in those dtypes it grows in proportion beyond (:func:`_term_count`, per element, so
#: past about 2^8 bfloat16 terms it is the whole sum: such a sum stagnates). XLA's float16 ``nanmean`` of 1331
#: elements that are all 6.15 is 6.99 (reductions-linalg seed 5002, program 4; its sum overflowing float16
#: there, a range rule's matter, see ``DType.intermediate_cap``), and a bfloat16 ``x.at[i].add(u)`` of 1024
#: updates in [1, 2] into one slot stagnates at 512 where their sum is 1551.
_SCATTER_SUMS = frozenset({"at_add", "segment_sum", "bincount"})
_NARROW_SUMS = frozenset({"nanmean"}) | _SCATTER_SUMS
_NARROW_TERMS = 32
#: Terms of a single- or double-precision sum-like op beyond which its allowance grows as the square root of
#: their number (``_perturb``). XLA may add terms in any order (a reduce that is not fused adds them in
#: another order than a fused one), and a sequential float32 sum of ``n`` terms of one sign can be off by about
#: ``2 sqrt(n) eps`` times the sum of their absolute values (a tree of them: at most ``log2(n) eps / 2``). The
#: allowance of one sum-like op is ``SAFETY`` times a draw of at least half of ``NOISE_ULPS`` eps times that sum:
#: 16 eps, which covers a sequential sum of up to 64 terms. ``jnp.mean(v ** 3)`` over 984,064 float32 values in
#: [0, 216] with XLA's fusion disabled was off by 252 eps times the sum of its terms where the tolerance allowed
#: 144; a sequential sum of them is off by 2,040 (models seed 61, program 257).
_ORDERED_TERMS = 64
#: Terms per element of a contraction, by (op, params, operand shapes): the same for every run.
_CONTRACTION_TERMS: dict[tuple, float] = {}
#: Ops whose float result selects among (or clamps) their operands: continuous, with a kink where the selection
#: changes. Their perturbed result moves as far as the farther of the op on the perturbed operands and on their
#: mirror images (``_farther_at_kink``).
KINKS = frozenset({"maximum", "minimum", "fmax", "fmin", "clip", "max", "min", "nanmax", "nanmin", "abs", "relu",
                   "relu6", "leaky_relu", "hard_tanh", "hard_sigmoid", "hard_silu", "selu", "cummax", "cummin",
                   "max_pool", "at_max", "at_min", "sort", "top_k", "median", "quantile", "percentile", "ptp",
                   "nanmedian", "nanquantile", "nanpercentile",
                   "interp", "masked_max", "masked_min", "sparse_sigmoid", "approx_max_k", "approx_min_k",
                   "laplace_logpdf"})
#: Ops whose perturbed result also moves as far as the farther of the op on the perturbed operands and on their
#: mirror images: the kinks, and the elementwise math functions (``unary``, ``nn``, ``special``), many of which
#: flatten out on one side (``silu``, ``softplus``, ``exp``, ``sigmoid``). Where rounding noise at an operand is
#: larger than the range over which the op is linear, every run may land on the flat side: a bfloat16
#: ``standardize`` of a row that is constant up to rounding is noise of about +-500, and ``silu`` of it was about 0
#: in all four runs (``RUNS`` was 4) at about one element in 11, one of them where XLA gave 1.9 (models seed 57,
#: program 49). ``var`` and ``std`` too: they flatten out (``std`` has a kink) at a row that is constant.
MIRRORED = KINKS | SPREAD_REDUCTIONS | frozenset(name for name, spec in REGISTRY.items()
                                                 if getattr(spec, "category", "") in ("unary", "nn", "special"))
#: Ops whose result is a rounded product (their last step a multiply: ``silu`` is ``x * sigmoid(x)``, a ``matmul``
#: over one term is a multiply once ``algsimp`` has run). Where XLA:CPU fuses one into an ``add`` or ``subtract``,
#: LLVM may contract the two into a fused multiply-add, which reads the product unrounded, while its other uses
#: read it rounded: ``v - v.max(axis=0)`` with ``v = a * b`` is 0 at each column's largest element in the reference
#: (the same rounded ``v`` on both sides, in every perturbed run), and up to half an ulp of ``v`` under XLA's SPMD
#: partitioner, which duplicates the multiply into the subtraction's fusion (about 1 in 6 sampled shardings for
#: ``a * b``, 1 in 2 for ``gelu``; nn-special seed 1004, program 36 showed it inside ``log_softmax``). An op that
#: adds or subtracts its operands (``_CONTRACTING``) of such an operand, or of a view of one (``_FUSED_VIEWS``), is
#: also perturbed by its magnitude (``_contractible_operands``).
_ENDS_IN_MULTIPLY = frozenset({"multiply", "square", "pow_scalar", "power", "scale", "deg2rad", "rad2deg", "outer",
                                "kron", "silu", "gelu", "hard_silu", "glu", "dot", "matmul", "einsum", "vdot", "mish",
                                "tensordot", "inner", "matrix_power", "det", "resize", "dot_product_attention",
                                "dot_general", "vecdot", "multi_dot", "selu", "standardize", "log10", "i0", "i1",
                                "gamma", "gammainc", "dawsn", "at_multiply"})
#: Ops that add or subtract their operands' elements in XLA: ``offset`` and ``rsub`` with a scalar, ``diff`` an
#: operand's neighbours. ``jnp.diff(rad2deg(v), n=2)`` is exactly 0 in the reference where three neighbours of ``v``
#: are equal, and XLA's fused ``x[i+2] - 2 x[i+1] + x[i]`` read one product unrounded: 7e-6, twice the rounding of
#: 100.0455 (models seed 5008, program 17, a false finding of the ``sharding`` oracle).
_CONTRACTING = frozenset({"add", "subtract", "offset", "rsub", "diff"})
#: Ops XLA fuses along with their operands' elements (shape ops, indexing, negation): a product seen through them.
_FUSED_VIEWS = frozenset({"negative", "at_get"} | {name for name, spec in REGISTRY.items()
                                                   if getattr(spec, "category", "") in ("shape", "indexing")
                                                   and not name.startswith("at_")})
#: Simulated error of an approximate (finite-difference) output: relative, and relative to its clip bound.
APPROX_REL = 1e-2
APPROX_ABS = 1e-3
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)


@dataclass(frozen=True, slots=True)
class Noise:
    """Simulated rounding: ``ulps`` epsilons of the node's dtype, from the hash stream ``salt``, times
    ``sign``. Runs come in antithetic pairs (``sign`` +1 and -1 on one stream): the stream is keyed by an
    element's bits, so every element of one value (say the exact zeros of ``x - mean(x)`` over a constant
    row) gets the same draw in a run, and a kink such as ``relu`` at exactly 0 would hide the rounding of
    its input from every run whose draws happened to be negative."""

    salt: int
    ulps: float
    sign: float = 1.0


@dataclass(slots=True)
class Run:
    outputs: tuple[np.ndarray, ...]
    values: dict[int, np.ndarray] = field(default_factory=dict)  #: last value of each node
    records: dict[int, list[Any]] = field(default_factory=dict)  #: per node, its arguments (or summaries)
    unsound: list[int] = field(default_factory=list)  #: nodes whose value left their interval


#: How an :class:`OverBudget` message begins (a campaign counts these skips apart: ``over_budget``).
OVER_BUDGET = "reference work over its budget"


class OverBudget(Exception):
    """A program's reference work went past its :class:`Budget`: the program is not judged against it."""


@dataclass(slots=True)
class Budget:
    """The reference work one program may take, in :func:`work` units (element operations), over every run
    made for it: the exact and perturbed runs of each analysis, at each input an oracle draws."""

    limit: float
    spent: float = 0.0

    def charge(self, units: float) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise OverBudget(f"{OVER_BUDGET} of {self.limit:.2g} element operations")

    def require(self, units: float) -> None:
        """Fail now if ``units`` more would pass the limit (before starting runs whose cost is known)."""
        if self.spent + units > self.limit:
            raise OverBudget(f"{OVER_BUDGET} of {self.limit:.2g} element operations "
                             f"(needs about {self.spent + units:.2g})")


#: The reference's cost model (:func:`work`), in element operations. Fitted on 220 programs of four built-in
#: configs (``bench/bench_reference_work.py``; numpy 2.4, one x86 core; two fits): an element read or written
#: takes 7-9 ns, the Python around one op evaluation (noise hashing, records, dispatch) 6-20 us (``VISIT_WORK``
#: elements), and a term of a contraction 0.3-0.4 ns, as BLAS adds them up (``TERM_WORK`` of an element). A
#: later fit (231 programs of six configs, with ``PERTURB_WORK`` and ``ELEMENT_NANOSECONDS``): 6.3 ns an
#: element, 64 ns an element a perturbed run moves, 0.14 ns a term.
VISIT_WORK = 2000.0
TERM_WORK = 0.04
#: What moving a value by its rounding error in a perturbed run costs (:func:`_perturb`: one to four keyed hashes
#: of 30 ns an element, and the arithmetic around them), in element operations an element of the value; charged
#: beside the op's own evaluation (:func:`perturbation_work`).
PERTURB_WORK = 10.0
#: Element operations per second of the reference (``Budget`` limits are set from seconds): over the first 220
#: programs, 1.26e8 of them in 25 s; over the later 231, 1.2e8-1.4e8 (two runs), and 1.4e8-2.1e8 in each of
#: the four slowest, the programs a budget stops (3-14 s an analysis), where the count matters.
WORK_PER_SECOND = 1.4e8
#: Ops charged per term they add up into each result element (``_term_count``): contractions and
#: convolutions, whose numpy references do the most arithmetic per element.
_TERMED = frozenset({"dot", "matmul", "einsum", "vdot", "tensordot", "inner", "conv", "conv_transpose", "convolve",
                     "correlate", "dot_general"})


#: Ops whose references do a known amount of work per result element (in :func:`work` units), from the params
#: and the operand shapes. Attention (``S`` keys, head size ``H``): the logits' ``S`` sums of ``H`` products and
#: the weighted sum's ``S`` terms (``2 S`` terms), and the softmax over ``S / H`` logits per result element, each
#: an element op (measured: 7-15 ns a logit). A resize: one tensordot per resized axis, one term per input
#: element along it.
_WORK_PER_ELEMENT: dict[str, Callable[[Node, list[tuple[int, ...]]], float]] = {
    "dot_product_attention": lambda node, shapes: shapes[1][-3] * (2.0 * TERM_WORK + 1.0 / shapes[1][-1]),
    "resize": lambda node, shapes: TERM_WORK * sum(n for n, m in zip(shapes[0], node.params["shape"], strict=True)
                                                   if n != m),
}
#: Elementwise ops whose references take several times an element operation a result element (scipy's series
#: and continued fractions, composites of several transcendental functions): nanoseconds a result element,
#: measured in float64 on one x86 core (``bench/bench_reference_work.py --elementwise``; the median of 116
#: elementwise ops takes 6), charged past the element operations of the read and the write. ``polygamma`` of a
#: [184, 16, 184] operand takes 0.26 s an evaluation, charged as 0.01 s without its entry.
ELEMENT_NANOSECONDS = {
    "polygamma": 485, "betaln": 140, "gammaincc": 120, "i1": 115, "i0": 115, "gammainc": 115, "betainc": 420,
    "i0e": 85, "i1e": 85, "logistic_logpdf": 65, "sinc": 55, "lgamma": 50, "log_ndtr": 50, "gelu": 50, "digamma": 45,
    "erf_inv": 45, "erfcx": 40, "softplus": 40, "log_sigmoid": 40, "mish": 40, "logaddexp2": 40, "dawsn": 40,
    "logaddexp": 40, "erf": 35, "erfc": 35, "log1mexp": 30,
}
#: Ops of ``ELEMENT_NANOSECONDS`` whose reference's speed depends on a literal parameter: the parameter, and the
#: nanoseconds a result element at the values that differ from the op's entry there, each the slowest of the
#: operand ranges [0.01, 1], [0.01, 4], [0.01, 20] and [0.01, 100] (``bench/bench_reference_work.py
#: --elementwise`` times every value, on one x86 core, the slowest of two runs; ``betainc``'s entry is the slowest
#: of its 25 shape pairs, 12-422 ns). scipy's upper incomplete gamma function at ``a = 0.5`` takes 30 times its
#: time at the other shapes: a [1013, 1013] operand took 3 s an evaluation, charged as 0.12 s, and the program
#: lost every verdict to the timeout (nn-special seed 5023, program 5).
PARAM_NANOSECONDS: dict[str, tuple[str, dict[float, float]]] = {
    "gammaincc": ("a", {0.5: 3800}), "gammainc": ("a", {0.5: 430}),
}


def _element_units(op: str) -> Callable[[Node, list[tuple[int, ...]]], float]:
    """Work units a result element of ``op`` (in ``ELEMENT_NANOSECONDS``) adds past its read and write."""
    param, by_value = PARAM_NANOSECONDS.get(op, ("", {}))

    def units(node: Node, shapes: list[tuple[int, ...]]) -> float:
        return by_value.get(node.params.get(param), ELEMENT_NANOSECONDS[op]) * 1e-9 * WORK_PER_SECOND - 2.0

    return units


_WORK_PER_ELEMENT.update({op: _element_units(op) for op in ELEMENT_NANOSECONDS})


def _elements(x: object) -> int:
    if isinstance(x, (tuple, list)):
        return sum(_elements(v) for v in x)
    return int(np.size(x))


def work(node: Node, args: Sequence[object], value: object) -> float:
    """What evaluating ``node`` once costs the reference, in element operations (see ``VISIT_WORK``): the
    evaluation itself, the elements it reads and writes, and the terms contractions, convolutions, attention
    and resizing add up (a ``matmul`` of n x n matrices: n^3) or factorizations of n x n matrices take (n per
    element). A control op's body is charged node by node as it runs (its loop-invariant nodes once per loop, as
    the interpreter evaluates them); the exact evaluations of a derivative's body for its finite difference run
    without the hook, and are not charged."""
    units = VISIT_WORK + _elements(args) + _elements(value)
    if node.op in _TERMED:
        terms = _term_count(node, [np.asarray(a) for a in args], np.asarray(value))
        units += TERM_WORK * float(np.size(value)) * float(np.max(terms))
    elif node.op in _WORK_PER_ELEMENT:
        units += float(np.size(value)) * _WORK_PER_ELEMENT[node.op](node, [np.shape(a) for a in args])
    elif getattr(REGISTRY.get(node.op), "category", "") == "decomposition":
        matrix = args[0] if args else None
        if isinstance(matrix, np.ndarray) and matrix.ndim:
            units += TERM_WORK * float(matrix.size) * matrix.shape[-1]
    return units


def perturbation_work(value: object) -> float:
    """What :func:`_perturb` moving ``value`` costs the reference, in element operations (``PERTURB_WORK``)."""
    return PERTURB_WORK * _elements(value)


def widened(x: object) -> np.ndarray:
    """``x`` in the reference's precision: complex128 if it is complex (its imaginary part kept), else float64."""
    x = np.asarray(x)
    return x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)


def _uniform(value: np.ndarray, key: int, *, positional: bool = False) -> np.ndarray:
    """Deterministic pseudo-random numbers in [-1, 1), one per element, keyed by the element's bits (and, if
    ``positional``, by its position too, so that equal elements get different draws)."""
    bits = np.ascontiguousarray(np.real(value), dtype=np.float64).reshape(-1).view(np.uint64)
    with np.errstate(over="ignore"):
        if positional:
            bits = bits ^ (np.arange(bits.size, dtype=np.uint64) * _MIX2)
        h = bits * _MIX + np.uint64(key & 0xFFFFFFFFFFFFFFFF)
        h ^= h >> np.uint64(29)
        h *= _MIX2
        h ^= h >> np.uint64(32)
        h *= _MIX
        h ^= h >> np.uint64(29)
    u = (h >> np.uint64(11)).astype(np.float64) * (2.0 / 2**53) - 1.0
    return u.reshape(np.shape(value))


def _abs_terms(node: Node, args: Sequence[np.ndarray]) -> np.ndarray | None:
    """Sum of the absolute values of the terms a sum-like op adds up (its reassociation error scale)."""
    spec = REGISTRY[node.op]
    a = [np.abs(x.astype(np.float64)) for x in args]
    if node.op == "saxpy":
        return a[0] * a[1] + a[2]
    if node.op == "cross":
        x, y = a
        return x[..., [1, 2, 0]] * y[..., [2, 0, 1]] + x[..., [2, 0, 1]] * y[..., [1, 2, 0]]
    if node.op == "norm":
        return None
    return np.asarray(spec.reference(a, node.params), dtype=np.float64)


def _reduced_count(node: Node, args: Sequence[np.ndarray]) -> int:
    axis = node.params.get("axis")
    shape = np.shape(args[0])
    return int(np.prod(shape)) if axis is None else int(shape[axis])


def _term_count(node: Node, args: Sequence[np.ndarray], value: np.ndarray) -> float | np.ndarray:
    """The number of terms a sum-like op adds up into each element of its result."""
    if node.op in ("saxpy", "cross"):
        return 1.0 if node.op == "saxpy" else 2.0
    if node.op in _RUNNING:
        return _running_count(node, np.shape(value))
    if node.op in ("sum", "mean", "nansum", "nanmean", "norm", "masked_sum", "trapezoid"):
        return np.size(args[0]) / max(1, np.size(value))
    if node.op in _SCATTER_SUMS:  # the op on ones, index operands kept: the updates into each slot (and its own)
        ones = [np.ones(np.shape(a)) if np.asarray(a).dtype.kind in "fc" else a for a in args]
        return np.maximum(1.0, np.asarray(REGISTRY[node.op].reference(ones, node.params), dtype=np.float64))
    key = (node.op, repr(node.params), tuple(np.shape(a) for a in args))  # a contraction: the op on ones
    if key not in _CONTRACTION_TERMS:
        if len(_CONTRACTION_TERMS) >= 4096:
            _CONTRACTION_TERMS.clear()
        ones = [np.ones(np.shape(a)) for a in args]
        _CONTRACTION_TERMS[key] = float(np.max(REGISTRY[node.op].reference(ones, node.params)))
    return _CONTRACTION_TERMS[key]


def _flushed(node: Node, args: Sequence[np.ndarray], value: np.ndarray, dtype: DType,
             terms: np.ndarray | None) -> float | np.ndarray:
    """How far a result of an op that adds up products (contractions, ``norm``, ``cross``, ``saxpy``) may move
    when XLA:CPU flushes the subnormal ones to zero, a documented choice. A product is no node, so
    ``tolerance``'s check of subnormal values cannot see it: ``jnp.linalg.norm`` of 18,304 values of about 1e-19
    lost the squares under 1.2e-38 and was 3.1e-4 of itself below the reference (models seed 61, program 322).
    ``norm``: exactly the squares under the smallest normal number. Others: that number times the number of
    products, at most the sum of their absolute values. Low-precision products are computed in float32."""
    tiny = min(float(np.finfo(np.float32).tiny), float(ml_dtypes.finfo(dtype.real_dtype.np_dtype).tiny))
    with np.errstate(all="ignore"):
        if node.op != "norm":
            lost = tiny * _term_count(node, args, value)
            return lost if terms is None else np.minimum(lost, terms)
        square = np.square(np.abs(np.asarray(args[0], dtype=np.float64)))
        small = np.where(square < tiny, square, 0.0)
        lost = small.sum() if node.params["axis"] is None else small.sum(axis=-1)
        norm = np.abs(np.asarray(value, dtype=np.float64))  # sqrt(S) - sqrt(S - lost) for S = norm ** 2
        return np.where(lost > 0, lost / (norm + np.sqrt(np.maximum(0.0, np.square(norm) - lost))), 0.0)


def _running_count(node: Node, shape: tuple[int, ...]) -> np.ndarray:
    """The number of terms accumulated into each element of a running op's result (``1..n`` along its axis)."""
    axis = node.params["axis"] % len(shape)
    counts = np.arange(1, shape[axis] + 1, dtype=np.float64)
    if node.params.get("reverse"):
        counts = counts[::-1]
    return counts.reshape([-1 if k == axis else 1 for k in range(len(shape))])


def _contractible_operands(program: Program) -> dict[int, tuple[int, ...]]:
    """Per float op that adds or subtracts (``_CONTRACTING``), the positions of its operands that are rounded
    products (``_ENDS_IN_MULTIPLY``) or views of one (``_FUSED_VIEWS``)."""
    seen: dict[int, bool] = {}

    def product(node_id: int) -> bool:
        if node_id not in seen:
            node = program.node(node_id)
            seen[node_id] = node.type.dtype.is_inexact and (
                node.op in _ENDS_IN_MULTIPLY or (node.op in _FUSED_VIEWS and any(map(product, node.args))))
        return seen[node_id]

    found = {}
    for node in program.walk():
        if node.op in _CONTRACTING and node.type.dtype.is_inexact:
            at = tuple(k for k, arg in enumerate(node.args) if product(arg))
            if at:
                found[node.id] = at
    return found


def _contracted_size(node: Node, args: Sequence[np.ndarray], contractible: tuple[int, ...], shape: tuple[int, ...]
                     ) -> np.ndarray:
    """The magnitude of the products an element of ``node``'s result adds up (the ``contractible`` operands):
    their sum, broadcast; for ``diff``, each neighbour as often as the differences count it (``|x[i+2]| +
    2 |x[i+1]| + |x[i]|`` for ``n=2``)."""
    if node.op == "diff":
        size = np.moveaxis(np.abs(widened(args[0])), node.params["axis"], -1)
        for _ in range(node.params["n"]):
            size = size[..., 1:] + size[..., :-1]
        return np.moveaxis(size, -1, node.params["axis"])
    return np.broadcast_to(sum(np.abs(widened(args[k])) for k in contractible), shape)


def _perturb(
    node: Node, value: np.ndarray, args: Sequence[np.ndarray], noise: Noise, round_to: bool, source: DType | None,
    contractible: tuple[int, ...] = (),
) -> np.ndarray:
    dtype: DType = node.type.dtype
    if not dtype.is_inexact or node.op in EXACT_OPS or node.op in ("input", "param", ITEM):
        return value
    spec = REGISTRY.get(node.op)
    if spec is not None and getattr(spec, "category", "") == "shape":
        return value
    if node.op == "astype" and source is not None:
        if source.is_bool or (source.is_float and source.eps <= dtype.eps):
            return value  # widening a float, or a bool: exact
    key = (node.id + 1) * 0x100000001B3 + noise.salt * 0x9E37 + 1
    eps = dtype.eps * noise.ulps
    scale = eps
    running = node.op in _RUNNING and dtype.eps >= _RUNNING_EPS and np.ndim(value) > 0
    if node.op in PRODUCT_REDUCTIONS:
        scale = eps * max(1, _reduced_count(node, args))
    elif running:
        scale = eps * _running_count(node, np.shape(value))
    # At least half the scale, with a random sign: a draw near 0 at one element in every run would leave that
    # element's rounding out of the spread (``rsqrt(x) - 2.0`` over 30,400 elements: at one, the tolerance was
    # under half an ulp of the rsqrt, where XLA's correctly rounded result failed; models seed 59, program 1494)
    u = _uniform(value, key)
    first = np.copysign(0.5 + 0.5 * np.abs(u), u)
    out = value * (1.0 + scale * noise.sign * first)
    if dtype.is_complex:
        # complex rounding is fl(z) = z (1 + delta) with a complex delta: each part can be off by eps |z|, not
        # only by eps times itself. imag(conj(x) * x) is exactly 0, but a*b - b*a with a fused multiply-add
        # leaves the rounding of one product (eager XLA gave 7.3e-9 where jit gave 0: numerics seed 90,
        # program 470)
        u = _uniform(value, key ^ 0x0F0F0F0F, positional=True)
        out = out + 1j * value * scale * noise.sign * np.copysign(0.5 + 0.5 * np.abs(u), u)
    error_scale = getattr(spec, "error_scale", None)
    if error_scale is not None:  # the op's own rounding model (sums of terms, cancellation, matrix norms)
        with np.errstate(all="ignore"):
            terms = np.asarray(error_scale([widened(a) for a in args], node.params, value))
        if spec.narrow_in_float32 and dtype.eps > DType.float32.eps:  # computed in float32, then rounded
            terms = terms * (DType.float32.eps / dtype.eps)
    else:
        terms = _abs_terms(node, args) if node.op in _SUMLIKE else None
    if terms is not None and running:
        terms = terms * _running_count(node, np.shape(value))
    elif terms is not None and node.op in _NARROW_SUMS and dtype.eps >= _RUNNING_EPS:
        terms = terms * np.maximum(1.0, _term_count(node, args, value) / _NARROW_TERMS)
    elif terms is not None and error_scale is None and dtype.eps < _RUNNING_EPS:  # any order, sequential too
        terms = terms * np.sqrt(np.maximum(1.0, _term_count(node, args, value) / _ORDERED_TERMS))
    if terms is not None:
        # at least half the scale, and the sign of the relative draw's move (the two cannot cancel where the
        # value is the sum of its terms): a reassociated sum's error is not small by the luck of its draws.
        # Its size is drawn per position: the rounding of a sum depends on its terms, not on its value, and
        # equal draws for equal values would keep a symmetry that XLA's rounding breaks (``cross(a, a)`` of
        # a constant vector ``a`` is exactly 0 in every run, a multiple of ``(1, 1, 1)``, so a later
        # ``cross(., b) @ w`` with nearly constant ``w`` cancels exactly; XLA's fused multiply-adds leave a
        # different residue in each component: models seed 55, program 40)
        u = _uniform(value, key ^ 0x5A5A5A5A, positional=True)
        out = out + eps * terms * noise.sign * np.copysign(0.5 + 0.5 * np.abs(u), np.real(value) * first)
        if dtype.is_complex:  # and each part: the imaginary parts of an FFT of real data are sums too, exactly 0
            # for a constant input in exact arithmetic and about eps * sum |x| in XLA's (a constant's ``rfft``:
            # -5.2e-8 of 14 ones, where a real-only move allowed 1e-38; session 36, seed 1060, program 179)
            u = _uniform(value, key ^ 0x2D2D2D2D, positional=True)
            out = out + 1j * eps * terms * noise.sign * np.copysign(0.5 + 0.5 * np.abs(u), np.imag(value) * first)
    if contractible:  # a product read unrounded by a fused multiply-add (``_ENDS_IN_MULTIPLY``), moved as the draw
        size = _contracted_size(node, args, contractible, np.shape(value))
        u = _uniform(value, key ^ 0x6B6B6B6B, positional=True)
        out = out + eps * size * noise.sign * np.copysign(0.5 + 0.5 * np.abs(u), np.real(value) * first)
    if node.op in _PRODUCTS:
        u = _uniform(value, key ^ 0x3C3C3C3C, positional=True)
        out = out + _flushed(node, args, value, dtype, terms) * noise.sign * np.copysign(0.5 + 0.5 * np.abs(u), u)
    if round_to:
        out = out.astype(dtype.np_dtype).astype(np.complex128 if dtype.is_complex else np.float64)
    return out


def _farther_at_kink(node: Node, args: Sequence[object], value: np.ndarray, exact: dict[int, np.ndarray]) -> np.ndarray:
    """``value`` (the kink op on perturbed operands), moved from the node's exact value as far as the op on the
    operands' mirror images about their exact values moves where that is farther (see ``MIRRORED``), in the
    direction ``value`` moved: the mirror's distance, never its direction. Where the op is about linear the two
    move equally far in opposite directions; taking the mirror's would turn the node's error against its operands'
    and cancel it in a later ``v + log1p(v)`` (elementwise seed 909, program 1184: a spread of 1.3e-9 where the
    operands moved by 9.6e-8, and XLA's ``gammaln``, 4 eps off, failed). Where ``value`` did not move (the flat
    side), the mirror's value."""
    mirrored = []
    for arg_id, arg in zip(node.args, args, strict=True):
        e = exact.get(arg_id)
        arg = np.asarray(arg)
        floating = arg.dtype.kind == "f"
        mirrored.append(2.0 * e - arg if floating and e is not None and np.shape(e) == arg.shape else arg)
    with np.errstate(all="ignore"):
        other = np.asarray(REGISTRY[node.op].reference(mirrored, node.params), dtype=np.float64)
        centre = exact[node.id]
        moved, mirror_moved = value - centre, other - centre
        direction = np.where(moved != 0, np.sign(moved), np.sign(mirror_moved))
        return np.where(np.abs(mirror_moved) > np.abs(moved), centre + direction * np.abs(mirror_moved), value)


def _perturb_approximate(node: Node, spec: ControlSpec, value, noise: Noise):
    values = list(value) if isinstance(value, tuple) else [value]
    for k in spec.approximate:
        v = np.asarray(values[k], dtype=np.float64)
        key = (node.id + 1) * 0x100000001B3 + noise.salt * 0x9E37 + 7 + k
        scale = APPROX_REL * np.abs(v) + APPROX_ABS * node.params.get("bound", 1.0)
        values[k] = v + scale * noise.sign * _uniform(v, key)
    return tuple(values) if isinstance(value, tuple) else values[0]


def run(
    program: Program,
    inputs: Sequence[np.ndarray],
    *,
    round_to_dtype: bool = False,
    noise: Noise | None = None,
    record: frozenset[int] = frozenset(),
    summarize: Callable[[Node, tuple[np.ndarray, ...]], Any] | None = None,
    keep_values: bool = False,
    check_intervals: bool = False,
    exact: Run | None = None,
    budget: Budget | None = None,
    rewrite: Callable[[Node, object], object] | None = None,
) -> Run:
    """Evaluate ``program`` on ``inputs`` with numpy (see the module docstring for the hooks).

    ``exact``: the run without noise (with ``keep_values``) at the same inputs; under ``noise`` its values
    are the centres the top-level kinks mirror their operands about. ``budget``: charged for every op
    evaluated (:func:`work`); the run raises :class:`OverBudget` as soon as it is spent."""
    result = Run(outputs=())
    unsound: set[int] = set()
    top_level_params = frozenset(program.body.params)
    centres = exact.values if noise is not None and exact is not None else {}
    mirror_at = frozenset(n.id for n in program.body.nodes
                          if n.op in MIRRORED and n.id in centres and len(n.types) == 1 and n.type.dtype.is_float)
    contractible = _contractible_operands(program) if noise is not None else {}

    def check(node: Node, value) -> None:
        values = value if isinstance(value, tuple) else (value,)
        for v, interval in zip(values, node.intervals, strict=False):
            arr = np.asarray(v)
            arr = (np.stack([arr.real, arr.imag]) if np.iscomplexobj(arr) else arr).astype(np.float64)
            if arr.size == 0:
                continue
            if not np.all(np.isfinite(arr)):
                unsound.add(node.id)
                continue
            slack = max(1e-9, node.type.dtype.eps) * max(1.0, interval.mag)
            if arr.min() < interval.lo - slack or arr.max() > interval.hi + slack:
                unsound.add(node.id)

    def visit(node: Node, args: Sequence[object], value):
        parameter = node.op in ("input", "param")
        spec = REGISTRY.get(node.op)  # None for inputs, parameters, literals and tuple projections
        if budget is not None and not parameter:
            budget.charge(work(node, args, value))
        if node.id in record and spec is not None:
            arrays = tuple(np.asarray(a) for a in args)
            result.records.setdefault(node.id, []).append(arrays if summarize is None else summarize(node, arrays))
        rounds = node.op in ("literal", "full") or (spec is not None and not isinstance(spec, ControlSpec))
        if node.id in mirror_at:
            if budget is not None:  # the op again, on its operands' mirror images
                budget.charge(work(node, args, value))
            value = _farther_at_kink(node, args, np.asarray(value, dtype=np.float64), centres)
            if round_to_dtype:
                value = value.astype(node.type.dtype.np_dtype).astype(np.float64)
        if noise is not None and rounds:
            source = program.node(node.args[0]).type.dtype if node.op == "astype" else None
            moved = _perturb(node, value, args, noise, round_to_dtype, source, contractible.get(node.id, ()))
            if budget is not None and moved is not value:
                budget.charge(perturbation_work(value))
            value = moved
        elif noise is not None and isinstance(spec, ControlSpec) and spec.approximate:
            value = _perturb_approximate(node, spec, value, noise)
        if rewrite is not None:
            value = rewrite(node, value)
        if check_intervals:
            check(node, value)
        if keep_values and not isinstance(value, tuple) and (not parameter or node.id in top_level_params):
            result.values[node.id] = value
        return value

    outputs = evaluate(program, inputs, round_to_dtype, visit)
    result.outputs = tuple(np.asarray(o) for o in outputs)
    result.unsound = sorted(unsound)
    return result

