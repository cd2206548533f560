import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.sqrt(jnp.mean(jax.image.resize(jnp.arccosh(x0), (6, 6), 'bilinear')))
    v1 = jnp.heaviside(jnp.arctan(jnp.arctan2(x1, 4.0)), 0.5)
    return v0, v1
