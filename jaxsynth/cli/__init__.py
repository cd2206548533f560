"""The ``jaxsynth`` command line: one click group, one module per command group.

    generate.py  generate, replay, configs       lower.py  lower
    dataset.py   stats, split, export, dedup,    fuzz.py   fuzz
                 merge, coverage
    support.py   one-line errors, exit statuses and the option parsing the commands share

Bad input (unknown config key, bad type string, missing file, corrupt corpus, usage errors) ends
with exit status 2 and exactly one ``error: ...`` line on stderr, never a traceback. ``replay`` exits
1 when a record does not reproduce. Set ``JAXSYNTH_TRACEBACK=1`` to see tracebacks of internal
errors. JAX is imported only by the commands that need it. ``python -m jaxsynth`` is the same command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from jaxsynth.cli import dataset, fuzz, generate, lower
from jaxsynth.cli.support import run_command

__all__ = ["cli", "main", "run"]


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from jaxsynth.corpus.generate import toolchain

    tools = toolchain()
    click.echo(f"jaxsynth {tools.jaxsynth}, jax {tools.jax}, jaxlib {tools.jaxlib}, backend {tools.backend}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
    help="Print the versions of jaxsynth, jax and jaxlib and JAX's backend, and exit.",
)
def cli() -> None:
    """Typed-grammar random program synthesizer for JAX."""


for _command in (
    generate.generate,
    lower.lower_command,
    generate.replay,
    dataset.stats,
    dataset.split_command,
    dataset.export_command,
    dataset.dedup_command,
    dataset.merge_command,
    dataset.coverage_command,
    generate.configs,
    fuzz.fuzz,
):
    cli.add_command(_command)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    return run_command(cli, argv, "jaxsynth")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point: ``jaxsynth ...``."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
