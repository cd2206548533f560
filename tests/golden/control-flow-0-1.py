import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = -jnp.arange(-2, 3, dtype=jnp.float32)
    v1 = jax.nn.softplus(x0) + jnp.where(jnp.where(x1, x2, x1), v0, x3)
    return v0, v1
