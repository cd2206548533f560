import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.log1p(jax.scipy.special.erf(jnp.sign(x0)))
    v1 = jnp.minimum(jnp.expand_dims(jnp.maximum(x0, x0), axis=0), jnp.floor(jnp.minimum(x1 * x1, x2)))
    v2 = jnp.clip(jnp.power(x1, jnp.sin(v1)), 0.0, 1.0)
    return v0, v2
