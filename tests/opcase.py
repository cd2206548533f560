"""Build concrete test cases for one op: a proposal, in-domain operand ranges and random operands."""

from __future__ import annotations

import math
from dataclasses import dataclass

import libcst as cst
import msgspec
import numpy as np

from jaxsynth.grammar import DType, GrammarConfig, Interval, OpSpec, TensorType
from jaxsynth.grammar.opspec import Proposal, literal
from jaxsynth.grammar.types import X64_ONLY
from jaxsynth.synth.interpret import random_array
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


def find_case(spec: OpSpec, dtype: DType, tries: int = 400) -> OpCase | None:
    """A proposal of ``spec`` with an operand of ``dtype`` whose domain holds on some candidate ranges."""
    config = msgspec.convert({"types": {"dtypes": {dtype.name: 1.0}}}, GrammarConfig)
    for attempt in range(tries):
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
