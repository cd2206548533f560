"""XLA:CPU fails to compile a ``dot_general`` with ``precision=DotAlgorithmPreset.BF16_BF16_F32`` whose shapes send
it to the elemental emitter (a vector dot, a batched dot of single rows, ...): ``INVALID_ARGUMENT: Algorithm not
supported by the ElementalIrEmitter: ALG_DOT_BF16_BF16_F32``. The same algorithm compiles for matrix shapes, so
JAX accepts it on CPU; ``jax.nn.dot_product_attention`` asks for it on bfloat16 operands (its logits dot), and
fails to compile for a single query of a single head (``q = k = v`` of shape (1, 1, 2)), and for 24 of the 270
bfloat16 shapes with dims of 1-4 swept below (the float32 ones all compile).

Found by the finite-programs test of ``jaxsynth`` (the op table's ``dot_product_attention`` on bfloat16), session
35; the grammar now draws the op in float32 only. jax 0.4.35 rejected the preset on CPU outright ("not supported
by dot_general on CPU"), so its ``dot_product_attention`` did not pass it and compiled; 0.6.2 through 0.10.2 fail.
No upstream issue found (searched openxla/xla and jax-ml/jax for the message and for bfloat16
``dot_product_attention`` on CPU; keras-team/keras#21112 is the same message on a T4 GPU, where the algorithm is
unsupported by the hardware).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import itertools
import sys

import jax
import jax.numpy as jnp
from jax import lax


def compiles(f, *args) -> bool:
    try:
        jax.jit(f).lower(*args).compile()
        return True
    except Exception as e:  # noqa: BLE001 - the compile error is the bug being reported
        print("   ", str(e).splitlines()[0][:120])
        return False


ok = True
x = jnp.ones((2,), jnp.bfloat16)
print("vector dot, BF16_BF16_F32:")
ok &= compiles(lambda a, b: lax.dot_general(a, b, (([0], [0]), ([], [])), preferred_element_type=jnp.float32,
                                            precision=lax.DotAlgorithmPreset.BF16_BF16_F32), x, x)
q = jnp.ones((1, 1, 2), jnp.bfloat16)
print("jax.nn.dot_product_attention of (1, 1, 2) bfloat16:")
ok &= compiles(jax.nn.dot_product_attention, q, q, q)

failed = total = 0
for batch, t, s, n, k, h in itertools.product((None, 1, 2), (1, 2, 3), (1, 2), (1, 2, 4), (1, 2), (1, 2, 3)):
    if n % k:
        continue
    qs, ks = ((t, n, h), (s, k, h)) if batch is None else ((batch, t, n, h), (batch, s, k, h))
    q, kv = jnp.ones(qs, jnp.bfloat16), jnp.ones(ks, jnp.bfloat16)
    try:
        jax.jit(jax.nn.dot_product_attention).lower(q, kv, kv).compile()
    except Exception:  # noqa: BLE001
        failed += 1
    total += 1
print(f"bfloat16 attention shapes that fail to compile: {failed} of {total}")
sys.exit(0 if ok and not failed else 1)
