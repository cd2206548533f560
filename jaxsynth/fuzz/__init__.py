"""Fuzzing XLA and JAX with typed random programs.

Public API (imports no JAX; the worker processes do)::

    from jaxsynth.fuzz import Settings, run_campaign
    summary = run_campaign(Settings(config=load_config("default"), out=Path("fuzz-out"), count=1000))

Modules: ``oracles`` (the differential checks), ``metamorphic`` (reference-free oracles: sharding,
export, jitvmap, unroll, rewrite), ``special`` (special-values mode), ``swarm`` (per-program
sub-grammars), ``tolerance`` (dtype/depth tolerances, simulated
rounding, discontinuities), ``reference`` (the instrumented numpy interpreter), ``isolate`` and
``worker`` (subprocess workers with timeouts), ``reduce`` (typed DAG reduction), ``findings``
(folders, repro.py, buckets, the findings database), ``campaign`` (the loop), ``inject`` (installs
the test-only JAX faults of ``JAXSYNTH_INJECT``); the ``jaxsynth fuzz`` command is ``jaxsynth.cli.fuzz``. Names are
loaded lazily, so ``python -m jaxsynth.fuzz.worker`` and ``python -m jaxsynth.fuzz.inject``
start without importing the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["DEFAULT_PASSES", "ORACLES", "Settings", "inputs_for", "parse_duration", "parse_oracles", "run_campaign",
           "run_campaigns"]

_SOURCES = {
    "Settings": "campaign",
    "inputs_for": "campaign",
    "parse_duration": "campaign",
    "run_campaign": "campaign",
    "run_campaigns": "campaign",
    "DEFAULT_PASSES": "oracles",
    "ORACLES": "oracles",
    "parse_oracles": "oracles",
}

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.fuzz.campaign import Settings, inputs_for, parse_duration, run_campaign, run_campaigns
    from jaxsynth.fuzz.oracles import DEFAULT_PASSES, ORACLES, parse_oracles


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
