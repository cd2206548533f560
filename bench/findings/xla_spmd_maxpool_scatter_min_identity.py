"""XLA's SPMD partitioner gives a scatter-min the identity of a max pool: `jnp.zeros(5).at[jnp.arange(5)].min(p)`,
with `p` a strided max pool (`lax.reduce_window`, window 3, stride 2, `'VALID'`) of a float32[12] sharded 4 ways,
is -inf at element 0 where 0 is right (int32: -2147483648, the pool's init value).

Found by `jaxsynth fuzz --config all --seed 96` (structured program 422, the `sharding` oracle): an int32 max pool
over a `'SAME'` window feeding `x1[1:7].at[idx].min(...)` gave -2147483648 where -67 is right; the reducer left 3
ops, not pass-dependent. Reduced by hand:
- wrong with the pool's input sharded over `d1` of a 2x4 mesh; with Shardy (JAX's default) a 1x4 mesh is right,
  with GSPMD (`jax_use_shardy_partitioner=False`) it is wrong too;
- right unsharded, and right for the same pool into `.at[].set`, into `jnp.minimum`, alone, or with stride 1; right
  for a sum pool, or a strided slice instead of the pool, into the same scatter-min.

Across releases: wrong on jaxlib 0.6.2 (GSPMD, its default; also with `algsimp` disabled) and 0.10.2; right on
0.4.26 and 0.4.35. No upstream issue found (searched openxla/xla and jax-ml/jax for sharded reduce_window with
scatter). Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402


def f(b):
    init = -jnp.inf if b.dtype == jnp.float32 else jnp.iinfo(b.dtype).min
    pooled = lax.reduce_window(b, jnp.asarray(init, b.dtype), lax.max, (3,), (2,), "VALID")
    return jnp.zeros(5, b.dtype).at[jnp.arange(5)].min(pooled)


mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("d0", "d1"))
ok = True
for dtype in (np.float32, np.int32):
    b = np.array([42, 86, 91, 17, 1, 1, 1, 1, 4, 4, 4, 4], dtype)
    want = np.asarray(jax.jit(f)(b))
    got = np.asarray(jax.jit(f)(jax.device_put(b, NamedSharding(mesh, PartitionSpec("d1")))))
    good = np.array_equal(got, want)
    print(f"{np.dtype(dtype).name}: sharded over d1 of a 2x4 mesh {got.tolist()}, one device {want.tolist()}: "
          f"{'OK' if good else 'WRONG'}")
    ok = ok and good
sys.exit(0 if ok else 1)
