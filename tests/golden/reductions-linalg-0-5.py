import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.cos(jax.nn.log_sigmoid(jnp.arange(1, 2, dtype=jnp.float16)))
    return jnp.abs(jnp.sum(v0, where=x0.any(axis=0)))
