import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.maximum(jnp.ceil(jnp.clip(x0, -1.0, 1.0)) - x1, x2)
    return jnp.tan(jax.scipy.special.gammaln(jnp.sqrt(v0)))
