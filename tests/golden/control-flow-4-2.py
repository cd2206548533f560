import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.arctan2(x0, jnp.reshape(jnp.nanmedian(jnp.log1p(x1), axis=1), ()))
    v1 = jnp.abs(jnp.cos(jnp.logaddexp(0.1, jnp.minimum(-2.0, v0))))
    v2 = jnp.tanh(jnp.cross(x2, jax.nn.gelu(x2, approximate=False)))
    return v1, v2
