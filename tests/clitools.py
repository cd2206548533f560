"""The CLI helpers the command tests share: run ``jaxsynth`` in-process, and check a one-line bad-input error."""

from __future__ import annotations

import pytest

from jaxsynth.cli import run


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """``jaxsynth ARGS...`` in this process: (exit status, stdout, stderr)."""
    status = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status: int, err: str, *needles: str) -> str:
    """Assert exit status 2 and exactly one ``error: ...`` line containing every needle; return that line."""
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
