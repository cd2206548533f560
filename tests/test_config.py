"""Grammar configs: built-ins load, bad input names the key and what is allowed, digests are stable."""

from __future__ import annotations

import pytest

from jaxsynth.grammar import ConfigError, builtin_names, load_config, parse_config
from jaxsynth.grammar.config import builtin_dir

BUILTINS = ["control-flow", "default", "elementwise", "fuzz-special", "low-precision-ints", "models", "nn-special",
            "numerics", "reductions-linalg", "structured", "transforms"]


def test_builtins_ship_and_load():
    assert builtin_names() == BUILTINS
    digests = {load_config(name).digest for name in BUILTINS}
    assert len(digests) == len(BUILTINS)


def test_default_enables_every_category():
    from jaxsynth.grammar import CATEGORIES

    config = load_config("default")
    complex_only = {"complex", "fft"}  # they need a complex dtype, which default does not sample; numerics does
    assert all(config.weights.categories.get(c, 1.0) > 0 for c in CATEGORIES if c not in complex_only)
    numerics = load_config("numerics")
    assert all(numerics.weights.categories[c] > 0 for c in complex_only)
    assert numerics.types.dtypes.get("complex64", 0) > 0


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("colour = 1", ["`colour`", "unknown key", "program", "types", "weights"]),
        ("[program]\nmax_nodez = 3", ["`program.max_nodez`", "unknown key", "max_nodes"]),
        ("[program]\nmax_nodes = 'many'", ["`program.max_nodes`", "int"]),
        ("[program]\nmax_nodes = 0", ["`program.max_nodes`", ">= 1"]),
        ("[program]\nshare_prob = 1.5", ["`program.share_prob`", "<= 1.0"]),
        ("[program]\nmin_nodes = 9\nmax_nodes = 3", ["`program.min_nodes`", "<=", "`program.max_nodes`"]),
        ("[types]\ndtypes = { float8 = 1.0 }", ["`types.dtypes.float8`", "allowed", "float32", "bfloat16"]),
        ("[types]\ndtypes = { float64 = 1.0 }", ["`types.dtypes.float64`", "x64"]),
        ("[types]\nmax_rank = 4", ["`types.max_rank`", "<= 3"]),
        ("[types]\ndtypes = { float32 = -1.0 }", ["`types.dtypes", ">= 0.0"]),
        ("[weights.ops]\nsine = 2.0", ["`weights.ops.sine`", "allowed", "sin"]),
        ("[weights.categories]\nmagic = 2.0", ["`weights.categories.magic`", "allowed", "elementwise"]),
        ("[program\nmax_nodes = 3", ["not valid TOML"]),
        ("function_name = 'not a name'", ["`function_name`", "identifier"]),
        ("[types]\nspecial_values = true\ndtypes = { float32 = 1.0, complex64 = 1.0 }",
         ["`types.dtypes.complex64`", "special-values mode", "real dtypes only"]),
    ],
)
def test_bad_config_names_key_and_allowed_values(text, fragments):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    message = str(info.value)
    assert "\n" not in message and "at ``" not in message and "$" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_all_weights_zero_is_an_error():
    from jaxsynth.grammar import CATEGORIES

    body = "\n".join(f"{c} = 0.0" for c in CATEGORIES)
    with pytest.raises(ConfigError, match="weight 0"):
        parse_config(f"[weights.categories]\n{body}")


def test_unknown_builtin_and_missing_file():
    with pytest.raises(ConfigError, match="unknown config 'nope'.*default"):
        load_config("nope")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config("/nonexistent/dir/my.toml")


def test_digest_ignores_key_order_comments_and_name(tmp_path):
    a = parse_config("[program]\nmax_nodes = 12\nmin_nodes = 2\n", name="a")
    b = parse_config("# same settings\n[program]\nmin_nodes = 2\nmax_nodes = 12\n", name="b")
    assert a.digest == b.digest
    assert a.digest != parse_config("[program]\nmax_nodes = 13\nmin_nodes = 2\n").digest
    path = tmp_path / "mine.toml"
    path.write_text("[program]\nmin_nodes = 2\nmax_nodes = 12\n")
    assert load_config(path).digest == a.digest
    assert load_config(path).name == "mine"


def test_defaults_fill_missing_sections():
    config = parse_config("")
    assert config.program.max_nodes >= config.program.min_nodes
    assert config.types.dtypes["float32"] > 0


def test_a_folder_named_like_a_builtin_config_does_not_shadow_it(tmp_path, monkeypatch):
    """`jaxsynth fuzz --config numerics -o numerics` run twice from one folder: the output folder is not a
    config file, so the name still means the built-in config."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "numerics").mkdir()
    assert load_config("numerics").digest == load_config(builtin_dir() / "numerics.toml").digest
