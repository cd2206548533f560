import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.nansum(x1.at[x3].min(x2), axis=0, keepdims=True)
    v1 = jnp.log(jnp.cbrt(jnp.maximum(jnp.cumprod(jnp.cumprod(x0, axis=0), axis=0), v0)))
    v2 = jnp.broadcast_to(jnp.broadcast_to(x2 < 0.5, (3,)).all(axis=0), (1, 1))
    return -jnp.max(lax.cummax(v1, axis=0), where=jnp.squeeze(v2, axis=0), initial=3.0)
