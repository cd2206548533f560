"""``jaxsynth stats``, ``split``, ``export``, ``dedup``, ``merge`` and ``coverage``: tools over existing
corpus files (jaxsynth.dataset). Each takes CORPUS...: files, globs, folders and ``-`` (stdin), in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jaxsynth.cli.support import (
    BadInput,
    corpus_arguments,
    dataset_call,
    open_corpus_or_fail,
    out_option,
    prepare_output,
    seed_option,
)


@click.command()
@corpus_arguments
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
def stats(
    sources: tuple[str, ...], corpus_format: str | None, top: int, plots_dir: str | None, report_dir: str | None
) -> int:
    """Counts, histograms, distributions and uniqueness of a corpus (one or more files, globs, folders)."""
    from jaxsynth.dataset.report import text_report, write_report
    from jaxsynth.dataset.stats import corpus_stats

    if plots_dir is not None:
        from jaxsynth.dataset.plots import require_matplotlib

        dataset_call(require_matplotlib)  # fail before the (long) pass over the corpus
    for directory, option in ((report_dir, "--report"), (plots_dir, "--plots")):
        if directory is not None:
            prepare_output(directory, option, directory=True)
    result = corpus_stats(open_corpus_or_fail(sources, corpus_format))
    click.echo(text_report(result, top), nl=False)
    for directory, plots in ((report_dir, False), (plots_dir, True)):
        if directory is not None and result.records:
            written = dataset_call(write_report, result, directory, plots=plots, top=top)
            click.echo(f"wrote {', '.join(str(p) for p in written.values())}", err=True)
    return 0


@click.command("split")
@corpus_arguments
@out_option("Output directory: train/validation/test files and splits.json.", directory=True, required=True)
@click.option(
    "--ratios",
    default="0.9,0.05,0.05",
    show_default=True,
    help="train[,validation],test fractions summing to 1.",
)
@seed_option("Split seed.")
@click.option(
    "--holdout-ops",
    "holdout",
    multiple=True,
    metavar="OP[,OP...]",
    help="Send every record using all these ops to the test split; repeat for more combinations.",
)
@click.option(
    "--overwrite", is_flag=True,
    help="Replace a previous split in a non-empty OUT (its split files and splits.json are removed first).",
)
def split_command(
    sources: tuple[str, ...], corpus_format: str | None, out: str, ratios: str, seed: int,
    holdout: tuple[str, ...], overwrite: bool,
) -> int:
    """Split a corpus by structure: no graph_hash is shared between train, validation and test."""
    from jaxsynth.dataset.split import parse_holdout, parse_ratios, split_corpus
    from jaxsynth.grammar import REGISTRY

    parsed = dataset_call(parse_ratios, ratios)
    combos = dataset_call(parse_holdout, holdout, REGISTRY)
    prepare_output(out, "-o", directory=True)
    corpus = open_corpus_or_fail(sources, corpus_format)
    summary = dataset_call(split_corpus, corpus, out, parsed, seed=seed, holdout_ops=combos, overwrite=overwrite)
    click.echo(f"{summary}")
    click.echo(
        f"wrote {', '.join(str(Path(out) / f) for f in summary.files.values())} and splits.json", err=True
    )
    return 0


@click.command("export", short_help="Export a corpus or split as Parquet with a dataset card.")
@corpus_arguments
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
def export_command(
    sources: tuple[str, ...], corpus_format: str | None, parquet_dir: str, pretty_name: str | None,
    rows_per_file: int,
) -> int:
    """Export a corpus, or a `jaxsynth split` directory, as Parquet with a HuggingFace dataset card."""
    from jaxsynth.dataset.export import export_parquet
    from jaxsynth.dataset.split import MANIFEST

    prepare_output(parquet_dir, "--parquet", directory=True)
    split_dir = len(sources) == 1 and corpus_format is None and (Path(sources[0]) / MANIFEST).is_file()
    corpus = sources[0] if split_dir else open_corpus_or_fail(sources, corpus_format)
    summary = dataset_call(
        export_parquet, corpus, parquet_dir, rows_per_file=rows_per_file, pretty_name=pretty_name
    )
    click.echo(f"wrote {summary}")
    return 0


@click.command("dedup", short_help="Drop duplicate structures or JAXPRs from a corpus.")
@corpus_arguments
@out_option("Output corpus file (format from its suffix).", directory=False, required=True)
@click.option(
    "--mode", type=click.Choice(("structural", "jaxpr", "both")), default="structural", show_default=True,
    help="What makes a duplicate: the same graph_hash, the same JAXPR text, or either.",
)
def dedup_command(sources: tuple[str, ...], corpus_format: str | None, out: str, mode: str) -> int:
    """Write the first record of each structure (or JAXPR) of a corpus to one file, in order."""
    from jaxsynth.dataset.combine import dedup_corpus

    corpus = open_corpus_or_fail(sources, corpus_format)
    summary = dataset_call(dedup_corpus, corpus, out, mode)
    click.echo(summary.note, err=True)
    click.echo(f"wrote {summary}", err=True)
    return 0


@click.command("merge", short_help="Join shards into one file, checking order and schema.")
@corpus_arguments
@out_option("Output corpus file (format from its suffix).", directory=False, required=True)
def merge_command(sources: tuple[str, ...], corpus_format: str | None, out: str) -> int:
    """Join shards (or any corpus files) into one file, after checking that every shard is there, in
    order, and that every record reads with this schema and its run's indices increase."""
    from jaxsynth.dataset.combine import merge_corpus

    corpus = open_corpus_or_fail(sources, corpus_format)
    summary = dataset_call(merge_corpus, corpus, out)
    click.echo(f"wrote {summary}", err=True)
    return 0


def _manifest_targets(path: str) -> list[tuple[str, Any, list[str]]]:
    """``TARGETS`` of a manifest file: a list of ``(name, function, [--arg spec, ...])``."""
    from jaxsynth.cli.lower import import_module

    targets = getattr(import_module(path), "TARGETS", None)
    if not isinstance(targets, (list, tuple)) or not targets:
        raise BadInput(f"{path!r} defines no TARGETS list of (name, function, [arg spec, ...])")
    checked = []
    for i, entry in enumerate(targets):
        if not (isinstance(entry, (list, tuple)) and len(entry) == 3 and isinstance(entry[0], str)
                and callable(entry[1]) and isinstance(entry[2], (list, tuple))):
            raise BadInput(f"{path!r}: TARGETS[{i}] is not (name, function, [arg spec, ...]): {entry!r}")
        checked.append((entry[0], entry[1], [str(a) for a in entry[2]]))
    return checked


@click.command("coverage", short_help="How much of your code's IR a corpus covers, and what it lacks.")
@corpus_arguments
@click.option(
    "--against", "against", default=None, metavar="FILE.py:FUNC",
    help="A function of your own to cover, lowered at the --arg types (this imports, i.e. runs, FILE.py).",
)
@click.option(
    "--arg", "args", multiple=True, metavar="SPEC",
    help="An argument of the --against function, as for `jaxsynth lower --arg`; repeat.",
)
@click.option(
    "--against-records", "against_records", multiple=True, metavar="FILE",
    help="Records (any corpus file, e.g. from `jaxsynth lower -o`) whose texts to cover; repeat.",
)
@click.option(
    "--against-list", "against_list", multiple=True, metavar="MANIFEST.py",
    help="A Python file defining TARGETS = [(name, function, [arg spec, ...]), ...] to cover; repeat "
    "(e.g. tests/realcode/jax_reference.py).",
)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Missing items listed per family.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the full report (every missing item) as JSON to this file.")
def coverage_command(
    sources: tuple[str, ...], corpus_format: str | None, against: str | None, args: tuple[str, ...],
    against_records: tuple[str, ...], against_list: tuple[str, ...], top: int, json_path: str | None,
) -> int:
    """How much of your code's JAXPR primitives, (primitive, dtype) pairs, StableHLO ops and optimized-HLO
    opcodes occur in a corpus, distinct and weighted by occurrence, and what is missing, most frequent first."""
    import json

    from jaxsynth.dataset.coverage import coverage, records_profiles, texts_profile

    if against is None and not against_records and not against_list:
        raise BadInput("give a target: --against FILE.py:FUNC, --against-records FILE or --against-list FILE.py")
    if args and against is None:
        raise BadInput("--arg belongs to --against FILE.py:FUNC")
    corpus = open_corpus_or_fail(sources, corpus_format)
    records = [open_corpus_or_fail([path], None) for path in against_records]
    functions: list[tuple[str, Any, list[str]]] = []
    if against is not None:
        from jaxsynth.cli.lower import import_function, parse_arg_options

        parse_arg_options(args)  # a bad spec fails before anything is imported
        functions.append((against, import_function(against), list(args)))
    for manifest in against_list:
        functions.extend(_manifest_targets(manifest))
    targets = []
    if functions:
        from jaxsynth.cli.lower import lower_targets
        from jaxsynth.cli.support import prepare_jax

        prepare_jax()
        for name, texts in lower_targets(functions, ("jaxpr", "stablehlo", "optimized_hlo")):
            targets.append((name, texts_profile((texts.jaxpr,), texts.stablehlo, texts.optimized_hlo)))
    for source in records:
        targets.extend(records_profiles(source))
    if not targets:
        raise BadInput("no target could be lowered or read (see the lines above)")
    report = coverage(corpus, targets)
    click.echo(report.text(top), nl=False)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report.to_json(), indent=1) + "\n")
        click.echo(f"wrote {json_path}", err=True)
    return 0
