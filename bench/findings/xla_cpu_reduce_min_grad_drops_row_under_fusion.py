"""``jax.jit(jax.grad(...))`` of a ``jnp.min`` over rows drops a whole row's gradient on XLA:CPU: the row's minimum
is recomputed with different rounding where the gradient looks for it.

Found by ``jaxsynth fuzz --config all -n 150 --seed 1008`` (``transforms`` program 5, the ``grad`` oracle: the float32
``jax.grad`` against the float64 one and finite differences, which agree), reduced by the fuzzer to

    v0 = x2 * jnp.where(x0, 8.081552505493164, x1) + x1 ** 3      # x0 bool[3] all True, x1 f32[2, 3], x2 f32[]
    return jnp.min(3.0 - v0, axis=1)

The derivative of row 1's minimum with respect to the scalar ``x2`` is -8.0815525 (op by op, with the HLO pass
``fusion`` disabled, and in float64); the jitted gradient gives 0.0: row 1 contributes nothing, as if none of its
elements were its minimum. JAX differentiates ``reduce_min`` by comparing the operand with the result for exact
equality (``_reduce_chooser_jvp_rule``: ``eq(operand, ans)`` as a mask), which holds only if XLA computes the
operand bit-identically where the minimum is taken and where the mask is built. In the optimized HLO they are two
loop fusions, each recomputing ``x2 * c + x1 ** 3``; the jitted forward value of row 1 is -1.3962007 where op by op
gives -1.3962011 (one ulp at 4.4, the size of leaving ``x2 * c`` unrounded inside a fused multiply-add), so one
fusion's copy of the operand does not equal the other's minimum. The same program with ``x0`` a closure constant,
or with the ``where`` replaced by a full array argument, is right. Right on jax/jaxlib 0.4.35 and 0.6.2 (whose jitted
forward value of row 1 is the same -1.3962007, yet whose gradient is -8.0815525): a regression since.

A known class: jax-ml/jax#40564 (the elementwise ``jnp.maximum``/``jnp.minimum`` JVP dropping a branch when XLA:GPU
recomputes an operand with different rounding; closed by jax-ml/jax#40578, which changed only ``max_p``/``min_p``'s
JVP), jax-ml/jax#3602 (a two-pass ``argmax`` broken the same way), openxla/xla#41579 (FMA contraction changing
``a*x + b*x``; open). ``reduce_min``/``reduce_max`` still use the equality mask in jax 0.10.2 (a TODO in the rule
suggests a variadic reduce instead). No upstream issue for the reductions was found.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np


def f(x0, x1, x2):
    v0 = x2 * jnp.where(x0, jnp.float32(8.081552505493164), x1) + x1 ** 3
    return jnp.min(3.0 - v0, axis=1)


x0 = jnp.asarray(np.array([True, True, True]))
x1 = jnp.asarray(np.array([[-0.03291044384241104, -0.13235294818878174, 0.10748599469661713],
                           [-0.8595271110534668, 0.5023109316825867, 0.013946330174803734]], np.float32))
x2 = jnp.asarray(np.float32(0.528296947479248))


def row(k):
    return lambda x0, x1, x2: f(x0, x1, x2)[k]


ok = True
for k in (0, 1):
    grad = jax.grad(row(k), argnums=2)
    jitted = float(jax.jit(grad)(x0, x1, x2))
    unfused = float(jax.jit(grad).lower(x0, x1, x2).compile({"xla_disable_hlo_passes": "fusion"})(x0, x1, x2))
    with jax.disable_jit():
        eager = float(grad(x0, x1, x2))
    print(f"d min(row {k}) / d x2: jit {jitted!r}, fusion disabled {unfused!r}, op by op {eager!r}")
    ok &= jitted == eager == unfused
with jax.disable_jit():
    eager_forward = np.asarray(f(x0, x1, x2))
print(f"forward: jit {np.asarray(jax.jit(f)(x0, x1, x2)).tolist()}, op by op {eager_forward.tolist()}")
sys.exit(0 if ok else 1)
