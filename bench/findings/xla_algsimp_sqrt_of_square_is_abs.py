"""XLA's algebraic simplifier rewrites `sqrt(x * x)` to `abs(x)`, which is not IEEE arithmetic where the square
overflows or underflows: under jit `jnp.sqrt(jnp.square(x))` returns |x| where op-by-op execution (and numpy) give
inf for a square that overflows and 0 for one that underflows. Found by `jaxsynth fuzz --config all --seed 94`
(fuzz-special, program 99: `jnp.sign(jnp.sin(jnp.abs(jnp.sqrt(jnp.square(x2)))))` in float16, where the square of a
subnormal -6e-08 is 0 op by op, so `sign(sin(0))` is 0, and jit's `sign(sin(6e-08))` is 1; reference, eager and
passes oracles; `algsimp` disabled gives the op-by-op value).

Upstream: openxla/xla#42732 (the `log(exp(x))` and `sqrt(x*x)` folds ignore intermediate overflow; closed) and
jax-ml/jax#37919 (`sqrt(abs(square(x)))` at float32 max; closed); both show the overflow side only. Still present
in jaxlib 0.10.2, including the underflow side, and in every release tried since 0.4.26. Exits 1 while present.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np


def f(x):
    return jnp.sqrt(jnp.square(x))


wrong = 0
for dtype, value, why in ((np.float16, 300.0, "square overflows"), (np.float16, -6e-08, "square underflows"),
                          (np.float32, 3e19, "square overflows"), (np.float32, 1e-30, "square underflows")):
    x = np.full(4, value, dtype)
    jit = np.asarray(jax.jit(f)(x))[0]
    with jax.disable_jit():
        eager = np.asarray(f(x))[0]
    with np.errstate(over="ignore", under="ignore"):
        ieee = np.sqrt(np.square(x))[0]
    print(f"{np.dtype(dtype).name} {x[0]!r} ({why}): jit {jit!r}, eager {eager!r}, numpy {ieee!r}")
    wrong += jit != ieee
sys.exit(1 if wrong else 0)
