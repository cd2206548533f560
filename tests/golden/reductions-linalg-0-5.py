import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.inner(x1, jnp.abs(jnp.arctanh(x2)))
    return jax.nn.hard_tanh(x0), v0
