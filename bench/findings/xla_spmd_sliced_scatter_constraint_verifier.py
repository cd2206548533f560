"""XLA's SPMD partitioner emits HLO that fails its own verifier for a row update, sliced, then replicated.

Found by ``jaxsynth fuzz --config structured,control-flow,reductions-linalg,transforms --oracles sharding --seed
102`` (structured program 1082, the ``sharding`` oracle's new variant that also constrains values inside the
program), reduced by the fuzzer to four ops, then by hand to ``x.at[0].set(y)[:, :3]`` constrained to be
replicated (``jax.lax.with_sharding_constraint(..., P())``), with ``x`` an int32[1, 4] placed replicated on a (4, 2)
mesh of 8 virtual CPU devices and ``y`` an int32[4] split 4 ways. Compilation fails with ``INTERNAL: during context
[hlo verifier]: Expected instruction to have shape equal to s32[1,4], actual shape is s32[1,3]``. The same with
``.add`` or ``.max``; right without the slice, without the constraint, or with ``x`` passed from host memory
rather than placed on the mesh. Shardy and GSPMD alike. Right on jaxlib 0.4.35; fails on 0.6.2 and 0.10.2. A
verifier failure on a valid program is a compiler bug whatever the sharding; the other verifier repros
(``xla_spmd_scatter_gather_conv_verifier.py``, ``xla_spmd_embedding_take_verifier.py``) fail on a dynamic slice
instead. No upstream issue found (searched openxla/xla for this verifier message).

A form without a scatter (``jaxsynth fuzz --config all --seed 1025``, ``reductions-linalg`` program 98, reduced by
the fuzzer to 8 ops, then by hand): ``jnp.concatenate([jnp.ones(1), x[:3]])[:3]`` constrained to be replicated, with
``x`` a float32[4] split over ``d0`` of a 4x2 mesh, fails with the same message (``f32[4]`` for ``f32[3]``); it
compiles without the final slice, without the constraint, or as a lone ``x[:3]`` constrained.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

mesh = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("d0", "d1"))
replicated = NamedSharding(mesh, PartitionSpec())


def f(x, y):
    return lax.with_sharding_constraint(x.at[0].set(y)[:, :3], replicated)


x = np.array([[0, -2, -9, 8]], dtype=np.int32)
y = np.array([-68, 48, 64, -90], dtype=np.int32)
want = np.asarray(jax.jit(f)(x, y))
try:
    got = np.asarray(jax.jit(f)(jax.device_put(x, NamedSharding(mesh, PartitionSpec(None, None))),
                                jax.device_put(y, NamedSharding(mesh, PartitionSpec("d0")))))
except Exception as exc:  # the verifier's INTERNAL error
    print(f"x.at[0].set(y)[:, :3], replicated, y sharded: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    sys.exit(1)
ok = bool((got == want).all())
print("x.at[0].set(y)[:, :3], replicated, y sharded:", got.tolist(), "OK" if ok else f"WRONG, expected {want.tolist()}")
sys.exit(0 if ok else 1)
