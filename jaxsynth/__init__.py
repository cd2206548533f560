"""jaxsynth: a typed-grammar random program synthesizer for JAX.

The Python API, the same pipeline as the ``jaxsynth`` command::

    import jaxsynth

    config = jaxsynth.load_config("default")            # a built-in name or a path to a .toml file
    program = jaxsynth.sample(config, seed=0, index=7)  # a typed DAG; pure in (config, seed, index)
    source = jaxsynth.render(program)                   # Python source (libcst)
    texts = jaxsynth.lower(fn, program.input_types)     # JAXPR, StableHLO, optimized HLO of any function
    record = jaxsynth.make_record(config, 0, 7)         # record 7 of the corpus (config, seed 0)
    for record in jaxsynth.iter_records("corpus.jsonl"): ...
    report = jaxsynth.coverage("corpus.jsonl", [("relu", jax.nn.relu, ["f32[8,16]"])])

Names are loaded on first use, so ``import jaxsynth`` imports neither JAX nor libcst.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "coverage",
    "iter_records",
    "load_config",
    "lower",
    "make_record",
    "open_corpus",
    "render",
    "sample",
]

#: Public name -> the module that defines it.
_SOURCES = {
    "coverage": "jaxsynth.dataset.coverage",
    "iter_records": "jaxsynth.corpus.record",
    "load_config": "jaxsynth.grammar.config",
    "lower": "jaxsynth.lowering.core",
    "make_record": "jaxsynth.corpus.generate",
    "open_corpus": "jaxsynth.corpus.sources",
    "render": "jaxsynth.synth.render",
    "sample": "jaxsynth.synth.sample",
}

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.corpus.generate import make_record
    from jaxsynth.corpus.record import iter_records
    from jaxsynth.corpus.sources import open_corpus
    from jaxsynth.dataset.coverage import coverage
    from jaxsynth.grammar.config import load_config
    from jaxsynth.lowering.core import lower
    from jaxsynth.synth.render import render
    from jaxsynth.synth.sample import sample


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
