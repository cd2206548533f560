"""XLA's SPMD partitioner mixes up two cumulative ops over the same sharded array: `(lax.cummin(x), jnp.cumsum(x))`
of an int32[6] sharded 2 ways gives a wrong `cumsum` (2147483646 at element 0 for `x[0] = 3`; with `jnp.cumprod`,
2147483645 and wrong signs), while each op alone, or the pair unsharded, is right.

Found by `jaxsynth fuzz --config fuzz-special,structured,default,nn-special,low-precision-ints --seed 97`
(structured program 258, the `sharding` oracle): `jnp.logical_or(lax.top_k(x0, 1)[0] <= lax.cummin(x1, axis=0),
jnp.cumprod(x1, axis=0) < lax.cummin(x1, axis=0))` with `x1` sharded over `d1` of a 4x2 mesh; the values are
integers, so no rounding is involved. Reduced by hand: wrong on a 1x2 mesh too, for `cummin` with `cumsum` or
`cumprod`; right for `cummax` with `cumprod`, and for each op alone.

Across releases: wrong on jaxlib 0.4.26, 0.4.35, 0.6.2 and 0.10.2 (on 0.4.26 each op alone is wrong too, an
older bug fixed since). No upstream issue found. Exits 1 while the bug is present, 0 once it is fixed.
jax/jaxlib 0.10.2: exits 1.
"""
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

x = np.array([3, -2, 5, -8, 9, -6], dtype=np.int32)
mesh = Mesh(np.array(jax.devices()[:2]).reshape(1, 2), ("d0", "d1"))
ok = True
for name, second in (("cumsum", jnp.cumsum), ("cumprod", jnp.cumprod)):
    f = jax.jit(lambda x, second=second: (lax.cummin(x, axis=0), second(x, axis=0)))
    want = [np.asarray(a) for a in f(x)]
    got = [np.asarray(a) for a in f(jax.device_put(x, NamedSharding(mesh, PartitionSpec("d1"))))]
    good = all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
    print(f"(cummin(x), {name}(x)), x sharded 2 ways: {[a.tolist() for a in got]}\n"
          f"    one device: {[a.tolist() for a in want]}: {'OK' if good else 'WRONG'}")
    ok = ok and good
sys.exit(0 if ok else 1)
