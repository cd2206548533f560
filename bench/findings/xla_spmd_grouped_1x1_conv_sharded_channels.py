"""XLA's SPMD partitioner computes a grouped convolution with a one-tap kernel (a 1x1 convolution) wrong when its
input's feature dim is sharded: ``lax.conv_general_dilated`` of a (1, 4, 8) NCH input split 2 ways on its 4
channels, with an (8, 2, 1) OIH kernel and ``feature_group_count=2``, on a mesh of 2 devices, differs from one
device by up to about half of its magnitude (here: the first output feature group right, the second computed from
the wrong input channels). One group, or a 2-tap kernel, is right. With 4 groups (depthwise) and the channels split over
one axis of a 2x2 mesh the process aborts with heap corruption (``free(): invalid pointer``; run with
``depthwise`` as the argument to see it; on a 1-D mesh of 2 that one is right).

Found by ``jaxsynth fuzz`` (a config weighting ``lax.conv_transpose`` up, ``--seed 1063``, program 123, the
``sharding`` oracle: a grouped 1x1 conv of a transposed conv's result, its input sharded ``('d2', 'd1')`` on a
2x2x2 mesh; reduced by the fuzzer to the conv of an input, then by hand to this). A one-tap kernel is the case
XLA's algebraic simplifier rewrites into a dot, which the known SPMD conv bugs (``xla_spmd_conv_spatial_sharding_
overcounts.py``, ``xla_spmd_grouped_conv_sharded_kernel.py``) do not need: here nothing but the input's feature dim
is sharded, on a 1-D mesh. It is Shardy's: right with ``jax_use_shardy_partitioner=False`` on 0.10.2, and right on
0.4.35 and 0.6.2 (GSPMD by default); wrong on 0.7.0 (Shardy by default), 0.7.1, 0.8.0 and 0.10.2. No upstream
issue found (searched openxla/xla and jax-ml/jax for grouped convolution, feature_group_count and sharding).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

groups = 4 if sys.argv[1:] == ["depthwise"] else 2
x = np.random.default_rng(0).normal(size=(1, 4, 8)).astype(np.float32)
w = np.random.default_rng(1).normal(size=(8, 4 // groups, 1)).astype(np.float32)


def f(x, w):
    return lax.conv_general_dilated(x, w, (1,), "VALID", dimension_numbers=("NCH", "OIH", "NCH"),
                                    feature_group_count=groups)


# numpy: output feature o reads the input channels of its group
per = 4 // groups
expected = np.stack([np.einsum("c,cw->w", w[o, :, 0], x[0, (o // (8 // groups)) * per:(o // (8 // groups) + 1) * per])
                     for o in range(8)])[None]
if groups == 2:
    mesh, axis = Mesh(np.array(jax.devices()[:2]), ("d0",)), "d0"
else:
    mesh, axis = Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("d0", "d1")), "d1"
one = np.asarray(jax.jit(f)(x, w))
sharded = np.asarray(jax.jit(f)(jax.device_put(x, NamedSharding(mesh, PartitionSpec(None, axis, None))), w))
print(f"one device vs numpy: max |difference| {np.abs(one - expected).max():.3g}")
print(f"input channels split over 2 devices vs numpy: max |difference| {np.abs(sharded - expected).max():.3g}")
sys.exit(0 if np.allclose(sharded, expected, atol=1e-5) and np.allclose(one, expected, atol=1e-5) else 1)
