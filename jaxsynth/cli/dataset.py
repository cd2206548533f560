"""``jaxsynth stats``, ``split`` and ``export``: read-only tools over corpus files (jaxsynth.dataset)."""

from __future__ import annotations

from pathlib import Path

import click

from jaxsynth.cli.support import dataset_call, out_option, prepare_output, seed_option


@click.command()
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

        dataset_call(require_matplotlib)  # fail before the (long) pass over the corpus
    for directory, option in ((report_dir, "--report"), (plots_dir, "--plots")):
        if directory is not None:
            prepare_output(directory, option, directory=True)
    result = corpus_stats(corpus)
    click.echo(text_report(result, top), nl=False)
    for directory, plots in ((report_dir, False), (plots_dir, True)):
        if directory is not None and result.records:
            written = dataset_call(write_report, result, directory, plots=plots, top=top)
            click.echo(f"wrote {', '.join(str(p) for p in written.values())}", err=True)
    return 0


@click.command("split")
@click.argument("corpus", type=click.Path(dir_okay=False))
@out_option("Output directory.", directory=True, required=True)
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
def split_command(corpus: str, out: str, ratios: str, seed: int, holdout: tuple[str, ...]) -> int:
    """Split a corpus by structure: no graph_hash is shared between train, validation and test."""
    from jaxsynth.dataset.split import parse_holdout, parse_ratios, split_corpus
    from jaxsynth.grammar import REGISTRY

    parsed = dataset_call(parse_ratios, ratios)
    combos = dataset_call(parse_holdout, holdout, REGISTRY)
    prepare_output(out, "-o", directory=True)
    summary = dataset_call(split_corpus, corpus, out, parsed, seed=seed, holdout_ops=combos)
    click.echo(f"{summary}")
    click.echo(
        f"wrote {', '.join(str(Path(out) / f) for f in summary.files.values())} and splits.json", err=True
    )
    return 0


@click.command("export")
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

    prepare_output(parquet_dir, "--parquet", directory=True)
    summary = dataset_call(
        export_parquet, corpus, parquet_dir, rows_per_file=rows_per_file, pretty_name=pretty_name
    )
    click.echo(f"wrote {summary}")
    return 0
