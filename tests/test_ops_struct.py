"""The structured op families (indexing, sorting, window, decomposition) beyond the one case per
(op, dtype) of test_ops: several proposals per op (ranks, axes, strides, paddings, layouts, modes),
index soundness, unique scatter indices for ``set``, and the assignment-expression rendering."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import libcst as cst
import numpy as np
import pytest
from opcase import TEST_DTYPES, OpCase, check_case, find_case

from jaxsynth.grammar import OPS, DType, GrammarConfig, Interval, TensorType
from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_window import same_pads
from jaxsynth.grammar.opspec import Operand, Proposal
from jaxsynth.synth.sample import proposal_context

FAMILIES = ("indexing", "sorting", "window", "decomposition")
STRUCT = [spec for spec in OPS if spec.category in FAMILIES]


def _cases(spec, dtype, count: int):
    """Up to ``count`` cases of ``spec`` with distinct sources."""
    seen, cases = set(), []
    for start in range(0, 600, 23):
        case = find_case(spec, dtype, tries=60, start=start)
        if case is None or (key := (case.source(), tuple(map(str, case.types)))) in seen:
            continue
        seen.add(key)
        cases.append(case)
        if len(cases) == count:
            break
    return cases


@pytest.mark.parametrize("spec", STRUCT, ids=[s.name for s in STRUCT])
def test_several_cases_float32(spec):
    """float32 results, or int32 for an op that gives only those (``searchsorted``: bucket ids)."""
    dtype = DType.float32 if DType.float32 in spec.dtypes else DType.int32
    cases = _cases(spec, dtype, 2)
    assert len(cases) >= 2, f"{spec.name}: fewer than two distinct {dtype.name} cases"
    for case in cases:
        check_case(case, runs=1)


SLOW = [(s, d) for s in STRUCT for d in TEST_DTYPES if d in s.dtypes]


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "dtype"), SLOW, ids=[f"{s.name}-{d.name}" for s, d in SLOW])
def test_many_cases_every_dtype(spec, dtype):
    cases = _cases(spec, dtype, 10)
    assert cases, f"{spec.name}: no case for {dtype.name}"
    for case in cases:
        check_case(case, runs=2)


CONFIG = GrammarConfig()


def _context(seed: int):
    return proposal_context(CONFIG, seed=seed)


def test_index_intervals_must_prove_bounds():
    """A range rule rejects an index interval that could leave the axis, and accepts one that cannot."""
    spec = REGISTRY["dynamic_slice"]
    x, i = TensorType(DType.float32, (6,)), TensorType(DType.int32, ())
    params = {"axes": (0,), "sizes": (4,), "style": "full"}
    data = Interval(-1.0, 1.0)
    assert spec.range_rule([data, Interval(0, 2)], [x, i], spec.type_rule([x, i], params), params) == data
    assert spec.range_rule([data, Interval(0, 3)], [x, i], spec.type_rule([x, i], params), params) is None
    assert spec.range_rule([data, Interval(-1, 2)], [x, i], spec.type_rule([x, i], params), params) is None
    gather = REGISTRY["gather"]
    idx = TensorType(DType.int32, (3,))
    params = {"axis": 0, "mode": "clip"}
    assert gather.range_rule([data, Interval(0, 5)], [x, idx], None, params) == data
    assert gather.range_rule([data, Interval(0, 6)], [x, idx], None, params) is None


def _fixed_case(name: str, types: list[TensorType], intervals: list[Interval], params: dict) -> OpCase:
    """A case of op ``name`` with the given operands and parameters (what a composite passes to ``b.op``)."""
    spec = REGISTRY[name]
    out = spec.type_rule(types, params)
    result = spec.range_rule(intervals, types, out, params).widen(out.dtype)
    return OpCase(spec, Proposal(tuple(Operand(t) for t in types), params), intervals, {}, out, result)


def _jaxpr(case: OpCase) -> str:
    return str(jax.make_jaxpr(case.function())(*(jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype)
                                                 for t in case.types)))


def test_gather_take_spelling_is_an_embedding_lookup():
    """``gather`` with ``style = "take"``: ``jnp.take(table, ids, axis=0)``, a JAXPR gather, the table's range."""
    table, ids = TensorType(DType.float32, (11, 4)), TensorType(DType.int32, (2, 3))
    case = _fixed_case("gather", [table, ids], [Interval(-0.5, 0.5), Interval(0, 10)], {"axis": 0, "style": "take"})
    assert "jnp.take(a0, a1, axis=0)" in case.source() and case.out.shape == (2, 3, 4)
    assert REGISTRY["gather"].range_rule(case.intervals, case.types, case.out, case.proposal.params) == Interval(
        -0.5, 0.5)
    check_case(case)
    assert " gather[" in _jaxpr(case)
    plain = _fixed_case("gather", [table, ids], [Interval(-0.5, 0.5), Interval(0, 10)], {"axis": 0})
    assert "a0[a1]" in plain.source()


@pytest.mark.parametrize(("padding", "stride"), [("SAME", 1), ("VALID", 2), ("SAME", 2)])
def test_conv_takes_a_batched_nhwc_image_and_a_rank4_kernel(padding, stride):
    """``full_kernel``: an HWIO kernel of rank 4 goes to ``lax.conv_general_dilated`` as it is (no reshape)."""
    size, k = 7, 3
    pads = same_pads(size, k, stride) if padding == "SAME" else (0, 0)
    params = {"nd": 2, "batched": True, "layout": "channels_last", "kernel": (k, k), "in_per_group": 3,
              "features": 4, "strides": (stride, stride), "pads": (pads, pads), "padding": padding,
              "lhs_dilation": (1, 1), "rhs_dilation": (1, 1), "groups": 1, "full_kernel": True}
    x, w = TensorType(DType.float32, (2, size, size, 3)), TensorType(DType.float32, (k, k, 3, 4))
    case = _fixed_case("conv", [x, w], [Interval(-1.0, 1.0), Interval(-0.1, 0.1)], params)
    assert "reshape" not in case.source() and "lax.conv_general_dilated(a0, a1," in case.source()
    check_case(case)
    assert "conv_general_dilated[" in _jaxpr(case)
    with pytest.raises(TypeError, match="kernel"):
        REGISTRY["conv"].type_rule([x, TensorType(DType.float32, (k, k, 12))], params)


def test_set_scatter_indices_never_repeat():
    """``at_set`` takes a scalar traced index or distinct constants; the combiners may take repeated ones."""
    spec, combine = REGISTRY["at_set"], REGISTRY["at_add"]
    kinds, repeated = set(), 0
    for seed in range(300):
        ctx = _context(seed)
        t = TensorType(DType.float32, (ctx.pick_dim(), 3))
        proposal = spec.propose(t, ctx)
        if "indices" in proposal.params:
            indices = proposal.params["indices"]
            assert len(set(indices)) == len(indices)
            kinds.add("constant")
        else:
            assert proposal.operands[2].type.shape == (), "set must not take an index array"
            kinds.add("traced")
        other = combine.propose(t, _context(seed))
        repeated += other.operands[-1].type.rank == 1
    assert kinds == {"constant", "traced"} and repeated > 0


def _run(source: str, *args):
    namespace = {"jax": jax, "jnp": jnp}
    exec(source, namespace)
    return np.asarray(jax.jit(namespace["op"])(*args), dtype=np.float64)


def test_nested_assignment_expressions_bind_the_right_values():
    """eigh_fn of an expression that is itself an eigh_fn: both rebind ``eig`` and ``gram``, and the
    rendered code still computes the composed reference."""
    spec = REGISTRY["eigh_fn"]
    inner = {"n": 3, "m": 3, "gram": "outer", "c": 2.0, "part": 0, "fn": "sqrt"}
    outer = {"n": 3, "m": 3, "gram": "inner", "c": 1.0, "part": 0, "fn": "log"}
    arg = cst.Call(func=cst.Attribute(cst.Name("jnp"), cst.Name("sin")), args=[cst.Arg(cst.Name("a0"))])
    expr = spec.render([spec.render([arg], inner)], outer)
    source = f"def op(a0):\n    return {cst.Module([]).code_for_node(expr)}\n"
    assert source.count(":=") == 4, source
    x = np.random.default_rng(0).uniform(-1, 1, (3, 3))
    want = spec.reference([spec.reference([np.sin(x)], inner)], outer)
    np.testing.assert_allclose(_run(source, x.astype(np.float32)), want, rtol=1e-4, atol=1e-4, err_msg=source)


def test_structured_config_reaches_every_structured_op():
    from jaxsynth.grammar import load_config
    from jaxsynth.synth import sample

    config = load_config("structured")
    names = {spec.name for spec in STRUCT}
    seen: set[str] = set()
    for index in range(1000):  # expm, the rarest (a square float matrix wanted), first at program 507
        seen |= {node.op for node in sample(config, 0, index).walk()} & names
        if seen == names:
            break
    assert seen == names, sorted(names - seen)


def test_structured_records_are_deterministic_and_reexecute_to_their_jaxpr():
    """Records of the structured config: byte-identical when rebuilt, and their Python traces back to
    the recorded JAXPR (walrus bindings and jax.scipy calls included)."""
    from jaxsynth.corpus.generate import make_record
    from jaxsynth.corpus.record import encode_record
    from jaxsynth.grammar import load_config
    from jaxsynth.grammar.types import TensorType

    config = load_config("structured")
    emit = ("jaxpr", "stablehlo")
    ops: set[str] = set()
    for index in range(8):
        record = make_record(config, 5, index, emit)
        assert encode_record(make_record(config, 5, index, emit)) == encode_record(record)
        namespace: dict = {}
        exec(compile(record.python, "<record>", "exec"), namespace)
        args = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in map(TensorType.parse, record.signature)]
        assert str(jax.make_jaxpr(namespace[record.function_name])(*args)) == record.jaxpr, record.python
        ops |= set(record.features.ops)
    assert ops & {spec.name for spec in STRUCT}, "no structured op in 8 records"


X64_SCRIPT = """
import sys
import numpy as np, jax
from jaxsynth.fuzz.tolerance import DISCONTINUOUS
from jaxsynth.grammar import parse_config
from jaxsynth.synth import evaluate, random_inputs, render, sample
config = parse_config(sys.argv[1])
rng = np.random.default_rng(0)
families, compared = set(), 0
for index in range(10):  # 11 outputs compared, every family drawn
    program = sample(config, 20, index)
    namespace = {}
    exec(render(program), namespace)
    inputs = random_inputs(program, rng)
    outputs = jax.jit(namespace["f"])(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    ops = {n.op for n in program.walk()}
    families |= ops
    exact = not ops & (DISCONTINUOUS | {"argsort", "top_k_indices"})
    for out, want, t in zip(outputs, evaluate(program, inputs), program.output_types):
        assert out.dtype == t.dtype.np_dtype and out.shape == t.shape, (index, out.dtype, str(t))
        if t.dtype.is_float:
            assert np.all(np.isfinite(np.asarray(out, np.float64))), index
            if exact:
                tol = 1e-6 if t.dtype.short == "f64" else 1e-3
                np.testing.assert_allclose(np.asarray(out, np.float64), want, rtol=tol, atol=tol, err_msg=str(index))
                compared += 1
print(" ".join(sorted(families)), compared)
"""


def test_structured_programs_under_x64():
    """With x64 the structured families type-check (argsort is not sampled; dynamic slices use one
    traced start), stay finite, and agree with the reference where no discontinuous op is involved."""
    import os
    import subprocess
    import sys

    config = ("[types]\ndtypes = { float64 = 2.0, float32 = 1.0, int32 = 1.0 }\nx64 = true\n[weights.categories]\n"
              + "".join(f"{c} = {3.0 if c in FAMILIES else 0.5}\n" for c in FAMILIES + ("elementwise", "unary")))
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", X64_SCRIPT, config], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    *ops, compared = result.stdout.split()
    categories = {REGISTRY[op].category for op in ops if op in REGISTRY}
    assert set(FAMILIES) <= categories and int(compared) >= 10, (categories, compared)
