"""XLA:CPU drops NaN in min/max reductions of 4096 or more float32 elements (found by `jaxsynth fuzz
--config fuzz-special`, program 98 of seed 7, swarm shape class `large`).

jnp.min/jnp.max propagate NaN (as numpy does) up to 1024 elements, and return the min/max of the other
elements from 4096 on: jit and eager alike, so only a reference catches it. At 4096 elements XLA puts the
reduction into a `__ynn_fusion` (optimized HLO), and it is right at every size with YNN's reduce fusions off
(`XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-LIBRARY_FUSION_TYPE_REDUCE`). Partial reductions too: seed 1014
(fuzz-special program 72, shape class `large`) reduced to `x0.max(axis=0)` of a float32[764, 678] whose columns hold
NaN and +inf, giving inf; by hand, along either axis, wrong once the operand has 4096 elements (64x64, 764x8, 8x764,
2x2048), right below (32x32, 4x678) and for 764x1. Related upstream:
openxla/xla#21461 (CPU reduce max of NaN differs for constants and parameters; open).
Exits 1 while the bug is present, 0 once it is fixed.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

bad = []
for n in (16, 1024, 4096, 65536):
    x = np.zeros(n, np.float32)
    x[n // 2] = np.nan
    for name, fn in (("min", jnp.min), ("max", jnp.max)):
        got = float(jax.jit(fn)(x))
        print(f"n={n:6d} jnp.{name}: {got!r} (numpy: {float(getattr(np, name)(x))!r})")
        if not np.isnan(got):
            bad.append((n, name))
sys.exit(1 if bad else 0)
