"""XLA:CPU computes abs(int8 -128) as 127 inside a fused convert+reduce over large arrays, and as -128
(two's-complement wraparound, numpy's answer and JAX eager's) for small ones (found by `jaxsynth fuzz
--config fuzz-special`, program 63 of seed 7, swarm shape class `large`; culprit pass: algsimp).

No upstream issue found. Whether abs(INT_MIN) is defined in StableHLO is to be checked; either way one
compiler giving two answers for the same op by array size is a bug. Exits 1 while present.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np


def f(v):
    return jnp.mean(jnp.abs(v), axis=0)


results = {}
for shape in ((8, 8), (365, 1), (64, 64), (365, 334)):
    x = np.full(shape, -128, np.int8)
    jit = float(np.asarray(jax.jit(f)(x)).ravel()[0])
    with jax.disable_jit():
        eager = float(np.asarray(f(jnp.asarray(x))).ravel()[0])
    results[shape] = (jit, eager)
    print(f"shape {shape}: jit {jit}, eager {eager}")
sys.exit(1 if len({v for pair in results.values() for v in pair}) > 1 else 0)
