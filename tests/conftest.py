"""Shared fixtures: a corpus generated once per session through the CLI, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Records in the shared default corpus (full default emit).
CORPUS_N = 150


@pytest.fixture(scope="session")
def corpus150(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """``jaxsynth generate -n 150 --workers 1`` on the default config with the default emit: generated once per
    test run, whatever the number of xdist workers (the first to ask writes it under a lock, the others read it;
    the tests only read it), where each worker used to spend ~16 s of the suite generating its own."""
    from filelock import FileLock

    from jaxsynth.cli import run

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # xdist: the workers' base folders share a parent
        shared = shared.parent
    folder = shared / "corpus150"
    path = folder / "corpus.jsonl"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "done").exists():
            folder.mkdir(exist_ok=True)
            status = run(["generate", "-n", str(CORPUS_N), "--workers", "1", "-o", str(path), "--no-progress"])
            assert status == 0
            (folder / "done").touch()
    return path
