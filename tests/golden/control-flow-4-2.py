import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.exp(x0)
    v1 = jnp.cos(jnp.minimum(jnp.square(v0), x0))
    v2 = jnp.floor(jnp.copysign(v1 + v0, v1))
    v3 = jnp.roll(jnp.maximum(x1, jnp.cbrt(x1)), -5, axis=1)
    return v2, v3
