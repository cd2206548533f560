import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.exp2(jnp.abs(jnp.exp(jnp.floor(jnp.sqrt(x0)))))
    def cond_true0(a0):
        return jnp.power(jnp.sqrt(x2), a0)
    def cond_false0(_a0):
        return jnp.arctan(x2)
    v1 = lax.cond(x0 > x0, cond_true0, cond_false0, x1)
    v2 = jax.nn.relu(jnp.ceil(jax.nn.silu(v1)))
    return v0, v2
