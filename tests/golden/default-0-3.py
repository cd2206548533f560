import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.reshape(jnp.sum(2 + jnp.take_along_axis(x1, x2, axis=0), axis=0), (6, 6))
    v1 = jnp.clip(jnp.broadcast_to(x3, (6, 1)), 0, 2)
    v2 = jnp.take_along_axis(jnp.cumsum(jnp.broadcast_to(x3, (3, 1)), axis=1), v1, axis=0) + 5
    v3 = (jnp.abs(jnp.square(x0)) % v0)[jnp.sign(x3 * v2 + v1)]
    return jnp.arctan(v3.astype(jnp.float32))
