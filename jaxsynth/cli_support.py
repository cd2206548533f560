"""What every ``jaxsynth`` command line shares: one-line errors and exit statuses.

Bad input ends with exit status 2 and exactly one ``error: ...`` line on stderr, an interrupt with
130, an internal error with 1 (``JAXSYNTH_TRACEBACK=1`` re-raises it for a traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from jaxsynth.corpus.record import CorpusError
from jaxsynth.grammar import ConfigError

__all__ = ["BadInput", "first_line", "one_line", "run_command"]


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
    except (ConfigError, CorpusError) as exc:
        _error(str(exc))
        return 2
    except Exception as exc:
        if os.environ.get("JAXSYNTH_TRACEBACK"):
            raise
        _error(f"internal error: {first_line(exc)} (set JAXSYNTH_TRACEBACK=1 for a traceback)")
        return 1
    return result if isinstance(result, int) else 0
