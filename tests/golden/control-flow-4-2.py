import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jax.nn.sigmoid(jnp.abs(jnp.cumsum(x1, axis=0)))
    def cond_true0():
        return jnp.nextafter(jnp.cos(x0) + 10.0, x2.astype(jnp.float32).reshape(1))
    def cond_false0():
        return jnp.cosh(v0)
    v1 = lax.cond(x2, cond_true0, cond_false0)
    v2 = lax.rsqrt(jnp.sqrt(v1)).argmin(axis=0)
    return (
        jnp.maximum(x0, jax.nn.relu(x1)), lax.dynamic_index_in_dim(v0, v2, axis=0, keepdims=False)
    )
