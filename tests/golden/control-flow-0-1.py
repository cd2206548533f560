import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = x3.astype(jnp.float32)
    v1 = jnp.diff(lax.dynamic_slice_in_dim(jnp.log2(x2), x3, 2, axis=0), axis=0) * v0.reshape(1)
    v2 = jnp.maximum(jnp.log10(lax.rsqrt(jnp.ceil(x0 + x1))), v1)
    return v2, v0
