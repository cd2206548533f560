"""Build concrete test cases for one op: a proposal, in-domain operand ranges and random operands."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.lax as lax
import jax.numpy as jnp
import libcst as cst
import msgspec
import numpy as np

from jaxsynth.fuzz.reference import widened
from jaxsynth.grammar import DType, GrammarConfig, Interval, OpSpec, TensorType
from jaxsynth.grammar.opspec import Operand, Proposal, literal
from jaxsynth.grammar.types import X64_ONLY
from jaxsynth.synth.interpret import compute_dtype, random_array
from jaxsynth.synth.sample import proposal_context

FLOAT_CANDIDATES = ((-3.0, 3.0), (0.5, 2.0), (-1.0, 1.0), (0.1, 1.0), (1.0, 3.0), (-2.0, -0.5))
INT_CANDIDATES = ((-10, 10), (1, 10), (0, 5), (-5, -1), (-3, 3), (0, 1), (10, 20))
TEST_DTYPES = tuple(d for d in DType if d not in X64_ONLY and d is not DType.key)


@dataclass
class OpCase:
    spec: OpSpec
    proposal: Proposal
    intervals: list[Interval]
    literals: dict[int, float | int]
    out: TensorType
    result: Interval

    @property
    def types(self) -> list[TensorType]:
        return [o.type for o in self.proposal.operands]

    def source(self) -> str:
        """``def op(a0, a1): return <rendered expression>`` with literal operands inlined."""
        args = [literal(self.literals[i]) if i in self.literals else cst.Name(f"a{i}") for i in range(len(self.types))]
        expr = cst.Module([]).code_for_node(self.spec.render(args, self.proposal.params))
        params = ", ".join(f"a{i}" for i in range(len(self.types)) if i not in self.literals)
        return f"def op({params}):\n    return {expr}\n"

    def arrays(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [random_array(t, r, rng) for i, (t, r) in enumerate(zip(self.types, self.intervals, strict=True))
                if i not in self.literals]

    def function(self):
        """:meth:`source`, defined: ``op(*arrays)``."""
        namespace = {"jax": jax, "jnp": jnp, "lax": lax}
        exec(self.source(), namespace)
        return namespace["op"]

    def reference_operands(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Every operand as the reference takes it: the literals, and ``arrays`` in their compute dtypes."""
        feed = iter(arrays)
        return [np.asarray(self.literals[i]) if i in self.literals else next(feed).astype(compute_dtype(t))
                for i, t in enumerate(self.types)]


def _intersect(a: Interval, lo: float, hi: float) -> Interval | None:
    lo, hi = max(a.lo, lo), min(a.hi, hi)
    return Interval(lo, hi) if lo <= hi else None


def _operand_interval(t: TensorType, need: Interval | None, choice: int) -> Interval | None:
    if t.dtype.is_bool:
        return Interval(0, 1)
    table = FLOAT_CANDIDATES if t.dtype.is_inexact else INT_CANDIDATES
    lo, hi = table[choice % len(table)]
    bounds = t.dtype.bounds if need is None else _intersect(t.dtype.bounds, need.lo, need.hi)
    return None if bounds is None else _intersect(bounds, lo, hi)


@functools.cache
def _config(dtype: DType) -> GrammarConfig:
    """One config per dtype, so the sampler's per-config tables are built once."""
    return msgspec.convert({"types": {"dtypes": {dtype.name: 1.0}}}, GrammarConfig)


def placed(spec: OpSpec, types: list[TensorType], intervals: list[Interval], params: dict) -> OpCase | None:
    """``spec`` on operands of ``types`` in ``intervals`` (no literals), or None where its range rule refuses them."""
    out = spec.type_rule(types, params)
    result = spec.range_rule(list(intervals), types, out, params)
    if result is None:
        return None
    return OpCase(spec, Proposal(tuple(Operand(t) for t in types), params), list(intervals), {}, out, result)


def find_case(spec: OpSpec, dtype: DType, tries: int = 400, start: int = 0) -> OpCase | None:
    """A proposal of ``spec`` with an operand of ``dtype`` whose domain holds on some candidate ranges
    (the first one from attempt ``start`` on; different starts give different cases)."""
    config = _config(dtype)
    for attempt in range(start, start + tries):
        ctx = proposal_context(config, seed=attempt, index=0)
        out_dtype = TEST_DTYPES[attempt % len(TEST_DTYPES)]
        rank = (attempt // len(TEST_DTYPES)) % 4
        t = TensorType(out_dtype, tuple(ctx.pick_dim() for _ in range(rank)))
        proposal = spec.propose(t, ctx)
        if proposal is None:
            continue
        # an op without operands (iota, eye, ...) is tested by the dtype it generates
        if not any(o.type.dtype is dtype for o in proposal.operands) and (proposal.operands or t.dtype is not dtype):
            continue
        types = [o.type for o in proposal.operands]
        if any(ty.dtype not in spec.dtypes for ty in types):
            continue
        for choice in range(max(len(FLOAT_CANDIDATES), len(INT_CANDIDATES))):
            intervals, literals = [], {}
            for i, operand in enumerate(proposal.operands):
                r = _operand_interval(operand.type, operand.need, choice + i)
                if r is None:
                    break
                if operand.kind == "literal":
                    value = _literal_in(r, operand.type.dtype)
                    literals[i] = value
                    r = Interval(value, value)
                intervals.append(r)
            else:
                out = spec.type_rule(types, proposal.params)
                result = spec.range_rule(intervals, types, out, proposal.params)
                if result is not None and result.widen(out.dtype).within(out.dtype.bounds):
                    return OpCase(spec, proposal, intervals, literals, out, result.widen(out.dtype))
    return None


def _literal_in(r: Interval, dtype: DType) -> float | int:
    if dtype.is_int:
        if r.lo > 0:
            return int(math.ceil(r.lo))
        if r.hi < 0:
            return int(math.floor(r.hi))
        return min(2, int(r.hi))
    mid = (r.lo + r.hi) / 2
    return float(np.float16(mid)) if math.isfinite(mid) else float(r.lo)


def _tolerance(dtype: DType, scale: float) -> tuple[float, float]:
    if not dtype.is_inexact:
        return 0.0, 0.0
    eps = {DType.float32: 1e-6, DType.float16: 1e-3, DType.bfloat16: 8e-3, DType.complex64: 1e-6}[dtype]
    return 8 * eps, 8 * eps * max(1.0, scale)


def check_case(case: OpCase, runs: int = 3) -> None:
    """eval_shape agrees with the type rule; JAX agrees with the reference; values lie in the interval."""
    spec = case.spec
    fn = case.function()
    array_types = [t for i, t in enumerate(case.types) if i not in case.literals]
    structs = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in array_types]

    shape = jax.eval_shape(fn, *structs)
    assert (shape.shape, np.dtype(shape.dtype)) == (case.out.shape, case.out.dtype.np_dtype), case.source()

    rng = np.random.default_rng(0)
    for _ in range(runs):
        arrays = case.arrays(rng)
        got = np.asarray(jax.jit(fn)(*arrays))
        operands = case.reference_operands(arrays)
        with np.errstate(all="ignore"):
            want = np.asarray(spec.reference(operands, case.proposal.params))
        want = want.astype(case.out.dtype.np_dtype)
        rtol, atol = _tolerance(case.out.dtype, case.result.mag)
        if spec.error_scale is not None and case.out.dtype.is_float:
            # widened as the fuzz reference widens them: a complex operand (irfft's) keeps its imaginary part
            wide = [widened(o) for o in operands]
            atol = atol + 8 * case.out.dtype.eps * float(np.max(spec.error_scale(wide, case.proposal.params, want)))
        if case.out.dtype.is_inexact:
            wide = np.complex128 if case.out.dtype.is_complex else np.float64
            np.testing.assert_allclose(got.astype(wide), want.astype(wide), rtol=rtol, atol=atol, err_msg=case.source())
            assert np.all(np.isfinite(got.astype(wide)))
        else:
            np.testing.assert_array_equal(got, want, err_msg=case.source())
        # a complex value's interval bounds its real and its imaginary part
        values = np.stack([got.real, got.imag]) if got.dtype.kind == "c" else got
        values = values.astype(np.float64)
        assert np.all(values >= case.result.lo) and np.all(values <= case.result.hi), (
            f"{spec.name}: values {values.min()}..{values.max()} outside declared {case.result}"
        )
