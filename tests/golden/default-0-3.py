import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    return jnp.sqrt(jnp.sign(jnp.power(x0, x1)) - -0.5)
