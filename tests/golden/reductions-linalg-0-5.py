import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.stack([jnp.stack([x1, x1, x1], axis=0).all(axis=2), x2.T.T], axis=1)
    v1 = jnp.all(jnp.take(jnp.all(v0.any(axis=2), axis=1), jnp.array([2]), axis=0), axis=0, keepdims=True)
    return jnp.stack([jnp.any(x0, axis=0), v1], axis=1)
