"""Tests for the jaxsynth CLI: generate, lower, replay, stats, configs, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import pytest
from records import CORPUS_N

from jaxsynth.cli import run
from jaxsynth.corpus import encode_record, iter_records, write
from jaxsynth.grammar import builtin_names, load_config
from jaxsynth.lowering import parse_type

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; returns (status, stdout, stderr)."""
    status = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def cli_process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a real process (``python -m jaxsynth``)."""
    return subprocess.run(
        [sys.executable, "-m", "jaxsynth", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=120,
    )


def assert_one_line_error(status: int, err: str, *needles: str) -> None:
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ---------------------------------------------------------------- generate
def test_one_and_two_workers_are_byte_identical(tmp_path, capsys):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    common = ("-n", "6", "--seed", "5", "--emit", "jaxpr,stablehlo")
    status, _, err = cli(capsys, "generate", *common, "--workers", "1", "-o", one)
    assert status == 0 and err.startswith("wrote 6 records") and "records/s" in err and str(one) in err
    proc = cli_process("generate", *common, "--workers", "2", "-o", two)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("wrote 6 records")
    assert one.read_bytes() == two.read_bytes()
    assert [r.index for r in iter_records(one)] == list(range(6))
    pinned = tmp_path / "pinned.jsonl"  # pinning workers to CPUs changes no byte
    proc = cli_process("generate", *common, "--workers", "2", "--pin", "-o", pinned)
    assert proc.returncode == 0, proc.stderr
    assert pinned.read_bytes() == one.read_bytes()


def test_generate_msgpack_default_path(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = cli(
        capsys, "generate", "-n", "2", "--workers", "1", "--emit", "jaxpr", "--format", "msgpack"
    )
    assert status == 0, err
    records = list(iter_records(tmp_path / "corpus.msgpack"))
    assert [r.index for r in records] == [0, 1] and records[0].stablehlo is None
    assert (tmp_path / "corpus.msgpack").read_bytes() == b"".join(
        encode_record(r, "msgpack") for r in records
    )


def test_generate_format_from_suffix(tmp_path, capsys):
    status, _, err = cli(
        capsys,
        "generate",
        "-n",
        "1",
        "--workers",
        "1",
        "--emit",
        "jaxpr",
        "--config",
        "elementwise",
        "-o",
        tmp_path / "x.msgpack",
    )
    assert status == 0, err
    (record,) = iter_records(tmp_path / "x.msgpack")
    assert record.config_name == "elementwise"


# ---------------------------------------------------------------- replay
def test_replay_confirms_a_record(shared_corpus, capsys):
    status, out, err = cli(capsys, "replay", shared_corpus, "--index", "17")
    assert (status, out, err) == (0, "record 17: identical\n", "")
    status, out, _ = cli(
        capsys, "replay", shared_corpus, "--index", "3", "--config", REPO / "corpora" / "default.toml"
    )
    assert (status, out) == (0, "record 3: identical\n")


def _tamper(corpus: Path, dest: Path, index: int, **changes: object) -> Path:
    lines = corpus.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[index])
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            record[outer][inner] = value
        else:
            record[key] = value
    lines[index] = json.dumps(record).encode() + b"\n"
    dest.write_bytes(b"".join(lines))
    return dest


def test_replay_detects_a_tampered_record(shared_corpus, tmp_path, capsys):
    stored = list(iter_records(shared_corpus))[9]
    path = _tamper(
        shared_corpus,
        tmp_path / "t.jsonl",
        9,
        optimized_hlo=stored.optimized_hlo + "\n// tampered",  # (any change; not every text has an add)
        **{"features.depth": stored.features.depth + 1},
    )
    status, out, _ = cli(capsys, "replay", path, "--index", "9")
    assert status == 1
    assert out.startswith("record 9: differs in ") and "optimized_hlo" in out and "features.depth" in out
    status, out, _ = cli(capsys, "replay", path, "--index", "8")
    assert (status, out) == (0, "record 8: identical\n")


def test_replay_reformatted_record_is_not_identical(shared_corpus, tmp_path, capsys):
    path = _tamper(shared_corpus, tmp_path / "t.jsonl", 4)  # same fields, json.dumps spacing
    status, out, _ = cli(capsys, "replay", path, "--index", "4")
    assert status == 1 and "fields are equal" in out


def test_replay_unknown_digest_and_missing_index(shared_corpus, tmp_path, capsys):
    path = _tamper(shared_corpus, tmp_path / "t.jsonl", 2, config_digest="0" * 16)
    assert_one_line_error(
        *cli(capsys, "replay", path, "--index", "2")[::2], "no built-in config has digest", "--config"
    )
    assert_one_line_error(
        *cli(capsys, "replay", shared_corpus, "--index", "1000")[::2], "no record with index 1000"
    )


# ---------------------------------------------------------------- stats and configs
def test_stats(shared_corpus, capsys):
    status, out, _ = cli(capsys, "stats", shared_corpus, "--top", "5")
    assert status == 0
    assert out.startswith(f"{shared_corpus}: {CORPUS_N} records\n")
    for needle in (
        "unique graph_hash: ",
        "nodes:",
        "depth:",
        "lines:",
        "median",
        "categories (",
        "ops (top 5 of",
        f"IR texts: jaxpr {CORPUS_N}, stablehlo {CORPUS_N}, optimized_hlo {CORPUS_N}, hlo 0",
    ):
        assert needle in out


def test_stats_empty(tmp_path, capsys):
    (tmp_path / "e.jsonl").write_bytes(b"")
    assert cli(capsys, "stats", tmp_path / "e.jsonl")[:2] == (0, f"{tmp_path / 'e.jsonl'}: 0 records\n")


def test_configs(capsys):
    status, out, _ = cli(capsys, "configs")
    assert status == 0
    rows = [line.split() for line in out.splitlines()]
    assert [r[0] for r in rows] == builtin_names()
    assert ["default", load_config("default").digest] in rows


# ---------------------------------------------------------------- lower
def _sections(out: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("== ") and line.endswith(" =="):
            current = line[3:-3]
            sections[current] = ""
        else:
            assert current is not None
            sections[current] += line + "\n"
    return sections


def _example(name: str):
    namespace: dict[str, object] = {}
    exec(compile((EXAMPLES / f"{name}.py").read_text(), name, "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize(
    "name, args",
    [
        ("add", ["f32[4,3]", "f32[4,3]"]),
        ("dot", ["f32[16]", "f32[16]"]),
        ("saxpy", ["f32[]", "f32[16]", "f32[16]"]),
    ],
)
def test_lower_examples(capsys, name, args):
    argv = ["lower", f"{EXAMPLES / name}.py:{name}"] + [x for a in args for x in ("--arg", a)]
    status, out, err = cli(capsys, *argv)
    assert status == 0, err
    sections = _sections(out)
    assert list(sections) == ["jaxpr", "stablehlo", "optimized_hlo"]
    expected = str(jax.make_jaxpr(_example(name))(*map(parse_type, args)))
    assert sections["jaxpr"] == expected + "\n"
    assert f"@jit_{name}" in sections["stablehlo"] and f"HloModule jit_{name}" in sections["optimized_hlo"]


def test_lower_grad_and_emit(capsys):
    status, out, err = cli(
        capsys,
        "lower",
        f"{EXAMPLES}/dot.py:dot",
        "--arg",
        "f32[16]",
        "--arg",
        "f32[16]",
        "--grad",
        "--emit",
        "jaxpr,hlo",
    )
    assert status == 0, err
    sections = _sections(out)
    assert list(sections) == ["jaxpr (grad)", "hlo (grad)"]  # --grad applies to, and labels, every text
    args = [parse_type("f32[16]")] * 2
    graded = jax.grad(_example("dot"))
    assert sections["jaxpr (grad)"] == str(jax.make_jaxpr(graded)(*args)) + "\n"
    assert "in (" in sections["jaxpr (grad)"] and "f32[16]" in sections["jaxpr (grad)"]
    from jaxsynth.lowering import lower

    forward_hlo = lower(_example("dot"), args, emit="hlo").hlo
    assert sections["hlo (grad)"].rstrip() == lower(graded, args, emit="hlo").hlo.rstrip() != forward_hlo.rstrip()


def test_lower_in_a_real_process():
    proc = cli_process(
        "lower",
        "examples/saxpy.py:saxpy",
        "--arg",
        "f32[]",
        "--arg",
        "f32[16]",
        "--arg",
        "f32[16]",
        "--emit",
        "jaxpr",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("== jaxpr ==\n{ lambda ; a:f32[] b:f32[16] c:f32[16]. let")


# ---------------------------------------------------------------- bad input: exit 2, one line, no traceback
@pytest.fixture
def bad_files(tmp_path, shared_corpus) -> Path:
    (tmp_path / "unknown_key.toml").write_text("[program]\nfoo = 1\n")
    (tmp_path / "wrong_type.toml").write_text('[program]\nmax_nodes = "many"\n')
    (tmp_path / "syntax.toml").write_text("[program\nmax_nodes = 3\n")
    lines = shared_corpus.read_bytes().splitlines(keepends=True)[:10]
    lines[6] = b'{"schema_version": 1, "id": 3}\n'
    (tmp_path / "corrupt.jsonl").write_bytes(b"".join(lines))
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "exits.py").write_text("raise SystemExit(3)\n")
    return tmp_path


SAXPY = "examples/saxpy.py:saxpy"
BAD_INPUTS = [
    (["generate", "--config", "{d}/unknown_key.toml"], ["config key `program.foo`: unknown key; allowed:"]),
    (["generate", "--config", "{d}/wrong_type.toml"], ["config key `program.max_nodes`", "Expected `int`"]),
    (["generate", "--config", "{d}/syntax.toml"], ["not valid TOML"]),
    (["generate", "--config", "{d}/missing.toml"], ["cannot read config", "missing.toml"]),
    (["generate", "--config", "nonesuch"], ["unknown config 'nonesuch'"]),
    (["generate", "-n", "-3"], ["'-n' / '--count'", "-3"]),
    (["generate", "--workers", "0"], ["--workers"]),
    (["generate", "--emit", "jaxpr,bogus"], ["'--emit'", "unknown IR kind 'bogus'"]),
    (["generate", "--emit", ""], ["'--emit'", "requests no IR kind"]),
    (["generate", "--format", "xml"], ["'--format'"]),
    (["generate", "-n", "1", "-o", "{d}/x.jsonl", "--format", "msgpack"], ["does not match the suffix"]),
    (
        ["generate", "-n", "1", "--emit", "jaxpr", "--workers", "1", "-o", "{d}/corrupt.jsonl/c.jsonl"],
        ["cannot write -o", "corrupt.jsonl/c.jsonl"],
    ),
    (["generate", "--bogus"], ["No such option '--bogus'"]),
    (["frobnicate"], ["No such command 'frobnicate'"]),
    (["lower", SAXPY, "--arg", "q32[4]"], ["'--arg'", "unknown dtype 'q32'"]),
    (["lower", SAXPY, "--arg", "f32[4"], ["'--arg'", "bad type 'f32[4'"]),
    (["lower", SAXPY, "--arg", "f32[]", "--emit", "mlir"], ["'--emit'", "unknown IR kind 'mlir'"]),
    (["lower", "examples/saxpy.py", "--arg", "f32[]"], ["expected FILE.py:FUNCTION"]),
    (["lower", "examples/saxpy.txt:saxpy"], ["expected FILE.py:FUNCTION"]),
    (["lower", "{d}/missing.py:f"], ["no such file"]),
    (["lower", "examples/saxpy.py:nope"], ["defines no 'nope'"]),
    (["lower", "{d}/broken.py:f"], ["cannot import", "SyntaxError"]),
    (["lower", "{d}/exits.py:f"], ["cannot import", "SystemExit"]),
    (["lower", SAXPY, "--arg", "f32[]", "--arg", "f32[3]", "--arg", "f32[4]"], ["cannot lower", "shapes"]),
    (
        ["lower", SAXPY, "--arg", "f32[]", "--arg", "f32[3]", "--arg", "f32[3]", "--grad"],
        ["cannot lower", "scalar-output"],
    ),
    (["stats", "{d}/corrupt.jsonl"], ["corrupt.jsonl line 7: "]),
    (["stats", "{d}/missing.jsonl"], ["cannot read corpus", "missing.jsonl"]),
    (["stats", "{d}/unknown_key.toml"], ["cannot infer the corpus format"]),
    (["replay", "{d}/corrupt.jsonl", "--index", "8"], ["corrupt.jsonl line 7: "]),
    (["replay", "{d}/corrupt.jsonl"], ["Missing option '--index'"]),
    (["replay", "{d}/corrupt.jsonl", "--index", "-1"], ["'--index'"]),
]


@pytest.mark.parametrize("argv, needles", BAD_INPUTS, ids=[" ".join(a)[:60] for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_and_exit_2(capsys, monkeypatch, bad_files, argv, needles):
    monkeypatch.chdir(REPO)
    status, _, err = cli(capsys, *[a.format(d=bad_files) for a in argv])
    assert_one_line_error(status, err, *needles)


def test_bad_input_in_a_real_process(bad_files):
    proc = cli_process("generate", "--config", bad_files / "unknown_key.toml")
    assert_one_line_error(proc.returncode, proc.stderr, "config key `program.foo`")
    proc = cli_process("stats", bad_files / "corrupt.jsonl")
    assert_one_line_error(proc.returncode, proc.stderr, "line 7")


def test_help_and_bare_command(capsys):
    status, out, _ = cli(capsys, "--help")
    assert status == 0 and "generate" in out and "replay" in out
    status, out, _ = cli(capsys)
    assert status == 0 and "Commands:" in out


def test_records_written_by_the_api_replay(tmp_path, capsys):
    from jaxsynth.corpus import make_record

    record = make_record(load_config("control-flow"), 11, 2, ("jaxpr",))
    write(tmp_path / "one.jsonl", [record])
    assert cli(capsys, "replay", tmp_path / "one.jsonl", "--index", "2")[:2] == (0, "record 2: identical\n")


def test_a_failing_record_is_named_in_one_line(tmp_path, capsys, monkeypatch):
    import jaxsynth.corpus.generate as generate_module

    def broken(config, seed, index):
        raise KeyError("boom")

    monkeypatch.setattr(generate_module, "sample", broken)
    status, _, err = cli(
        capsys, "generate", "-n", "2", "--workers", "1", "--seed", "4", "-o", tmp_path / "c.jsonl"
    )
    assert status == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "internal error: GenerationError: record 0 (config default" in err and "seed 4): KeyError" in err
