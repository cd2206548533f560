import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.trunc(jnp.trunc(jnp.log1p(x1 / 1.5)))
    return jnp.reciprocal(x0), v0
