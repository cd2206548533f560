"""The ``jaxsynth fuzz`` command (a click command; ``python -m jaxsynth.fuzz`` runs it standalone).

    jaxsynth fuzz [--config NAME|PATH] [--seed S] [--budget 10m | -n N] [--out DIR] [--oracles LIST] [--workers W]

Bad input ends with one ``error: ...`` line on stderr and exit status 2, never a traceback. The
exit status is 0 when the campaign ran, whether or not it found anything: read ``summary.json``.
An interrupt (Ctrl-C, SIGINT or SIGTERM) stops testing new programs, then reduces and writes the findings so far
(status ``stopped``); a second interrupt aborts.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from jaxsynth.cli_support import BadInput, run_command

__all__ = ["fuzz", "main", "run"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_name", default="default", show_default=True, metavar="NAME|PATH",
              help="Built-in config name or path to a .toml grammar config.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--budget", default=None, metavar="TIME", help="Test programs for this long: 30s, 10m, 2h.")
@click.option("-n", "count", type=click.IntRange(min=1), default=None,
              help="Test programs 0..N-1 [default: 100 unless --budget is given].")
@click.option("--out", "out", type=click.Path(file_okay=False), default="fuzz-out", show_default=True,
              help="Directory for summary.json and one folder per finding.")
@click.option("--oracles", default="all", show_default=True, metavar="LIST",
              help="Comma-separated oracles: reference, eager, passes, grad, vmap, lowprec, or all.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Isolated worker processes (one per core).")
def fuzz(config_name: str, seed: int, budget: str | None, count: int | None, out: str, oracles: str,
         workers: int) -> int:
    """Fuzz XLA and JAX with typed random programs: differential oracles, crash and hang isolation,
    typed reduction and triage. Writes OUT/summary.json and OUT/findings/<index>-<oracle>-<kind>/ with a
    standalone repro.py (exits 1 while the bug is present) per finding."""
    from jaxsynth.fuzz.campaign import Settings, parse_budget, run_campaign
    from jaxsynth.fuzz.oracles import parse_oracles
    from jaxsynth.grammar import ConfigError, load_config

    try:
        from jaxsynth.synth.sample import check_config

        config = check_config(load_config(config_name))  # a config that cannot yield programs: exit 2 now
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    seconds = None
    if budget is not None:
        if count is not None:
            raise BadInput("give either --budget or -n, not both")
        try:
            seconds = parse_budget(budget)
        except ValueError as exc:
            raise BadInput(f"--budget: {exc}") from None
    elif count is None:
        count = 100
    try:
        names = parse_oracles(oracles)
    except ValueError as exc:
        raise BadInput(f"--oracles: {exc}") from None
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"--out {out!r} is not a directory")
    if (out_dir / "findings").is_dir() and any((out_dir / "findings").iterdir()):
        raise BadInput(f"--out {out!r} already holds findings of another campaign; choose an empty directory")
    settings = Settings(
        config=config,
        out=out_dir,
        seed=seed,
        count=count,
        budget=seconds,
        oracles=names,
        workers=workers,
        progress=sys.stderr.isatty(),
        log=lambda message: click.echo(message, err=True),
    )
    summary = run_campaign(settings)
    click.echo(
        f"tested {summary['programs_tested']} programs in {summary['testing_seconds']:.0f}s "
        f"({summary['programs_per_second_per_worker']:.2f} programs/s per worker); "
        f"{summary['findings']} findings ({summary['crashes']} crashes, {summary['hangs']} hangs) in "
        f"{len(summary['buckets'])} buckets; {summary['skipped_discontinuous']} discontinuous comparisons skipped; "
        f"{summary['skipped_construct']} checks skipped for constructs an oracle cannot check; "
        f"wrote {out_dir / 'summary.json'}",
        err=True,
    )
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """Run ``fuzz`` on ``argv`` and return the exit status (bad input: one line, status 2)."""
    return run_command(fuzz, argv, "jaxsynth fuzz")


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))
