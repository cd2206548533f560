"""XLA:CPU drops NaN in min/max reductions of 4096 or more float32 elements (found by `jaxsynth fuzz
--config fuzz-special`, program 98 of seed 7, swarm shape class `large`).

jnp.min/jnp.max propagate NaN (as numpy does) up to 1024 elements, and return the min/max of the other
elements from 4096 on: jit and eager alike, so only a reference catches it. Related upstream:
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
