"""XLA:CPU computes NaN or garbage for a YNNPACK fusion (``__ynn_fusion``) that holds a ``reduce-window`` and a
broadcast constant operand of a dot or a convolution.

Found while reducing two ``sharding`` findings of ``jaxsynth fuzz`` with a conv + pool composite config (programs
7 and 19 of seed 0; their sharded results were wrong for another reason, see
``xla_spmd_conv_spatial_sharding_overcounts.py``): the reduced programs broke the unsharded jit instead.
(1) a 2x2 max or sum pool -> reshape -> einsum with a ``jnp.full`` kernel on f32[3,14,14,16] gives NaN;
(2) a convolution with a ``jnp.full`` kernel -> 2x2 sum pool on f32[1,8,8,64] gives values like 7e10, and
different ones from run to run. Eager (each op its own executable) is right, as is the same program with the
kernel passed as an argument, or with ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-LIBRARY_FUSION_TYPE_REDUCE``.
(3) with the HLO pass ``algsimp`` disabled (which otherwise folds the constant into the other operand), a plain
``(jnp.full((144, 176), 2.75) * m).sum(axis=0)`` with ``m`` f32[144, 1] is one ``__ynn_fusion`` of a multiply by
a broadcast constant and a reduce, and gives NaN (``jaxsynth fuzz --config models --seed 55``, program 608, the
``passes`` oracle; reduced by hand from a 60-line program whose output was NaN only with ``algsimp`` disabled).
(4) in uint8, under the default pipeline: ``jnp.max(jnp.clip(jnp.clip(x, 0, 10), 0, 10), axis=1)`` of a u8[64, 64]
is one ``__ynn_fusion`` of two ``minimum``s with one broadcast constant 10 and a max reduce, and gives values such
as 3, 127 and 136 where 10 is right (``jaxsynth fuzz --config structured,fuzz-special,default,control-flow --seed
99``, fuzz-special program 1617; reference, eager and passes oracles). ``jnp.clip`` is its own jit, so ``algsimp``
does not merge the two minimums. Right for int8, int16, int32 and float32, at u8[8, 8], for one ``clip``, and with
YNN's reduce fusions off; right on jaxlib 0.6.2 (a regression since).
Related, not the same: openxla/xla#48714 (YNN reduce_window drops base_dilation; open), jax-ml/jax#39257 (YNN
fusion crash on a rank-8 broadcast-multiply-reduce in jaxlib 0.10.2; closed); no upstream issue for this case
was found.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

rng = np.random.default_rng(0)
DN = ("NHWC", "HWIO", "NHWC")


def pool(x, kind):
    if kind == "max":
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    return lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def pool_dense(kind):
    return lambda x: jnp.einsum("ak,kn->an", pool(x, kind).reshape(3, 784), jnp.full((784, 6), -1e-3, jnp.float32))


def conv_pool(x):
    return pool(lax.conv_general_dilated(x, jnp.full((3, 3, 64, 64), -2e-4, jnp.float32), (1, 1), "SAME",
                                         dimension_numbers=DN), "sum")


ok = True
for name, fn, shape in (("max pool -> dense", pool_dense("max"), (3, 14, 14, 16)),
                        ("sum pool -> dense", pool_dense("sum"), (3, 14, 14, 16)),
                        ("conv -> sum pool", conv_pool, (1, 8, 8, 64))):
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    got = np.asarray(jax.jit(fn)(x))
    with jax.disable_jit():
        want = np.asarray(fn(x))
    good = bool(np.allclose(got, want, rtol=1e-4, atol=1e-5))
    worst = np.unravel_index(int(np.argmax(np.nan_to_num(np.abs(got - want), nan=np.inf))), got.shape)
    print(f"{name}: jit {got[worst]!r}, eager {want[worst]!r} at {list(map(int, worst))}: {'OK' if good else 'WRONG'}")
    ok = ok and good
m = np.linspace(-4, 5, 144, dtype=np.float32).reshape(144, 1)
lowered = jax.jit(lambda m: (jnp.full((144, 176), 2.75, jnp.float32) * m).sum(axis=0)).lower(m)
want = 2.75 * m.astype(np.float64).sum(axis=0)
for options in ({}, {"xla_disable_hlo_passes": "algsimp"}):
    got = np.asarray(lowered.compile(options)(m))
    good = bool(np.allclose(got, want, atol=1e-3))
    print(f"constant * m, summed, {'algsimp disabled' if options else 'default pipeline'}: {got[0]!r}, "
          f"expected {float(want[0])!r}: {'OK' if good else 'WRONG'}")
    ok = ok and good
x = rng.integers(0, 256, (64, 64), dtype=np.uint8)
got = np.asarray(jax.jit(lambda x: jnp.max(jnp.clip(jnp.clip(x, 0, 10), 0, 10), axis=1))(x))
good = bool((got == np.max(np.clip(x, 0, 10), axis=1)).all())
print(f"uint8 max of clip(clip(x, 0, 10), 0, 10): {int((got != 10).sum())} of 64 rows not 10: "
      f"{'OK' if good else 'WRONG'}")
ok = ok and good
sys.exit(0 if ok else 1)
