"""Shared fixtures: a corpus generated once per session through the CLI, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Records in the shared default corpus (full default emit).
CORPUS_N = 150


@pytest.fixture(scope="session")
def corpus150(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``jaxsynth generate -n 150 --workers 1`` on the default config with the default emit."""
    from jaxsynth.cli import run

    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    status = run(["generate", "-n", str(CORPUS_N), "--workers", "1", "-o", str(path), "--no-progress"])
    assert status == 0
    return path
