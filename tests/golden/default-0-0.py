import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.reciprocal(jnp.cosh(jnp.arctanh(x0)))
    v1 = jnp.floor(jnp.tile(jnp.moveaxis(jnp.round(x1 - x2), 0, 1), (1, 3, 1)))
    return v0, v1
