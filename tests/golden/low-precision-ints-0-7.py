import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = lax.rsqrt(jnp.exp(jnp.log(x0)))
    v1 = jnp.clip(jax.nn.sigmoid(jax.nn.standardize(x1 * jax.scipy.special.digamma(x2), axis=-1, algorithm="stable")), 0.0, 6.0)
    v2 = jnp.minimum(v1, jnp.log1p(lax.rsqrt(x2)))
    return v0, v2
