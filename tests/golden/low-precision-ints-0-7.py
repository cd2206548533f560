import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.logical_not(lax.dynamic_index_in_dim(x0, jnp.minimum(1, x1), axis=1, keepdims=False))
    v1 = jnp.arctanh(jnp.arcsin(jnp.sinh(jnp.diagonal(x2 / -2.0))))
    v2 = jnp.clip(jnp.tile(v1, (3,)), -2.0, 2.0)
    return v0, v2
