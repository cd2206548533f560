"""XLA:CPU's all-reduce with a minimum or maximum reducer drops NaN (found by `jaxsynth fuzz --config
fuzz-special --oracles sharding`, program 1 of seed 1, reduced from 3 ops to 1: `jnp.min(x0, axis=1)` with the
reduced axis sharded over 2 devices).

A min/max reduction over a sharded axis lowers, after SPMD partitioning, to a local reduce and an `all-reduce`
whose `to_apply` is the same `minimum`/`maximum` computation. The local reduces propagate NaN (as the
one-device program does, and numpy), but the all-reduce does not: two shards that are each NaN give +inf for
min (-inf for max: the reducer's identity), and a NaN on one device beside a number on the other gives the
number. `lax.pmin`/`lax.pmax` inside `shard_map` show it directly. Any float dtype; one device right, 2 or more
wrong; jax 0.6.2 and 0.10.2. The cause, in XLA's source: XLA:CPU's in-process collectives
(`xla/backends/cpu/collectives/in_process_communicator.cc`, `ReduceHelper`) start the accumulator at +inf (-inf
for max) and fold each participant in with `acc[i] = std::min(acc[i], inputs[j][i])`; `std::min(a, b)` is
`b < a ? b : a`, which keeps `a` whenever `b` is NaN, so a NaN never enters the result, whatever the HLO's
`minimum` (NaN-propagating) says. Related, a different path: `xla_cpu_minmax_drops_nan.py` (YNN's reduce fusion,
one device, 4096+ elements). No upstream issue found (the nearest: openxla/xla#21461).
Exits 1 while the bug is present, 0 once it is fixed.
"""
import os

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"

import sys  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

mesh = Mesh(np.array(jax.devices()[:2]), ("d",))
bad = []
for name, fn in (("min", jnp.min), ("max", jnp.max)):
    for row in ([np.nan, np.nan], [np.nan, 1.0], [1.0, np.nan]):
        x = np.array([row], np.float32)  # [1, 2]: one column on each device
        want = getattr(np, name)(x, axis=1)
        one = np.asarray(jax.jit(lambda a, fn=fn: fn(a, axis=1))(x))
        sharded = np.asarray(jax.jit(lambda a, fn=fn: fn(a, axis=1))(
            jax.device_put(x, NamedSharding(mesh, P(None, "d")))))
        print(f"jnp.{name}({row}, axis=1): numpy {want}, one device {one}, sharded over the axis {sharded}")
        if not np.array_equal(sharded, want, equal_nan=True):
            bad.append((name, row))
sys.exit(1 if bad else 0)
