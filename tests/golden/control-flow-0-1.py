import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.sqrt(jnp.tanh(x0))
    v1 = jnp.where(x1, (0.25 - x2) * x3, lax.rsqrt(jnp.tanh(v0)) + x3)
    return v0, jnp.round(v1)
