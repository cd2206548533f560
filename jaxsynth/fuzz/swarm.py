"""Swarm testing: each program is sampled from a random sub-grammar of the campaign's config.

Program ``i`` draws, from (seed, i) alone, a subset of the config's op categories, of the ops in them,
of its dtypes, and one shape class, and is sampled from the config restricted to them. Rare feature
combinations then appear often, and features that mask a bug (a cast that hides a rounding, a
reduction that averages an error away) are left out of whole programs (Groce et al., "Swarm Testing",
ISSTA 2012). The sub-grammar only ever removes features or narrows shapes, except the ``large`` shape
class: dimensions up to 1024, rank <= 2 (up to about 10^6 elements), drawn at :data:`LARGE_RATE`, which
reaches the code paths XLA:CPU takes only for large arrays (tiled and parallel loops, library calls).
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from jaxsynth.grammar import GrammarConfig
from jaxsynth.grammar.config import ConfigError, validate
from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.opspec import CATEGORIES
from jaxsynth.synth import sample
from jaxsynth.synth.program import Program
from jaxsynth.synth.sample import check_producible

__all__ = ["ITERATING", "LARGE_RATE", "SHAPE_CLASSES", "program_for", "swarm_config"]

LARGE_RATE = 0.03
#: Transforms that the reference runs one slice at a time, left out of the ``large`` class with the loops.
ITERATING = ("map", "vmap")
KEEP_CATEGORY = 0.6
DROP_OP = 0.15
KEEP_DTYPE = 0.6
#: shape class -> (probability, TypeBounds overrides); "config" keeps the config's own bounds.
SHAPE_CLASSES: dict[str, tuple[float, dict[str, int]]] = {
    "large": (LARGE_RATE, {"min_rank": 1, "max_rank": 2, "min_dim": 256, "max_dim": 1024}),
    "tiny": (0.2, {"max_dim": 2}),
    "vectors": (0.15, {"min_rank": 1, "max_rank": 1}),
    "config": (1.0, {}),
}


def _shape_overrides(config: GrammarConfig, name: str) -> dict[str, int] | None:
    t = config.types
    over = dict(SHAPE_CLASSES[name][1])
    if name == "large":
        return over if t.max_rank >= 1 else None
    if name == "tiny":
        over["max_dim"] = max(t.min_dim, min(t.max_dim, 2))
        return over if over["max_dim"] < t.max_dim else None
    if name == "vectors":
        return over if t.min_rank <= 1 <= t.max_rank and t.max_rank > 1 else None
    return over


def swarm_config(config: GrammarConfig, seed: int, index: int) -> tuple[GrammarConfig, dict[str, Any]]:
    """The sub-grammar of program ``index`` and a description of it (categories, dtypes, shape class,
    dropped ops). Depends only on (config, seed, index)."""
    rng = np.random.default_rng([seed, index, 0x5A4A])
    live = [c for c in CATEGORIES if any(config.op_weight(n) > 0 for n, s in REGISTRY.items() if s.category == c)]
    kept = [c for c in live if rng.random() < KEEP_CATEGORY]
    if not kept:
        kept = [live[int(rng.integers(len(live)))]]
    categories = dict(config.weights.categories)
    for c in live:
        if c not in kept:
            categories[c] = 0.0
    ops = dict(config.weights.ops)
    dropped = []
    for name in sorted(REGISTRY):
        if REGISTRY[name].category in kept and config.op_weight(name) > 0 and rng.random() < DROP_OP:
            ops[name] = 0.0
            dropped.append(name)
    dtypes = {name: w for name, w in sorted(config.types.dtypes.items()) if w > 0}
    kept_dtypes = [d for d in dtypes if rng.random() < KEEP_DTYPE] or [list(dtypes)[int(rng.integers(len(dtypes)))]]
    roll = rng.random()
    shape, over = "config", {}
    for name, (p, _) in SHAPE_CLASSES.items():
        if roll < p:
            candidate = _shape_overrides(config, name)
            if candidate is not None:
                shape, over = name, candidate
                break
        roll -= p
    if shape == "large":
        # a loop multiplies its carries' size by its trips: a scan of 868 steps over 10^6-element carries took
        # minutes in the reference and in eager mode and exhausted memory, and large single ops already reach
        # XLA:CPU's large-shape code paths. lax.map and vmap step through a large dim one slice at a time in the
        # reference: a map over 518 rows of a map over 846 (transforms seed 90, program 387) took over 2 minutes
        if categories.get("loops", 1.0) > 0:
            categories["loops"] = 0.0
            kept = [c for c in kept if c != "loops"]
        for name in ITERATING:
            if REGISTRY[name].category in kept and config.op_weight(name) > 0 and name not in dropped:
                ops[name] = 0.0
                dropped.append(name)
    types = msgspec.structs.replace(config.types, dtypes={d: dtypes[d] for d in kept_dtypes}, **over)
    weights = msgspec.structs.replace(config.weights, categories=categories, ops=ops)
    sub = msgspec.structs.replace(config, types=types, weights=weights)
    description = {"categories": kept, "dtypes": kept_dtypes, "shape": shape, "dropped_ops": dropped}
    try:  # e.g. every op of the kept categories dropped, or none of them producing a kept dtype (in
        # special-values mode, comparisons and loops over float16 and int8: fuzz-special seed 90, program 79)
        return check_producible(validate(sub)), description
    except ConfigError as exc:  # keep the config's ops
        description["fallback"] = str(exc)
        return config, description


def program_for(config: GrammarConfig, seed: int, index: int, swarm: bool) -> tuple[Program, dict[str, Any] | None]:
    """Program ``index`` of a campaign: from its swarm sub-grammar, or from ``config`` itself."""
    if not swarm:
        return sample(config, seed, index), None
    sub, description = swarm_config(config, seed, index)
    return sample(sub, seed, index), description
