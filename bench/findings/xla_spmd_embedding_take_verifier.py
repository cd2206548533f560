"""XLA's SPMD partitioner emits HLO that fails its own verifier for an embedding lookup added to a sharded array:
``jnp.take(embedding, tokens, axis=0) + x`` on a 2x4 mesh.

Found by ``jaxsynth fuzz --config models --seed 59`` (program 506, the ``sharding`` oracle; reduced by hand from a
16-line program). Seen before in programs 1614 and 1790 of seed 55 (unreduced), and, with a scatter and a conv,
in ``xla_spmd_scatter_gather_conv_verifier.py``: the same message. With the embedding f32[136, 80] sharded on its
feature dim over ``d0``, the tokens i32[216] over ``d0`` and ``x`` f32[216, 80] over ``('d1', 'd0')``, compiling
fails with ``INVALID_ARGUMENT: during context [hlo verifier]: Slice dim size 80 greater than dynamic slice
dimension: 40``. The ``take`` alone compiles and is right, and so is the sum with any one of the three shardings
replaced by a replicated one. A verifier failure on a valid program is a compiler bug whatever the sharding. Found
again by ``--config models --seed 1033`` (program 11, ``sharding``): by hand ``table[tokens] * y`` with the table
f32[32, 32] over ``('d1', 'd0')``, the tokens i32[208] over ``d0`` and ``y`` f32[208, 32] over ``('d1', 'd0')``
fails the same way (``Slice dim size 32 greater than dynamic slice dimension: 16``) and compiles with ``y`` over
``('d0', 'd1')`` or replicated. No upstream issue for this case was found.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402


def f(embedding, tokens, x):
    return jnp.take(embedding, tokens, axis=0) + x


rng = np.random.default_rng(0)
args = (rng.uniform(-1, 1, (136, 80)).astype(np.float32), rng.integers(0, 136, 216).astype(np.int32),
        rng.uniform(-1, 1, (216, 80)).astype(np.float32))
specs = (PartitionSpec(None, "d0"), PartitionSpec("d0"), PartitionSpec("d1", "d0"))
mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("d0", "d1"))
want = np.asarray(jax.jit(f)(*args))
try:
    got = np.asarray(jax.jit(f)(*[jax.device_put(a, NamedSharding(mesh, s)) for a, s in zip(args, specs, strict=True)]))
except jax.errors.JaxRuntimeError as exc:
    print(f"sharded: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    sys.exit(1)
good = bool(np.allclose(got, want))
print(f"sharded: compiled, {'OK' if good else 'WRONG'}")
sys.exit(0 if good else 1)
