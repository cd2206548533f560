import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.deg2rad(jnp.sin(lax.bitcast_convert_type(x0, jnp.float32)))
    v1 = (x1 * x2 + x3) * jnp.cumsum(jnp.broadcast_to(x1, (8,)), axis=0)
    return v0, v1
