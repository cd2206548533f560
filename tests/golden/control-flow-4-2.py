import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.stack([x0, x0, x1], axis=1)
    v1 = jnp.nanmedian(jnp.nansum(v0, axis=0), axis=0)
    v2 = jnp.minimum(-2.0, jnp.fmax(v1, jnp.min(jnp.trunc(jnp.minimum(x2, x3)))))
    v3 = jnp.abs(jnp.cos(jnp.logaddexp(0.1, v2)))
    return v3, v0
