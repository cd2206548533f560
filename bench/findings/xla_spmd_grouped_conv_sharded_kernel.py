"""XLA's SPMD partitioner rejects a grouped convolution whose kernel is sharded on its output-feature dim.

Found by ``jaxsynth fuzz --config structured --seed 11`` (program 14, the ``sharding`` oracle). The program
runs on one device; with the same program jitted over inputs placed with legal NamedShardings on 8 virtual
CPU devices (the kernel's output-feature dim, of size 2, split over a mesh axis of size 2), compilation fails:
``INVALID_ARGUMENT: Expected output feature dimension (value 1) to be divisible by feature_group_count
(value 2)``. The partitioner shards the feature dim without rescaling ``feature_group_count`` (compare
openxla/xla#47945, a batch-sharded grouped conv, and tenstorrent/tt-metal#45396 for the same invariant
under Shardy); no upstream issue for this exact case was found.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402


def f(x, w):
    return lax.conv_general_dilated(x[None], w, (1,), "VALID", dimension_numbers=("NCH", "OIH", "NCH"),
                                    feature_group_count=2)[0]


x = np.linspace(0.0, 1.0, 4 * 13, dtype=np.float32).reshape(4, 13)
w = np.full((2, 2, 1), 0.5, dtype=np.float32)
want = np.asarray(jax.jit(f)(x, w))
mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("d0", "d1"))
w_sharded = jax.device_put(w, NamedSharding(mesh, PartitionSpec("d0", None, None)))
try:
    got = np.asarray(jax.jit(f)(x, w_sharded))
except Exception as exc:  # the partitioner's INVALID_ARGUMENT
    print(f"sharded kernel: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    sys.exit(1)
ok = np.allclose(got, want, rtol=1e-5, atol=1e-6)
print("sharded kernel:", "OK" if ok else "wrong values")
sys.exit(0 if ok else 1)
