"""What every ``jaxsynth`` command line shares: one-line errors and exit statuses.

Bad input ends with exit status 2 and exactly one ``error: ...`` line on stderr, an interrupt with
130, an internal error with 1 (``JAXSYNTH_TRACEBACK=1`` re-raises it for a traceback).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from jaxsynth.corpus.record import CorpusError
from jaxsynth.grammar import ConfigError, GrammarConfig, load_config
from jaxsynth.workers.faults import FaultError

__all__ = [
    "DEFAULT_EMIT",
    "BadInput",
    "corpus_arguments",
    "open_corpus_or_fail",
    "dataset_call",
    "first_line",
    "load_config_or_fail",
    "one_line",
    "parse_emit_option",
    "prepare_jax",
    "prepare_output",
    "run_command",
]

DEFAULT_EMIT = "jaxpr,stablehlo,optimized_hlo"


class BadInput(click.ClickException):
    """A problem with the user's input: one line on stderr, exit status 2."""

    exit_code = 2


def first_line(exc: BaseException) -> str:
    """``TypeName: first line of the message``."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def one_line(message: str) -> str:
    """``message`` with its lines joined by single spaces."""
    return " ".join(part.strip() for part in message.strip().splitlines() if part.strip())


def _error(message: str) -> None:
    click.echo(f"error: {one_line(message)}", err=True)


def run_command(command: click.Command, argv: Sequence[str] | None, prog_name: str) -> int:
    """Run ``command`` on ``argv`` (default ``sys.argv[1:]``) and return its exit status."""
    try:
        result = command.main(
            args=list(argv) if argv is not None else None, prog_name=prog_name, standalone_mode=False
        )
    except click.exceptions.NoArgsIsHelpError as exc:  # bare ``jaxsynth``: same as ``--help``
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code
    except BrokenPipeError:  # e.g. ``jaxsynth stats c.jsonl | head``
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (click.exceptions.Abort, KeyboardInterrupt):
        _error("interrupted")
        return 130
    except (ConfigError, CorpusError, FaultError) as exc:  # FaultError: the test-only JAXSYNTH_INJECT
        _error(str(exc))
        return 2
    except Exception as exc:
        if os.environ.get("JAXSYNTH_TRACEBACK"):
            raise
        _error(f"internal error: {first_line(exc)} (set JAXSYNTH_TRACEBACK=1 for a traceback)")
        return 1
    return result if isinstance(result, int) else 0


def load_config_or_fail(name_or_path: str) -> GrammarConfig:
    """Load and validate a config, and check that it can yield programs within its bounds (before work starts)."""
    from jaxsynth.synth.sample import check_config

    try:
        return check_config(load_config(name_or_path))
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def prepare_jax() -> None:
    """Pin JAX to CPU and one XLA thread, as generation workers are, if JAX is not loaded yet."""
    if "jax" not in sys.modules:
        from jaxsynth.lowering import configure_jax_for_workers

        configure_jax_for_workers(1)


def prepare_output(path: str | os.PathLike[str], option: str, *, directory: bool = False) -> Path:
    """Make an output ready before any work starts, the same way for every command that writes.

    Creates the missing parent folders of the file ``path`` (or the folder ``path`` itself with
    ``directory``), then proves the folder writable by creating and removing a probe file in it
    (permission bits do not tell: root ignores them, a read-only mount does not), and an existing
    file writable by opening it for appending (its bytes are left alone). Raises :class:`BadInput`
    (one line, exit 2) naming ``option``, the path and the reason.
    """
    target = Path(path)
    folder = target if directory else target.parent
    where = f"{option} {os.fspath(path)!r}"
    if target.exists() and target.is_dir() != directory:
        expected, found = ("directory", "a file") if directory else ("file", "a directory")
        raise BadInput(f"{where} is {found}; expected a {expected}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".jaxsynth-probe-", dir=folder)
        os.close(handle)
        os.remove(probe)
        if not directory and target.exists():
            with open(target, "ab"):
                pass
    except OSError as exc:
        raise BadInput(f"cannot write {where}: {exc.strerror or exc}") from None
    return target


def parse_emit_option(spec: str) -> tuple[str, ...]:
    from jaxsynth.lowering import parse_emit

    try:
        return parse_emit(spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--emit'") from None


def dataset_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into jaxsynth.dataset, turning bad input and missing extras into one-line errors."""
    from jaxsynth.corpus.dedup import DedupError
    from jaxsynth.dataset.novelty import NoveltyError
    from jaxsynth.dataset.plots import MissingExtra
    from jaxsynth.dataset.split import SplitError

    try:
        return fn(*args, **kwargs)
    except (MissingExtra, SplitError, DedupError, NoveltyError) as exc:
        raise BadInput(str(exc)) from None
    except OSError as exc:
        raise BadInput(f"{exc.strerror or exc}: {exc.filename!r}" if exc.filename else str(exc)) from None


# ---------------------------------------------------------------- the options every command spells the same way
SEED_RANGE = click.IntRange(0, 2**63 - 1)


def config_option(default: str | None = "default", help: str | None = None) -> Callable[[Any], Any]:
    """``--config NAME|PATH`` (parameter ``config_name``)."""
    return click.option(
        "--config", "config_name", default=default, show_default=default is not None, metavar="NAME|PATH",
        help=help or "Built-in config name (see `jaxsynth configs`) or path to a .toml grammar config.",
    )


def seed_option(help: str = "Seed: record i of a run depends only on (config, seed, i).") -> Callable[[Any], Any]:
    """``--seed S`` (parameter ``seed``), 0 <= S < 2**63."""
    return click.option("--seed", type=SEED_RANGE, default=0, show_default=True, help=help)


def count_option(help: str, default: int | None) -> Callable[[Any], Any]:
    """``-n/--count N`` (parameter ``count``), N >= 0."""
    return click.option(
        "-n", "--count", "count", type=click.IntRange(min=0), default=default, show_default=default is not None,
        help=help,
    )


def out_option(help: str, *, directory: bool, default: str | None = None, required: bool = False):
    """``-o/--out PATH`` (parameter ``out``): a file, or a directory with ``directory=True``."""
    path = click.Path(file_okay=not directory, dir_okay=directory)
    return click.option(
        "-o", "--out", "out", type=path, default=default, required=required, show_default=default is not None,
        metavar="DIR" if directory else "FILE", help=help,
    )


def corpus_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """``CORPUS...`` (parameter ``sources``) and ``--format`` (parameter ``corpus_format``): files, globs,
    folders and ``-`` for standard input, read in order as one corpus (see :mod:`jaxsynth.corpus.sources`)."""
    from jaxsynth.corpus.record import FORMATS

    func = click.option(
        "--format", "corpus_format", type=click.Choice(FORMATS), default=None,
        help="Format of the input corpus: needed for msgpack on stdin ('-'), and overrides file suffixes "
        "[default: from each file's suffix; jsonl on stdin].",
    )(func)
    return click.argument("sources", nargs=-1, required=True, metavar="CORPUS...")(func)


def open_corpus_or_fail(sources: Sequence[str], fmt: str | None) -> Any:
    """The :class:`~jaxsynth.corpus.sources.Corpus` of ``CORPUS...`` (bad sources: one line, exit 2)."""
    from jaxsynth.corpus.sources import open_corpus

    try:
        return open_corpus(sources, fmt)
    except CorpusError as exc:
        raise BadInput(str(exc)) from None


def workers_option(default: int | None, help: str) -> Callable[[Any], Any]:
    """``--workers W`` (parameter ``workers``), W >= 1."""
    return click.option(
        "--workers", type=click.IntRange(min=1), default=default, show_default=default is not None, help=help
    )
