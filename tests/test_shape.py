"""Program shape (issue 11) and weight-0 semantics (issue 10): the ``models`` config and its composites,
realistic sizes, idiomatic names and spellings, no dead code unless a config asks, and configs that
cannot yield programs rejected before work starts."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jax
import msgspec
import numpy as np
import pytest

from jaxsynth.cli import run
from jaxsynth.corpus.generate import build_function, make_record
from jaxsynth.corpus.record import encode_record, iter_records
from jaxsynth.dataset.deadcode import DEAD_CONSTRUCTS, dead_constructs
from jaxsynth.dataset.stats import StatsAccumulator, jaxpr_equations
from jaxsynth.fuzz.oracles import Case
from jaxsynth.grammar import CATEGORIES, ConfigError, GrammarConfig, builtin_names, load_config, parse_config
from jaxsynth.grammar.config import DIM_CLASSES
from jaxsynth.lowering.argtypes import parse_type
from jaxsynth.synth import evaluate, random_inputs, render, sample
from jaxsynth.synth.composite import COMPOSITES
from jaxsynth.synth.sample import check_config

REPO = Path(__file__).resolve().parent.parent
FAST = {"xla_backend_optimization_level": 0}


def _ops(program) -> Counter[str]:
    return Counter(n.op for n in program.op_nodes())


@pytest.fixture(scope="module")
def models():
    config = load_config("models")
    return config, [sample(config, 0, i) for i in range(40)]


# ---------------------------------------------------------------- a weight of 0 means never


def _with(base: str, extra: str) -> GrammarConfig:
    return parse_config((REPO / "corpora" / f"{base}.toml").read_text() + extra)


def test_weight_zero_ops_are_never_emitted_not_even_by_adapters():
    excluded = {"reshape", "broadcast_to", "clip", "sum", "mean", "max", "min", "prod", "any", "all", "argmax",
                "argmin", "cumsum", "cumprod", "abs", "astype"}
    plain = load_config("control-flow")
    seen = Counter(op for i in range(80) for op in _ops(sample(plain, 0, i)))
    assert seen.keys() & excluded >= {"clip", "broadcast_to", "reshape"}, "the unrestricted config must show them"
    config = parse_config(
        (REPO / "corpora" / "control-flow.toml").read_text().replace("shape = 0.5", "shape = 0.0")
        .replace("reductions = 1.0", "reductions = 0.0").replace("cast = 0.3", "cast = 0.0")
        + "\n[weights.ops]\nclip = 0.0\nabs = 0.0\n"
    )
    programs = [sample(config, 0, i) for i in range(80)]
    found = Counter(op for p in programs for op in _ops(p))
    assert not (found.keys() & excluded), found.keys() & excluded
    assert sum(found.values()) > 80 and ({"scan", "fori_loop", "while_loop"} & found.keys()), found


def test_infeasible_config_exits_2_with_one_line_before_work(tmp_path, capsys):
    text = "[types]\ndtypes = { bool = 1.0 }\n[weights.categories]\n" + "".join(
        f"{c} = {1 if c == 'unary' else 0}\n" for c in CATEGORIES)  # unary ops are float-only
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="no op with weight > 0 applies to dtypes bool"):
        check_config(parse_config(text))
    out = tmp_path / "c.jsonl"
    status = run(["generate", "--config", str(path), "-n", "3", "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not out.exists()


def test_min_nodes_out_of_reach_is_a_config_error():
    config = parse_config("[program]\nmin_nodes = 40\nmax_nodes = 60\nmax_depth = 1\n")
    with pytest.raises(ConfigError, match="program.min_nodes"):
        check_config(config)
    check_config(load_config("default"))  # and a usable config passes


# ---------------------------------------------------------------- dead code


@pytest.mark.parametrize("name", [n if n != "models" else pytest.param(n, marks=pytest.mark.slow)
                                  for n in builtin_names()])
def test_no_dead_construct_in_builtin_configs(name):
    """Under 1% of programs hold each dead construct (over 120, where one is 0.8%: one in 40 would be 2.5%, and the
    control-flow body whose scanned slice goes unread comes about once in 400)."""
    config = load_config(name)
    count = 100 if name == "models" else 120
    found = Counter()
    for i in range(count):
        found.update(dead_constructs(render(sample(config, 3, i))).keys())
    rates = {k: found[k] / count for k in DEAD_CONSTRUCTS}
    assert all(r < 0.01 for r in rates.values()), rates


@pytest.mark.slow
def test_dead_code_switches_bring_constructs_back():
    config = _with("control-flow", "\n[dead_code]\nzero_trip_loops = true\nsingle_use_temporaries = true\n"
                                   "unused_params = true\nidentical_select = true\n")
    found = Counter()
    for i in range(150):
        found.update(dead_constructs(render(sample(config, 0, i))).keys())
    assert found["zero_trip_loops"] > 0 and found["single_use_temporaries"] > 0 and found["unused_params"] > 0, found


def test_dead_code_detector_finds_each_construct_and_nothing_in_clean_code():
    dead = '''
def f(x0, x1):
    def loop_body0(i0, c0):
        return c0 * 2.0
    def while_body0(state0):
        k0, c1, c2 = state0
        return k0 + 1, c1, c1
    def while_cond0(state1):
        return state1[0] < 0
    v0 = lax.fori_loop(0, 0, loop_body0, x0)
    v1 = jnp.mean(x1)
    v2 = jnp.where(x0 > 0, x1 + 1, x1 + 1) + jnp.broadcast_to(v1, (3,)) + jnp.broadcast_to(x1.max(), (3,))
    v3 = v2 * v0
    return v3
'''
    assert dead_constructs(dead) == Counter(zero_trip_loops=2, unused_params=2, identical_select=1,
                                            reduce_broadcast=2, single_use_temporaries=1)
    clean = '''
def f(x0, x1):
    def loop_body0(_, c0):
        return c0 * x1
    v0 = lax.fori_loop(0, 3, loop_body0, x0)
    v1 = jnp.broadcast_to(jnp.mean(x1, axis=0), (3, 4))
    v2 = v0 + 1
    return jnp.where(x0 > 0, v0, v1), v2
'''
    assert dead_constructs(clean) == Counter()


@pytest.mark.slow
def test_stats_report_dead_code_rates_and_jaxpr_equations():
    config = _with("control-flow", "\n[dead_code]\nzero_trip_loops = true\nsingle_use_temporaries = true\n")
    acc = StatsAccumulator()
    for i in range(12):
        acc.add(make_record(config, 0, i, ("jaxpr",)))
    stats = acc.finish()
    rates = stats.to_json()["dead_code_rates"]
    assert set(rates) == set(DEAD_CONSTRUCTS) and rates["single_use_temporaries"] > 0, rates
    eqs = stats.distributions["jaxpr_equations"].values
    assert len(eqs) == 12 and all(e > 0 for e in eqs)
    assert jaxpr_equations("{ lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = cos b in (c,) }") == 1
    assert jaxpr_equations("{ lambda ; a:f32[]. let\n    b:f32[] = sin a\n    c:f32[] = cos b\n  in (c,) }") == 2


# ---------------------------------------------------------------- models: composites, sizes, names, spellings


@pytest.mark.slow
def test_models_programs_use_every_composite_and_read_like_model_code(models):
    config, programs = models
    sources = [render(p) for p in programs]
    functions = Counter(p.name for p in programs)
    composite_functions = {c.function for c in COMPOSITES.values()}
    assert len(composite_functions & functions.keys()) >= 10, functions
    joined = "\n".join(sources)
    for fragment in ('params["dense_', '"kernel"]', "lax.scan(", "jnp.clip(", "rsqrt(", "params[\"attention_", "loss",
                     "new_params", "new_velocity", "jax.random.bernoulli(", "jax.nn.one_hot("):
        assert fragment in joined, fragment
    assert not any(p.name == "f" for p in programs)


@pytest.mark.slow
def test_models_reach_realistic_jaxpr_sizes(models):
    config, programs = models
    sizes = []
    for program in programs[:40]:
        fn = build_function(render(program), program.name)
        args = [parse_type(str(t)) for t in program.input_types]  # key inputs are key-typed
        sizes.append(jaxpr_equations(str(jax.make_jaxpr(fn)(*program.pack_inputs(args)))))
    assert statistics.median(sizes) >= 30, sorted(sizes)
    assert max(sizes) > 100, sorted(sizes)


@pytest.mark.slow
def test_shape_classes_give_medium_and_large_dims(models):
    _, programs = models
    dims = Counter(d for p in programs for t in p.input_types for d in t.shape)
    lo, hi = DIM_CLASSES["medium"]
    assert sum(v for d, v in dims.items() if lo <= d <= hi) > sum(v for d, v in dims.items() if d <= 8)
    assert any(d >= DIM_CLASSES["large"][0] for d in dims), sorted(dims)
    config = load_config("models")
    assert all(t.size <= config.types.max_elements for p in programs for t in p.input_types)


@pytest.mark.slow
def test_models_programs_are_finite_and_agree_with_the_reference(models):
    config, programs = models
    checked = 0
    for program in programs[:12]:
        if max(t.size for t in program.input_types) > 200_000:
            continue
        fn = build_function(render(program), program.name)
        inputs = random_inputs(program, np.random.default_rng(0))
        compiled = jax.jit(program.flat_function(fn)).lower(*inputs).compile(FAST)
        outputs = compiled(*inputs)
        outputs = outputs if isinstance(outputs, tuple | list) else (outputs,)
        reference = evaluate(program, inputs)
        # where the program amplifies rounding (cbrt of a sum that cancels to about 0: program 10), the fuzzer's
        # own bound from perturbed reference runs, which a wrong value still exceeds
        case = Case(program, [np.asarray(x) for x in inputs])
        spread = case.tolerances(case.analysis)
        for out, ref, t, r, bound in zip(outputs, reference, program.output_types,
                                         [program.node(o).interval for o in program.body.outputs], spread,
                                         strict=True):
            out = np.asarray(out, dtype=np.float64)
            assert np.all(np.isfinite(out)) and out.shape == t.shape
            assert np.all((out >= r.lo - 1e-3 * (1 + abs(r.lo))) & (out <= r.hi + 1e-3 * (1 + abs(r.hi))))
            tol = 5e-2 if t.dtype.name == "bfloat16" else 2e-3
            ref = np.asarray(ref, dtype=np.float64)
            allowed = np.maximum(tol * (1 + np.abs(ref)), bound)
            assert np.all(np.abs(out - ref) <= allowed), (program.name, float(np.max(np.abs(out - ref) - allowed)))
        checked += 1
    assert checked >= 6


def test_generic_names_stay_available():
    config = load_config("models")
    generic = msgspec.structs.replace(config, style=msgspec.structs.replace(config.style, names="generic"))
    program = sample(generic, 0, 1)
    source = render(program)
    # (a long signature is wrapped, one argument per line)
    assert program.name == "f" and not program.names and re.search(r"def f\(\s*x0,", source) and "params[" not in source
    idiomatic = render(sample(config, 0, 1))
    assert idiomatic != source and 'params["' in idiomatic


@pytest.mark.slow
def test_spellings_vary_by_seed(models):
    _, programs = models
    joined = "\n".join(render(p) for p in programs)
    for spelling in (" @ params[", "jnp.matmul(", "jnp.dot(", "k,kn->", "jax.nn.relu(", "jnp.maximum("):
        assert spelling in joined, spelling


def test_spellings_can_be_pinned():
    pinned = _with("models", '\n[style.spellings]\nmatmul = "jnp.dot"\nrelu = "jnp.maximum"\n')
    joined = "\n".join(render(sample(pinned, 0, i)) for i in range(6))
    assert "jnp.dot(" in joined and "k,kn->" not in joined and "jnp.maximum(" in joined
    with pytest.raises(ConfigError, match="style.spellings.matmul"):
        _with("models", '\n[style.spellings]\nmatmul = "tensordot"\n')
    with pytest.raises(ConfigError, match="composites.conv9"):
        check_config(parse_config((REPO / "corpora" / "models.toml").read_text().replace(
            "[composites]\n", "[composites]\nconv9 = 1.0\n")))


# ---------------------------------------------------------------- embedding lookups and conv + pool blocks


def _only(name: str) -> GrammarConfig:
    """``models`` with composite ``name`` the only one weighted."""
    text = (REPO / "corpora" / "models.toml").read_text()
    head, rest = text.split("[composites]\n", 1)
    block, tail = rest.split("\n\n", 1)
    weights = "".join(f"{line.split(' = ')[0]} = {1.0 if line.split(' = ')[0] == name else 0.0}\n"
                      for line in block.splitlines())
    return parse_config(f"{head}[composites]\n{weights}\n{tail}")


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_a_config_of_one_composite_draws_without_reaching_the_work_limit(name):
    """``models`` with one composite weighted: no draw of 30 reaches the sampler's ``WORK_LIMIT``. Each
    composite checks what it can know before building its input (the kernel's and the attention scores' sizes,
    the input's range the scores need), bounds what interval arithmetic cannot see (``var + eps >= eps`` in
    bfloat16), draws a function result it can hold (a decoder's image size), and stacks at most
    ``MAX_COMPOSITE_NESTING`` deep; before, 10 of 510 such draws ran into the limit (1-3 s each) and some kept 1-3
    ops, and attention blocks nested 15 deep, each rejection retrying the stack below it."""
    from jaxsynth.synth.sample import Draw, _sample_once

    config = _only(name)
    exhausted = [i for i in range(30) if _sample_once(config, Draw(0, i))[1]]
    assert not exhausted, f"draws {exhausted} reached the work limit"


@pytest.mark.parametrize("name", ["layer_norm", "rms_norm", "adam"])
def test_low_precision_norms_and_adam_keep_their_epsilon_bound(name):
    """In bfloat16 and float16, ``x + eps`` of a variance, a mean square or ``sqrt(nu_hat)`` is bounded below by
    eps (rounding is monotone), which lets these composites build there: the reference's values lie inside every
    node's interval, and jit's are finite. (Not compared within a fixed tolerance: a stack of bfloat16 norms of
    near-constant rows amplifies rounding past any; the fuzzer's error model judges those.)"""
    config = _only(name)
    function = COMPOSITES[name].function
    for index in range(60):
        program = sample(config, 0, index)
        if program.name == function and program.output_types[0].dtype.name in ("bfloat16", "float16"):
            break
    else:
        raise AssertionError(f"no low-precision {function} program in 60")
    assert any(n.op == "offset" and n.interval.lo > 0 for n in program.walk())
    _check_values(program, random_inputs(program, np.random.default_rng(index)), compare=False)


def _check_values(program, inputs, compare: bool = True) -> None:
    """jit's results are finite (and, with ``compare``, agree with the numpy reference within a fixed tolerance),
    and every node's reference value lies in the node's interval."""

    def visit(node, args, value):
        if node.op != "input" and len(node.types) == 1 and node.type.dtype.is_float:
            v, r = np.asarray(value, dtype=np.float64), node.interval
            slack = 1e-3 * (1 + max(abs(r.lo), abs(r.hi)))
            assert np.all((v >= r.lo - slack) & (v <= r.hi + slack)), (node.op, r, v.min(), v.max())
        return value

    fn = build_function(render(program), program.name)
    compiled = jax.jit(program.flat_function(fn)).lower(*inputs).compile(FAST)
    outputs = compiled(*inputs)
    outputs = outputs if isinstance(outputs, tuple | list) else (outputs,)
    for out, ref, t in zip(outputs, evaluate(program, inputs, visit=visit), program.output_types, strict=True):
        out = np.asarray(out, dtype=np.float64)
        assert np.all(np.isfinite(out)) and out.shape == t.shape
        tol = 5e-2 if t.dtype.name == "bfloat16" else 2e-3
        if compare:
            np.testing.assert_allclose(out, np.asarray(ref, dtype=np.float64), rtol=tol, atol=tol)


def _flat(source: str) -> str:
    """``source`` with each statement the renderer wrapped at its brackets (black's way) back on one line."""
    joined = " ".join(source.split())
    return re.sub(r",? ([)\]}])", r"\1", re.sub(r"([(\[{]) ", r"\1", joined))


@pytest.mark.parametrize(("name", "idioms", "primitives"), [
    ("embedding", (('"]["embedding"][tokens', 'jnp.take(params["embed_'),), ("gather[",)),
    ("conv_block", (("lax.conv_general_dilated(images, params[\"conv_",), ("lax.max,", "lax.add,")),
     ("conv_general_dilated[", "reduce_window_max[ reduce_window_sum[")),
    ("decoder", (('lax.conv_transpose(x, params["deconv_0"]["kernel"], (2, 2), \'SAME\')',), (".reshape(",)),
     ("conv_general_dilated[", "lhs_dilation=(2,")),
])
def test_new_composites_read_like_flax_and_reexecute_to_their_jaxpr(name, idioms, primitives):
    """Forced on, ``embedding``, ``conv_block`` and ``decoder`` give programs named after them that spell the idiom
    (``table[tokens]`` / ``jnp.take``; ``lax.conv_general_dilated`` + ``lax.reduce_window``; a dense layer reshaped
    to an image, then ``lax.conv_transpose``), lower to a JAXPR ``gather`` / ``conv_general_dilated`` +
    ``reduce_window_*`` / ``conv_general_dilated`` with the input dilated, rebuild byte-identically, re-execute to
    their recorded JAXPR, and agree with the numpy reference inside every node's interval."""
    config = _only(name)
    function = COMPOSITES[name].function
    emit = ("jaxpr",)
    checked = 0
    for index in range(40):
        program = sample(config, 0, index)
        if program.name != function:
            continue
        assert render(sample(config, 0, index)) == render(program)
        record = make_record(config, 0, index, emit)
        assert encode_record(make_record(config, 0, index, emit)) == encode_record(record)
        for options in idioms:
            assert any(o in _flat(record.python) for o in options), (options, record.python)
        for options in primitives:
            assert any(o in record.jaxpr for o in options.split()), (options, record.jaxpr)
        namespace: dict = {}
        exec(compile(record.python, "<record>", "exec"), namespace)
        args = program.pack_inputs([parse_type(str(t)) for t in program.input_types])
        assert str(jax.make_jaxpr(namespace[record.function_name])(*args)) == record.jaxpr
        assert all(t.size <= config.types.max_elements for t in program.input_types)
        _check_values(program, random_inputs(program, np.random.default_rng(index)))
        checked += 1
        if checked == 3:
            break
    assert checked == 3, f"fewer than 3 programs named {function} in 40"


def test_conv_block_and_embedding_vary_their_layers():
    """Across seeds: both paddings, both strides, max and average pools, one and two layers; both embedding
    spellings and the tied output projection."""
    conv = "\n".join(_flat(render(p)) for i in range(30)
                     if (p := sample(_only("conv_block"), 1, i)).name == "conv_block")
    for fragment in ("'SAME'", "'VALID', dimension_numbers", "(1, 1), 'S", "(2, 2), '", "lax.max,", "lax.add,",
                     'params["conv_1"]', ".reshape("):
        assert fragment in conv, fragment
    embed = "\n".join(render(sample(_only("embedding"), 1, i)) for i in range(30))
    for fragment in ("jnp.take(params[", '"]["embedding"][tokens', '"]["embedding"].T'):
        assert fragment in embed, fragment


# ---------------------------------------------------------------- determinism, resume and replay for models

SCRIPT = """
import sys
from jaxsynth.grammar import load_config
from jaxsynth.synth import render, sample
config = load_config("models")
sys.stdout.write("\\n#----\\n".join(render(sample(config, 5, i)) for i in range(8)))
"""


@pytest.mark.slow
def test_models_programs_are_the_same_in_a_fresh_process(tmp_path):
    import os

    env = {"PYTHONHASHSEED": "7", "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, check=True, cwd=tmp_path, env=env)
    config = load_config("models")
    assert out.stdout.decode() == "\n#----\n".join(render(sample(config, 5, i)) for i in range(8))


@pytest.mark.slow
def test_models_resume_and_replay(tmp_path, capsys):
    args = ["generate", "--config", "models", "-n", "4", "--seed", "2", "--emit", "jaxpr", "--workers", "1",
            "--no-progress"]
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    assert run([*args, "-o", str(full)]) == 0
    lines = full.read_bytes().splitlines(keepends=True)
    assert len(lines) == 4
    part.write_bytes(b"".join(lines[:2]) + lines[2][:40])  # interrupted mid-record
    assert run([*args, "-o", str(part), "--resume"]) == 0
    assert part.read_bytes() == full.read_bytes()
    capsys.readouterr()
    assert run(["replay", str(full), "--index", "3"]) == 0
    assert capsys.readouterr().out == "record 3: identical\n"
    records = list(iter_records(full))
    assert all(json.loads(r.signature_tree)[0] for r in records if r.signature_tree)
