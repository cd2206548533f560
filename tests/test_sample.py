"""The sampler: coverage of categories and ops, size bounds, purity and determinism across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import libcst as cst
import msgspec
import pytest

from jaxsynth.grammar import CATEGORIES, REGISTRY, GrammarConfig, builtin_names, load_config
from jaxsynth.synth import node_count, render, sample
from jaxsynth.synth.render import LINE_LIMIT


@pytest.fixture(scope="module")
def default_programs():
    config = load_config("default")
    return config, [sample(config, 0, i) for i in range(500)]


def test_every_category_within_500_default_programs(default_programs):
    config, programs = default_programs
    seen = Counter(REGISTRY[n.op].category for p in programs for n in p.op_nodes())
    wanted = {c for c in CATEGORIES if config.weights.categories.get(c, 1.0) > 0}
    # complex and fft need a complex dtype, which default does not configure (numerics does)
    wanted -= {"complex", "fft"}
    assert len(wanted) >= 11 and wanted <= set(seen), f"missing categories: {wanted - set(seen)}"
    assert not {c for c in CATEGORIES if c not in wanted} & set(seen), "a category of weight 0 was sampled"


def test_sizes_respect_node_bounds(default_programs):
    config, programs = default_programs
    sizes = [node_count(p) for p in programs]
    inside = sum(config.program.min_nodes <= s <= config.program.max_nodes for s in sizes)
    assert inside / len(sizes) >= 0.97, Counter(sizes)
    assert all(len(p.inputs) <= config.program.max_inputs for p in programs)
    assert all(config.program.min_outputs <= len(p.body.outputs) <= config.program.max_outputs for p in programs)


def test_programs_are_dags_with_sharing(default_programs):
    _, programs = default_programs
    shared = 0
    for p in programs:
        uses = Counter(a for n in p.walk() for a in n.args)
        shared += any(count > 1 and p.node(i).is_op for i, count in uses.items())
    assert shared >= 50, "subterm sharing should be common under default.toml"


@pytest.mark.parametrize("op", sorted(REGISTRY))
def test_every_op_appears_when_its_weight_is_raised(op):
    base = msgspec.to_builtins(load_config("default"))
    base["weights"]["ops"] = {op: 200.0}
    category = REGISTRY[op].category
    base["weights"]["categories"][category] = base["weights"]["categories"].get(category, 1.0) or 1.0
    if category in ("complex", "fft"):  # they need a complex dtype; default has none
        base["types"]["dtypes"]["complex64"] = 1.0
    if category == "random":  # split and fold_in derive keys, which only the other random ops ask for
        base["weights"]["categories"][category] = 50.0
    config = msgspec.convert(base, GrammarConfig)
    for index in range(120):  # most within 10; the rarest wanted types (argwhere's) take dozens
        if any(n.op == op for n in sample(config, 1, index).walk()):
            return
    pytest.fail(f"{op} never sampled in 120 programs with weight 200")


def test_every_proposal_takes_operand_dtypes_its_op_admits():
    """The sampler checks an op's operands against ``OpSpec.dtypes`` after building them, so a proposal with any
    other operand dtype is work thrown away, and an op whose dtypes name its result's instead of its operands'
    is never placed on those operands at all: ``searchsorted``'s were ``{int32}``, and no float value reached
    it from session 36 to 39; ``expm`` proposed bool and int matrices. Proposals for every op over wanted types
    of each dtype and rank 0-3."""
    from jaxsynth.grammar.opspec import OpSpec
    from jaxsynth.grammar.types import DType, TensorType
    from jaxsynth.synth.sample import proposal_context

    config = load_config("default")
    wanted = (DType.float32, DType.bfloat16, DType.float16, DType.int32, DType.int8, DType.uint8, DType.bool)
    outside: dict[str, set[str]] = {}
    proposed = 0
    for spec in (s for s in REGISTRY.values() if isinstance(s, OpSpec)):
        for attempt in range(28):  # each dtype at each rank
            ctx = proposal_context(config, seed=attempt, index=2)
            t = TensorType(wanted[attempt % 7], tuple(ctx.pick_dim() for _ in range(attempt // 7 % 4)))
            proposal = spec.propose(t, ctx)
            proposed += proposal is not None
            for operand in proposal.operands if proposal is not None else ():
                if operand.type.dtype not in spec.dtypes:
                    outside.setdefault(spec.name, set()).add(operand.type.dtype.name)
    assert outside == {} and proposed > 500, (outside, proposed)


def test_sample_is_pure():
    config = load_config("default")
    first = [render(sample(config, 7, i)) for i in range(20)]
    sample(config, 8, 3)  # unrelated work in between must not matter
    assert first == [render(sample(config, 7, i)) for i in reversed(range(20))][::-1]
    assert len(set(first)) == len(first)


def test_seed_changes_programs():
    config = load_config("default")
    assert render(sample(config, 0, 5)) != render(sample(config, 1, 5))


SCRIPT = """
import sys
from jaxsynth.grammar import load_config
from jaxsynth.synth import render, sample
for name in sys.argv[2:]:
    config = load_config(name)
    sys.stdout.write("\\n#----\\n".join(render(sample(config, 3, i)) for i in range(int(sys.argv[1]))) + "\\n#====\\n")
"""


#: A checkout that is not the installed one (a worktree run with PYTHONPATH) must test itself.
_PYTHONPATH = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


@pytest.mark.parametrize("count", [6, pytest.param(12, marks=pytest.mark.slow)])
def test_same_source_in_a_fresh_process(tmp_path, count):
    """Every built-in config's first ``count`` programs, sampled in two fresh processes with different hash seeds
    (set and dict order of strings), are the same text as here, where other tests ran before."""
    names = builtin_names()
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT, str(count), *names], capture_output=True, check=True,
                       cwd=tmp_path, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", **_PYTHONPATH}).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    here = "".join("\n#----\n".join(render(sample(load_config(name), 3, i)) for i in range(count)) + "\n#====\n"
                   for name in names)
    assert runs[0].decode() == here


@pytest.mark.parametrize("name", builtin_names())
def test_rendered_source_parses_and_compiles(name):
    config = load_config(name)
    for i in range(40):
        source = render(sample(config, 0, i))
        assert cst.parse_module(source).code == source
        compile(source, "<jaxsynth>", "exec")
        assert all(len(line) <= LINE_LIMIT for line in source.splitlines()), (name, i)


def test_a_grammar_that_cannot_build_what_a_composite_asks_for_fails_in_bounded_work(monkeypatch):
    """Swarm program 25 of (models, 41) drops the categories its composites need: the sampler's retries
    used to make 800,000 ``gen`` calls (a minute). A draw stops searching at WORK_LIMIT and ends the tries."""
    import importlib

    from jaxsynth.fuzz.swarm import program_for

    module = importlib.import_module("jaxsynth.synth.sample")
    calls = Counter()
    gen = module._Builder.gen

    def counted(self, *args, **kwargs):
        calls["gen"] += 1
        return gen(self, *args, **kwargs)

    monkeypatch.setattr(module._Builder, "gen", counted)
    program, _ = program_for(load_config("models"), 41, 25, True)
    # two searches (the composite, then a plain op), each stopped at the limit; what they had already opened
    # finishes with leaves (about 6,000 calls past it each, with session 37's op table)
    assert calls["gen"] <= 2 * (module.WORK_LIMIT + 10_000), calls
    assert program.op_nodes() and "def " in render(program)
    assert render(program_for(load_config("models"), 41, 25, True)[0]) == render(program)  # still deterministic


def test_probe_tables_do_not_depend_on_what_was_probed_before():
    """Which ops can produce a type is probed once per op and dtype set (a swarm program's sub-grammar, other op
    weights over the same dtypes, used to probe the whole table again): a sub-grammar's tables after its config's
    are the ones derived with empty caches, in either order."""
    import importlib

    from jaxsynth.fuzz.swarm import swarm_config

    module = importlib.import_module("jaxsynth.synth.sample")
    config = load_config("default")
    subs = [swarm_config(config, 3, index)[0] for index in range(4)]
    module._probe_tables(config)
    warm = [module._probe_tables(sub) for sub in subs]
    for sub, tables in zip(reversed(subs), reversed(warm), strict=True):
        module._PRODUCERS.clear()
        assert module._probe_tables(sub) == tables
    whole = module._probe_tables(config)
    shared = [key for key in whole if key in warm[0]]  # (a sub-grammar may leave dtypes out)
    assert shared and any(warm[0][key] != whole[key] for key in shared)  # other weights


def test_threads_sampling_at_once_draw_what_one_thread_draws():
    """A campaign's tester threads draw their programs at once, and share the probes' results (each probe with a
    builder of its own, its draw set per op): swarm programs drawn by two threads from cold caches, with thread
    switches forced every microsecond, are the programs one thread draws."""
    import importlib
    import sys
    import threading

    from jaxsynth.fuzz.swarm import program_for

    module = importlib.import_module("jaxsynth.synth.sample")
    config = load_config("default")
    alone = [render(program_for(config, 11, index, True)[0]) for index in range(6)]
    for cache in (module._PRODUCERS, module._TABLES):
        cache.clear()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    drawn: dict[int, str] = {}
    try:
        threads = [threading.Thread(target=lambda part: drawn.update(
            {index: render(program_for(config, 11, index, True)[0]) for index in range(part, 6, 2)}), args=(part,))
            for part in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert [drawn[index] for index in range(6)] == alone


@pytest.mark.parametrize("name", ["models", "transforms", "control-flow"])
def test_full_configs_stay_far_below_the_work_limit(name):
    """The limit only cuts searches that were failing: the built-in configs' own draws never reach it,
    so their programs are what they were before it existed."""
    import importlib

    module = importlib.import_module("jaxsynth.synth.sample")
    config = load_config(name)
    for index in range(40):
        draw = module.Draw(0, index)
        _, exhausted = module._sample_once(config, draw)
        assert not exhausted, index
