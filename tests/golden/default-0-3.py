import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.sqrt(x0)
    return v0 * jnp.maximum(x0, jnp.exp(v0))
