"""XLA's SPMD partitioner also scatters a 0 into element 0 when a scatter's update is a slice of a sharded array.

Found by ``jaxsynth fuzz --config structured,control-flow,reductions-linalg,transforms --oracles sharding --seed
102`` (structured program 497, the ``sharding`` oracle, whose variant also constrained the result to ``P('d1')``),
reduced by the fuzzer, then by hand: ``x.at[[5]].multiply(lax.dynamic_slice(y, (3,), (1,)))`` of an int32[6] ``x``
(replicated) and an int32[4] ``y`` split over 2 devices (``P('d1')`` on a (4, 2) mesh of 8 virtual CPU devices).
Element 5 gets the right update, but element 0 is combined with a 0 as well, as if the device that holds no part
of the slice scattered a zero update at index 0: with ``y = [5, 6, 7, 8]``, ``.multiply`` gives ``[0, ..., 144]``
and ``.min`` ``[0, ..., 8]`` where ``[72, ..., 144]`` and ``[72, ..., 8]`` are right; ``.add`` and ``.max`` (of
positive values) cannot show a 0. Reductions-linalg program 776 of the same campaign is the same bug through a
concatenation: ``x.at[[1] * 481].min(jnp.concatenate([a, b]))`` with ``b`` sharded makes element 0 zero. What goes
into element 0 need not be a zero: low-precision-ints program 37 of ``jaxsynth fuzz --config all --seed 1008``,
reduced to ``jnp.full((7,), c).at[[2] * 7].max(x[:7])`` of a float32[10] ``x`` split over 2 devices (``P('d0')`` on a
(2, 4) mesh), combines element 0 with ``x[7]``, which lies outside the slice (``x`` zero but ``x[7] = 5``, ``c =
0.25``: ``[5.0, 0.25, ...]`` where all 0.25 is right; ``x[8] = 5`` or ``x[9] = 5`` leave it right). Right
with ``y`` replicated, and on jaxlib 0.4.26 and 0.4.35; wrong on 0.6.2 and 0.10.2, with Shardy or GSPMD, and with
``algsimp`` disabled (so not the family of ``xla_spmd_scatter_wrong_with_algsimp.py``). No upstream issue found
(searched openxla/xla for a sharded scatter that writes a zero at index 0).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

mesh = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("d0", "d1"))
x = np.array([72, 25, 25, 18, 18, 18], dtype=np.int32)
y = np.array([5, 6, 7, 8], dtype=np.int32)
present = False
for op in ("multiply", "min"):
    f = jax.jit(lambda x, y, op=op: getattr(x.at[jnp.array([5])], op)(lax.dynamic_slice(y, (3,), (1,))))
    want = np.asarray(f(x, y))
    got = np.asarray(f(x, jax.device_put(y, NamedSharding(mesh, PartitionSpec("d1")))))
    ok = bool((got == want).all())
    print(f"x.at[[5]].{op}(y[3:4]) with y sharded: {got.tolist()}, expected {want.tolist()}", "OK" if ok else "WRONG")
    present |= not ok
sys.exit(1 if present else 0)
