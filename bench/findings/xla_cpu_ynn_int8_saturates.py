"""XLA:CPU saturates int8 and uint8 arithmetic inside a `__ynn_fusion`: `jnp.min(x, axis=1, keepdims=True) - y` of int8
-128 and 40 gives -128 for large arrays, where HLO's two's-complement wraparound (numpy's answer, JAX eager's, and
XLA's own for small arrays) gives 88 (found by `jaxsynth fuzz --config fuzz-special`, program 83 of seed 90,
swarm shape class `large`: `jnp.maximum(jnp.min(x0, axis=1, keepdims=True) - x1, 60)` gave 60 where 88 is
right, in jit against both the reference and eager; reduced from 12 ops to 3, then by hand).

The optimized HLO fuses reduce-min, broadcast and subtract into one `__ynn_fusion`; with YNN's reduce fusions
off (`XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-LIBRARY_FUSION_TYPE_REDUCE`) the result is 88 at every
size. `xla_cpu_int8_abs_min.py` (abs of int8 -128 giving 127 in a large mean) is likely the same saturation.
The same with uint8 (second case below): `jnp.max(5 * x + 22, axis=0)` of uint8 200 gives 255 for a
uint8[64, 575] (`jaxsynth fuzz --config all --seed 96`, fuzz-special program 552, the `reference` and `eager`
oracles; reduced to 2 ops), where wraparound gives 254, as it does for a uint8[8, 8] and with YNN's reduce
fusions off.
No upstream issue found (searched openxla/xla and jax-ml/jax for YNN int8 saturation and wraparound).
Exits 1 while present.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np


def f(x, y):
    return jnp.min(x, axis=1, keepdims=True) - y


def g(x):  # uint8: 5 * 200 + 22 = 1022 wraps around to 254; saturated, 255
    return jnp.max(jnp.uint8(5) * x + jnp.uint8(22), axis=0)


ok = True
for shape in ((8, 8), (926, 860)):
    x, y = np.full(shape, -128, np.int8), np.full(shape, 40, np.int8)
    jit = int(np.asarray(jax.jit(f)(x, y)).ravel()[0])
    with jax.disable_jit():
        eager = int(np.asarray(f(jnp.asarray(x), jnp.asarray(y))).ravel()[0])
    print(f"int8 min - y, shape {shape}: jit {jit}, eager {eager} (two's complement: {(-128 - 40 + 128) % 256 - 128})")
    ok = ok and jit == eager == 88
for shape in ((8, 8), (64, 575)):
    x = np.full(shape, 200, np.uint8)
    jit = int(np.asarray(jax.jit(g)(x)).ravel()[0])
    with jax.disable_jit():
        eager = int(np.asarray(g(jnp.asarray(x))).ravel()[0])
    print(f"uint8 max(5 * x + 22), shape {shape}: jit {jit}, eager {eager} (wraparound: {(5 * 200 + 22) % 256})")
    ok = ok and jit == eager == 254
sys.exit(0 if ok else 1)
