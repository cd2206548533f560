"""Programs that fuzz campaigns found problems with, exactly as the grammar drew them at the time.

A regression test replays its campaign's program (``program_for(config, seed, index, swarm=True)``) with that
program's own inputs (``inputs_for``, which depends on the program alone). Every change to the op table or the
sampler draws other programs from the same seeds, so the programs are kept here instead, as drawn at commit
b93e941 (before the inverse trigonometric and hyperbolic ops), pickled: ``python tests/historical.py`` in a
checkout of that commit writes ``data/historical_programs.pkl`` (a key added here needs its program from there).
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path

from jaxsynth.synth.program import Program

PATH = Path(__file__).parent / "data" / "historical_programs.pkl"
#: (config, seed, index, special-values mode) of each program the tests replay.
KEYS: tuple[tuple[str, int, int, bool], ...] = (
    ("control-flow", 90, 696, False),
    ("elementwise", 909, 1184, False),
    ("models", 21, 146, False),
    ("models", 43, 161, False),
    ("models", 43, 362, False),
    ("models", 43, 556, False),
    ("models", 45, 518, False),
    ("models", 45, 589, False),
    ("models", 47, 148, False),
    ("models", 49, 53, False),
    ("models", 51, 894, False),
    ("models", 53, 262, False),
    ("models", 55, 40, False),
    ("models", 57, 49, False),
    ("models", 59, 1494, False),
    ("models", 59, 2084, False),
    ("models", 69, 505, False),
    ("models", 104, 9, False),
    ("models", 1001, 148, False),
    ("numerics", 90, 470, False),
    ("structured", 8, 110, False),
    ("fuzz-special", 91, 2672, True),
    ("fuzz-special", 91, 4783, True),
    ("fuzz-special", 91, 4994, True),
    ("fuzz-special", 91, 5912, True),
    ("fuzz-special", 92, 3679, True),
    ("fuzz-special", 97, 403, True),
)
#: Programs drawn without the sampler's work limit (as their tests drew them, before the limit existed).
UNLIMITED = frozenset({("models", 21, 146, False)})


@functools.cache
def _programs() -> dict[tuple[str, int, int, bool], Program]:
    with PATH.open("rb") as f:
        return pickle.load(f)


def historical(config: str, seed: int, index: int, special: bool = False) -> Program:
    """Program ``index`` of a ``config`` campaign with ``seed`` (swarm testing on), as it was drawn then."""
    return _programs()[(config, seed, index, special)]


def _write() -> None:
    import importlib

    from jaxsynth.fuzz.special import special_config
    from jaxsynth.fuzz.swarm import program_for
    from jaxsynth.grammar import load_config

    module = importlib.import_module("jaxsynth.synth.sample")
    limit = module.WORK_LIMIT
    programs = {}
    for key in KEYS:
        config, seed, index, special = key
        grammar = special_config(load_config(config)) if special else load_config(config)
        module.WORK_LIMIT = 10**9 if key in UNLIMITED else limit
        programs[key] = program_for(grammar, seed, index, True)[0]
    module.WORK_LIMIT = limit
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_bytes(pickle.dumps(programs, protocol=5))


if __name__ == "__main__":
    _write()
