"""The Python API, ``jaxsynth --version``, option descriptions, ``lower`` with pytree / static arguments and
records, config errors that name the key, and the README's API section and config reference."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import jax
import jax.numpy as jnp
import pytest
from clitools import cli, one_line_error
from records import CORPUS_N

import jaxsynth
from jaxsynth.cli import cli as cli_group
from jaxsynth.corpus import iter_records
from jaxsynth.grammar import ConfigError, load_config
from jaxsynth.grammar.config import GrammarConfig, parse_config

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


def sections(out: str) -> dict[str, str]:
    found: dict[str, str] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("== ") and line.endswith(" =="):
            current = line[3:-3]
            found[current] = ""
        else:
            assert current is not None
            found[current] += line + "\n"
    return found


# ---------------------------------------------------------------- version, help
def test_version(capsys):
    import jaxlib

    status, out, _ = cli(capsys, "--version")
    assert status == 0
    assert out == f"jaxsynth {jaxsynth.__version__}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, backend cpu\n"
    proc = subprocess.run([sys.executable, "-m", "jaxsynth", "--version"], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0 and proc.stdout == out


def test_every_option_of_every_command_has_a_description():
    assert len(cli_group.commands) >= 11
    for name, command in [("jaxsynth", cli_group), *sorted(cli_group.commands.items())]:
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help and len(param.help) > 10, (name, param.opts)


def test_readme_command_table_lists_every_command():
    table = README.read_text().split("## Commands", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `jaxsynth (\w+)", table, re.M))
    assert listed == set(cli_group.commands)


# ---------------------------------------------------------------- lower
MLP = """
import jax
import jax.numpy as jnp


def mlp(params, x, act):
    h = x @ params["w"] + params["b"]
    return jnp.sum(jax.nn.relu(h) if act == "relu" else jnp.tanh(h))


def sliced(x):
    return jnp.sum(x[1:3, ::2] ** 2)
"""


@pytest.fixture()
def mlp_file(tmp_path: Path) -> Path:
    path = tmp_path / "mlp.py"
    path.write_text(MLP)
    return path


def _mlp(params, x, act):
    h = x @ params["w"] + params["b"]
    return jnp.sum(jax.nn.relu(h) if act == "relu" else jnp.tanh(h))


def test_lower_pytree_and_static_arguments(mlp_file, capsys):
    params = '{"w": f32[8,4], "b": "float32[4]"}'  # bare and quoted types, both dtype spellings
    status, out, err = cli(capsys, "lower", f"{mlp_file}:mlp", "--arg", params, "--arg", "f32[2,8]",
                           "--arg", 'static:"tanh"', "--emit", "jaxpr")
    assert status == 0, err
    tree = {"w": jax.ShapeDtypeStruct((8, 4), jnp.float32), "b": jax.ShapeDtypeStruct((4,), jnp.float32)}
    x = jax.ShapeDtypeStruct((2, 8), jnp.float32)
    expected = str(jax.make_jaxpr(lambda p, x: _mlp(p, x, "tanh"))(tree, x))
    assert sections(out) == {"jaxpr": expected + "\n"}
    assert "tanh" in expected and "max" not in expected  # the static argument chose the branch
    status, relu, _ = cli(capsys, "lower", f"{mlp_file}:mlp", "--arg", params, "--arg", "f32[2,8]",
                          "--arg", "static:'relu'", "--emit", "jaxpr")
    assert status == 0 and relu != out


@pytest.mark.parametrize(
    "arg, needle",
    [
        ('{"w": "f3[8,4]"}', "unknown dtype 'f3'"),
        ('{"w": "f32[8,4]"', "not a type or a dict/list/tuple"),
        ('{"w": 3}', "static:3"),
        ("static:relu", "bad static argument"),
        ("float33[2]", "unknown dtype"),
    ],
)
def test_lower_bad_argument_specs(mlp_file, capsys, arg, needle):
    status, _, err = cli(capsys, "lower", f"{mlp_file}:mlp", "--arg", arg)
    one_line_error(status, err, "--arg", needle)


def test_lower_record_mixes_with_a_corpus(mlp_file, shared_corpus, tmp_path, capsys):
    out = tmp_path / "mine.jsonl"
    status, printed, err = cli(capsys, "lower", f"{mlp_file}:mlp", "--arg", '{"w": "f32[8,4]", "b": "f32[4]"}',
                               "--arg", "f32[2,8]", "--arg", "static:'relu'", "--emit", "jaxpr,stablehlo,grad_jaxpr",
                               "-o", out)
    assert status == 0, err
    (record,) = iter_records(out)
    assert record.config_name == "lower" and record.function_name == "mlp"
    assert record.signature == ["f32[4]", "f32[8,4]", "f32[2,8]"]  # pytree leaves in jax.tree_util order
    assert record.output_types == ["f32[]"] and record.python == MLP
    shown = {k: v.rstrip("\n") for k, v in sections(printed).items()}
    assert shown == {k: getattr(record, k).rstrip("\n") for k in ("jaxpr", "stablehlo", "grad_jaxpr")}
    assert "custom_jvp_call" in record.features.ops and "dot_general" in record.features.ops
    assert record.optimized_hlo is None and "transpose" in record.grad_jaxpr
    mixed = tmp_path / "mixed.jsonl"
    status, _, err = cli(capsys, "merge", shared_corpus, out, "-o", mixed)
    assert status == 0, err
    status, stats, err = cli(capsys, "stats", mixed)
    assert status == 0 and f"{CORPUS_N + 1} records" in stats and "lower " in stats


def test_grad_jaxpr_has_no_numpy_scalar_reprs(mlp_file, capsys):
    raw = str(jax.make_jaxpr(jax.grad(lambda x: jnp.sum(x[1:3, ::2] ** 2)))(jax.ShapeDtypeStruct((4, 6), jnp.float32)))
    assert "np.int64(" in raw  # JAX's own text has them, so the check below can fail
    for argv in (["--emit", "grad_jaxpr"], ["--grad", "--emit", "jaxpr"]):
        status, out, err = cli(capsys, "lower", f"{mlp_file}:sliced", "--arg", "f32[4,6]", *argv)
        assert status == 0, err
        (text,) = sections(out).values()
        assert "pad[" in text and "np." not in text
        assert re.search(r"padding_config=\(\(\d+, \d+, \d+\), \(\d+, \d+, \d+\)\)", text)


def test_lower_accepts_tensor_types_and_pytrees():
    config = load_config("elementwise")
    program = jaxsynth.sample(config, 0, 3)
    namespace: dict[str, object] = {}
    exec(jaxsynth.render(program), namespace)
    fn = namespace["f"]
    structs = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in program.input_types]
    assert jaxsynth.lower(fn, program.input_types) == jaxsynth.lower(fn, structs)
    with pytest.raises(TypeError, match=r"arg_types\[0\] must be a jax.ShapeDtypeStruct or a TensorType"):
        jaxsynth.lower(fn, ["f32[4]"])
    texts = jaxsynth.lower(lambda p: p["a"] * p["b"][0], [{"a": structs[0], "b": (structs[0],)}], emit="jaxpr")
    assert texts.jaxpr.startswith("{ lambda ; ")


# ---------------------------------------------------------------- config errors and spellings
def test_config_errors_name_the_dict_key():
    with pytest.raises(ConfigError) as info:
        parse_config("[weights.categories]\nunary = 1.0\nelementwise = -1.0\n")
    assert str(info.value).startswith("config key `weights.categories.elementwise` = -1.0: Expected `float` >= 0.0")
    with pytest.raises(ConfigError, match=r"`types.dtypes.int8` = 'x': Expected `float`, got `str`"):
        parse_config('[types]\ndtypes = {float32 = 1.0, int8 = "x"}\n')


def test_config_dtypes_in_both_spellings():
    short = parse_config("[types.dtypes]\nf32 = 2.0\ni32 = 1.0\n")
    long = parse_config("[types.dtypes]\nfloat32 = 2.0\nint32 = 1.0\n")
    assert short.digest == long.digest and short.types.dtypes == {"float32": 2.0, "int32": 1.0}
    with pytest.raises(ConfigError, match="same dtype"):
        parse_config("[types.dtypes]\nf32 = 2.0\nfloat32 = 1.0\n")


# ---------------------------------------------------------------- the Python API
def test_import_jaxsynth_is_light_and_exports_the_api():
    code = "import sys, jaxsynth; print(sorted(m for m in ('jax', 'libcst', 'msgspec') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr
    for name in ("sample", "render", "lower", "make_record", "iter_records", "load_config", "coverage"):
        assert name in jaxsynth.__all__ and callable(getattr(jaxsynth, name)) and getattr(jaxsynth, name).__doc__


def test_readme_api_section_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    (record,) = iter_records(tmp_path / "corpus.jsonl")
    assert "{ lambda ;" in out and record.id in out and "coverage of 1 target" in out
    listed = set(re.findall(r"^\| `(\w+)\(", text, re.M))
    assert listed == set(jaxsynth.__all__) - {"__version__"}


def _fields(struct: type, prefix: str = "") -> list[str]:
    names = []
    for name in struct.__struct_fields__:
        default = getattr(struct(), name)
        if hasattr(default, "__struct_fields__"):
            names += _fields(type(default), f"{prefix}{name}.")
        else:
            names.append(prefix + name)
    return names


def test_readme_config_reference_lists_every_key():
    text = README.read_text().split("### Config reference", 1)[1].split("\n## ", 1)[0]
    keys = re.findall(r"^\| `([\w.]+)` \|", text, re.M)
    assert keys == _fields(GrammarConfig)
    assert "transforms.grad" in keys  # the [transforms] table is documented


def test_readme_reference_manifest_entries_lower(capsys, tmp_path):
    """A few entries of tests/realcode/jax_reference.py lower through --against-list, and what a tiny corpus
    lacks of them is reported (the slow test lowers all of them)."""
    manifest = tmp_path / "few.py"
    manifest.write_text(
        f"import sys\nsys.path.insert(0, {str(REPO / 'tests' / 'realcode')!r})\nimport jax_reference as r\n"
        "TARGETS = [t for t in r.TARGETS if t[0] in ('jax.nn.gelu(approximate=True)', 'jax.random.normal', "
        "'x.at[idx].add', 'dense layer (params dict)', 'optimizer state tuple')]\n"
    )
    mine = tmp_path / "mine.jsonl"
    status, _, err = cli(capsys, "lower", REPO / "examples" / "add.py:add", "--arg", "f32[4]", "--arg", "f32[4]",
                         "-o", mine)
    assert status == 0, err
    status, out, err = cli(capsys, "coverage", mine, "--against-list", manifest, "--json", tmp_path / "c.json")
    assert status == 0, err
    assert "skipped" not in err
    report = json.loads((tmp_path / "c.json").read_text())
    assert len(report["targets"]) == 5
    missing = report["families"]["jaxpr"]["missing"]
    assert {"random_bits", "scatter-add", "erf_inv", "dot_general"} <= set(missing) and "add" not in missing


@pytest.mark.slow
def test_every_reference_target_lowers(shared_corpus, capsys):
    status, out, err = cli(capsys, "coverage", shared_corpus, "--against-list",
                           REPO / "tests" / "realcode" / "jax_reference.py")
    assert status == 0, err
    assert "skipped" not in err
    assert "coverage of 86 targets" in out
