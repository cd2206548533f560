"""XLA's SPMD partitioner miscompiles a scatter inside a partial-manual ``shard_map``: silent wrong values.

Found by the ``sharding`` oracle's partial-manual ``shard_map`` variant (new in this tree) in a sharding-only
campaign (``jaxsynth fuzz --config all --oracles sharding --seed 103``): ``control-flow`` program 74, reduced by
the fuzzer to ``x0.at[1].max(-1.0)`` with its result constrained to be split over an auto axis, and program 262,
``elu(x0.at[4].add(-2.0, mode='clip'))``, the same way. Reduced by hand to: ``shard_map`` manual over ``b`` of a
(2, 4) mesh (``axis_names={'b'}``; ``d0`` left to the partitioner), whose body is ``x.at[:, 1].set(100.0)``
constrained to ``P(None, 'd0')``. Column 1 is set, but columns 2, 4 and 6 (the first column of each other shard)
come out as the *old* column 1:

    row 0: got [0, 100, 1, 3, 1, 5, 1, 7], want [0, 100, 2, 3, 4, 5, 6, 7]

JAX's StableHLO is right (a scatter in an ``sdy.manual_computation``, then the constraint); the partitioned
HLO computes the shard offset wrong. Wrong under Shardy and GSPMD alike, whether the constraint names the
context's abstract mesh, the concrete mesh or a bare ``PartitionSpec`` under ``jax.set_mesh``; the same on
jax/jaxlib 0.4.35 (``auto=``) and 0.6.2. Right without the constraint, right under plain ``jax.jit`` (no manual
axis) whatever the input's sharding, and right with ``XLA_FLAGS=--xla_disable_hlo_passes=algsimp``. That, and
the symptom (a one-column scatter that also lands on every other shard's first column), match
``xla_spmd_scatter_wrong_with_algsimp.py``, whose cases need a second op before the scatter: likely the same
partitioner bug, reached here by a lone scatter through a manual axis. No upstream issue found (searched
openxla/xla and jax-ml/jax).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import sys  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("b", "d0"))


def body(x):  # each shard of the batch axis: f32[4, 8]; its columns split over d0 by the partitioner
    y = x.at[:, 1].set(100.0)
    return jax.lax.with_sharding_constraint(y, NamedSharding(jax.sharding.get_abstract_mesh(),
                                                             PartitionSpec(None, "d0")))


shard_map = jax.shard_map
g = shard_map(body, mesh=mesh, in_specs=PartitionSpec("b"), out_specs=PartitionSpec("b"), axis_names={"b"},
              check_vma=False)
x = np.arange(64, dtype=np.float32).reshape(8, 8)
want = x.copy()
want[:, 1] = 100.0
got = np.asarray(jax.jit(g)(jax.device_put(x, NamedSharding(mesh, PartitionSpec("b")))))
ok = np.array_equal(got, want)
print("OK" if ok else f"wrong values: row 0 is {got[0].tolist()}, want {want[0].tolist()}")
sys.exit(0 if ok else 1)
