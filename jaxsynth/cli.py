"""The ``jaxsynth`` command line: ``generate | lower | replay | stats | split | export | configs``.

Bad input (unknown config key, bad type string, missing file, corrupt corpus, usage errors) ends
with exit status 2 and exactly one ``error: ...`` line on stderr, never a traceback. ``replay`` exits
1 when a record does not reproduce. Set ``JAXSYNTH_TRACEBACK=1`` to see tracebacks of internal
errors. JAX is imported only by the commands that need it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from jaxsynth.cli_support import BadInput, first_line, run_command
from jaxsynth.corpus.record import FORMATS, CorpusError, Record, encode_payload, format_for, iter_raw
from jaxsynth.grammar import ConfigError, GrammarConfig, builtin_names, load_config

__all__ = ["cli", "main", "run"]

_DEFAULT_EMIT = "jaxpr,stablehlo,optimized_hlo"
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".msgpack": "msgpack"}


def _load_config(name_or_path: str) -> GrammarConfig:
    """Load, validate, and check that the config can yield programs within its bounds (before work starts)."""
    from jaxsynth.synth.sample import check_config

    try:
        return check_config(load_config(name_or_path))
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def _prepare_jax() -> None:
    """Pin JAX to CPU and one XLA thread, as generation workers are, if JAX is not loaded yet."""
    if "jax" not in sys.modules:
        from jaxsynth.lowering import configure_jax_for_workers

        configure_jax_for_workers(1)


def _parse_emit(spec: str) -> tuple[str, ...]:
    from jaxsynth.lowering import parse_emit

    try:
        return parse_emit(spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--emit'") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Typed-grammar random program synthesizer for JAX."""


# ---------------------------------------------------------------- generate
@cli.command()
@click.option(
    "--config",
    "config_name",
    default="default",
    show_default=True,
    help="Built-in config name or path to a .toml grammar config.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option(
    "-n",
    "--count",
    "n",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Number of records (indices 0..n-1).",
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output file [default: corpus.jsonl or corpus.msgpack].",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Worker processes [default: CPU count]."
)
@click.option("--emit", default=_DEFAULT_EMIT, show_default=True, help="IR kinds to emit, comma separated.")
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
    default=300.0,
    show_default=True,
    help="Seconds a worker may spend on one record before it is killed and replaced.",
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
    config_name: str,
    seed: int,
    n: int,
    out: str | None,
    workers: int | None,
    emit: str,
    fmt: str | None,
    progress: bool,
    novelty: int | None,
    resume: bool,
    shard_spec: str | None,
    timeout: float,
    isolate: bool | None,
    dedup: str | None,
    profile: bool,
    pin: bool | None,
    engine: str,
    address: str | None,
    num_shards: int | None,
) -> int:
    """Generate a corpus of records 0..n-1 of (config, seed).

    Records that cannot be built (an exception, or a worker crash or hang inside XLA) are skipped
    and listed in OUT.failures.jsonl with their index, seed and kind.
    """
    from jaxsynth.corpus.run import generate as run_generate

    config = _load_config(config_name)
    suffix_format = _SUFFIX_FORMATS.get(Path(out).suffix) if out else None
    if fmt and suffix_format and fmt != suffix_format:
        raise BadInput(f"--format {fmt} does not match the suffix of {out!r} (a {suffix_format} file)")
    fmt = fmt or suffix_format or "jsonl"
    out = out or f"corpus.{fmt}"
    workers = workers or os.cpu_count() or 1
    kinds = _parse_emit(emit)
    if novelty is not None:  # novelty-guided op weights: jaxsynth.dataset.novelty
        _prepare_jax()
        if shard_spec or engine != "local":
            raise BadInput("--novelty runs its epochs in order in one writer: drop --shard and --engine")
        return _generate_novelty(config, seed, n, out, workers, kinds, fmt, progress, novelty, dedup, resume)
    shard = _parse_shard(shard_spec)
    if dedup and (shard or engine != "local"):
        raise BadInput("--dedup needs one writer that sees every record in order; drop --shard / --engine ray")
    if engine == "ray":
        if shard:
            raise BadInput("--engine ray runs every shard itself; drop --shard")
        from jaxsynth.corpus.ray_engine import generate_ray

        summary = generate_ray(
            config, seed, n, out, kinds, fmt, address=address, num_shards=num_shards, resume=resume,
            isolate=isolate is not False, timeout=timeout, progress=progress,
        )
    else:
        if not isolate and workers == 1:
            _prepare_jax()  # in-process runs pin JAX as the workers do, so output never depends on --workers
        if shard:
            from jaxsynth.corpus.shards import generate_shard

            summary = generate_shard(
                config, seed, shard[0], shard[1], n, out, kinds, fmt, workers=workers, isolate=isolate,
                timeout=timeout, resume=resume, profile=profile, progress=progress, pin=pin,
            )
        else:
            summary = run_generate(
                config, seed, n, out, workers=workers, emit=kinds, fmt=fmt, progress=progress,
                resume=resume, timeout=timeout, isolate=isolate, dedup=dedup, profile=profile, pin=pin,
            )
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


# ---------------------------------------------------------------- lower
def _import_function(target: str) -> Callable[..., Any]:
    path, sep, name = target.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise BadInput(f"expected FILE.py:FUNCTION, got {target!r}")
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"no such file: {path!r}")
    module_name = "_jaxsynth_user_" + re.sub(r"\W", "_", file.stem)
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise BadInput(f"cannot import {path!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise BadInput(f"cannot import {path!r}: {first_line(exc)}") from None
    fn = getattr(module, name, None)
    if fn is None:
        raise BadInput(f"{path!r} defines no {name!r}")
    if not callable(fn):
        raise BadInput(f"{path}:{name} is not callable")
    return fn


@cli.command("lower")
@click.argument("target", metavar="FILE.py:FUNC")
@click.option(
    "--arg", "args", multiple=True, metavar="TYPE", help="Argument type such as f32[16,4] or f32[]; repeat."
)
@click.option("--emit", default=_DEFAULT_EMIT, show_default=True, help="IR kinds to emit, comma separated.")
@click.option("--grad", is_flag=True, help="Emit the JAXPR of jax.grad(FUNC) (w.r.t. the first argument).")
def lower_command(target: str, args: tuple[str, ...], emit: str, grad: bool) -> int:
    """Lower a function of your own and print its IR texts (this imports, i.e. runs, FILE.py)."""
    import jax

    from jaxsynth.lowering import lower, parse_type

    kinds = _parse_emit(emit)
    try:
        types = [parse_type(a) for a in args]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--arg'") from None
    fn = _import_function(target)
    x64 = any(t.dtype.itemsize == 8 for t in types)
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        try:
            types = [parse_type(a) for a in args]
            texts = lower(fn, types, emit=kinds, grad=grad)
        except Exception as exc:
            raise BadInput(f"cannot lower {target} at ({', '.join(args)}): {first_line(exc)}") from None
    for kind, text in texts.present().items():
        click.echo(f"== {kind} ==")
        click.echo(text.rstrip("\n"))
    return 0


# ---------------------------------------------------------------- replay
def _find(corpus: str, index: int) -> tuple[Record, bytes, str]:
    from jaxsynth.corpus.record import decode_record

    fmt = format_for(corpus)
    for number, payload in iter_raw(corpus, fmt):
        try:
            record = decode_record(payload, fmt)
        except Exception as exc:
            where = "line" if fmt == "jsonl" else "record"
            raise CorpusError(f"{corpus} {where} {number}: {exc}") from None
        if record.index == index:
            return record, payload, fmt
    raise BadInput(f"{corpus}: no record with index {index}")


def _builtin_with_digest(digest: str) -> GrammarConfig | None:
    for name in builtin_names():
        config = load_config(name)
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


@cli.command()
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--index", type=click.IntRange(min=0), required=True, help="The record's index field.")
@click.option(
    "--config",
    "config_name",
    default=None,
    help="Config name or path [default: the built-in config with the record's digest].",
)
def replay(corpus: str, index: int, config_name: str | None) -> int:
    """Rebuild one record from its seed, index and config and prove it is byte-identical."""
    from jaxsynth.lowering import IR_KINDS

    stored, payload, fmt = _find(corpus, index)
    if config_name is not None:
        config = _load_config(config_name)
    else:
        found = _builtin_with_digest(stored.config_digest)
        if found is None:
            raise BadInput(
                f"no built-in config has digest {stored.config_digest} (record {index} names config "
                f"{stored.config_name!r}); pass --config"
            )
        config = found
    kinds = [k for k in IR_KINDS if getattr(stored, k) is not None] or ["jaxpr"]
    _prepare_jax()
    from jaxsynth.corpus.generate import make_record

    rebuilt = make_record(config, stored.seed, stored.index, kinds)
    if encode_payload(rebuilt, fmt) == payload:
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


# ---------------------------------------------------------------- stats, split, export (jaxsynth.dataset)
def _dataset_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into jaxsynth.dataset, turning bad input and missing extras into one-line errors."""
    from jaxsynth.dataset.dedup import DedupError
    from jaxsynth.dataset.novelty import NoveltyError
    from jaxsynth.dataset.plots import MissingExtra
    from jaxsynth.dataset.split import SplitError

    try:
        return fn(*args, **kwargs)
    except (MissingExtra, SplitError, DedupError, NoveltyError) as exc:
        raise BadInput(str(exc)) from None
    except OSError as exc:
        raise BadInput(f"{exc.strerror or exc}: {exc.filename!r}" if exc.filename else str(exc)) from None


def _generate_novelty(
    config: GrammarConfig,
    seed: int,
    n: int,
    out: str,
    workers: int,
    kinds: tuple[str, ...],
    fmt: str,
    progress: bool,
    epoch: int,
    dedup: str | None = None,
    resume: bool = False,
) -> int:
    from jaxsynth.dataset.dedup import Deduplicator
    from jaxsynth.dataset.novelty import generate_novelty

    if "optimized_hlo" not in kinds:
        raise BadInput("--novelty needs optimized_hlo in --emit (it reads each record's optimized HLO)")
    deduper = _dataset_call(Deduplicator, dedup) if dedup else None
    summary = _dataset_call(
        generate_novelty,
        config,
        seed,
        n,
        out,
        workers=workers,
        emit=kinds,
        fmt=fmt,
        epoch=epoch,
        progress=progress,
        dedup=deduper,
        resume=resume,
    )
    click.echo(f"wrote {summary}; epochs in {summary.manifest}", err=True)
    return 0


@cli.command()
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="Rows per histogram.")
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write PNG figures, report.md and stats.json to this directory (needs the dataset extra).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write report.md and stats.json (no figures) to this directory.",
)
def stats(corpus: str, top: int, plots_dir: str | None, report_dir: str | None) -> int:
    """Counts, histograms, distributions and uniqueness of a corpus file."""
    from jaxsynth.dataset.report import text_report, write_report
    from jaxsynth.dataset.stats import corpus_stats

    if plots_dir is not None:
        from jaxsynth.dataset.plots import require_matplotlib

        _dataset_call(require_matplotlib)  # fail before the (long) pass over the corpus
    result = corpus_stats(corpus)
    click.echo(text_report(result, top), nl=False)
    for directory, plots in ((report_dir, False), (plots_dir, True)):
        if directory is not None and result.records:
            written = _dataset_call(write_report, result, directory, plots=plots, top=top)
            click.echo(f"wrote {', '.join(str(p) for p in written.values())}", err=True)
    return 0


@cli.command("split")
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output directory.")
@click.option(
    "--ratios",
    default="0.9,0.05,0.05",
    show_default=True,
    help="train[,validation],test fractions summing to 1.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="Split seed.")
@click.option(
    "--holdout-ops",
    "holdout",
    multiple=True,
    metavar="OP[,OP...]",
    help="Send every record using all these ops to the test split; repeat for more combinations.",
)
def split_command(corpus: str, out_dir: str, ratios: str, seed: int, holdout: tuple[str, ...]) -> int:
    """Split a corpus by structure: no graph_hash is shared between train, validation and test."""
    from jaxsynth.dataset.split import parse_holdout, parse_ratios, split_corpus
    from jaxsynth.grammar import REGISTRY

    parsed = _dataset_call(parse_ratios, ratios)
    combos = _dataset_call(parse_holdout, holdout, REGISTRY)
    summary = _dataset_call(split_corpus, corpus, out_dir, parsed, seed=seed, holdout_ops=combos)
    click.echo(f"{summary}")
    click.echo(
        f"wrote {', '.join(str(Path(out_dir) / f) for f in summary.files.values())} and splits.json", err=True
    )
    return 0


@cli.command("export")
@click.argument("corpus", type=click.Path())
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output directory: README.md (dataset card) and data/*.parquet.",
)
@click.option("--name", "pretty_name", default=None, help="Dataset name in the card.")
@click.option(
    "--rows-per-file",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Parquet shard size.",
)
def export_command(corpus: str, parquet_dir: str, pretty_name: str | None, rows_per_file: int) -> int:
    """Export a corpus file or a `jaxsynth split` directory as Parquet with a HuggingFace dataset card."""
    from jaxsynth.dataset.export import export_parquet

    summary = _dataset_call(
        export_parquet, corpus, parquet_dir, rows_per_file=rows_per_file, pretty_name=pretty_name
    )
    click.echo(f"wrote {summary}")
    return 0


# ---------------------------------------------------------------- configs
@cli.command()
def configs() -> int:
    """List the built-in grammar configs with their digests."""
    names = builtin_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {load_config(name).digest}")  # listing only: no feasibility check
    return 0


# ---------------------------------------------------------------- entry points
def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    return run_command(cli, argv, "jaxsynth")


def _register_fuzz() -> None:
    from jaxsynth.fuzz.command import fuzz

    cli.add_command(fuzz, "fuzz")


_register_fuzz()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point: ``jaxsynth ...``."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
