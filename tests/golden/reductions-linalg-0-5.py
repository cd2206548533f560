import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.nansum(x1.at[x3].min(x2), axis=0, keepdims=True)
    v1 = jnp.log(jnp.cbrt(jnp.maximum(jnp.cumprod(jnp.cumprod(x0, axis=0), axis=0), v0)))
    v2 = jnp.max(lax.cummax(v1, axis=0), where=(x2 < -2.0).reshape(1), initial=3.0)
    return -v2
