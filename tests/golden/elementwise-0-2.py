import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.clip(jnp.arctanh(jax.nn.soft_sign(jnp.rint(x0))), -1.0, 1.0)
    return -jnp.clip(x0, 0.0, 1.0) * v0
