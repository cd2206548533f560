"""``jaxsynth generate``, ``replay`` and ``configs``: corpora of records from a grammar config."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from jaxsynth.cli.support import (
    DEFAULT_EMIT,
    BadInput,
    config_option,
    corpus_arguments,
    count_option,
    dataset_call,
    load_config_or_fail,
    open_corpus_or_fail,
    out_option,
    parse_emit_option,
    prepare_jax,
    prepare_output,
    seed_option,
    workers_option,
)
from jaxsynth.corpus.record import FORMATS, Record, encode_payload
from jaxsynth.corpus.sources import CorpusFile
from jaxsynth.grammar import GrammarConfig, builtin_names, load_config


@click.command()
@config_option()
@seed_option()
@count_option("Number of records (indices 0..N-1).", default=100)
@out_option("Output file [default: corpus.jsonl or corpus.msgpack].", directory=False)
@workers_option(None, "Worker processes [default: the CPU count].")
@click.option("--emit", default=DEFAULT_EMIT, show_default=True, help="IR kinds to emit, comma separated.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format [default: from the -o suffix, else jsonl].",
)
@click.option(
    "--progress/--no-progress", default=True, show_default=True, help="Progress bar (on a terminal)."
)
@click.option(
    "--novelty",
    type=click.IntRange(min=1),
    is_flag=False,
    flag_value=500,
    default=None,
    metavar="[EPOCH]",
    help="Bias op weights toward rare optimized-HLO features, updated every EPOCH records (default 500).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run of the same command from what OUT holds (a torn last record is "
    "cut off); the finished file is byte-identical to an uninterrupted run.",
)
@click.option(
    "--shard",
    "shard_spec",
    default=None,
    metavar="I/N",
    help="Write only shard I of N (from 0) to OUT-0000I-of-0000N.SUFFIX with a .done marker; a "
    "finished shard is skipped. Shard files concatenated in order = one run.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds an isolated worker may spend on one record before it is killed and replaced [default: 300].",
)
@click.option(
    "--isolate/--in-process",
    default=None,
    help="Run even a single worker in a child process, so a crash or hang inside XLA is recorded and "
    "skipped [default: only with 2+ workers].",
)
@click.option(
    "--dedup",
    type=click.Choice(("structural", "jaxpr", "both")),
    is_flag=False,
    flag_value="structural",
    default=None,
    help="Skip records that duplicate an earlier one (by graph_hash [default], JAXPR, or both) and "
    "keep going until -n records are written.",
)
@click.option("--profile", is_flag=True, help="Print a per-stage timing summary at the end.")
@click.option(
    "--pin/--no-pin",
    default=None,
    help="Pin worker k to CPU k (mod the CPUs this process may use), so each worker keeps to one core "
    "[default: pin when the workers fill every CPU].",
)
@click.option(
    "--engine",
    type=click.Choice(("local", "ray")),
    default="local",
    show_default=True,
    help="Where shards run: local processes, or Ray tasks (pip install 'jaxsynth[ray]').",
)
@click.option("--address", default=None, help="Ray cluster address for --engine ray [default: RAY_ADDRESS or local].")
@click.option(
    "--shards",
    "num_shards",
    type=click.IntRange(min=1),
    default=None,
    help="Ray tasks for --engine ray [default: 4 per cluster CPU, at most 1000 records each].",
)
def generate(
    config_name: str, count: int, out: str | None, emit: str, fmt: str | None, shard_spec: str | None, **options: Any
) -> int:
    """Generate a corpus of records 0..N-1 of (config, seed).

    Records that cannot be built (an exception, or a worker crash or hang inside XLA) are skipped
    and listed in OUT.failures.jsonl with their index, seed and kind.
    """
    from jaxsynth.corpus.spec import GenerateSpec, SpecError

    config = load_config_or_fail(config_name)
    kinds = parse_emit_option(emit)
    try:
        # the other options are GenerateSpec's fields, by name: seed, workers, dedup, novelty, engine, ...
        spec = GenerateSpec.build(config, options.pop("seed"), count, out, emit=kinds, fmt=fmt,
                                  shard=_parse_shard(shard_spec), **options)
    except SpecError as exc:
        raise BadInput(str(exc)) from None
    prepare_output(spec.out, "-o")
    if spec.in_process:
        prepare_jax()  # in-process runs configure JAX as the workers do
    if spec.novelty is not None:
        from jaxsynth.dataset.novelty import generate_novelty

        if spec.n <= spec.novelty:
            click.echo(
                f"warning: --novelty {spec.novelty} and -n {spec.n}: the run ends within its first epoch, which "
                f"uses the config's own weights, so nothing is guided (guidance starts at record {spec.novelty})",
                err=True,
            )

        novelty_summary = dataset_call(generate_novelty, spec)
        click.echo(f"wrote {novelty_summary}; epochs in {novelty_summary.manifest}", err=True)
        return 0
    from jaxsynth.corpus.run import run_spec

    summary = run_spec(spec)
    if summary.profile:
        click.echo(summary.profile, err=True)
    for note in summary.notes():
        click.echo(note, err=True)
    click.echo(f"wrote {summary}", err=True)
    return 0


def _parse_shard(spec: str | None) -> tuple[int, int] | None:
    if spec is None:
        return None
    from jaxsynth.corpus.shards import parse_shard

    try:
        return parse_shard(spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--shard'") from None


def _find(sources: tuple[str, ...], corpus_format: str | None, index: int) -> tuple[Record, bytes, CorpusFile]:
    """The record with ``index``, its stored bytes and the file that holds it."""
    from jaxsynth.corpus.sources import decode_at

    corpus = open_corpus_or_fail(sources, corpus_format)
    for file, number, payload in corpus.iter_raw():
        record = decode_at(file, number, payload)
        if record.index == index:
            return record, payload, file
    raise BadInput(f"{corpus.name}: no record with index {index}")


def _config_with_digest(corpus: str | None, digest: str) -> GrammarConfig | None:
    """The config whose digest is ``digest``: a built-in one, or an epoch of the novelty run whose
    manifest lies beside the corpus file ``corpus`` (``None`` for standard input)."""
    for name in builtin_names():
        config = load_config(name)
        if config.digest == digest:
            return config
    from jaxsynth.dataset.novelty import manifest_configs, manifest_path

    manifest = manifest_path(corpus) if corpus is not None else None
    if manifest is not None and manifest.exists():
        for config in dataset_call(manifest_configs, manifest):
            if config.digest == digest:
                return config
    return None


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields where two records (or nested Structs) differ."""
    fields: list[str] = []
    for name in a.__struct_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            if hasattr(x, "__struct_fields__") and type(x) is type(y):
                fields.extend(_diff(x, y, f"{prefix}{name}."))
            else:
                fields.append(prefix + name)
    return fields


@click.command()
@corpus_arguments
@click.option("--index", type=click.IntRange(min=0), required=True, help="The record's index field.")
@click.option(
    "--config",
    "config_name",
    default=None,
    help="Config name or path [default: the built-in config with the record's digest].",
)
def replay(sources: tuple[str, ...], corpus_format: str | None, index: int, config_name: str | None) -> int:
    """Rebuild one record from its seed, index and config and prove it is byte-identical."""
    from jaxsynth.lowering import IR_KINDS

    stored, payload, file = _find(sources, corpus_format, index)
    if config_name is not None:
        config = load_config_or_fail(config_name)
    else:
        found = _config_with_digest(file.path, stored.config_digest)
        if found is None:
            raise BadInput(
                f"no built-in config has digest {stored.config_digest} (record {index} names config "
                f"{stored.config_name!r}), nor does a novelty manifest beside {file.name!r}; pass --config"
            )
        config = found
    if config.digest == stored.config_digest:
        # the digest is the config's identity; its name is only a label (a renamed copy of a file)
        config = msgspec.structs.replace(config, name=stored.config_name)
    kinds = [k for k in IR_KINDS if getattr(stored, k) is not None] or ["jaxpr"]
    prepare_jax()
    from jaxsynth.corpus.generate import make_record

    rebuilt = make_record(config, stored.seed, stored.index, kinds)
    if encode_payload(rebuilt, file.format) == payload:
        click.echo(f"record {index}: identical")
        return 0
    fields = _diff(stored, rebuilt)
    if fields:
        click.echo(f"record {index}: differs in {', '.join(fields)}")
    else:
        click.echo(f"record {index}: fields are equal but the stored bytes differ (re-encoded?)")
    if stored.toolchain != rebuilt.toolchain:
        now = rebuilt.toolchain
        click.echo(f"note: recorded with {stored.toolchain}, replayed with {now}")
    return 1


@click.command()
def configs() -> int:
    """List the built-in grammar configs with their digests."""
    names = builtin_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {load_config(name).digest}")  # listing only: no feasibility check
    return 0
