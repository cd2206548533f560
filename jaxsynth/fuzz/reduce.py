"""Typed reduction of a failing program on its DAG.

Every candidate is rebuilt through :func:`recheck`: types are recomputed with each op's type rule and
intervals with its range rule (``None`` or a result outside the dtype's bounds rejects the candidate,
as in the sampler), loop carries must stay inside their invariants, and the reference must run on the
candidate's concrete inputs with every value inside its interval. So every candidate the oracle
sees is well-typed and in-domain, and a reduced finding is as real as the original.

In special-values mode (``special=True``, :mod:`jaxsynth.fuzz.special`) the inputs hold NaN, ±Inf and
integer extremes on purpose, so values are not required to lie inside their intervals (the intervals
still describe the declared input ranges, and the type and range rules still apply); the reference
runs op by op in each node's dtype, as the special-values oracles run it, and its values (NaN and Inf
included) are what a subterm turned into an input holds. Reduction adds no op, so a candidate uses only
ops of the original program (in this mode, ops whose row says ``special_values=True``).

Edits, tried greedily from the outputs towards the inputs until none applies (deterministic):

- keep a subset of the outputs;
- replace a subterm by a new input holding the subterm's reference value (removes the subterm);
- bypass an op (use one of its operands of the same type);
- inline one branch of ``cond``/``switch``; cut the trip count of ``fori_loop``/``while_loop``;
- replace an input by a constant;
- shrink shapes (map a dimension size to 1 across the program) and simplify dtypes (float16,
  bfloat16 -> float32; int8, uint8 -> int32).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jaxsynth.fuzz import reference
from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_control import ControlSpec
from jaxsynth.grammar.opspec import OpSpec
from jaxsynth.grammar.types import DType, Interval, TensorType
from jaxsynth.synth.program import ITEM, Node, Program, Region
from jaxsynth.synth.sample import prune

__all__ = ["Invalid", "Reduced", "Subject", "reduce", "recheck", "retype"]


class Invalid(Exception):
    """A candidate program that is ill-typed or leaves the domain of one of its ops."""


Inputs = dict[int, np.ndarray]


@dataclass(frozen=True)
class Subject:
    """A program with concrete inputs (keyed by input node id)."""

    program: Program
    inputs: Inputs

    def input_list(self) -> list[np.ndarray]:
        return [self.inputs[i] for i in self.program.body.params]


# ---------------------------------------------------------------- checking


def recheck(program: Program) -> Program:
    """``program`` with every op's type and interval recomputed from its operands; raises Invalid.

    Inputs, literals and constants keep their declared types (and inputs their intervals); an op whose
    recomputed type differs from its declared type is rejected (params that encode shapes)."""
    nodes: dict[int, Node] = {}

    def region(reg: Region, sig_params: Sequence[tuple[TensorType, Interval]] | None,
               invariants: Sequence[Interval | None] = ()) -> Region:
        # The sampler clips a loop carry into its invariant without widening (a clip is exact); every
        # other op result is widened by one rounding, as the sampler does.
        carry = {o: inv for o, inv in zip(reg.outputs, invariants, strict=False) if inv is not None}
        out: list[Node] = []
        for node in reg.nodes:
            new = _check_node(node, reg, sig_params, nodes, region, carry)
            nodes[new.id] = new
            out.append(new)
        return Region(reg.role, reg.layout, reg.carries, reg.params, tuple(out), reg.outputs)

    body = region(program.body, None)
    return Program(program.name, body)


def _check_node(node, reg, sig_params, nodes, region_fn, carry) -> Node:
    op = node.op
    if op == "input":
        return node
    if op == "param":
        if sig_params is None:
            raise Invalid("param outside a body")
        t, interval = sig_params[reg.params.index(node.id)]
        if t != node.type:
            raise Invalid(f"body param {node.id}: {node.type} != {t}")
        return Node(node.id, op, (), (t,), (interval,), node.params)
    if op in ("literal", "full"):
        v = float(node.params["value"])
        if not node.type.dtype.is_bool and not Interval(v, v).within(node.type.dtype.bounds):
            raise Invalid(f"constant {v} outside {node.type.dtype.name}")
        return Node(node.id, op, (), node.types, (Interval(v, v),), node.params)
    args = [nodes[a] for a in node.args]
    if op == ITEM:
        source = args[0]
        k = node.params["index"]
        return Node(node.id, op, node.args, (source.types[k],), (source.intervals[k],), node.params)
    spec = REGISTRY.get(op)
    types = [a.type for a in args]
    ins = [a.interval for a in args]
    if isinstance(spec, OpSpec):
        if any(t.dtype not in spec.dtypes for t in types):
            raise Invalid(f"{op}: operand dtype not allowed")
        try:
            out = spec.type_rule(types, node.params)
            result = spec.range_rule(ins, types, out, node.params)
        except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError) as exc:
            raise Invalid(f"{op}: {exc}") from None
        if out != node.type:
            raise Invalid(f"{op}: type {out} != declared {node.type}")
        if result is None:
            raise Invalid(f"{op}: outside its domain")
        widened = result.widen(out.dtype)
        if op != "clip" or node.id not in carry or widened.within(carry[node.id]):
            result = widened
        if not result.within(out.dtype.bounds):
            raise Invalid(f"{op}: range {result} outside {out.dtype.name} bounds")
        return Node(node.id, op, node.args, (out,), (result,), node.params)
    if isinstance(spec, ControlSpec):
        params = node.params
        try:
            sigs = spec.regions(types, ins, params)
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise Invalid(f"{op}: {exc}") from None
        if len(sigs) != len(node.regions):
            raise Invalid(f"{op}: region count")
        regions = []
        for sig, reg_ in zip(sigs, node.regions, strict=True):
            if len(sig.params) != len(reg_.params):
                raise Invalid(f"{op}: body arity")
            new_reg = region_fn(reg_, sig.params, sig.invariants)
            for out_id, t, inv in zip(new_reg.outputs, sig.outputs, sig.invariants, strict=True):
                out_node = nodes[out_id]
                if out_node.type != t:
                    raise Invalid(f"{op}: body output type {out_node.type} != {t}")
                if inv is not None and not out_node.interval.within(inv):
                    raise Invalid(f"{op}: carry leaves its invariant")
            regions.append(new_reg)
        outs = spec.outputs(types, params)
        region_outs = [[nodes[o].interval for o in r.outputs] for r in regions]
        raw_ranges = spec.ranges(ins, types, params, region_outs)
        ranges = tuple(r.widen(o.dtype) for r, o in zip(raw_ranges, outs, strict=True))
        if tuple(outs) != tuple(node.types):
            raise Invalid(f"{op}: output types changed")
        if not all(r.within(o.dtype.bounds) for r, o in zip(ranges, outs, strict=True)):
            raise Invalid(f"{op}: range outside dtype bounds")
        return Node(node.id, op, node.args, tuple(outs), ranges, params, tuple(regions))
    raise Invalid(f"unknown op {op!r}")


def validate(program: Program, inputs: Inputs, special: bool = False, x64: bool = False) -> Subject:
    """Recheck, then run the reference: finite, every value inside its interval (in special-values
    mode: the reference runs, values may be anything; ``x64``: in JAX's 64-bit mode). Raises Invalid."""
    checked = recheck(program)
    for node_id in checked.body.params:
        if node_id not in inputs:
            raise Invalid(f"no value for input {node_id}")
        node = checked.node(node_id)
        value = inputs[node_id]
        if value.shape != node.type.shape or value.dtype != node.type.dtype.np_dtype:
            raise Invalid(f"input {node_id}: value {value.dtype}{list(value.shape)} is not {node.type}")
    subject = Subject(checked, {i: inputs[i] for i in checked.body.params})
    try:
        result = _reference(checked, subject.input_list(), special, x64, check_intervals=not special)
    except (ValueError, TypeError, IndexError, KeyError, FloatingPointError) as exc:
        raise Invalid(f"reference failed: {exc}") from None
    if result.unsound:
        raise Invalid(f"values outside their intervals at nodes {result.unsound}")
    return subject


def _reference(program: Program, inputs: Sequence[np.ndarray], special: bool, x64: bool = False, **hooks: Any
               ) -> reference.Run:
    """The reference the oracles compare with: float64 values, or (special-values mode) each op's
    result rounded to its declared dtype, the IEEE reference of :func:`jaxsynth.fuzz.special.references`.
    With ``x64`` (a program sampled under ``types.x64``) it runs in JAX's 64-bit mode, as the worker runs it:
    the references JAX computes (the PRNG ops' draws) are float64 there and would be float32 outside it, and the
    reducer makes literals of these values."""
    from jaxsynth import compat  # imports JAX only to turn the mode on

    with compat.enable_x64(True) if x64 else contextlib.nullcontext():
        return reference.run(program, inputs, round_to_dtype=special, **hooks)


# ---------------------------------------------------------------- rewriting


def rewrite(
    program: Program,
    *,
    replace: Mapping[int, Node] | None = None,
    redirect: Mapping[int, int] | None = None,
    inline: Mapping[int, Sequence[Node]] | None = None,
    outputs: Sequence[int] | None = None,
    new_inputs: Sequence[Node] = (),
) -> Program:
    """A rebuilt, pruned program: nodes replaced in place, uses redirected, nodes spliced in. The inputs keep
    their order (``new_inputs`` last; an input that is no longer one is dropped)."""
    replace = replace or {}
    redirect = redirect or {}
    inline = inline or {}

    def target(i: int) -> int:
        seen = 0
        while i in redirect:
            i = redirect[i]
            seen += 1
            if seen > 10_000:
                raise Invalid("redirect cycle")
        return i

    def fix(node: Node) -> Node:
        return Node(node.id, node.op, tuple(target(a) for a in node.args), node.types, node.intervals, node.params,
                    tuple(region(r) for r in node.regions))

    def region(reg: Region, extra: Sequence[Node] = ()) -> Region:
        out = [fix(n) for n in extra]
        for n in reg.nodes:
            if n.id in inline:
                out.extend(fix(x) for x in inline[n.id])
                continue
            out.append(fix(replace.get(n.id, n)))
        params = tuple(reg.params) + tuple(n.id for n in extra)
        return Region(reg.role, reg.layout, reg.carries, params, tuple(out), tuple(target(o) for o in reg.outputs))

    body = region(program.body, new_inputs)
    if outputs is not None:
        body = Region(body.role, body.layout, body.carries, body.params, body.nodes, tuple(target(o) for o in outputs))
    index = {n.id: n for n in _walk_region(body)}
    pruned = prune(body, index)
    params = tuple(p for p in pruned.params if index[p].op == "input")  # in order, new inputs last
    pruned = Region(pruned.role, pruned.layout, pruned.carries, params, pruned.nodes, pruned.outputs)
    return Program(program.name, pruned)


def _walk_region(region: Region) -> Iterator[Node]:
    for n in region.nodes:
        yield n
        for r in n.regions:
            yield from _walk_region(r)


def _map_param(value: Any, dtypes: Mapping[DType, DType]) -> Any:
    if isinstance(value, DType):
        return dtypes.get(value, value)
    if isinstance(value, TensorType):
        return TensorType(dtypes.get(value.dtype, value.dtype), value.shape)
    if isinstance(value, tuple):
        return tuple(_map_param(v, dtypes) for v in value)
    return value


def retype(
    program: Program, dtypes: Mapping[DType, DType] | None = None, dims: Mapping[int, int] | None = None
) -> Program:
    """Every declared type mapped (dtype by ``dtypes``, each dimension size by ``dims``), then rechecked.

    Params that encode dtypes (``astype``'s target, a body's output type) follow the dtype map; params
    that encode shapes do not follow the dim map, so such programs are rejected (Invalid)."""
    dtypes = dtypes or {}
    dims = dims or {}

    def t(x: TensorType) -> TensorType:
        return TensorType(dtypes.get(x.dtype, x.dtype), tuple(dims.get(d, d) for d in x.shape))

    def node(n: Node) -> Node:
        params = {k: _map_param(v, dtypes) for k, v in n.params.items()}
        intervals = n.intervals
        if n.op == "input":
            new_dtype = dtypes.get(n.type.dtype, n.type.dtype)
            intervals = tuple(_intersect(i, new_dtype) for i in n.intervals)
        return Node(n.id, n.op, n.args, tuple(t(x) for x in n.types), intervals, params,
                    tuple(region(r) for r in n.regions))

    def region(r: Region) -> Region:
        return Region(r.role, r.layout, r.carries, r.params, tuple(node(n) for n in r.nodes), r.outputs)

    return recheck(Program(program.name, region(program.body)))


def _intersect(i: Interval, dtype: DType) -> Interval:
    b = dtype.bounds
    lo, hi = max(i.lo, b.lo), min(i.hi, b.hi)
    if lo > hi:
        raise Invalid(f"input range {i} outside {dtype.name}")
    return Interval(lo, hi)


# ---------------------------------------------------------------- candidates


def _next_id(program: Program) -> int:
    return max((n.id for n in program.walk()), default=-1) + 1


def _cast(value: np.ndarray, t: TensorType) -> np.ndarray:
    v = np.asarray(value)
    if t.dtype.is_int and v.dtype.kind == "f":
        v = np.rint(v)
    return np.asarray(v).astype(t.dtype.np_dtype).reshape(t.shape)


def _as_input(subject: Subject, node: Node, value: np.ndarray) -> tuple[Program, Inputs] | None:
    if len(node.types) != 1 or value is None or node.type.dtype.is_key:  # a derived key stays derived
        return None
    new_id = _next_id(subject.program)
    interval = node.interval
    t = node.type
    if t.dtype.is_float:
        interval = Interval(max(interval.lo, t.dtype.bounds.lo), min(interval.hi, t.dtype.bounds.hi))
    leaf = Node(new_id, "input", (), (t,), (interval,))
    program = rewrite(subject.program, redirect={node.id: new_id}, new_inputs=[leaf])
    inputs = dict(subject.inputs)
    inputs[new_id] = _cast(value, t)
    return program, inputs


def _constant_values(node: Node, value: np.ndarray | None) -> list[float]:
    interval = node.interval
    options: list[float] = []
    if node.type.dtype.is_key:  # a key has no literal form
        return []
    if value is not None and np.size(value):
        flat = np.asarray(value).reshape(-1)
        options.append(float(np.real(flat[0])))  # a complex node tries its first value's real part
    options += [0.0, 1.0, -1.0, 2.0, 0.5]
    if node.type.dtype.is_bool:
        options = [1.0, 0.0]
    result = []
    for v in options:
        if node.type.dtype.is_int:
            v = float(round(v))
        if node.type.dtype.is_float:
            v = float(np.asarray(v).astype(node.type.dtype.np_dtype))
        if interval.lo <= v <= interval.hi and v not in result:
            result.append(v)
    return result[:2]


def _node_candidates(subject: Subject, values: Mapping[int, np.ndarray]) -> Iterator[tuple[str, Program, Inputs]]:
    program = subject.program
    ops = [n for n in program.walk() if n.is_op or n.op == ITEM]
    for node in sorted(ops, key=lambda n: -n.id):
        value = values.get(node.id)
        if len(node.types) == 1 and value is not None:
            made = _as_input(subject, node, value)
            if made is not None:
                yield f"input<-{node.op}#{node.id}", made[0], made[1]
        if node.op == ITEM:
            continue
        for a in dict.fromkeys(node.args):
            if program.node(a).type == node.type and len(node.types) == 1:
                yield f"bypass {node.op}#{node.id}", rewrite(program, redirect={node.id: a}), subject.inputs
        if isinstance(REGISTRY[node.op], ControlSpec):
            yield from _control_candidates(subject, node)


def _control_candidates(subject: Subject, node: Node) -> Iterator[tuple[str, Program, Inputs]]:
    program = subject.program
    if node.op in ("cond", "switch") and len(node.types) == 1:
        operands = node.args[1:]
        for k, region in enumerate(node.regions):
            redirect = dict(zip(region.params, operands, strict=True))
            redirect[node.id] = region.outputs[0]
            body = [n for n in region.nodes if n.op != "param"]
            inlined = rewrite(program, inline={node.id: body}, redirect=redirect)
            yield f"inline {node.op}#{node.id} branch {k}", inlined, subject.inputs
    if node.op in ("fori_loop", "while_loop"):
        trips = node.params["trips"]
        for new in sorted({0, 1, trips // 2} - {trips}):
            if new >= trips:
                continue
            params = dict(node.params, trips=new)
            replaced = Node(node.id, node.op, node.args, node.types, node.intervals, params, node.regions)
            yield f"trips {node.op}#{node.id} -> {new}", rewrite(program, replace={node.id: replaced}), subject.inputs


def _output_candidates(subject: Subject, hint: Sequence[int]) -> Iterator[tuple[str, Program, Inputs]]:
    outs = subject.program.body.outputs
    if len(outs) < 2:
        return
    order = list(dict.fromkeys([k for k in hint if k < len(outs)] + list(range(len(outs)))))
    for k in order:
        yield f"keep output {k}", rewrite(subject.program, outputs=[outs[k]]), subject.inputs


def _input_constant_candidates(subject: Subject) -> Iterator[tuple[str, Program, Inputs]]:
    program = subject.program
    if len(program.body.params) <= 1:
        return
    for input_id in program.body.params:
        node = program.node(input_id)
        for v in _constant_values(node, subject.inputs[input_id]):
            value: Any = bool(v) if node.type.dtype.is_bool else (int(v) if node.type.dtype.is_int else v)
            const = Node(input_id, "full", (), node.types, (Interval(float(v), float(v)),), {"value": value})
            inputs = {k: x for k, x in subject.inputs.items() if k != input_id}
            yield f"constant input#{input_id}", rewrite(program, replace={input_id: const}), inputs


def _shape_candidates(subject: Subject, worst: Sequence[int] | None) -> Iterator[tuple[str, Program, Inputs]]:
    program = subject.program
    sizes = sorted({d for n in program.walk() for t in n.types for d in t.shape if d > 1}, reverse=True)
    out_shape = program.output_types[0].shape if program.output_types else ()
    pick: dict[int, int] = {}
    if worst is not None:
        for d, w in zip(out_shape, worst, strict=False):
            pick.setdefault(d, int(w))
    maps = ([{d: 1 for d in sizes}] if len(sizes) > 1 else []) + [{d: 1} for d in sizes]
    for dims in maps:
        try:
            new = retype(program, dims=dims)
        except Invalid:
            continue
        inputs = {}
        for input_id in program.body.params:
            x = subject.inputs[input_id]
            index = tuple(slice(pick.get(d, 0), pick.get(d, 0) + 1) if d in dims else slice(None) for d in x.shape)
            inputs[input_id] = np.ascontiguousarray(x[index])
        yield f"shrink dims {sorted(dims)} -> 1", new, inputs


_SIMPLER = ({DType.float16: DType.float32}, {DType.bfloat16: DType.float32}, {DType.int8: DType.int32},
            {DType.uint8: DType.int32})


def _dtype_candidates(subject: Subject) -> Iterator[tuple[str, Program, Inputs]]:
    program = subject.program
    present = {t.dtype for n in program.walk() for t in n.types}
    for dtypes in _SIMPLER:
        (source, target), = dtypes.items()
        if source not in present:
            continue
        try:
            new = retype(program, dtypes=dtypes)
        except Invalid:
            continue
        inputs = {}
        for input_id in program.body.params:
            x = subject.inputs[input_id]
            t = new.node(input_id).type
            inputs[input_id] = x.astype(t.dtype.np_dtype)
        yield f"dtype {source.name} -> {target.name}", new, inputs


# ---------------------------------------------------------------- the reducer


@dataclass(frozen=True)
class Reduced:
    subject: Subject
    tests: int  #: candidates run through the oracle
    seconds: float
    steps: tuple[str, ...]  #: accepted edits, in order
    complete: bool  #: reached a fixpoint (not stopped by the budget)


def op_count(program: Program) -> int:
    return len(program.op_nodes())


def reduce(
    subject: Subject,
    interesting: Callable[[Subject], bool],
    *,
    max_tests: int = 300,
    max_seconds: float = 300.0,
    outputs_hint: Sequence[int] = (),
    worst: Sequence[int] | None = None,
    special: bool = False,
    x64: bool = False,
) -> Reduced:
    """Greedy typed reduction of ``subject`` while ``interesting`` holds (deterministic).

    ``interesting`` runs the failing oracle on a candidate; it is called only on candidates that
    pass :func:`validate` (``special``: in special-values mode; ``x64``: the reference in 64-bit mode), at
    most ``max_tests`` times and until ``max_seconds`` have passed."""
    start = time.monotonic()
    tests = 0
    steps: list[str] = []
    current = subject
    seen: set[str] = set()

    def budget_left() -> bool:
        return tests < max_tests and time.monotonic() - start < max_seconds

    def attempt(candidates: Iterator[tuple[str, Program, Inputs]]) -> bool:
        nonlocal current, tests
        for label, program, inputs in candidates:
            if not budget_left():
                return False
            try:
                candidate = validate(program, inputs, special, x64)
            except Invalid:
                continue
            if not _smaller(candidate, current):
                continue
            key = _key(candidate)
            if key in seen:
                continue
            seen.add(key)
            tests += 1
            if interesting(candidate):
                current = candidate
                steps.append(label)
                return True
        return False

    def values_of(s: Subject) -> dict[int, np.ndarray]:
        return _reference(s.program, s.input_list(), special, x64, keep_values=True).values

    progress = True
    while progress and budget_left():
        progress = False
        if attempt(_output_candidates(current, outputs_hint)):
            progress = True
            continue
        if attempt(_node_candidates(current, values_of(current))):
            progress = True
            continue
        if attempt(_input_constant_candidates(current)):
            progress = True
            continue
        if attempt(_shape_candidates(current, worst)):
            progress = True
            continue
        if attempt(_dtype_candidates(current)):
            progress = True
            continue
    return Reduced(current, tests, time.monotonic() - start, tuple(steps), complete=not progress)


def _size(s: Subject) -> tuple[int, int, int, int]:
    program = s.program
    elements = sum(math.prod(t.shape) for t in program.input_types)
    plain = (DType.float32, DType.int32, DType.bool)
    dtype_rank = sum(1 for n in program.walk() for t in n.types if t.dtype not in plain)
    return (op_count(program), len(program.body.params), elements, dtype_rank)


def _smaller(a: Subject, b: Subject) -> bool:
    """Strictly simpler: fewer ops, else fewer inputs, else fewer input elements, else simpler dtypes."""
    sa, sb = _size(a), _size(b)
    if sa != sb:
        return sa < sb
    return _trips(a.program) < _trips(b.program)


def _trips(program: Program) -> int:
    return sum(int(n.params.get("trips", 0)) for n in program.walk())


def _key(s: Subject) -> str:
    from jaxsynth.synth import render

    parts = [render(s.program, imports=False)]
    parts += [f"{x.dtype}{x.shape}:{x.tobytes().hex()}" for x in s.input_list()]
    return "\n".join(parts)
