"""XLA's SPMD partitioner multiplies a convolution by the size of an unrelated mesh axis when a spatial dim of its
input or kernel is sharded on a 2-D mesh.

Found by ``jaxsynth fuzz`` with a small-dims conv + pool composite config (programs 7 and 19 of seed 0, the
``sharding`` oracle): the sharded result differed from one device by 1e-4 and 1.6e-5, and by the same amounts
with the program in float64 (where reordered sums differ by 1e-16), so not float rounding. Each needs two
shardings: the image's W dim over mesh axis ``d1`` and the kernel's input-feature dim over ``d1`` (program 19),
or its output-feature dim over ``d0`` (program 7). Minimal forms below, ``'SAME'`` 1x3 convolutions on a 2x2
mesh: the result is exactly 2x the right one (summed over the replicated axis too). The same shardings on a
1x2 mesh are right; Shardy and GSPMD alike. Related but different: jax-ml/jax#16894 (strided conv, batch and
output-feature sharded; open); no upstream issue for this case was found.

A grouped variant (``jaxsynth fuzz --config models --seed 59``, program 380, the ``sharding`` oracle; reduced by
hand from a 60-line program whose output was 4x too large): a 1-D convolution with ``feature_group_count=3``,
its kernel's output-feature dim sharded over ``d0`` and its output's spatial dim constrained to ``d1`` (the
program's later ops asked for that), is exactly ``d0``'s size times too large: 4x on a 4x2 mesh, 2x on a 2x2
mesh. The same with 2 or 4 groups, with one group, on a 4x1 mesh, or without the output constraint is right.

Two simpler forms (``jaxsynth fuzz --config all --seed 96``, ``default`` programs 131 and 279, the ``sharding``
oracle), each with one sharded argument on a 2x4 mesh and 4x too large (2x on a 2x2 mesh, right on 2x1):
- ``jnp.correlate(x, k, mode='valid')`` of a float32 ``x`` of 6 elements sharded over ``d0``, with ``k`` 4 ones.
  The window must be wider than a shard: with shards of 3, 4, 5 or 6 elements a kernel of up to as many taps is
  right, and one tap more is 2x or 4x. Over ``d1`` of a 4x2 mesh it is 4x too.
  With ``x`` (10 elements) over ``d0`` and ``k`` (4 taps) over ``d1`` of a 2x4 mesh it is 4x as well, right with
  either sharding alone (``--seed 1010``, structured program 70).
- a depthwise conv (``feature_group_count`` equal to the 3 channels) whose 2-tap kernel is sharded on its spatial
  dim over ``d0``. The same kernel shape without groups is right.

A form found by the ``sharding`` oracle's partial-manual ``shard_map`` variant (``jaxsynth fuzz --config all
--oracles sharding --seed 103``, ``reductions-linalg`` program 302; exactly 2x): a 1-D conv whose input's feature
dim is constrained to ``d0`` and whose 2-tap kernel is split over ``d0`` on its spatial dim, on a 2x2x2 mesh. It
is wrong under plain ``jax.jit`` too (below: 4x), and right when the input's batch dim is also sharded, or with
either sharding alone. Wrong on jaxlib 0.4.35 and 0.6.2 as well.

A form with one sharded argument and one constraint (``jaxsynth fuzz --config all --seed 1022``, ``structured``
program 66, the ``sharding`` oracle; reduced to one grouped, dilated 1-D conv, exactly 4x): the input's spatial
dim over ``d1`` and the conv's output-feature dim constrained to ``d1``. By hand, with a 2-tap kernel of 8 output
features over 8 positions: 4x on a 4x2 mesh, 2x on 2x2, right on 2x4, 1x2 and 4x1, and right without the
constraint; one group or two, ``rhs_dilation`` 1 or 2 alike.

Across releases and partitioners: the two ``'SAME'`` cases and the depthwise one are wrong on jaxlib 0.4.26,
0.4.35, 0.6.2 and 0.10.2, with Shardy and with GSPMD. The grouped case with the output constraint and the
``correlate`` are wrong with Shardy only: on 0.10.2 they are right with ``jax_use_shardy_partitioner=False``, and
so they are on 0.4.26 to 0.6.2, whose default was GSPMD.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402


def f(x, w):
    return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


W_OVER_D1 = PartitionSpec(None, None, "d1", None)  # NHWC: W; HWIO: I
CASES = [  # (x, w, x's spec, w's spec)
    (np.arange(1, 9, dtype=np.float32).reshape(1, 1, 4, 2), np.ones((1, 3, 2, 1), np.float32), W_OVER_D1, W_OVER_D1),
    (np.arange(1, 9, dtype=np.float32).reshape(1, 1, 8, 1), np.ones((1, 3, 1, 2), np.float32), W_OVER_D1,
     PartitionSpec(None, None, None, "d0")),
]
ok = True
for x, w, x_spec, w_spec in CASES:
    want = np.asarray(jax.jit(f)(x, w))
    for shape in ((2, 2), (1, 2)):
        mesh = Mesh(np.array(jax.devices()[:shape[0] * shape[1]]).reshape(shape), ("d0", "d1"))
        got = np.asarray(jax.jit(f)(jax.device_put(x, NamedSharding(mesh, x_spec)),
                                    jax.device_put(w, NamedSharding(mesh, w_spec))))
        good = np.array_equal(got, want)
        print(f"x {x.shape} {tuple(x_spec)}, w {w.shape} {tuple(w_spec)}, mesh {shape}: "
              f"{got[0, 0, :, 0].tolist()} vs one device {want[0, 0, :, 0].tolist()}: {'OK' if good else 'WRONG'}")
        ok = ok and good


def grouped(x, w, mesh):  # NCH input, OIH kernel, 3 groups; the output's spatial dim over d1
    y = lax.conv_general_dilated(x[None], w, (1,), "VALID", dimension_numbers=("NCH", "OIH", "NCH"),
                                 feature_group_count=3)[0]
    return jax.lax.with_sharding_constraint(y, NamedSharding(mesh, PartitionSpec(None, "d1")))


x = np.arange(1, 28, dtype=np.float32).reshape(3, 9)
w = np.ones((12, 1, 2), np.float32)
for shape in ((4, 2), (4, 1)):
    mesh = Mesh(np.array(jax.devices()[:shape[0] * shape[1]]).reshape(shape), ("d0", "d1"))
    want = np.asarray(jax.jit(grouped, static_argnums=2)(x, w, mesh))
    got = np.asarray(jax.jit(grouped, static_argnums=2)(
        jax.device_put(x, NamedSharding(mesh, PartitionSpec())),
        jax.device_put(w, NamedSharding(mesh, PartitionSpec("d0", None, None))), mesh))
    good = np.array_equal(got, want)
    print(f"grouped conv, 3 groups, x {x.shape}, w {w.shape} ('d0', None, None), output (None, 'd1'), mesh {shape}: "
          f"{got[0, :4].tolist()} vs one device {want[0, :4].tolist()}: {'OK' if good else 'WRONG'}")
    ok = ok and good


def correlate(x, k):
    return jax.numpy.correlate(x, k, mode="valid")


def depthwise(w):  # a 2-tap kernel per channel, over the image's H
    return lax.conv_general_dilated(np.ones((1, 2, 5, 3), np.float32), w, (1, 1), "VALID",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=3)[0]


w = np.ones((2, 1, 1, 3), np.float32)
want = np.asarray(jax.jit(depthwise)(w))
for shape in ((2, 4), (2, 1)):
    mesh = Mesh(np.array(jax.devices()[:shape[0] * shape[1]]).reshape(shape), ("d0", "d1"))
    got = np.asarray(jax.jit(depthwise)(jax.device_put(w, NamedSharding(mesh, PartitionSpec("d0", None, None, None)))))
    good = np.array_equal(got, want)
    print(f"depthwise conv, w {w.shape} ('d0', None, None, None), mesh {shape}: {got[0, :2, 0].tolist()} "
          f"vs one device {want[0, :2, 0].tolist()}: {'OK' if good else 'WRONG'}")
    ok = ok and good


def features_constrained(x, w, mesh):  # NHC input with its feature dim over d0, HIO kernel
    x = jax.lax.with_sharding_constraint(x, NamedSharding(mesh, PartitionSpec(None, None, "d0")))
    return lax.conv_general_dilated(x, w, (1,), "VALID", dimension_numbers=("NHC", "HIO", "NHC"))


x = np.linspace(0.5, 1.5, 2 * 9 * 2, dtype=np.float32).reshape(2, 9, 2)
w = np.linspace(-1.0, 1.0, 4, dtype=np.float32).reshape(2, 2, 1)
mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 2, 2), ("b", "d0", "d1"))
want = np.asarray(jax.jit(features_constrained, static_argnums=2)(x, w, mesh))
got = np.asarray(jax.jit(features_constrained, static_argnums=2)(
    x, jax.device_put(w, NamedSharding(mesh, PartitionSpec("d0", None, None))), mesh))
good = np.allclose(got, want, rtol=1e-5, atol=1e-5)
print(f"conv, x's features constrained to d0, w {w.shape} ('d0', None, None), mesh (2, 2, 2): got/want "
      f"{np.round(got / want, 4).ravel()[:3].tolist()}: {'OK' if good else 'WRONG'}")
ok = ok and good

x = np.arange(1, 7, dtype=np.float32)
for taps in (3, 4):  # a shard holds 3 elements: 3 taps fit in one, 4 do not
    k = np.ones(taps, np.float32)
    want = np.asarray(jax.jit(correlate)(x, k))
    for shape in ((2, 4), (2, 1)):
        mesh = Mesh(np.array(jax.devices()[:shape[0] * shape[1]]).reshape(shape), ("d0", "d1"))
        got = np.asarray(jax.jit(correlate)(jax.device_put(x, NamedSharding(mesh, PartitionSpec("d0"))), k))
        good = np.array_equal(got, want)
        print(f"correlate 'valid', x {x.shape} ('d0',), {taps} taps, mesh {shape}: {got.tolist()} "
              f"vs one device {want.tolist()}: {'OK' if good else 'WRONG'}")
        ok = ok and good
sys.exit(0 if ok else 1)
