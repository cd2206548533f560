"""XLA's SPMD partitioner aborts (a CHECK failure) on a gather inside a partial-manual ``shard_map``.

Found by the ``sharding`` oracle's partial-manual ``shard_map`` variant (new in this tree), in its first
hand check: ``structured`` program 11 of seed 0 (swarm), then ``default`` 17 and ``control-flow`` 17 of the
same seed, each with a gather (``x.at[:, i].get``, ``jnp.take``) on the 2x2x2 mesh. Reduced by hand to:
``shard_map(vmap(f))``, manual over the batch axis ``b`` of a (2, 2, 2) mesh (``axis_names={'b'}``), the
other two axes left to the partitioner, where ``f(x, table, i) = x + table[:, broadcast_to(i, (2,))]`` and
``table`` (f32[2, 1], shared by every example) is split over the auto axis ``d1`` on its gathered dim, as is
``x``'s last dim. The compile aborts the process:

    spmd_partitioner_util.cc:497] Check failed: partition_group_list.num_replica_groups() *
    partition_group_list.num_devices_per_group() == device_groups.num_devices_per_group()

Without the ``+ x`` it compiles. A 4x2 or 2x4 mesh (one auto axis) compiles. Shardy's: right with
``jax_use_shardy_partitioner=False``. jax 0.6.2 with Shardy aborts the same way (spmd_partitioner_util.cc:308);
older releases cannot lower a partial-manual shard_map. No upstream issue found (searched openxla/xla and jax).

It is the most frequent finding of every campaign, and not only for gathers: the fuzzer's reductions of seeds 444
and 555 (``jaxsynth fuzz --config all``) reach the same CHECK, in the same variant, with a lone scatter
(``zeros.at[x0].max(1, mode='clip')``, ``x0.at[:, x1].max(c)``, ``c.at[i].add(x0)`` then ``top_k``) and a
dynamic slice (``lax.dynamic_index_in_dim(x0, 3, axis=1)``).

The compile runs in a subprocess, so the abort is reported rather than ending this script. Exits 1 while the
bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import subprocess
import sys

CHILD = """
import os
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 2, 2), ("b", "d0", "d1"))


def f(x, table, i):
    return x + table[:, jnp.broadcast_to(i, (2,))]


g = jax.shard_map(jax.vmap(f, in_axes=(0, None, 0)), mesh=mesh, in_specs=(P("b"), P(), P("b")), out_specs=P("b"),
                  axis_names={"b"}, check_vma=False)
x = np.linspace(0.0, 1.0, 32, dtype=np.float32).reshape(8, 2, 2)
table = np.array([[10.0], [20.0]], dtype=np.float32)
i = np.zeros(8, dtype=np.int32)
want = np.stack([np.asarray(jax.jit(f)(x[k], table, i[k])) for k in range(8)])
got = jax.jit(g)(jax.device_put(x, NamedSharding(mesh, P("b", None, "d1"))),
                 jax.device_put(table, NamedSharding(mesh, P("d1"))),
                 jax.device_put(i, NamedSharding(mesh, P("b"))))
print("OK" if np.allclose(np.asarray(got), want) else "wrong values")
"""

child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
output = (child.stdout + child.stderr).splitlines()
lines = [ln for ln in output if "Check failed" in ln or ln in ("OK", "wrong values")]
print(lines[0] if lines else f"exit {child.returncode}: {child.stderr.strip()[-300:]}")
sys.exit(0 if child.returncode == 0 and lines == ["OK"] else 1)
