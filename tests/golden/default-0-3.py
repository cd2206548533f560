import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.exp(jnp.exp(jax.nn.sigmoid(jnp.ceil(x0 - x0))))
    v1 = v0.sum(axis=0)
    return lax.rsqrt(v1) * v1
