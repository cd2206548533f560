import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = lax.clz(jnp.where(x0 <= 5, x0, -3)) + 7
    return v0, x0
