"""A numpy reference interpreter of the typed IR: each op's ``reference`` applied in program order.

Floats are computed in float64 (the reference the fuzzer compares against); ints and bools in their
own dtype (programs never overflow on their declared ranges). With ``round_to_dtype`` every result is
first rounded to its declared dtype, modelling float16/bfloat16 storage between ops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_control import ControlSpec
from jaxsynth.grammar.types import Interval, TensorType
from jaxsynth.synth.program import ITEM, Node, Program, Region


def compute_dtype(t: TensorType) -> np.dtype:
    if t.dtype.is_complex:
        return np.dtype(np.complex128)
    return np.dtype(np.float64) if t.dtype.is_float else t.dtype.np_dtype


def as_compute(value, t: TensorType, round_to_dtype: bool) -> np.ndarray:
    """``value`` in the compute dtype of ``t`` (rounded through ``t``'s dtype first if asked);
    raises ValueError when its shape disagrees with the type rule."""
    array = np.asarray(value)
    if t.dtype.is_key:  # key data
        if array.shape != t.shape + (2,):
            raise ValueError(f"reference produced key data of shape {array.shape}, type rule says {t}")
        return array.astype(np.uint32)
    if round_to_dtype and t.dtype.is_inexact:
        array = array.astype(t.dtype.np_dtype)
    array = array.astype(compute_dtype(t))
    if array.shape != t.shape:
        raise ValueError(f"reference produced shape {array.shape}, type rule says {t}")
    return array


#: Called with each node, its operand values (``()`` for inputs, body parameters and literals) and
#: the value just computed for it; returns the value to keep. Tuple projections pass the tuple.
Visit = Callable[[Node, Sequence[object], object], object]


def evaluate(
    program: Program, inputs: Sequence[np.ndarray], round_to_dtype: bool = False, visit: Visit | None = None
) -> tuple[np.ndarray, ...]:
    """Run ``program`` on ``inputs`` with numpy; returns one array per output.

    With ``visit``, every value (inputs and body parameters included, each time a body runs) passes
    through it before later nodes read it (the fuzzer's reference instruments runs this way).
    """
    env: dict[int, object] = {}
    quiet = [0]  # > 0 while a body runs exactly (no visit, no rounding) for a finite difference

    def keep(node: Node, args: Sequence[object], value: object) -> None:
        env[node.id] = value if visit is None or quiet[0] else visit(node, args, value)

    def run(region: Region, args: Sequence[np.ndarray], hoisted: dict[int, object] | None = None,
            invariant: frozenset[int] = frozenset()) -> tuple[np.ndarray, ...]:
        """``hoisted``: values of the ``invariant`` nodes, filled by the first call that computes them."""
        rounding = round_to_dtype and not quiet[0]
        for param, arg in zip(region.params, args, strict=True):
            node = program.node(param)
            keep(node, (), as_compute(arg, node.type, rounding))
        for node in region.nodes:
            if node.op in ("input", "param"):
                continue
            if hoisted is not None and node.id in hoisted:
                env[node.id] = hoisted[node.id]
                continue
            compute(node, rounding)
            if hoisted is not None and node.id in invariant:
                hoisted[node.id] = env[node.id]
        return tuple(env[o] for o in region.outputs)  # type: ignore[misc]

    def compute(node: Node, rounding: bool) -> None:
        if node.op in ("literal", "full"):
            keep(node, (), as_compute(np.full(node.type.shape, node.params["value"]), node.type, rounding))
            return
        if node.op == ITEM:
            whole = env[node.args[0]]
            keep(node, (whole,), whole[node.params["index"]])  # type: ignore[index]
            return
        spec = REGISTRY[node.op]
        args_ = [env[a] for a in node.args]
        if isinstance(spec, ControlSpec):
            bodies = [_Body(run, r, quiet) for r in node.regions]
            outs = spec.reference(args_, node.params, bodies)
            value = tuple(as_compute(o, t, rounding) for o, t in zip(outs, node.types, strict=True))
            keep(node, args_, value if len(value) > 1 else value[0])
        else:
            with np.errstate(all="ignore"):
                keep(node, args_, as_compute(spec.reference(args_, node.params), node.type, rounding))

    return run(program.body, list(inputs))


def loop_invariant(region: Region) -> frozenset[int]:
    """The nodes of a body whose values do not depend on its parameters: ops (not control ops, whose own
    bodies may read them) whose operands are all such nodes or values from outside the body."""
    inside = set(region.params) | {n.id for n in region.nodes}
    invariant: set[int] = set()
    for node in region.nodes:
        if node.op not in ("input", "param") and not node.regions and all(
                a in invariant or a not in inside for a in node.args):
            invariant.add(node.id)
    return frozenset(invariant)


class _Body:
    """A control op's body as a callable for its reference; ``exact`` runs it without the visit hook and
    without rounding to storage dtypes (finite differences of a differentiated body need that).

    The body's :func:`loop_invariant` nodes are evaluated on its first call only, and their values reused
    by the later calls of this evaluation of the control op (one set per ``exact`` mode): a ``lax.scan``
    body that multiplies two closed-over matrices does it once, not once per step, as XLA hoists it. The
    visit hook sees such a node once per evaluation; it gives the same value for the same node and operands
    (the reference's simulated rounding is a hash of them), so every value is what it would be without."""

    __slots__ = ("_run", "_region", "_quiet", "_hoisted", "_invariant")

    def __init__(self, run: Callable, region: Region, quiet: list[int]) -> None:
        self._run, self._region, self._quiet = run, region, quiet
        self._hoisted: dict[bool, dict[int, object]] = {}
        self._invariant: frozenset[int] | None = None

    def __call__(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._invariant is None:
            self._invariant = loop_invariant(self._region)
        return self._run(self._region, xs, self._hoisted.setdefault(bool(self._quiet[0]), {}), self._invariant)

    def exact(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        self._quiet[0] += 1
        try:
            with np.errstate(all="ignore"):
                return self(*xs)
        finally:
            self._quiet[0] -= 1


def random_array(t: TensorType, r: Interval, rng: np.random.Generator) -> np.ndarray:
    """An array of type ``t`` drawn uniformly from ``r`` (bools: fair coin flips; complex: both parts; keys: random
    key data)."""
    if t.dtype.is_key:
        return rng.integers(0, 2**32, size=t.shape + (2,), dtype=np.uint32)
    if t.dtype.is_bool:
        a = rng.random(t.shape) < 0.5
    elif t.dtype.is_int:
        a = rng.integers(int(r.lo), int(r.hi) + 1, size=t.shape)
    elif t.dtype.is_complex:  # the interval bounds the real and the imaginary part
        a = rng.uniform(r.lo, r.hi, size=t.shape) + 1j * rng.uniform(r.lo, r.hi, size=t.shape)
    else:
        a = rng.uniform(r.lo, r.hi, size=t.shape)
    return np.asarray(a).astype(t.dtype.np_dtype)


def random_inputs(program: Program, rng: np.random.Generator) -> list[np.ndarray]:
    """Inputs drawn uniformly from each input's declared range, in the input's dtype."""
    return [random_array(t, r, rng) for t, r in zip(program.input_types, program.input_ranges, strict=True)]
