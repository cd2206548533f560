"""``jaxsynth stats``, ``split``, ``export``, ``dedup``, ``merge`` and ``coverage``: tools over existing
corpus files (jaxsynth.dataset). Each takes CORPUS...: files, globs, folders and ``-`` (stdin), in order."""

from __future__ import annotations

from pathlib import Path

import click

from jaxsynth.cli.support import (
    corpus_arguments,
    dataset_call,
    open_corpus_or_fail,
    out_option,
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
    corpus = open_corpus_or_fail(sources, corpus_format)
    summary = dataset_call(split_corpus, corpus, out, parsed, seed=seed, holdout_ops=combos, overwrite=overwrite)
    click.echo(f"{summary}")
    click.echo(
        f"wrote {', '.join(str(Path(out) / f) for f in summary.files.values())} and splits.json", err=True
    )
    return 0


@click.command("export")
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

    split_dir = len(sources) == 1 and corpus_format is None and (Path(sources[0]) / MANIFEST).is_file()
    corpus = sources[0] if split_dir else open_corpus_or_fail(sources, corpus_format)
    summary = dataset_call(
        export_parquet, corpus, parquet_dir, rows_per_file=rows_per_file, pretty_name=pretty_name
    )
    click.echo(f"wrote {summary}")
    return 0


@click.command("dedup")
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


@click.command("merge")
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
