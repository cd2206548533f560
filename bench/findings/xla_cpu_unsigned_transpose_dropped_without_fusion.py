"""XLA:CPU drops the transpose in ``x.T.reshape(...)`` of an unsigned integer array when ``fusion`` is disabled.

Found by ``jaxsynth fuzz --config all --seed 100`` (``default`` program 101, the ``passes`` oracle) as a uint8
``b.at[:, idx].add(x)`` whose scatter wants its updates as ``x.T``; reduced by hand to ``x.T.reshape(8)``.
After layout assignment the transpose is ``copy(transpose(x))``: the transpose a bitcast (layout {0,1}), the
copy the real transpose to {1,0}, then a bitcast for the reshape. With the ``fusion`` pass disabled,
``algsimp`` after layout assignment (the ``simplification_after_layout_assignment`` pipeline) drops the
layout-changing copy for uint8, uint16 and uint32, so the result is ``x.reshape(8)``: ``[1, 2, ..., 8]`` where
``[1, 5, 2, 6, 3, 7, 4, 8]`` is right. The same arrays as int8, int16, int32, float16 or float32 keep the copy
and are right, as are ``x.T`` alone and the default pipeline (which fuses the copy). In the scatter, the
updates of the wrong rows are added (with repeated indices, sums land in the wrong rows). Right on jaxlib
0.6.2: a regression since. No upstream issue found (searched openxla/xla for algsimp dropping a copy of a
transpose).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np

UNFUSED = {"xla_disable_hlo_passes": "fusion"}
ok = True
for dtype in (jnp.uint8, jnp.uint16, jnp.uint32, jnp.int8, jnp.int32):
    x = jnp.arange(1, 9, dtype=dtype).reshape(2, 4)
    got = np.asarray(jax.jit(lambda x: x.T.reshape(8)).lower(x).compile(UNFUSED)(x))
    expected = np.asarray(x).T.reshape(8)
    print(f"{np.dtype(dtype).name} x.T.reshape(8), fusion disabled: {got.tolist()}, expected {expected.tolist()}")
    ok &= bool((got == expected).all())

# the form the fuzzer found: a scatter whose updates are transposed
b, x = jnp.full((2, 4), 75, jnp.uint8), jnp.arange(1, 9, dtype=jnp.uint8).reshape(2, 4)
got = np.asarray(jax.jit(lambda b, x: b.at[:, jnp.array([0, 1, 2, 3])].add(x)).lower(b, x).compile(UNFUSED)(b, x))
expected = np.asarray(b) + np.asarray(x)
print(f"uint8 b.at[:, [0, 1, 2, 3]].add(x), fusion disabled: {got.tolist()}, expected {expected.tolist()}")
ok &= bool((got == expected).all())
sys.exit(0 if ok else 1)
