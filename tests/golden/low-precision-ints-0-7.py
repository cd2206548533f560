import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    return jnp.where(x0, x1 + x2 >> 0, x1 + (x1 + x3))
