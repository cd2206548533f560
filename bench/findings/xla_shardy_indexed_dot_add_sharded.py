"""Under Shardy, XLA:CPU computes ``xs[0] @ w + h`` wrong on 8 devices when ``xs`` (f32[48, 208, 48]) is sharded
``P('d0', 'd2', None)``, ``w`` (f32[48, 200]) ``P('d0', ('d1', 'd2'))`` and ``h`` (f32[208, 200]) ``P('d0', None)``
on a ``(d0, d1, d2) = (2, 2, 2)`` mesh: off by up to 0.25 where the values are about 1, against the same ``jax.jit``
on one device (which matches a float64 computation to 1e-8).

Found by ``jaxsynth fuzz --config all -n 20 --seed 5005`` (``models`` program 18, the ``sharding`` oracle: a
``lax.scan`` RNN step ``tanh(x @ w + h)`` over ``xs`` then a matmul, reduced from 65 ops to 5; every one of its
43,264 outputs wrong, the carry off by up to 0.89 after 48 steps), then narrowed by hand to the step without the
loop. Right under GSPMD (``jax_use_shardy_partitioner=False``), with ``w`` replicated, without the ``+ h``, and
with ``xs[0]`` passed in as its own argument sharded ``P('d2', None)``: the index into the dim sharded over ``d0``
and the add of a value sharded over ``d0`` are both needed. Wrong on jax/jaxlib 0.6.2 too with Shardy turned on
(``JAX_USE_SHARDY_PARTITIONER=1``; GSPMD, its default there, is right). No upstream issue found (searched
openxla/xla and openxla/shardy for a wrong dot of a sliced operand under Shardy).

Exits 1 while the bug is present (jax/jaxlib 0.10.2: exits 1), 0 once Shardy and one device agree.
"""
import os
import sys

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
                           " --xla_cpu_multi_thread_eigen=false").strip()  # as the fuzz worker

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

mesh = Mesh(np.array(jax.devices()[:8]).reshape((2, 2, 2)), ("d0", "d1", "d2"))
rng = np.random.default_rng(0)
w = rng.uniform(-0.02, 0.02, (48, 200)).astype(np.float32)
xs = rng.uniform(-1, 1, (48, 208, 48)).astype(np.float32)
h = rng.uniform(-1.5, 1.5, (208, 200)).astype(np.float32)


def step(w, xs, h):
    return xs[0] @ w + h


specs = (("d0", ("d1", "d2")), ("d0", "d2", None), ("d0", None))
placed = [jax.device_put(a, NamedSharding(mesh, P(*s))) for a, s in zip((w, xs, h), specs, strict=True)]
one = np.asarray(jax.jit(step)(w, xs, h))
exact = xs[0].astype(np.float64) @ w.astype(np.float64) + h
sharded = np.asarray(jax.jit(step)(*placed))
print(f"one device vs float64: {np.abs(one - exact).max():.3g}")
print(f"sharded vs one device: {np.abs(sharded - one).max():.3g} ({np.mean(np.abs(sharded - one) > 1e-5):.0%} of "
      "elements off by more than 1e-5)")
sys.exit(1 if np.abs(sharded - one).max() > 1e-4 else 0)
