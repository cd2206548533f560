"""Shared fixtures: a corpus generated once per session through the CLI, in-process; jaxsynth's bytecode written
once per test run."""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest
from records import CORPUS_N

import jaxsynth


def pytest_configure(config: pytest.Config) -> None:
    """Compile jaxsynth (and the test helpers and benchmarks that child processes import or run) to bytecode once,
    in the process that starts the test processes. The suite starts a few hundred Python processes (fuzz and
    corpus workers, repros, fresh-process checks), each importing most of jaxsynth; where
    ``PYTHONDONTWRITEBYTECODE`` is set (as on the CI image) none of them writes its bytecode, so on a clean checkout
    each compiled 27,000 lines from source (~0.15 s a start; 4 s of the two-worker campaign test's 47 s)."""
    if not hasattr(config, "workerinput"):  # not an xdist test process: the controller, or a run with -n 0
        for folder in (Path(jaxsynth.__file__).parent, Path(__file__).parent, Path(__file__).parents[1] / "bench"):
            if folder.is_dir():
                compileall.compile_dir(folder, quiet=2)


@pytest.fixture(scope="session")
def shared_corpus(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """``jaxsynth generate -n CORPUS_N --workers 1`` on the default config with the default emit: generated once per
    test run, whatever the number of xdist workers (the first to ask writes it under a lock, the others read it;
    the tests only read it), where each worker used to spend ~16 s of the suite generating its own."""
    from filelock import FileLock

    from jaxsynth.cli import run

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # xdist: the workers' base folders share a parent
        shared = shared.parent
    folder = shared / "shared_corpus"
    path = folder / "corpus.jsonl"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "done").exists():
            folder.mkdir(exist_ok=True)
            status = run(["generate", "-n", str(CORPUS_N), "--workers", "1", "-o", str(path), "--no-progress"])
            assert status == 0
            (folder / "done").touch()
    return path
