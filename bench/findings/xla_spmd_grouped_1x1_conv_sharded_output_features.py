"""XLA's SPMD partitioner computes a grouped convolution with a one-tap kernel wrong when its *output* feature dim
is split over more devices than there are groups: ``lax.conv_general_dilated`` of a replicated (1, 2, 8) NCH input
with an (8, 1, 1) OIH kernel and ``feature_group_count=2``, its result constrained to ``P(None, 'd', None)`` on a
mesh of 4 devices, differs from one device in half its output features (1, 3, 4 and 6 of 8: computed from the
other group's input channel); on 8 devices with 16 features, in 8 of them. Two devices are right, as is a two-tap
kernel or one group. The depthwise form (4 groups, 4 channels, 16 features, 8 devices) is not compiled at all:
``INVALID_ARGUMENT: Expected output feature dimension (value 2) to be divisible by feature_group_count (value 4)``
(run with ``depthwise`` as the argument to see it).

Found by ``jaxsynth fuzz --config all -n 15 --seed 1145`` (session 44), ``models`` program 7, the ``sharding``
oracle: a bfloat16 grouped 1x1 ``conv`` whose ``rot90`` result is constrained with the features split over a 2x4
mesh (6,310 of 48,256 elements wrong, and ``free(): invalid pointer`` with another placement), reduced by the
fuzzer from 32 ops to those 2 in 14 tests, then by hand to this. Unlike
``xla_spmd_grouped_1x1_conv_sharded_channels.py`` (the input's channels split, Shardy only), nothing but the output
is sharded here, and it is wrong with both partitioners (``jax_use_shardy_partitioner`` either way on 0.10.2) and on
0.4.35 and 0.6.2. No upstream issue found (openxla/xla#47945 and its pull request #48086 are about batch-sharded
grouped convolutions, a performance issue).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

groups, channels, features, devices = (4, 4, 16, 8) if sys.argv[1:] == ["depthwise"] else (2, 2, 8, 4)
x = np.random.default_rng(0).normal(size=(1, channels, 8)).astype(np.float32)
w = np.random.default_rng(1).normal(size=(features, channels // groups, 1)).astype(np.float32)
mesh = Mesh(np.array(jax.devices()[:devices]), ("d",))


def f(x, w, spec=None):
    y = lax.conv_general_dilated(x, w, (1,), "VALID", dimension_numbers=("NCH", "OIH", "NCH"),
                                 feature_group_count=groups)
    return y if spec is None else lax.with_sharding_constraint(y, NamedSharding(mesh, spec))


want = np.asarray(jax.jit(f)(x, w))
got = np.asarray(jax.jit(lambda x, w: f(x, w, PartitionSpec(None, "d", None)))(x, w))
wrong = ~np.isclose(got, want, rtol=1e-5, atol=1e-6)
print(f"{int(wrong.sum())} of {wrong.size} elements differ from one device; output features wrong: "
      f"{np.unique(np.nonzero(wrong)[1]).tolist()}")
sys.exit(1 if wrong.any() else 0)
