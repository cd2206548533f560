import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.logical_and(jnp.maximum(x0, -0.5) >= x0, x1)
    v1 = (jnp.clip(x2, 0.0, 6.0) + 4.0)[::2]
    v2 = jnp.power(v1, jnp.minimum(x3 * jnp.sign(x3), lax.rsqrt(v1)))
    return v0, v2
