import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        return jnp.mean(jnp.where(x2, x3, a0))
    def cond_false0(a1):
        return a1 - x1
    v0 = lax.cond(x0, cond_true0, cond_false0, x1)
    v1 = x1.reshape(1)
    def cond_true1(_a0):
        return jnp.sin(v1)
    def cond_false1(a2):
        return jnp.ceil(jax.nn.sigmoid(a2))
    v2 = lax.cond(x0, cond_true1, cond_false1, v1)
    return jnp.tan(jax.nn.sigmoid(jnp.minimum(jnp.where(x0, x1, v0), v0))), jnp.log1p(jnp.exp(v2)) - v1
