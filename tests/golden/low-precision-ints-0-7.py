import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = lax.dynamic_index_in_dim(x0, jnp.count_nonzero(x1), axis=1, keepdims=False)
    v1 = jnp.tan(jnp.full((6,), -0.5, dtype=jnp.float16))
    v2 = jnp.maximum(1.5, jnp.arctan2(lax.rsqrt(jnp.hypot(x2, x3)), v1))
    return jnp.logical_not(v0), v2
