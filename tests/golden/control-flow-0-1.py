import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = x1 + x2
    def cond_true0(_a0):
        return jnp.expm1(x1)
    def cond_false0(a0):
        return jnp.copysign(v0, a0)
    v1 = lax.cond(x0, cond_true0, cond_false0, v0)
    return jnp.log(jnp.maximum(0.75, jnp.sin(jnp.fmax(v1, x1))))
