"""XLA's algebraic simplifier rewrites ``cumsum(pad(x))`` over an axis of size 1 into a broadcast of ``x``, dropping
the padding: ``jnp.cumsum(jnp.pad(x, ((0, 0), (2, 2))), axis=1)`` with ``x`` f32[3, 1] gives ``[x, x, x, x, x]`` per
row where it is ``[0, 0, x, x, x]``.

Found by ``jaxsynth fuzz --config models --seed 59``, program 308, the ``vmap`` and ``sharding`` oracles: the program
takes ``jnp.min(2 * jnp.cumsum(jnp.pad(x0, ((2, 2),)), axis=0))`` of an f32[1] input. Unbatched it is right;
``jax.vmap`` makes the input f32[3, 1] and the jitted batch gives ``2 * x0`` instead of 0. Also reached without a
pad in the source: ``jnp.cumprod(jnp.ones((n, 3)).at[:, 1].set(x), axis=1)`` (or ``cumsum`` of ``zeros``, or a
``vmap`` of the one-row form) is ``[x, x, x]`` per row where it is ``[1, x, x]``, as XLA turns a scatter into the
middle of a constant 3-wide axis into a pad of 1 on each side (``jaxsynth fuzz --config all --seed 909 --oracles
reference,passes,sharding``, control-flow program 1011, the ``sharding`` oracle's one-example-per-device
``shard_map`` of ``vmap(f)``).

The HLO before ``algsimp`` is ``reduce-window(pad(x, 0_0x2_2), window={size=1x5 pad=0_0x4_0})`` (JAX's cumsum);
after it, ``broadcast(reshape(x))``. A ``reduce-window`` with the same net padding written directly is right, and
so is a padded axis of size 2, a one-dimensional input, padding only before (``(2, 0)``) or only after. Op-by-op
execution and ``xla_disable_hlo_passes=algsimp`` are right.

Related, not the same: openxla/xla#48715 (algsimp folds a negative, cropping pad into reduce-window padding; open)
and openxla/xla#48875 (a fix for trivial reduce-window simplification with negative padding). No upstream issue for
this case was found.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np


def cumsum_of_padded(x):
    return jnp.cumsum(jnp.pad(x, ((0, 0), (2, 2))), axis=1)


ok = True
for shape in ((3, 1), (1, 1), (3, 2)):
    x = np.arange(1, np.prod(shape) + 1, dtype=np.float32).reshape(shape)
    want = np.cumsum(np.pad(x, ((0, 0), (2, 2))), axis=1)
    lowered = jax.jit(cumsum_of_padded).lower(x)
    for options in ({}, {"xla_disable_hlo_passes": "algsimp"}):
        got = np.asarray(lowered.compile(options)(x))
        good = bool(np.array_equal(got, want))
        print(f"x {list(shape)}, {'algsimp disabled' if options else 'default pipeline'}: row 0 {got[0].tolist()}, "
              f"expected {want[0].tolist()}: {'OK' if good else 'WRONG'}")
        ok = ok and good
sys.exit(0 if ok else 1)
