import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    return jnp.floor(jnp.round(x0)) - jnp.ceil(x1 / x2)
