import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        v0 = jnp.where(x2, a0, x3)
        return v0
    def cond_false0(a1):
        v1 = a1 + 1.5
        return v1
    v2 = lax.cond(x0, cond_true0, cond_false0, 10.0 - x1)
    v3 = jnp.where(jnp.broadcast_to(x0, (7, 7)), jnp.broadcast_to(jnp.mean(x1), (7, 7)), jnp.broadcast_to(jnp.min(x1), (7, 7)))
    return jnp.cos(v2), jnp.log(v3)
