import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = lax.dynamic_index_in_dim(x0, jnp.count_nonzero(x1), axis=1, keepdims=False)
    v1 = jnp.arctan2(jnp.linspace(1.0, 11.0, 6, dtype=jnp.float16), jnp.log(x2))
    return jnp.logical_not(v0), jnp.maximum(1.5, v1)
