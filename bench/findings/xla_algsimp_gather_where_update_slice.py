"""XLA's algebraic simplifier breaks a `jnp.where` of a gathered value written back into the gathered array:

    v = jnp.full((5,), 0.775)[jnp.full((5,), 4)]          # a gather with a repeated index
    w = jnp.where(mask, lax.dynamic_index_in_dim(v, i, keepdims=False), 0.25)
    lax.dynamic_update_slice_in_dim(v, w, 1, axis=0)

gives 0.25 at positions 3 and 4 under jit for `mask = [True, False, True, True]`, `i = 2`, where every `True`
must take `v[i] = 0.775` (JAX eager and numpy). Without the gather (`v = jnp.full((5,), 0.775)`) it is right.

Found by `jaxsynth fuzz --config fuzz-special,structured,default,nn-special,low-precision-ints --seed 97`
(structured program 269: the `reference`, `eager`, `passes` and `vmap` oracles; reduced to these 4 ops, culprit
pass `algsimp`; the `passes` oracle's disabled set differed from the default only by `fusion`). Likely related to
`xla_algsimp_gather_scatter_unit_batch.py` (a gather of a repeated row written back, also wrong once `algsimp`
has run).

Across releases: wrong on jaxlib 0.6.2 and 0.10.2; right on 0.4.26 and 0.4.35. No upstream issue found. Exits 1
while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def f(mask, i):
    v = jnp.full((5,), 0.775, dtype=jnp.float32)[jnp.full((5,), 4, dtype=jnp.int32)]
    w = jnp.where(mask, lax.dynamic_index_in_dim(v, i, axis=0, keepdims=False), jnp.float32(0.25))
    return lax.dynamic_update_slice_in_dim(v, w, 1, axis=0)


mask, i = np.array([True, False, True, True]), np.int32(2)
got = np.asarray(jax.jit(f)(mask, i))
with jax.disable_jit():
    eager = np.asarray(f(jnp.asarray(mask), jnp.asarray(i)))
print(f"jit {got.tolist()}\neager {eager.tolist()}")
sys.exit(0 if np.array_equal(got, eager) else 1)
