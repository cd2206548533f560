"""XLA's SPMD partitioner computes a scatter into one row or column wrong once `algsimp` has run, when the
operand is sharded over 2 devices along the scattered dim. Three programs, found by `jaxsynth fuzz` (the
`sharding` oracle; the first two with `--config structured --seed 90`) and reduced by the fuzzer, then by hand:

- program 100: `lax.top_k(x, 6)[0].at[4].add(-2)` over an int32 [6, 10] with its rows split over 2 devices
  (`P('d1', None)` on a (4, 2) mesh of 8 virtual CPU devices): row 2 of the result is
  [93, 86, 52, 45, 38, 31] where [92, 85, 78, 71, 64, 57] is right;
- program 415: `x.at[:, [3, 3, 3, 3]].add(x, mode='clip').at[:, 1].multiply(0.0, mode='clip')` over a
  float32 [4, 4, 1] placed with `P('d0', 'd1', None)`: 4 elements are wrong;
- control-flow program 322 of seed 98 (`jaxsynth fuzz --config all --seed 98`): a `dynamic_update_slice` of
  rows 2-4, columns 0-6, then a scatter-max into column 0, of an int32 [5, 8] with its columns split over 2
  devices (`P(None, 'd1')`). The scatter also lands on the second device's first column (column 4): rows 0-1
  there get column 0's values. Right when the update stays inside one shard (columns 0-3) or spans every
  column, and right for either op alone. Wrong on jaxlib 0.4.26, 0.4.35, 0.6.2 and 0.10.2, with Shardy or
  GSPMD. Its sibling, control-flow program 19 of that seed (a scatter into a row, then a scatter-min with a
  repeated row index into an int32 [2, 8] with its columns sharded), is wrong in a similar way: its element
  [1, 3] gets [1, 0]'s value.

Each part alone (top_k, either scatter, top_k followed by `+ 1`) is right under the same sharding, and so is
each of the first two with another dim sharded. Every case is right with `algsimp` disabled
(`XLA_FLAGS=--xla_disable_hlo_passes=algsimp`).

The simplest form (structured program 49 of `jaxsynth fuzz --config all --seed 1015`, reduced by the fuzzer to
four scatters, then by hand): a lone one-element scatter into an array that the partitioner holds whole and must
return split. `lax.with_sharding_constraint(x, NamedSharding(mesh, P("d0"))).at[1].set(-1)` of an int32[8] `x`
placed replicated (`P()`) on the mesh is wrong. By hand, for 1-D arrays of 4 to 24 elements split 2 or 4 ways
(meshes of 2 and 4 devices, 2x4, 4x2 and 2x2x2 over either axis), for every index, combiner (`set`, `add`,
`multiply`, `min`, `max`) and dtype tried (int32, float32): each other shard's element at the clamped local index
gets the scattered element's old value (with `x = [1..8]` split in two, `.at[1].set(100)` gives
`[1, 100, 3, 4, 2, 6, 7, 8]`); right when each shard holds one element, with `x` placed split (no whole copy), and
with `x` passed as a NumPy array (the constraint then reaches the parameter); wrong on jaxlib 0.4.35, 0.6.2 and
0.10.2. The optimized HLO shows why: the scatter has become a select of the update and
`dynamic-slice(whole_x, local_index + clamp(offset))` (the old value, read from the whole copy at the global
index), written by `dynamic-update-slice(local_shard, ..., local_index)`, whose index HLO clamps into the shard: on
a shard that does not hold the element, the select keeps that old value and the clamped write puts it in the wrong
place. Program 322 above compiles to the same select and write after an all-gather.

Related upstream: openxla/xla#49005 (batch-sharded TopK index shapes on TPU; closed), openxla/xla#42481 (a
scatter-add whose collectives the partitioner orders wrongly; closed); open: jax-ml/jax#22827 (`.at[::2].set`
after a sharding constraint, wrong on TPU), jax-ml/jax#23052 (scatter on sharded matrices), openxla/xla#49118 (a
partitioned `dynamic-update-slice` whose start needs clamping). None of them is these cases: no upstream issue for
them was found. Exits 1 while the bug is present.
"""
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402


def top_k_then_add_row(x):
    return lax.top_k(x, 6)[0].at[4].add(jnp.full((6,), -2, dtype=jnp.int32))


def update_slice_then_max_column(x):
    return lax.dynamic_update_slice(x, jnp.ones((3, 7), jnp.int32), (2, 0)).at[:, 0].max(jnp.zeros(5, jnp.int32))


def add_then_multiply_column(x):
    return x.at[:, jnp.full((4,), 3, dtype=jnp.int32)].add(x, mode="clip").at[:, 1].multiply(0.0, mode="clip")


mesh = Mesh(np.array(jax.devices()[:8]).reshape((4, 2)), ("d0", "d1"))


def split_then_set(x):
    return lax.with_sharding_constraint(x, NamedSharding(mesh, P("d0"))).at[1].set(-1)


cases = [
    (top_k_then_add_row, np.arange(60, dtype=np.int32).reshape(6, 10) * 7 % 97, P("d1", None)),
    (add_then_multiply_column, (np.arange(16, dtype=np.float32).reshape(4, 4, 1) + 1) / 16, P("d0", "d1", None)),
    (update_slice_then_max_column, np.arange(40, dtype=np.int32).reshape(5, 8) + 10, P(None, "d1")),
    (split_then_set, np.arange(1, 9, dtype=np.int32), P()),
]
present = False
for f, x, spec in cases:
    expected = np.asarray(jax.jit(f)(x))
    got = np.asarray(jax.jit(f)(jax.device_put(x, NamedSharding(mesh, spec))))
    wrong = int(np.sum(got != expected))
    print(f"{f.__name__} sharded {spec}: {wrong} of {expected.size} elements differ from one device")
    present |= wrong > 0
sys.exit(1 if present else 0)
